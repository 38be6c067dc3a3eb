//! The finalizer's cleanup: runs the deletion policy on every ticket the sync made, clears the
//! statuses of tasks that name the sync, and only then lets the sync go. While Jira cannot be
//! reached the finalizer stays and `Ready=False` says why.
//!
//! The tickets reached are those found by the sync's labels (under `Delete` also the tickets it
//! released earlier, which keep a released label), and those whose keys this process knows or the
//! sync's tasks record, which a lagging search may not show yet. Creates that search may not show
//! yet hold the finalizer until search shows them or their settle window passes.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

use super::conditions::Cond;
use super::context::{Context, filled};
use super::error::{Error, jira_reason};
use super::executor::{Outcome, Target, execute};
use super::gather::{observed_tickets, tickets_by_key};
use super::memory::SyncKey;
use super::pass::{Blocked, deletion_backoff, needs_jira_to_delete, retry_note};
use super::report::{restore_pending, write_status};
use super::target::{Purpose, resolve_client};
use crate::api::{ComplianceTask, DeletionPolicy, JiraActiveSync};
use crate::jira::JiraClient;
use crate::planner::{ObservedTicket, SyncLabels, SyncView, plan_deletion};

/// What a blocked deletion's message says about giving up.
const WAY_OUT: &str = "to let the sync go without touching its tickets, annotate it with \
     activesync.dev/abandon-cleanup=true or set spec.deletionPolicy: Retain";

/// How often a deletion waiting for Jira's search to show its latest creates searches again.
const SEARCH_AGAIN: Duration = Duration::from_secs(3);

/// A task whose status names the sync, with the ticket key it records.
struct RecordedTask {
    name: String,
    key: Option<String>,
}

/// Runs the deletion policy of a sync being deleted.
pub async fn cleanup(sync: &JiraActiveSync, ctx: &Context) -> Result<Action, Error> {
    let key = SyncKey::of(sync)?;
    let now = jiff::Timestamp::now();
    let recorded = recorded_tasks(ctx, &key).await;
    if !needs_jira_to_delete(sync) {
        let names: Vec<String> = recorded.into_iter().map(|t| t.name).collect();
        clear_statuses(ctx, &key.namespace, &names).await?;
        return finished(ctx, &key);
    }
    let client = match resolve_client(sync, ctx, &key, Purpose::Cleanup).await {
        Ok(client) => client,
        Err(blocked) => return cleanup_blocked(sync, ctx, blocked, now).await,
    };
    let labels = key.labels(&ctx.settings.installation);
    let tickets = match reachable_tickets(&client, sync, ctx, (&key, &labels), &recorded).await {
        Ok(tickets) => tickets,
        Err(Error::Jira(e)) => {
            let message = format!("deletion waits for Jira: {e}");
            let blocked = Blocked::by(jira_reason(&e), message, false, None);
            return cleanup_blocked(sync, ctx, blocked, now).await;
        }
        Err(e) => return Err(e),
    };
    let view = SyncView {
        namespace: &key.namespace,
        name: &key.name,
        labels,
        spec: &sync.spec,
        flavor: client.flavor(),
    };
    let names: Vec<String> = recorded.into_iter().map(|t| t.name).collect();
    let plan = plan_deletion(&view, &tickets, &names);
    let outcome: Outcome = execute(
        ctx,
        &Target::of(sync, &key.namespace, &key.name, &client),
        plan,
    )
    .await;
    if let Some(first) = outcome.failures.first() {
        let policy = sync.spec.deletion_policy;
        let message = format!("deletion ({policy:?}) is not finished: {}", first.message);
        let blocked = Blocked::by(first.reason, message, true, None);
        return cleanup_blocked(sync, ctx, blocked, now).await;
    }
    if let Some(until) = unsettled_creates(sync, ctx, &key, &tickets, now) {
        return waiting_for_search(sync, ctx, until, now).await;
    }
    finished(ctx, &key)
}

/// The sync's policy is applied: forget it. Its connection is woken when the watch sees the sync
/// gone (`Context::sync_gone`): woken now, it would still find the sync in the store.
fn finished(ctx: &Context, key: &SyncKey) -> Result<Action, Error> {
    ctx.memory.forget(key);
    ctx.metrics.forget_sync(&key.namespace, &key.name);
    Ok(Action::await_change())
}

/// Every ticket the deletion policy reaches: found by the sync's labels (with the released label
/// under `Delete`), and read by key when this process knows it or a task records it but search
/// does not show it yet. Only tickets carrying one of those labels are taken.
async fn reachable_tickets(
    client: &JiraClient,
    sync: &JiraActiveSync,
    ctx: &Context,
    (key, labels): (&SyncKey, &SyncLabels),
    recorded: &[RecordedTask],
) -> Result<Vec<Arc<ObservedTicket>>, Error> {
    let wanted = deletion_labels(sync, labels);
    let searched = observed_tickets(client, &wanted).await?;
    let known = ctx.memory.with(key, |m| m.tickets.known());
    let missed: BTreeSet<String> = known
        .iter()
        .map(|t| t.key.clone())
        .chain(recorded.iter().filter_map(|t| t.key.clone()))
        .filter(|k| !searched.iter().any(|t| &t.key == k))
        .collect();
    let missed: Vec<String> = missed.into_iter().collect();
    let found = tickets_by_key(client, &missed, &wanted).await?;
    Ok(searched
        .into_iter()
        .chain(found.into_iter().map(|s| s.ticket))
        .collect())
}

