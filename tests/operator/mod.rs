//! Running the operator binary as real processes next to the Jira emulator, for tests that need
//! the whole operator: failover between replicas, and the operator under the chart's RBAC.

// Each test binary uses its own subset of the helpers.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ListParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use jira_active_sync::api::{ComplianceTask, JiraActiveSync, JiraConnection};
use jira_active_sync::emulator::{Emulator, EmulatorConfig, EmulatorHandle};

/// The emulator's default administrator (`Seed::default()`).
pub const JIRA_EMAIL: &str = "admin@example.com";
/// Its API token.
pub const JIRA_TOKEN: &str = "emulator-token";
/// Cloud's bulk create endpoint.
pub const BULK_CREATE: &str = "/rest/api/3/issue/bulk";
/// The JiraConnection every scenario uses.
pub const CONNECTION: &str = "emulated-jira";

/// One operator process (`jira-active-sync ARGS`), its output in a log file.
pub struct Replica {
    /// The process.
    pub child: Child,
    /// Its stdout and stderr.
    pub log: PathBuf,
}

impl Replica {
    /// Starts the operator with `args`, as pod `identity` of namespace `pod_namespace` (the
    /// downward-API variables), against the cluster of `kubeconfig` (or the inherited one).
    pub fn start(
        args: &[String],
        identity: &str,
        pod_namespace: &str,
        env: &[(&str, &str)],
        kubeconfig: Option<&Path>,
    ) -> Self {
        let log = std::env::temp_dir().join(format!("{pod_namespace}-{identity}.log"));
        let file = std::fs::File::create(&log).expect("log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_jira-active-sync"));
        command
            .args(args)
            .env("POD_NAME", identity)
            .env("POD_NAMESPACE", pod_namespace)
            .env("RUST_LOG", "info,jira_active_sync=debug")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::from(file.try_clone().expect("log file")))
            .stderr(Stdio::from(file))
            .kill_on_drop(true);
        if let Some(kubeconfig) = kubeconfig {
            command.env("KUBECONFIG", kubeconfig);
        }
        let child = command.spawn().expect("start the operator");
        Self { child, log }
    }

    /// Everything the process has logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM and waits (at most 30 s) for a successful exit.
    pub async fn terminate(&mut self) {
        let pid = self.child.id().expect("the operator runs");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("send SIGTERM");
        assert!(status.success(), "kill -TERM {pid}");
        let exit = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the operator stops within 30 s of SIGTERM")
            .expect("wait");
        assert!(
            exit.success(),
            "the operator exited with {exit}:\n{}",
            self.log_text()
        );
    }

    /// Removes the log (after a passing test; a failing one keeps it for inspection).
    pub fn remove_log(&self) {
        let _ = std::fs::remove_file(&self.log);
    }
}

/// The holder of Lease `name` in `namespace`.
pub async fn lease_holder(client: &Client, namespace: &str, name: &str) -> Option<String> {
    Api::<Lease>::namespaced(client.clone(), namespace)
        .get_opt(name)
        .await
        .expect("get the Lease")
        .and_then(|lease| lease.spec)
        .and_then(|spec| spec.holder_identity)
}

/// Polls `probe` every 100 ms until it yields a value, for at most `limit`.
pub async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut probe: F) -> T
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

/// The Jira emulator, in this process, and an HTTP client for its APIs.
pub struct Jira {
    /// The running emulator.
    pub emulator: EmulatorHandle,
    http: reqwest::Client,
}

