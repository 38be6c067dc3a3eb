//! What a plan asks for, as data: the Jira steps per ticket, the task writes, and when to look
//! again. Every choice is made by the planner; the executor only carries these out.

use std::fmt;

use jiff::civil::Date;

use super::identity::{GroupKey, TicketIdentity};
use super::property::TicketProperty;
use crate::api::TaskJiraStatus;
use crate::jira::{Description, IssueUpdate, StatusCategory, TransitionTarget};

/// Tasks named in a subject's description; the rest are counted.
const LISTED_TASKS: usize = 10;

/// Who a ticket is assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignee {
    /// The Jira account id.
    Account(String),
    /// Nobody.
    Unassigned,
}

impl TicketFields {
    /// The account a new ticket is assigned to, if any.
    pub fn assignee_account(&self) -> Option<String> {
        match &self.assignee {
            Some(Assignee::Account(id)) => Some(id.clone()),
            Some(Assignee::Unassigned) | None => None,
        }
    }
}

/// The managed fields of a ticket as they should be.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketFields {
    /// Summary (at most 255 characters).
    pub summary: String,
    /// Description model, rendered for the site's flavor by the client.
    pub description: Description,
    /// Every label: the identity labels and the spec's labels.
    pub labels: Vec<String>,
    /// Priority name, when the sync's priority map names one.
    pub priority: Option<String>,
    /// Due date.
    pub due_date: Option<Date>,
    /// Assignee; `None` leaves it alone (the email is not resolved yet).
    pub assignee: Option<Assignee>,
    /// Epic key.
    pub epic: Option<String>,
}

/// A ticket to create.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTicket {
    /// What the ticket stands for.
    pub identity: TicketIdentity,
    /// Its fields.
    pub fields: TicketFields,
    /// The entity property to set at creation, atomically with it.
    pub property: TicketProperty,
    /// The tasks whose status must name the ticket once it exists.
    pub tasks: Vec<String>,
}

impl NewTicket {
    /// Whom the create concerns, for Events.
    pub fn subject(&self) -> Subject {
        Subject {
            identity: Some(self.identity.clone()),
            tasks: self.tasks.clone(),
        }
    }
}

/// Whom a ticket step concerns, for Events and logs: the ticket's identity and its tasks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// What the ticket stands for, when known.
    pub identity: Option<TicketIdentity>,
    /// Its tasks (names in the sync's namespace).
    pub tasks: Vec<String>,
}

impl Subject {
    /// "ns/a, ns/b": the first few tasks, and how many more there are.
    pub fn task_list(&self, namespace: &str) -> String {
        let mut list = self
            .tasks
            .iter()
            .take(LISTED_TASKS)
            .map(|t| format!("{namespace}/{t}"))
            .collect::<Vec<_>>()
            .join(", ");
        if self.tasks.len() > LISTED_TASKS {
            list.push_str(&format!(" and {} more", self.tasks.len() - LISTED_TASKS));
        }
        list
    }

    /// "task ns/a (Individual)", "tasks of alice@example.com: ns/a, ns/b (Batch)"; a long list
    /// names the first few and counts the rest.
    pub fn describe(&self, namespace: &str) -> String {
        let list = self.task_list(namespace);
        match &self.identity {
            Some(TicketIdentity::Group(GroupKey::Unassigned)) => {
                format!("unassigned tasks: {list} (Batch)")
            }
            Some(TicketIdentity::Group(GroupKey::Assignee(email))) => {
                format!("tasks of {email}: {list} (Batch)")
            }
            Some(TicketIdentity::Task(_)) | None => format!("task {list} (Individual)"),
        }
    }
}

/// Why a ticket is being closed, which decides its comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseReason {
    /// Every task of the ticket is completed (the closure rule).
    TasksCompleted,
    /// The ticket's tasks are gone: deleted, or moved out of the sync's scope.
    TasksGone,
    /// The sync was deleted with `deletionPolicy: Close`.
    SyncDeleted,
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CloseReason::TasksCompleted => "every task completed",
            CloseReason::TasksGone => "its tasks left the sync",
            CloseReason::SyncDeleted => "the sync was deleted (deletionPolicy: Close)",
        })
    }
}

/// Why a ticket is being re-opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReopenReason {
    /// Tasks re-opened or joined a done ticket (`closure.reopen`).
    TasksReopened,
    /// The ticket was marked done in Jira while tasks are open (`jiraCompletion: Reopen`).
    DoneInJiraWhileOpen,
}

impl fmt::Display for ReopenReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReopenReason::TasksReopened => "tasks re-opened or joined",
            ReopenReason::DoneInJiraWhileOpen => {
                "done in Jira while tasks are open (jiraCompletion: Reopen)"
            }
        })
    }
}

/// Why a ticket moves through its workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionReason {
    /// Into the done category.
    Close(CloseReason),
    /// Back to work.
    Reopen(ReopenReason),
    /// A duplicate of `original` is closed before it is released.
    RetireDuplicate {
        /// The ticket kept.
        original: String,
    },
}

