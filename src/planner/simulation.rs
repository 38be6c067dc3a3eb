//! A simulated Jira and cluster that applies plans the way the executor does, with scenario tables
//! of changes to tasks and tickets. The planner's tests run histories through it; the
//! executor-vs-simulator suite (`tests/executor_vs_simulator.rs`) runs the same scenarios through
//! the real executor against the emulator and checks that both end in the same place.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::identity::{Installation, SyncLabels};
use super::inputs::{
    AccountLookup, ObservedTicket, OtherTask, PlanInput, SyncView, TaskView, TextDigest,
};
use super::pending::PendingCreates;
use super::plan::{Plan, plan};
use super::steps::{NewTicket, Step, TaskWrite, TransitionStep};
use crate::api::{
    ComplianceTaskSpec, ConnectionRef, DeletionPolicy, JiraActiveSyncSpec, JiraCompletion,
    JiraLabel, Mode, PriorityMap, Scope, Severity, TaskState, TicketTemplate,
};
use crate::jira::{Flavor, IssueUpdate, StatusCategory, TransitionTarget};

/// The namespace of the simulated sync.
pub const NS: &str = "payments";
/// The name of the simulated sync.
pub const SYNC: &str = "vuln-sync";
/// The installation of the simulated operator.
pub const INSTALLATION: &str = "sim";

/// A sync spec of project SEC with every managed field set: epic SEC-1, label `compliance`, a
/// priority map; closure and completion at their defaults.
pub fn spec(mode: Mode) -> JiraActiveSyncSpec {
    JiraActiveSyncSpec {
        connection_ref: ConnectionRef {
            name: "acme".into(),
        },
        scope: Scope::default(),
        jira: TicketTemplate {
            project: "SEC".into(),
            issue_type: "Task".into(),
            epic: Some("SEC-1".into()),
            labels: vec![JiraLabel("compliance".into())],
            priority_map: Some(PriorityMap {
                critical: Some("Highest".into()),
                high: Some("High".into()),
                medium: None,
                low: Some("Low".into()),
            }),
        },
        mode,
        closure: Default::default(),
        jira_completion: JiraCompletion::Reflect,
        deletion_policy: DeletionPolicy::Retain,
        poll_interval: "60s".into(),
        suspend: false,
    }
}

/// A task of check `vulnerability-management` with every field set.
pub fn task(name: &str, assignee: Option<&str>, state: TaskState) -> TaskView {
    TaskView {
        name: name.into(),
        spec: ComplianceTaskSpec {
            check: "vulnerability-management".into(),
            title: format!("Fix {name}"),
            assignee: assignee.map(str::to_owned),
            instructions: Some(format!("Instructions for {name}")),
            how_to_fix: Some("Upgrade it".into()),
            severity: Some(Severity::High),
            due_date: Some(jiff::civil::date(2026, 12, 31)),
            state,
        },
        recorded: None,
    }
}

/// The Jira account of a person who takes tickets in the simulated Jira.
pub const PERSON: &str = "acc-person";

/// The simulated time of planning.
pub fn now() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_800_000_000).expect("valid")
}

/// A simulated Jira and cluster: applies plans the way the executor does, so that planning can be
/// tested over whole histories; the executor-vs-simulator suite checks that the real executor
/// against the emulator ends where this does.
#[derive(Debug, Clone)]
pub struct World {
    /// The sync's spec.
    pub spec: JiraActiveSyncSpec,
    /// The tasks the sync owns.
    pub tasks: Vec<TaskView>,
    /// The other tasks of the namespace.
    pub others: BTreeMap<String, OtherTask>,
    /// Every ticket in the simulated Jira.
    pub tickets: Vec<ObservedTicket>,
    next: u64,
    /// Comments by ticket key.
    pub comments: BTreeMap<String, Vec<String>>,
    /// Keys of deleted tickets.
    pub deleted: Vec<String>,
    /// The installation the sync runs in.
    pub installation: Installation,
}

impl World {
    pub fn new(spec: JiraActiveSyncSpec, tasks: Vec<TaskView>) -> World {
        World {
            spec,
            tasks,
            others: BTreeMap::new(),
            tickets: Vec::new(),
            next: 10,
            comments: BTreeMap::new(),
            deleted: Vec::new(),
            installation: Installation::parse(INSTALLATION).expect("a valid installation"),
        }
    }

