//! The sync plan: desired tickets against observed tickets, giving the actions that bring Jira and
//! the tasks in step. Every decision about a sync's tickets is made here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::comments;
use super::desired::{DesiredTicket, desired_tickets};
use super::identity::SyncLabels;
use super::inputs::{ObservedTicket, PlanInput, TaskView, TextDigest};
use super::people::{CloseRecord, assignee_change, close_record, recorded_assignee};
use super::property::TicketProperty;
use super::steps::{
    CloseReason, NewTicket, ReleaseReason, ReopenReason, Step, TaskWrite, TransitionReason,
    TransitionStep, Warning,
};
use crate::api::{Closure, JiraCompletion, TaskJiraStatus, TaskState};
use crate::jira::{IssueUpdate, StatusCategory, TransitionTarget};

/// The categories of a ticket that is not done: a close or a retirement moves only these.
pub const OPEN: [StatusCategory; 2] = [StatusCategory::New, StatusCategory::Indeterminate];

/// The outcome of planning a sync.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// What to do in Jira, in order (steps on one ticket keep their relative order).
    pub steps: Vec<Step>,
    /// What to write to tasks.
    pub task_writes: Vec<TaskWrite>,
    /// When to plan again at the latest: a create that search may not show yet is looked for then,
    /// rather than made twice.
    pub wait_until: Option<jiff::Timestamp>,
    /// What the user should hear about.
    pub warnings: Vec<Warning>,
    /// Counters for the sync's status.
    pub counts: Counts,
}

/// The sync's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Tasks the sync owns.
    pub tasks_in_scope: u32,
    /// Of those, completed.
    pub tasks_completed: u32,
    /// Tickets the sync keeps (existing or about to be created).
    pub tickets: u32,
    /// Of those, done in Jira.
    pub tickets_done: u32,
}

/// What a ticket that is done in Jira while some of its tasks are open leads to.
enum DoneWhileOpen {
    /// Re-open it.
    Reopen(ReopenReason, Vec<String>),
    /// Complete the open tasks (`jiraCompletion: CompleteTasks`).
    CompleteTasks(Vec<String>),
    /// Only show the status on the tasks. Tasks that re-opened while `closure.reopen` is off stay
    /// recorded as completed, so that they are not later taken for tasks that saw Jira close the
    /// ticket (which `jiraCompletion` would act on).
    Reflect {
        /// Open tasks recorded as completed on the ticket.
        still_recorded_completed: Vec<String>,
    },
}

impl DoneWhileOpen {
    const NOTHING: DoneWhileOpen = DoneWhileOpen::Reflect {
        still_recorded_completed: Vec::new(),
    };
}

/// What a pass builds up: steps on Jira, task writes, and when to look again.
#[derive(Default)]
struct Builder {
    steps: Vec<Step>,
    task_writes: Vec<TaskWrite>,
    wait_until: Option<jiff::Timestamp>,
}

impl Builder {
    fn wait_until(&mut self, until: jiff::Timestamp) {
        self.wait_until = Some(self.wait_until.map_or(until, |w| w.min(until)));
    }
}

