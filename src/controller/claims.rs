//! Wakes the syncs whose tasks move when another sync of their namespace is created, deleted, or
//! changes its scope or selector, so that moved tasks reach their new ticket (and leave their old
//! one) at once rather than at the next poll. The sync that changed is woken by its own watch.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;

use super::context::Stores;
use super::gather::namespace_claims;
use crate::api::JiraActiveSync;
use crate::planner::{SyncClaim, moved_owners};

/// The claims of each namespace as last seen.
#[derive(Debug, Default)]
pub struct ClaimWatch {
    last: Mutex<BTreeMap<String, Vec<SyncClaim>>>,
}

impl ClaimWatch {
    /// The other syncs of the namespace of `changed` whose tasks moved since its claims were
    /// last seen (the first time, every sync owning a task: all of them reconcile at start-up).
    pub fn moved(
        &self,
        stores: &Stores,
        changed: &JiraActiveSync,
    ) -> Vec<ObjectRef<JiraActiveSync>> {
        let Some(namespace) = changed.namespace() else {
            return Vec::new();
        };
        let after = namespace_claims(stores, &namespace);
        let before = self
            .last
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(namespace.clone(), after.clone())
            .unwrap_or_default();
        let tasks = stores.tasks.state();
        let of_namespace = tasks
            .iter()
            .filter(|t| t.namespace().as_deref() == Some(namespace.as_str()))
            .map(|t| (t.spec.check.as_str(), t.labels()));
        let me = changed.name_any();
        moved_owners(&before, &after, of_namespace)
            .into_iter()
            .filter(|name| *name != me)
            .map(|name| ObjectRef::new(&name).within(&namespace))
            .collect()
    }
}
