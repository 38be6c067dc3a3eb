//! What deleting a source does to its tasks, by its `taskDeletionPolicy`: complete them (syncs
//! then close their tickets by their own closure rule), or delete them all. Completed tasks are
//! applied without the source's owner reference, so that the garbage collector leaves them when
//! the source is gone.

use super::plan::{ExistingTask, TaskApply, completion};
use crate::api::TaskDeletionPolicy;

/// The writes a source's deletion needs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeletionPlan {
    /// Tasks to complete and release (every task, the completed ones only released).
    pub completions: Vec<TaskApply>,
    /// Tasks to delete, by name.
    pub deletions: Vec<String>,
}

/// Plans the deletion of a source owning `tasks`.
pub fn deletion(policy: TaskDeletionPolicy, tasks: &[ExistingTask]) -> DeletionPlan {
    match policy {
        TaskDeletionPolicy::Complete => DeletionPlan {
            completions: tasks.iter().map(completion).collect(),
            deletions: Vec::new(),
        },
        TaskDeletionPolicy::Delete => DeletionPlan {
            completions: Vec::new(),
            deletions: tasks.iter().map(|t| t.name.clone()).collect(),
        },
    }
}
