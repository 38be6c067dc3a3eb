//! Lifecycle paths a user takes, against the operator binary, a real control plane and the
//! emulator: deleting in file order (Secret, connection, sync) still applies the sync's policy; a
//! deletion that cannot reach Jira says why and how to give up, and giving up lets the sync go
//! without touching its tickets; an assignee Jira does not know is a Warning Event.

mod support;

use std::time::Duration;

use jira_active_sync::api::{JiraActiveSync, JiraConnection};
use jira_active_sync::jira::StatusCategory;
use k8s_openapi::api::events::v1::Event;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use serde_json::json;
use support::emulator::SEED_TOKEN;
use support::operator::Operator;
use support::site::CONNECTION;
use support::{Mode, Site, eventually};

/// How long anything may take to converge on a slow CI machine.
const PATIENCE: Duration = Duration::from_secs(60);

/// A site with the operator watching it.
async fn site_with_operator(test: &str) -> (Site, Operator) {
    let site = Site::new(test, SEED_TOKEN, json!({})).await;
    let options = site.operator_options("5s");
    let operator = Operator::start(Mode::Process, &options, site.log_path()).await;
    (site, operator)
}

/// A site whose sync `s` (`deletionPolicy: Close`) made the ticket of its task `t1` of `check`;
/// gives the ticket's key too.
async fn closing_sync_with_a_ticket(test: &str, check: &str) -> (Site, Operator, String) {
    let (site, operator) = site_with_operator(test).await;
    site.task("t1", check, None).await;
    let spec = json!({"connectionRef": {"name": CONNECTION}, "scope": {"checks": [check]},
                      "jira": {"project": "SEC"}, "deletionPolicy": "Close"});
    site.sync("s", spec).await;
    let key = eventually("the task records its ticket", PATIENCE, || async {
        site.recorded_keys().await.remove("t1")
    })
    .await;
    (site, operator, key)
}

#[tokio::test]
async fn a_blocked_deletion_names_the_way_out_and_the_annotation_lets_the_sync_go() {
    let (site, operator, key) = closing_sync_with_a_ticket("abandon", "abandon").await;
    // Jira is down for maintenance: the Close policy cannot be carried out.
    let outage = json!({"path": "/rest/*", "count": 100000, "action": "error", "status": 503,
                        "message": "maintenance"});
    site.jira.fault(outage).await;
    let syncs = site.ns.api::<JiraActiveSync>();
    syncs
        .delete("s", &DeleteParams::default())
        .await
        .expect("sync deleted");
    let (_, reason, message) = eventually("the deletion says why it waits", PATIENCE, || async {
        site.condition("s", "Ready")
            .await
            .filter(|(status, _, message)| status == "False" && message.contains("deletion"))
    })
    .await;
    assert_eq!(reason, "JiraUnavailable", "{message}");
    assert!(
        message.contains("retrying in") && message.contains("activesync.dev/abandon-cleanup=true"),
        "{message}"
    );
    eventually("the deletion backs off", PATIENCE, || async {
        let (_, _, message) = site.condition("s", "Ready").await?;
        message.contains("; retrying in 30s;").then_some(())
    })
    .await;
    let annotate = json!({"metadata": {"annotations": {"activesync.dev/abandon-cleanup": "true"}}});
    syncs
        .patch("s", &PatchParams::default(), &Patch::Merge(&annotate))
        .await
        .expect("annotated");
    // The annotation wakes the sync: it goes well before its next attempt, 30 s away.
    site.sync_gone("s", Duration::from_secs(10)).await;
    site.jira.clear_faults().await;
    let client = site.jira.client(SEED_TOKEN);
    let ticket = eventually("Jira is back", PATIENCE, || async {
        client.get_issue(&key).await.ok()
    })
    .await;
    assert_ne!(
        ticket.status.category,
        StatusCategory::Done,
        "an abandoned cleanup leaves the tickets as they are"
    );
    operator.remove_log();
}

