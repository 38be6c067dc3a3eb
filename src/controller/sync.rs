//! The `JiraActiveSync` reconciler: a thin shell around the planner. A pass reads
//! gather -> plan -> execute -> report; the finalizer runs the deletion policy (`cleanup`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::runtime::finalizer::{Error as FinalizerError, Event as Finalizer, finalizer};
use kube::{Api, ResourceExt};

use super::cleanup::cleanup;
use super::conditions::Cond;
use super::context::{Context, filled};
use super::error::{Error, jira_reason};
use super::executor::{FirstFailure, Target, publish};
use super::gather::{CurrentTickets, Ownership, accounts, current_tickets, ownership};
use super::memory::SyncKey;
use super::pass::{
    Blocked, CONFLICT_RETRY, RETRY, needs_jira_to_delete, pass_conditions, requeue_after,
};
use super::report::{execute_reporting, report_blocked, restore_pending, write_status};
use super::steps::StepEvent;
use super::target::{Purpose, check_target, resolve_client};
use super::tickets::Freshness;
use crate::api::{FINALIZER, IN_USE, JiraActiveSync};
use crate::jira::JiraClient;
use crate::planner::{
    AccountLookup, ChangedPlan, ObservedTicket, PendingCreates, Plan, PlanInput, Settled, Subject,
    SyncView, Warning, plan_changes,
};

/// Reconciles one sync (through the finalizer helper).
pub async fn reconcile(sync: Arc<JiraActiveSync>, ctx: Arc<Context>) -> Result<Action, Error> {
    let mut timer = ctx.metrics.reconcile_timer("JiraActiveSync");
    let key = SyncKey::of(&sync)?;
    let api: Api<JiraActiveSync> = Api::namespaced(ctx.kube.clone(), &key.namespace);
    let result = finalizer(&api, FINALIZER, sync.clone(), |event| async {
        match event {
            Finalizer::Apply(sync) => apply(&sync, &ctx).await,
            Finalizer::Cleanup(sync) => cleanup(&sync, &ctx).await,
        }
    })
    .await
    .map_err(|e| Error::Finalizer(Box::new(e)));
    if let Err(error) = &result {
        report_finalizer_failure(&sync, &ctx, error).await;
    }
    timer.outcome(result.as_ref().map_or_else(Error::reason, |_| "ok"));
    result
}

/// Failed reconciles are retried with a short delay (at once after a write conflict, which only
/// needs a fresh look); the condition, where it could be written, already says why.
pub fn error_policy(sync: Arc<JiraActiveSync>, error: &Error, _: Arc<Context>) -> Action {
    let reason = error.reason();
    tracing::warn!(sync = %sync.name_any(), namespace = ?sync.namespace(), reason, %error, "JiraActiveSync reconcile failed");
    match error {
        _ if error.is_conflict() => Action::requeue(CONFLICT_RETRY),
        Error::DeletionBlocked { retry_in, .. } => Action::requeue(*retry_in),
        Error::Finalizer(inner) => match inner.as_ref() {
            FinalizerError::CleanupFailed(Error::DeletionBlocked { retry_in, .. }) => {
                Action::requeue(*retry_in)
            }
            _ => Action::requeue(RETRY),
        },
        _ => Action::requeue(RETRY),
    }
}

/// The operator may not add or remove the finalizer (it lacks `patch` on syncs): the reconcile
/// never ran, so say so on the sync when its status can still be written. Other finalizer failures
/// (a stale cache) pass with the next try.
async fn report_finalizer_failure(sync: &JiraActiveSync, ctx: &Context, error: &Error) {
    let Error::Finalizer(inner) = error else {
        return;
    };
    if !matches!(
        inner.as_ref(),
        FinalizerError::AddFinalizer(_) | FinalizerError::RemoveFinalizer(_)
    ) || error.reason() != "KubernetesPermissionDenied"
    {
        return;
    }
    let message = error.to_string();
    let conditions = [
        Cond::no("Ready", error.reason(), message.clone()),
        Cond::no("Synced", error.reason(), message),
    ];
    let now = jiff::Timestamp::now();
    if let Err(status_error) = write_status(sync, ctx, &conditions, None, now).await {
        tracing::warn!(sync = %sync.name_any(), namespace = ?sync.namespace(), reason = status_error.reason(), error = %status_error, "could not report the finalizer failure on the sync");
    }
}

