//! The finalizer's cleanup: runs the deletion policy on every ticket found by the sync's label,
//! clears the statuses of tasks that name the sync, and only then lets the sync go. While Jira
//! cannot be reached the finalizer stays and `Ready=False` says why.

use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

use super::conditions::Cond;
use super::context::{Context, filled};
use super::error::{Error, jira_reason};
use super::executor::{Outcome, Target, execute};
use super::gather::observed_tickets;
use super::memory::SyncKey;
use super::pass::{Blocked, deletion_backoff, needs_jira_to_delete, retry_note};
use super::report::write_status;
use super::target::{Purpose, resolve_client};
use crate::api::{ComplianceTask, JiraActiveSync};
use crate::jira::{Flavor, JiraClient};
use crate::planner::{SyncView, plan_deletion};

/// What a blocked deletion's message says about giving up.
const WAY_OUT: &str = "to let the sync go without touching its tickets, annotate it with \
     activesync.dev/abandon-cleanup=true or set spec.deletionPolicy: Retain";

/// Runs the deletion policy of a sync being deleted.
pub async fn cleanup(sync: &JiraActiveSync, ctx: &Context) -> Result<Action, Error> {
    let key = SyncKey::of(sync)?;
    let now = jiff::Timestamp::now();
    let recorded = recorded_tasks(ctx, &key).await;
    let (client, tickets) = if !needs_jira_to_delete(sync) {
        (None, Vec::new())
    } else {
        let client = match resolve_client(sync, ctx, &key, Purpose::Cleanup).await {
            Ok(client) => client,
            Err(blocked) => return cleanup_blocked(sync, ctx, blocked, now).await,
        };
        match observed_tickets(&client, &key.namespace, &key.name).await {
            Ok(tickets) => (Some(client), tickets),
            Err(Error::Jira(e)) => {
                let message = format!("deletion waits for Jira: {e}");
                let blocked = Blocked::by(jira_reason(&e), message, false, None);
                return cleanup_blocked(sync, ctx, blocked, now).await;
            }
            Err(e) => return Err(e),
        }
    };
    let view = SyncView {
        namespace: &key.namespace,
        name: &key.name,
        spec: &sync.spec,
        flavor: client.as_ref().map_or(Flavor::Cloud, JiraClient::flavor),
    };
    let plan = plan_deletion(&view, &tickets, &recorded);
    let outcome = match &client {
        Some(client) => {
            let target = Target::of(sync, &key.namespace, &key.name, client);
            execute(ctx, &target, plan).await
        }
        None => {
            clear_statuses(ctx, &key.namespace, &recorded).await?;
            Outcome::default()
        }
    };
    if let Some(first) = outcome.failures.first() {
        let policy = sync.spec.deletion_policy;
        let message = format!("deletion ({policy:?}) is not finished: {}", first.message);
        let blocked = Blocked::by(first.reason, message, true, None);
        return cleanup_blocked(sync, ctx, blocked, now).await;
    }
    ctx.memory.forget(&key);
    ctx.metrics.forget_sync(&key.namespace, &key.name);
    // The connection may be waiting for this sync to go before it can.
    ctx.trigger_connection(&key.namespace, &sync.spec.connection_ref.name);
    Ok(Action::await_change())
}

/// The tasks whose status names the sync.
async fn recorded_tasks(ctx: &Context, key: &SyncKey) -> Vec<String> {
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
        .map(|t| t.name_any())
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
    let conditions = [
        Cond::no("Ready", blocked.reason, message.clone()),
        Cond::no("Synced", blocked.reason, message.clone()),
    ];
    write_status(sync, ctx, &conditions, None, now).await?;
    Err(Error::DeletionBlocked {
        reason: blocked.reason,
        message,
        retry_in,
    })
}
