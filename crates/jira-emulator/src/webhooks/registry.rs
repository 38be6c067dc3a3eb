//! The admin webhooks registered through `/rest/webhooks/1.0/webhook`, in Jira's REST shape.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::payload::IssueEventKind;
use crate::jql::{self, JqlError, JqlFields, Query};

/// The key Jira files an issue-event JQL filter under.
const ISSUE_FILTER: &str = "issue-related-events-section";

/// A registration as `POST`ed (or `PUT`) to `/rest/webhooks/1.0/webhook`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookRegistration {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub events: Vec<String>,
    /// `{"issue-related-events-section": "<JQL>"}` limits issue events to matching issues.
    #[serde(default)]
    pub filters: BTreeMap<String, String>,
    /// Post no body, only the headers.
    #[serde(default)]
    pub exclude_body: bool,
    /// Signs deliveries (`X-Hub-Signature`) when present.
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default = "enabled_by_default")]
    pub enabled: bool,
}

fn enabled_by_default() -> bool {
    true
}

/// Why a registration was refused; its body is Jira's error shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("The webhook name must not be empty.")]
    MissingName,
    #[error("The webhook URL '{0}' is not a valid absolute http or https URL.")]
    InvalidUrl(String),
    #[error("The JQL filter is invalid: {0}")]
    InvalidFilter(JqlError),
}

impl WebhookError {
    /// `{"errorMessages": [], "errors": {field: message}}`, naming the field at fault.
    pub fn body(&self) -> Value {
        let field = match self {
            WebhookError::MissingName => "name",
            WebhookError::InvalidUrl(_) => "url",
            WebhookError::InvalidFilter(_) => "filters",
        };
        json!({"errorMessages": [], "errors": {field: self.to_string()}})
    }
}

/// A registered webhook.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: u64,
    pub registration: WebhookRegistration,
    filter: Option<Query>,
    /// Who registered or last changed it: (account id or name, display name).
    pub last_updated_by: (String, String),
    pub last_updated: Timestamp,
}

impl Webhook {
    /// The webhook as `/rest/webhooks/1.0/webhook` answers it; the secret is never echoed.
    pub fn to_json(&self, base_url: &str) -> Value {
        let registration = &self.registration;
        json!({
            "name": registration.name,
            "url": registration.url,
            "excludeBody": registration.exclude_body,
            "filters": registration.filters,
            "events": registration.events,
            "enabled": registration.enabled,
            "self": format!("{}/rest/webhooks/1.0/webhook/{}", base_url.trim_end_matches('/'), self.id),
            "lastUpdatedUser": self.last_updated_by.0,
            "lastUpdatedDisplayName": self.last_updated_by.1,
            "lastUpdated": self.last_updated.as_millisecond(),
        })
    }

    fn wants(&self, event: IssueEventKind, issue: &impl JqlFields, now: Timestamp) -> bool {
        self.registration.enabled
            && self
                .registration
                .events
                .iter()
                .any(|e| e == event.webhook_event())
            && self
                .filter
                .as_ref()
                .is_none_or(|query| query.matches(issue, now))
    }
}

/// Where one event goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryTarget {
    pub webhook_id: u64,
    pub url: String,
    pub secret: Option<String>,
    pub exclude_body: bool,
}

/// Every registered webhook, with ids counting up from 1 as Jira's do.
#[derive(Debug, Clone, Default)]
pub struct WebhookRegistry {
    hooks: BTreeMap<u64, Webhook>,
    last_id: u64,
}

impl WebhookRegistry {
    /// Registers a webhook, after checking its name, URL and JQL filter.
    pub fn register(
        &mut self,
        registration: WebhookRegistration,
        by: (&str, &str),
        now: Timestamp,
    ) -> Result<&Webhook, WebhookError> {
        let filter = check(&registration)?;
        self.last_id += 1;
        let id = self.last_id;
        let hook = Webhook {
            id,
            registration,
            filter,
            last_updated_by: (by.0.to_owned(), by.1.to_owned()),
            last_updated: now,
        };
        Ok(self.hooks.entry(id).or_insert(hook))
    }