/// The sync's poll interval (the safety net for missed webhooks).
fn poll_interval(sync: &JiraActiveSync) -> Duration {
    sync.spec
        .poll_interval
        .parse::<jiff::SignedDuration>()
        .ok()
        .and_then(|d| Duration::try_from(d).ok())
        .unwrap_or(Duration::from_secs(60))
}

/// One pass: gather -> plan -> execute -> report.
async fn apply(sync: &JiraActiveSync, ctx: &Context) -> Result<Action, Error> {
    let key = SyncKey::of(sync)?;
    let now = jiff::Timestamp::now();
    let poll = poll_interval(sync);
    let gathered = match gather(sync, ctx, &key, (now, poll)).await? {
        Ok(gathered) => gathered,
        Err(blocked) => return report_blocked(sync, ctx, blocked, poll, now).await,
    };
    let Gathered {
        client,
        ownership,
        tickets,
        accounts,
        pending,
        settled,
    } = gathered;
    let input = PlanInput {
        sync: SyncView {
            namespace: &key.namespace,
            name: &key.name,
            labels: key.labels(&ctx.settings.installation),
            spec: &sync.spec,
            flavor: client.flavor(),
        },
        tasks: ownership.tasks,
        others: ownership.others,
        tickets,
        accounts,
        pending_creates: pending,
        search_settle: ctx.settings.search_settle,
        now,
    };
    let mut plan = plan_what_changed(ctx, &key, &input, &settled);
    drop(input);
    let warnings = std::mem::take(&mut plan.warnings);
    let (counts, wait_until) = (plan.counts, plan.wait_until);
    let first_failure = FirstFailure::default();
    let target = Target::of(sync, &key.namespace, &key.name, &client).reporting_to(&first_failure);
    warn(ctx, &target, &warnings).await;
    let (outcome, reported) = execute_reporting(sync, ctx, &target, plan, now).await;
    // The pass's last write follows the one made mid-pass, so a condition that went False then
    // keeps its transition time.
    let reported = reported.map(|status| JiraActiveSync {
        status: Some(status),
        ..sync.clone()
    });
    let requeue = requeue_after(poll, &outcome.failures, wait_until, now);
    let conditions = pass_conditions(
        sync.spec.suspend,
        &ownership.conflicts,
        &outcome.failures,
        &warnings,
        requeue,
    );
    let sync = reported.as_ref().unwrap_or(sync);
    write_status(sync, ctx, &conditions, Some(counts), now).await?;
    Ok(Action::requeue(requeue))
}

/// Plans the tickets whose inputs changed since the last pass, and remembers what is settled.
fn plan_what_changed(
    ctx: &Context,
    key: &SyncKey,
    input: &PlanInput<'_>,
    settled: &Settled,
) -> Plan {
    let ChangedPlan {
        plan,
        settled,
        planned,
    } = plan_changes(input, settled);
    tracing::debug!(sync = %key.name, namespace = %key.namespace, planned, settled = settled.len(), "planned the tickets that changed");
    ctx.memory.with(key, |m| m.settled = settled);
    plan
}

