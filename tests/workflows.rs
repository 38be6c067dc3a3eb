//! Real Jira workflows, on both flavors: closing, re-opening and `deletionPolicy: Close` walk the
//! transitions each workflow offers (the emulator's built-in seeds), a workflow with no way back
//! stalls the sync, and a field Jira refuses never holds back a close. The operator binary runs
//! against a real kube-apiserver + etcd and the emulator over real HTTP (`tests/support`).

mod support;

use std::time::Duration;

use jira_active_sync::api::{ComplianceTask, JiraActiveSync};
use jira_active_sync::jira::{Flavor, Issue, JiraClient, StatusCategory, TransitionTarget};
use serde_json::{Value, json};
use support::operator::Operator;
use support::site::CONNECTION;
use support::{Mode, Site, eventually};

/// How long anything may take to converge on a slow CI machine.
const PATIENCE: Duration = Duration::from_secs(90);

/// The review workflow's approval screen requires review notes.
const REVIEW_NOTES: &str = "customfield_10300";

/// A site on `seed` with the operator running.
async fn site(test: &str, flavor: Flavor, seed: &'static str) -> (Site, Operator) {
    let site = Site::on(test, flavor, seed).await;
    let operator =
        Operator::start(Mode::Process, &site.operator_options("5s"), site.log_path()).await;
    (site, operator)
}

fn sync_spec(check: &str, extra: Value) -> Value {
    let mut spec = json!({"connectionRef": {"name": CONNECTION}, "scope": {"checks": [check]},
                          "jira": {"project": "SEC", "issueType": "Task"}, "pollInterval": "10s",
                          "deletionPolicy": "Close",
                          "closure": {"fields": {REVIEW_NOTES: "Closed by jira-active-sync"}}});
    support::site::merge(&mut spec, extra);
    spec
}

fn client(site: &Site) -> JiraClient {
    site.jira.client(&site.token)
}

/// The ticket `key` once `ready` holds for it.
async fn ticket_when(site: &Site, key: &str, what: &str, ready: fn(&Issue) -> bool) -> Issue {
    let client = client(site);
    eventually(what, PATIENCE, || async {
        client.get_issue(key).await.ok().filter(ready)
    })
    .await
}

async fn keys_of(site: &Site, tasks: &[&str]) -> Vec<String> {
    eventually("every task has a ticket", PATIENCE, || async {
        let keys = site.recorded_keys().await;
        tasks.iter().map(|t| keys.get(*t).cloned()).collect()
    })
    .await
}

/// Closes (the task completes), re-opens (it re-opens) and closes on deletion (`Close`) on one
/// workflow, and gives what each move made of the tickets.
async fn close_reopen_delete(flavor: Flavor, seed: &'static str) {
    let name = format!("wf-{seed}-{}", flavor_name(flavor));
    let (site, operator) = site(&name, flavor, seed).await;
    site.task("a", "wf", None).await;
    site.task("b", "wf", None).await;
    site.sync("s", sync_spec("wf", json!({}))).await;
    let keys = keys_of(&site, &["a", "b"]).await;
    let (a, b) = (&keys[0], &keys[1]);

    site.set_state("a", "Completed").await;
    let closed = ticket_when(&site, a, "a closed", |i| {
        i.status.category == StatusCategory::Done
    })
    .await;
    // Jira Software's Done has no screen (a post function of the real workflow sets the
    // resolution, which the emulator does not model); every other close goes through one.
    assert!(
        closed.resolution.is_some() || seed == "jira-software",
        "{seed}/{flavor:?}: closed with a resolution ({:?})",
        closed.status
    );
    // The walk: one transition where done is offered at once, three through the review.
    let hops = site
        .jira
        .count("POST", &format!("/issue/{a}/transitions"))
        .await;
    let expected = if seed == "review" { 3 } else { 1 };
    assert_eq!(
        hops, expected,
        "{seed}/{flavor:?}: transitions taken to close"
    );
    let closing = comments(&site, a).await;
    assert!(
        closing.contains("Closed: every task of this ticket is completed"),
        "{seed}/{flavor:?}: the closing comment went with the last hop: {closing}"
    );

    site.set_state("a", "Open").await;
    let reopened = ticket_when(&site, a, "a re-opened", |i| {
        i.status.category != StatusCategory::Done
    })
    .await;
    assert_eq!(reopened.resolution, None, "{seed}/{flavor:?}");

    // b leaves the sync's scope: its ticket, needed by no task, is closed through the workflow
    // with the comment saying why, and released.
    site.patch_spec::<ComplianceTask>("b", json!({"check": "elsewhere"}))
        .await;
    let orphan = ticket_when(&site, b, "b closed and released", |i| {
        i.status.category == StatusCategory::Done && !i.labels.iter().any(|l| l.starts_with("jas@"))
    })
    .await;
    assert!(
        orphan.resolution.is_some() || seed == "jira-software",
        "{seed}/{flavor:?}: the orphan closed with a resolution"
    );
    let said = comments(&site, b).await;
    assert!(
        said.contains("left the scope of this sync"),
        "{seed}/{flavor:?}: the orphan's comment: {said}"
    );

    site.ns
        .api::<JiraActiveSync>()
        .delete("s", &Default::default())
        .await
        .expect("sync deleted");
    for key in [a, b] {
        ticket_when(&site, key, "closed on deletion", |i| {
            i.status.category == StatusCategory::Done
        })
        .await;
    }
    site.sync_gone("s", PATIENCE).await;
    println!("workflow {seed} on {flavor:?}: closed, re-opened and closed on deletion");
    operator.remove_log();
}

