//! The `JiraActiveSync` reconciler: a thin shell around the planner. It resolves the connection,
//! checks the Jira target, gathers tasks and tickets, plans, executes, and reports status. The
//! finalizer runs the deletion policy.

use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Error as FinalizerError, Event as Finalizer, finalizer};
use kube::{Api, ResourceExt};

use super::conditions::{Cond, merge};
use super::connection::connect;
use super::context::{Context, filled};
use super::error::{Error, jira_reason};
use super::executor::{FirstFailure, Outcome, Target, execute};
use super::gather::{CurrentTickets, accounts, current_tickets, observed_tickets, ownership};
use super::metrics::{KindLabels, ReconcileLabels};
use super::status::apply_status;
use super::tickets::Freshness;
use crate::api::{
    FINALIZER, JiraActiveSync, JiraActiveSyncStatus, JiraConnection, condition_status,
};
use crate::jira::{JiraClient, JiraError};
use crate::planner::{Counts, ObservedTicket, PlanInput, SyncView, Warning, plan, plan_deletion};

/// How soon a sync that could not reach Jira or its connection tries again.
const RETRY: Duration = Duration::from_secs(15);
/// How soon a sync tries again after the API server refused a write as conflicting.
const CONFLICT_RETRY: Duration = Duration::from_secs(1);
/// The reason of a conflicting Kubernetes write.
const CONFLICT: &str = "KubernetesConflict";

/// Reconciles one sync (through the finalizer helper).
pub async fn reconcile(sync: Arc<JiraActiveSync>, ctx: Arc<Context>) -> Result<Action, Error> {
    let started = Instant::now();
    let namespace = sync
        .namespace()
        .ok_or(Error::MissingMetadata("namespace"))?;
    let api: Api<JiraActiveSync> = Api::namespaced(ctx.kube.clone(), &namespace);
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
    let outcome = match &result {
        Ok(_) => "ok".to_owned(),
        Err(e) => e.reason().to_owned(),
    };
    ctx.metrics
        .reconciles
        .get_or_create(&ReconcileLabels {
            kind: "JiraActiveSync",
            outcome,
        })
        .inc();
    ctx.metrics
        .reconcile_seconds
        .get_or_create(&KindLabels {
            kind: "JiraActiveSync",
        })
        .observe(started.elapsed().as_secs_f64());
    result
}

