//! The `JiraConnection` reconciler: reads the credentials, checks them against Jira (myself and
//! serverInfo), and reports `Authenticated` and `Ready` with what it found, and what to do when the
//! credentials are refused. A change of the connection or of its Secrets re-checks it (so rotated
//! credentials and CAs are used without a restart); syncs using it are woken when its readiness
//! changes.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};

use super::conditions::{Cond, merge};
use super::context::{ConnectedClient, Context};
use super::credentials::{credentials, read_secret, secret_keys, trusted_ca, webhook_secret};
use super::error::Error;
use super::in_use::{Protection, protect};
use super::status::apply_status;
use crate::api::{
    AuthType, Condition, Flavor, JiraAccount, JiraConnection, JiraConnectionStatus, ServerInfo,
};
use crate::jira::{self, ClientConfig, JiraClient, JiraError};

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
    let secrets = ConnectionSecrets::read(&ctx.kube, &namespace, connection).await?;
    // The spec's generation, not the resourceVersion: the operator's own status writes must not
    // rebuild the client, which would start a fresh token bucket beside the old one (still in use by
    // syncs mid-pass) and forget the pauses Jira asked for. A rotated Secret does.
    let built_from = (
        connection
            .metadata
            .generation
            .unwrap_or_default()
            .to_string(),
        secrets.versions(),
    );
    if let Some(cached) = ctx.client(&key, &built_from) {
        return Ok(cached);
    }
    let mut config = client_config(connection, &secrets.credentials, secrets.ca.as_ref())?;
    ctx.principals.share_with(&mut config);
    let webhook_secret = webhook_secret(
        connection,
        secrets.webhook.as_ref().unwrap_or(&secrets.credentials),
    )?;
    let connected = ConnectedClient {
        client: JiraClient::new(config)?,
        built_from,
        webhook_secret,
    };
    ctx.store_client(key, connected.clone());
    Ok(connected)
}

/// A client of a connection built afresh from its Secrets, shared with no reconcile and cached
/// nowhere: what `plan` reads Jira with.
pub async fn read_client(
    kube: &kube::Client,
    connection: &JiraConnection,
) -> Result<JiraClient, Error> {
    let namespace = connection
        .namespace()
        .ok_or(Error::MissingMetadata("namespace"))?;
    let secrets = ConnectionSecrets::read(kube, &namespace, connection).await?;
    let config = client_config(connection, &secrets.credentials, secrets.ca.as_ref())?;
    Ok(JiraClient::new(config)?)
}

/// The Secrets a connection names: its credentials, its CA (when `tls` names one) and its webhook
/// secret (when that is another Secret).
struct ConnectionSecrets {
    credentials: Secret,
    ca: Option<Secret>,
    webhook: Option<Secret>,
}

impl ConnectionSecrets {
    async fn read(
        kube: &kube::Client,
        namespace: &str,
        connection: &JiraConnection,
    ) -> Result<ConnectionSecrets, Error> {
        let credentials_name = &connection.spec.auth.secret_ref.name;
        let credentials = read_secret(kube, namespace, credentials_name).await?;
        let ca = match &connection.spec.tls {
            Some(tls) => Some(read_secret(kube, namespace, &tls.ca_secret_ref.name).await?),
            None => None,
        };
        let webhook = match &connection.spec.webhook {
            Some(webhook) if &webhook.secret_ref.name != credentials_name => {
                Some(read_secret(kube, namespace, &webhook.secret_ref.name).await?)
            }
            _ => None,
        };
        Ok(ConnectionSecrets {
            credentials,
            ca,
            webhook,
        })
    }

    /// The resourceVersions of the Secrets, so that rotating any of them rebuilds the client.
    fn versions(&self) -> String {
        [
            Some(&self.credentials),
            self.ca.as_ref(),
            self.webhook.as_ref(),
        ]
        .map(|secret| {
            secret
                .and_then(|s| s.resource_version())
                .unwrap_or_default()
        })
        .join("/")
    }
}

/// The client settings of a connection's spec, with the credentials and CA of its Secrets.
fn client_config(
    connection: &JiraConnection,
    secret: &Secret,
    ca_secret: Option<&Secret>,
) -> Result<ClientConfig, Error> {
    let mut config = ClientConfig::new(
        connection.spec.url.clone(),
        jira_flavor(connection.spec.flavor),
        credentials(connection, secret)?,
    );
    config.rate_limit = jira::RateLimit {
        requests_per_second: connection.spec.rate_limit.requests_per_second,
        burst: connection.spec.rate_limit.burst,
    };
    config.gateway = connection.spec.gateway.as_ref().map(|g| jira::Gateway {
        url: g
            .url
            .clone()
            .unwrap_or_else(|| jira::CLOUD_GATEWAY_URL.to_owned()),
        cloud_id: g.cloud_id.clone(),
    });
    if let Some(ca_secret) = ca_secret {
        config.trusted_ca_pem = trusted_ca(connection, ca_secret)?;
    }
    Ok(config)
}

