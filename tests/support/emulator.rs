//! The Jira emulator's admin API (`/_emulator/...`, no authentication): faults, runtime settings
//! and the request log, for an emulator in this process or in another.

use serde_json::Value;

/// A client for one emulator's admin API; every call insists on success.
pub struct EmulatorAdmin {
    base_url: String,
    http: reqwest::Client,
}

impl EmulatorAdmin {
    /// The admin API of the emulator at `base_url`.
    pub fn new(base_url: &str) -> EmulatorAdmin {
        EmulatorAdmin {
            base_url: base_url.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        }
    }

    /// The admin API of an emulator serving HTTPS with a certificate of the CA `ca_pem`.
    pub fn trusting(base_url: &str, ca_pem: &str) -> EmulatorAdmin {
        let ca = reqwest::Certificate::from_pem(ca_pem.as_bytes()).expect("the CA is PEM");
        EmulatorAdmin {
            base_url: base_url.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .add_root_certificate(ca)
                .build()
                .expect("HTTP client"),
        }
    }

    /// Sends `method /_emulator/{path}` (with a JSON body if given) and gives the JSON answer
    /// (`null` when there is none).
    pub async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(
            method.clone(),
            format!("{}/_emulator/{path}", self.base_url),
        );
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

    /// Adds a fault rule.
    pub async fn fault(&self, rule: Value) {
        self.call(reqwest::Method::POST, "faults", Some(rule)).await;
    }

    /// Removes every fault rule.
    pub async fn clear_faults(&self) {
        self.call(reqwest::Method::DELETE, "faults", None).await;
    }

    /// Changes runtime settings (`searchLagMs`, `latencyMs`, `rateLimits`).
    pub async fn config(&self, change: Value) {
        self.call(reqwest::Method::PATCH, "config", Some(change))
            .await;
    }

    /// The request log from sequence number `since` on.
    pub async fn requests(&self, since: u64) -> Vec<Value> {
        let log = self
            .call(
                reqwest::Method::GET,
                &format!("requests?since={since}"),
                None,
            )
            .await;
        log["requests"].as_array().cloned().unwrap_or_default()
    }

    /// Forgets the request log and counters.
    pub async fn clear_requests(&self) {
        self.call(reqwest::Method::DELETE, "requests", None).await;
    }
}
