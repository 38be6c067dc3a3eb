//! What deleting a source does to its tasks, by its `taskDeletionPolicy`: complete the open ones
//! (syncs then close their tickets by their own closure rule), or delete them all.

use super::plan::{ExistingTask, TaskApply, completion};
use crate::api::{TaskDeletionPolicy, TaskState};

/// The writes a source's deletion needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeletionPlan {
    /// Tasks to complete.
    pub completions: Vec<TaskApply>,
    /// Tasks to delete, by name.
    pub deletions: Vec<String>,
}

/// Plans the deletion of a source owning `tasks`.
pub fn deletion(policy: TaskDeletionPolicy, tasks: &[ExistingTask]) -> DeletionPlan {
    match policy {
        TaskDeletionPolicy::Complete => DeletionPlan {
            completions: tasks
                .iter()
                .filter(|t| t.spec.state == TaskState::Open)
                .map(completion)
                .collect(),
            deletions: Vec::new(),
        },
        TaskDeletionPolicy::Delete => DeletionPlan {
            completions: Vec::new(),
            deletions: tasks.iter().map(|t| t.name.clone()).collect(),
        },
    }
}