impl Jira {
    /// Starts an emulator with the default site on a free loopback port.
    pub async fn start() -> Self {
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

    /// `POST` to the emulator's admin API.
    pub async fn admin(&self, path: &str, body: Value) {
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

    /// The statuses of the `POST path` requests served so far (a dropped response is logged with
    /// the status it would have had).
    pub async fn posts_to(&self, path: &str) -> Vec<u16> {
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

    async fn api(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self
            .http
            .request(method, self.url(path))
            .basic_auth(JIRA_EMAIL, Some(JIRA_TOKEN));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("Jira API");
        let status = response.status();
        let text = response.text().await.expect("Jira answer");
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Every ticket carrying `label`: key -> labels, through Jira's search API.
    pub async fn tickets_labelled(&self, label: &str) -> BTreeMap<String, BTreeSet<String>> {
        let body = json!({
            "jql": format!("labels = \"{label}\""),
            "maxResults": 100,
            "fields": ["labels"],
        });
        let page = self
            .api(reqwest::Method::POST, "/rest/api/3/search/jql", Some(body))
            .await;
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

    /// Moves ticket `key` into a status of category "done", as a person in Jira would.
    pub async fn complete(&self, key: &str) {
        let path = format!("/rest/api/3/issue/{key}/transitions");
        for _ in 0..3 {
            let available = self.api(reqwest::Method::GET, &path, None).await;
            let transitions = available["transitions"].as_array().expect("transitions");
            let category = |t: &Value| t["to"]["statusCategory"]["key"].as_str().map(str::to_owned);
            let next = transitions
                .iter()
                .find(|t| category(t).as_deref() == Some("done"))
                .or_else(|| {
                    transitions
                        .iter()
                        .find(|t| category(t).as_deref() == Some("indeterminate"))
                })
                .unwrap_or_else(|| panic!("no way towards done from {available}"));
            let done = category(next).as_deref() == Some("done");
            let body = json!({"transition": {"id": next["id"]}});
            self.api(reqwest::Method::POST, &path, Some(body)).await;
            if done {
                return;
            }
        }
        panic!("{key} did not reach done in 3 transitions");
    }
}

/// Creates the credentials Secret, the JiraConnection to `jira_url`, `tasks` open tasks of check
/// `check` named `task-00`..., and the JiraActiveSync `sync` for that check with `spec` merged in.
pub async fn create_sync(
    client: &Client,
    namespace: &str,
    jira_url: &str,
    sync: &str,
    check: &str,
    tasks: usize,
    spec: Value,
) {
    let post = PostParams::default();
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "jira-credentials"},
        "stringData": {"email": JIRA_EMAIL, "apiToken": JIRA_TOKEN},
    }))
    .expect("secret");
    Api::<Secret>::namespaced(client.clone(), namespace)
        .create(&post, &secret)
        .await
        .expect("create the Secret");
    let connection: JiraConnection = serde_json::from_value(json!({
        "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraConnection",
        "metadata": {"name": CONNECTION},
        "spec": {"url": jira_url, "flavor": "Cloud",
                 "auth": {"type": "Basic", "secretRef": {"name": "jira-credentials"}}},
    }))
    .expect("connection");
    Api::<JiraConnection>::namespaced(client.clone(), namespace)
        .create(&post, &connection)
        .await
        .expect("create the JiraConnection");
    let task_api = Api::<ComplianceTask>::namespaced(client.clone(), namespace);
    for i in 0..tasks {
        let task: ComplianceTask = serde_json::from_value(json!({
            "apiVersion": "activesync.dev/v1alpha1", "kind": "ComplianceTask",
            "metadata": {"name": task_name(i)},
            "spec": {"check": check, "title": format!("Task {i} of {check}"),
                     "instructions": "Rotate the key.", "howToFix": "Run the rotation job.",
                     "state": "Open"},
        }))
        .expect("task");
        task_api.create(&post, &task).await.expect("create a task");
    }
    let mut sync_spec = json!({
        "connectionRef": {"name": CONNECTION},
        "scope": {"checks": [check]},
        "jira": {"project": "SEC", "issueType": "Task"},
        "mode": "Individual",
        "pollInterval": "10s",
    });
    if let (Some(base), Value::Object(extra)) = (sync_spec.as_object_mut(), spec) {
        base.extend(extra);
    }
    let sync: JiraActiveSync = serde_json::from_value(json!({
        "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraActiveSync",
        "metadata": {"name": sync}, "spec": sync_spec,
    }))
    .expect("sync");
    Api::<JiraActiveSync>::namespaced(client.clone(), namespace)
        .create(&post, &sync)
        .await
        .expect("create the sync");
}

/// The name of task number `i`.
pub fn task_name(i: usize) -> String {
    format!("task-{i:02}")
}

/// Task name -> ticket key recorded in the task's status.
pub async fn recorded_keys(client: &Client, namespace: &str) -> BTreeMap<String, String> {
    Api::<ComplianceTask>::namespaced(client.clone(), namespace)
        .list(&ListParams::default())
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