    /// Replaces a webhook's registration; `Ok(None)` when there is no such webhook.
    pub fn update(
        &mut self,
        id: u64,
        registration: WebhookRegistration,
        by: (&str, &str),
        now: Timestamp,
    ) -> Result<Option<&Webhook>, WebhookError> {
        let filter = check(&registration)?;
        Ok(self.hooks.get_mut(&id).map(|hook| {
            hook.registration = registration;
            hook.filter = filter;
            hook.last_updated_by = (by.0.to_owned(), by.1.to_owned());
            hook.last_updated = now;
            &*hook
        }))
    }

    /// Removes a webhook; whether it existed.
    pub fn remove(&mut self, id: u64) -> bool {
        self.hooks.remove(&id).is_some()
    }

    /// Forgets every webhook (the id counter goes on, as ids are never reused).
    pub fn clear(&mut self) {
        self.hooks.clear();
    }

    pub fn get(&self, id: u64) -> Option<&Webhook> {
        self.hooks.get(&id)
    }

    /// Every webhook, by id.
    pub fn list(&self) -> impl Iterator<Item = &Webhook> {
        self.hooks.values()
    }

    /// The webhooks an event on this issue goes to: subscribed to it, enabled, and whose JQL
    /// filter matches the issue at `now`.
    pub fn targets(
        &self,
        event: IssueEventKind,
        issue: &impl JqlFields,
        now: Timestamp,
    ) -> Vec<DeliveryTarget> {
        self.hooks
            .values()
            .filter(|hook| hook.wants(event, issue, now))
            .map(|hook| DeliveryTarget {
                webhook_id: hook.id,
                url: hook.registration.url.clone(),
                secret: hook.registration.secret.clone().filter(|s| !s.is_empty()),
                exclude_body: hook.registration.exclude_body,
            })
            .collect()
    }
}

