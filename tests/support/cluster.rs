//! The one cluster of a test binary: started on first use, shared by its tests.

use std::path::{Path, PathBuf};

use jira_active_sync::controller;
use jira_active_sync::planner::{Installation, SyncLabels};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use tokio::sync::OnceCell;

/// Set to `1` (with `KUBECONFIG`) to run the suite against an existing cluster.
const USE_EXISTING_CLUSTER: &str = "JAS_TEST_USE_EXISTING_CLUSTER";

/// Where the cluster of this test binary comes from.
#[derive(Debug)]
pub enum Cluster {
    /// A control plane started by `scripts/control-plane up` for this process.
    ControlPlane {
        /// Directory with its data, certificates, logs and kubeconfig.
        dir: PathBuf,
        /// Admin kubeconfig (client certificate of group `system:masters`).
        kubeconfig: PathBuf,
    },
    /// A single-node cluster with a kubelet, started by `scripts/cluster up` for this process
    /// ([`node_cluster`]): Pods run, Services route.
    Node {
        /// Directory with its data, certificates, logs, kubeconfig and containerd.
        dir: PathBuf,
        /// Admin kubeconfig (client certificate of group `system:masters`).
        kubeconfig: PathBuf,
        /// The node's containerd socket, to import images into.
        containerd: PathBuf,
    },
    /// The cluster `KUBECONFIG` names (`JAS_TEST_USE_EXISTING_CLUSTER=1`).
    Existing,
}

static CLUSTER: OnceCell<Cluster> = OnceCell::const_new();
static SECOND_CLUSTER: OnceCell<Cluster> = OnceCell::const_new();

/// The cluster of this test binary, started on first call.
pub async fn cluster() -> &'static Cluster {
    CLUSTER.get_or_init(|| start("")).await
}

/// A second control plane of its own (another cluster, another installation identity), for tests
/// of two installs sharing one Jira site. Always started by the suite.
pub async fn second_cluster() -> &'static Cluster {
    SECOND_CLUSTER
        .get_or_init(|| start_control_plane("-second"))
        .await
}

/// The single-node cluster of this test binary (a kubelet runs Pods), started on first call; or
/// why this machine cannot run it: `JAS_SKIP_IN_CLUSTER=1`, or what `scripts/cluster check` found
/// missing. Call it before anything else of the harness: [`cluster`] then gives this cluster.
pub async fn node_cluster() -> Result<&'static Cluster, String> {
    static PROBE: OnceCell<Result<(), String>> = OnceCell::const_new();
    PROBE.get_or_init(probe_node).await.clone()?;
    Ok(CLUSTER.get_or_init(start_node).await)
}

/// [`node_cluster`], or `None` after telling why `test` is skipped: written to the process's
/// stderr, past the test harness's capture, so that a skip shows in every run's output.
pub async fn node_cluster_or_skip(test: &str) -> Option<&'static Cluster> {
    match node_cluster().await {
        Ok(cluster) => Some(cluster),
        Err(why) => {
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: no single-node cluster on this machine: {why}"
            );
            None
        }
    }
}