/// Tells of what the plan warns about: in the log and as a Warning Event on the sync (repeats fold
/// into one Event series).
async fn warn(ctx: &Context, target: &Target<'_>, warnings: &[Warning]) {
    for Warning::UnknownAssignee { email, tasks } in warnings {
        tracing::warn!(%email, ?tasks, sync = %target.sync, "no Jira user has this email; the ticket stays unassigned");
        let subject = Subject {
            identity: None,
            tasks: tasks.clone(),
        };
        let note = format!(
            "no Jira user has the email {email}: the tickets of {} stay unassigned until one does",
            subject.task_list(target.namespace)
        );
        let event = StepEvent {
            type_: EventType::Warning,
            reason: "UnknownAssignee",
            action: "Assign",
            note,
            subject,
        };
        publish(ctx, target, event).await;
    }
}

/// A sync whose deletion policy needs Jira wakes its connection when the connection does not keep
/// the in-use finalizer yet, so that deleting the connection first cannot strand the sync.
fn protect_connection(sync: &JiraActiveSync, ctx: &Context, key: &SyncKey) {
    let name = &sync.spec.connection_ref.name;
    let unprotected = ctx.stores.connections.state().into_iter().any(|c| {
        c.namespace().as_ref() == Some(&key.namespace)
            && &c.name_any() == name
            && c.metadata.deletion_timestamp.is_none()
            && !c.finalizers().iter().any(|f| f == IN_USE)
    });
    if unprotected && needs_jira_to_delete(sync) {
        ctx.trigger_connection(&key.namespace, name);
    }
}

/// What a pass plans from.
struct Gathered {
    client: JiraClient,
    ownership: Ownership,
    tickets: Vec<Arc<ObservedTicket>>,
    accounts: std::collections::BTreeMap<String, AccountLookup>,
    pending: PendingCreates,
    /// The units the last pass settled; none after a full search.
    settled: Settled,
}

/// Gathers the planner's inputs: the connection's client, the tasks the sync owns, its tickets
/// (settling pending creates that search now shows) and the assignees' accounts. `Err(Blocked)`
/// when the connection, the Jira target or the search stands in the way.
async fn gather(
    sync: &JiraActiveSync,
    ctx: &Context,
    key: &SyncKey,
    (now, poll): (jiff::Timestamp, Duration),
) -> Result<Result<Gathered, Blocked>, Error> {
    if let Some(status) = &sync.status {
        ctx.memory.with(key, |m| restore_pending(m, status, now));
    }
    filled(&ctx.stores.tasks).await;
    protect_connection(sync, ctx, key);
    let client = match resolve_client(sync, ctx, key, Purpose::Sync).await {
        Ok(client) => client,
        Err(blocked) => return Ok(Err(blocked)),
    };
    if let Err(blocked) = check_target(sync, ctx, &client, key).await {
        return Ok(Err(blocked));
    }
    let ownership = ownership(sync, &ctx.stores)?;
    let labels = key.labels(&ctx.settings.installation);
    let freshness = Freshness {
        generation: sync.metadata.generation.unwrap_or_default(),
        site: client.base_url().to_owned(),
        poll,
        pending_creates: !ctx.memory.with(key, |m| m.pending.is_empty()),
        now: Instant::now(),
    };
    let CurrentTickets {
        tickets,
        indexed,
        full,
    } = match current_tickets(&ctx.memory, &client, key, &labels, &freshness).await {
        Ok(current) => current,
        Err(Error::Jira(e)) => {
            let message = format!("searching the sync's tickets: {e}");
            let blocked = Blocked::by(jira_reason(&e), message, false, Some(RETRY));
            return Ok(Err(blocked));
        }
        Err(e) => return Err(e),
    };
    let settle = ctx.settings.search_settle;
    let (pending, settled) = ctx.memory.with(key, |m| {
        m.pending.settle(&indexed, now, settle);
        let settled = if full {
            Settled::default()
        } else {
            std::mem::take(&mut m.settled)
        };
        (m.pending.clone(), settled)
    });
    let accounts = accounts(&client, &ownership.tasks).await;
    Ok(Ok(Gathered {
        client,
        ownership,
        tickets,
        accounts,
        pending,
        settled,
    }))
}
