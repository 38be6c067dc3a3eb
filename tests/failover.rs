//! Failover of two operator replicas (`jira-active-sync run --leader-election`, real processes)
//! against a real kube-apiserver and the Jira emulator over HTTP: the leader is killed in the
//! middle of a sync, right after Jira created its tickets but before it recorded them on the
//! tasks; the other replica takes over within the lease duration, finishes the sync, and no
//! ticket is duplicated. Then SIGTERM stops the new leader cleanly and frees the Lease.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::json;

use jira_active_sync::api::JiraConnection;
use jira_active_sync::planner::TicketIdentity;
use support::cluster::cluster;
use support::emulator::SEED_TOKEN;
use support::operator::{Operator, free_port, lease_holder};
use support::site::CONNECTION;
use support::wait::within;
use support::{Site, eventually};

/// Cloud's bulk create endpoint.
const BULK_CREATE: &str = "/rest/api/3/issue/bulk";

const LEASE: &str = "failover-leader";
const LEASE_DURATION_SECS: u64 = 4;
const SYNC: &str = "failover-sync";
const TASKS: usize = 30;

async fn replica(site: &Site, identity: &str) -> Operator {
    let args: Vec<String> = [
        "run",
        "--listen",
        &free_port().to_string(),
        "--namespace",
        &site.ns.name,
        "--leader-election",
        "--lease-duration",
        &format!("{LEASE_DURATION_SECS}s"),
    ]
    .map(str::to_owned)
    .into();
    let env = [
        ("POD_NAME", identity),
        ("POD_NAMESPACE", site.ns.name.as_str()),
        ("JAS_LEASE_NAME", LEASE),
        ("RUST_LOG", "info,jira_active_sync=debug"),
    ];
    let log = std::env::temp_dir().join(format!("{}-{identity}.log", site.ns.name));
    Operator::spawn(&args, &env, cluster().await.kubeconfig(), log)
}

#[tokio::test]
async fn killing_the_leader_mid_sync_hands_over_without_duplicate_tickets() {
    let site = Site::new("failover", SEED_TOKEN, json!({})).await;
    let ns = &site.ns;
    // The leader's first bulk create goes through in Jira, but its answer never arrives: the
    // tickets exist while no task records them, which is when a crash is most dangerous.
    site.jira
        .fault(json!({"method": "POST", "path": BULK_CREATE, "count": 1, "action": "dropResponse"}))
        .await;

    let first = replica(&site, "replica-a").await;
    eventually("replica-a leads", Duration::from_secs(30), || async {
        (lease_holder(&ns.client, &ns.name, LEASE).await.as_deref() == Some("replica-a"))
            .then_some(())
    })
    .await;
    let mut second = replica(&site, "replica-b").await;
    site.tasks(TASKS, "failover").await;
    site.individual_sync(SYNC, "failover").await;

    // The emulator logs the dropped answer with the status it would have sent.
    let created = within(Duration::from_secs(60), || async {
        let requests = site.jira.requests(0).await;
        requests
            .iter()
            .any(|r| r["method"] == "POST" && r["path"] == BULK_CREATE)
            .then_some(())
    })
    .await;
    if created.is_none() {
        panic!(
            "the leader made no bulk create within 60 s\nsync status: {:#?}\n--- replica-a log:\n{}",
            site.sync_status(SYNC).await,
            first.log_text()
        );
    }
    let first_log = first.log.clone();
    first.kill().await;
    let killed_at = Instant::now();
    let created_before_kill = site.tickets(SYNC).await.len();
    let recorded_before_kill = site.recorded_keys().await.len();
    assert!(
        created_before_kill > 0 && recorded_before_kill < TASKS,
        "not killed mid-sync: {created_before_kill} tickets, {recorded_before_kill} recorded"
    );

    let takeover = eventually(
        "replica-b takes the Lease",
        Duration::from_secs(LEASE_DURATION_SECS + 10),
        || async {
            (lease_holder(&ns.client, &ns.name, LEASE).await.as_deref() == Some("replica-b"))
                .then(|| killed_at.elapsed())
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

    let all_recorded = within(Duration::from_secs(90), || async {
        let keys = site.recorded_keys().await;
        (keys.len() == TASKS).then_some(keys)
    })
    .await;
    let Some(keys) = all_recorded else {
        let connection = ns
            .api::<JiraConnection>()
            .get(CONNECTION)
            .await
            .expect("get the connection");
        panic!(
            "the new leader did not record every ticket within 90 s: {} of {TASKS}\n\
             sync status: {:#?}\nconnection status: {}\n--- replica-b log:\n{}",
            site.recorded_keys().await.len(),
            site.sync_status(SYNC).await,
            serde_json::to_string_pretty(&connection.status).unwrap_or_default(),
            second.log_text()
        );
    };
    let tickets: BTreeMap<String, Vec<String>> = site
        .tickets(SYNC)
        .await
        .into_iter()
        .map(|ticket| (ticket.key, ticket.labels))
        .collect();
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
    second.terminate().await;
    assert_eq!(
        lease_holder(&ns.client, &ns.name, LEASE).await,
        None,
        "the Lease is released on shutdown"
    );
    assert!(
        second.log_text().contains("released the lease"),
        "{}",
        second.log_text()
    );
    let _ = std::fs::remove_file(first_log);
    second.remove_log();
}
