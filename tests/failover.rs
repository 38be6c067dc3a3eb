//! Failover of two operator replicas (`jira-active-sync run --leader-election`, real processes)
//! against a real kube-apiserver and the Jira emulator over HTTP: the leader is killed in the
//! middle of a sync, right after Jira created its tickets but before it recorded them on the
//! tasks; the other replica takes over within the lease duration, finishes the sync, and no
//! ticket is duplicated. Then SIGTERM stops the new leader cleanly and frees the Lease.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Secret;
use kube::api::PostParams;
use serde_json::{Value, json};
use support::TestNamespace;
use support::cluster::cluster;
use tokio::process::{Child, Command};

use jira_active_sync::api::{ComplianceTask, JiraActiveSync, JiraConnection};
use jira_active_sync::emulator::{Emulator, EmulatorConfig, EmulatorHandle};
use jira_active_sync::planner::{TicketIdentity, sync_label};

const LEASE: &str = "failover-leader";
const LEASE_DURATION_SECS: u64 = 4;
const SYNC: &str = "failover-sync";
const TASKS: usize = 30;
/// Emulator's default administrator (`Seed::default()`).
const JIRA_EMAIL: &str = "admin@example.com";
const JIRA_TOKEN: &str = "emulator-token";
const BULK_CREATE: &str = "/rest/api/3/issue/bulk";

/// One operator process, with its log in a file kept for the failure message.
struct Replica {
    child: Child,
    log: PathBuf,
}

