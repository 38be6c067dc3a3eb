//! The process rig: the operator and the Jira emulator as separate processes (the real binaries, so
//! a kill -9 is a real crash), a test namespace on the real control plane with credentials and a
//! connection, and the checks that the tickets in Jira are exactly the expected set. The sync,
//! reliability, failover and chart suites all run on it.

// Each test binary uses its own subset of the rig.
#![allow(dead_code)]

pub mod apiserver_proxy;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use futures::{StreamExt, stream};
use jira_active_sync::api::{ComplianceTask, JiraActiveSync, JiraConnection};
use jira_active_sync::controller::tickets_jql;
use jira_active_sync::jira::{self, ClientConfig, Credentials, Issue, JiraClient, StatusCategory};
use jira_active_sync::planner::TicketIdentity;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, Client};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::support::TestNamespace;
use crate::support::cluster::cluster;
use crate::support::emulator::EmulatorAdmin;
// Part of the rig's interface; not every suite waits with it.
#[allow(unused_imports)]
pub use crate::support::wait::eventually;

/// The Jira user the operator acts as.
pub const EMAIL: &str = "admin@example.com";
/// Its API token in the emulator's default seed.
pub const SEED_TOKEN: &str = "emulator-token";
/// The JiraConnection of a [`Site`].
pub const CONNECTION: &str = "acme";

/// A `jira-emulator` process, killed when dropped.
pub struct EmulatorProcess {
    child: Child,
    /// Its base URL.
    pub url: String,
    /// The PEM of the CA of its certificate, when it serves HTTPS (`--tls`).
    pub ca_pem: Option<String>,
    control: EmulatorAdmin,
}

/// The `jira-emulator` binary of this build: another workspace package, so Cargo gives no
/// `CARGO_BIN_EXE_` for it; `cargo test` at the workspace root builds it next to this package's
/// binaries.
fn emulator_binary() -> std::path::PathBuf {
    let operator = std::path::Path::new(env!("CARGO_BIN_EXE_jira-active-sync"));
    let emulator =
        operator.with_file_name(format!("jira-emulator{}", std::env::consts::EXE_SUFFIX));
    assert!(
        emulator.exists(),
        "{} is missing: run the tests from the workspace root (`cargo test --workspace`), or \
         build it with `cargo build -p jira-emulator`",
        emulator.display()
    );
    emulator
}

impl EmulatorProcess {
    /// Starts `jira-emulator` on a free loopback port and waits for its URL.
    pub async fn start() -> EmulatorProcess {
        EmulatorProcess::start_with(&[]).await
    }

