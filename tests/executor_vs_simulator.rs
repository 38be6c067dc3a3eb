//! The planner's scenario tables run twice: through its simulated Jira (`planner::simulation`) and
//! through the real executor (the operator process) against the emulator on a real control plane.
//! After each round of changes both must end in the same place, task by task: the task's state,
//! the status category of its ticket, which tasks share that ticket and whether it is assigned.
//! People act in Jira as the seed's admin: they move tickets and take them. The simulator is what the
//! planner's tests trust; this suite keeps it from drifting from what the executor does.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use futures::future::join_all;
use jira_active_sync::api::{self, ComplianceTask, JiraActiveSync, TaskState};
use jira_active_sync::jira::{IssueUpdate, StatusCategory, TransitionTarget};
use jira_active_sync::planner::TaskView;
use jira_active_sync::planner::simulation::{
    Change, Outcome, Scenario, World, outcome_of, scenarios,
};
use kube::ResourceExt;
use kube::api::DeleteParams;
use serde_json::{Value, json};
use support::emulator::SEED_TOKEN;
use support::operator::Operator;
use support::site::CONNECTION;
use support::{Mode, Site};

/// How long a round may take to converge on a slow CI machine.
const PATIENCE: Duration = Duration::from_secs(90);
/// The sync's name in every scenario.
const SYNC: &str = "scenario";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_executor_ends_where_the_simulated_jira_says_in_every_scenario() {
    let runs = scenarios()
        .into_iter()
        .enumerate()
        .map(|(i, scenario)| run(i, scenario));
    let failures: Vec<String> = join_all(runs).await.into_iter().flatten().collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Runs one scenario against the operator; gives what went wrong, if anything.
async fn run(index: usize, scenario: Scenario) -> Option<String> {
    let expected = World::run(&scenario);
    let site = Site::new(&format!("sim-{index}"), SEED_TOKEN, json!({})).await;
    let options = site.operator_options("5s");
    let operator = Operator::start(Mode::Process, &options, site.log_path()).await;
    for task in &scenario.tasks {
        create_task(&site, task).await;
    }
    site.sync(SYNC, sync_spec(&scenario)).await;
    // The first outcome is before any change.
    let no_change = Vec::new();
    let rounds = std::iter::once(&no_change).chain(&scenario.rounds);
    for (round, (changes, want)) in rounds.zip(&expected).enumerate() {
        for change in changes {
            make(&site, change).await;
        }
        if let Err(got) = converged(&site, want).await {
            let log = site.dump_requests().await;
            drop(operator);
            return Some(format!(
                "{}: round {round} differs from the simulation\n want: {want:#?}\n  got: {got:#?}\n(Jira requests: {}, operator log: {})",
                scenario.name,
                log.display(),
                site.log_path().display()
            ));
        }
    }
    operator.remove_log();
    None
}

/// Waits for the real outcome to equal `want`; gives the one seen last if it never does.
async fn converged(site: &Site, want: &Outcome) -> Result<(), Outcome> {
    let matched = support::wait::within(PATIENCE, || async {
        Some(outcome(site).await).filter(|got| got == want)
    })
    .await;
    match matched {
        Some(_) => Ok(()),
        None => Err(outcome(site).await),
    }
}

/// Where every task of the namespace is, from the statuses the operator wrote and whom Jira has
/// their tickets assigned to.
async fn outcome(site: &Site) -> Outcome {
    let tasks = site.all_tasks().await;
    let recorded: Vec<_> = tasks
        .iter()
        .map(|t| {
            let jira = t.status.as_ref().and_then(|s| s.jira.as_ref());
            (
                t.name_any(),
                t.spec.state,
                jira.and_then(|j| j.key.clone()),
                jira.and_then(|j| j.status_category.clone()),
            )
        })
        .collect();
    let keys: BTreeSet<String> = recorded.iter().filter_map(|t| t.2.clone()).collect();
    let keys: Vec<String> = keys.into_iter().collect();
    let client = site.jira.client(SEED_TOKEN);
    let tickets = client.bulk_fetch(&keys).await.expect("tickets read");
    let assigned = tickets
        .into_iter()
        .filter(|t| t.assignee.is_some())
        .map(|t| t.key)
        .collect();
    outcome_of(&recorded, &assigned)
}

fn sync_spec(scenario: &Scenario) -> Value {
    let mut spec = serde_json::to_value(&scenario.spec).expect("spec serialises");
    spec["connectionRef"] = json!({"name": CONNECTION});
    spec["pollInterval"] = json!("10s");
    spec
}

async fn create_task(site: &Site, task: &TaskView) {
    site.ns
        .create::<ComplianceTask>(json!({
            "apiVersion": "activesync.dev/v1alpha1", "kind": "ComplianceTask",
            "metadata": {"name": task.name},
            "spec": serde_json::to_value(&task.spec).expect("task spec serialises")
        }))
        .await;
}

/// The key of the ticket the task's status names.
async fn ticket_of(site: &Site, task: &str) -> String {
    let mut keys = site.recorded_keys().await;
    keys.remove(task).expect("task has a ticket")
}

/// Makes a change as the simulation does: through the API server, or in Jira as a person would.
async fn make(site: &Site, change: &Change) {
    match change {
        Change::Complete(name) => site.set_state(name, "Completed").await,
        Change::Reopen(name) => site.set_state(name, "Open").await,
        Change::Assign(name, assignee) => {
            let spec = json!({ "assignee": assignee });
            site.patch_spec::<ComplianceTask>(name, spec).await;
        }
        Change::Remove(name) => {
            let tasks = site.ns.api::<ComplianceTask>();
            let deleted = tasks.delete(name, &DeleteParams::default()).await;
            deleted.expect("task deleted");
        }
        Change::Add(name, assignee) => {
            let task =
                jira_active_sync::planner::simulation::task(name, *assignee, TaskState::Open);
            create_task(site, &task).await;
        }
        Change::JiraDone(name) | Change::JiraReopen(name) => {
            let key = ticket_of(site, name).await;
            let category = match change {
                Change::JiraDone(_) => StatusCategory::Done,
                _ => StatusCategory::New,
            };
            let to = TransitionTarget::Category(category);
            let client = site.jira.client(SEED_TOKEN);
            let moved = client.transition(&key, &to, None, None).await;
            moved.expect("a person moves the ticket in Jira");
        }
        Change::JiraAssign(name) => {
            let key = ticket_of(site, name).await;
            let client = site.jira.client(SEED_TOKEN);
            let me = client.myself().await.expect("the person's account");
            let take = IssueUpdate {
                assignee: Some(Some(me.account_id)),
                ..IssueUpdate::default()
            };
            let taken = client.edit_issue(&key, &take).await;
            taken.expect("a person takes the ticket in Jira");
        }
        Change::SwitchMode => {
            let sync = site
                .ns
                .api::<JiraActiveSync>()
                .get(SYNC)
                .await
                .expect("sync");
            let mode = match sync.spec.mode {
                api::Mode::Individual => "Batch",
                api::Mode::Batch => "Individual",
            };
            site.patch_spec::<JiraActiveSync>(SYNC, json!({ "mode": mode }))
                .await;
        }
    }
}