impl Replica {
    async fn start(ns: &TestNamespace, identity: &str) -> Self {
        let log = std::env::temp_dir().join(format!("{}-{identity}.log", ns.name));
        let file = std::fs::File::create(&log).expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_jira-active-sync"));
        command
            .args(["run", "--listen", "127.0.0.1:0", "--namespace", &ns.name])
            .args(["--leader-election", "--lease-duration"])
            .arg(format!("{LEASE_DURATION_SECS}s"))
            .env("POD_NAME", identity)
            .env("POD_NAMESPACE", &ns.name)
            .env("JAS_LEASE_NAME", LEASE)
            .env(
                "RUST_LOG",
                "debug,hyper=info,hyper_util=info,tower=info,rustls=info,h2=info",
            )
            .stdin(Stdio::null())
            .stdout(Stdio::from(file.try_clone().expect("log file")))
            .stderr(Stdio::from(file))
            .kill_on_drop(true);
        if let Some(kubeconfig) = cluster().await.kubeconfig() {
            command.env("KUBECONFIG", kubeconfig);
        }
        let child = command.spawn().expect("start the operator");
        Self { child, log }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

async fn lease_holder(ns: &TestNamespace) -> Option<String> {
    ns.api::<Lease>()
        .get_opt(LEASE)
        .await
        .expect("get the Lease")
        .and_then(|lease| lease.spec)
        .and_then(|spec| spec.holder_identity)
}

/// Polls `probe` every 100 ms until it yields a value, for at most `limit`.
async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Jira {
    emulator: EmulatorHandle,
    http: reqwest::Client,
}

impl Jira {
    async fn start() -> Self {
        let emulator = Emulator::start(
            "127.0.0.1:0".parse().expect("address"),
            EmulatorConfig::default(),
        )
        .await
        .expect("start the emulator");
        Self {
            emulator,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emulator.base_url())
    }

    async fn admin(&self, path: &str, body: Value) {
        let response = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("emulator admin API");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
    }

    /// Requests the emulator has served for `path`, with the status answered (0: dropped).
    async fn requests_to(&self, path: &str) -> Vec<u16> {
        let log: Value = self
            .http
            .get(self.url("/_emulator/requests"))
            .send()
            .await
            .expect("request log")
            .json()
            .await
            .expect("request log JSON");
        log["requests"]
            .as_array()
            .expect("requests")
            .iter()
            .filter(|r| r["method"] == "POST" && r["path"] == path)
            .map(|r| u16::try_from(r["status"].as_u64().unwrap_or(0)).unwrap_or(0))
            .collect()
    }

    /// Every ticket carrying `label`: key -> labels, through Jira's own search API.
    async fn tickets_labelled(&self, label: &str) -> BTreeMap<String, BTreeSet<String>> {
        let body = json!({
            "jql": format!("labels = \"{label}\""),
            "maxResults": 100,
            "fields": ["labels"],
        });
        let page: Value = self
            .http
            .post(self.url("/rest/api/3/search/jql"))
            .basic_auth(JIRA_EMAIL, Some(JIRA_TOKEN))
            .json(&body)
            .send()
            .await
            .expect("search")
            .json()
            .await
            .expect("search JSON");
        assert!(
            page.get("nextPageToken").is_none_or(Value::is_null),
            "more tickets than one page: {page}"
        );
        page["issues"]
            .as_array()
            .unwrap_or_else(|| panic!("search answer without issues: {page}"))
            .iter()
            .map(|issue| {
                let key = issue["key"].as_str().expect("key").to_owned();
                let labels = issue["fields"]["labels"]
                    .as_array()
                    .expect("labels")
                    .iter()
                    .filter_map(|l| l.as_str().map(str::to_owned))
                    .collect();
                (key, labels)
            })
            .collect()
    }
}

fn task_name(i: usize) -> String {
    format!("task-{i:02}")
}

async fn create_resources(ns: &TestNamespace, jira_url: &str) {
    let post = PostParams::default();
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "jira-credentials"},
        "stringData": {"email": JIRA_EMAIL, "apiToken": JIRA_TOKEN},
    }))
    .expect("secret");
    ns.api::<Secret>()
        .create(&post, &secret)
        .await
        .expect("create the Secret");
    let connection: JiraConnection = serde_json::from_value(json!({
        "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraConnection",
        "metadata": {"name": "emulated-jira"},
        "spec": {"url": jira_url, "flavor": "Cloud",
                 "auth": {"type": "Basic", "secretRef": {"name": "jira-credentials"}}},
    }))
    .expect("connection");
    ns.api::<JiraConnection>()
        .create(&post, &connection)
        .await
        .expect("create the JiraConnection");
    for i in 0..TASKS {
        let task: ComplianceTask = serde_json::from_value(json!({
            "apiVersion": "activesync.dev/v1alpha1", "kind": "ComplianceTask",
            "metadata": {"name": task_name(i)},
            "spec": {"check": "failover", "title": format!("Failover task {i}"),
                     "instructions": "Rotate the key.", "howToFix": "Run the rotation job.",
                     "state": "Open"},
        }))
        .expect("task");
        ns.api::<ComplianceTask>()
            .create(&post, &task)
            .await
            .expect("create a task");
    }
    let sync: JiraActiveSync = serde_json::from_value(json!({
        "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraActiveSync",
        "metadata": {"name": SYNC},
        "spec": {"connectionRef": {"name": "emulated-jira"},
                 "scope": {"checks": ["failover"]},
                 "jira": {"project": "SEC", "issueType": "Task"},
                 "mode": "Individual", "pollInterval": "10s"},
    }))
    .expect("sync");
    ns.api::<JiraActiveSync>()
        .create(&post, &sync)
        .await
        .expect("create the sync");
}

/// Task name -> ticket key recorded in the task's status.
async fn recorded_keys(ns: &TestNamespace) -> BTreeMap<String, String> {
    ns.api::<ComplianceTask>()
        .list(&Default::default())
        .await
        .expect("list tasks")
        .items
        .into_iter()
        .filter_map(|task| {
            let key = task.status?.jira?.key?;
            Some((task.metadata.name?, key))
        })
        .collect()
}

