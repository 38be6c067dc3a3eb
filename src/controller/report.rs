//! Reporting a sync's pass: its status (conditions, counters, pending creates) through server-side
//! apply, and a failure shown as soon as it happens while a long pass goes on.

use std::time::Duration;

use kube::Api;
use kube::runtime::controller::Action;

use super::conditions::{Cond, merge};
use super::context::Context;
use super::error::Error;
use super::executor::{Outcome, Target, execute};
use super::memory::SyncKey;
use super::pass::Blocked;
use super::status::apply_status;
use crate::api::{JiraActiveSync, JiraActiveSyncStatus, condition_status};
use crate::planner::{Counts, Plan};

/// Writes the sync's status: `conditions` merged into the current ones, the pending creates this
/// process knows, and the counters when a pass produced them. Gives the status written.
pub async fn write_status(
    sync: &JiraActiveSync,
    ctx: &Context,
    conditions: &[Cond],
    counts: Option<Counts>,
    now: jiff::Timestamp,
) -> Result<JiraActiveSyncStatus, Error> {
    let key = SyncKey::of(sync)?;
    // Credentials refused in a pass are news for the connection: it re-checks them at once.
    if let Some(ready) = conditions.iter().find(|c| c.type_ == "Ready" && !c.status) {
        let connection = &sync.spec.connection_ref.name;
        ctx.credentials_refused(&key.namespace, connection, &ready.reason, true);
    }
    let current = sync.status.clone().unwrap_or_default();
    let (pending_create_groups, recent_actions) = ctx.memory.with(&key, |m| {
        restore_pending(m, &current, now);
        (
            m.pending.records(),
            m.recent.merged_with(&current.recent_actions),
        )
    });
    let generation = sync.metadata.generation;
    let mut status = JiraActiveSyncStatus {
        pending_create_groups,
        pending_creates: Vec::new(),
        recent_actions,
        observed_generation: generation,
        conditions: merge(&current.conditions, conditions, generation, now),
        ..current
    };
    if let Some(counts) = counts {
        status.tasks_in_scope = counts.tasks_in_scope;
        status.tasks_completed = counts.tasks_completed;
        status.tickets = counts.tickets;
        status.tickets_done = counts.tickets_done;
        status.last_sync_time = Some(now);
    }
    let api: Api<JiraActiveSync> = Api::namespaced(ctx.kube.clone(), &key.namespace);
    apply_status(&api, &ctx.settings.manager, &key.name, &status).await?;
    let ready = condition_status(&status.conditions, "Ready") == Some("True");
    let deleting = sync.metadata.deletion_timestamp.is_some();
    ctx.metrics
        .sync_state(&key.namespace, &key.name, ready, deleting && !ready);
    Ok(status)
}

/// Takes, once per process, the pending creates the sync's status records: a process started after
/// a crash waits for them too.
pub fn restore_pending(
    memory: &mut super::memory::SyncMemory,
    status: &JiraActiveSyncStatus,
    now: jiff::Timestamp,
) {
    if !std::mem::replace(&mut memory.restored_pending, true) {
        memory
            .pending
            .restore(&status.pending_create_groups, &status.pending_creates, now);
    }
}

/// Reports what blocks the sync and when it tries again.
pub async fn report_blocked(
    sync: &JiraActiveSync,
    ctx: &Context,
    blocked: Blocked,
    poll: Duration,
    now: jiff::Timestamp,
) -> Result<Action, Error> {
    write_status(sync, ctx, &blocked.conditions, None, now).await?;
    Ok(Action::requeue(blocked.retry.unwrap_or(poll)))
}

/// Executes a pass; its first failed Jira action is shown on Ready and Synced at once, since the
/// rest of the pass may take long at the connection's rate. Gives the status written meanwhile.
pub async fn execute_reporting(
    sync: &JiraActiveSync,
    ctx: &Context,
    target: &Target<'_>,
    plan: Plan,
    now: jiff::Timestamp,
) -> (Outcome, Option<JiraActiveSyncStatus>) {
    let pass = execute(ctx, target, plan);
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
            let written = write_status(sync, ctx, &conditions, None, now)
                .await
                .inspect_err(|error| tracing::warn!(%error, sync = %target.sync, "could not report a failure before the pass ends"))
                .ok();
            (pass.await, written)
        }
    }
}