fn flavor_name(flavor: Flavor) -> &'static str {
    match flavor {
        Flavor::Cloud => "cloud",
        Flavor::DataCenter => "dc",
    }
}

async fn comments(site: &Site, key: &str) -> String {
    let api = match site.jira.flavor() {
        Flavor::Cloud => 3,
        Flavor::DataCenter => 2,
    };
    let request = reqwest::Client::new().get(format!(
        "{}/rest/api/{api}/issue/{key}/comment",
        site.jira.url
    ));
    let request = match site.jira.flavor() {
        Flavor::Cloud => request.basic_auth(support::emulator::EMAIL, Some(&site.token)),
        Flavor::DataCenter => request.bearer_auth(&site.token),
    };
    let answer = request.send().await.expect("comments");
    answer.text().await.expect("body")
}

/// Each seed on both flavors, at once.
async fn on_both_flavors(seed: &'static str) {
    futures::join!(
        close_reopen_delete(Flavor::Cloud, seed),
        close_reopen_delete(Flavor::DataCenter, seed)
    );
}

#[tokio::test]
async fn jira_software_global_transitions() {
    on_both_flavors("jira-software").await;
}

#[tokio::test]
async fn a_multi_step_review_workflow_with_a_required_screen_field() {
    on_both_flavors("review").await;
}

#[tokio::test]
async fn service_management_default_workflow() {
    on_both_flavors("service-management").await;
}

#[tokio::test]
async fn data_center_classic_workflow_with_a_required_resolution() {
    on_both_flavors("dc-classic").await;
}

/// Service Management's Closed is final: a task that re-opens after a person closed its ticket
/// stalls the sync, which names the status and what it offers.
async fn no_way_back_stalls(flavor: Flavor) {
    let name = format!("wf-stuck-{}", flavor_name(flavor));
    let (site, operator) = site(&name, flavor, "service-management").await;
    site.task("a", "stuck", None).await;
    site.sync("s", sync_spec("stuck", json!({}))).await;
    let key = keys_of(&site, &["a"]).await.remove(0);
    site.set_state("a", "Completed").await;
    ticket_when(&site, &key, "a resolved", |i| i.status.name == "Resolved").await;
    let closed = TransitionTarget::StatusName("Closed".into());
    client(&site)
        .transition(&key, &closed, None, None)
        .await
        .expect("a person closes it");
    site.set_state("a", "Open").await;
    let (status, reason, message) = eventually("Stalled", PATIENCE, || async {
        site.condition("s", "Stalled")
            .await
            .filter(|(status, _, _)| status == "True")
    })
    .await;
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("True", "NoWorkflowPath")
    );
    assert!(
        message.contains(&key) && message.contains("\"Closed\""),
        "the condition names the ticket and its status: {message}"
    );
    let note = eventually("a NoWorkflowPath Event", PATIENCE, || {
        site.event_note("NoWorkflowPath")
    })
    .await;
    assert!(note.contains("transitions offered there: none"), "{note}");
    operator.remove_log();
}