#[tokio::test]
async fn killing_the_leader_mid_sync_hands_over_without_duplicate_tickets() {
    let ns = TestNamespace::new("failover").await;
    let jira = Jira::start().await;
    // The leader's first bulk create goes through in Jira, but its answer never arrives: the
    // tickets exist while no task records them, which is when a crash is most dangerous.
    jira.admin(
        "/_emulator/faults",
        json!({"method": "POST", "path": BULK_CREATE, "count": 1, "action": "dropResponse"}),
    )
    .await;

    let mut first = Replica::start(&ns, "replica-a").await;
    eventually(Duration::from_secs(30), "replica-a leads", || async {
        (lease_holder(&ns).await.as_deref() == Some("replica-a")).then_some(())
    })
    .await;
    let mut second = Replica::start(&ns, "replica-b").await;
    create_resources(&ns, jira.emulator.base_url()).await;

    eventually(
        Duration::from_secs(60),
        "the leader's bulk create",
        || async {
            jira.requests_to(BULK_CREATE)
                .await
                .contains(&0)
                .then_some(())
        },
    )
    .await;
    first.child.start_kill().expect("kill the leader");
    let killed_at = Instant::now();
    first.child.wait().await.expect("the leader exits");
    let sync_label = sync_label(&ns.name, SYNC);
    let created_before_kill = jira.tickets_labelled(&sync_label).await.len();
    let recorded_before_kill = recorded_keys(&ns).await.len();
    assert!(
        created_before_kill > 0 && recorded_before_kill < TASKS,
        "not killed mid-sync: {created_before_kill} tickets, {recorded_before_kill} recorded"
    );

    let takeover = eventually(
        Duration::from_secs(LEASE_DURATION_SECS + 10),
        "replica-b takes the Lease",
        || async {
            (lease_holder(&ns).await.as_deref() == Some("replica-b")).then(|| killed_at.elapsed())
        },
    )
    .await;
    eprintln!(
        "takeover after kill: {takeover:?} (lease duration {LEASE_DURATION_SECS}s); \
         at the kill {created_before_kill} tickets existed, {recorded_before_kill} recorded"
    );
    assert!(
        takeover <= Duration::from_secs(LEASE_DURATION_SECS + 3),
        "takeover took {takeover:?}, more than the lease duration ({LEASE_DURATION_SECS}s) and a little"
    );

    let all_recorded = tokio::time::timeout(Duration::from_secs(90), async {
        loop {
            let keys = recorded_keys(&ns).await;
            if keys.len() == TASKS {
                return keys;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    let Ok(keys) = all_recorded else {
        let sync = ns
            .api::<JiraActiveSync>()
            .get(SYNC)
            .await
            .expect("get the sync");
        let connection = ns
            .api::<JiraConnection>()
            .get("emulated-jira")
            .await
            .expect("get the connection");
        panic!(
            "the new leader did not record every ticket within 90 s: {} of {TASKS}\n\
             sync status: {}\nconnection status: {}\n--- replica-b log:\n{}",
            recorded_keys(&ns).await.len(),
            serde_json::to_string_pretty(&sync.status).unwrap_or_default(),
            serde_json::to_string_pretty(&connection.status).unwrap_or_default(),
            second.log_text()
        );
    };
    let tickets = jira.tickets_labelled(&sync_label).await;
    let distinct_keys: BTreeSet<&String> = keys.values().collect();
    assert_eq!(
        distinct_keys.len(),
        TASKS,
        "two tasks share a ticket: {keys:?}"
    );
    assert_eq!(
        tickets.len(),
        TASKS,
        "duplicate tickets: {} for {TASKS} tasks: {tickets:?}\n--- replica-b log:\n{}",
        tickets.len(),
        second.log_text()
    );
    for (task, key) in &keys {
        let label = TicketIdentity::Task(task.clone()).label();
        let labels = tickets
            .get(key)
            .unwrap_or_else(|| panic!("{task} records {key}, which is not the sync's"));
        assert!(
            labels.contains(&label),
            "{key} of {task} lacks {label}: {labels:?}"
        );
    }

    // SIGTERM: the new leader finishes, releases the Lease and exits cleanly.
    let pid = second.child.id().expect("replica-b runs");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("send SIGTERM");
    assert!(status.success());
    let exit = tokio::time::timeout(Duration::from_secs(30), second.child.wait())
        .await
        .expect("replica-b stops within 30 s of SIGTERM")
        .expect("wait");
    assert!(
        exit.success(),
        "replica-b exited with {exit}:\n{}",
        second.log_text()
    );
    assert_eq!(
        lease_holder(&ns).await,
        None,
        "the Lease is released on shutdown"
    );
    assert!(
        second.log_text().contains("released the lease"),
        "{}",
        second.log_text()
    );
    let _ = std::fs::remove_file(&first.log);
    let _ = std::fs::remove_file(&second.log);
}
