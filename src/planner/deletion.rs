//! The deletion plan, run by the finalizer when a sync is deleted: its `deletionPolicy` decides what
//! happens to the tickets found by the sync's label (not only those recorded on tasks).

use std::sync::Arc;

use super::inputs::{ObservedTicket, SyncView};
use super::plan::{Plan, close};
use super::steps::{CloseReason, Step, TaskWrite};
use crate::api::DeletionPolicy;
use crate::jira::StatusCategory;

/// What to do before the finalizer lets the sync go. `recorded_tasks` are the tasks whose status
/// names this sync; their statuses are cleared whatever the policy.
pub fn plan_deletion(
    sync: &SyncView<'_>,
    tickets: &[Arc<ObservedTicket>],
    recorded_tasks: &[String],
) -> Plan {
    let steps = match sync.spec.deletion_policy {
        DeletionPolicy::Retain => Vec::new(),
        DeletionPolicy::Delete => tickets
            .iter()
            .map(|t| Step::Delete {
                key: t.key.clone(),
                subject: t.subject(),
            })
            .collect(),
        DeletionPolicy::Close => tickets
            .iter()
            .filter(|t| t.category != StatusCategory::Done)
            .map(|t| {
                let comment = format!(
                    "Closed: the JiraActiveSync {}/{} that kept this ticket was deleted \
                     (deletionPolicy: Close).",
                    sync.namespace, sync.name
                );
                Step::Transition(close(
                    t,
                    &sync.spec.closure,
                    CloseReason::SyncDeleted,
                    Some(comment),
                ))
            })
            .collect(),
    };
    let task_writes = recorded_tasks
        .iter()
        .map(|task| TaskWrite::Status {
            task: task.clone(),
            status: None,
        })
        .collect();
    Plan {
        steps,
        task_writes,
        ..Plan::default()
    }
}
