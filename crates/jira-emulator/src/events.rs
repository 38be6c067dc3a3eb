//! Turning store changes into Jira webhook deliveries (REST v2 representation, as Jira posts them).

use jiff::Timestamp;
use serde_json::Value;

use super::config::{Api, Flavor};
use super::issue_fields::IssueView;
use super::render::{FieldSelection, RenderCtx};
use super::store::{IssueEvent, Store};
use super::webhooks::{self, Changelog, DeliveryTarget, WebhookRegistry};

/// Jira's `issue_event_type_name` for an update: a transition is `issue_generic`, a bare comment
/// `issue_commented`.
fn type_name(event: &IssueEvent) -> Option<String> {
    let changed_status = event
        .changelog
        .as_ref()
        .is_some_and(|c| c.items.iter().any(|i| i.field == "status"));
    if changed_status {
        Some("issue_generic".to_owned())
    } else if event.comment.is_some() && event.changelog.is_none() {
        Some("issue_commented".to_owned())
    } else {
        None
    }
}

/// The payload Jira would post for `event`, and the webhooks it goes to.
pub fn deliveries(
    store: &Store,
    registry: &WebhookRegistry,
    base_url: &str,
    flavor: Flavor,
    event: &IssueEvent,
    now: Timestamp,
) -> Option<(Vec<DeliveryTarget>, webhooks::IssueEvent)> {
    let view = IssueView {
        issue: &event.issue,
        store,
    };
    let targets = registry.targets(event.kind, &view, now);
    if targets.is_empty() {
        return None;
    }
    let render = RenderCtx {
        base_url,
        api: Api::V2,
        flavor,
    };
    let user = store
        .user(&event.user)
        .map_or(Value::Null, |u| render.user(u));
    let all = FieldSelection::parse(&["*all"], "*all");
    let issue = render.issue(store, &event.issue, &all, &[], &[]);
    let mut payload = webhooks::IssueEvent::new(event.kind, event.timestamp, user, issue);
    payload.changelog = event.changelog.as_ref().map(|group| Changelog {
        id: group.id.to_string(),
        items: group
            .items
            .iter()
            .map(|i| webhooks::ChangeItem {
                field: i.field.clone(),
                fieldtype: i.field_type.clone(),
                field_id: i.field_id.clone(),
                from: i.from.clone(),
                from_string: i.from_string.clone(),
                to: i.to.clone(),
                to_string: i.to_string.clone(),
            })
            .collect(),
    });
    payload.comment = event
        .comment
        .as_ref()
        .map(|c| render.comment(store, &event.issue, c));
    payload.type_name = type_name(event);
    Some((targets, payload))
}
