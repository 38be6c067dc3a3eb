//! What a preview tells: the plan's steps and task writes put into words a person (or CI) reads,
//! with the fields' current values beside the planned ones. The JSON form (`-o json`) is this
//! structure; its field names are stable.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::super::pass::Conflict;
use crate::api::{DeletionPolicy, Mode, TaskState};
use crate::jira::{IssueUpdate, TransitionTarget};
use crate::planner::{
    ObservedTicket, Plan, PlanInput, ReleaseReason, Step, SyncView, TaskWrite, TicketProperty,
    TransitionReason, TransitionStep, Warning,
};

/// What applying or deleting a sync would do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    /// The sync's namespace.
    pub namespace: String,
    /// The sync's name.
    pub sync: String,
    /// `Apply` or `Delete`.
    pub operation: Operation,
    /// Whether the sync exists in the cluster now.
    pub exists: bool,
    /// The mode it syncs in.
    pub mode: Mode,
    /// Whether `spec.suspend` holds every write back.
    pub suspended: bool,
    /// Tasks it takes over from another sync, gives up, or claims in vain.
    pub ownership: Vec<OwnershipChange>,
    /// What it would do in Jira, in order.
    pub actions: Vec<PreviewAction>,
    /// What it would write to tasks.
    pub task_writes: Vec<PreviewTaskWrite>,
    /// What the operator would warn about.
    pub warnings: Vec<String>,
    /// The sync's counters after the pass.
    pub counts: PreviewCounts,
    /// What deleting the sync does (later, for an apply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_deletion: Option<DeletionPreview>,
    /// What the other syncs of the namespace whose tasks change hands would do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<Preview>,
    /// Whether anything would change (the exit code 2), here or in an affected sync.
    pub changes: bool,
}

/// What is previewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Operation {
    /// Applying the sync (new or changed).
    Apply,
    /// Deleting it (its deletion policy).
    Delete,
}

/// A task that changes hands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnershipChange {
    /// The task.
    pub task: String,
    /// `TakeOver` (from `sync`), `Release` (to `sync`, or to none) or `Conflict` (`sync` keeps it).
    pub change: String,
    /// The other sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<String>,
}

/// One action on a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewAction {
    /// `Create`, `Update`, `Close`, `Reopen`, `Retire`, `Comment`, `Release` or `Delete`.
    pub action: String,
    /// The ticket (none for a create).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    /// Whom it concerns: the grouping and its tasks, in words.
    pub grouping: String,
    /// The tasks of the ticket.
    pub tasks: Vec<String>,
    /// Why, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The summary of a ticket to create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Fields that change, with their current and planned values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// The comment written with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A field's current and planned value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldChange {
    /// The field.
    pub field: String,
    /// Its value now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Its value after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
}

/// A write to a task's status or state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewTaskWrite {
    /// The task.
    pub task: String,
    /// `Record` (status.jira names the ticket), `Clear` (status.jira removed) or `Complete`.
    pub write: String,
    /// The ticket recorded, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

/// The sync's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewCounts {
    /// Tasks it owns.
    pub tasks_in_scope: u32,
    /// Of those, completed.
    pub tasks_completed: u32,
    /// Tickets it keeps.
    pub tickets: u32,
}

/// What the deletion policy would do to the sync's tickets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeletionPreview {
    /// The policy.
    pub policy: DeletionPolicy,
    /// In words.
    pub effect: String,
}

/// What the report is made from, besides the plan.
pub struct Context<'a> {
    pub view: &'a SyncView<'a>,
    pub exists: bool,
    pub tickets: &'a [Arc<ObservedTicket>],
}

impl Context<'_> {
    fn empty(&self, operation: Operation) -> Preview {
        Preview {
            namespace: self.view.namespace.to_owned(),
            sync: self.view.name.to_owned(),
            operation,
            exists: self.exists,
            mode: self.view.spec.mode,
            suspended: self.view.spec.suspend,
            ownership: Vec::new(),
            actions: Vec::new(),
            task_writes: Vec::new(),
            warnings: Vec::new(),
            counts: PreviewCounts::default(),
            on_deletion: None,
            affected: Vec::new(),
            changes: false,
        }
    }

    fn ticket(&self, key: &str) -> Option<&ObservedTicket> {
        self.tickets.iter().map(Arc::as_ref).find(|t| t.key == key)
    }
}