/// Plans one pass of a sync. With `suspend` set, nothing is written: the plan only counts.
pub fn plan(input: &PlanInput<'_>) -> Plan {
    let sync = &input.sync;
    let labels = &sync.labels;
    // A ticket left in another project (the spec's project changed) cannot be moved: it is
    // closed and released like any ticket no task needs, and a new one is made in the project.
    let (here, elsewhere): (Vec<&ObservedTicket>, Vec<&ObservedTicket>) = input
        .tickets
        .iter()
        .map(Arc::as_ref)
        .filter(|t| labels.keeps(&t.labels))
        .partition(|t| t.project == sync.spec.jira.project);
    let mut observed = index_observed(here);
    // Tasks that `jiraCompletion: CompleteTasks` completes are planned as completed already, so one
    // plan brings everything in step and planning again yields nothing.
    let completions = completions(input, &observed);
    let tasks = completed(&input.tasks, &completions);
    let (desired, warnings) = desired_tickets(sync, &tasks, &input.accounts);
    let mut plan = Plan {
        warnings,
        counts: task_counts(&tasks),
        ..Plan::default()
    };
    let mut out = Builder {
        task_writes: completions
            .into_iter()
            .map(|(task, key)| TaskWrite::Complete { task, key })
            .collect(),
        ..Builder::default()
    };
    for ticket in desired {
        let found = observed.remove(&ticket.label).unwrap_or_default();
        plan_ticket(input, ticket, found, &mut plan.counts, &mut out);
    }
    for orphan in observed.into_values().flatten().chain(elsewhere) {
        plan_orphan(input, orphan, &mut out.steps);
    }
    out.task_writes.extend(released_statuses(input));
    if !sync.spec.suspend {
        plan.steps = out.steps;
        plan.task_writes = out.task_writes;
        plan.wait_until = out.wait_until;
    }
    plan
}

/// The tasks, with those `jiraCompletion: CompleteTasks` completes marked completed.
fn completed<'t>(
    tasks: &'t [TaskView],
    completions: &BTreeMap<String, String>,
) -> std::borrow::Cow<'t, [TaskView]> {
    if completions.is_empty() {
        return std::borrow::Cow::Borrowed(tasks);
    }
    let mut tasks = tasks.to_vec();
    for task in &mut tasks {
        if completions.contains_key(&task.name) {
            task.spec.state = TaskState::Completed;
        }
    }
    std::borrow::Cow::Owned(tasks)
}

fn task_counts(tasks: &[TaskView]) -> Counts {
    Counts {
        tasks_in_scope: count(tasks.len()),
        tasks_completed: count(
            tasks
                .iter()
                .filter(|t| t.spec.state == TaskState::Completed)
                .count(),
        ),
        ..Counts::default()
    }
}

/// One desired ticket against the tickets found with its identity (oldest first).
fn plan_ticket(
    input: &PlanInput<'_>,
    ticket: DesiredTicket<'_>,
    found: Vec<&ObservedTicket>,
    counts: &mut Counts,
    out: &mut Builder,
) {
    let mut found = found.into_iter();
    let Some(original) = found.next() else {
        // A group with no open task needs no ticket: one is made if a task re-opens or joins.
        if ticket.open_tasks().next().is_some() {
            counts.tickets += 1;
            plan_missing(input, ticket, out);
        } else {
            out.task_writes.extend(status_writes(input, &ticket, None));
        }
        return;
    };
    counts.tickets += 1;
    if original.category == StatusCategory::Done {
        counts.tickets_done += 1;
    }
    for duplicate in found {
        out.steps.extend(retire_duplicate(
            duplicate,
            original,
            (&input.sync.labels, &input.sync.spec.closure),
        ));
    }
    plan_existing(input, &ticket, original, out);
}

/// Tasks whose status names this sync though no sync owns them any more: their status is cleared.
fn released_statuses<'a>(input: &'a PlanInput<'_>) -> impl Iterator<Item = TaskWrite> + 'a {
    input
        .others
        .iter()
        .filter(|(_, other)| {
            other.recorded_sync.as_deref() == Some(input.sync.name) && other.owner.is_none()
        })
        .map(|(name, _)| TaskWrite::Status {
            task: name.clone(),
            status: None,
        })
}

