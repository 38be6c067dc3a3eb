//! What every reconcile shares: the Kubernetes client, the Jira clients of the connections, the
//! reflector stores, the Event recorder, metrics and the triggers that wake syncs.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use futures::channel::mpsc::UnboundedSender;
use kube::ResourceExt;
use kube::runtime::reflector::{ObjectRef, Store};

use super::claims::ClaimWatch;
use super::error::{AUTHENTICATION_FAILED, FORBIDDEN};
use super::events::Publisher;
use super::memory::{Memory, SyncKey};
use super::metrics::{AuthFailureLabels, Metrics};
use crate::api::{ComplianceTask, JiraActiveSync, JiraConnection};
use crate::jira::{JiraClient, PrincipalShares};
use crate::planner::{Installation, SyncLabels};

/// Settings of the operator process.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How long a created ticket may take to appear in Jira's search results; a create whose answer
    /// was lost is not repeated within this window.
    pub search_settle: jiff::SignedDuration,
    /// Field manager and Event reporter name.
    pub manager: String,
    /// Whether task sources may read cluster-scoped reports (ClusterPolicyReport, ClusterReport).
    pub cluster_reports: bool,
    /// The operator installation's identity, part of every ticket's sync label.
    pub installation: Installation,
}

/// A Jira client built for one connection, with what it was built from.
#[derive(Clone)]
pub struct ConnectedClient {
    /// The client.
    pub client: JiraClient,
    /// The connection's generation and its Secrets' resourceVersions (credentials, CA, webhook), so
    /// a change to any rebuilds the client.
    pub built_from: (String, String),
    /// The webhook HMAC secret, if the connection names one.
    pub webhook_secret: Option<String>,
}

/// The reflector stores of one watched scope (all namespaces, or one).
#[derive(Clone)]
pub struct Stores {
    /// Every sync.
    pub syncs: Store<JiraActiveSync>,
    /// Every task.
    pub tasks: Store<ComplianceTask>,
    /// Every connection.
    pub connections: Store<JiraConnection>,
}

/// What every scope of the process shares.
#[derive(Clone)]
pub struct Shared {
    /// Publishes Events.
    pub events: Arc<Publisher>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// What the clients of one Jira site and principal share (looked-up users, Jira's pauses).
    pub principals: Arc<PrincipalShares>,
}

/// Shared by every reconcile of a scope.
pub struct Context {
    /// The Kubernetes client.
    pub kube: kube::Client,
    /// Publishes Events.
    pub events: Arc<Publisher>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Process settings.
    pub settings: Settings,
    /// The stores of this scope.
    pub stores: Stores,
    /// What is remembered of each sync between passes.
    pub memory: Memory,
    /// The claims of each namespace's syncs as last seen, to wake the syncs whose tasks move.
    claims: ClaimWatch,
    /// What the clients of one Jira site and principal share, in every scope.
    pub principals: Arc<PrincipalShares>,
    /// Jira clients by connection (namespace, name).
    clients: Mutex<HashMap<(String, String), ConnectedClient>>,
    /// The last client of each connection whose client was dropped (its Secret deleted or unusable):
    /// a sync being deleted may still need it for its deletion policy.
    retired: Mutex<HashMap<(String, String), JiraClient>>,
    /// Wakes a sync out of turn (webhooks, connections becoming ready).
    triggers: UnboundedSender<ObjectRef<JiraActiveSync>>,
    /// Wakes a connection out of turn (a sync's credentials refused).
    connection_triggers: UnboundedSender<ObjectRef<JiraConnection>>,
}