    /// What the planner is given in this world.
    pub fn input(&self) -> PlanInput<'_> {
        PlanInput {
            sync: SyncView {
                namespace: NS,
                name: SYNC,
                labels: SyncLabels::of(&self.installation, NS, SYNC),
                spec: &self.spec,
                flavor: Flavor::Cloud,
            },
            tasks: self.tasks.clone(),
            others: self.others.clone(),
            tickets: self.tickets.iter().cloned().map(Arc::new).collect(),
            accounts: [
                (
                    "alice@example.com",
                    AccountLookup::Found("acc-alice".into()),
                ),
                ("bob@example.com", AccountLookup::Found("acc-bob".into())),
                ("carol@example.com", AccountLookup::Unknown),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
            pending_creates: PendingCreates::default(),
            search_settle: jiff::SignedDuration::from_secs(30),
            now: now(),
        }
    }

    /// Plans one pass.
    pub fn plan(&self) -> Plan {
        plan(&self.input())
    }

    /// The ticket with this key; panics on an unknown one (a plan acting on a ticket Jira lacks).
    pub fn ticket(&mut self, key: &str) -> &mut ObservedTicket {
        self.tickets
            .iter_mut()
            .find(|t| t.key == key)
            .unwrap_or_else(|| panic!("action on unknown ticket {key}"))
    }

    fn set_status(&mut self, key: &str, done: bool) {
        let t = self.ticket(key);
        if done {
            t.status = "Done".into();
            t.category = StatusCategory::Done;
        } else {
            t.status = "To Do".into();
            t.category = StatusCategory::New;
        }
    }

    fn record(&mut self, key: &str, tasks: &[String]) {
        let t = self.ticket(key).clone();
        for name in tasks {
            if let Some(task) = self.tasks.iter_mut().find(|x| &x.name == name) {
                task.recorded = Some(crate::api::TaskJiraStatus {
                    sync: SYNC.into(),
                    key: Some(t.key.clone()),
                    url: Some(t.url.clone()),
                    status: Some(t.status.clone()),
                    status_category: Some(t.category.key().into()),
                    mode: self.spec.mode,
                    last_sync_time: Some(now()),
                });
            }
        }
    }

    /// Applies a plan the way the executor does: the Jira steps, then the task writes.
    pub fn apply(&mut self, plan: &Plan) {
        for step in &plan.steps {
            self.apply_step(step);
        }
        for write in &plan.task_writes {
            self.apply_task_write(write);
        }
    }

    fn apply_step(&mut self, step: &Step) {
        match step {
            Step::Create(new) => self.create(new),
            Step::Update {
                key,
                changes,
                property,
                ..
            } => {
                let t = self.ticket(key);
                apply_changes(t, changes);
                if let Some(p) = property {
                    t.property = Some(p.clone());
                }
            }
            Step::Transition(step) => self.transition(step),
            Step::Comment { key, text } => {
                self.comments
                    .entry(key.clone())
                    .or_default()
                    .push(text.clone());
            }
            Step::Release { key, labels, .. } => {
                self.ticket(key).labels = labels.clone();
            }
            Step::Delete { key, .. } => {
                self.tickets.retain(|t| &t.key != key);
                self.deleted.push(key.clone());
            }
        }
    }

    fn create(&mut self, new: &NewTicket) {
        self.next += 1;
        let key = format!("SEC-{}", self.next);
        self.tickets.push(ObservedTicket {
            key: key.clone(),
            url: format!("https://jira.example/browse/{key}"),
            project: self.spec.jira.project.clone(),
            issue_type: self.spec.jira.issue_type.clone(),
            summary: new.fields.summary.clone(),
            description_digest: TextDigest::of(&new.fields.description.plain_text(Flavor::Cloud)),
            labels: new.fields.labels.clone(),
            status: "To Do".into(),
            category: StatusCategory::New,
            priority: new.fields.priority.clone(),
            due_date: new.fields.due_date,
            assignee: new.fields.assignee_account(),
            epic: new.fields.epic.clone(),
            property: Some(new.property.clone()),
        });
        self.record(&key, &new.tasks);
    }

