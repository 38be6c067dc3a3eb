//! Live configuration changes apply fully, on both flavors: dropping the epic takes the tickets out
//! of it, a new issue type is applied to existing tickets, and a target that cannot work (a
//! priority the site lacks, an epic key that is not an Epic) stalls the sync when it is checked,
//! before any ticket is made. The operator binary runs against a real kube-apiserver + etcd and
//! the emulator over real HTTP (`tests/support`).

mod support;

use std::time::Duration;

use jira_active_sync::api::JiraActiveSync;
use jira_active_sync::jira::{Description, Flavor, NewIssue};
use serde_json::{Value, json};
use support::operator::Operator;
use support::site::CONNECTION;
use support::{Mode, Site, eventually};

/// How long anything may take to converge on a slow CI machine.
const PATIENCE: Duration = Duration::from_secs(90);

async fn site(test: &str, flavor: Flavor) -> (Site, Operator) {
    let site = Site::on(test, flavor, "default").await;
    let operator =
        Operator::start(Mode::Process, &site.operator_options("5s"), site.log_path()).await;
    (site, operator)
}

fn spec(check: &str, jira: Value) -> Value {
    let mut spec = json!({"connectionRef": {"name": CONNECTION}, "scope": {"checks": [check]},
                          "jira": {"project": "SEC", "issueType": "Task"}, "pollInterval": "10s"});
    support::site::merge(&mut spec, json!({ "jira": jira }));
    spec
}

fn name(test: &str, flavor: Flavor) -> String {
    match flavor {
        Flavor::Cloud => format!("{test}-cloud"),
        Flavor::DataCenter => format!("{test}-dc"),
    }
}

async fn epic_and_issue_type_follow_the_spec(flavor: Flavor) {
    let (site, operator) = site(&name("live-fields", flavor), flavor).await;
    site.task("a", "live", None).await;
    site.sync("s", spec("live", json!({"epic": "SEC-1"}))).await;
    let key = eventually("a ticket", PATIENCE, || async {
        site.recorded_keys().await.remove("a")
    })
    .await;
    let client = site.jira.client(&site.token);
    let ticket = client.get_issue(&key).await.expect("ticket");
    assert_eq!(ticket.epic.as_deref(), Some("SEC-1"), "{flavor:?}");
    assert_eq!(ticket.issue_type, "Task");

    site.patch_spec::<JiraActiveSync>("s", json!({"jira": {"epic": null, "issueType": "Bug"}}))
        .await;
    let changed = eventually("out of the epic, and a Bug", PATIENCE, || async {
        let ticket = client.get_issue(&key).await.ok()?;
        (ticket.epic.is_none() && ticket.issue_type == "Bug").then_some(ticket)
    })
    .await;
    println!(
        "{flavor:?}: {key} left the epic and became a {}",
        changed.issue_type
    );
    operator.remove_log();
}

#[tokio::test]
async fn dropping_the_epic_and_changing_the_issue_type_apply_to_existing_tickets() {
    futures::join!(
        epic_and_issue_type_follow_the_spec(Flavor::Cloud),
        epic_and_issue_type_follow_the_spec(Flavor::DataCenter)
    );
}

async fn stalled_message(site: &Site) -> String {
    let (_, reason, message) = eventually("Stalled", PATIENCE, || async {
        site.condition("s", "Stalled")
            .await
            .filter(|(status, _, _)| status == "True")
    })
    .await;
    assert_eq!(reason, "InvalidJiraTarget", "{message}");
    message
}

async fn bad_targets_stall_at_check_time(flavor: Flavor) {
    let (site, operator) = site(&name("live-target", flavor), flavor).await;
    site.task("a", "target", None).await;
    site.sync(
        "s",
        spec("target", json!({"priorityMap": {"High": "Urgent"}})),
    )
    .await;
    let message = stalled_message(&site).await;
    assert!(
        message.contains("Urgent") && message.contains("Highest"),
        "names the missing priority and those that exist: {message}"
    );

    let task = site
        .jira
        .client(&site.token)
        .create_issue(&NewIssue {
            project: "SEC".into(),
            issue_type: "Task".into(),
            summary: "Not an epic".into(),
            description: Description {
                intro: "A task.".into(),
                tasks: Vec::new(),
            },
            labels: Vec::new(),
            priority: None,
            due_date: None,
            assignee: None,
            epic: None,
            properties: Vec::new(),
        })
        .await
        .expect("a task in Jira");
    site.patch_spec::<JiraActiveSync>(
        "s",
        json!({"jira": {"priorityMap": {"High": "High"}, "epic": task.key}}),
    )
    .await;
    let message = eventually("the epic named", PATIENCE, || async {
        let (_, _, message) = site.condition("s", "Stalled").await?;
        message.contains(&task.key).then_some(message)
    })
    .await;
    assert!(message.contains("not an Epic"), "{message}");
    assert!(
        site.tickets("s").await.is_empty(),
        "{flavor:?}: nothing was created before the target was right"
    );
    operator.remove_log();
}

/// Data Center without Jira Software has no Epic Link field: a sync naming an epic stalls at check
/// time, and nothing is written (no ticket, so no "updated epic" on every poll).
#[tokio::test]
async fn an_epic_on_data_center_without_jira_software_stalls_at_check_time() {
    let (site, operator) = site("live-no-epics", Flavor::DataCenter).await;
    site.jira
        .admin_seed_change(|seed| seed["jiraSoftware"] = json!(false))
        .await;
    site.task("a", "noepic", None).await;
    site.sync("s", spec("noepic", json!({"epic": "SEC-1"})))
        .await;
    let message = stalled_message(&site).await;
    assert!(message.contains("no Epic Link field"), "{message}");
    assert!(site.tickets("s").await.is_empty());
    site.patch_spec::<JiraActiveSync>("s", json!({"jira": {"epic": null}}))
        .await;
    eventually("a ticket once the epic is dropped", PATIENCE, || async {
        site.recorded_keys().await.remove("a")
    })
    .await;
    operator.remove_log();
}

#[tokio::test]
async fn a_target_that_cannot_work_stalls_at_check_time() {
    futures::join!(
        bad_targets_stall_at_check_time(Flavor::Cloud),
        bad_targets_stall_at_check_time(Flavor::DataCenter)
    );
}