/// Failed reconciles are retried with a short delay (at once after a write conflict, which only
/// needs a fresh look); the condition, where it could be written, already says why.
pub fn error_policy(sync: Arc<JiraActiveSync>, error: &Error, _: Arc<Context>) -> Action {
    let reason = error.reason();
    tracing::warn!(sync = %sync.name_any(), namespace = ?sync.namespace(), reason, %error, "JiraActiveSync reconcile failed");
    if reason == CONFLICT {
        Action::requeue(CONFLICT_RETRY)
    } else {
        Action::requeue(RETRY)
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
    if let Err(status_error) = write_status(sync, ctx, &conditions, None).await {
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

/// What stands between a sync and Jira.
struct Blocked {
    conditions: Vec<Cond>,
    retry: Option<Duration>,
}

/// What a condition adds when the sync tries again by itself: when.
fn retry_note(retry: Duration) -> String {
    format!("; retrying in {}s", retry.as_secs().max(1))
}

impl Blocked {
    fn by(reason: &str, message: String, connected: bool, retry: Option<Duration>) -> Blocked {
        let message = match retry {
            Some(retry) => format!("{message}{}", retry_note(retry)),
            None => message,
        };
        let mut conditions = vec![
            Cond::no("Ready", reason, message.clone()),
            Cond::no("Synced", reason, message.clone()),
        ];
        conditions.push(if connected {
            Cond::yes("JiraConnected", "Connected", "the connection is ready")
        } else {
            Cond::no("JiraConnected", reason, message)
        });
        Blocked { conditions, retry }
    }
}

/// The connection's client, when the connection exists, is ready, and allows the project.
async fn resolve_client(
    sync: &JiraActiveSync,
    ctx: &Context,
    namespace: &str,
) -> Result<JiraClient, Blocked> {
    let name = &sync.spec.connection_ref.name;
    // Right after start-up the connection store may still be empty: a missing connection is only
    // reported once the store holds its first full list.
    filled(&ctx.stores.connections).await;
    let connection = ctx
        .stores
        .connections
        .state()
        .into_iter()
        .find(|c| c.namespace().as_deref() == Some(namespace) && &c.name_any() == name)
        .ok_or_else(|| {
            Blocked::by(
                "ConnectionNotFound",
                format!("JiraConnection {namespace}/{name} does not exist"),
                false,
                None,
            )
        })?;
    let allowed = &connection.spec.allowed_projects;
    let project = &sync.spec.jira.project;
    if !allowed.is_empty() && !allowed.contains(project) {
        return Err(Blocked::by(
            "ProjectNotAllowed",
            format!(
                "project {project} is not in the allowedProjects of JiraConnection {name} ({}); nothing is written to Jira",
                allowed.join(", ")
            ),
            true,
            None,
        ));
    }
    let connection = fresh_unless_ready(ctx, connection).await;
    let status = connection.status.clone().unwrap_or_default();
    if condition_status(&status.conditions, "Ready") != Some("True") {
        let why = status
            .conditions
            .iter()
            .find(|c| c.type_ == "Ready")
            .map_or_else(|| "not checked yet".to_owned(), |c| c.message.clone());
        // No retry of its own: the connection wakes its syncs when its Ready condition changes,
        // and `fresh_unless_ready` reads past a cache that has not seen the change yet.
        return Err(Blocked::by(
            "ConnectionNotReady",
            format!("JiraConnection {name} is not ready: {why}"),
            false,
            None,
        ));
    }
    connect(ctx, &connection)
        .await
        .map(|c| c.client)
        .map_err(|e| {
            Blocked::by(
                e.reason(),
                format!("JiraConnection {name}: {e}"),
                false,
                Some(RETRY),
            )
        })
}

/// The connection as stored, when the cache has it Ready; else as the API server has it now. The
/// connection reconciler wakes the syncs right after writing Ready, before its own watch brings the
/// new status into the cache: a sync reading only the cache would then wait a whole poll interval.
async fn fresh_unless_ready(ctx: &Context, cached: Arc<JiraConnection>) -> Arc<JiraConnection> {
    let ready = cached
        .status
        .as_ref()
        .and_then(|s| condition_status(&s.conditions, "Ready"))
        == Some("True");
    let Some(namespace) = cached.namespace().filter(|_| !ready) else {
        return cached;
    };
    let api: Api<JiraConnection> = Api::namespaced(ctx.kube.clone(), &namespace);
    match api.get_opt(&cached.name_any()).await {
        Ok(Some(fresh)) => Arc::new(fresh),
        Ok(None) => cached,
        Err(error) => {
            tracing::debug!(%error, "could not read the connection afresh; using the cached one");
            cached
        }
    }
}

/// Checks that the project, issue type and epic exist, once per generation of the spec.
async fn check_target(
    sync: &JiraActiveSync,
    ctx: &Context,
    client: &JiraClient,
    key: &(String, String),
) -> Result<(), Blocked> {
    let generation = sync.metadata.generation.unwrap_or_default();
    if ctx.target_checked(key, generation) {
        return Ok(());
    }
    let jira = &sync.spec.jira;
    let invalid = |e: JiraError, what: String| {
        let retry = e.is_retryable().then_some(RETRY);
        let mut blocked = Blocked::by(jira_reason(&e), format!("{what}: {e}"), true, retry);
        if retry.is_none() {
            blocked.conditions.push(Cond::yes(
                "Stalled",
                "InvalidJiraTarget",
                format!("{what}: {e}"),
            ));
        }
        blocked
    };
    let project = client
        .project(&jira.project)
        .await
        .map_err(|e| invalid(e, format!("project {}", jira.project)))?;
    if !project
        .issue_types
        .iter()
        .any(|t| t.name.eq_ignore_ascii_case(&jira.issue_type))
    {
        let message = format!(
            "issue type {:?} does not exist in project {} (it has: {})",
            jira.issue_type,
            jira.project,
            project
                .issue_types
                .iter()
                .map(|t| t.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut blocked = Blocked::by("IssueTypeNotFound", message.clone(), true, None);
        blocked
            .conditions
            .push(Cond::yes("Stalled", "InvalidJiraTarget", message));
        return Err(blocked);
    }
    if let Some(epic) = &jira.epic {
        client
            .get_issue(epic)
            .await
            .map_err(|e| invalid(e, format!("epic {epic}")))?;
    }
    ctx.set_target_checked(key, Some(generation));
    Ok(())
}

async fn apply(sync: &JiraActiveSync, ctx: &Context) -> Result<Action, Error> {
    let namespace = sync
        .namespace()
        .ok_or(Error::MissingMetadata("namespace"))?;
    let name = sync.name_any();
    let key = (namespace.clone(), name.clone());
    restore_pending_creates(sync, ctx, &key);
    filled(&ctx.stores.tasks).await;
    let poll = poll_interval(sync);
    let client = match resolve_client(sync, ctx, &namespace).await {
        Ok(client) => client,
        Err(blocked) => return report_blocked(sync, ctx, blocked, poll).await,
    };
    if let Err(blocked) = check_target(sync, ctx, &client, &key).await {
        return report_blocked(sync, ctx, blocked, poll).await;
    }
    let owned = ownership(sync, &ctx.stores)?;
    let freshness = Freshness {
        generation: sync.metadata.generation.unwrap_or_default(),
        site: client.base_url().to_owned(),
        poll,
        pending_creates: !ctx.pending_creates(&key).is_empty(),
        now: Instant::now(),
    };
    let CurrentTickets { tickets, indexed } =
        match current_tickets(&ctx.tickets, &client, &key, &freshness).await {
            Ok(t) => t,
            Err(Error::Jira(e)) => {
                let blocked = Blocked::by(
                    jira_reason(&e),
                    format!("searching the sync's tickets: {e}"),
                    false,
                    Some(RETRY),
                );
                return report_blocked(sync, ctx, blocked, poll).await;
            }
            Err(e) => return Err(e),
        };
    let now = jiff::Timestamp::now();
    ctx.settle_pending_creates(&key, &indexed, now);
    let accounts = accounts(&client, &owned.tasks).await;
    let input = PlanInput {
        sync: SyncView {
            namespace: &namespace,
            name: &name,
            spec: &sync.spec,
            flavor: client.flavor(),
        },
        tasks: owned.tasks,
        others: owned.others,
        tickets,
        accounts,
        pending_creates: ctx.pending_creates(&key),
        search_settle: ctx.settings.search_settle,
        now,
    };
    let plan = plan(&input);
    for warning in &plan.warnings {
        let Warning::UnknownAssignee { email, tasks } = warning;
        tracing::warn!(%email, ?tasks, sync = %name, "no Jira user has this email; the ticket stays unassigned");
    }
    let first_failure = FirstFailure::default();
    let target = Target::of(sync, &namespace, &name, &client).reporting_to(&first_failure);
    let (outcome, reported) =
        execute_reporting(sync, ctx, &target, &input.tickets, plan.actions).await;
    // The pass's last write follows the one made mid-pass, so a condition that went False then
    // keeps its transition time.
    let reported_sync;
    let sync = match reported {
        Some(status) => {
            reported_sync = JiraActiveSync {
                status: Some(status),
                ..sync.clone()
            };
            &reported_sync
        }
        None => sync,
    };
    let conflict = owned.lost.first().map(|(task, winner)| {
        Cond::yes(
            "Conflict",
            "ClaimedByOlderSync",
            format!(
                "{} task(s) this sync claims belong to the older sync {winner}, which names the same check (first: {task})",
                owned.lost.len()
            ),
        )
    });
    let mut conditions = vec![
        conflict.unwrap_or_else(|| {
            Cond::no("Conflict", "NoConflict", "no other sync claims these tasks")
        }),
        Cond::yes("JiraConnected", "Connected", "the connection is ready"),
        Cond::no("Stalled", "NotStalled", ""),
    ];
    let mut requeue = poll;
    // Failures that may pass by themselves (rate limits, outages) are retried soon; Jira refusing
    // the input waits for the next poll or a change.
    let retrying = outcome.failures.iter().any(|f| f.retryable);
    if retrying {
        requeue = requeue.min(RETRY);
    }
    if outcome.failures.iter().any(|f| f.reason == CONFLICT) {
        requeue = requeue.min(CONFLICT_RETRY);
    }
    if let Some(until) = outcome.wait_until {
        let wait = Duration::try_from(until.duration_since(now)).unwrap_or_default();
        requeue = requeue.min(wait.max(Duration::from_millis(200)));
    }
    conditions.extend(outcome_conditions(
        sync,
        &outcome,
        &plan.warnings,
        retrying.then_some(requeue),
    ));
    write_status(sync, ctx, &conditions, Some(plan.counts)).await?;
    Ok(Action::requeue(requeue))
}

/// Executes a pass; its first failed Jira action is shown on Ready and Synced at once, since the
/// rest of the pass may take long at the connection's rate. Gives the status written meanwhile.
async fn execute_reporting(
    sync: &JiraActiveSync,
    ctx: &Context,
    target: &Target<'_>,
    observed: &[Arc<ObservedTicket>],
    actions: Vec<crate::planner::Action>,
) -> (Outcome, Option<JiraActiveSyncStatus>) {
    let pass = execute(ctx, target, observed, actions);
    tokio::pin!(pass);
    let Some(first) = target.first_failure else {
        return (pass.await, None);
    };
    tokio::select! {
        outcome = &mut pass => (outcome, None),
        (reason, message) = first.first() => {
            let message = format!("{message}; the pass goes on with the sync's other actions, retrying this one after it");
            let conditions = [
                Cond::no("Ready", reason, message.clone()),
                Cond::no("Synced", reason, message),
            ];
            let written = write_status(sync, ctx, &conditions, None)
                .await
                .inspect_err(|error| tracing::warn!(%error, sync = %sync.name_any(), "could not report a failure before the pass ends"))
                .ok();
            (pass.await, written)
        }
    }
}

/// Ready and Synced after a pass; a failed pass names its first failure and, when the sync tries
/// again by itself, when.
fn outcome_conditions(
    sync: &JiraActiveSync,
    outcome: &Outcome,
    warnings: &[Warning],
    retry: Option<Duration>,
) -> Vec<Cond> {
    if sync.spec.suspend {
        let message = "spec.suspend is true: nothing is written to Jira or to tasks";
        return vec![
            Cond::no("Ready", "Suspended", message),
            Cond::no("Synced", "Suspended", message),
        ];
    }
    match outcome.failures.first() {
        None => {
            let note = warnings
                .iter()
                .map(|Warning::UnknownAssignee { email, .. }| {
                    format!("no Jira user has the email {email}; its tickets are unassigned")
                })
                .collect::<Vec<_>>()
                .join("; ");
            let message = if note.is_empty() {
                "every ticket is in step".to_owned()
            } else {
                note
            };
            vec![
                Cond::yes("Ready", "Synced", message.clone()),
                Cond::yes("Synced", "Synced", message),
            ]
        }
        Some(first) => {
            let message = format!(
                "{} of the sync's actions failed; first: {}{}",
                outcome.failures.len(),
                first.message,
                retry.map(retry_note).unwrap_or_default()
            );
            vec![
                Cond::no("Ready", first.reason, message.clone()),
                Cond::no("Synced", first.reason, message),
            ]
        }
    }
}

async fn report_blocked(
    sync: &JiraActiveSync,
    ctx: &Context,
    blocked: Blocked,
    poll: Duration,
) -> Result<Action, Error> {
    write_status(sync, ctx, &blocked.conditions, None).await?;
    Ok(Action::requeue(blocked.retry.unwrap_or(poll)))
}

/// Reads back the creates a previous process sent but Jira's search had not shown yet.
fn restore_pending_creates(sync: &JiraActiveSync, ctx: &Context, key: &(String, String)) {
    let recorded = sync
        .status
        .as_ref()
        .map(|s| s.pending_creates.as_slice())
        .unwrap_or_default();
    ctx.restore_pending_creates(key, recorded);
}

async fn write_status(
    sync: &JiraActiveSync,
    ctx: &Context,
    conditions: &[Cond],
    counts: Option<Counts>,
) -> Result<JiraActiveSyncStatus, Error> {
    let namespace = sync
        .namespace()
        .ok_or(Error::MissingMetadata("namespace"))?;
    let key = (namespace.clone(), sync.name_any());
    restore_pending_creates(sync, ctx, &key);
    if let Some(ready) = conditions.iter().find(|c| c.type_ == "Ready" && !c.status) {
        ctx.credentials_refused(
            &namespace,
            &sync.spec.connection_ref.name,
            &ready.reason,
            true,
        );
    }
    let current = sync.status.clone().unwrap_or_default();
    let now = jiff::Timestamp::now();
    let mut status = JiraActiveSyncStatus {
        pending_creates: ctx.pending_create_records(&key),
        observed_generation: sync.metadata.generation,
        conditions: merge(
            &current.conditions,
            conditions,
            sync.metadata.generation,
            now,
        ),
        ..current
    };
    if let Some(counts) = counts {
        status.tasks_in_scope = counts.tasks_in_scope;
        status.tasks_completed = counts.tasks_completed;
        status.tickets = counts.tickets;
        status.tickets_done = counts.tickets_done;
        status.last_sync_time = Some(now);
    }
    let api: Api<JiraActiveSync> = Api::namespaced(ctx.kube.clone(), &namespace);
    apply_status(&api, &ctx.settings.manager, &sync.name_any(), &status).await?;
    Ok(status)
}

/// The finalizer: runs the deletion policy on every ticket found by the sync's label, clears the
/// statuses of tasks that name the sync, and only then lets the sync go. While Jira cannot be
/// reached the finalizer stays and `Ready=False` says why.
async fn cleanup(sync: &JiraActiveSync, ctx: &Context) -> Result<Action, Error> {
    let namespace = sync
        .namespace()
        .ok_or(Error::MissingMetadata("namespace"))?;
    let name = sync.name_any();
    filled(&ctx.stores.tasks).await;
    let recorded: Vec<String> = ctx
        .stores
        .tasks
        .state()
        .into_iter()
        .filter(|t| {
            t.namespace().as_deref() == Some(namespace.as_str())
                && t.status
                    .as_ref()
                    .and_then(|s| s.jira.as_ref())
                    .is_some_and(|j| j.sync == name)
        })
        .map(|t| t.name_any())
        .collect();
    let needs_jira = sync.spec.deletion_policy != crate::api::DeletionPolicy::Retain;
    let (client, tickets) = if needs_jira {
        let client = match resolve_client(sync, ctx, &namespace).await {
            Ok(c) => c,
            Err(blocked) => return cleanup_blocked(sync, ctx, blocked).await,
        };
        match observed_tickets(&client, &namespace, &name).await {
            Ok(t) => (Some(client), t),
            Err(Error::Jira(e)) => {
                let blocked = Blocked::by(
                    jira_reason(&e),
                    format!("deletion waits for Jira: {e}"),
                    false,
                    Some(RETRY),
                );
                return cleanup_blocked(sync, ctx, blocked).await;
            }
            Err(e) => return Err(e),
        }
    } else {
        (None, Vec::new())
    };
    let view = SyncView {
        namespace: &namespace,
        name: &name,
        spec: &sync.spec,
        flavor: client
            .as_ref()
            .map_or(crate::jira::Flavor::Cloud, JiraClient::flavor),
    };
    let actions = plan_deletion(&view, &tickets, &recorded);
    let outcome = match &client {
        Some(client) => {
            let target = Target::of(sync, &namespace, &name, client);
            execute(ctx, &target, &tickets, actions).await
        }
        None => {
            clear_statuses(ctx, &namespace, &recorded).await?;
            Outcome::default()
        }
    };
    if let Some(first) = outcome.failures.first() {
        let message = format!(
            "deletion ({:?}) is not finished: {}",
            sync.spec.deletion_policy, first.message
        );
        let blocked = Blocked::by(first.reason, message, true, Some(RETRY));
        return cleanup_blocked(sync, ctx, blocked).await;
    }
    let key = (namespace, name);
    ctx.set_target_checked(&key, None);
    ctx.tickets.forget(&key);
    Ok(Action::await_change())
}

/// Under `Retain` no Jira client is needed: statuses are cleared directly.
async fn clear_statuses(ctx: &Context, namespace: &str, tasks: &[String]) -> Result<(), Error> {
    let api: Api<crate::api::ComplianceTask> = Api::namespaced(ctx.kube.clone(), namespace);
    let patch = serde_json::json!({"status": {"jira": null}});
    for task in tasks {
        match api
            .patch_status(
                task,
                &kube::api::PatchParams::default(),
                &kube::api::Patch::Merge(&patch),
            )
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The deletion cannot finish yet: say why, keep the finalizer, and try again.
async fn cleanup_blocked(
    sync: &JiraActiveSync,
    ctx: &Context,
    blocked: Blocked,
) -> Result<Action, Error> {
    write_status(sync, ctx, &blocked.conditions, None).await?;
    let message = blocked
        .conditions
        .first()
        .map(|c| c.message.clone())
        .unwrap_or_default();
    Err(Error::Connection(message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::executor::Failure;

    fn sync() -> JiraActiveSync {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraActiveSync",
            "metadata": {"name": "s", "namespace": "ns"},
            "spec": {"connectionRef": {"name": "acme"}, "jira": {"project": "SEC", "issueType": "Task"}}
        }))
        .unwrap()
    }

    #[test]
    fn a_failed_pass_names_its_first_failure_and_when_it_tries_again() {
        let outcome = Outcome {
            failures: vec![Failure {
                reason: "JiraRateLimited",
                message: "closing SEC-2: POST /rest/api/3/issue/SEC-2/transitions: rate limited by Jira (jira-per-issue-on-write), retry after 1.0s".into(),
                retryable: true,
            }],
            wait_until: None,
        };
        let conditions = outcome_conditions(&sync(), &outcome, &[], Some(Duration::from_secs(10)));
        let ready = conditions.iter().find(|c| c.type_ == "Ready").unwrap();
        assert!(!ready.status);
        assert_eq!(ready.reason, "JiraRateLimited");
        assert!(
            ready.message.contains("jira-per-issue-on-write")
                && ready.message.ends_with("; retrying in 10s"),
            "{}",
            ready.message
        );
        let healthy = outcome_conditions(&sync(), &Outcome::default(), &[], None);
        assert!(healthy.iter().all(|c| c.status && c.reason == "Synced"));
    }

    #[test]
    fn a_blocked_sync_says_when_it_tries_again() {
        let blocked = Blocked::by(
            "JiraUnavailable",
            "searching the sync's tickets: POST /rest/api/3/search/jql: transient failure (503): Service Unavailable".into(),
            false,
            Some(RETRY),
        );
        for condition in &blocked.conditions {
            assert!(!condition.status);
            assert_eq!(condition.reason, "JiraUnavailable");
            assert!(
                condition
                    .message
                    .ends_with("(503): Service Unavailable; retrying in 15s"),
                "{}",
                condition.message
            );
        }
        let stuck = Blocked::by(
            "ProjectNotAllowed",
            "project X is not allowed".into(),
            true,
            None,
        );
        assert_eq!(stuck.conditions[0].message, "project X is not allowed");
    }
}