/// The preview of applying the sync.
pub fn apply(
    context: &Context<'_>,
    input: &PlanInput<'_>,
    conflicts: &[Conflict],
    plan: &Plan,
) -> Preview {
    let mut preview = context.empty(Operation::Apply);
    preview.ownership = ownership_changes(input, conflicts);
    preview.warnings = plan.warnings.iter().map(warning).collect();
    preview.counts = PreviewCounts {
        tasks_in_scope: plan.counts.tasks_in_scope,
        tasks_completed: plan.counts.tasks_completed,
        tickets: plan.counts.tickets,
    };
    preview.on_deletion = Some(on_deletion(
        context.view.spec.deletion_policy,
        plan.counts.tickets,
    ));
    fill(&mut preview, context, plan);
    preview
}

/// The preview of deleting the sync.
pub fn deletion(context: &Context<'_>, plan: &Plan) -> Preview {
    let mut preview = context.empty(Operation::Delete);
    let tickets = u32::try_from(context.tickets.len()).unwrap_or(u32::MAX);
    preview.on_deletion = Some(on_deletion(context.view.spec.deletion_policy, tickets));
    fill(&mut preview, context, plan);
    preview
}

fn fill(preview: &mut Preview, context: &Context<'_>, plan: &Plan) {
    let namespace = context.view.namespace;
    preview.actions = plan
        .steps
        .iter()
        .map(|step| action(context, namespace, step))
        .collect();
    preview.task_writes = plan.task_writes.iter().map(task_write).collect();
    preview.changes = !preview.actions.is_empty() || !preview.task_writes.is_empty();
}

/// Takeovers (tasks this sync would own that name another sync), releases (tasks that name this
/// sync that another sync, or none, would own) and conflicts (an older sync keeps them).
fn ownership_changes(input: &PlanInput<'_>, conflicts: &[Conflict]) -> Vec<OwnershipChange> {
    let me = input.sync.name;
    let takeovers = input.tasks.iter().filter_map(|task| {
        let from = task.recorded.as_ref().map(|r| &r.sync)?;
        (from != me).then(|| OwnershipChange {
            task: task.name.clone(),
            change: "TakeOver".into(),
            sync: Some(from.clone()),
        })
    });
    let releases = input
        .others
        .iter()
        .filter(|(_, other)| other.recorded_sync.as_deref() == Some(me))
        .map(|(name, other)| OwnershipChange {
            task: name.clone(),
            change: "Release".into(),
            sync: other.owner.clone(),
        });
    let lost = conflicts.iter().map(|c| OwnershipChange {
        task: c.task.clone(),
        change: "Conflict".into(),
        sync: Some(c.winner.clone()),
    });
    takeovers.chain(releases).chain(lost).collect()
}

fn warning(warning: &Warning) -> String {
    let Warning::UnknownAssignee { email, tasks } = warning;
    format!(
        "no Jira user has the email {email}: the tickets of {} stay unassigned",
        tasks.join(", ")
    )
}

fn on_deletion(policy: DeletionPolicy, tickets: u32) -> DeletionPreview {
    let effect = match policy {
        DeletionPolicy::Retain => {
            format!("its {tickets} ticket(s) stay in Jira as they are; task statuses are cleared")
        }
        DeletionPolicy::Close => {
            format!("its {tickets} ticket(s) are closed with a comment where still open")
        }
        DeletionPolicy::Delete => format!("its {tickets} ticket(s) are deleted from Jira"),
    };
    DeletionPreview { policy, effect }
}

fn task_write(write: &TaskWrite) -> PreviewTaskWrite {
    match write {
        TaskWrite::Status { task, status } => PreviewTaskWrite {
            task: task.clone(),
            write: if status.is_some() { "Record" } else { "Clear" }.into(),
            ticket: status.as_ref().and_then(|s| s.key.clone()),
        },
        TaskWrite::Complete { task, key } => PreviewTaskWrite {
            task: task.clone(),
            write: "Complete".into(),
            ticket: Some(key.clone()),
        },
    }
}