    /// Starts `jira-emulator` with more arguments (`--flavor datacenter`, `--tls`: its CA is then
    /// written to a temporary file and kept in [`ca_pem`](Self::ca_pem)).
    pub async fn start_with(args: &[&str]) -> EmulatorProcess {
        let ca_path = std::env::temp_dir().join(format!(
            "jas-emulator-ca-{}-{}.pem",
            std::process::id(),
            free_port().port()
        ));
        let mut command = Command::new(emulator_binary());
        command.args(["--listen", "127.0.0.1:0"]).args(args);
        if args.contains(&"--tls") {
            command.arg("--tls-ca-out").arg(&ca_path);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("jira-emulator starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let url = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("jira-emulator prints its URL within 30s")
            .expect("reading jira-emulator's stdout")
            .expect("jira-emulator printed its URL");
        let url = url.trim().to_owned();
        let ca_pem = args
            .contains(&"--tls")
            .then(|| std::fs::read_to_string(&ca_path).expect("the emulator wrote its CA"));
        let _ = std::fs::remove_file(&ca_path);
        let control = match &ca_pem {
            Some(pem) => EmulatorAdmin::trusting(&url, pem),
            None => EmulatorAdmin::new(&url),
        };
        EmulatorProcess {
            child,
            ca_pem,
            control,
            url,
        }
    }

    /// Sends an admin request and insists on success.
    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.control.call(method, path, body).await
    }

    /// Adds a fault rule.
    pub async fn fault(&self, rule: Value) {
        self.control.fault(rule).await;
    }

    /// Removes every fault rule.
    pub async fn clear_faults(&self) {
        self.control.clear_faults().await;
    }

    /// Changes runtime settings (`searchLagMs`, `latencyMs`, `rateLimits`).
    pub async fn config(&self, change: Value) {
        self.control.config(change).await;
    }

    /// The request log from `since` on.
    pub async fn requests(&self, since: u64) -> Vec<Value> {
        self.control.requests(since).await
    }

    /// Forgets the request log.
    pub async fn clear_requests(&self) {
        self.control.clear_requests().await;
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

    /// A client that acts as the admin.
    pub fn client(&self, token: &str) -> JiraClient {
        JiraClient::new(ClientConfig::new(
            &self.url,
            jira::Flavor::Cloud,
            Credentials::Basic {
                email: EMAIL.into(),
                api_token: token.into(),
            },
        ))
        .expect("client")
    }

    /// Whether the process still runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// A `jira-active-sync` process, its output appended to a log file; `kill` is SIGKILL.
pub struct OperatorProcess {
    child: Child,
    /// Its HTTP listener (metrics, health, webhook).
    pub listen: std::net::SocketAddr,
    /// Where its stdout and stderr go.
    pub log: PathBuf,
}

/// How an operator process is started.
#[derive(Clone)]
pub struct OperatorOptions {
    /// The namespace it watches.
    pub namespace: String,
    /// `--search-settle`.
    pub search_settle: &'static str,
    /// `RUST_LOG`.
    pub rust_log: &'static str,
    /// Kubeconfig to use instead of the cluster admin's.
    pub kubeconfig: Option<PathBuf>,
    /// More namespaces it watches besides `namespace`.
    pub also_watch: Vec<String>,
}

impl OperatorProcess {
    /// Starts `jira-active-sync run` against the test cluster, logging to `log` (appended).
    pub async fn start(options: &OperatorOptions, log: PathBuf) -> OperatorProcess {
        let mut args: Vec<String> = [
            "run",
            "--listen",
            &free_port().to_string(),
            "--namespace",
            &options.namespace,
            "--search-settle",
            options.search_settle,
        ]
        .map(str::to_owned)
        .into();
        for namespace in &options.also_watch {
            args.extend(["--namespace".to_owned(), namespace.clone()]);
        }
        let kubeconfig = match &options.kubeconfig {
            Some(path) => Some(path.clone()),
            None => cluster().await.kubeconfig().map(PathBuf::from),
        };
        OperatorProcess::spawn(
            &args,
            &[("RUST_LOG", options.rust_log)],
            kubeconfig.as_deref(),
            log,
        )
    }

    /// Starts `jira-active-sync ARGS` (which name its `--listen` address) with `env`, against the
    /// cluster of `kubeconfig` (or the inherited `KUBECONFIG`), logging to `log` (appended).
    pub fn spawn(
        args: &[String],
        env: &[(&str, &str)],
        kubeconfig: Option<&Path>,
        log: PathBuf,
    ) -> OperatorProcess {
        let listen = args
            .iter()
            .skip_while(|arg| *arg != "--listen")
            .nth(1)
            .and_then(|address| address.parse().ok())
            .expect("the arguments name a --listen address");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("operator log file");
        let mut command = Command::new(env!("CARGO_BIN_EXE_jira-active-sync"));
        command
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .kill_on_drop(true);
        if let Some(path) = kubeconfig {
            command.env("KUBECONFIG", path);
        }
        let child = command.spawn().expect("jira-active-sync starts");
        OperatorProcess { child, listen, log }
    }

    /// SIGKILL: no shutdown, no flushing, as a node failure or OOM kill.
    pub async fn kill(mut self) {
        self.child.kill().await.expect("SIGKILL the operator");
    }

    /// SIGTERM, then waits (at most 30 s) for a successful exit.
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

    /// Whether the process still runs (a crash loop would show here).
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Reads one path of its HTTP listener.
    pub async fn get(&self, path: &str) -> Option<String> {
        let response = reqwest::get(format!("http://{}{path}", self.listen))
            .await
            .ok()?;
        response.text().await.ok()
    }

    /// Everything the process has logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
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

/// A free loopback port (bound, then released for the process to take).
pub fn free_port() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address")
}

/// A namespace with credentials, a connection to the emulator and helpers for tasks and syncs.
pub struct Site {
    /// The test namespace.
    pub ns: TestNamespace,
    /// The emulator.
    pub jira: EmulatorProcess,
    /// The admin token the connection's Secret holds.
    pub token: String,
    /// Issues of project SEC before the test (the seed's).
    baseline: usize,
}

impl Site {
    /// A namespace named after `test`, an emulator whose admin token is `token`, the Secret and the
    /// `acme` connection (with `connection_spec` merged into its spec).
    pub async fn new(test: &str, token: &str, connection_spec: Value) -> Site {
        let ns = TestNamespace::new(test).await;
        let jira = EmulatorProcess::start().await;
        jira.set_admin_token(token).await;
        ns.create::<Secret>(json!({
            "metadata": {"name": "jira-credentials"},
            "stringData": {"email": EMAIL, "apiToken": token, "webhook": format!("{token}-hook")}
        }))
        .await;
        let mut spec = json!({
            "url": jira.url, "auth": {"type": "Basic", "secretRef": {"name": "jira-credentials"}},
            "webhook": {"secretRef": {"name": "jira-credentials", "key": "webhook"}},
            "allowedProjects": ["SEC", "OPS"]
        });
        merge(&mut spec, connection_spec);
        ns.create::<JiraConnection>(json!({
            "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraConnection",
            "metadata": {"name": CONNECTION}, "spec": spec
        }))
        .await;
        let baseline = jira
            .client(token)
            .search("project = SEC ORDER BY key ASC")
            .await
            .expect("search")
            .len();
        Site {
            ns,
            jira,
            token: token.to_owned(),
            baseline,
        }
    }

    /// Operator options for this namespace.
    pub fn operator_options(&self, search_settle: &'static str) -> OperatorOptions {
        OperatorOptions {
            namespace: self.ns.name.clone(),
            search_settle,
            rust_log: "info,kube=warn,tower=warn,hyper=warn",
            kubeconfig: None,
            also_watch: Vec::new(),
        }
    }

    /// A log file for this site's operator processes.
    pub fn log_path(&self) -> PathBuf {
        std::env::temp_dir().join(format!("jas-operator-{}.log", self.ns.name))
    }

    /// Writes the emulator's request log next to the operator's, for a failed test; gives its path.
    pub async fn dump_requests(&self) -> PathBuf {
        let path = std::env::temp_dir().join(format!("jas-jira-requests-{}.json", self.ns.name));
        let requests = self.jira.requests(0).await;
        let text = serde_json::to_string_pretty(&requests).unwrap_or_default();
        if let Err(e) = std::fs::write(&path, text) {
            eprintln!("could not write {}: {e}", path.display());
        }
        path
    }

    /// Creates `count` open tasks `t0000...` of `check`, 16 at a time.
    pub async fn tasks(&self, count: usize, check: &str) -> Vec<String> {
        let names: Vec<String> = (0..count).map(|i| format!("t{i:04}")).collect();
        stream::iter(&names)
            .map(|name| self.task(name, check, None))
            .buffer_unordered(16)
            .collect::<Vec<()>>()
            .await;
        names
    }

    /// Creates the open task `name` of `check`, assigned to `assignee` (an email) if given.
    pub async fn task(&self, name: &str, check: &str, assignee: Option<&str>) {
        self.ns
            .create::<ComplianceTask>(json!({
                "apiVersion": "activesync.dev/v1alpha1", "kind": "ComplianceTask",
                "metadata": {"name": name},
                "spec": {"check": check, "title": format!("Fix {name}"), "assignee": assignee,
                         "instructions": format!("Instructions for {name}"), "howToFix": "Upgrade it",
                         "severity": "High"}
            }))
            .await;
    }

    /// Task name -> ticket key, as the tasks' statuses record them.
    pub async fn recorded_keys(&self) -> BTreeMap<String, String> {
        recorded_keys(&self.ns).await
    }

    /// Sets a task's state (`Open` | `Completed`).
    pub async fn set_state(&self, task: &str, state: &str) {
        self.ns
            .api::<ComplianceTask>()
            .patch(
                task,
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"state": state}})),
            )
            .await
            .expect("task patched");
    }

    /// Creates an Individual sync `name` of `check` into SEC, polling every 10 s.
    pub async fn individual_sync(&self, name: &str, check: &str) {
        self.individual_sync_every(name, check, "10s").await;
    }

    /// Creates an Individual sync `name` of `check` into SEC, polling every `poll_interval`.
    pub async fn individual_sync_every(&self, name: &str, check: &str, poll_interval: &str) {
        let spec = json!({"connectionRef": {"name": CONNECTION}, "scope": {"checks": [check]},
                          "jira": {"project": "SEC", "issueType": "Task"}, "pollInterval": poll_interval});
        self.sync(name, spec).await;
    }

    /// Creates the sync `name` with `spec`.
    pub async fn sync(&self, name: &str, spec: Value) {
        self.ns
            .create::<JiraActiveSync>(json!({
                "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraActiveSync",
                "metadata": {"name": name}, "spec": spec
            }))
            .await;
    }

    /// The sync's status, for diagnostics.
    pub async fn sync_status(&self, sync: &str) -> Option<Value> {
        let sync = self.ns.api::<JiraActiveSync>().get_opt(sync).await.ok()??;
        serde_json::to_value(sync.status?).ok()
    }

    /// The sync's condition `type_` as (status, reason, message).
    pub async fn condition(&self, sync: &str, type_: &str) -> Option<(String, String, String)> {
        condition_of(&self.ns.api::<JiraActiveSync>(), sync, type_).await
    }

    /// The tickets the sync `name` owns (by its label).
    pub async fn tickets(&self, sync: &str) -> Vec<Issue> {
        self.jira
            .client(&self.token)
            .search(&tickets_jql(&self.ns.name, sync))
            .await
            .expect("search")
    }

    /// Every issue of project SEC (search index caught up: call with the emulator's lag at 0).
    pub async fn all_tickets(&self) -> Vec<Issue> {
        self.jira
            .client(&self.token)
            .search("project = SEC ORDER BY key ASC")
            .await
            .expect("search")
    }

    /// Flips a twentieth of the tasks (at least one), as producers do meanwhile: open ones
    /// complete, completed ones re-open; `expected` follows. Gives how many flipped.
    pub async fn flip_some(
        &self,
        names: &[String],
        expected: &mut BTreeMap<String, bool>,
        rng: &mut impl rand::Rng,
    ) -> usize {
        use rand::seq::IndexedRandom;
        let changed: Vec<String> = names
            .choose_multiple(rng, (names.len() / 20).max(1))
            .cloned()
            .collect();
        for name in &changed {
            let completed = !expected[name];
            self.set_state(name, if completed { "Completed" } else { "Open" })
                .await;
            expected.insert(name.clone(), completed);
        }
        changed.len()
    }

    /// Waits until [`reckon`](Self::reckon) is exact, a patience that grows with the task count;
    /// else panics with the reckoning, the sync's status, `context` and the operator's log path.
    pub async fn until_exact(&self, expected: &BTreeMap<String, bool>, context: &str, log: &Path) {
        let tasks = u64::try_from(expected.len()).unwrap_or(0);
        let patience = Duration::from_secs(120 + tasks / 4);
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            let reckoning = self.reckon(expected).await;
            if reckoning.exact() {
                return;
            }
            if tokio::time::Instant::now() > deadline {
                let requests = self.dump_requests().await;
                panic!(
                    "no convergence within {patience:?}: {} tickets, {} duplicates, {} missing, {} wrong (first: {:?}); sync status: {:?}; {context}; see {} and Jira's request log {}",
                    reckoning.tickets,
                    reckoning.duplicates,
                    reckoning.missing.len(),
                    reckoning.wrong.len(),
                    reckoning.wrong.first(),
                    self.sync_status("s").await,
                    log.display(),
                    requests.display()
                );
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// Compares Jira and the tasks with `expected` (task -> completed?): one ticket per open task,
    /// none or one done ticket per completed task, each recorded on its task.
    pub async fn reckon(&self, expected: &BTreeMap<String, bool>) -> Reckoning {
        let tickets = self.all_tickets().await;
        let tasks = self
            .ns
            .api::<ComplianceTask>()
            .list(&ListParams::default())
            .await
            .expect("tasks");
        let recorded: BTreeMap<String, Option<Recorded>> = tasks
            .items
            .into_iter()
            .map(|t| {
                let name = t.metadata.name.clone().unwrap_or_default();
                let jira = t
                    .status
                    .and_then(|s| s.jira)
                    .map(|j| (j.key, j.status_category));
                (name, jira)
            })
            .collect();
        let mut reckoning = Reckoning {
            tickets: tickets.len() - self.baseline,
            ..Reckoning::default()
        };
        let mut by_label: BTreeMap<String, Vec<&Issue>> = BTreeMap::new();
        for ticket in &tickets {
            for label in &ticket.labels {
                by_label.entry(label.clone()).or_default().push(ticket);
            }
        }
        let singles: usize = expected
            .keys()
            .filter(|task| by_label.contains_key(&TicketIdentity::Task((*task).clone()).label()))
            .count();
        reckoning.duplicates = reckoning.tickets.saturating_sub(singles);
        for (task, completed) in expected {
            let label = TicketIdentity::Task(task.clone()).label();
            let found = by_label.get(&label).map(Vec::as_slice).unwrap_or_default();
            match found {
                // A task completed before it ever had a ticket needs none.
                [] if *completed => {
                    if let Some(Some((Some(key), _))) = recorded.get(task) {
                        reckoning
                            .wrong
                            .push(format!("{task}: status records {key}, which Jira lacks"));
                    }
                }
                [] => reckoning.missing.push(task.clone()),
                [ticket] => {
                    let done = ticket.status.category == StatusCategory::Done;
                    let want = if *completed { "done" } else { "not done" };
                    if done != *completed {
                        reckoning
                            .wrong
                            .push(format!("{task}: ticket {} is not {want}", ticket.key));
                    }
                    let expected_category = ticket.status.category.key().to_owned();
                    match recorded.get(task) {
                        Some(Some((Some(key), category)))
                            if key == &ticket.key
                                && category.as_deref() == Some(expected_category.as_str()) => {}
                        other => reckoning.wrong.push(format!(
                            "{task}: status records {other:?}, Jira has {} ({expected_category})",
                            ticket.key
                        )),
                    }
                }
                many => reckoning.wrong.push(format!(
                    "{task}: {} tickets carry its label: {:?}",
                    many.len(),
                    many.iter().map(|t| &t.key).collect::<Vec<_>>()
                )),
            }
        }
        reckoning
    }
}

/// The key and status category a task's `status.jira` records.
type Recorded = (Option<String>, Option<String>);

/// How Jira and the tasks compare with what is expected.
#[derive(Debug, Default)]
pub struct Reckoning {
    /// Issues made in the project during the test.
    pub tickets: usize,
    /// Issues beyond one per task (retired duplicates included: they exist in Jira).
    pub duplicates: usize,
    /// Tasks without a ticket.
    pub missing: Vec<String>,
    /// Tasks whose ticket or recorded status is wrong.
    pub wrong: Vec<String>,
}

impl Reckoning {
    /// Exactly one ticket per task, each in the right state and recorded on its task.
    pub fn exact(&self) -> bool {
        self.duplicates == 0 && self.missing.is_empty() && self.wrong.is_empty()
    }
}

/// Task name -> ticket key, as the statuses of the tasks of `ns` record them.
pub async fn recorded_keys(ns: &TestNamespace) -> BTreeMap<String, String> {
    ns.api::<ComplianceTask>()
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

/// Condition `type_` of object `name` (a connection or a sync) as (status, reason, message).
pub async fn condition_of<K>(
    api: &Api<K>,
    name: &str,
    type_: &str,
) -> Option<(String, String, String)>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    let object = serde_json::to_value(api.get_opt(name).await.ok()??).ok()?;
    let condition = object["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == type_)?;
    let text = |field: &str| condition[field].as_str().unwrap_or_default().to_owned();
    Some((text("status"), text("reason"), text("message")))
}

fn merge(base: &mut Value, extra: Value) {
    match (base, extra) {
        (Value::Object(base), Value::Object(extra)) => {
            for (key, value) in extra {
                merge(base.entry(key).or_insert(Value::Null), value);
            }
        }
        (base, extra) => *base = extra,
    }
}
