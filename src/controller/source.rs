//! The `ComplianceTaskSource` reconciler, a thin shell around `sources::plan`: gather (the
//! source's reports, its tasks, the owners' annotations) -> plan -> apply the task writes
//! (server-side apply under the source's own field manager) -> status. The finalizer completes
//! and releases, or deletes, the source's tasks.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc::{UnboundedReceiver, UnboundedSender};
use futures::future::BoxFuture;
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{Controller, Predicate, PredicateConfig, WatchStreamExt, predicates, watcher};
use kube::{Api, Resource, ResourceExt};
use serde_json::json;

use super::context::filled;
use super::error::Error;
use super::events::Publisher;
use super::metrics::Metrics;
use super::owners::OwnerCache;
use super::reports::{Availability, ReportChange, ReportWatches};
use super::source_status::{Gathered, write_status};
use super::written::WrittenTasks;
use crate::api::{ComplianceTask, ComplianceTaskSource, ReportKind, SOURCE_FINALIZER};
use crate::sources::{
    ExistingTask, Owners, Report, SourceInput, SourceView, TASK_SOURCE, TaskApply, WriteReason,
    deletion, plan,
};

/// How often a source looks again with nothing changed (watches wake it sooner).
const RESYNC: Duration = Duration::from_secs(300);
/// How soon a pass with failed writes is tried again.
const RETRY: Duration = Duration::from_secs(15);
/// How soon a pass refused for a write conflict is tried again.
const CONFLICT_RETRY: Duration = Duration::from_secs(1);
/// How long a pass waits for a kind's first list before treating it as unreadable.
const FIRST_LIST_WAIT: Duration = Duration::from_secs(10);
/// Writes to tasks at once.
const WRITES_IN_FLIGHT: usize = 8;

/// Shared by every source reconcile of a scope.
pub struct SourceContext {
    /// The Kubernetes client.
    pub kube: kube::Client,
    /// Field manager of status writes (the operator's).
    pub manager: String,
    /// Field manager of task writes: the sources' own, so syncs' writes never mix with them.
    pub task_manager: String,
    /// Every task of the scope.
    pub tasks: Store<ComplianceTask>,
    /// Every source of the scope.
    pub sources: Store<ComplianceTaskSource>,
    /// The report watches.
    pub reports: ReportWatches,
    /// Owner annotations read.
    pub owners: OwnerCache,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Publishes Events.
    pub events: Arc<Publisher>,
    /// The tasks each source wrote in its last pass, which the task store may not show yet.
    pub written: WrittenTasks,
    triggers: UnboundedSender<ObjectRef<ComplianceTaskSource>>,
}

/// What the source controller of one scope is built from.
pub struct SourceParts {
    ctx: Arc<SourceContext>,
    writer: reflector::store::Writer<ComplianceTaskSource>,
    triggers: UnboundedReceiver<ObjectRef<ComplianceTaskSource>>,
    report_watches: BoxFuture<'static, ()>,
}

impl SourceParts {
    /// The parts for a scope; `tasks` is the scope's task store.
    pub fn new(
        client: &kube::Client,
        namespace: Option<&str>,
        cluster_reports: bool,
        (manager, metrics, events): (&str, &Arc<Metrics>, &Arc<Publisher>),
        tasks: Store<ComplianceTask>,
    ) -> SourceParts {
        let writer = reflector::store::Writer::default();
        let sources = writer.as_reader();
        let (tx, rx) = futures::channel::mpsc::unbounded();
        let wake = waker(sources.clone(), tx.clone());
        let (reports, report_watches) =
            ReportWatches::start(client, namespace, cluster_reports, wake);
        let ctx = SourceContext {
            kube: client.clone(),
            manager: manager.to_owned(),
            task_manager: format!("{manager}-sources"),
            tasks,
            sources,
            reports,
            owners: OwnerCache::default(),
            metrics: metrics.clone(),
            events: events.clone(),
            written: WrittenTasks::default(),
            triggers: tx,
        };
        SourceParts {
            ctx: Arc::new(ctx),
            writer,
            triggers: rx,
            report_watches,
        }
    }