/// A second ticket with the identity of `original`: closed (unless done already), told which one it
/// duplicates, and released.
fn retire_duplicate(
    duplicate: &ObservedTicket,
    original: &ObservedTicket,
    (labels, closure): (&SyncLabels, &Closure),
) -> Vec<Step> {
    let mut steps = Vec::new();
    if duplicate.category != StatusCategory::Done {
        steps.push(Step::Transition(TransitionStep {
            key: duplicate.key.clone(),
            url: duplicate.url.clone(),
            to: vec![TransitionTarget::Category(StatusCategory::Done)],
            only_from: OPEN.to_vec(),
            resolution: None,
            fields: closure.fields.clone(),
            comment: None,
            reason: TransitionReason::RetireDuplicate {
                original: original.key.clone(),
            },
            tasks: Vec::new(),
            subject: duplicate.subject(),
        }));
    }
    steps.push(Step::Comment {
        key: duplicate.key.clone(),
        text: format!(
            "Duplicate of {}, which carries the same tasks; this ticket is no longer kept in step.",
            original.key
        ),
    });
    steps.push(Step::Release {
        key: duplicate.key.clone(),
        labels: duplicate.released_labels(labels),
        reason: ReleaseReason::DuplicateOf(original.key.clone()),
        subject: duplicate.subject(),
    });
    steps
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The sync's tickets by identity label, oldest first. Only tickets carrying the sync's label are
/// the sync's (tickets of other syncs are never touched, the caller filters); a ticket whose
/// identity label was removed by hand is still recognised through its entity property.
fn index_observed(tickets: Vec<&ObservedTicket>) -> BTreeMap<String, Vec<&ObservedTicket>> {
    let mut index: BTreeMap<String, Vec<&ObservedTicket>> = BTreeMap::new();
    for ticket in tickets {
        if let Some(identity) = ticket.identity_label() {
            index.entry(identity).or_default().push(ticket);
        }
    }
    for tickets in index.values_mut() {
        tickets.sort_by_key(|t| t.number());
    }
    index
}

/// The tasks `jiraCompletion: CompleteTasks` completes, with the ticket that was done.
fn completions(
    input: &PlanInput<'_>,
    observed: &BTreeMap<String, Vec<&ObservedTicket>>,
) -> BTreeMap<String, String> {
    if input.sync.spec.jira_completion != JiraCompletion::CompleteTasks {
        return BTreeMap::new();
    }
    let (desired, _) = desired_tickets(&input.sync, &input.tasks, &input.accounts);
    let mut out = BTreeMap::new();
    for ticket in &desired {
        let Some(original) = observed.get(&ticket.label).and_then(|t| t.first()) else {
            continue;
        };
        if let DoneWhileOpen::CompleteTasks(names) = done_while_open(input, ticket, original) {
            out.extend(names.into_iter().map(|n| (n, original.key.clone())));
        }
    }
    out
}

/// Decides what a done ticket with open tasks leads to: tasks that were completed (or not on the
/// ticket) when it was last written re-opened or joined, and re-open it under `closure.reopen`;
/// if every open task was already open, the ticket was closed in Jira, and `jiraCompletion` decides.
fn done_while_open(
    input: &PlanInput<'_>,
    ticket: &DesiredTicket<'_>,
    observed: &ObservedTicket,
) -> DoneWhileOpen {
    let open: Vec<String> = ticket.open_tasks().map(|t| t.name.clone()).collect();
    let recorded = |name: &String| observed.property.as_ref().and_then(|p| p.recorded(name));
    if observed.category != StatusCategory::Done {
        // Search may not show yet a close an earlier pass made. A task recorded completed on a
        // ticket that shows open is re-opened first (the executor leaves a ticket that is open
        // after all as it is), so the property never records it open on a ticket that is done.
        let recorded_completed: Vec<String> = open
            .iter()
            .filter(|name| recorded(name) == Some(TaskState::Completed))
            .cloned()
            .collect();
        return if input.sync.spec.closure.reopen && !recorded_completed.is_empty() {
            DoneWhileOpen::Reopen(ReopenReason::TasksReopened, recorded_completed)
        } else {
            DoneWhileOpen::NOTHING
        };
    }
    if open.is_empty() {
        return DoneWhileOpen::NOTHING;
    }
    let reopened: Vec<String> = open
        .iter()
        .filter(|name| recorded(name) != Some(TaskState::Open))
        .cloned()
        .collect();
    let spec = input.sync.spec;
    if !reopened.is_empty() {
        return if spec.closure.reopen {
            DoneWhileOpen::Reopen(ReopenReason::TasksReopened, reopened)
        } else {
            DoneWhileOpen::Reflect {
                still_recorded_completed: reopened,
            }
        };
    }
    match spec.jira_completion {
        JiraCompletion::Reflect => DoneWhileOpen::NOTHING,
        JiraCompletion::CompleteTasks => DoneWhileOpen::CompleteTasks(open),
        JiraCompletion::Reopen => DoneWhileOpen::Reopen(ReopenReason::DoneInJiraWhileOpen, open),
    }
}

fn plan_missing(input: &PlanInput<'_>, ticket: DesiredTicket<'_>, out: &mut Builder) {
    if let Some(sent) = input.pending_creates.sent(&ticket.label) {
        // Saturating: a settle window past the end of time only means "never repeat the create".
        let until = sent
            .checked_add(input.search_settle)
            .unwrap_or(jiff::Timestamp::MAX);
        if input.now < until {
            out.wait_until(until);
            return;
        }
    }
    let tasks = ticket.task_names();
    out.steps.push(Step::Create(NewTicket {
        identity: ticket.identity,
        fields: ticket.fields,
        property: ticket.property.fitted(),
        tasks,
    }));
}

fn plan_existing(
    input: &PlanInput<'_>,
    ticket: &DesiredTicket<'_>,
    observed: &ObservedTicket,
    out: &mut Builder,
) {
    let verdict = done_while_open(input, ticket, observed);
    let record = close_record(input, ticket, observed);
    let want_property = wanted_property(ticket, observed, &verdict, record);
    let changes = field_changes(input, ticket, observed);
    let fitted = want_property.clone().fitted();
    let property = (observed.property.as_ref() != Some(&fitted)).then_some(fitted);
    let update = (!changes.is_empty() || property.is_some()).then(|| Step::Update {
        key: observed.key.clone(),
        changes,
        property,
        subject: subject_of(ticket),
    });
    // The property records the task states the ticket was last written for, and a crash may fall
    // between two steps: a re-open goes before the property that records the tasks open (else a
    // done ticket recording open tasks reads as closed in Jira, and stays done), a close after the
    // property that records them completed, which records the close only once it is made (else a
    // crash between the two would leave the ticket open for good, as if a person had re-opened
    // it). After a transition the executor records the ticket's status on the tasks.
    match transition(input, ticket, observed, verdict, record) {
        Some(
            reopen @ TransitionStep {
                reason: TransitionReason::Reopen(_),
                ..
            },
        ) => {
            out.steps.push(Step::Transition(reopen));
            out.steps.extend(update);
        }
        Some(close) => {
            out.steps.extend(update);
            out.steps.push(Step::Transition(close));
            out.steps.push(Step::Update {
                key: observed.key.clone(),
                changes: IssueUpdate::default(),
                property: Some(
                    TicketProperty {
                        closed: true,
                        ..want_property
                    }
                    .fitted(),
                ),
                subject: subject_of(ticket),
            });
        }
        None => {
            out.steps.extend(update);
            out.task_writes
                .extend(status_writes(input, ticket, Some(observed)));
        }
    }
}

/// The property the ticket should carry (before it is cut to fit): its tasks (those that re-opened
/// while `closure.reopen` is off still recorded completed), the close as `record` says, and the
/// operator's assignment.
fn wanted_property(
    ticket: &DesiredTicket<'_>,
    observed: &ObservedTicket,
    verdict: &DoneWhileOpen,
    record: CloseRecord,
) -> TicketProperty {
    let mut want = ticket.property.clone();
    if let DoneWhileOpen::Reflect {
        still_recorded_completed,
    } = verdict
    {
        for name in still_recorded_completed {
            want.tasks.insert(name.clone(), TaskState::Completed);
        }
    }
    want.closed = record == CloseRecord::Closed;
    want.assignee = recorded_assignee(ticket.fields.assignee.as_ref(), observed);
    want
}

fn subject_of(ticket: &DesiredTicket<'_>) -> super::steps::Subject {
    super::steps::Subject {
        identity: Some(ticket.identity.clone()),
        tasks: ticket.task_names(),
    }
}

/// The move a ticket needs: re-opened as the verdict says, or closed when every task is completed
/// under `closure.when: AllTasksCompleted` and it was not closed for them before (a ticket a
/// person re-opened stays open).
fn transition(
    input: &PlanInput<'_>,
    ticket: &DesiredTicket<'_>,
    observed: &ObservedTicket,
    verdict: DoneWhileOpen,
    record: CloseRecord,
) -> Option<TransitionStep> {
    let sync = &input.sync;
    let closure = &sync.spec.closure;
    match verdict {
        DoneWhileOpen::Reopen(reason, names) => {
            let comment = comments::reopened(sync.flavor, &reason, sync.namespace, &names);
            let mut step = reopen(observed, reason, comment, ticket);
            // A way back may pass through screens that ask for the same fields as closing.
            step.fields.clone_from(&closure.fields);
            Some(step)
        }
        DoneWhileOpen::CompleteTasks(_) | DoneWhileOpen::Reflect { .. } => {
            (record == CloseRecord::CloseNow).then(|| {
                let comment = closure
                    .comment
                    .then(|| comments::closed(sync.flavor, sync.namespace, &ticket.task_names()));
                let mut step = close(observed, closure, CloseReason::TasksCompleted, comment);
                step.tasks = ticket.task_names();
                step.subject = subject_of(ticket);
                step
            })
        }
    }
}

/// Back to work: to a "new" status, else one in progress, and only from "done" (a ticket found
/// open was re-opened by an earlier pass that search did not show yet: moving it again would take
/// it from "To Do" on to "In Progress").
fn reopen(
    observed: &ObservedTicket,
    reason: ReopenReason,
    comment: String,
    ticket: &DesiredTicket<'_>,
) -> TransitionStep {
    TransitionStep {
        key: observed.key.clone(),
        url: observed.url.clone(),
        to: vec![
            TransitionTarget::Category(StatusCategory::New),
            TransitionTarget::Category(StatusCategory::Indeterminate),
        ],
        only_from: vec![StatusCategory::Done],
        resolution: None,
        fields: serde_json::Map::new(),
        comment: Some(comment),
        reason: TransitionReason::Reopen(reason),
        tasks: ticket.task_names(),
        subject: subject_of(ticket),
    }
}

/// Into the closure's status (else any "done" one), only from an open one.
pub(super) fn close(
    observed: &ObservedTicket,
    closure: &Closure,
    reason: CloseReason,
    comment: Option<String>,
) -> TransitionStep {
    TransitionStep {
        key: observed.key.clone(),
        url: observed.url.clone(),
        to: vec![closure.transition.clone().map_or(
            TransitionTarget::Category(StatusCategory::Done),
            TransitionTarget::StatusName,
        )],
        only_from: OPEN.to_vec(),
        resolution: closure.resolution.clone(),
        fields: closure.fields.clone(),
        comment,
        reason: TransitionReason::Close(reason),
        tasks: Vec::new(),
        subject: observed.subject(),
    }
}

/// `status.jira` of each task of the ticket, where it differs from what the task shows; with no
/// ticket, the status names only the sync.
fn status_writes(
    input: &PlanInput<'_>,
    ticket: &DesiredTicket<'_>,
    observed: Option<&ObservedTicket>,
) -> Vec<TaskWrite> {
    let sync = &input.sync;
    let status = TaskJiraStatus {
        sync: sync.name.to_owned(),
        key: observed.map(|o| o.key.clone()),
        url: observed.map(|o| o.url.clone()),
        status: observed.map(|o| o.status.clone()),
        status_category: observed.map(|o| o.category.key().to_owned()),
        mode: sync.spec.mode,
        last_sync_time: None,
    };
    ticket
        .tasks
        .iter()
        .filter(|task| {
            task.recorded.as_ref().map(|r| TaskJiraStatus {
                last_sync_time: None,
                ..r.clone()
            }) != Some(status.clone())
        })
        .map(|task| TaskWrite::Status {
            task: task.name.clone(),
            status: Some(TaskJiraStatus {
                last_sync_time: Some(input.now),
                ..status.clone()
            }),
        })
        .collect()
}

fn field_changes(
    input: &PlanInput<'_>,
    ticket: &DesiredTicket<'_>,
    observed: &ObservedTicket,
) -> IssueUpdate {
    let want = &ticket.fields;
    let digest = TextDigest::of(&want.description.plain_text(input.sync.flavor));
    IssueUpdate {
        summary: (want.summary != observed.summary).then(|| want.summary.clone()),
        description: (digest != observed.description_digest).then(|| want.description.clone()),
        labels: label_changes(&want.labels, observed, &input.sync.labels.legacy),
        priority: want
            .priority
            .clone()
            .filter(|p| observed.priority.as_ref() != Some(p)),
        due_date: (want.due_date != observed.due_date).then_some(want.due_date),
        assignee: assignee_change(want.assignee.as_ref(), observed),
        epic: epic_change(want.epic.as_ref(), observed),
        issue_type: Some(&input.sync.spec.jira.issue_type)
            .filter(|t| !t.eq_ignore_ascii_case(&observed.issue_type))
            .cloned(),
    }
}

/// The epic when it must change: the spec's, else none when the spec dropped the epic the
/// operator set (its property records it); an epic a person chose stays when the spec names none.
fn epic_change(want: Option<&String>, observed: &ObservedTicket) -> Option<Option<String>> {
    match want {
        Some(epic) => (observed.epic.as_ref() != Some(epic)).then(|| Some(epic.clone())),
        None => {
            let recorded = observed.property.as_ref().and_then(|p| p.epic.as_ref());
            (observed.epic.is_some() && observed.epic.as_ref() == recorded).then_some(None)
        }
    }
}

/// The ticket's complete label set when it must change: the wanted labels added, and the labels the
/// operator set earlier (its property records them, or the sync's label from before installation
/// identities) but no longer wants removed; labels people added stay.
fn label_changes(want: &[String], observed: &ObservedTicket, legacy: &str) -> Option<Vec<String>> {
    let dropped: BTreeSet<&str> = observed
        .property
        .iter()
        .flat_map(|p| p.labels.iter())
        .map(String::as_str)
        .chain([legacy])
        .filter(|l| !want.iter().any(|w| w == l))
        .collect();
    let missing = want.iter().any(|l| !observed.labels.contains(l));
    let extra = observed.labels.iter().any(|l| dropped.contains(l.as_str()));
    (missing || extra).then(|| {
        let mut labels: Vec<String> = observed
            .labels
            .iter()
            .filter(|l| !dropped.contains(l.as_str()))
            .chain(want.iter())
            .cloned()
            .collect();
        labels.sort();
        labels.dedup();
        labels
    })
}

/// A ticket of the sync that no task needs any more: its tasks were deleted, left the scope, or the
/// mode changed. It is closed with a comment saying why, and released.
fn plan_orphan(input: &PlanInput<'_>, ticket: &ObservedTicket, steps: &mut Vec<Step>) {
    let sync = &input.sync;
    if ticket.category != StatusCategory::Done {
        let comment = comments::orphaned(input, ticket);
        steps.push(Step::Transition(close(
            ticket,
            &sync.spec.closure,
            CloseReason::TasksGone,
            Some(comment),
        )));
    }
    steps.push(Step::Release {
        key: ticket.key.clone(),
        labels: ticket.released_labels(&sync.labels),
        reason: ReleaseReason::NotNeeded,
        subject: ticket.subject(),
    });
}
