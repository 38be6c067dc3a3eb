//! The Jira side: a `jira-emulator` process with Jira Cloud's rate limits on, its admin API
//! (seed, counters, webhooks, reset), and a receiver for its webhook deliveries that timestamps
//! every status change of a ticket.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Instant;

use anyhow::{Context as _, bail};
use axum::Json;
use axum::extract::State;
use axum::routing::post;
use jira_active_sync::jira::{self, ClientConfig, Credentials, JiraClient, RateLimit};
use jira_emulator::{Seed, SeedUser};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// Jira Cloud's documented ceiling, used as the connection's client-side rate limit.
pub const CLOUD_REQUESTS_PER_SECOND: u32 = 100;
/// The admin user of the emulator's default seed.
pub const ADMIN: (&str, &str) = ("admin@example.com", "emulator-token");

/// The email of assignee `i`.
pub fn assignee(i: usize) -> String {
    format!("assignee-{i:02}@example.com")
}

/// A running emulator process.
pub struct Emulator {
    _child: Child,
    /// Site root, e.g. `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The Jira it emulates.
    pub flavor: jira::Flavor,
    http: reqwest::Client,
}

/// The admin's personal access token in the emulator's default seed (Data Center).
const ADMIN_PAT: &str = "emulator-pat";

impl Emulator {
    /// Starts `jira-emulator --rate-limits` (Jira Cloud), logging to `log`, seeded with
    /// `assignees` users.
    pub async fn start(log: &Path, assignees: usize) -> anyhow::Result<Emulator> {
        Emulator::start_as(log, assignees, jira::Flavor::Cloud).await
    }

    /// The same, emulating `flavor`.
    pub async fn start_as(
        log: &Path,
        assignees: usize,
        flavor: jira::Flavor,
    ) -> anyhow::Result<Emulator> {
        let name = match flavor {
            jira::Flavor::Cloud => "cloud",
            jira::Flavor::DataCenter => "datacenter",
        };
        let mut child = Command::new(crate::sibling("jira-emulator")?)
            .args(["--listen", "127.0.0.1:0", "--rate-limits", "--flavor", name])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(log)?)
            .kill_on_drop(true)
            .spawn()
            .context("starting jira-emulator")?;
        let stdout = child.stdout.take().context("emulator stdout")?;
        let base_url = BufReader::new(stdout)
            .lines()
            .next_line()
            .await?
            .context("the emulator printed no base URL")?;
        let emulator = Emulator {
            _child: child,
            base_url,
            flavor,
            http: reqwest::Client::new(),
        };
        emulator.seed(assignees).await?;
        Ok(emulator)
    }

    async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base_url));
        if path.starts_with("/rest/") {
            request = match self.flavor {
                jira::Flavor::Cloud => request.basic_auth(ADMIN.0, Some(ADMIN.1)),
                jira::Flavor::DataCenter => request.bearer_auth(ADMIN_PAT),
            };
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = response.status();
        let text = response.text().await?;
        if !status.is_success() {
            bail!("{method} {path}: {status}: {text}");
        }
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn seed(&self, assignees: usize) -> anyhow::Result<()> {
        let mut seed = Seed::default();
        seed.users.extend((0..assignees).map(|i| SeedUser {
            email: assignee(i),
            display_name: format!("Assignee {i}"),
            account_id: None,
            name: None,
            api_token: None,
            personal_access_token: None,
        }));
        self.admin(
            reqwest::Method::POST,
            "/_emulator/seed",
            Some(serde_json::to_value(&seed)?),
        )
        .await?;
        Ok(())
    }

    /// Back to the seed: no issues, no webhooks, empty counters.
    pub async fn reset(&self) -> anyhow::Result<()> {
        self.admin(reqwest::Method::POST, "/_emulator/reset", None)
            .await?;
        Ok(())
    }

    /// Requests so far per `METHOD /route`.
    pub async fn counters(&self) -> anyhow::Result<BTreeMap<String, u64>> {
        let body = self
            .admin(reqwest::Method::GET, "/_emulator/counters", None)
            .await?;
        Ok(serde_json::from_value(body["counters"].clone())?)
    }

    /// Registers an admin webhook for issue updates in project SEC.
    pub async fn register_webhook(
        &self,
        name: &str,
        url: &str,
        secret: Option<&str>,
        jql: &str,
    ) -> anyhow::Result<()> {
        self.admin(
            reqwest::Method::POST,
            "/rest/webhooks/1.0/webhook",
            Some(json!({
                "name": name, "url": url, "events": ["jira:issue_updated"],
                "filters": {"issue-related-events-section": jql},
                "secret": secret,
            })),
        )
        .await?;
        Ok(())
    }

    /// Moves a ticket through the workflow transition `id`, as a person in Jira would.
    pub async fn transition(&self, key: &str, id: &str) -> anyhow::Result<()> {
        self.admin(
            reqwest::Method::POST,
            &format!(
                "/rest/api/{}/issue/{key}/transitions",
                self.flavor.api_version()
            ),
            Some(json!({"transition": {"id": id}})),
        )
        .await?;
        Ok(())
    }

    /// A client of the emulator as the admin, with Jira Cloud's ceiling as its rate limit.
    /// The admin's credentials: an API token on Cloud, a personal access token on Data Center.
    pub fn credentials(&self) -> Credentials {
        match self.flavor {
            jira::Flavor::Cloud => Credentials::Basic {
                email: ADMIN.0.to_owned(),
                api_token: ADMIN.1.to_owned(),
            },
            jira::Flavor::DataCenter => Credentials::Bearer {
                token: ADMIN_PAT.to_owned(),
            },
        }
    }

    pub fn client(&self) -> anyhow::Result<JiraClient> {
        let mut config = ClientConfig::new(&self.base_url, self.flavor, self.credentials());
        config.rate_limit = RateLimit {
            requests_per_second: CLOUD_REQUESTS_PER_SECOND,
            burst: CLOUD_REQUESTS_PER_SECOND,
        };
        Ok(JiraClient::new(config)?)
    }
}

/// A ticket's status change as delivered by the emulator's webhook.
#[derive(Debug)]
pub struct StatusChange {
    /// Issue key.
    pub key: String,
    /// Status name it moved to.
    pub to: String,
    /// When the delivery arrived.
    pub at: Instant,
}

/// Listens for the emulator's webhook deliveries; status changes come out of the receiver.
pub async fn status_observer() -> anyhow::Result<(SocketAddr, mpsc::UnboundedReceiver<StatusChange>)>
{
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new()
        .route("/observe", post(observe))
        .with_state(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok((address, rx))
}

async fn observe(State(tx): State<mpsc::UnboundedSender<StatusChange>>, Json(body): Json<Value>) {
    let at = Instant::now();
    let Some(key) = body["issue"]["key"].as_str() else {
        return;
    };
    let items = body["changelog"]["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for item in items.iter().filter(|i| i["field"] == "status") {
        if let Some(to) = item["toString"].as_str() {
            let _ = tx.send(StatusChange {
                key: key.to_owned(),
                to: to.to_owned(),
                at,
            });
        }
    }
}

/// Whether a counted endpoint only reads (Jira's search and bulk fetch are POSTs that read).
pub fn is_read(endpoint: &str) -> bool {
    endpoint.starts_with("GET ")
        || endpoint.ends_with("/search/jql")
        || endpoint.ends_with("/search")
        || endpoint.ends_with("/issue/bulkfetch")
}
