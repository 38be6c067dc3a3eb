//! What the planner asks the executor to do.

use jiff::civil::Date;

use super::identity::TicketIdentity;
use super::property::TicketProperty;
use crate::api::TaskJiraStatus;
use crate::jira::Description;

/// Who a ticket is assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Assignee {
    /// The Jira account id.
    Account(String),
    /// Nobody.
    Unassigned,
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

/// Fields of an existing ticket to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldChanges {
    /// New summary.
    pub summary: Option<String>,
    /// New description.
    pub description: Option<Description>,
    /// Labels to add.
    pub labels_add: Vec<String>,
    /// Labels to remove.
    pub labels_remove: Vec<String>,
    /// New priority.
    pub priority: Option<String>,
    /// New due date (`Some(None)` clears it).
    pub due_date: Option<Option<Date>>,
    /// New assignee.
    pub assignee: Option<Assignee>,
    /// New epic.
    pub epic: Option<String>,
}

impl FieldChanges {
    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        *self == FieldChanges::default()
    }

    /// The names of the fields that change, for Events and logs.
    pub fn field_names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        let mut note = |changed: bool, name| {
            if changed {
                names.push(name);
            }
        };
        note(self.summary.is_some(), "summary");
        note(self.description.is_some(), "description");
        note(
            !self.labels_add.is_empty() || !self.labels_remove.is_empty(),
            "labels",
        );
        note(self.priority.is_some(), "priority");
        note(self.due_date.is_some(), "duedate");
        note(self.assignee.is_some(), "assignee");
        note(self.epic.is_some(), "epic");
        names
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

/// Why a ticket is being re-opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReopenReason {
    /// Tasks re-opened or joined a done ticket (`closure.reopen`).
    TasksReopened,
    /// The ticket was marked done in Jira while tasks are open (`jiraCompletion: Reopen`).
    DoneInJiraWhileOpen,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Create a ticket (the executor sends creates together, in bulk).
    Create(NewTicket),
    /// Change managed fields and/or the entity property of a ticket.
    Update {
        /// The ticket.
        key: String,
        /// Fields to change.
        changes: FieldChanges,
        /// The property to write, when it differs from the one observed.
        property: Option<TicketProperty>,
    },
    /// Transition a ticket into the "done" category (the closure's transition and resolution).
    Close {
        /// The ticket.
        key: String,
        /// Why.
        reason: CloseReason,
        /// The comment to add, if any.
        comment: Option<String>,
        /// The tasks whose status must show the ticket's new status afterwards.
        tasks: Vec<String>,
    },
    /// Transition a done ticket back to work.
    Reopen {
        /// The ticket.
        key: String,
        /// Why.
        reason: ReopenReason,
        /// The comment to add.
        comment: Option<String>,
        /// The tasks whose status must show the ticket's new status afterwards.
        tasks: Vec<String>,
    },
    /// Stop managing a ticket: remove the operator's labels so no sync finds it again.
    Release {
        /// The ticket.
        key: String,
        /// The labels to remove.
        labels: Vec<String>,
    },
    /// A second ticket with the identity of another: close it, say which one it duplicates, release it.
    RetireDuplicate {
        /// The duplicate.
        key: String,
        /// The ticket kept.
        original: String,
        /// The labels to remove.
        labels: Vec<String>,
    },
    /// Delete a ticket (`deletionPolicy: Delete`).
    Delete {
        /// The ticket.
        key: String,
    },
    /// Write (or, with `None`, clear) `status.jira` of a task.
    WriteTaskStatus {
        /// The task.
        task: String,
        /// What to write.
        status: Option<TaskJiraStatus>,
    },
    /// Mark a task Completed because its ticket was done in Jira (`jiraCompletion: CompleteTasks`).
    CompleteTask {
        /// The task.
        task: String,
        /// The ticket that was done.
        key: String,
    },
    /// A create of this identity was sent and may not be searchable yet: wait rather than create twice.
    AwaitSearchIndex {
        /// The identity label.
        identity: String,
        /// When to look again.
        until: jiff::Timestamp,
    },
}

impl Action {
    /// Whether the action writes to Jira.
    pub fn writes_jira(&self) -> bool {
        !matches!(
            self,
            Action::WriteTaskStatus { .. }
                | Action::CompleteTask { .. }
                | Action::AwaitSearchIndex { .. }
        )
    }
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