    /// Wakes the source named by a changed task's label (its own task changed or went away).
    pub fn task_changed(&self) -> impl Fn(&ComplianceTask) + Send + Sync + 'static {
        let triggers = self.ctx.triggers.clone();
        move |task| {
            if let (Some(source), Some(ns)) = (task.labels().get(TASK_SOURCE), task.namespace()) {
                let _ = triggers.unbounded_send(ObjectRef::new(source).within(&ns));
            }
        }
    }
}

/// Wakes the sources a report change concerns: those of its namespace naming its kind (any
/// namespace for cluster-scoped reports and for a change in what can be read).
fn waker(
    sources: Store<ComplianceTaskSource>,
    triggers: UnboundedSender<ObjectRef<ComplianceTaskSource>>,
) -> impl Fn(ReportChange) + Clone + Send + Sync + 'static {
    move |change| {
        let (kind, namespace) = match &change {
            ReportChange::Report(kind, ns) => (*kind, ns.clone()),
            ReportChange::Availability(kind) => (*kind, None),
        };
        for source in sources.state() {
            let here = namespace.is_none() || source.namespace() == namespace;
            if here && source.spec.reports.contains(&kind) {
                let _ = triggers.unbounded_send(ObjectRef::from(source.as_ref()));
            }
        }
    }
}

/// Runs the source controller of one scope until shutdown.
pub async fn run(client: kube::Client, namespace: Option<&str>, parts: SourceParts) {
    let SourceParts {
        ctx,
        writer,
        triggers,
        report_watches,
    } = parts;
    let api: Api<ComplianceTaskSource> = match namespace {
        Some(ns) => Api::namespaced(client, ns),
        None => Api::all(client),
    };
    let sources = reflector::reflector(writer, watcher(api, watcher::Config::default()))
        .default_backoff()
        .applied_objects()
        // The source's own status writes must not wake it again.
        .predicate_filter(
            predicates::generation.combine(predicates::finalizers),
            PredicateConfig::default(),
        );
    let controller = Controller::for_stream(sources, ctx.sources.clone())
        .with_config(kube::runtime::controller::Config::default().concurrency(2))
        .reconcile_on(triggers)
        .shutdown_on_signal()
        .run(reconcile, error_policy, ctx)
        .for_each(|_| futures::future::ready(()));
    // The report watches never end by themselves: they stop with the controller (at shutdown).
    futures::future::select(Box::pin(controller), report_watches).await;
}

/// Reconciles one source (through the finalizer helper).
pub async fn reconcile(
    source: Arc<ComplianceTaskSource>,
    ctx: Arc<SourceContext>,
) -> Result<Action, Error> {
    let mut timer = ctx.metrics.reconcile_timer("ComplianceTaskSource");
    let namespace = source
        .namespace()
        .ok_or(Error::MissingMetadata("namespace"))?;
    let api: Api<ComplianceTaskSource> = Api::namespaced(ctx.kube.clone(), &namespace);
    let result = finalizer(&api, SOURCE_FINALIZER, source, |event| async {
        match event {
            Finalizer::Apply(source) => apply(&source, &ctx).await,
            Finalizer::Cleanup(source) => cleanup(&source, &ctx).await,
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)));
    timer.outcome(result.as_ref().map_or_else(Error::reason, |_| "ok"));
    result
}

/// Failed reconciles are retried soon.
pub fn error_policy(
    source: Arc<ComplianceTaskSource>,
    error: &Error,
    _: Arc<SourceContext>,
) -> Action {
    tracing::warn!(source = %source.name_any(), namespace = ?source.namespace(), reason = error.reason(), %error, "ComplianceTaskSource reconcile failed");
    // A write conflict only needs a fresh look.
    if error.is_conflict() {
        Action::requeue(CONFLICT_RETRY)
    } else {
        Action::requeue(RETRY)
    }
}