/// The labels that find the tickets a sync's deletion policy reaches: those it keeps, and under
/// `Delete` those it released earlier.
pub(super) fn deletion_labels<'a>(sync: &JiraActiveSync, labels: &'a SyncLabels) -> Vec<&'a str> {
    let mut wanted = labels.kept().to_vec();
    if sync.spec.deletion_policy == DeletionPolicy::Delete {
        wanted.push(&labels.released);
    }
    wanted
}

/// When the sync's creates that no reached ticket shows will have settled, if any are pending:
/// a ticket created moments ago may not be in search yet, and the policy must reach it too.
fn unsettled_creates(
    sync: &JiraActiveSync,
    ctx: &Context,
    key: &SyncKey,
    reached: &[Arc<ObservedTicket>],
    now: jiff::Timestamp,
) -> Option<jiff::Timestamp> {
    let shown: Vec<String> = reached
        .iter()
        .flat_map(|t| t.operator_labels().cloned())
        .collect();
    let window = ctx.settings.search_settle;
    ctx.memory.with(key, |m| {
        if let Some(status) = &sync.status {
            restore_pending(m, status, now);
        }
        m.pending.settle(&shown, now, window);
        m.pending.settled_by(window)
    })
}

/// The tasks whose status names the sync.
async fn recorded_tasks(ctx: &Context, key: &SyncKey) -> Vec<RecordedTask> {
    filled(&ctx.stores.tasks).await;
    ctx.stores
        .tasks
        .state()
        .into_iter()
        .filter(|t| {
            t.namespace().as_ref() == Some(&key.namespace)
                && t.status
                    .as_ref()
                    .and_then(|s| s.jira.as_ref())
                    .is_some_and(|j| j.sync == key.name)
        })
        .map(|t| RecordedTask {
            name: t.name_any(),
            key: t
                .status
                .as_ref()
                .and_then(|s| s.jira.as_ref())
                .and_then(|j| j.key.clone()),
        })
        .collect()
}

/// Under `Retain` no Jira client is needed: statuses are cleared directly.
async fn clear_statuses(ctx: &Context, namespace: &str, tasks: &[String]) -> Result<(), Error> {
    let api: Api<ComplianceTask> = Api::namespaced(ctx.kube.clone(), namespace);
    let patch = serde_json::json!({"status": {"jira": null}});
    let params = kube::api::PatchParams::default();
    for task in tasks {
        match api
            .patch_status(task, &params, &kube::api::Patch::Merge(&patch))
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// The deletion cannot finish yet: say why, when it tries again and how to give up, keep the
/// finalizer, and back off.
async fn cleanup_blocked(
    sync: &JiraActiveSync,
    ctx: &Context,
    blocked: Blocked,
    now: jiff::Timestamp,
) -> Result<Action, Error> {
    let key = SyncKey::of(sync)?;
    let attempts = ctx.memory.with(&key, |m| {
        m.deletion_attempts = m.deletion_attempts.saturating_add(1);
        m.deletion_attempts
    });
    let retry_in = deletion_backoff(attempts);
    let message = format!("{}{}; {WAY_OUT}", blocked.message, retry_note(retry_in));
    hold(sync, ctx, (blocked.reason, message), retry_in, now).await
}

/// The policy reached every ticket search shows, but creates made moments ago may not show yet:
/// search again shortly, until they show or their settle window ends.
async fn waiting_for_search(
    sync: &JiraActiveSync,
    ctx: &Context,
    until: jiff::Timestamp,
    now: jiff::Timestamp,
) -> Result<Action, Error> {
    let left = Duration::try_from(until.duration_since(now)).unwrap_or_default();
    let message = format!(
        "deletion waits for tickets created moments ago to show in Jira's search (at the latest \
         until {until}), so that its policy reaches them too"
    );
    let retry_in = left.clamp(Duration::from_secs(1), SEARCH_AGAIN);
    hold(sync, ctx, ("WaitingForSearch", message), retry_in, now).await
}

/// Keeps the finalizer: says why on Ready and Synced, and asks to be called again in `retry_in`.
async fn hold(
    sync: &JiraActiveSync,
    ctx: &Context,
    (reason, message): (&'static str, String),
    retry_in: Duration,
    now: jiff::Timestamp,
) -> Result<Action, Error> {
    let conditions = [
        Cond::no("Ready", reason, message.clone()),
        Cond::no("Synced", reason, message.clone()),
    ];
    write_status(sync, ctx, &conditions, None, now).await?;
    Err(Error::DeletionBlocked {
        reason,
        message,
        retry_in,
    })
}
