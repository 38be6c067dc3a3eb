//! `scripts/cluster`'s own promises: a start with the binaries cached takes seconds, and when the
//! process it serves dies, its watchdog removes everything the cluster made: its processes, the
//! Pods with their network namespaces, the mounts under its directory, the bridge, the `KUBE-*`
//! iptables chains, and the directory itself. Skipped, saying why, where the machine cannot run
//! the cluster (as the in-cluster suite is).

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::PostParams;
use serde_json::json;
use support::cluster::{Cluster, probe_node};
use support::eventually;

/// How long a Pod may take to start, and the teardown to finish, on a busy machine.
const PATIENCE: Duration = Duration::from_secs(120);

/// The pause image `scripts/cluster up` imports (Kubernetes' pause.c, built here).
const PAUSE_IMAGE: &str = "localhost/jas-pause:v1.33.13";

/// What the cluster made that must go with it.
#[derive(Debug, PartialEq, Eq)]
struct Made {
    bridge: bool,
    kube_chains: usize,
    mounts: usize,
    processes: usize,
    dir: bool,
}

impl Made {
    fn now(dir: &Path, pids: &[u32]) -> Made {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        let prefix = format!("{}/", dir.display());
        Made {
            bridge: Path::new("/sys/class/net/jas0").exists(),
            kube_chains: kube_chains(),
            mounts: mountinfo
                .lines()
                .filter(|l| l.split(' ').nth(4).is_some_and(|m| m.starts_with(&prefix)))
                .count(),
            processes: pids.iter().filter(|p| running(**p)).count(),
            dir: dir.exists(),
        }
    }

    fn nothing() -> Made {
        Made {
            bridge: false,
            kube_chains: 0,
            mounts: 0,
            processes: 0,
            dir: false,
        }
    }
}

/// The `KUBE-*` chains of the nat and filter tables.
fn kube_chains() -> usize {
    ["nat", "filter"]
        .iter()
        .map(|table| {
            let listed = std::process::Command::new("iptables")
                .args(["-w", "-t", table, "-S"])
                .output()
                .expect("iptables runs");
            let rules = String::from_utf8_lossy(&listed.stdout).into_owned();
            rules.lines().filter(|l| l.starts_with("-N KUBE-")).count()
        })
        .sum()
}

/// Whether `pid` is a live (not zombie) process.
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map(|s| {
            !s.lines()
                .any(|l| l.starts_with("State:") && l.contains('Z'))
        })
        .unwrap_or(false)
}

/// The processes the cluster started, from the pid files in its directory.
fn pids_in(dir: &Path) -> Vec<u32> {
    std::fs::read_dir(dir)
        .expect("the cluster's directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "pid"))
        .filter_map(|p| std::fs::read_to_string(p).ok()?.trim().parse().ok())
        .collect()
}

#[tokio::test]
async fn the_watchdog_removes_everything_the_cluster_made_when_its_caller_dies() {
    let test = "the_watchdog_removes_everything_the_cluster_made_when_its_caller_dies";
    if let Err(why) = probe_node().await {
        eprintln!("SKIPPED {test}: no single-node cluster on this machine: {why}");
        return;
    }
    let mut caller = tokio::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .expect("a stand-in caller");
    let watched = caller.id().expect("its pid").to_string();
    let dir = std::env::temp_dir().join(format!("jas-cluster-teardown-{}", std::process::id()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/cluster");
    let started = Instant::now();
    let up = tokio::process::Command::new(&script)
        .args(["up", "--watch-pid", &watched, "--dir"])
        .arg(&dir)
        .output()
        .await
        .expect("scripts/cluster runs");
    let stderr = String::from_utf8_lossy(&up.stderr);
    assert!(up.status.success(), "scripts/cluster up failed:\n{stderr}");
    eprintln!(
        "scripts/cluster up, binaries cached: {:?}",
        started.elapsed()
    );
    let stdout = String::from_utf8_lossy(&up.stdout).into_owned();
    let export = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("export {name}=")))
            .map(PathBuf::from)
            .unwrap_or_else(|| panic!("no export {name}= in:\n{stdout}"))
    };
    let cluster = Cluster::Node {
        dir: dir.clone(),
        kubeconfig: export("KUBECONFIG"),
        containerd: export("JAS_CONTAINERD_SOCKET"),
    };
    pod_runs(&cluster).await;
    let pids = pids_in(&dir);
    let made = Made::now(&dir, &pids);
    assert!(
        made.bridge && made.kube_chains > 0 && made.mounts > 0 && made.processes >= 5 && made.dir,
        "the cluster made its bridge, chains, mounts and processes: {made:?}"
    );

    caller.kill().await.expect("the caller dies");
    caller.wait().await.expect("reaped");
    eventually("the watchdog to remove the cluster", PATIENCE, || async {
        (Made::now(&dir, &pids) == Made::nothing()).then_some(())
    })
    .await;
}

/// Runs a Pod (the pause image) until it is Running: a sandbox with its network namespace, veth
/// and mounts for the teardown to remove.
async fn pod_runs(cluster: &Cluster) {
    let pods: Api<Pod> = Api::namespaced(cluster.client("default").await, "default");
    let pod = json!({"metadata": {"name": "teardown"},
                     "spec": {"containers": [{"name": "pause", "image": PAUSE_IMAGE,
                                              "imagePullPolicy": "Never"}]}});
    let pod: Pod = serde_json::from_value(pod).expect("a Pod");
    pods.create(&PostParams::default(), &pod)
        .await
        .expect("create the Pod");
    eventually("the Pod to run", PATIENCE, || async {
        let pod = pods.get("teardown").await.ok()?;
        let phase = pod.status?.phase?;
        (phase == "Running").then_some(())
    })
    .await;
}