/// One pass: gather -> plan -> write tasks -> status.
async fn apply(source: &ComplianceTaskSource, ctx: &SourceContext) -> Result<Action, Error> {
    let namespace = source
        .namespace()
        .ok_or(Error::MissingMetadata("namespace"))?;
    let name = source.name_any();
    filled(&ctx.tasks).await;
    // Planning from a store that does not show the last pass's writes yet would write them again.
    ctx.written.settle(&ctx.tasks, &namespace, &name).await;
    let (reports, readable, unreadable) = read_reports(source, ctx, &namespace).await;
    let tasks = tasks_of(ctx, &namespace, &name);
    let owners = match source
        .spec
        .assignee
        .as_ref()
        .and_then(|a| a.from_annotation.as_deref())
    {
        Some(annotation) => ctx.owners.owners(&ctx.kube, annotation, &reports).await,
        None => Owners::default(),
    };
    let now = jiff::Timestamp::now();
    let plan = plan(&SourceInput {
        source: SourceView {
            namespace: &namespace,
            name: &name,
            spec: &source.spec,
        },
        reports: &reports,
        readable: &readable,
        tasks: &tasks,
        owners: &owners,
        now,
    });
    ctx.written
        .record(&ctx.tasks, &namespace, &name, &plan.applies);
    let failures = write_tasks(ctx, source, &plan.applies, true).await;
    if !plan.applies.is_empty() {
        tracing::info!(source = %name, %namespace, writes = plan.applies.len(), failed = failures.len(), "applied the source's tasks");
        publish_writes(ctx, source, &plan.applies, failures.len()).await;
    }
    let wrote = plan.applies.len() > failures.len();
    let gathered = Gathered {
        counts: plan.counts,
        unreadable,
        failures,
        wrote,
        now,
    };
    write_status(source, ctx, &gathered).await?;
    Ok(Action::requeue(if gathered.failures.is_empty() {
        RESYNC
    } else {
        RETRY
    }))
}

/// The reports of the kinds the source names that can be read, those kinds, and why the others
/// cannot. Waits a little for kinds still making their first list.
async fn read_reports(
    source: &ComplianceTaskSource,
    ctx: &SourceContext,
    namespace: &str,
) -> (Vec<Report>, BTreeSet<ReportKind>, Vec<String>) {
    let deadline = tokio::time::Instant::now() + FIRST_LIST_WAIT;
    let (mut reports, mut readable, mut unreadable) = (Vec::new(), BTreeSet::new(), Vec::new());
    for kind in source.spec.reports.iter().copied() {
        let mut availability = ctx.reports.availability(kind);
        while availability == Availability::Starting && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
            availability = ctx.reports.availability(kind);
        }
        match availability {
            Availability::Reading => {
                reports.extend(ctx.reports.reports(kind, namespace));
                readable.insert(kind);
            }
            Availability::Starting => unreadable.push(format!("{} reports are still being listed", kind.kind())),
            Availability::Unavailable(why) => unreadable.push(why),
            Availability::Disabled => unreadable.push(format!(
                "{} reports are cluster-scoped, and this install does not read them (operator flag --cluster-reports, chart value taskSources.clusterReports)",
                kind.kind()
            )),
        }
    }
    (reports, readable, unreadable)
}

/// The tasks of a source: those of its namespace carrying its label.
fn tasks_of(ctx: &SourceContext, namespace: &str, name: &str) -> Vec<ExistingTask> {
    ctx.tasks
        .state()
        .iter()
        .filter(|t| t.namespace().as_deref() == Some(namespace))
        .filter(|t| t.labels().get(TASK_SOURCE).map(String::as_str) == Some(name))
        .map(|t| ExistingTask {
            name: t.name_any(),
            labels: t.labels().clone(),
            annotations: t.annotations().clone(),
            spec: t.spec.clone(),
        })
        .collect()
}

/// Applies the tasks, a few at once; the messages of the writes that failed.
async fn write_tasks(
    ctx: &SourceContext,
    source: &ComplianceTaskSource,
    applies: &[TaskApply],
    owned: bool,
) -> Vec<(&'static str, String)> {
    // Owned items: a stream of borrowed ones trips the compiler's higher-ranked lifetime check
    // once the controller's future must be `Send`.
    futures::stream::iter(applies.iter().cloned())
        .map(|apply| async move { write_task(ctx, source, &apply, owned).await })
        .buffer_unordered(WRITES_IN_FLIGHT)
        .filter_map(|r| futures::future::ready(r.err()))
        .collect()
        .await
}

