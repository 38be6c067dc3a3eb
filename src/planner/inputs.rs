//! What the planner is given: the sync, its tasks, and the tickets observed in Jira.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::Timestamp;
use jiff::civil::Date;
use sha2::{Digest, Sha256};

use super::identity::{SyncLabels, TicketIdentity, is_identity_label, is_operator_label};
use super::pending::PendingCreates;
use super::property::TicketProperty;
use super::steps::Subject;
use crate::api::{ComplianceTaskSpec, JiraActiveSyncSpec, TaskJiraStatus};
use crate::jira::{Flavor, StatusCategory};

/// The sync being planned.
#[derive(Debug, Clone)]
pub struct SyncView<'a> {
    /// Namespace of the sync and of its tasks.
    pub namespace: &'a str,
    /// Name of the sync.
    pub name: &'a str,
    /// The labels that find the sync's tickets (they name its installation), made once per pass.
    pub labels: SyncLabels,
    /// The sync's spec.
    pub spec: &'a JiraActiveSyncSpec,
    /// The flavor of the Jira site, which decides how descriptions are rendered.
    pub flavor: Flavor,
}

/// A task the sync owns.
#[derive(Debug, Clone, Hash)]
pub struct TaskView {
    /// The task's name (unique in the namespace).
    pub name: String,
    /// The task's spec.
    pub spec: ComplianceTaskSpec,
    /// What the task's status says about its ticket now.
    pub recorded: Option<TaskJiraStatus>,
}

/// A task of the namespace that this sync does not own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OtherTask {
    /// The sync that owns it, if any.
    pub owner: Option<String>,
    /// Which sync its status names, if any.
    pub recorded_sync: Option<String>,
}

/// SHA-256 of a text: equal digests mean equal texts (collisions cannot be made on purpose).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TextDigest([u8; 32]);

impl TextDigest {
    /// The digest of `text`.
    pub fn of(text: &str) -> TextDigest {
        TextDigest(Sha256::digest(text.as_bytes()).into())
    }
}

/// A ticket of this sync, as read from Jira.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObservedTicket {
    /// Issue key, e.g. `SEC-42`.
    pub key: String,
    /// Browse URL.
    pub url: String,
    /// Project key.
    pub project: String,
    /// Issue type name.
    pub issue_type: String,
    /// Summary.
    pub summary: String,
    /// Digest of the description's plain text, comparable with the rendered plain text's. A digest,
    /// not the text: the ticket cache holds every ticket of a sync between passes.
    pub description_digest: TextDigest,
    /// Labels.
    pub labels: Vec<String>,
    /// Status name.
    pub status: String,
    /// Status category.
    pub category: StatusCategory,
    /// Priority name.
    pub priority: Option<String>,
    /// Due date.
    pub due_date: Option<Date>,
    /// Assignee account id.
    pub assignee: Option<String>,
    /// Epic key.
    pub epic: Option<String>,
    /// The operator's entity property, if present and readable.
    pub property: Option<TicketProperty>,
}

impl ObservedTicket {
    /// The labels the operator manages on this ticket (sync, task and group labels).
    pub fn operator_labels(&self) -> impl Iterator<Item = &String> {
        self.labels.iter().filter(|l| is_operator_label(l))
    }

    /// The labels the ticket keeps once the sync releases it: its own, and the sync's released
    /// label (through which `deletionPolicy: Delete` still finds it).
    pub fn released_labels(&self, sync: &SyncLabels) -> Vec<String> {
        let mut labels: Vec<String> = self
            .labels
            .iter()
            .filter(|l| !is_operator_label(l))
            .cloned()
            .collect();
        labels.push(sync.released.clone());
        labels
    }

    /// The identity label: the one on the ticket, else the one its property records (a person may
    /// have removed the label).
    pub fn identity_label(&self) -> Option<String> {
        self.labels
            .iter()
            .find(|l| is_identity_label(l))
            .cloned()
            .or_else(|| self.property.as_ref().map(|p| p.identity.clone()))
    }

    /// Whom the ticket concerns: its identity and the tasks its property records.
    pub fn subject(&self) -> Subject {
        Subject {
            identity: self
                .identity_label()
                .and_then(|l| TicketIdentity::from_label(&l)),
            tasks: self
                .property
                .as_ref()
                .map(|p| p.tasks.keys().cloned().collect())
                .unwrap_or_default(),
        }
    }

    /// The issue number, for ordering tickets by age (lower is older).
    pub fn number(&self) -> u64 {
        self.key
            .rsplit_once('-')
            .and_then(|(_, n)| n.parse().ok())
            .unwrap_or(u64::MAX)
    }
}

/// How a task's assignee email resolved to a Jira account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AccountLookup {
    /// The Jira account id.
    Found(String),
    /// Jira has no user with that email: the ticket stays unassigned.
    Unknown,
}

/// Everything a plan is made from.
#[derive(Debug, Clone)]
pub struct PlanInput<'a> {
    /// The sync.
    pub sync: SyncView<'a>,
    /// Tasks the sync owns.
    pub tasks: Vec<TaskView>,
    /// Other tasks of the namespace, by name.
    pub others: BTreeMap<String, OtherTask>,
    /// Tickets found in Jira by the sync's label.
    pub tickets: Vec<Arc<ObservedTicket>>,
    /// Assignee emails (lower-cased) resolved so far; an email missing here leaves the assignee alone.
    pub accounts: BTreeMap<String, AccountLookup>,
    /// Creates that were sent but not yet seen in search.
    pub pending_creates: PendingCreates,
    /// How long a created ticket may take to appear in search results.
    pub search_settle: jiff::SignedDuration,
    /// The time of planning.
    pub now: Timestamp,
}
