//! The operator: kube-rs controllers for `JiraConnection` and `JiraActiveSync` (with
//! `ComplianceTask` changes mapped to the syncs that may own them), a thin shell around the
//! planner; `ComplianceTaskSource` (policy report findings become tasks), around `sources`; and
//! one HTTP listener for metrics, health and the Jira webhook.

mod audit;
mod claims;
mod cleanup;
mod conditions;
mod connection;
mod context;
mod creates;
mod credentials;
mod error;
mod events;
mod executor;
pub mod explain;
pub(crate) mod finalizers;
mod gather;
mod in_use;
mod installation;
pub mod leader;
mod memory;
mod metrics;
mod owners;
mod pass;
pub mod preview;
mod relay;
mod report;
mod reports;
mod server;
mod source;
mod source_status;
mod status;
mod steps;
mod sync;
mod target;
mod task_writes;
mod tickets;
mod webhook;
mod written;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context as _;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Secret;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::Config as ControllerConfig;
use kube::runtime::events::Reporter;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{Controller, Predicate, PredicateConfig, WatchStreamExt, predicates, watcher};
use kube::{Api, Resource, ResourceExt};

pub use context::Settings;
pub use error::Error;
pub use gather::tickets_jql;
pub use installation::cluster_installation;

use crate::api::{ComplianceTask, JiraActiveSync, JiraConnection};
use context::{Context, Shared, Stores};
use events::Publisher;
use metrics::Metrics;
use server::Http;

/// How `jira-active-sync run` was asked to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where the HTTP listener binds.
    pub listen: SocketAddr,
    /// Namespaces to watch; empty watches all.
    pub namespaces: Vec<String>,
    /// Process settings.
    pub settings: Settings,
    /// Compete for a Lease and run the controllers only while holding it (HA replicas); `None`
    /// runs them at once.
    pub leader_election: Option<Duration>,
}