/// Reconciles one connection.
pub async fn reconcile(
    connection: Arc<JiraConnection>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let mut timer = ctx.metrics.reconcile_timer("JiraConnection");
    if protect(&ctx, &connection).await? == Protection::Released {
        timer.outcome("ok");
        return Ok(Action::await_change());
    }
    let namespace = connection
        .namespace()
        .ok_or(Error::MissingMetadata("namespace"))?;
    let name = connection.name_any();
    let was = connection
        .status
        .as_ref()
        .and_then(|s| ready_condition(&s.conditions));
    let checked = check(&ctx, &connection).await;
    if let Err(error) = &checked {
        ctx.credentials_refused(&namespace, &name, error.reason(), false);
        if !passing(error) {
            // A client refused by Jira's rate limits or outage is still the right client, holding
            // the pauses Jira asked for; only unusable settings or credentials drop it.
            ctx.forget_client(&(namespace.clone(), name.clone()));
        }
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
            let advice = advice(connection, error)
                .map(|a| format!("; {a}"))
                .unwrap_or_default();
            let message = format!("{error}{advice}; retrying in {}s", retry.as_secs());
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

/// What a person should do about a refused connection: which Secret key to rotate, which scope to
/// grant, which CA to trust.
fn advice(connection: &JiraConnection, error: &Error) -> Option<String> {
    let Error::Jira(error) = error else {
        return None;
    };
    let auth = &connection.spec.auth;
    let keys = secret_keys(auth.type_).join(", ");
    let secret = &auth.secret_ref.name;
    match error {
        JiraError::Authentication { .. } => Some(match auth.type_ {
            AuthType::OAuth2ClientCredentials => format!(
                "the credentials are expired, revoked or wrong: create a new secret for the service account's OAuth 2.0 client and update Secret {secret} (keys {keys})"
            ),
            AuthType::Basic
                if connection.spec.flavor == Flavor::Cloud && connection.spec.gateway.is_none() =>
            {
                format!(
                    "the credentials are expired, revoked or wrong (a scoped API token works only through spec.gateway): rotate them in Secret {secret} (keys {keys})"
                )
            }
            _ => format!(
                "the credentials are expired, revoked or wrong: rotate them in Secret {secret} (keys {keys})"
            ),
        }),
        JiraError::Permission {
            needed_scope: Some(scope),
            ..
        } => Some(format!(
            "grant the scope {scope} to the credentials of Secret {secret} (docs/install.md lists every scope the operator needs), or give the account the Jira permission"
        )),
        JiraError::Permission { .. } => Some(format!(
            "give the account of Secret {secret} the Jira permission (for scoped credentials, the scope) this call needs"
        )),
        JiraError::UntrustedCertificate { .. } => Some(
            "trust the CA that signed the server's certificate: put its PEM in a Secret and name it in spec.tls.caSecretRef".to_owned(),
        ),
        _ => None,
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
    let missing = connected.client.missing_scopes().await?;
    if !missing.is_empty() {
        return Err(Error::MissingScopes(format!(
            "the OAuth 2.0 access token lacks the scopes {}: add them to the service account's credential (docs/install.md lists the scopes the operator needs)",
            missing.join(", ")
        )));
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(spec: serde_json::Value) -> JiraConnection {
        serde_json::from_value(serde_json::json!({
            "apiVersion": "activesync.dev/v1alpha1", "kind": "JiraConnection",
            "metadata": {"name": "acme", "namespace": "ns"}, "spec": spec
        }))
        .expect("valid connection")
    }

    fn advice_for(spec: serde_json::Value, error: JiraError) -> String {
        advice(&connection(spec), &Error::Jira(error)).unwrap_or_default()
    }

    #[test]
    fn refused_credentials_name_the_secret_keys_to_rotate() {
        let refused = || JiraError::Authentication {
            request: "POST /oauth/token".into(),
            messages: vec!["Unauthorized".into()],
        };
        let oauth = advice_for(
            serde_json::json!({"url": "https://a.atlassian.net", "gateway": {},
                               "auth": {"type": "OAuth2ClientCredentials", "secretRef": {"name": "svc"}}}),
            refused(),
        );
        assert!(
            oauth.contains("Secret svc (keys clientId, clientSecret)"),
            "{oauth}"
        );
        let basic = advice_for(
            serde_json::json!({"url": "https://a.atlassian.net",
                               "auth": {"type": "Basic", "secretRef": {"name": "creds"}}}),
            refused(),
        );
        assert!(basic.contains("only through spec.gateway"), "{basic}");
        assert!(
            basic.contains("Secret creds (keys email, apiToken)"),
            "{basic}"
        );
    }

    #[test]
    fn a_missing_scope_and_an_untrusted_ca_say_what_to_do() {
        let spec = serde_json::json!({"url": "https://jira.corp.example", "flavor": "DataCenter",
                                      "auth": {"type": "Bearer", "secretRef": {"name": "pat"}}});
        let scope = advice_for(
            spec.clone(),
            JiraError::Permission {
                request: "POST /rest/api/2/issue".into(),
                messages: Vec::new(),
                needed_scope: Some("WRITE"),
            },
        );
        assert!(scope.starts_with("grant the scope WRITE"), "{scope}");
        let ca = advice_for(
            spec.clone(),
            JiraError::UntrustedCertificate {
                request: "GET /rest/api/2/serverInfo".into(),
                message: "invalid peer certificate: UnknownIssuer".into(),
            },
        );
        assert!(ca.contains("spec.tls.caSecretRef"), "{ca}");
        let busy = advice(
            &connection(spec),
            &Error::Jira(JiraError::RateLimited {
                request: "GET /x".into(),
                retry_after: None,
                reason: None,
            }),
        );
        assert_eq!(busy, None);
    }
}