fn action(context: &Context<'_>, namespace: &str, step: &Step) -> PreviewAction {
    let base =
        |action: &str, ticket: Option<&str>, subject: &crate::planner::Subject| PreviewAction {
            action: action.into(),
            ticket: ticket.map(str::to_owned),
            grouping: subject.describe(namespace),
            tasks: subject.tasks.clone(),
            reason: None,
            summary: None,
            changes: Vec::new(),
            comment: None,
        };
    match step {
        Step::Create(new) => PreviewAction {
            summary: Some(new.fields.summary.clone()),
            ..base("Create", None, &new.subject())
        },
        Step::Update {
            key,
            changes,
            property,
            subject,
        } => PreviewAction {
            changes: field_changes(context.ticket(key), changes, property.as_ref()),
            ..base("Update", Some(key), subject)
        },
        Step::Transition(step) => transition(namespace, step, context.ticket(&step.key)),
        Step::Comment { key, text } => PreviewAction {
            comment: Some(text.clone()),
            ..base("Comment", Some(key), &crate::planner::Subject::default())
        },
        Step::Release {
            key,
            reason,
            subject,
            ..
        } => PreviewAction {
            reason: Some(match reason {
                ReleaseReason::NotNeeded => "no task of the sync needs it".to_owned(),
                ReleaseReason::DuplicateOf(original) => format!("duplicate of {original}"),
            }),
            ..base("Release", Some(key), subject)
        },
        Step::Delete { key, subject } => PreviewAction {
            reason: Some("deletionPolicy: Delete".into()),
            ..base("Delete", Some(key), subject)
        },
    }
}

fn transition(
    namespace: &str,
    step: &TransitionStep,
    observed: Option<&ObservedTicket>,
) -> PreviewAction {
    let (action, reason) = match &step.reason {
        TransitionReason::Close(why) => ("Close", why.to_string()),
        TransitionReason::Reopen(why) => ("Reopen", why.to_string()),
        TransitionReason::RetireDuplicate { original } => {
            ("Retire", format!("duplicate of {original}"))
        }
    };
    let to = step
        .to
        .iter()
        .map(|t| match t {
            TransitionTarget::StatusName(name) => name.clone(),
            TransitionTarget::Category(category) => format!("category {}", category.key()),
        })
        .collect::<Vec<_>>()
        .join(" or ");
    PreviewAction {
        action: action.into(),
        ticket: Some(step.key.clone()),
        grouping: step.subject.describe(namespace),
        tasks: step.subject.tasks.clone(),
        reason: Some(reason),
        summary: None,
        changes: vec![FieldChange {
            field: "status".into(),
            from: observed.map(|t| t.status.clone()),
            to: Some(to),
        }],
        comment: step.comment.clone(),
    }
}

/// The fields an update changes, with the ticket's current values.
fn field_changes(
    observed: Option<&ObservedTicket>,
    changes: &IssueUpdate,
    property: Option<&TicketProperty>,
) -> Vec<FieldChange> {
    let change = |field: &str, from: Option<String>, to: Option<String>| FieldChange {
        field: field.into(),
        from,
        to,
    };
    let now = |f: fn(&ObservedTicket) -> Option<String>| observed.and_then(f);
    let mut out = Vec::new();
    if let Some(summary) = &changes.summary {
        out.push(change(
            "summary",
            now(|t| Some(t.summary.clone())),
            Some(summary.clone()),
        ));
    }
    if changes.description.is_some() {
        out.push(change("description", None, Some("rewritten".into())));
    }
    if let Some(labels) = &changes.labels {
        out.push(change(
            "labels",
            now(|t| Some(t.labels.join(","))),
            Some(labels.join(",")),
        ));
    }
    if let Some(priority) = &changes.priority {
        out.push(change(
            "priority",
            now(|t| t.priority.clone()),
            Some(priority.clone()),
        ));
    }
    if let Some(due) = &changes.due_date {
        let from = now(|t| t.due_date.map(|d| d.to_string()));
        out.push(change("duedate", from, due.map(|d| d.to_string())));
    }
    if let Some(assignee) = &changes.assignee {
        out.push(change(
            "assignee",
            now(|t| t.assignee.clone()),
            assignee.clone(),
        ));
    }
    if let Some(epic) = &changes.epic {
        out.push(change("epic", now(|t| t.epic.clone()), epic.clone()));
    }
    out.extend(property.map(|property| recorded_tasks_change(observed, property)));
    out
}

