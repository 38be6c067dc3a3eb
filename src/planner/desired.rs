//! The tickets a sync should have: tasks grouped by mode, with every managed field worked out.

use std::collections::{BTreeMap, BTreeSet};

use super::identity::{GroupKey, TicketIdentity, is_operator_label};
use super::inputs::{AccountLookup, SyncView, TaskView};
use super::property::TicketProperty;
use super::steps::{Assignee, TicketFields, Warning};
use crate::api::{Mode, Severity, TaskState};
use crate::jira::{Description, TaskSection};

/// Jira's limit on the length of a summary.
const SUMMARY_LIMIT: usize = 255;

/// One ticket as it should be.
#[derive(Debug, Clone)]
pub struct DesiredTicket<'t> {
    /// What it stands for.
    pub identity: TicketIdentity,
    /// Its identity label.
    pub label: String,
    /// Its managed fields.
    pub fields: TicketFields,
    /// The tasks it carries, by name.
    pub tasks: Vec<&'t TaskView>,
    /// The property that records it, every task listed (cut to Jira's limit when written).
    pub property: TicketProperty,
}

impl DesiredTicket<'_> {
    /// The tasks still open.
    pub fn open_tasks(&self) -> impl Iterator<Item = &TaskView> {
        self.tasks
            .iter()
            .copied()
            .filter(|t| t.spec.state == TaskState::Open)
    }

    /// The task names.
    pub fn task_names(&self) -> Vec<String> {
        self.tasks.iter().map(|t| t.name.clone()).collect()
    }
}

/// Every ticket the sync should have, in identity order, and warnings about the inputs.
pub fn desired_tickets<'t>(
    sync: &SyncView<'_>,
    tasks: &'t [TaskView],
    accounts: &BTreeMap<String, AccountLookup>,
) -> (Vec<DesiredTicket<'t>>, Vec<Warning>) {
    let mut groups: BTreeMap<TicketIdentity, Vec<&TaskView>> = BTreeMap::new();
    for task in tasks {
        groups
            .entry(identity_of(sync.spec.mode, task))
            .or_default()
            .push(task);
    }
    let mut unknown: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let tickets = groups
        .into_iter()
        .map(|(identity, mut members)| {
            members.sort_by(|a, b| a.name.cmp(&b.name));
            let email = assignee_email(&identity, &members);
            let assignee = email
                .as_deref()
                .map_or(Some(Assignee::Unassigned), |email| {
                    match accounts.get(email) {
                        Some(AccountLookup::Found(id)) => Some(Assignee::Account(id.clone())),
                        Some(AccountLookup::Unknown) => {
                            unknown
                                .entry(email.to_owned())
                                .or_default()
                                .extend(members.iter().map(|t| t.name.clone()));
                            Some(Assignee::Unassigned)
                        }
                        None => None,
                    }
                });
            ticket(sync, identity, members, assignee)
        })
        .collect();
    let warnings = unknown
        .into_iter()
        .map(|(email, tasks)| Warning::UnknownAssignee { email, tasks })
        .collect();
    (tickets, warnings)
}

/// The ticket a task belongs on: its own (Individual) or its assignee's (Batch).
pub fn identity_of(mode: Mode, task: &TaskView) -> TicketIdentity {
    match mode {
        Mode::Individual => TicketIdentity::Task(task.name.clone()),
        Mode::Batch => TicketIdentity::Group(GroupKey::of(task.spec.assignee.as_deref())),
    }
}

fn assignee_email(identity: &TicketIdentity, members: &[&TaskView]) -> Option<String> {
    match identity {
        TicketIdentity::Group(group) => group.email().map(str::to_owned),
        TicketIdentity::Task(_) => members.first().and_then(|t| {
            GroupKey::of(t.spec.assignee.as_deref())
                .email()
                .map(str::to_owned)
        }),
    }
}

