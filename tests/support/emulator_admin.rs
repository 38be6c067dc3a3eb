//! The emulator's admin API (`/_emulator/...`, no authentication): seed, faults, runtime settings
//! and the request log. Every call insists on success.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use super::emulator::{EMAIL, Emulator};

/// One request from the emulator's log.
#[derive(Debug, Clone, Deserialize)]
pub struct Logged {
    pub seq: u64,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub body: Option<Value>,
    #[serde(deserialize_with = "timestamp")]
    pub time: jiff::Timestamp,
}

fn timestamp<'de, D: serde::Deserializer<'de>>(d: D) -> Result<jiff::Timestamp, D::Error> {
    let text = String::deserialize(d)?;
    text.parse().map_err(serde::de::Error::custom)
}

/// Time from `earlier` to `later` (zero when not later).
pub fn between(earlier: jiff::Timestamp, later: jiff::Timestamp) -> Duration {
    Duration::try_from(later.duration_since(earlier)).unwrap_or(Duration::ZERO)
}

impl Emulator {
    /// Sends `method /_emulator/{path}` (with a JSON body if given) and gives the JSON answer
    /// (`null` when there is none).
    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method.clone(), format!("{}/_emulator/{path}", self.url));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("admin request");
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(
            status.is_success(),
            "{method} /_emulator/{path}: {status} {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Registers a webhook for SEC's issue events to `url`, signed with `secret`, as the admin
    /// whose API token is `token` (Jira's REST API, as a Jira administrator would).
    pub async fn register_webhook(&self, url: &str, secret: &str, token: &str) {
        let registration = serde_json::json!({
            "name": "jira-active-sync", "url": url, "secret": secret,
            "events": ["jira:issue_created", "jira:issue_updated", "jira:issue_deleted"],
            "filters": {"issue-related-events-section": "project = SEC"},
        });
        let response = self
            .http
            .post(format!("{}/rest/webhooks/1.0/webhook", self.url))
            .basic_auth(super::emulator::EMAIL, Some(token))
            .json(&registration)
            .send()
            .await
            .expect("register the webhook");
        assert!(response.status().is_success(), "{}", response.status());
    }

    /// Adds a fault rule.
    pub async fn fault(&self, rule: Value) {
        self.admin(reqwest::Method::POST, "faults", Some(rule))
            .await;
    }

    /// Removes every fault rule.
    pub async fn clear_faults(&self) {
        self.admin(reqwest::Method::DELETE, "faults", None).await;
    }

    /// Changes runtime settings (`searchLagMs`, `latencyMs`, `rateLimits`).
    pub async fn config(&self, change: Value) {
        self.admin(reqwest::Method::PATCH, "config", Some(change))
            .await;
    }

    /// Switches Jira Cloud's rate limits on or off.
    pub async fn set_rate_limits(&self, on: bool) {
        self.config(json!({ "rateLimits": on })).await;
    }

    /// Replaces the admin's API token (and so the credential the operator must keep secret).
    pub async fn set_admin_token(&self, token: &str) {
        let mut seed = self.admin(reqwest::Method::GET, "seed", None).await;
        let users = seed["users"].as_array_mut().expect("seed users");
        for user in users {
            if user["email"] == EMAIL {
                user["apiToken"] = json!(token);
            }
        }
        self.admin(reqwest::Method::POST, "seed", Some(seed)).await;
    }

    /// Lets only `emails` be assigned issues of `project` (a seed change: the site is reset to it).
    pub async fn restrict_assignable(&self, project: &str, emails: &[&str]) {
        self.admin_seed_change(|seed| {
            let projects = seed["projects"].as_array_mut().expect("seed projects");
            for p in projects.iter_mut().filter(|p| p["key"] == project) {
                p["permissions"]["assignable"] = json!(emails);
            }
        })
        .await;
    }

    /// Changes the seed with `change` and resets the site to it.
    pub async fn admin_seed_change(&self, change: impl FnOnce(&mut Value)) {
        let mut seed = self.admin(reqwest::Method::GET, "seed", None).await;
        change(&mut seed);
        self.admin(reqwest::Method::POST, "seed", Some(seed)).await;
    }

    /// The request log from sequence number `since` on, as the emulator writes it.
    pub async fn requests(&self, since: u64) -> Vec<Value> {
        let log = self
            .admin(
                reqwest::Method::GET,
                &format!("requests?since={since}"),
                None,
            )
            .await;
        log["requests"].as_array().cloned().unwrap_or_default()
    }

    /// Every logged request.
    pub async fn logged(&self) -> Vec<Logged> {
        self.logged_since(0).await
    }

    /// The logged requests from sequence number `since` on.
    pub async fn logged_since(&self, since: u64) -> Vec<Logged> {
        serde_json::from_value(Value::Array(self.requests(since).await)).expect("request log")
    }

    /// Logged requests with this method whose path ends with `suffix`.
    pub async fn requests_to(&self, method: &str, suffix: &str) -> Vec<Logged> {
        self.logged()
            .await
            .into_iter()
            .filter(|r| r.method == method && r.path.ends_with(suffix))
            .collect()
    }

    /// How many logged requests have this method and a path ending with `suffix`.
    pub async fn count(&self, method: &str, suffix: &str) -> usize {
        self.requests_to(method, suffix).await.len()
    }

    /// Forgets the request log and counters.
    pub async fn clear_requests(&self) {
        self.admin(reqwest::Method::DELETE, "requests", None).await;
    }

    /// Waits until the log holds an answer with `status`. Polls every 5 ms rather than with
    /// `wait::eventually`: its callers act while a burst still runs, and must start promptly.
    pub async fn wait_for_status(&self, status: u16) {
        for _ in 0..1000 {
            if self.logged().await.iter().any(|r| r.status == status) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("no request was answered with {status}");
    }
}