/// The tasks and states the ticket's property records now, and those it will record.
fn recorded_tasks_change(
    observed: Option<&ObservedTicket>,
    property: &TicketProperty,
) -> FieldChange {
    FieldChange {
        field: "recorded tasks".into(),
        from: observed
            .and_then(|t| t.property.as_ref())
            .map(recorded_tasks),
        to: Some(recorded_tasks(property)),
    }
}

/// `a:Open, b:Completed`.
fn recorded_tasks(property: &TicketProperty) -> String {
    let states: BTreeMap<&String, &TaskState> = property.tasks.iter().collect();
    states
        .into_iter()
        .map(|(name, state)| format!("{name}:{state:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jira::StatusCategory;
    use crate::planner::TextDigest;

    fn ticket() -> ObservedTicket {
        ObservedTicket {
            key: "SEC-1".into(),
            url: "https://jira/browse/SEC-1".into(),
            project: "SEC".into(),
            issue_type: "Task".into(),
            summary: "Old summary".into(),
            description_digest: TextDigest::of("old"),
            labels: vec!["a".into(), "b".into()],
            status: "To Do".into(),
            category: StatusCategory::New,
            priority: Some("Low".into()),
            due_date: None,
            assignee: Some("acc-1".into()),
            epic: None,
            property: None,
        }
    }

    #[test]
    fn an_update_shows_each_field_s_current_and_planned_value() {
        let update = IssueUpdate {
            summary: Some("New summary".into()),
            labels: Some(vec!["a".into(), "c".into()]),
            priority: Some("High".into()),
            due_date: Some(Some("2026-12-31".parse().expect("date"))),
            assignee: Some(None),
            ..IssueUpdate::default()
        };
        let changes = field_changes(Some(&ticket()), &update, None);
        let shown: Vec<(&str, Option<&str>, Option<&str>)> = changes
            .iter()
            .map(|c| (c.field.as_str(), c.from.as_deref(), c.to.as_deref()))
            .collect();
        assert_eq!(
            shown,
            [
                ("summary", Some("Old summary"), Some("New summary")),
                ("labels", Some("a,b"), Some("a,c")),
                ("priority", Some("Low"), Some("High")),
                ("duedate", None, Some("2026-12-31")),
                ("assignee", Some("acc-1"), None),
            ]
        );
    }

    #[test]
    fn a_plan_with_nothing_to_do_says_no_changes_and_one_with_steps_counts_them() {
        let spec: crate::api::JiraActiveSyncSpec = serde_json::from_value(serde_json::json!({
            "connectionRef": {"name": "c"}, "jira": {"project": "SEC"}, "deletionPolicy": "Close"
        }))
        .expect("a spec");
        let installation = crate::planner::Installation::parse("test").expect("valid");
        let view = SyncView {
            namespace: "ns",
            name: "s",
            labels: crate::planner::SyncLabels::of(&installation, "ns", "s"),
            spec: &spec,
            flavor: crate::jira::Flavor::Cloud,
        };
        let observed = [Arc::new(ticket())];
        let context = Context {
            view: &view,
            exists: true,
            tickets: &observed,
        };
        let quiet = deletion(&context, &Plan::default());
        assert!(!quiet.changes);
        assert!(super::super::render(&quiet).contains("its 1 ticket(s) are closed"));
        let closing = crate::planner::plan_deletion(&view, &observed, &["t".into()]);
        let preview = deletion(&context, &closing);
        assert!(preview.changes);
        assert_eq!(preview.actions[0].action, "Close");
        let status = &preview.actions[0].changes[0];
        assert_eq!(
            (status.from.as_deref(), status.to.as_deref()),
            (Some(ticket().status.as_str()), Some("category done"))
        );
        assert_eq!(preview.task_writes[0].write, "Clear");
        let text = super::super::render(&preview);
        assert!(
            text.ends_with("Plan: 0 to create, 0 to update, 1 to close, 0 to re-open, 0 to release, 0 to delete; 1 task write(s).\n"),
            "{text}"
        );
    }
}