#[tokio::test]
async fn a_workflow_with_no_way_back_stalls_the_sync() {
    futures::join!(
        no_way_back_stalls(Flavor::Cloud),
        no_way_back_stalls(Flavor::DataCenter)
    );
}

/// The task's new assignee may not be assigned issues in SEC: the edit leaves the assignee out,
/// a Warning Event names the field and Jira's message, and the ticket closes all the same. A task
/// assigned to her from the start gets its ticket, unassigned.
async fn refused_assignee_does_not_block(flavor: Flavor) {
    let name = format!("wf-refused-{}", flavor_name(flavor));
    let (site, operator) = site(&name, flavor, "review").await;
    site.jira
        .restrict_assignable("SEC", &["admin@example.com", "bob@example.com"])
        .await;
    site.task("a", "refused", Some("bob@example.com")).await;
    site.task("c", "refused", Some("alice@example.com")).await;
    site.sync("s", sync_spec("refused", json!({}))).await;
    let keys = keys_of(&site, &["a", "c"]).await;
    let (key, unassigned) = (keys[0].clone(), &keys[1]);
    let created = client(&site)
        .get_issue(unassigned)
        .await
        .expect("c's ticket");
    assert_eq!(
        created.assignee, None,
        "created without the refused assignee"
    );
    site.patch_spec::<jira_active_sync::api::ComplianceTask>(
        "a",
        json!({"assignee": "alice@example.com", "state": "Completed"}),
    )
    .await;
    let closed = ticket_when(&site, &key, "closed despite the refusal", |i| {
        i.status.category == StatusCategory::Done
    })
    .await;
    assert_ne!(closed.assignee, None, "bob stays: Jira refused alice");
    let note = eventually("a FieldRefused Event", PATIENCE, || {
        site.event_note("FieldRefused")
    })
    .await;
    assert!(
        note.contains("assignee") && note.contains("cannot be assigned issues"),
        "{note}"
    );
    operator.remove_log();
}

#[tokio::test]
async fn a_refused_field_never_blocks_a_close() {
    futures::join!(
        refused_assignee_does_not_block(Flavor::Cloud),
        refused_assignee_does_not_block(Flavor::DataCenter)
    );
}

/// The review workflow's Approve screen requires review notes: without them in `closure.fields`
/// the sync stalls naming the field, and closes the ticket once the spec gives them.
async fn a_required_screen_field_stalls_until_given(flavor: Flavor) {
    let name = format!("wf-screen-{}", flavor_name(flavor));
    let (site, operator) = site(&name, flavor, "review").await;
    site.task("a", "screen", None).await;
    let spec = json!({"connectionRef": {"name": CONNECTION}, "scope": {"checks": ["screen"]},
                      "jira": {"project": "SEC", "issueType": "Task"}, "pollInterval": "10s"});
    site.sync("s", spec).await;
    let key = keys_of(&site, &["a"]).await.remove(0);
    site.set_state("a", "Completed").await;
    let (_, reason, message) = eventually("Stalled", PATIENCE, || async {
        site.condition("s", "Stalled")
            .await
            .filter(|(status, _, _)| status == "True")
    })
    .await;
    assert_eq!(reason, "TransitionScreenRefused", "{message}");
    assert!(
        message.contains("Review notes is required") && message.contains("closure.fields"),
        "{message}"
    );
    let fields = json!({"closure": {"fields": {REVIEW_NOTES: "Closed by jira-active-sync"}}});
    site.patch_spec::<JiraActiveSync>("s", fields).await;
    ticket_when(&site, &key, "closed once the field is given", |i| {
        i.status.category == StatusCategory::Done
    })
    .await;
    operator.remove_log();
}

#[tokio::test]
async fn a_required_screen_field_stalls_the_sync_until_closure_fields_give_it() {
    futures::join!(
        a_required_screen_field_stalls_until_given(Flavor::Cloud),
        a_required_screen_field_stalls_until_given(Flavor::DataCenter)
    );
}