/// `kubectl delete -f examples/` deletes in file order: the Secret, then the connection, then the
/// sync. The connection stays (in-use finalizer) until the sync applied `deletionPolicy: Close`
/// with the credentials last loaded, then goes.
#[tokio::test]
async fn deleting_in_file_order_applies_the_sync_policy_then_lets_the_connection_go() {
    let (site, operator, key) = closing_sync_with_a_ticket("file-order", "order").await;
    let connections = site.ns.api::<JiraConnection>();
    eventually("the connection is protected", PATIENCE, || async {
        let connection = connections.get(CONNECTION).await.ok()?;
        let finalizers = connection.metadata.finalizers.unwrap_or_default();
        finalizers
            .iter()
            .any(|f| f == "activesync.dev/in-use")
            .then_some(())
    })
    .await;
    let secrets = site.ns.api::<k8s_openapi::api::core::v1::Secret>();
    secrets
        .delete("jira-credentials", &DeleteParams::default())
        .await
        .expect("secret deleted");
    connections
        .delete(CONNECTION, &DeleteParams::default())
        .await
        .expect("connection deleted");
    let syncs = site.ns.api::<JiraActiveSync>();
    syncs
        .delete("s", &DeleteParams::default())
        .await
        .expect("sync deleted");
    eventually("the sync and then the connection go", PATIENCE, || async {
        let sync = syncs.get_opt("s").await.ok()?;
        let connection = connections.get_opt(CONNECTION).await.ok()?;
        (sync.is_none() && connection.is_none()).then_some(())
    })
    .await;
    let ticket = site
        .jira
        .client(SEED_TOKEN)
        .get_issue(&key)
        .await
        .expect("ticket");
    assert_eq!(
        ticket.status.category,
        StatusCategory::Done,
        "deletionPolicy: Close applied with the credentials last loaded"
    );
    operator.remove_log();
}

#[tokio::test]
async fn an_assignee_jira_does_not_know_is_a_warning_event() {
    let (site, operator) = site_with_operator("assignee").await;
    site.task("t1", "assignee", Some("nobody@example.com"))
        .await;
    site.individual_sync("s", "assignee").await;
    let event = eventually("an UnknownAssignee Event", PATIENCE, || async {
        let events = site.ns.api::<Event>();
        let listed = events.list(&ListParams::default()).await.ok()?;
        listed
            .items
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("UnknownAssignee"))
    })
    .await;
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    let note = event.note.unwrap_or_default();
    assert!(
        note.contains("nobody@example.com") && note.contains("/t1"),
        "{note}"
    );
    let key = site.recorded_keys().await.remove("t1").expect("a ticket");
    let ticket = site
        .jira
        .client(SEED_TOKEN)
        .get_issue(&key)
        .await
        .expect("ticket");
    assert_eq!(ticket.assignee, None, "the ticket stays unassigned");
    operator.remove_log();
}

/// A sync `s` with `deletionPolicy: Delete` over the tasks of `check`.
async fn deleting_sync(site: &Site, check: &str) {
    let spec = json!({"connectionRef": {"name": CONNECTION}, "scope": {"checks": [check]},
                      "jira": {"project": "SEC"}, "deletionPolicy": "Delete"});
    site.sync("s", spec).await;
}

/// Whether Jira still has the ticket `key`.
async fn exists(site: &Site, key: &str) -> bool {
    match site.jira.client(SEED_TOKEN).get_issue(key).await {
        Ok(_) => true,
        Err(jira_active_sync::jira::JiraError::NotFound { .. }) => false,
        Err(e) => panic!("reading {key}: {e}"),
    }
}

