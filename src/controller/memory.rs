//! What the operator remembers of each sync between passes, in one place: its tickets as last read,
//! the creates search may not show yet, and which spec generation's Jira target checked out.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};

use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;

use super::audit::RecentActions;
use super::error::Error;
use super::tickets::TicketKnowledge;
use crate::api::JiraActiveSync;
use crate::planner::{Installation, PendingCreates, Settled, SyncLabels};

/// A sync, by namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SyncKey {
    /// The sync's namespace.
    pub namespace: String,
    /// The sync's name.
    pub name: String,
}

impl SyncKey {
    /// The key of a sync read from the API server.
    pub fn of(sync: &JiraActiveSync) -> Result<SyncKey, Error> {
        Ok(SyncKey {
            namespace: sync
                .namespace()
                .ok_or(Error::MissingMetadata("namespace"))?,
            name: sync.name_any(),
        })
    }

    /// The labels that find the sync's tickets in this installation.
    pub fn labels(&self, installation: &Installation) -> SyncLabels {
        SyncLabels::of(installation, &self.namespace, &self.name)
    }

    /// The reference that wakes the sync.
    pub fn object_ref(&self) -> ObjectRef<JiraActiveSync> {
        ObjectRef::new(&self.name).within(&self.namespace)
    }
}

impl fmt::Display for SyncKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// What is remembered of one sync.
#[derive(Debug, Default)]
pub struct SyncMemory {
    /// Its tickets as last read, and those to re-read.
    pub tickets: TicketKnowledge,
    /// Creates sent that search may not show yet.
    pub pending: PendingCreates,
    /// Whether the pending creates its status records were read back since this process started:
    /// they outlive a crash, while later the in-memory record is the newer one.
    pub restored_pending: bool,
    /// The spec generation whose Jira target (project, issue type, epic) checked out.
    pub checked_generation: Option<i64>,
    /// Failed attempts at the deletion policy in a row, for the backoff between them.
    pub deletion_attempts: u32,
    /// Its last actions on tickets, for `status.recentActions`.
    pub recent: RecentActions,
    /// The units of its last plan that planned nothing, left out of the next plan while they stay
    /// the same.
    pub settled: Settled,
}

/// The memory of every sync of a scope.
#[derive(Debug, Default)]
pub struct Memory {
    syncs: Mutex<HashMap<SyncKey, SyncMemory>>,
}

impl Memory {
    /// Runs `f` on the memory of `sync` (made empty if there is none yet).
    pub fn with<R>(&self, sync: &SyncKey, f: impl FnOnce(&mut SyncMemory) -> R) -> R {
        let mut syncs = self.syncs.lock().unwrap_or_else(PoisonError::into_inner);
        f(syncs.entry(sync.clone()).or_default())
    }

    /// The syncs whose known tickets include `key`.
    pub fn syncs_knowing(&self, key: &str) -> Vec<SyncKey> {
        let syncs = self.syncs.lock().unwrap_or_else(PoisonError::into_inner);
        syncs
            .iter()
            .filter(|(_, memory)| memory.tickets.knows(key))
            .map(|(sync, _)| sync.clone())
            .collect()
    }

    /// Forgets a deleted sync.
    pub fn forget(&self, sync: &SyncKey) {
        let mut syncs = self.syncs.lock().unwrap_or_else(PoisonError::into_inner);
        syncs.remove(sync);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(name: &str) -> SyncKey {
        SyncKey {
            namespace: "ns".into(),
            name: name.into(),
        }
    }

    #[test]
    fn each_sync_has_its_own_memory_until_it_is_forgotten() {
        let memory = Memory::default();
        memory.with(&key("a"), |m| {
            m.checked_generation = Some(3);
            m.pending
                .note("jas-task.x".into(), jiff::Timestamp::UNIX_EPOCH);
        });
        assert_eq!(memory.with(&key("a"), |m| m.checked_generation), Some(3));
        assert!(memory.with(&key("b"), |m| m.pending.is_empty()));
        memory.forget(&key("a"));
        assert!(memory.with(&key("a"), |m| m.pending.is_empty()
            && m.checked_generation.is_none()));
        assert_eq!(key("a").to_string(), "ns/a");
    }
}