fn check(registration: &WebhookRegistration) -> Result<Option<Query>, WebhookError> {
    if registration.name.trim().is_empty() {
        return Err(WebhookError::MissingName);
    }
    let url = reqwest::Url::parse(&registration.url)
        .map_err(|_| WebhookError::InvalidUrl(registration.url.clone()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(WebhookError::InvalidUrl(registration.url.clone()));
    }
    registration
        .filters
        .get(ISSUE_FILTER)
        .filter(|jql| !jql.trim().is_empty())
        .map(|jql| jql::parse(jql).map_err(WebhookError::InvalidFilter))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jql::JqlValue;

    struct Issue(&'static str);

    impl JqlFields for Issue {
        fn values(&self, field: &str) -> Vec<JqlValue> {
            match field {
                "project" => vec![JqlValue::Text(self.0.to_owned())],
                _ => vec![],
            }
        }
    }

    fn now() -> Timestamp {
        "2026-03-01T10:00:00Z".parse().unwrap()
    }

    const ADMIN: (&str, &str) = ("acc-admin", "Admin");

    fn registration(json: Value) -> WebhookRegistration {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn registers_in_jiras_rest_shape() {
        let mut registry = WebhookRegistry::default();
        let hook = registry
            .register(
                registration(json!({
                    "name": "sync",
                    "url": "http://127.0.0.1:8080/webhooks/jira",
                    "events": ["jira:issue_created", "jira:issue_updated"],
                    "filters": {"issue-related-events-section": "project = SEC"},
                    "excludeBody": false,
                    "secret": "s3cret"
                })),
                ADMIN,
                now(),
            )
            .unwrap();
        assert_eq!(hook.id, 1);
        assert_eq!(
            hook.to_json("http://127.0.0.1:9000/"),
            json!({
                "name": "sync",
                "url": "http://127.0.0.1:8080/webhooks/jira",
                "excludeBody": false,
                "filters": {"issue-related-events-section": "project = SEC"},
                "events": ["jira:issue_created", "jira:issue_updated"],
                "enabled": true,
                "self": "http://127.0.0.1:9000/rest/webhooks/1.0/webhook/1",
                "lastUpdatedUser": "acc-admin",
                "lastUpdatedDisplayName": "Admin",
                "lastUpdated": 1772359200000_i64,
            })
        );
    }

    #[test]
    fn refuses_bad_registrations_with_a_clear_message() {
        let mut registry = WebhookRegistry::default();
        let base =
            json!({"name": "x", "url": "http://127.0.0.1/", "events": ["jira:issue_created"]});
        let with = |key: &str, value: Value| {
            let mut body = base.clone();
            body[key] = value;
            registration(body)
        };
        assert_eq!(
            registry
                .register(with("name", json!(" ")), ADMIN, now())
                .unwrap_err(),
            WebhookError::MissingName
        );
        for url in [
            "not a url",
            "ftp://example.com/",
            "/relative",
            "mailto:a@b.c",
        ] {
            let err = registry
                .register(with("url", json!(url)), ADMIN, now())
                .unwrap_err();
            assert_eq!(err, WebhookError::InvalidUrl(url.to_owned()));
            assert_eq!(err.body()["errors"]["url"], err.to_string());
        }
        let err = registry
            .register(
                with(
                    "filters",
                    json!({"issue-related-events-section": "colour = red"}),
                ),
                ADMIN,
                now(),
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "The JQL filter is invalid: Field 'colour' does not exist or you do not have permission to view it."
        );
        assert!(registry.list().next().is_none(), "nothing was registered");
        assert!(
            serde_json::from_value::<WebhookRegistration>(json!({"url": "http://x/"})).is_err()
        );
    }

    #[test]
    fn routes_events_by_subscription_filter_and_state() {
        let mut registry = WebhookRegistry::default();
        let all = json!({"name": "all", "url": "http://127.0.0.1:1/a",
                         "events": ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"]});
        registry.register(registration(all), ADMIN, now()).unwrap();
        let sec_updates = json!({"name": "sec", "url": "http://127.0.0.1:1/b", "secret": "k",
                                 "events": ["jira:issue_updated"],
                                 "filters": {"issue-related-events-section": "project = SEC"}});
        registry
            .register(registration(sec_updates), ADMIN, now())
            .unwrap();
        fn ids(
            registry: &WebhookRegistry,
            event: IssueEventKind,
            project: &'static str,
        ) -> Vec<u64> {
            registry
                .targets(event, &Issue(project), now())
                .into_iter()
                .map(|t| t.webhook_id)
                .collect()
        }
        assert_eq!(ids(&registry, IssueEventKind::Updated, "SEC"), [1, 2]);
        assert_eq!(ids(&registry, IssueEventKind::Updated, "OPS"), [1]);
        assert_eq!(ids(&registry, IssueEventKind::Created, "SEC"), [1]);
        let target = &registry.targets(IssueEventKind::Updated, &Issue("SEC"), now())[1];
        assert_eq!(target.secret.as_deref(), Some("k"));

        let disabled = registration(json!({"name": "all", "url": "http://127.0.0.1:1/a",
                                           "events": ["jira:issue_updated"], "enabled": false}));
        assert!(
            registry
                .update(1, disabled, ADMIN, now())
                .unwrap()
                .is_some()
        );
        assert_eq!(ids(&registry, IssueEventKind::Updated, "SEC"), [2]);
        assert!(
            registry
                .update(
                    99,
                    registration(json!({"name": "n", "url": "http://h/"})),
                    ADMIN,
                    now()
                )
                .unwrap()
                .is_none()
        );
        assert!(registry.remove(2));
        assert!(!registry.remove(2));
        assert_eq!(
            ids(&registry, IssueEventKind::Updated, "SEC"),
            Vec::<u64>::new()
        );
        registry.clear();
        let again = registry
            .register(
                registration(json!({"name": "n", "url": "http://h/"})),
                ADMIN,
                now(),
            )
            .unwrap();
        assert_eq!(again.id, 3, "ids are never reused");
    }
}