fn ticket<'t>(
    sync: &SyncView<'_>,
    identity: TicketIdentity,
    tasks: Vec<&'t TaskView>,
    assignee: Option<Assignee>,
) -> DesiredTicket<'t> {
    let spec = sync.spec;
    let label = identity.label();
    let open: Vec<&TaskView> = tasks
        .iter()
        .copied()
        .filter(|t| t.spec.state == TaskState::Open)
        .collect();
    // Priority and due date follow the open tasks; once all are done they follow all tasks, so
    // completing the last task does not rewrite them.
    let relevant = if open.is_empty() { &tasks } else { &open };
    let (priority, due_date) = priority_and_due_date(sync, relevant);
    let spec_labels = spec_labels(sync);
    let mut labels: BTreeSet<String> = spec_labels.iter().cloned().collect();
    labels.insert(sync.labels.current.clone());
    labels.insert(label.clone());
    let fields = TicketFields {
        summary: summary(&identity, &tasks, open.len()),
        description: description(sync, &identity, &tasks, open.len()),
        labels: labels.into_iter().collect(),
        priority,
        due_date,
        assignee,
        epic: spec.jira.epic.clone(),
    };
    let property = TicketProperty {
        namespace: sync.namespace.to_owned(),
        sync: sync.name.to_owned(),
        mode: spec.mode,
        identity: label.clone(),
        tasks: tasks
            .iter()
            .map(|t| (t.name.clone(), t.spec.state))
            .collect(),
        labels: spec_labels,
        unlisted: None,
        closed: false,
        assignee: fields.assignee_account(),
        epic: spec.jira.epic.clone(),
    };
    DesiredTicket {
        identity,
        label,
        fields,
        tasks,
        property,
    }
}

/// The priority the spec maps the most severe of `tasks` to, and their earliest due date.
fn priority_and_due_date(
    sync: &SyncView<'_>,
    tasks: &[&TaskView],
) -> (Option<String>, Option<jiff::civil::Date>) {
    let severity = tasks
        .iter()
        .filter_map(|t| t.spec.severity)
        .min_by_key(|s| severity_rank(*s));
    let priority = severity.and_then(|s| {
        sync.spec
            .jira
            .priority_map
            .as_ref()
            .and_then(|map| map.priority_for(s))
            .map(str::to_owned)
    });
    (priority, tasks.iter().filter_map(|t| t.spec.due_date).min())
}

/// The spec's labels, without any that would pose as the operator's own.
pub fn spec_labels(sync: &SyncView<'_>) -> Vec<String> {
    let labels: BTreeSet<String> = sync
        .spec
        .jira
        .labels
        .iter()
        .map(|l| l.0.clone())
        .filter(|l| !is_operator_label(l))
        .collect();
    labels.into_iter().collect()
}

fn severity_rank(severity: Severity) -> u8 {
    match severity {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
    }
}

fn summary(identity: &TicketIdentity, tasks: &[&TaskView], open: usize) -> String {
    let text = match identity {
        TicketIdentity::Task(_) => tasks
            .first()
            .map(|t| {
                t.spec
                    .title
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default(),
        TicketIdentity::Group(group) => {
            let who = group.email().unwrap_or("unassigned tasks");
            format!("Compliance tasks: {who} ({open} open of {})", tasks.len())
        }
    };
    cut(&text, SUMMARY_LIMIT)
}

fn description(
    sync: &SyncView<'_>,
    identity: &TicketIdentity,
    tasks: &[&TaskView],
    open: usize,
) -> Description {
    let keeper = format!(
        "Kept in step by the JiraActiveSync {}/{}: change the tasks in Kubernetes, not this \
         description, which is rewritten on every sync.",
        sync.namespace, sync.name
    );
    let intro = match identity {
        TicketIdentity::Task(name) => {
            format!("Compliance task {}/{name}. {keeper}", sync.namespace)
        }
        TicketIdentity::Group(group) => format!(
            "Compliance tasks {}: {open} open, {} completed. {keeper}",
            group.email().map_or_else(
                || "with no assignee".to_owned(),
                |e| format!("assigned to {e}")
            ),
            tasks.len() - open
        ),
    };
    // Open tasks first: a description cut to Jira's limit keeps the work still to do.
    let (open_first, completed): (Vec<&TaskView>, Vec<&TaskView>) = tasks
        .iter()
        .copied()
        .partition(|t| t.spec.state == TaskState::Open);
    Description {
        intro,
        tasks: open_first
            .into_iter()
            .chain(completed)
            .map(|t| TaskSection {
                title: t.spec.title.clone(),
                check: t.spec.check.clone(),
                severity: t.spec.severity.map(|s| format!("{s:?}")),
                due_date: t.spec.due_date,
                namespace: sync.namespace.to_owned(),
                name: t.name.clone(),
                state: format!("{:?}", t.spec.state),
                instructions: t.spec.instructions.clone().unwrap_or_default(),
                how_to_fix: t.spec.how_to_fix.clone().unwrap_or_default(),
            })
            .collect(),
    }
}

/// At most `limit` characters, ending in an ellipsis when cut.
fn cut(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(limit - 1).collect();
    out.push('…');
    out
}