/// The API of kind `K` in `namespace`, or in every namespace.
pub(crate) fn api<K>(client: &kube::Client, namespace: Option<&str>) -> Api<K>
where
    K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
{
    match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

/// The syncs a task change may concern: those of its namespace whose checks could take it, and the
/// one its status names.
fn syncs_for_task(
    syncs: &Store<JiraActiveSync>,
    task: &ComplianceTask,
) -> Vec<ObjectRef<JiraActiveSync>> {
    let namespace = task.namespace();
    let recorded = task
        .status
        .as_ref()
        .and_then(|s| s.jira.as_ref())
        .map(|j| j.sync.clone());
    syncs
        .state()
        .into_iter()
        .filter(|s| s.namespace() == namespace)
        .filter(|s| {
            s.spec.scope.checks.is_empty()
                || s.spec.scope.checks.contains(&task.spec.check)
                || recorded.as_deref() == Some(s.name_any().as_str())
        })
        .map(|s| ObjectRef::from(s.as_ref()))
        .collect()
}

/// Drops what the operator never reads from a cached object: its managed fields and the copy of the
/// whole object `kubectl apply` keeps in an annotation (together often larger than the object).
fn slim<K: Resource>(object: &mut K) {
    object.managed_fields_mut().clear();
    if let Some(annotations) = object.meta_mut().annotations.as_mut() {
        annotations.remove(LAST_APPLIED);
    }
}

/// The annotation in which `kubectl apply` keeps the last applied object.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Runs the controllers of one scope until shutdown.
async fn run_scope(client: kube::Client, namespace: Option<String>, parts: ScopeParts) {
    let ns = namespace.as_deref();
    let ScopeParts {
        ctx,
        task_writer,
        sync_writer,
        trigger_rx,
        conn_trigger_rx,
        conn_controller,
        sources,
    } = parts;
    let task_changed = sources.task_changed();
    let tasks = cached(task_writer, &client, ns)
        .touched_objects()
        .inspect_ok(move |task| task_changed(task));
    let claims_ctx = ctx.clone();
    let gone_ctx = ctx.clone();
    let syncs = cached(sync_writer, &client, ns)
        // A sync gone from the cluster may have been the last that kept its connection in use.
        .inspect_ok(move |event| {
            if let watcher::Event::Delete(sync) = event {
                gone_ctx.sync_gone(sync);
            }
        })
        .applied_objects()
        // The operator's own status writes must not wake the sync again: only spec (generation) and
        // finalizer changes do, and those wake the other syncs whose tasks they move. Abandoning a
        // cleanup wakes it too, so a deletion waiting out its backoff goes at once.
        .predicate_filter(
            predicates::generation
                .combine(predicates::finalizers)
                .combine(abandoned_cleanup),
            PredicateConfig::default(),
        )
        .inspect_ok(move |sync| claims_ctx.sync_changed(sync));
    let sync_store = ctx.stores.syncs.clone();
    let sync_controller = Controller::for_stream(syncs, ctx.stores.syncs.clone())
        .with_config(controller_config())
        .watches_stream(tasks, move |task| syncs_for_task(&sync_store, &task))
        .reconcile_on(trigger_rx)
        .shutdown_on_signal()
        .run(sync::reconcile, sync::error_policy, ctx.clone())
        .for_each(log_watch_failure);
    let connection_controller = run_connections(&client, ns, conn_controller, conn_trigger_rx, ctx);
    let source_controller = source::run(client.clone(), ns, sources);
    futures::join!(sync_controller, connection_controller, source_controller);
}

/// A predicate that changes when the sync's cleanup is abandoned.
fn abandoned_cleanup(sync: &JiraActiveSync) -> Option<u64> {
    Some(u64::from(pass::cleanup_abandoned(sync)))
}

/// The watch events of a kind in `ns`, slimmed and kept in the reflector store of `writer`, with
/// backoff on watch errors.
fn cached<K>(
    writer: reflector::store::Writer<K>,
    client: &kube::Client,
    ns: Option<&str>,
) -> impl futures::Stream<Item = Result<watcher::Event<K>, watcher::Error>> + use<K>
where
    K: Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug
        + Send
        + Sync
        + 'static,
{
    let watch = watcher(api::<K>(client, ns), watcher::Config::default()).modify(slim);
    reflector::reflector(writer, watch).default_backoff()
}

/// Reconciles at most four objects of a kind at once.
fn controller_config() -> ControllerConfig {
    ControllerConfig::default().concurrency(4)
}

/// The connection controller, which also wakes a connection when its Secret changes.
async fn run_connections(
    client: &kube::Client,
    ns: Option<&str>,
    controller: Controller<JiraConnection>,
    triggers: futures::channel::mpsc::UnboundedReceiver<ObjectRef<JiraConnection>>,
    ctx: Arc<Context>,
) {
    let store = ctx.stores.connections.clone();
    let secrets = watcher(
        api::<PartialObjectMeta<Secret>>(client, ns),
        watcher::Config::default(),
    )
    .default_backoff()
    .touched_objects();
    controller
        .with_config(controller_config())
        .watches_stream(secrets, move |secret| connections_using(&store, &secret))
        .reconcile_on(triggers)
        .shutdown_on_signal()
        .run(connection::reconcile, connection::error_policy, ctx)
        .for_each(log_watch_failure)
        .await;
}

/// The connections whose credentials, webhook secret or trusted CA live in `secret`.
fn connections_using(
    store: &reflector::Store<JiraConnection>,
    secret: &PartialObjectMeta<Secret>,
) -> Vec<ObjectRef<JiraConnection>> {
    let name = secret.name_any();
    store
        .state()
        .into_iter()
        .filter(|c| c.namespace() == secret.namespace())
        .filter(|c| {
            c.spec.auth.secret_ref.name == name
                || c.spec
                    .webhook
                    .as_ref()
                    .is_some_and(|w| w.secret_ref.name == name)
                || c.spec
                    .tls
                    .as_ref()
                    .is_some_and(|t| t.ca_secret_ref.name == name)
        })
        .map(|c| ObjectRef::from(c.as_ref()))
        .collect()
}

/// The API server's answer to a watch that failed, if it answered.
fn refusal(error: &watcher::Error) -> Option<&kube::core::Status> {
    match error {
        watcher::Error::InitialListFailed(kube::Error::Api(status))
        | watcher::Error::WatchStartFailed(kube::Error::Api(status))
        | watcher::Error::WatchFailed(kube::Error::Api(status))
        | watcher::Error::WatchError(status) => Some(status.as_ref()),
        _ => None,
    }
}

/// Logs a watch the API server refuses (its message names the missing verb, resource and
/// namespace); the watch is retried with backoff. Reconcile failures are logged by the error
/// policies, and broken watch streams are re-opened as a matter of course.
fn log_watch_failure<T, E>(
    item: Result<T, kube::runtime::controller::Error<E, watcher::Error>>,
) -> futures::future::Ready<()>
where
    E: std::error::Error + 'static,
{
    if let Err(kube::runtime::controller::Error::QueueError(error)) = &item {
        match refusal(error) {
            Some(status) if status.code == 403 => tracing::warn!(
                reason = "KubernetesPermissionDenied",
                message = %status.message,
                "the API server refuses a watch the operator needs; retrying with backoff"
            ),
            _ => tracing::debug!(%error, "watch failed; re-opening it"),
        }
    }
    futures::future::ready(())
}

/// What the controllers of one scope (all namespaces, or one) are built from.
struct ScopeParts {
    ctx: Arc<Context>,
    task_writer: reflector::store::Writer<ComplianceTask>,
    sync_writer: reflector::store::Writer<JiraActiveSync>,
    trigger_rx: futures::channel::mpsc::UnboundedReceiver<ObjectRef<JiraActiveSync>>,
    conn_trigger_rx: futures::channel::mpsc::UnboundedReceiver<ObjectRef<JiraConnection>>,
    conn_controller: Controller<JiraConnection>,
    sources: source::SourceParts,
}

impl ScopeParts {
    /// The stores, context and connection controller of one scope.
    fn new(
        client: &kube::Client,
        scope: Option<&str>,
        shared: &Shared,
        options: &RunOptions,
    ) -> ScopeParts {
        let (tasks, task_writer) = reflector::store();
        let (syncs, sync_writer) = reflector::store();
        let conn_controller = Controller::new(
            api::<JiraConnection>(client, scope),
            watcher::Config::default(),
        );
        let connections = conn_controller.store();
        let (trigger_tx, trigger_rx) = futures::channel::mpsc::unbounded();
        let (conn_trigger_tx, conn_trigger_rx) = futures::channel::mpsc::unbounded();
        let settings = &options.settings;
        let sources = source::SourceParts::new(
            client,
            scope,
            settings.cluster_reports,
            (&settings.manager, &shared.metrics, &shared.events),
            tasks.clone(),
        );
        let stores = Stores {
            syncs,
            tasks,
            connections,
        };
        let ctx = Context::new(
            client.clone(),
            shared,
            options.settings.clone(),
            stores,
            trigger_tx,
            conn_trigger_tx,
        );
        ScopeParts {
            ctx: Arc::new(ctx),
            task_writer,
            sync_writer,
            trigger_rx,
            conn_trigger_rx,
            conn_controller,
            sources,
        }
    }
}

/// Runs the operator against the current kube context until SIGTERM or Ctrl-C.
pub async fn run(client: kube::Client, options: RunOptions) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(options.listen).await?;
    run_with(client, listener, options).await
}

