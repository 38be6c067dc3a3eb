//! Installations and upgrades, against two real control planes and one emulator: two installs with
//! identical namespaces and sync names sharing one Jira site each keep exactly their own tickets,
//! and tickets made before ticket labels carried the installation are adopted, not made again.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use jira_active_sync::jira::{Description, JiraError, NewIssue, StatusCategory};
use serde_json::json;
use support::cluster::{cluster, second_cluster};
use support::emulator::SEED_TOKEN;
use support::operator::Operator;
use support::site::CONNECTION;
use support::{Mode, Site, eventually};

/// How long anything may take to converge on a slow CI machine.
const PATIENCE: Duration = Duration::from_secs(60);

/// Three tasks of `check` and the sync `s` (`deletionPolicy: Delete`) over them; waits until each
/// task records its ticket and gives the keys.
async fn synced(site: &Site, check: &str) -> BTreeSet<String> {
    site.tasks(3, check).await;
    let spec = json!({"connectionRef": {"name": CONNECTION}, "scope": {"checks": [check]},
                      "jira": {"project": "SEC"}, "deletionPolicy": "Delete"});
    site.sync("s", spec).await;
    eventually("every task records its ticket", PATIENCE, || async {
        let keys = site.recorded_keys().await;
        (keys.len() == 3).then(|| keys.into_values().collect())
    })
    .await
}

/// The keys of the tickets a site's sync `s` keeps, by its label.
async fn kept(site: &Site) -> BTreeSet<String> {
    site.tickets("s").await.into_iter().map(|t| t.key).collect()
}

#[tokio::test]
async fn two_installs_on_one_jira_site_keep_exactly_their_own_tickets() {
    let east = Site::new("installs", SEED_TOKEN, json!({})).await;
    let west = east.twin_on(second_cluster().await).await;
    assert_ne!(
        cluster().await.installation().await,
        second_cluster().await.installation().await,
        "two clusters, two installation identities"
    );
    let east_operator =
        Operator::start(Mode::Process, &east.operator_options("5s"), east.log_path()).await;
    let mut west_options = west.operator_options("5s");
    west_options.kubeconfig = second_cluster().await.kubeconfig().map(Into::into);
    let west_log = std::env::temp_dir().join(format!("jas-operator-{}-west.log", west.ns.name));
    let west_operator = Operator::start(Mode::Process, &west_options, west_log).await;
    let (east_keys, west_keys) = (synced(&east, "shared").await, synced(&west, "shared").await);
    assert!(
        east_keys.is_disjoint(&west_keys),
        "{east_keys:?} {west_keys:?}"
    );
    assert_eq!(kept(&east).await, east_keys);
    assert_eq!(kept(&west).await, west_keys);

    // East completes a task: only east's ticket closes.
    east.set_state("t0000", "Completed").await;
    let east_ticket = east.recorded_keys().await["t0000"].clone();
    let west_ticket = west.recorded_keys().await["t0000"].clone();
    let jira = east.jira.client(SEED_TOKEN);
    eventually("east's ticket closes", PATIENCE, || async {
        let issue = jira.get_issue(&east_ticket).await.ok()?;
        (issue.status.category == StatusCategory::Done).then_some(())
    })
    .await;
    let west_issue = jira.get_issue(&west_ticket).await.expect("west's ticket");
    assert_ne!(west_issue.status.category, StatusCategory::Done);

    // West deletes its sync (deletionPolicy: Delete): only west's tickets go.
    west.delete_sync("s", PATIENCE).await;
    for key in &west_keys {
        assert!(
            matches!(jira.get_issue(key).await, Err(JiraError::NotFound { .. })),
            "{key} survived"
        );
    }
    for key in &east_keys {
        jira.get_issue(key).await.expect("east's tickets stay");
    }
    assert_eq!(kept(&east).await, east_keys);
    east_operator.remove_log();
    west_operator.remove_log();
}

#[tokio::test]
async fn a_ticket_from_before_installation_identities_is_adopted() {
    let site = Site::new("adopt", SEED_TOKEN, json!({})).await;
    let legacy_label = format!("jas.{}.s", site.ns.name);
    let jira = site.jira.client(SEED_TOKEN);
    let made = jira
        .create_issue(&NewIssue {
            project: "SEC".into(),
            issue_type: "Task".into(),
            summary: "Fix t1 (made by the release before)".into(),
            description: Description {
                intro: "Compliance task synced by jira-active-sync.".into(),
                tasks: Vec::new(),
            },
            labels: vec![legacy_label.clone(), "jas-task.t1".into()],
            priority: None,
            due_date: None,
            assignee: None,
            epic: None,
            properties: Vec::new(),
        })
        .await
        .expect("created as the release before did");
    site.task("t1", "adopt", None).await;
    site.individual_sync("s", "adopt").await;
    let operator =
        Operator::start(Mode::Process, &site.operator_options("5s"), site.log_path()).await;
    let key = eventually("the task records its ticket", PATIENCE, || async {
        site.recorded_keys().await.remove("t1")
    })
    .await;
    assert_eq!(key, made.key, "the old ticket is adopted");
    let labels = eventually("the ticket is relabelled", PATIENCE, || async {
        let issue = jira.get_issue(&key).await.ok()?;
        (!issue.labels.contains(&legacy_label)).then_some(issue.labels)
    })
    .await;
    let current = cluster()
        .await
        .sync_labels(&site.ns.name, "s")
        .await
        .current;
    assert!(labels.contains(&current), "{labels:?}");
    let with_task: Vec<_> = site
        .all_tickets()
        .await
        .into_iter()
        .filter(|t| t.labels.iter().any(|l| l == "jas-task.t1"))
        .collect();
    assert_eq!(with_task.len(), 1, "no second ticket: {with_task:?}");
    operator.remove_log();
}
