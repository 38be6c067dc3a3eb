//! The body Jira posts for `jira:issue_created`, `jira:issue_updated` and `jira:issue_deleted`.

use jiff::Timestamp;
use serde::Serialize;
use serde_json::{Value, json};

/// The issue events the emulator delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssueEventKind {
    Created,
    Updated,
    Deleted,
}

impl IssueEventKind {
    /// The `webhookEvent` value, also the name a registration subscribes with.
    pub fn webhook_event(self) -> &'static str {
        match self {
            IssueEventKind::Created => "jira:issue_created",
            IssueEventKind::Updated => "jira:issue_updated",
            IssueEventKind::Deleted => "jira:issue_deleted",
        }
    }

    /// Jira's default `issue_event_type_name` for the event.
    fn default_type_name(self) -> &'static str {
        match self {
            IssueEventKind::Created => "issue_created",
            IssueEventKind::Updated => "issue_updated",
            IssueEventKind::Deleted => "issue_deleted",
        }
    }
}

/// One changed field, as Jira's changelog lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeItem {
    /// The field's name (`status`, `labels`, `summary`...).
    pub field: String,
    /// `jira` for system fields, `custom` for custom ones.
    pub fieldtype: String,
    pub field_id: String,
    /// Ids or raw values before and after (for status: status ids).
    pub from: Option<String>,
    pub from_string: Option<String>,
    pub to: Option<String>,
    pub to_string: Option<String>,
}

impl ChangeItem {
    /// A change to a system field whose id is its name, with display strings only.
    pub fn system(field: &str, from_string: Option<&str>, to_string: Option<&str>) -> Self {
        ChangeItem {
            field: field.to_owned(),
            fieldtype: "jira".to_owned(),
            field_id: field.to_owned(),
            from: None,
            from_string: from_string.map(str::to_owned),
            to: None,
            to_string: to_string.map(str::to_owned),
        }
    }
}

/// The changes one edit made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Changelog {
    pub id: String,
    pub items: Vec<ChangeItem>,
}

/// Something that happened to an issue, as a webhook reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct IssueEvent {
    pub kind: IssueEventKind,
    pub timestamp: Timestamp,
    /// The user who acted, as the REST API renders users.
    pub user: Value,
    /// The issue as the REST API renders it (after the change; before it, for a deletion).
    pub issue: Value,
    pub changelog: Option<Changelog>,
    /// The comment, for `issue_commented`.
    pub comment: Option<Value>,
    /// Overrides the event type name (`issue_generic` for a transition, `issue_commented`...).
    pub type_name: Option<String>,
}

impl IssueEvent {
    /// An event with no changelog, comment or special type name.
    pub fn new(kind: IssueEventKind, timestamp: Timestamp, user: Value, issue: Value) -> Self {
        IssueEvent {
            kind,
            timestamp,
            user,
            issue,
            changelog: None,
            comment: None,
            type_name: None,
        }
    }

    /// The JSON body Jira posts.
    pub fn payload(&self) -> Value {
        let mut body = json!({
            "timestamp": self.timestamp.as_millisecond(),
            "webhookEvent": self.kind.webhook_event(),
            "issue_event_type_name": self
                .type_name
                .as_deref()
                .unwrap_or(self.kind.default_type_name()),
            "user": self.user,
            "issue": self.issue,
        });
        if let Some(changelog) = &self.changelog {
            body["changelog"] = json!(changelog);
        }
        if let Some(comment) = &self.comment {
            body["comment"] = comment.clone();
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at() -> Timestamp {
        "2026-03-01T10:00:00.123Z".parse().unwrap()
    }

    #[test]
    fn an_update_carries_its_changelog() {
        let mut event = IssueEvent::new(
            IssueEventKind::Updated,
            at(),
            json!({"accountId": "acc-admin"}),
            json!({"id": "10001", "key": "SEC-1", "fields": {}}),
        );
        event.changelog = Some(Changelog {
            id: "10100".to_owned(),
            items: vec![ChangeItem {
                field: "status".to_owned(),
                fieldtype: "jira".to_owned(),
                field_id: "status".to_owned(),
                from: Some("1".to_owned()),
                from_string: Some("To Do".to_owned()),
                to: Some("3".to_owned()),
                to_string: Some("In Progress".to_owned()),
            }],
        });
        event.type_name = Some("issue_generic".to_owned());
        assert_eq!(
            event.payload(),
            json!({
                "timestamp": 1772359200123_i64,
                "webhookEvent": "jira:issue_updated",
                "issue_event_type_name": "issue_generic",
                "user": {"accountId": "acc-admin"},
                "issue": {"id": "10001", "key": "SEC-1", "fields": {}},
                "changelog": {"id": "10100", "items": [{
                    "field": "status", "fieldtype": "jira", "fieldId": "status",
                    "from": "1", "fromString": "To Do", "to": "3", "toString": "In Progress"
                }]}
            })
        );
    }

    #[test]
    fn created_and_deleted_name_their_events() {
        let created = IssueEvent::new(
            IssueEventKind::Created,
            at(),
            json!({}),
            json!({"key": "SEC-2"}),
        );
        assert_eq!(created.payload()["webhookEvent"], "jira:issue_created");
        assert_eq!(created.payload()["issue_event_type_name"], "issue_created");
        assert!(created.payload().get("changelog").is_none());
        let mut deleted = IssueEvent::new(
            IssueEventKind::Deleted,
            at(),
            json!({}),
            json!({"key": "SEC-2"}),
        );
        deleted.comment = Some(json!({"id": "1"}));
        assert_eq!(deleted.payload()["webhookEvent"], "jira:issue_deleted");
        assert_eq!(deleted.payload()["issue_event_type_name"], "issue_deleted");
        assert_eq!(deleted.payload()["comment"]["id"], "1");
    }

    #[test]
    fn a_system_change_item_names_field_and_id_alike() {
        let item = ChangeItem::system("labels", Some("a"), Some("a b"));
        assert_eq!(
            json!(item),
            json!({"field": "labels", "fieldtype": "jira", "fieldId": "labels",
                   "from": null, "fromString": "a", "to": null, "toString": "a b"})
        );
    }
}