    /// Like the executor, which re-reads the ticket: one whose category is not in `only_from` is
    /// left as it is; either way its tasks show its status.
    fn transition(&mut self, step: &TransitionStep) {
        let key = &step.key;
        if step.only_from.contains(&self.ticket(key).category) {
            let done = !matches!(
                step.to.first(),
                Some(TransitionTarget::Category(
                    StatusCategory::New | StatusCategory::Indeterminate
                ))
            );
            self.set_status(key, done);
            self.comments
                .entry(key.clone())
                .or_default()
                .extend(step.comment.clone());
        }
        self.record(key, &step.tasks);
    }

    fn apply_task_write(&mut self, write: &TaskWrite) {
        match write {
            TaskWrite::Status { task, status } => {
                let t = self
                    .tasks
                    .iter_mut()
                    .find(|t| &t.name == task)
                    .map(|t| &mut t.recorded);
                match t {
                    Some(recorded) => *recorded = status.clone(),
                    None => {
                        let other = self.others.get_mut(task).expect("status of a known task");
                        assert!(status.is_none(), "only clearing statuses of other tasks");
                        other.recorded_sync = None;
                    }
                }
            }
            TaskWrite::Complete { task, .. } => {
                self.task_mut(task).spec.state = TaskState::Completed;
            }
        }
    }

    /// Plans and applies until nothing is left to do; panics if that takes more than one round
    /// after the first (planning is meant to be idempotent). Gives the first plan's Jira steps.
    pub fn converge(&mut self) -> Vec<Step> {
        let first = self.plan();
        self.apply(&first);
        let second = self.plan();
        assert!(
            second.steps.is_empty() && second.task_writes.is_empty(),
            "not idempotent: {second:#?}"
        );
        first.steps
    }

    /// The sync's live tickets (carrying its label), by the tasks their property lists.
    pub fn membership(&self) -> BTreeMap<String, Vec<String>> {
        let labels = SyncLabels::of(&self.installation, NS, SYNC);
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for t in self.tickets.iter().filter(|t| labels.keeps(&t.labels)) {
            for name in t.property.iter().flat_map(|p| p.tasks.keys()) {
                out.entry(name.clone()).or_default().push(t.key.clone());
            }
        }
        out
    }

    /// The task with this name.
    pub fn task_mut(&mut self, name: &str) -> &mut TaskView {
        self.tasks
            .iter_mut()
            .find(|t| t.name == name)
            .expect("task")
    }

    /// The key of the ticket the task's status names.
    pub fn key_of(&self, task: &str) -> String {
        self.tasks
            .iter()
            .find(|t| t.name == task)
            .and_then(|t| t.recorded.as_ref())
            .and_then(|r| r.key.clone())
            .expect("task has a ticket")
    }

    /// A person moves a ticket in Jira: to done, or back to "To Do".
    pub fn jira_transition(&mut self, key: &str, done: bool) {
        self.set_status(key, done);
    }
}

/// Applies an edit to a simulated ticket.
fn apply_changes(t: &mut ObservedTicket, changes: &IssueUpdate) {
    if let Some(s) = &changes.summary {
        t.summary = s.clone();
    }
    if let Some(d) = &changes.description {
        t.description_digest = TextDigest::of(&d.plain_text(Flavor::Cloud));
    }
    if let Some(labels) = &changes.labels {
        t.labels = labels.clone();
    }
    if let Some(p) = &changes.priority {
        t.priority = Some(p.clone());
    }
    if let Some(d) = changes.due_date {
        t.due_date = d;
    }
    if let Some(a) = &changes.assignee {
        t.assignee = a.clone();
    }
    if let Some(e) = &changes.epic {
        t.epic = e.clone();
    }
    if let Some(issue_type) = &changes.issue_type {
        t.issue_type = issue_type.clone();
    }
}