/// Why the operator stops keeping a ticket in step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReleaseReason {
    /// No task of the sync needs it.
    NotNeeded,
    /// It duplicates `original`, which carries the same tasks.
    DuplicateOf(String),
}

/// A move through the workflow, carried out only from the categories the plan expects: Jira's
/// search lags behind its writes, so a pass can plan a move an earlier pass already made; the
/// executor re-reads the ticket and leaves it as it is when its category is not in `only_from`.
#[derive(Debug, Clone, PartialEq)]
pub struct TransitionStep {
    /// The ticket.
    pub key: String,
    /// Its browse URL, for the task statuses written afterwards.
    pub url: String,
    /// Where to, in order of preference: the executor walks the transitions Jira offers (at most
    /// `jira::MAX_HOPS`) until one reaches a target.
    pub to: Vec<TransitionTarget>,
    /// The categories the ticket must be in for the move to be made.
    pub only_from: Vec<StatusCategory>,
    /// The resolution to set where a transition screen takes one; `None`: the first one it lists.
    pub resolution: Option<String>,
    /// Screen fields (field id -> value) sent on the transitions whose screen has them.
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// The comment added with the move.
    pub comment: Option<String>,
    /// Why.
    pub reason: TransitionReason,
    /// The tasks whose status must show the ticket's status afterwards.
    pub tasks: Vec<String>,
    /// Whom it concerns.
    pub subject: Subject,
}

/// One step on Jira. Steps on one ticket keep their order and stop at the first failure of a step
/// that [stops on failure](Step::stops_on_failure).
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Create a ticket (creates are sent together, in bulk).
    Create(NewTicket),
    /// Change managed fields (labels as the complete set) and/or the entity property.
    Update {
        /// The ticket.
        key: String,
        /// Fields to change.
        changes: IssueUpdate,
        /// The property to write, when it differs from the one observed.
        property: Option<TicketProperty>,
        /// Whom it concerns.
        subject: Subject,
    },
    /// Move the ticket through its workflow.
    Transition(TransitionStep),
    /// Add a comment.
    Comment {
        /// The ticket.
        key: String,
        /// The text.
        text: String,
    },
    /// Stop managing a ticket: set its labels to `labels`, without the operator's.
    Release {
        /// The ticket.
        key: String,
        /// The complete label set it keeps.
        labels: Vec<String>,
        /// Why.
        reason: ReleaseReason,
        /// Whom it concerns.
        subject: Subject,
    },
    /// Delete a ticket (`deletionPolicy: Delete`).
    Delete {
        /// The ticket.
        key: String,
        /// Whom it concerns.
        subject: Subject,
    },
}

impl Step {
    /// Whether a failure of this step holds back the ticket's later steps. An edit does not: a
    /// field Jira refuses, or a property it cannot store, never keeps a ticket from closing or
    /// re-opening. A failed move does: a duplicate is not released, nor a comment added, unless
    /// it was closed.
    pub fn stops_on_failure(&self) -> bool {
        !matches!(self, Step::Update { .. })
    }

    /// The ticket a step acts on; `None` for a create.
    pub fn key(&self) -> Option<&str> {
        match self {
            Step::Create(_) => None,
            Step::Update { key, .. }
            | Step::Comment { key, .. }
            | Step::Release { key, .. }
            | Step::Delete { key, .. } => Some(key),
            Step::Transition(step) => Some(&step.key),
        }
    }
}

/// A write to a task.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskWrite {
    /// Write (or, with `None`, clear) `status.jira` of a task.
    Status {
        /// The task.
        task: String,
        /// What to write.
        status: Option<TaskJiraStatus>,
    },
    /// Mark a task Completed because its ticket was done in Jira (`jiraCompletion: CompleteTasks`).
    Complete {
        /// The task.
        task: String,
        /// The ticket that was done.
        key: String,
    },
}

/// Something the user should hear about that is not an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A task's assignee email matches no Jira user: the ticket stays unassigned.
    UnknownAssignee {
        /// The email.
        email: String,
        /// The tasks that name it.
        tasks: Vec<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_of_many_tasks_is_named_in_part_and_counted() {
        let subject = Subject {
            identity: Some(TicketIdentity::Group(GroupKey::of(Some(
                "alice@example.com",
            )))),
            tasks: (0..200).map(|i| format!("t{i}")).collect(),
        };
        let text = subject.describe("ns");
        assert!(text.starts_with("tasks of alice@example.com: ns/t0, ns/t1,"));
        assert!(text.ends_with("ns/t9 and 190 more (Batch)"), "{text}");
        assert!(text.len() < 1024);
        let few = Subject {
            identity: None,
            tasks: vec!["a".into()],
        };
        assert_eq!(few.describe("ns"), "task ns/a (Individual)");
        let unassigned = Subject {
            identity: Some(TicketIdentity::Group(GroupKey::Unassigned)),
            tasks: vec!["b".into()],
        };
        assert_eq!(unassigned.describe("ns"), "unassigned tasks: ns/b (Batch)");
    }
}
