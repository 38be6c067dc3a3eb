//! The issue entity property on every ticket: the full sync metadata, read back on each pass so the
//! planner knows what the operator last wrote (which tasks, in which state, with which labels).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::api::{Mode, TaskState};

/// The entity property key.
pub const PROPERTY_KEY: &str = "activesync.dev";

/// What the operator records on a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketProperty {
    /// Namespace of the sync.
    pub namespace: String,
    /// Name of the sync.
    pub sync: String,
    /// Mode of the sync when the ticket was written.
    pub mode: Mode,
    /// The ticket's identity label.
    pub identity: String,
    /// The tasks of the ticket and their states when last written.
    pub tasks: BTreeMap<String, TaskState>,
    /// The labels from the sync's spec last put on the ticket (removed again when dropped from the spec).
    #[serde(default)]
    pub labels: Vec<String>,
    /// The epic from the sync's spec last put on the ticket (taken off again when dropped from the
    /// spec; an epic a person chose is left alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epic: Option<String>,
}
