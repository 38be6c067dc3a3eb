//! What each source wrote in its last pass, so that the next pass waits until the task store
//! shows those writes: planned from a store that lags behind, a pass would create a task again
//! with a new first-seen time, or put back what it had just written.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use kube::ResourceExt;
use kube::runtime::reflector::Store;

use crate::api::ComplianceTask;
use crate::sources::TaskApply;

/// How long a pass waits for the store to show the last pass's writes; past it, the pass
/// plans anyway (a write that failed never shows).
const SETTLE_WAIT: Duration = Duration::from_secs(5);

/// By source (namespace, name): each task written and its resourceVersion before the write
/// (`None`: it did not exist).
type Written = HashMap<(String, String), HashMap<String, Option<String>>>;

/// The tasks each source wrote in its last pass.
#[derive(Default)]
pub struct WrittenTasks {
    written: Mutex<Written>,
}

impl WrittenTasks {
    /// Records the tasks a pass is about to write, with their versions in the store now.
    pub fn record(
        &self,
        tasks: &Store<ComplianceTask>,
        namespace: &str,
        source: &str,
        applies: &[TaskApply],
    ) {
        let before: HashMap<String, Option<String>> = applies
            .iter()
            .map(|a| {
                let name = &a.task.name;
                let version = version_of(tasks, namespace, name);
                (name.clone(), version)
            })
            .collect();
        self.lock()
            .insert((namespace.to_owned(), source.to_owned()), before);
    }

    /// Waits until the store shows a new version of every task the source's last pass wrote.
    pub async fn settle(&self, tasks: &Store<ComplianceTask>, namespace: &str, source: &str) {
        let key = (namespace.to_owned(), source.to_owned());
        let Some(before) = self.lock().remove(&key) else {
            return;
        };
        let deadline = tokio::time::Instant::now() + SETTLE_WAIT;
        let shown = || {
            before.iter().all(|(name, was)| {
                let now = version_of(tasks, namespace, name);
                now.is_some() && now != *was
            })
        };
        while !shown() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Written> {
        self.written.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn version_of(tasks: &Store<ComplianceTask>, namespace: &str, name: &str) -> Option<String> {
    let reference = kube::runtime::reflector::ObjectRef::new(name).within(namespace);
    tasks.get(&reference).and_then(|t| t.resource_version())
}