/// Runs the operator with a given client and an already bound listener (tests bind port 0).
/// The metrics, the Event publisher and what each Jira site and principal shares, for every scope.
fn shared(client: &kube::Client, options: &RunOptions) -> Shared {
    let reporter = Reporter {
        controller: options.settings.manager.clone(),
        instance: std::env::var("POD_NAME").ok(),
    };
    Shared {
        events: Arc::new(Publisher::new(client.clone(), reporter)),
        metrics: Arc::new(Metrics::default()),
        principals: Arc::default(),
    }
}

pub async fn run_with(
    client: kube::Client,
    listener: tokio::net::TcpListener,
    options: RunOptions,
) -> anyhow::Result<()> {
    let shared = shared(&client, &options);
    let scopes: Vec<Option<String>> = if options.namespaces.is_empty() {
        vec![None]
    } else {
        options.namespaces.iter().cloned().map(Some).collect()
    };
    let parts: Vec<(Option<String>, ScopeParts)> = scopes
        .into_iter()
        .map(|scope| {
            let parts = ScopeParts::new(&client, scope.as_deref(), &shared, &options);
            (scope, parts)
        })
        .collect();
    let contexts: Vec<Arc<Context>> = parts.iter().map(|(_, p)| p.ctx.clone()).collect();
    let ready = Arc::new(AtomicBool::new(false));
    let http = Arc::new(Http {
        contexts: contexts.clone(),
        metrics: shared.metrics.clone(),
        ready: ready.clone(),
        deliveries: Default::default(),
        relay: Default::default(),
    });
    let state = http.clone();
    let port = listener.local_addr()?.port();
    tracing::info!(listen = %listener.local_addr()?, namespaces = ?options.namespaces, "jira-active-sync running");
    let server =
        axum::serve(listener, server::router(http)).with_graceful_shutdown(shutdown_signal());
    let readiness = async move {
        for ctx in &contexts {
            context::filled(&ctx.stores.tasks).await;
            context::filled(&ctx.stores.syncs).await;
        }
        ready.store(true, Ordering::Relaxed);
        tracing::info!("caches filled; ready");
    };
    let scopes = parts
        .into_iter()
        .map(|(scope, p)| run_scope(client.clone(), scope, p));
    let controllers = async {
        futures::join!(futures::future::join_all(scopes), readiness);
    };
    let served = async { server.await.context("serving HTTP") };
    match options.leader_election {
        None => tokio::join!(served, controllers).0,
        Some(lease_duration) => {
            let elected = Elected {
                lease_duration,
                http: &state,
                port,
            };
            run_elected(&client, elected, served, controllers).await
        }
    }
}

