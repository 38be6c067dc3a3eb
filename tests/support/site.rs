//! A site for the operator suites: a test namespace holding the Jira credentials (a Secret) and
//! the `acme` JiraConnection to an emulator of its own, run as a process; with the tasks, syncs
//! and conditions a test reads and writes there.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt, stream};
use jira_active_sync::api::{ComplianceTask, JiraActiveSync, JiraConnection};
use jira_active_sync::controller::tickets_jql;
use jira_active_sync::jira::{Flavor, Issue};
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::events::v1::Event;
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use serde_json::{Value, json};

use super::Mode;
use super::TestNamespace;
use super::cluster::Cluster;
use super::emulator::{EMAIL, Emulator, SEED_PAT, SEED_TOKEN};
use super::operator::OperatorOptions;
use super::wait::eventually;

/// The JiraConnection of a [`Site`].
pub const CONNECTION: &str = "acme";

/// A namespace with credentials, a connection to the emulator and helpers for tasks and syncs.
pub struct Site {
    /// The test namespace.
    pub ns: TestNamespace,
    /// The emulator (shared with a [`Site::twin_on`] another cluster).
    pub jira: Arc<Emulator>,
    /// The admin token the connection's Secret holds.
    pub token: String,
    /// Issues of project SEC before the test (the seed's).
    pub(super) baseline: usize,
}

impl Site {
    /// A namespace named after `test`, a Cloud emulator whose admin token is `token`, the Secret
    /// and the `acme` connection (with `connection_spec` merged into its spec).
    pub async fn new(test: &str, token: &str, connection_spec: Value) -> Site {
        Site::start(test, Flavor::Cloud, token, connection_spec).await
    }

    /// Like [`Site::new`] with an emulator of `flavor`, the admin acting with the seed's secret:
    /// an API token (Basic) on Cloud, a personal access token (Bearer) on Data Center.
    pub async fn of(flavor: Flavor, test: &str, connection_spec: Value) -> Site {
        let token = match flavor {
            Flavor::Cloud => SEED_TOKEN,
            Flavor::DataCenter => SEED_PAT,
        };
        Site::start(test, flavor, token, connection_spec).await
    }

    async fn start(test: &str, flavor: Flavor, token: &str, connection_spec: Value) -> Site {
        let ns = TestNamespace::new(test).await;
        let jira = Emulator::start(Mode::Process, flavor, false).await;
        if flavor == Flavor::Cloud {
            jira.set_admin_token(token).await;
        }
        Site::connect(ns, Arc::new(jira), token, connection_spec).await
    }

    /// A site of `flavor` whose emulator starts on the seed `seed` (a built-in workflow by name);
    /// the connection acts as the seed's admin (API token on Cloud, personal access token on Data
    /// Center).
    pub async fn on(test: &str, flavor: Flavor, seed: &'static str) -> Site {
        let jira = Emulator::start_seeded(Mode::Process, flavor, seed).await;
        let token = jira.seed_secret();
        let ns = TestNamespace::new(test).await;
        Site::connect(ns, Arc::new(jira), token, json!({})).await
    }

    /// Like [`Site::new`], with a Jira of the caller's (e.g. one that Pods reach).
    pub async fn with_jira(
        test: &str,
        jira: Emulator,
        token: &str,
        connection_spec: Value,
    ) -> Site {
        let ns = TestNamespace::new(test).await;
        jira.set_admin_token(token).await;
        Site::connect(ns, Arc::new(jira), token, connection_spec).await
    }

    /// The same namespace on another cluster, with the same Secret and connection to the same
    /// emulator: what a second install sharing the Jira site sees.
    pub async fn twin_on(&self, cluster: &'static Cluster) -> Site {
        let ns = TestNamespace::named_on(cluster, &self.ns.name).await;
        Site::connect(ns, self.jira.clone(), &self.token, json!({})).await
    }

    /// The Secret and the `acme` connection in `ns`, to `jira`.
    async fn connect(
        ns: TestNamespace,
        jira: Arc<Emulator>,
        token: &str,
        connection_spec: Value,
    ) -> Site {
        ns.create::<Secret>(json!({
            "metadata": {"name": "jira-credentials"},
            "stringData": {"email": EMAIL, "apiToken": token, "token": token,
                           "webhook": format!("{token}-hook")}
        }))
        .await;
        let (flavor, auth) = match jira.flavor() {
            Flavor::Cloud => ("Cloud", "Basic"),
            Flavor::DataCenter => ("DataCenter", "Bearer"),
        };
        let mut spec = json!({
            "url": jira.url, "flavor": flavor,
            "auth": {"type": auth, "secretRef": {"name": "jira-credentials"}},
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
        self.patch_spec::<ComplianceTask>(task, json!({ "state": state }))
            .await;
    }

    /// Merges `spec` into the spec of the object `name` of kind `K`.
    pub async fn patch_spec<K>(&self, name: &str, spec: Value)
    where
        K: kube::Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
            + Clone
            + serde::de::DeserializeOwned
            + std::fmt::Debug,
    {
        self.ns
            .api::<K>()
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({ "spec": spec })),
            )
            .await
            .expect("spec patched");
    }

    /// Every task of the namespace.
    pub async fn all_tasks(&self) -> Vec<ComplianceTask> {
        let tasks = self.ns.api::<ComplianceTask>();
        tasks.list(&Default::default()).await.expect("tasks").items
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

    /// Deletes the sync `name` and waits until it is gone (its finalizer done).
    pub async fn delete_sync(&self, name: &str, patience: Duration) {
        self.ns
            .api::<JiraActiveSync>()
            .delete(name, &DeleteParams::default())
            .await
            .unwrap_or_else(|e| panic!("deleting the sync {name}: {e}"));
        self.sync_gone(name, patience).await;
    }

    /// Waits until the sync `name` is gone (its finalizer done).
    pub async fn sync_gone(&self, name: &str, patience: Duration) {
        let syncs = self.ns.api::<JiraActiveSync>();
        eventually(&format!("the sync {name} goes"), patience, || async {
            syncs.get_opt(name).await.ok()?.is_none().then_some(())
        })
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

    /// The note of the first Event of the namespace with `reason`, once there is one.
    pub async fn event_note(&self, reason: &str) -> Option<String> {
        let events = self.ns.api::<Event>();
        let listed = events.list(&ListParams::default()).await.ok()?;
        listed
            .items
            .into_iter()
            .find(|e| e.reason.as_deref() == Some(reason))
            .and_then(|e| e.note)
    }

    /// The tickets the sync `name` owns (by its label).
    pub async fn tickets(&self, sync: &str) -> Vec<Issue> {
        self.jira
            .client(&self.token)
            .search(&tickets_jql(&[&self
                .ns
                .cluster()
                .sync_labels(&self.ns.name, sync)
                .await
                .current]))
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

pub fn merge(base: &mut Value, extra: Value) {
    match (base, extra) {
        (Value::Object(base), Value::Object(extra)) => {
            for (key, value) in extra {
                merge(base.entry(key).or_insert(Value::Null), value);
            }
        }
        (base, extra) => *base = extra,
    }
}