/// Whether this machine can run the single-node cluster, or why not. A cluster that still runs
/// (an earlier test binary's, tearing down) is waited for; one that stays fails the test rather
/// than skipping it, since a machine that can run the suite must not skip it.
pub async fn probe_node() -> Result<(), String> {
    if std::env::var("JAS_SKIP_IN_CLUSTER").as_deref() == Ok("1") {
        return Err("JAS_SKIP_IN_CLUSTER=1".to_owned());
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/cluster");
    let deadline = std::time::Instant::now() + BUSY_PATIENCE;
    loop {
        let output = tokio::process::Command::new(&script)
            .arg("check")
            .output()
            .await
            .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
        let why = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        if output.status.success() {
            return Ok(());
        }
        if !why.contains("another cluster runs on this machine") {
            return Err(why);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{why}; stop it (scripts/cluster down --dir DIR) and run the suite again"
        );
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}

/// How long an earlier test binary's cluster may take to go (its watchdog looks every second).
const BUSY_PATIENCE: std::time::Duration = std::time::Duration::from_secs(90);

async fn start_node() -> Cluster {
    let dir = std::env::temp_dir().join(format!("jas-cluster-{}", std::process::id()));
    let exports = run_up("scripts/cluster", &dir).await;
    let export = |name: &str| {
        exports
            .iter()
            .find_map(|(key, value)| (key == name).then(|| PathBuf::from(value)))
            .unwrap_or_else(|| panic!("no `export {name}=` line from scripts/cluster up"))
    };
    Cluster::Node {
        kubeconfig: export("KUBECONFIG"),
        containerd: export("JAS_CONTAINERD_SOCKET"),
        dir,
    }
}

async fn start(suffix: &str) -> Cluster {
    if std::env::var(USE_EXISTING_CLUSTER).as_deref() == Ok("1") {
        assert!(
            std::env::var_os("KUBECONFIG").is_some(),
            "{USE_EXISTING_CLUSTER}=1 needs KUBECONFIG to name the cluster to use"
        );
        return Cluster::Existing;
    }
    start_control_plane(suffix).await
}

async fn start_control_plane(suffix: &str) -> Cluster {
    let dir =
        std::env::temp_dir().join(format!("jas-control-plane-{}{suffix}", std::process::id()));
    let exports = run_up("scripts/control-plane", &dir).await;
    let kubeconfig = exports
        .into_iter()
        .find_map(|(key, value)| (key == "KUBECONFIG").then_some(value))
        .expect("an `export KUBECONFIG=` line from control-plane up");
    Cluster::ControlPlane {
        dir,
        kubeconfig: PathBuf::from(kubeconfig),
    }
}

/// Runs `SCRIPT up --dir DIR --watch-pid <this process>` and gives its `export KEY=VALUE` lines.
async fn run_up(script: &str, dir: &Path) -> Vec<(String, String)> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
    let output = tokio::process::Command::new(&script)
        .arg("up")
        .arg("--dir")
        .arg(dir)
        .arg("--watch-pid")
        .arg(std::process::id().to_string())
        .output()
        .await
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{} up failed ({}):\n{stderr}",
        script.display(),
        output.status
    );
    eprint!("{stderr}");
    stdout
        .lines()
        .filter_map(|line| line.strip_prefix("export ")?.split_once('='))
        .map(|(key, value)| (key.to_owned(), value.to_owned()))
        .collect()
}

impl Cluster {
    /// Client configuration for the cluster admin, with `namespace` as default namespace.
    ///
    /// A `kube::Client` is bound to the tokio runtime it was made on and every `#[tokio::test]`
    /// has its own runtime, so tests make their own clients from this rather than share one.
    pub async fn config(&self, namespace: &str) -> Config {
        let mut config = match self {
            Cluster::ControlPlane { kubeconfig, .. } | Cluster::Node { kubeconfig, .. } => {
                let file = Kubeconfig::read_from(kubeconfig)
                    .unwrap_or_else(|e| panic!("cannot read {}: {e}", kubeconfig.display()));
                Config::from_custom_kubeconfig(file, &KubeConfigOptions::default())
                    .await
                    .unwrap_or_else(|e| panic!("bad kubeconfig {}: {e}", kubeconfig.display()))
            }
            Cluster::Existing => Config::infer()
                .await
                .unwrap_or_else(|e| panic!("cannot load KUBECONFIG: {e}")),
        };
        config.default_namespace = namespace.to_owned();
        config
    }

    /// An admin client whose default namespace is `namespace`.
    pub async fn client(&self, namespace: &str) -> Client {
        Client::try_from(self.config(namespace).await).expect("client from a valid kubeconfig")
    }

    /// The admin kubeconfig file, for processes started by tests (e.g. the operator binary).
    /// `None` for an existing cluster: there `KUBECONFIG` already names it.
    pub fn kubeconfig(&self) -> Option<&Path> {
        match self {
            Cluster::ControlPlane { kubeconfig, .. } | Cluster::Node { kubeconfig, .. } => {
                Some(kubeconfig)
            }
            Cluster::Existing => None,
        }
    }

    /// The installation identity an operator derives from this cluster (no `--installation`).
    pub async fn installation(&self) -> Installation {
        let client = self.client("default").await;
        controller::cluster_installation(&client)
            .await
            .expect("the kube-system namespace gives the cluster's installation identity")
    }

    /// The labels of the sync `namespace/name` of an operator on this cluster.
    pub async fn sync_labels(&self, namespace: &str, name: &str) -> SyncLabels {
        SyncLabels::of(&self.installation().await, namespace, name)
    }

    /// Whether this is a cluster the suite did not start (and must clean up after itself in).
    pub fn is_existing(&self) -> bool {
        matches!(self, Cluster::Existing)
    }
}