/// Waits until a reflector store holds its first full list. kube's `wait_until_ready` wakes only
/// the last of several concurrent waiters (one oneshot receiver, one waker), so a reconcile waiting
/// beside the readiness probe could sleep forever; each wait is therefore short and repeated.
pub async fn filled<K>(store: &Store<K>)
where
    K: kube::Resource + Clone + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone,
{
    while tokio::time::timeout(
        std::time::Duration::from_millis(100),
        store.wait_until_ready(),
    )
    .await
    .is_err()
    {}
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Context {
    /// A context for one scope.
    pub fn new(
        kube: kube::Client,
        shared: &Shared,
        settings: Settings,
        stores: Stores,
        triggers: UnboundedSender<ObjectRef<JiraActiveSync>>,
        connection_triggers: UnboundedSender<ObjectRef<JiraConnection>>,
    ) -> Context {
        Context {
            kube,
            events: shared.events.clone(),
            metrics: shared.metrics.clone(),
            principals: shared.principals.clone(),
            settings,
            stores,
            memory: Memory::default(),
            claims: ClaimWatch::default(),
            clients: Mutex::default(),
            retired: Mutex::default(),
            triggers,
            connection_triggers,
        }
    }

    /// The cached client of a connection, if built from its current version.
    pub fn client(
        &self,
        key: &(String, String),
        built_from: &(String, String),
    ) -> Option<ConnectedClient> {
        lock(&self.clients)
            .get(key)
            .filter(|c| &c.built_from == built_from)
            .cloned()
    }

    /// Caches a connection's client.
    pub fn store_client(&self, key: (String, String), client: ConnectedClient) {
        lock(&self.clients).insert(key, client);
    }

    /// Forgets a connection's client (deleted, or its Secret is unusable); it is kept only as the
    /// connection's last client, for cleanup.
    pub fn forget_client(&self, key: &(String, String)) {
        if let Some(gone) = lock(&self.clients).remove(key) {
            lock(&self.retired).insert(key.clone(), gone.client);
        }
    }

    /// The client last built for a connection, current or forgotten: the credentials last loaded,
    /// for a deletion policy to run when the Secret went first.
    pub fn last_client(&self, key: &(String, String)) -> Option<JiraClient> {
        let current = lock(&self.clients).get(key).map(|c| c.client.clone());
        current.or_else(|| lock(&self.retired).get(key).cloned())
    }

    /// Wakes the connection `namespace/name` now.
    pub fn trigger_connection(&self, namespace: &str, name: &str) {
        // As with syncs, nothing needs waking after shutdown.
        let reference = ObjectRef::new(name).within(namespace);
        let _ = self.connection_triggers.unbounded_send(reference);
    }

    /// The webhook secrets of every connection that has one.
    pub fn webhook_secrets(&self) -> Vec<String> {
        lock(&self.clients)
            .values()
            .filter_map(|c| c.webhook_secret.clone())
            .collect()
    }

    /// The webhook secret of the connection `namespace/name`: `None` while it has no client
    /// (unknown, or not checked yet), `Some(None)` when it names no secret.
    pub fn webhook_secret_of(&self, namespace: &str, name: &str) -> Option<Option<String>> {
        lock(&self.clients)
            .get(&(namespace.to_owned(), name.to_owned()))
            .map(|c| c.webhook_secret.clone())
    }

    /// A sync's spec or finalizers changed (or it appeared): wakes the other syncs of its
    /// namespace that gain or lose tasks by it.
    pub fn sync_changed(&self, sync: &JiraActiveSync) {
        for moved in self.claims.moved(&self.stores, sync) {
            tracing::debug!(sync = %moved, changed = %sync.name_any(), "tasks moved between syncs; waking");
            self.trigger(moved);
        }
    }

    /// A sync is gone from the cluster: its connection may no longer be in use.
    pub fn sync_gone(&self, sync: &JiraActiveSync) {
        if let Some(namespace) = sync.namespace() {
            self.trigger_connection(&namespace, &sync.spec.connection_ref.name);
        }
    }

    /// Wakes a sync now.
    pub fn trigger(&self, sync: ObjectRef<JiraActiveSync>) {
        // The receiver lives as long as the controller; after shutdown nothing needs waking.
        let _ = self.triggers.unbounded_send(sync);
    }

    /// Counts a refusal of a connection's credentials (`reason` `AuthenticationFailed` or
    /// `Forbidden`; other reasons are not about credentials). A sync that met it wakes the
    /// connection, whose conditions then say what to rotate or grant without waiting for its
    /// next check.
    pub fn credentials_refused(
        &self,
        namespace: &str,
        connection: &str,
        reason: &str,
        from_sync: bool,
    ) {
        let reason = match reason {
            AUTHENTICATION_FAILED => AUTHENTICATION_FAILED,
            FORBIDDEN => FORBIDDEN,
            _ => return,
        };
        self.metrics
            .authentication_failures
            .get_or_create(&AuthFailureLabels {
                namespace: namespace.to_owned(),
                connection: connection.to_owned(),
                reason,
            })
            .inc();
        if from_sync {
            // As with syncs, nothing needs waking after shutdown.
            let _ = self
                .connection_triggers
                .unbounded_send(ObjectRef::new(connection).within(namespace));
        }
    }

    /// Wakes every sync of `namespace` that uses the connection `name`.
    pub fn trigger_syncs_of_connection(&self, namespace: &str, name: &str) {
        for sync in self.stores.syncs.state() {
            if sync.namespace().as_deref() == Some(namespace)
                && sync.spec.connection_ref.name == name
            {
                self.trigger(ObjectRef::from(sync.as_ref()));
            }
        }
    }

    /// A webhook reported a change to an issue: the syncs whose label it carries, and those that
    /// know it (its labels may have been removed), re-read it and are woken; with `via`, only the
    /// syncs of that connection (namespace, name). Returns how many.
    pub fn ticket_changed(
        &self,
        key: Option<&str>,
        labels: &[String],
        via: Option<(&str, &str)>,
    ) -> usize {
        let through = |sync: &JiraActiveSync| {
            via.is_none_or(|(namespace, connection)| {
                sync.namespace().as_deref() == Some(namespace)
                    && sync.spec.connection_ref.name == connection
            })
        };
        let syncs = self.stores.syncs.state();
        let mut woken: HashSet<SyncKey> = key
            .map(|k| self.memory.syncs_knowing(k))
            .unwrap_or_default()
            .into_iter()
            .filter(|k| {
                syncs.iter().any(|s| {
                    s.namespace().as_ref() == Some(&k.namespace)
                        && s.name_any() == k.name
                        && through(s)
                })
            })
            .collect();
        for sync in syncs.iter().filter(|s| through(s)) {
            if let Some(namespace) = sync.namespace()
                && SyncLabels::of(&self.settings.installation, &namespace, &sync.name_any())
                    .keeps(labels)
            {
                woken.insert(SyncKey {
                    namespace,
                    name: sync.name_any(),
                });
            }
        }
        for sync in &woken {
            if let Some(key) = key {
                self.memory
                    .with(sync, |m| m.tickets.mark_stale([key.to_owned()]));
            }
            self.trigger(sync.object_ref());
        }
        woken.len()
    }
}
