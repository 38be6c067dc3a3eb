//! The test harness itself: the control plane is the real thing, with RBAC enforced, and it
//! leaves no process or file behind once the process it serves is gone.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use kube::api::{ListParams, ObjectMeta, PostParams};
use kube::{Api, Client};
use support::TestNamespace;
use support::cluster::{Cluster, cluster};

#[tokio::test]
async fn apiserver_reports_the_kubernetes_release_it_was_built_from() {
    let ns = TestNamespace::new("version").await;
    let info = ns.client.apiserver_version().await.unwrap();
    if cluster().await.is_existing() {
        assert_eq!(
            info.major, "1",
            "an existing cluster still is Kubernetes 1.x: {info:?}"
        );
        return;
    }
    // k8s-openapi is built with feature v1_33; the control plane must serve that release.
    assert_eq!(
        (info.major.as_str(), info.minor.as_str()),
        ("1", "33"),
        "{info:?}"
    );
    assert!(info.git_version.starts_with("v1.33."), "{info:?}");
    assert_eq!(info.git_tree_state, "clean", "{info:?}");
}

#[tokio::test]
async fn rbac_denies_a_service_account_until_a_role_binding_grants_it() {
    let ns = TestNamespace::new("rbac").await;
    let account = ns
        .api::<ServiceAccount>()
        .create(
            &PostParams::default(),
            &named("reader", ServiceAccount::default()),
        )
        .await
        .unwrap();
    let name = account.metadata.name.unwrap();
    // A token signed with the control plane's service-account key.
    let token = ns
        .api::<ServiceAccount>()
        .create_token_request(
            &name,
            &PostParams::default(),
            &TokenRequest {
                spec: TokenRequestSpec {
                    expiration_seconds: Some(600),
                    ..TokenRequestSpec::default()
                },
                ..TokenRequest::default()
            },
        )
        .await
        .unwrap()
        .status
        .unwrap()
        .token;
    let as_reader = service_account_client(cluster().await, &ns.name, &token).await;
    let config_maps = Api::<ConfigMap>::namespaced(as_reader, &ns.name);

    let denied = config_maps.list(&ListParams::default()).await.unwrap_err();
    assert!(
        matches!(&denied, kube::Error::Api(status) if status.code == 403),
        "unbound service account must be forbidden, got {denied:?}"
    );

    let role = Role {
        rules: Some(vec![PolicyRule {
            api_groups: Some(vec![String::new()]),
            resources: Some(vec!["configmaps".to_owned()]),
            verbs: vec!["list".to_owned()],
            ..PolicyRule::default()
        }]),
        ..named("configmap-reader", Role::default())
    };
    ns.api::<Role>()
        .create(&PostParams::default(), &role)
        .await
        .unwrap();
    let binding = RoleBinding {
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_owned(),
            kind: "Role".to_owned(),
            name: "configmap-reader".to_owned(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".to_owned(),
            name: name.clone(),
            namespace: Some(ns.name.clone()),
            ..Subject::default()
        }]),
        ..named("reader-reads-configmaps", RoleBinding::default())
    };
    ns.api::<RoleBinding>()
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();

    // The RBAC authorizer learns of new bindings through its informers, a moment later.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match config_maps.list(&ListParams::default()).await {
            Ok(_) => break,
            Err(kube::Error::Api(status)) if status.code == 403 && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("bound service account still cannot list configmaps: {e:?}"),
        }
    }
}

#[tokio::test]
async fn each_test_namespace_is_its_own() {
    let first = TestNamespace::new("isolation").await;
    let second = TestNamespace::new("isolation").await;
    assert_ne!(first.name, second.name);
    first
        .api::<ConfigMap>()
        .create(
            &PostParams::default(),
            &named("only-in-first", ConfigMap::default()),
        )
        .await
        .unwrap();
    let in_second = second
        .api::<ConfigMap>()
        .get_opt("only-in-first")
        .await
        .unwrap();
    assert!(
        in_second.is_none(),
        "{} leaks into {}",
        first.name,
        second.name
    );
    let default_namespaced = Api::<ConfigMap>::default_namespaced(first.client.clone());
    assert!(
        default_namespaced
            .get_opt("only-in-first")
            .await
            .unwrap()
            .is_some()
    );
}

/// Kills the "test process" of a second control plane with SIGKILL (no chance to clean up, as
/// after a panic with `panic = abort` or an OOM kill) and checks that etcd, kube-apiserver and
/// their files are gone soon after.
#[tokio::test]
async fn control_plane_goes_away_when_the_process_it_serves_is_killed() {
    if cluster().await.is_existing() {
        eprintln!("skipped: JAS_TEST_USE_EXISTING_CLUSTER=1 (the suite starts no control plane)");
        return;
    }
    let mut stand_in = tokio::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .unwrap();
    let watched = stand_in.id().unwrap();
    let dir =
        std::env::temp_dir().join(format!("jas-control-plane-watchdog-{}", std::process::id()));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/control-plane");
    let up = tokio::process::Command::new(&script)
        .args(["up", "--watch-pid", &watched.to_string(), "--dir"])
        .arg(&dir)
        .output()
        .await
        .unwrap();
    assert!(
        up.status.success(),
        "{}",
        String::from_utf8_lossy(&up.stderr)
    );
    let pids = ["etcd", "kube-apiserver", "watchdog"].map(|name| pid_in(&dir, name));
    for pid in pids {
        assert!(
            running(pid),
            "process {pid} of the second control plane is not running"
        );
    }

    stand_in.kill().await.unwrap();
    stand_in.wait().await.unwrap();

    let deadline = Instant::now() + Duration::from_secs(20);
    while (pids.into_iter().any(running) || dir.exists()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for pid in pids {
        assert!(
            !running(pid),
            "process {pid} outlived the process it served"
        );
    }
    assert!(
        !dir.exists(),
        "{} outlived the process it served",
        dir.display()
    );
}

fn pid_in(dir: &Path, name: &str) -> u32 {
    let file: PathBuf = dir.join(format!("{name}.pid"));
    std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
        .trim()
        .parse()
        .unwrap()
}

/// Whether `pid` is a live (not zombie) process.
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .map(|status| {
            !status
                .lines()
                .any(|l| l.starts_with("State:") && l.contains('Z'))
        })
        .unwrap_or(false)
}

/// A client that authenticates with a bearer token only (no admin certificate).
async fn service_account_client(cluster: &Cluster, namespace: &str, token: &str) -> Client {
    let mut config = cluster.config(namespace).await;
    config.auth_info = kube::config::AuthInfo::default();
    config.headers.push((
        http::header::AUTHORIZATION,
        http::HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    ));
    Client::try_from(config).unwrap()
}

fn named<K: kube::Resource>(name: &str, mut object: K) -> K {
    *object.meta_mut() = ObjectMeta {
        name: Some(name.to_owned()),
        ..ObjectMeta::default()
    };
    object
}
