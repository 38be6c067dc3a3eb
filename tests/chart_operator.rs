//! The chart's RBAC is enough for the real operator: after `helm install` (watching one
//! namespace), the operator binary runs with the command line and environment of the installed
//! Deployment, authenticated by a token of the chart's own ServiceAccount (so the API server
//! enforces exactly the chart's RBAC), and carries a sync through its whole life against the
//! Jira emulator: leader Lease, tickets created and recorded, status and Events written, a task
//! completed from Jira (jiraCompletion: CompleteTasks), and the finalizer's Delete policy.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::events::v1::Event;
use kube::api::{DeleteParams, ListParams};
use serde_json::json;
use support::cluster::{Cluster, cluster};
use support::emulator::SEED_TOKEN;
use support::helm::{helm_ok, release_deployment};
use support::operator::{Operator, free_port, lease_holder};
use support::site::CONNECTION;
use support::wait::within;
use support::{Site, TestNamespace, eventually};

use jira_active_sync::api::{ComplianceTask, JiraActiveSync, TaskState};
use jira_active_sync::jira::{StatusCategory, TransitionTarget};

const CHART: &str = "charts/jira-active-sync";
const RELEASE: &str = "rbac";
const SYNC: &str = "rbac-sync";
const TASKS: usize = 4;

/// A kubeconfig for the test cluster that authenticates with `token` instead of the admin's
/// client certificate.
fn token_kubeconfig(cluster: &Cluster, token: &str, path: &Path) {
    let admin = match cluster.kubeconfig() {
        Some(path) => path.to_path_buf(),
        None => PathBuf::from(std::env::var_os("KUBECONFIG").expect("KUBECONFIG")),
    };
    let text = std::fs::read_to_string(&admin).expect("read the admin kubeconfig");
    let mut config: serde_yaml::Value = serde_yaml::from_str(&text).expect("kubeconfig YAML");
    config["users"] = serde_yaml::to_value(json!([{"name": "operator", "user": {"token": token}}]))
        .expect("users");
    if let Some(contexts) = config["contexts"].as_sequence_mut() {
        for context in contexts {
            context["context"]["user"] = "operator".into();
        }
    }
    std::fs::write(path, serde_yaml::to_string(&config).expect("kubeconfig")).expect("write");
}

