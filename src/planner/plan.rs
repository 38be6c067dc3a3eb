//! The sync plan: desired tickets against observed tickets, giving the actions that bring Jira and
//! the tasks in step. Every decision about a sync's tickets is made here.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::actions::{
    Action, Assignee, CloseReason, FieldChanges, NewTicket, ReopenReason, Warning,
};
use super::desired::{DesiredTicket, desired_tickets};
use super::identity::{is_identity_label, sync_label};
use super::inputs::{ObservedTicket, PlanInput, TaskView, TextDigest};
use crate::api::{ClosureWhen, JiraCompletion, TaskJiraStatus, TaskState};
use crate::jira::StatusCategory;

/// The outcome of planning a sync.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan {
    /// What to do, in order (actions on one ticket keep their relative order).
    pub actions: Vec<Action>,
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

/// Plans one pass of a sync. With `suspend` set, nothing is written: the plan only counts.
pub fn plan(input: &PlanInput<'_>) -> Plan {
    let sync = &input.sync;
    let sync_label = sync_label(sync.namespace, sync.name);
    // A ticket left in another project (the spec's project changed) cannot be moved: it is
    // closed and released like any ticket no task needs, and a new one is made in the project.
    let (here, elsewhere): (Vec<&ObservedTicket>, Vec<&ObservedTicket>) = input
        .tickets
        .iter()
        .map(Arc::as_ref)
        .filter(|t| t.labels.contains(&sync_label))
        .partition(|t| t.project == sync.spec.jira.project);
    let observed = index_observed(here);
    // Tasks that `jiraCompletion: CompleteTasks` completes are planned as completed already, so one
    // plan brings everything in step and planning again yields nothing.
    let completions = completions(input, &observed);
    let completed_tasks: Vec<TaskView>;
    let tasks = if completions.is_empty() {
        &input.tasks
    } else {
        completed_tasks = input
            .tasks
            .iter()
            .cloned()
            .map(|mut t| {
                if completions.contains_key(&t.name) {
                    t.spec.state = TaskState::Completed;
                }
                t
            })
            .collect();
        &completed_tasks
    };
    let (desired, warnings) = desired_tickets(sync, tasks, &input.accounts);
    let mut observed = observed;
    let mut plan = Plan {
        warnings,
        ..Plan::default()
    };
    plan.counts.tasks_in_scope = count(tasks.len());
    plan.counts.tasks_completed = count(
        tasks
            .iter()
            .filter(|t| t.spec.state == TaskState::Completed)
            .count(),
    );
    let mut actions: Vec<Action> = completions
        .into_iter()
        .map(|(task, key)| Action::CompleteTask { task, key })
        .collect();
    // Owned: a missing ticket's create takes its fields rather than a copy (10,000 descriptions on
    // a first sync).
    for ticket in desired {
        let mut found = observed
            .remove(&ticket.label)
            .unwrap_or_default()
            .into_iter();
        let Some(original) = found.next() else {
            // A group with no open task needs no ticket: one is made if a task re-opens or joins.
            if ticket.open_tasks().next().is_some() {
                plan.counts.tickets += 1;
                actions.push(plan_missing(input, ticket));
            } else {
                actions.extend(status_writes(input, &ticket, None));
            }
            continue;
        };
        plan.counts.tickets += 1;
        if original.category == StatusCategory::Done {
            plan.counts.tickets_done += 1;
        }
        actions.extend(found.map(|duplicate| Action::RetireDuplicate {
            key: duplicate.key.clone(),
            original: original.key.clone(),
            labels: duplicate.operator_labels().cloned().collect(),
        }));
        plan_existing(input, &ticket, original, &mut actions);
    }
    for orphan in observed.into_values().flatten().chain(elsewhere) {
        plan_orphan(input, orphan, &mut actions);
    }
    for (name, other) in &input.others {
        if other.recorded_sync.as_deref() == Some(sync.name) && other.owner.is_none() {
            actions.push(Action::WriteTaskStatus {
                task: name.clone(),
                status: None,
            });
        }
    }
    if !sync.spec.suspend {
        plan.actions = actions;
    }
    plan
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
        let identity = ticket
            .labels
            .iter()
            .find(|l| is_identity_label(l))
            .cloned()
            .or_else(|| ticket.property.as_ref().map(|p| p.identity.clone()));
        if let Some(identity) = identity {
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
    let recorded = observed.property.as_ref().map(|p| &p.tasks);
    if observed.category != StatusCategory::Done {
        // Search may not show yet a close an earlier pass made. A task recorded completed on a
        // ticket that shows open is re-opened first (the executor leaves a ticket that is open
        // after all as it is), so the property never records it open on a ticket that is done.
        let recorded_completed: Vec<String> = open
            .iter()
            .filter(|name| recorded.and_then(|r| r.get(*name)) == Some(&TaskState::Completed))
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
        .filter(|name| recorded.and_then(|r| r.get(*name)) != Some(&TaskState::Open))
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

fn plan_missing(input: &PlanInput<'_>, ticket: DesiredTicket<'_>) -> Action {
    if let Some(sent) = input.pending_creates.get(&ticket.label) {
        // Saturating: a settle window past the end of time only means "never repeat the create".
        let until = sent
            .checked_add(input.search_settle)
            .unwrap_or(jiff::Timestamp::MAX);
        if input.now < until {
            return Action::AwaitSearchIndex {
                identity: ticket.label.clone(),
                until,
            };
        }
    }
    let tasks = ticket.task_names();
    Action::Create(NewTicket {
        identity: ticket.identity,
        fields: ticket.fields,
        property: ticket.property,
        tasks,
    })
}

fn plan_existing(
    input: &PlanInput<'_>,
    ticket: &DesiredTicket<'_>,
    observed: &ObservedTicket,
    actions: &mut Vec<Action>,
) {
    let sync = &input.sync;
    let closure = &sync.spec.closure;
    let verdict = done_while_open(input, ticket, observed);
    let mut want_property = ticket.property.clone();
    if let DoneWhileOpen::Reflect {
        still_recorded_completed,
    } = &verdict
    {
        for name in still_recorded_completed {
            want_property
                .tasks
                .insert(name.clone(), TaskState::Completed);
        }
    }
    let changes = field_changes(input, ticket, observed);
    let property = (observed.property.as_ref() != Some(&want_property)).then_some(want_property);
    let update = (!changes.is_empty() || property.is_some()).then(|| Action::Update {
        key: observed.key.clone(),
        changes,
        property,
    });
    let all_completed = ticket.open_tasks().next().is_none();
    let transition = match verdict {
        DoneWhileOpen::Reopen(reason, names) => {
            let list = qualified(sync.namespace, &names);
            let comment = match reason {
                ReopenReason::TasksReopened => {
                    format!("Re-opened: these tasks are open again or joined this ticket: {list}.")
                }
                ReopenReason::DoneInJiraWhileOpen => format!(
                    "Re-opened: this ticket was marked done in Jira while these tasks are still \
                     open: {list}. The tasks are the source of truth (jiraCompletion: Reopen); \
                     complete them in Kubernetes to close this ticket."
                ),
            };
            Some(Action::Reopen {
                key: observed.key.clone(),
                reason,
                comment: Some(comment),
                tasks: ticket.task_names(),
            })
        }
        DoneWhileOpen::CompleteTasks(_) | DoneWhileOpen::Reflect { .. } => (observed.category
            != StatusCategory::Done
            && all_completed
            && closure.when == ClosureWhen::AllTasksCompleted)
            .then(|| Action::Close {
                key: observed.key.clone(),
                reason: CloseReason::TasksCompleted,
                comment: closure.comment.then(|| {
                    format!(
                        "Closed: every task of this ticket is completed: {}.",
                        qualified(sync.namespace, &ticket.task_names())
                    )
                }),
                tasks: ticket.task_names(),
            }),
    };
    // The property records the task states the ticket was last written for, and a crash may fall
    // between two actions: a re-open goes before the property that records the tasks open (else a
    // done ticket recording open tasks reads as closed in Jira, and stays done), a close after the
    // property that records them completed.
    match transition {
        Some(reopen @ Action::Reopen { .. }) => {
            actions.push(reopen);
            actions.extend(update);
        }
        // After a transition the executor records the new status on the tasks itself.
        Some(close) => {
            actions.extend(update);
            actions.push(close);
        }
        None => {
            actions.extend(update);
            actions.extend(status_writes(input, ticket, Some(observed)));
        }
    }
}

/// `status.jira` of each task of the ticket, where it differs from what the task shows; with no
/// ticket, the status names only the sync.
fn status_writes(
    input: &PlanInput<'_>,
    ticket: &DesiredTicket<'_>,
    observed: Option<&ObservedTicket>,
) -> Vec<Action> {
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
        .map(|task| Action::WriteTaskStatus {
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
) -> FieldChanges {
    let want = &ticket.fields;
    let mut changes = FieldChanges::default();
    if want.summary != observed.summary {
        changes.summary = Some(want.summary.clone());
    }
    if TextDigest::of(&want.description.plain_text(input.sync.flavor))
        != observed.description_digest
    {
        changes.description = Some(want.description.clone());
    }
    changes.labels_add = want
        .labels
        .iter()
        .filter(|l| !observed.labels.contains(l))
        .cloned()
        .collect();
    let dropped: BTreeSet<&String> = observed
        .property
        .as_ref()
        .map(|p| {
            p.labels
                .iter()
                .filter(|l| !want.labels.contains(l))
                .collect()
        })
        .unwrap_or_default();
    changes.labels_remove = observed
        .labels
        .iter()
        .filter(|l| dropped.contains(l))
        .cloned()
        .collect();
    if want.priority.is_some() && want.priority != observed.priority {
        changes.priority = want.priority.clone();
    }
    if want.due_date != observed.due_date {
        changes.due_date = Some(want.due_date);
    }
    if let Some(assignee) = &want.assignee {
        let current = observed
            .assignee
            .clone()
            .map_or(Assignee::Unassigned, Assignee::Account);
        if *assignee != current {
            changes.assignee = Some(assignee.clone());
        }
    }
    if want.epic.is_some() && want.epic != observed.epic {
        changes.epic = want.epic.clone();
    }
    changes
}

/// A ticket of the sync that no task needs any more: its tasks were deleted, left the scope, or the
/// mode changed. It is closed with a comment saying why, and released.
fn plan_orphan(input: &PlanInput<'_>, ticket: &ObservedTicket, actions: &mut Vec<Action>) {
    let sync = &input.sync;
    if ticket.category != StatusCategory::Done {
        let fate: Vec<String> = ticket
            .property
            .iter()
            .flat_map(|p| p.tasks.keys())
            .map(|name| {
                let task = format!("{}/{name}", sync.namespace);
                match input.others.get(name) {
                    None if input.tasks.iter().any(|t| &t.name == name) => {
                        format!("{task} moved to another ticket of this sync")
                    }
                    None => format!("{task} was deleted"),
                    Some(other) => match &other.owner {
                        Some(owner) => format!("{task} is now kept by the sync {owner}"),
                        None => format!("{task} left the scope of this sync"),
                    },
                }
            })
            .collect();
        let why = if fate.is_empty() {
            "its tasks are no longer in this sync".to_owned()
        } else {
            fate.join("; ")
        };
        actions.push(Action::Close {
            key: ticket.key.clone(),
            reason: CloseReason::TasksGone,
            comment: Some(format!(
                "Closed by the JiraActiveSync {}/{}: {why}. This ticket is no longer kept in step.",
                sync.namespace, sync.name
            )),
            tasks: Vec::new(),
        });
    }
    actions.push(Action::Release {
        key: ticket.key.clone(),
        labels: ticket.operator_labels().cloned().collect(),
    });
}

/// `ns/a, ns/b`.
fn qualified(namespace: &str, names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("{namespace}/{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}