/// What a replica under leader election needs besides its client and tasks.
struct Elected<'a> {
    lease_duration: Duration,
    /// The listener's state: readiness, and the relay to the leader set here.
    http: &'a Http,
    /// The listener's port (every replica's).
    port: u16,
}

/// Serves HTTP at once and runs the controllers while this replica holds the Lease. In a Pod,
/// webhook deliveries that reach this replica while it does not lead are relayed to the leader.
async fn run_elected(
    client: &kube::Client,
    elected: Elected<'_>,
    served: impl Future<Output = anyhow::Result<()>>,
    controllers: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let mut lease = leader::LeaseSettings::from_environment(client);
    lease.lease_duration = elected.lease_duration;
    lease.renew_margin = leader::renew_margin(elected.lease_duration);
    let (namespace, lease_name) = (lease.namespace.clone(), lease.lease_name.clone());
    let election = leader::LeaderElection::start(client.clone(), lease).await?;
    if std::env::var_os(leader::POD_NAME_ENV).is_some() {
        let leading = election.is_leader();
        let relay =
            relay::Relay::new(client.clone(), namespace, lease_name, leading, elected.port)?;
        let _ = elected.http.relay.set(relay);
    }
    tokio::try_join!(served, lead(&election, controllers, &elected.http.ready))?;
    // Only after the in-flight writes have finished: from here another replica may write.
    election.release().await?;
    Ok(())
}

/// Runs the controllers once this replica leads, until shutdown. A follower is ready while it
/// campaigns (so that a Deployment of two replicas is available and rolls out); the leader is
/// ready again once its caches are filled. Losing the Lease ends the process: another replica may
/// already be writing, and a restarted process campaigns afresh.
async fn lead(
    election: &leader::LeaderElection,
    controllers: impl std::future::Future<Output = ()>,
    ready: &AtomicBool,
) -> anyhow::Result<()> {
    let mut leading = election.is_leader();
    ready.store(true, Ordering::Relaxed);
    tracing::info!(
        identity = election.identity(),
        "waiting for the leader Lease"
    );
    tokio::select! {
        acquired = leading.wait_for(|leading| *leading) => {
            acquired.context("leader election ended before this replica led")?;
        }
        () = shutdown_signal() => return Ok(()),
    }
    ready.store(false, Ordering::Relaxed);
    tracing::info!(
        identity = election.identity(),
        "leading: starting the controllers"
    );
    tokio::select! {
        () = controllers => Ok(()),
        lost = leading.wait_for(|leading| !*leading) => {
            lost.context("leader election ended while leading")?;
            anyhow::bail!("lost the leader Lease; stopping so that only the new leader writes")
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_objects_drop_managed_fields_and_the_last_applied_copy_only() {
        let mut task: ComplianceTask = serde_json::from_value(serde_json::json!({
            "apiVersion": "activesync.dev/v1alpha1", "kind": "ComplianceTask",
            "metadata": {
                "name": "t", "namespace": "ns",
                "annotations": {LAST_APPLIED: "{\"big\": true}", "team": "payments"},
                "managedFields": [{"manager": "kubectl", "operation": "Apply"}]
            },
            "spec": {"check": "c", "title": "T"}
        }))
        .expect("a task");
        slim(&mut task);
        assert!(task.managed_fields().is_empty());
        let annotations = task.annotations();
        assert_eq!(annotations.len(), 1);
        assert_eq!(
            annotations.get("team").map(String::as_str),
            Some("payments")
        );
    }
}