#[tokio::test]
async fn the_operator_does_its_whole_job_with_the_charts_service_account_and_nothing_more() {
    let release_ns = TestNamespace::new("chart-operator").await;
    let site = Site::new("chart-operator-team", SEED_TOKEN, json!({})).await;
    let team = &site.ns;
    let cluster = cluster().await;
    let admin_kubeconfig = cluster.kubeconfig();
    let watch = format!("watchNamespaces={{{}}}", team.name);
    helm_ok(
        &[
            "install",
            RELEASE,
            CHART,
            "--namespace",
            &release_ns.name,
            "--set",
            &watch,
        ],
        admin_kubeconfig,
    )
    .await;

    // The command line and environment the chart gives the operator's container.
    let deployment = release_deployment(&release_ns, RELEASE).await;
    let pod = deployment
        .spec
        .and_then(|spec| spec.template.spec)
        .expect("pod spec");
    let container = &pod.containers[0];
    let args: Vec<String> = container
        .args
        .clone()
        .unwrap_or_default()
        .into_iter()
        // Tests listen on loopback only.
        .map(|arg| {
            if arg == "0.0.0.0:8080" {
                free_port().to_string()
            } else {
                arg
            }
        })
        .collect();
    let env: Vec<(String, String)> = container
        .env
        .iter()
        .flatten()
        .filter_map(|var| Some((var.name.clone(), var.value.clone()?)))
        .collect();
    let env: Vec<(&str, &str)> = env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain([
            ("POD_NAME", "operator-0"),
            ("POD_NAMESPACE", release_ns.name.as_str()),
            ("RUST_LOG", "info,jira_active_sync=debug"),
        ])
        .collect();
    let lease = env
        .iter()
        .find(|(name, _)| *name == "JAS_LEASE_NAME")
        .map(|(_, value)| value.to_string())
        .expect("JAS_LEASE_NAME");

    // Authenticate as the ServiceAccount itself, with a token the API server issues for it.
    let account = pod
        .service_account_name
        .clone()
        .expect("serviceAccountName");
    let token = release_ns.service_account_token(&account).await;
    let kubeconfig = std::env::temp_dir().join(format!("{}-operator.kubeconfig", release_ns.name));
    token_kubeconfig(cluster, &token, &kubeconfig);

    let names = site.tasks(TASKS, "rbac").await;
    site.sync(
        SYNC,
        json!({"connectionRef": {"name": CONNECTION}, "scope": {"checks": ["rbac"]},
               "jira": {"project": "SEC", "issueType": "Task"}, "pollInterval": "10s",
               "jiraCompletion": "CompleteTasks", "deletionPolicy": "Delete"}),
    )
    .await;
    let log = std::env::temp_dir().join(format!("{}-operator-0.log", release_ns.name));
    let mut replica = Operator::spawn(&args, &env, Some(&kubeconfig), log);

    eventually(
        "the operator takes its Lease",
        Duration::from_secs(30),
        || async {
            (lease_holder(&release_ns.client, &release_ns.name, &lease)
                .await
                .as_deref()
                == Some("operator-0"))
            .then_some(())
        },
    )
    .await;
    let keys = within(Duration::from_secs(60), || async {
        let keys = site.recorded_keys().await;
        (keys.len() == TASKS).then_some(keys)
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "tickets not recorded within 60 s; operator log:\n{}",
            replica.log_text()
        )
    });
    assert_eq!(site.tickets(SYNC).await.len(), TASKS);

    eventually(
        "the sync reports Ready",
        Duration::from_secs(30),
        || async {
            let (status, ..) = site.condition(SYNC, "Ready").await?;
            (status == "True").then_some(())
        },
    )
    .await;
    let events = team
        .api::<Event>()
        .list(&ListParams::default())
        .await
        .expect("events");
    assert!(
        events
            .items
            .iter()
            .any(|event| event.reason.as_deref() == Some("TicketCreated")),
        "no TicketCreated Event: {:?}",
        events.items.iter().map(|e| &e.reason).collect::<Vec<_>>()
    );

    // Done in Jira: with jiraCompletion CompleteTasks the operator patches the task's spec.
    let first = &names[0];
    site.jira
        .client(SEED_TOKEN)
        .transition(
            &keys[first],
            &TransitionTarget::Category(StatusCategory::Done),
            None,
            None,
        )
        .await
        .expect("done in Jira");
    let tasks = team.api::<ComplianceTask>();
    eventually(
        "the task is marked Completed",
        Duration::from_secs(60),
        || async {
            let task = tasks.get(first).await.expect("get the task");
            (task.spec.state == TaskState::Completed).then_some(())
        },
    )
    .await;

    // The finalizer runs the Delete policy, then lets the sync go.
    let syncs = team.api::<JiraActiveSync>();
    syncs
        .delete(SYNC, &DeleteParams::default())
        .await
        .expect("delete the sync");
    eventually("the sync is deleted", Duration::from_secs(60), || async {
        syncs
            .get_opt(SYNC)
            .await
            .expect("get the sync")
            .is_none()
            .then_some(())
    })
    .await;
    assert!(
        site.tickets(SYNC).await.is_empty(),
        "deletionPolicy Delete left tickets"
    );

    replica.terminate().await;
    let log = replica.log_text();
    assert!(
        !log.to_lowercase().contains("forbidden"),
        "the API server refused the operator something:\n{log}"
    );
    assert_eq!(
        lease_holder(&release_ns.client, &release_ns.name, &lease).await,
        None
    );
    // No node runs the pre-delete hook's Job here: the in-cluster suite runs it.
    let uninstall = [
        "uninstall",
        RELEASE,
        "--namespace",
        &release_ns.name,
        "--no-hooks",
    ];
    helm_ok(&uninstall, admin_kubeconfig).await;
    replica.remove_log();
    let _ = std::fs::remove_file(&kubeconfig);
}
