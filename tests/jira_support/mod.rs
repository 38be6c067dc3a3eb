//! A Jira emulator per test, a client pointed at it, and the emulator's admin API (request log,
//! faults) for assertions.

use std::time::Duration;

use jira_active_sync::emulator::{
    Emulator, EmulatorConfig, EmulatorHandle, Flavor as EmulatorFlavor, Seed,
};
use jira_active_sync::jira::{
    ClientConfig, Credentials, Flavor, JiraClient, RateLimit, RetryPolicy,
};
use serde::Deserialize;
use serde_json::Value;

/// The entity property the client reads along with issues.
pub const SYNC_PROPERTY: &str = "activesync.dev.sync";

/// A running emulator and a client for it.
pub struct Site {
    emulator: EmulatorHandle,
    flavor: Flavor,
    admin: reqwest::Client,
    /// The client under test (acting as the seeded admin user).
    pub client: JiraClient,
}

/// One request from the emulator's log.
#[derive(Debug, Clone, Deserialize)]
pub struct Logged {
    pub seq: u64,
    pub method: String,
    pub path: String,
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
            emulator,
            flavor,
            admin: reqwest::Client::new(),
            client,
        }
    }

    /// The emulator's base URL.
    pub fn base_url(&self) -> &str {
        self.emulator.base_url()
    }

    /// Another client for the site, with this secret instead of the right one.
    pub fn client_with_secret(&self, secret: &str) -> JiraClient {
        client(self.base_url(), self.flavor, Some(secret))
    }

    /// Every logged API request.
    pub async fn requests(&self) -> Vec<Logged> {
        let answer: Value = self
            .admin
            .get(format!("{}/_emulator/requests", self.base_url()))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .json()
            .await
            .unwrap();
        serde_json::from_value(answer["requests"].clone()).unwrap()
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
        self.admin
            .delete(format!("{}/_emulator/requests", self.base_url()))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
    }

    /// Adds a fault rule.
    pub async fn fault(&self, rule: Value) {
        self.admin
            .post(format!("{}/_emulator/faults", self.base_url()))
            .json(&rule)
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap();
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
    config.issue_properties = vec![SYNC_PROPERTY.to_owned()];
    JiraClient::new(config).expect("client builds")
}
