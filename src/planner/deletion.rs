//! The deletion plan, run by the finalizer when a sync is deleted: its `deletionPolicy` decides what
//! happens to the tickets found by the sync's label (not only those recorded on tasks).

use std::sync::Arc;

use super::actions::{Action, CloseReason};
use super::inputs::{ObservedTicket, SyncView};
use crate::api::DeletionPolicy;
use crate::jira::StatusCategory;

/// What to do before the finalizer lets the sync go. `recorded_tasks` are the tasks whose status
/// names this sync; their statuses are cleared whatever the policy.
pub fn plan_deletion(
    sync: &SyncView<'_>,
    tickets: &[Arc<ObservedTicket>],
    recorded_tasks: &[String],
) -> Vec<Action> {
    let mut actions: Vec<Action> = match sync.spec.deletion_policy {
        DeletionPolicy::Retain => Vec::new(),
        DeletionPolicy::Delete => tickets
            .iter()
            .map(|t| Action::Delete { key: t.key.clone() })
            .collect(),
        DeletionPolicy::Close => tickets
            .iter()
            .filter(|t| t.category != StatusCategory::Done)
            .map(|t| Action::Close {
                key: t.key.clone(),
                reason: CloseReason::SyncDeleted,
                comment: Some(format!(
                    "Closed: the JiraActiveSync {}/{} that kept this ticket was deleted \
                     (deletionPolicy: Close).",
                    sync.namespace, sync.name
                )),
                tasks: Vec::new(),
            })
            .collect(),
    };
    actions.extend(recorded_tasks.iter().map(|task| Action::WriteTaskStatus {
        task: task.clone(),
        status: None,
    }));
    actions
}
