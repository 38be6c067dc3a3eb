//! A Jira emulator per test, a client pointed at it, and the emulator's admin API (request log,
//! faults) for assertions.

use std::time::Duration;

use jira_active_sync::jira::{
    ClientConfig, Credentials, Flavor, JiraClient, RateLimit, RetryPolicy,
};
use jira_emulator::{Emulator, EmulatorConfig, EmulatorHandle, Flavor as EmulatorFlavor, Seed};
use serde::Deserialize;
use serde_json::Value;

use crate::openapi;
use crate::support::emulator::EmulatorAdmin;

/// Serializes the tests that need the emulator to see bursts above its rate limits: run alongside
/// each other on two cores, they could spread their requests too thin to reach the limits.
pub async fn timing_sensitive() -> tokio::sync::MutexGuard<'static, ()> {
    static ALONE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    ALONE.lock().await
}

/// The entity property the client reads along with issues.
pub const SYNC_PROPERTY: &str = "activesync.dev.sync";

/// A running emulator and a client for it.
pub struct Site {
    emulator: EmulatorHandle,
    flavor: Flavor,
    admin: EmulatorAdmin,
    /// The client under test (acting as the seeded admin user).
    pub client: JiraClient,
}

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

impl Site {
    /// Starts an emulator of `flavor` (with Jira Cloud's rate limits when `rate_limits`).
    pub async fn start(flavor: Flavor, rate_limits: bool) -> Site {
        let config = EmulatorConfig {
            flavor: match flavor {
                Flavor::Cloud => EmulatorFlavor::Cloud,
                Flavor::DataCenter => EmulatorFlavor::Datacenter,
            },
            seed: Seed::default(),
            rate_limits,
            ..EmulatorConfig::default()
        };
        let emulator = Emulator::start("127.0.0.1:0".parse().unwrap(), config)
            .await
            .expect("emulator starts");
        let client = client(emulator.base_url(), flavor, None);
        Site {
            admin: EmulatorAdmin::new(emulator.base_url()),
            emulator,
            flavor,
            client,
        }
    }

    /// The emulator's base URL.
    pub fn base_url(&self) -> &str {
        self.emulator.base_url()
    }

    /// The configuration of [`Site::client`], to build variants of it.
    pub fn config(&self) -> ClientConfig {
        config(self.base_url(), self.flavor, None)
    }

    /// Another client for the site, with this secret instead of the right one.
    pub fn client_with_secret(&self, secret: &str) -> JiraClient {
        client(self.base_url(), self.flavor, Some(secret))
    }

    /// Every logged API request.
    pub async fn requests(&self) -> Vec<Logged> {
        serde_json::from_value(Value::Array(self.admin.requests(0).await)).expect("request log")
    }

    /// Logged requests with this method whose path ends with `suffix`.
    pub async fn requests_to(&self, method: &str, suffix: &str) -> Vec<Logged> {
        self.requests()
            .await
            .into_iter()
            .filter(|r| r.method == method && r.path.ends_with(suffix))
            .collect()
    }

    /// How many logged requests have this method and a path ending with `suffix`.
    pub async fn count(&self, method: &str, suffix: &str) -> usize {
        self.requests_to(method, suffix).await.len()
    }

    /// Forgets the request log.
    pub async fn clear_log(&self) {
        self.admin.clear_requests().await;
    }

    /// Switches the emulator's Jira Cloud rate limits on or off.
    pub async fn set_rate_limits(&self, on: bool) {
        self.admin
            .config(serde_json::json!({ "rateLimits": on }))
            .await;
    }

    /// Adds a fault rule.
    pub async fn fault(&self, rule: Value) {
        self.admin.fault(rule).await;
    }

    /// Checks every logged request against the official OpenAPI document of the flavor: the
    /// operation exists, each query parameter is one it declares, and the JSON body matches its
    /// request schema.
    pub async fn assert_requests_conform(&self) {
        let document = openapi::document(match self.flavor {
            Flavor::Cloud => openapi::Flavor::Cloud,
            Flavor::DataCenter => openapi::Flavor::DataCenter,
        });
        let requests = self.requests().await;
        assert!(!requests.is_empty(), "no request was logged");
        let mut problems = Vec::new();
        for request in &requests {
            let operation = match document.operation(&request.method, &request.path) {
                Ok(operation) => operation,
                Err(problem) => {
                    problems.push(problem);
                    continue;
                }
            };
            let declared: Vec<&str> = operation.operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str())
                .collect();
            let query = request.query.as_deref().unwrap_or("");
            for pair in query.split('&').filter(|pair| !pair.is_empty()) {
                let name = pair.split('=').next().unwrap_or(pair);
                // Atlassian's REST framework takes `expand` on every resource; the Data Center
                // document leaves it out of some (GET transitions, whose `transitions.fields`
                // expansion tells whether a screen takes a resolution).
                if !declared.contains(&name) && name != "expand" {
                    problems.push(format!(
                        "{} {}: query parameter {name} is not declared by {}",
                        request.method, request.path, operation.template
                    ));
                }
            }
            if let Some(body) = &request.body
                && let Err(problem) =
                    document.validate_request(&request.method, &request.path, body)
            {
                problems.push(problem);
            }
        }
        assert!(
            problems.is_empty(),
            "{} of {} requests do not conform:\n{}",
            problems.len(),
            requests.len(),
            problems.join("\n")
        );
    }

    /// Waits until the log holds an answer with `status`.
    pub async fn wait_for_status(&self, status: u16) {
        for _ in 0..1000 {
            if self.requests().await.iter().any(|r| r.status == status) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("no request was answered with {status}");
    }
}

fn client(base_url: &str, flavor: Flavor, wrong_secret: Option<&str>) -> JiraClient {
    JiraClient::new(config(base_url, flavor, wrong_secret)).expect("client builds")
}

fn config(base_url: &str, flavor: Flavor, wrong_secret: Option<&str>) -> ClientConfig {
    let credentials = match flavor {
        Flavor::Cloud => Credentials::Basic {
            email: "admin@example.com".into(),
            api_token: wrong_secret.unwrap_or("emulator-token").into(),
        },
        Flavor::DataCenter => Credentials::Bearer {
            token: wrong_secret.unwrap_or("emulator-pat").into(),
        },
    };
    let mut config = ClientConfig::new(base_url, flavor, credentials);
    // Far above the emulator's limits, so that its rate limits (not ours) are what tests meet.
    config.rate_limit = RateLimit {
        requests_per_second: 1000,
        burst: 1000,
    };
    config.retry = RetryPolicy {
        max_attempts: 8,
        min_delay: Duration::from_millis(20),
        max_delay: Duration::from_secs(1),
        max_wait: Duration::from_secs(10),
    };
    config
}