/// A change a person or a producer makes between two passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// The task is completed.
    Complete(&'static str),
    /// The task is open again.
    Reopen(&'static str),
    /// The task gets another assignee (or none).
    Assign(&'static str, Option<&'static str>),
    /// The task is deleted.
    Remove(&'static str),
    /// A new open task, with an assignee or none.
    Add(&'static str, Option<&'static str>),
    /// A person moves the task's ticket to done in Jira.
    JiraDone(&'static str),
    /// A person moves the task's ticket back to work ("To Do") in Jira.
    JiraReopen(&'static str),
    /// A person takes the task's ticket in Jira (assigns it to themselves).
    JiraAssign(&'static str),
    /// The sync switches between Individual and Batch.
    SwitchMode,
}

/// A history: a sync, its first tasks, and rounds of changes, each round followed by a pass.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// What it shows.
    pub name: &'static str,
    /// The sync's spec (no epic, so that any Jira with project SEC can run it).
    pub spec: JiraActiveSyncSpec,
    /// The tasks at the start.
    pub tasks: Vec<TaskView>,
    /// Rounds of changes.
    pub rounds: Vec<Vec<Change>>,
}

/// Where a task ends: its state, the status category of the ticket its status names, the other
/// tasks whose status names the same ticket, and whether that ticket is assigned to anyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskOutcome {
    /// Open or Completed.
    pub state: TaskState,
    /// The ticket's status category as the task shows it.
    pub category: Option<String>,
    /// The other tasks on its ticket, by name.
    pub companions: Vec<String>,
    /// Whether its ticket has an assignee.
    pub assigned: bool,
}

/// Where every task ends, by name; comparable between the simulation and a real run, since
/// ticket keys are left out.
pub type Outcome = BTreeMap<String, TaskOutcome>;

/// The outcome of tasks from what their statuses record, (name, state, ticket key, category),
/// and the keys of the tickets that have an assignee.
pub fn outcome_of(
    tasks: &[(String, TaskState, Option<String>, Option<String>)],
    assigned: &BTreeSet<String>,
) -> Outcome {
    tasks
        .iter()
        .map(|(name, state, key, category)| {
            let mut companions: Vec<String> = tasks
                .iter()
                .filter(|(other, _, other_key, _)| {
                    other != name && key.is_some() && other_key == key
                })
                .map(|(other, ..)| other.clone())
                .collect();
            companions.sort();
            let outcome = TaskOutcome {
                state: *state,
                category: category.clone(),
                companions,
                assigned: key.as_ref().is_some_and(|k| assigned.contains(k)),
            };
            (name.clone(), outcome)
        })
        .collect()
}

impl World {
    /// Makes a change as a person or producer would.
    pub fn change(&mut self, change: &Change) {
        match change {
            Change::Complete(name) => self.task_mut(name).spec.state = TaskState::Completed,
            Change::Reopen(name) => self.task_mut(name).spec.state = TaskState::Open,
            Change::Assign(name, assignee) => {
                self.task_mut(name).spec.assignee = assignee.map(str::to_owned);
            }
            Change::Remove(name) => self.tasks.retain(|t| t.name != *name),
            Change::Add(name, assignee) => self.tasks.push(task(name, *assignee, TaskState::Open)),
            Change::JiraDone(name) | Change::JiraReopen(name) => {
                let key = self.key_of(name);
                self.jira_transition(&key, matches!(change, Change::JiraDone(_)));
            }
            Change::JiraAssign(name) => {
                let key = self.key_of(name);
                self.ticket(&key).assignee = Some(PERSON.to_owned());
            }
            Change::SwitchMode => {
                self.spec.mode = match self.spec.mode {
                    Mode::Individual => Mode::Batch,
                    Mode::Batch => Mode::Individual,
                };
            }
        }
    }

    /// Where every task is now.
    pub fn outcome(&self) -> Outcome {
        let recorded: Vec<_> = self
            .tasks
            .iter()
            .map(|t| {
                let jira = t.recorded.as_ref();
                (
                    t.name.clone(),
                    t.spec.state,
                    jira.and_then(|j| j.key.clone()),
                    jira.and_then(|j| j.status_category.clone()),
                )
            })
            .collect();
        let assigned = self
            .tickets
            .iter()
            .filter(|t| t.assignee.is_some())
            .map(|t| t.key.clone())
            .collect();
        outcome_of(&recorded, &assigned)
    }

    /// Runs a scenario: converges, then each round of changes and converges again. Gives the
    /// outcome after each round (the first is before any change).
    pub fn run(scenario: &Scenario) -> Vec<Outcome> {
        let mut world = World::new(scenario.spec.clone(), scenario.tasks.clone());
        world.converge();
        let mut outcomes = vec![world.outcome()];
        for round in &scenario.rounds {
            for change in round {
                world.change(change);
            }
            world.converge();
            outcomes.push(world.outcome());
        }
        outcomes
    }
}

/// A scenario of `spec(mode)` without an epic, `tweak`ed.
fn scenario(
    name: &'static str,
    mode: Mode,
    tweak: fn(&mut JiraActiveSyncSpec),
    tasks: Vec<TaskView>,
    rounds: Vec<Vec<Change>>,
) -> Scenario {
    let mut spec = spec(mode);
    spec.jira.epic = None;
    tweak(&mut spec);
    Scenario {
        name,
        spec,
        tasks,
        rounds,
    }
}

const ALICE: Option<&str> = Some("alice@example.com");
const BOB: Option<&str> = Some("bob@example.com");
/// An email the simulated Jira (and the emulator's seed) has no user for.
const CAROL: Option<&str> = Some("carol@example.com");

fn open(name: &str, assignee: Option<&str>) -> TaskView {
    task(name, assignee, TaskState::Open)
}

/// The scenario tables: each user-visible path of a sync, in both modes where it applies.
pub fn scenarios() -> Vec<Scenario> {
    let mut all = task_scenarios();
    all.extend(jira_scenarios());
    all
}

/// Changes producers make to tasks.
fn task_scenarios() -> Vec<Scenario> {
    vec![
        scenario(
            "complete, re-open and delete in Individual mode",
            Mode::Individual,
            |_| {},
            vec![open("a", ALICE), open("b", None)],
            vec![
                vec![Change::Complete("a")],
                vec![Change::Reopen("a")],
                vec![Change::Remove("b")],
            ],
        ),
        scenario(
            "a batch group rewritten, closed and re-opened by a new task",
            Mode::Batch,
            |_| {},
            vec![open("a1", ALICE), open("a2", ALICE), open("b1", BOB)],
            vec![
                vec![Change::Complete("a1")],
                vec![Change::Complete("a2")],
                vec![Change::Add("a3", ALICE)],
                vec![Change::Assign("b1", ALICE)],
            ],
        ),
        scenario(
            "switching mode moves every task",
            Mode::Individual,
            |_| {},
            vec![open("a1", ALICE), open("a2", ALICE), open("n", None)],
            vec![vec![Change::SwitchMode], vec![Change::Complete("n")]],
        ),
    ]
}

/// People moving and taking tickets in Jira, under each `jiraCompletion` that acts on it.
fn jira_scenarios() -> Vec<Scenario> {
    vec![
        scenario(
            "a ticket a person re-opens after the operator closed it stays open until a task re-opens and completes",
            Mode::Individual,
            |_| {},
            vec![open("a", None), open("b", ALICE)],
            vec![
                vec![Change::Complete("a"), Change::Complete("b")],
                vec![Change::JiraReopen("a"), Change::JiraReopen("b")],
                vec![Change::Reopen("a")],
                vec![Change::Complete("a")],
            ],
        ),
        scenario(
            "a batch ticket a person re-opens stays open until a new task joins and completes",
            Mode::Batch,
            |_| {},
            vec![open("a1", ALICE), open("a2", ALICE)],
            vec![
                vec![Change::Complete("a1"), Change::Complete("a2")],
                vec![Change::JiraReopen("a1")],
                vec![Change::Add("a3", ALICE)],
                vec![Change::Complete("a3")],
            ],
        ),
        scenario(
            "a person takes a ticket of a task with no assignee or one unknown to Jira",
            Mode::Individual,
            |_| {},
            vec![open("n", None), open("c", CAROL), open("a", ALICE)],
            vec![
                vec![
                    Change::JiraAssign("n"),
                    Change::JiraAssign("c"),
                    Change::JiraAssign("a"),
                ],
                vec![Change::Complete("n"), Change::Assign("a", None)],
            ],
        ),
        scenario(
            "done in Jira while open, under jiraCompletion: Reopen",
            Mode::Individual,
            |s| s.jira_completion = JiraCompletion::Reopen,
            vec![open("a", None)],
            vec![vec![Change::JiraDone("a")]],
        ),
        scenario(
            "done in Jira while open, under jiraCompletion: CompleteTasks",
            Mode::Batch,
            |s| s.jira_completion = JiraCompletion::CompleteTasks,
            vec![open("a1", ALICE), open("a2", ALICE)],
            vec![vec![Change::JiraDone("a1")]],
        ),
    ]
}
