//! The `JiraConnection` reconciler: reads the credentials, checks them against Jira (myself and
//! serverInfo), and reports `Authenticated` and `Ready` with what it found. A change of the
//! connection or of its Secret re-checks it; syncs using it are woken when its readiness changes.

use std::sync::Arc;
use std::time::Duration;

use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

use super::conditions::{Cond, merge};
use super::context::{ConnectedClient, Context};
use super::credentials::{credentials, read_secret, webhook_secret};
use super::error::Error;
use super::status::apply_status;
use crate::api::{
    Condition, Flavor, JiraAccount, JiraConnection, JiraConnectionStatus, ServerInfo,
};
use crate::jira::{self, ClientConfig, JiraClient};

/// How often a healthy connection is re-checked.
const RECHECK: Duration = Duration::from_secs(300);
/// How soon a failing connection is tried again.
const RETRY: Duration = Duration::from_secs(30);
/// How soon a connection that Jira rate limited or could not serve is tried again: its syncs wait
/// for it, so an outage should not outlast Jira's by much.
const RETRY_PASSING: Duration = Duration::from_secs(10);

/// The Jira flavor of a connection's spec.
pub fn jira_flavor(flavor: Flavor) -> jira::Flavor {
    match flavor {
        Flavor::Cloud => jira::Flavor::Cloud,
        Flavor::DataCenter => jira::Flavor::DataCenter,
    }
}

/// Builds (or reuses) the client of a connection from its current Secret.
pub async fn connect(ctx: &Context, connection: &JiraConnection) -> Result<ConnectedClient, Error> {
    let namespace = connection
        .namespace()
        .ok_or(Error::MissingMetadata("namespace"))?;
    let key = (namespace.clone(), connection.name_any());
    let secret = read_secret(&ctx.kube, &namespace, &connection.spec.auth.secret_ref.name).await?;
    // The spec's generation, not the resourceVersion: the operator's own status writes must not
    // rebuild the client, which would start a fresh token bucket beside the old one (still in use by
    // syncs mid-pass) and forget the pauses Jira asked for.
    let built_from = (
        connection
            .metadata
            .generation
            .unwrap_or_default()
            .to_string(),
        secret.resource_version().unwrap_or_default(),
    );
    if let Some(cached) = ctx.client(&key, &built_from) {
        return Ok(cached);
    }
    let mut config = ClientConfig::new(
        connection.spec.url.clone(),
        jira_flavor(connection.spec.flavor),
        credentials(connection, &secret)?,
    );
    config.rate_limit = jira::RateLimit {
        requests_per_second: connection.spec.rate_limit.requests_per_second,
        burst: connection.spec.rate_limit.burst,
    };
    let webhook_secret = match &connection.spec.webhook {
        Some(webhook) if webhook.secret_ref.name != connection.spec.auth.secret_ref.name => {
            let hook = read_secret(&ctx.kube, &namespace, &webhook.secret_ref.name).await?;
            webhook_secret(connection, &hook)?
        }
        _ => webhook_secret(connection, &secret)?,
    };
    let connected = ConnectedClient {
        client: JiraClient::new(config)?,
        built_from,
        webhook_secret,
    };
    ctx.store_client(key, connected.clone());
    Ok(connected)
}

/// Reconciles one connection.
pub async fn reconcile(
    connection: Arc<JiraConnection>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let mut timer = ctx.metrics.reconcile_timer("JiraConnection");
    let namespace = connection
        .namespace()
        .ok_or(Error::MissingMetadata("namespace"))?;
    let name = connection.name_any();
    let was = connection
        .status
        .as_ref()
        .and_then(|s| ready_condition(&s.conditions));
    let checked = check(&ctx, &connection).await;
    if let Err(error) = &checked
        && !passing(error)
    {
        // A client refused by Jira's rate limits or outage is still the right client, holding
        // the pauses Jira asked for; only unusable settings or credentials drop it.
        ctx.forget_client(&(namespace.clone(), name.clone()));
    }
    let (status, requeue) = checked_status(&connection, &checked, jiff::Timestamp::now());
    let api: Api<JiraConnection> = Api::namespaced(ctx.kube.clone(), &namespace);
    apply_status(&api, &ctx.settings.manager, &name, &status).await?;
    // Syncs repeat the connection's Ready condition in theirs: a new reason (ready, or not ready for
    // another cause) is news for them.
    if ready_condition(&status.conditions) != was {
        ctx.trigger_syncs_of_connection(&namespace, &name);
    }
    timer.outcome(checked.as_ref().map_or_else(Error::reason, |_| "ok"));
    Ok(Action::requeue(requeue))
}

/// Whether a failed check may pass by itself (Jira busy or down), saying nothing of the credentials.
fn passing(error: &Error) -> bool {
    matches!(error, Error::Jira(e) if e.is_retryable())
}

/// The connection's status after a check, and when to check again.
fn checked_status(
    connection: &JiraConnection,
    checked: &Result<(ServerInfo, JiraAccount), Error>,
    now: jiff::Timestamp,
) -> (JiraConnectionStatus, Duration) {
    let current = connection.status.clone().unwrap_or_default();
    let generation = connection.metadata.generation;
    match checked {
        Ok((server_info, account)) => {
            let message = format!(
                "authenticated to {} ({} {}) as {}",
                connection.spec.url,
                server_info.deployment_type,
                server_info.version,
                account.display_name
            );
            let updates = [
                Cond::yes("Authenticated", "Authenticated", message.clone()),
                Cond::yes("Ready", "Connected", message),
            ];
            let status = JiraConnectionStatus {
                observed_generation: generation,
                conditions: merge(&current.conditions, &updates, generation, now),
                server_info: Some(server_info.clone()),
                account: Some(account.clone()),
            };
            (status, RECHECK)
        }
        Err(error) => {
            let retry = if passing(error) { RETRY_PASSING } else { RETRY };
            let reason = error.reason();
            let message = format!("{error}; retrying in {}s", retry.as_secs());
            tracing::warn!(connection = %connection.name_any(), namespace = ?connection.namespace(), reason, %message, "connection check failed");
            let mut updates = vec![Cond::no("Ready", reason, message.clone())];
            // Jira being busy or down says nothing about the credentials.
            if !passing(error) {
                updates.push(Cond::no("Authenticated", reason, message));
            }
            let status = JiraConnectionStatus {
                observed_generation: generation,
                conditions: merge(&current.conditions, &updates, generation, now),
                ..current
            };
            (status, retry)
        }
    }
}

/// The status and reason of a connection's Ready condition.
fn ready_condition(conditions: &[Condition]) -> Option<(String, String)> {
    conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| (c.status.clone(), c.reason.clone()))
}

async fn check(
    ctx: &Context,
    connection: &JiraConnection,
) -> Result<(ServerInfo, JiraAccount), Error> {
    let connected = connect(ctx, connection).await?;
    let info = connected.client.server_info().await?;
    let me = connected.client.myself().await?;
    Ok((
        ServerInfo {
            deployment_type: info.deployment_type,
            version: info.version,
        },
        JiraAccount {
            account_id: me.account_id,
            display_name: me.display_name,
        },
    ))
}

/// Failed reconciles (status writes) are retried soon.
pub fn error_policy(_: Arc<JiraConnection>, error: &Error, _: Arc<Context>) -> Action {
    tracing::warn!(%error, "JiraConnection reconcile failed");
    Action::requeue(RETRY)
}