/// Applies one task: the whole of what the source owns, so that an unchanged task stays as it
/// is and a field the source no longer sets is removed. `owned: false` drops the owner
/// reference, so the task outlives its source.
async fn write_task(
    ctx: &SourceContext,
    source: &ComplianceTaskSource,
    apply: &TaskApply,
    owned: bool,
) -> Result<(), (&'static str, String)> {
    let task = &apply.task;
    let namespace = source.namespace().unwrap_or_default();
    let mut metadata = json!({
        "name": task.name, "namespace": namespace,
        "labels": task.labels, "annotations": task.annotations(),
    });
    if owned {
        metadata["ownerReferences"] = json!([{
            "apiVersion": ComplianceTaskSource::api_version(&()), "kind": ComplianceTaskSource::kind(&()),
            "name": source.name_any(), "uid": source.uid().unwrap_or_default(), "controller": true,
        }]);
    }
    let object = json!({
        "apiVersion": ComplianceTask::api_version(&()), "kind": ComplianceTask::kind(&()),
        "metadata": metadata, "spec": task.spec,
    });
    let api: Api<ComplianceTask> = Api::namespaced(ctx.kube.clone(), &namespace);
    let params = PatchParams::apply(&ctx.task_manager).force();
    let kind = match apply.reason {
        WriteReason::Create => "task_create",
        WriteReason::Update => "task_update",
        WriteReason::Complete => "task_complete",
        WriteReason::Reopen => "task_reopen",
    };
    match api.patch(&task.name, &params, &Patch::Apply(&object)).await {
        Ok(_) => {
            ctx.metrics.action(kind, "ok");
            Ok(())
        }
        Err(error) => {
            let error = Error::from(error);
            ctx.metrics.action(kind, error.reason());
            Err((
                error.reason(),
                format!("writing task {namespace}/{}: {error}", task.name),
            ))
        }
    }
}

/// The finalizer: completes and releases, or deletes, the source's tasks; the source stays
/// until every write is done.
async fn cleanup(source: &ComplianceTaskSource, ctx: &SourceContext) -> Result<Action, Error> {
    let namespace = source
        .namespace()
        .ok_or(Error::MissingMetadata("namespace"))?;
    filled(&ctx.tasks).await;
    let tasks = tasks_of(ctx, &namespace, &source.name_any());
    let plan = deletion(source.spec.task_deletion_policy, &tasks);
    let mut failures = write_tasks(ctx, source, &plan.completions, false).await;
    let api: Api<ComplianceTask> = Api::namespaced(ctx.kube.clone(), &namespace);
    for name in &plan.deletions {
        match api.delete(name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(error) => {
                let error = Error::from(error);
                failures.push((
                    error.reason(),
                    format!("deleting task {namespace}/{name}: {error}"),
                ));
            }
        }
    }
    match failures.into_iter().next() {
        None => Ok(Action::await_change()),
        Some((reason, message)) => Err(Error::DeletionBlocked {
            reason,
            message,
            retry_in: RETRY,
        }),
    }
}

/// One Event per pass that wrote tasks, counting the writes by why (a pass may write thousands).
async fn publish_writes(
    ctx: &SourceContext,
    source: &ComplianceTaskSource,
    applies: &[TaskApply],
    failed: usize,
) {
    let count = |reason| applies.iter().filter(|a| a.reason == reason).count();
    let mut note = format!(
        "tasks from findings: {} created, {} updated, {} completed, {} re-opened",
        count(WriteReason::Create),
        count(WriteReason::Update),
        count(WriteReason::Complete),
        count(WriteReason::Reopen)
    );
    let (type_, reason) = if failed == 0 {
        (EventType::Normal, "TasksWritten")
    } else {
        note.push_str(&format!(
            "; {failed} writes failed (see the Synced condition)"
        ));
        (EventType::Warning, "TaskWritesFailed")
    };
    let event = Event {
        type_,
        reason: reason.to_owned(),
        note: Some(note),
        action: "ApplyTasks".to_owned(),
        secondary: None,
    };
    let regarding = source.object_ref(&());
    if let Err(error) = ctx.events.publish(&event, &regarding).await {
        tracing::warn!(%error, reason, "could not publish an Event");
    }
}