/// A ticket the sync released (its task was deleted) keeps a released label, and
/// `deletionPolicy: Delete` still deletes it with the rest.
#[tokio::test]
async fn delete_reaches_the_tickets_the_sync_released_earlier() {
    let (site, operator) = site_with_operator("released").await;
    let names = site.tasks(3, "released").await;
    deleting_sync(&site, "released").await;
    let keys = eventually("every task records its ticket", PATIENCE, || async {
        let keys = site.recorded_keys().await;
        (keys.len() == names.len()).then_some(keys)
    })
    .await;
    site.ns
        .api::<jira_active_sync::api::ComplianceTask>()
        .delete(&names[0], &DeleteParams::default())
        .await
        .expect("task deleted");
    let released = &keys[&names[0]];
    let client = site.jira.client(SEED_TOKEN);
    let labels = eventually("the ticket is released", PATIENCE, || async {
        let issue = client.get_issue(released).await.ok()?;
        (issue.status.category == StatusCategory::Done
            && !issue.labels.iter().any(|l| l.starts_with("jas@")))
        .then_some(issue.labels)
    })
    .await;
    assert!(
        labels.iter().any(|l| l.starts_with("jas-released@")),
        "a released ticket keeps the released label: {labels:?}"
    );
    site.delete_sync("s", PATIENCE).await;
    for key in keys.values() {
        assert!(
            !exists(&site, key).await,
            "{key} survived deletionPolicy: Delete"
        );
    }
    operator.remove_log();
}

/// The operator crashes right after making the tickets; Jira's search does not show them yet. A new
/// process deletes the sync: it reaches the tickets through the keys the tasks record, and the
/// creates its status records keep the finalizer until search shows them.
#[tokio::test]
async fn delete_reaches_tickets_search_does_not_show_yet() {
    let site = Site::new("lagging", SEED_TOKEN, json!({})).await;
    site.jira.config(json!({"searchLagMs": 20_000})).await;
    let names = site.tasks(3, "lagging").await;
    deleting_sync(&site, "lagging").await;
    let options = site.operator_options("60s");
    let operator = Operator::start(Mode::Process, &options, site.log_path()).await;
    let keys = eventually("every task records its ticket", PATIENCE, || async {
        let keys = site.recorded_keys().await;
        (keys.len() == names.len()).then_some(keys)
    })
    .await;
    operator.kill().await;
    let operator = Operator::start(Mode::Process, &options, site.log_path()).await;
    site.delete_sync("s", PATIENCE).await;
    for key in keys.values() {
        assert!(
            !exists(&site, key).await,
            "{key} survived deletionPolicy: Delete"
        );
    }
    site.jira.config(json!({"searchLagMs": 0})).await;
    let left: Vec<(String, Vec<String>)> = site
        .tickets("s")
        .await
        .into_iter()
        .map(|t| (t.key, t.labels))
        .collect();
    assert!(
        left.is_empty(),
        "no ticket of the sync is left: {left:?} (recorded {keys:?}); see {} and {}",
        site.log_path().display(),
        site.dump_requests().await.display()
    );
    operator.remove_log();
}

/// `kubectl delete namespace`: the namespace controller deletes the Secret, the connection and the
/// sync at once. The sync applies `deletionPolicy: Close` with the credentials last loaded, the
/// connection waits for it, and the namespace finishes terminating.
#[tokio::test]
async fn deleting_the_namespace_applies_the_sync_policy_and_finishes() {
    let (site, operator, key) = closing_sync_with_a_ticket("ns-delete", "nsdel").await;
    let namespaces =
        kube::Api::<k8s_openapi::api::core::v1::Namespace>::all(site.ns.client.clone());
    namespaces
        .delete(&site.ns.name, &DeleteParams::default())
        .await
        .expect("namespace deleted");
    eventually("the namespace goes", PATIENCE * 2, || async {
        namespaces
            .get_opt(&site.ns.name)
            .await
            .expect("get")
            .is_none()
            .then_some(())
    })
    .await;
    let ticket = site
        .jira
        .client(SEED_TOKEN)
        .get_issue(&key)
        .await
        .expect("ticket");
    assert_eq!(
        ticket.status.category,
        StatusCategory::Done,
        "deletionPolicy: Close applied before the namespace went"
    );
    operator.remove_log();
}
