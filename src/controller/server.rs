//! The operator's one HTTP listener: `/metrics`, `/healthz`, `/readyz` and `POST /webhooks/jira`.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};

use super::context::Context;
use super::metrics::{Metrics, WebhookLabels};
use super::relay::Relay;
use super::webhook::{Deduplicator, Refusal, parse, verify};

/// Largest webhook body taken (Jira's issue events are far smaller).
const WEBHOOK_BODY_LIMIT: usize = 1024 * 1024;

/// What the listener serves from.
pub struct Http {
    /// One context per watched scope.
    pub contexts: Vec<Arc<Context>>,
    /// The metrics registry.
    pub metrics: Arc<Metrics>,
    /// Set once the caches are filled and the controllers run.
    pub ready: Arc<AtomicBool>,
    /// Recent delivery identifiers.
    pub deliveries: Deduplicator,
    /// Where deliveries go while this replica does not lead (set under leader election in a Pod).
    pub relay: OnceLock<Relay>,
}

/// The listener's routes.
pub fn router(http: Arc<Http>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(
            "/webhooks/jira",
            post(shared_webhook).layer(DefaultBodyLimit::max(WEBHOOK_BODY_LIMIT)),
        )
        .route(
            "/webhooks/jira/{namespace}/{connection}",
            post(connection_webhook).layer(DefaultBodyLimit::max(WEBHOOK_BODY_LIMIT)),
        )
        .with_state(http)
}

async fn readyz(State(http): State<Arc<Http>>) -> impl IntoResponse {
    if http.ready.load(Ordering::Relaxed) {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "caches are not filled yet")
    }
}

async fn metrics(State(http): State<Arc<Http>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        http.metrics.encode(),
    )
}

fn count(http: &Http, outcome: &'static str) {
    http.metrics
        .webhooks
        .get_or_create(&WebhookLabels { outcome })
        .inc();
}

/// Whether a `Content-Type` is JSON: `application/json`, any case, with or without parameters
/// (Jira sends `application/json; charset=UTF-8`), and not a lookalike such as `application/json-seq`.
fn is_json(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or_default();
    essence.trim().eq_ignore_ascii_case("application/json")
}

/// `POST /webhooks/jira/{namespace}/{connection}`: a delivery for one connection, verified with
/// its secret only (unsigned deliveries only where it names none), waking only its syncs.
async fn connection_webhook(
    State(http): State<Arc<Http>>,
    Path((namespace, connection)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    if let Some(answer) = relayed(&http, &uri, &headers, &body).await {
        return answer;
    }
    let secret = http
        .contexts
        .iter()
        .find_map(|c| c.webhook_secret_of(&namespace, &connection));
    let Some(secret) = secret else {
        count(&http, "unknown_connection");
        let message = format!("no JiraConnection {namespace}/{connection} is ready here");
        return (StatusCode::NOT_FOUND, message);
    };
    let secrets: Vec<String> = secret.into_iter().collect();
    let via = Some((namespace.as_str(), connection.as_str()));
    deliver(&http, &headers, &body, &secrets, via)
}

/// `POST /webhooks/jira`: the shared path of earlier releases, verified against the secrets of every
/// connection. Kept for one release: each connection has its own path now.
async fn shared_webhook(
    State(http): State<Arc<Http>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    if let Some(answer) = relayed(&http, &uri, &headers, &body).await {
        return answer;
    }
    static DEPRECATED: std::sync::Once = std::sync::Once::new();
    DEPRECATED.call_once(|| {
        tracing::warn!(
            "a Jira webhook was delivered to the deprecated shared path /webhooks/jira: register \
             /webhooks/jira/{{namespace}}/{{connection}} for each connection instead; the shared \
             path goes in the next release"
        );
    });
    let secrets: Vec<String> = http
        .contexts
        .iter()
        .flat_map(|c| c.webhook_secrets())
        .collect();
    deliver(&http, &headers, &body, &secrets, None)
}

/// The leader's answer to a delivery relayed there, when this replica does not lead (503 when the
/// leader cannot be reached, so that the sender retries); `None` when it is this replica's to take.
async fn relayed(
    http: &Http,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Option<(StatusCode, String)> {
    let relay = http.relay.get().filter(|r| r.should_relay(headers))?;
    Some(
        match relay.forward(uri.path(), headers, body.clone()).await {
            Ok(answer) => {
                count(http, "relayed");
                answer
            }
            Err(error) => {
                count(http, "relay_failed");
                tracing::warn!(%error, "a webhook delivery to this standby could not be relayed");
                (StatusCode::SERVICE_UNAVAILABLE, error.to_string())
            }
        },
    )
}

/// Verifies, parses and de-duplicates a delivery, then wakes the syncs it concerns (only those of
/// the connection `via`, when given).
fn deliver(
    http: &Http,
    headers: &HeaderMap,
    body: &[u8],
    secrets: &[String],
    via: Option<(&str, &str)>,
) -> (StatusCode, String) {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if !text(header::CONTENT_TYPE.as_str()).is_some_and(is_json) {
        count(http, "bad_request");
        let message = "Content-Type must be application/json".to_owned();
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, message);
    }
    if let Err(refusal) = verify(text("x-hub-signature"), body, secrets) {
        count(http, "bad_signature");
        tracing::warn!(%refusal, ?via, "webhook delivery refused");
        return (StatusCode::UNAUTHORIZED, refusal.to_string());
    }
    let event = match parse(body) {
        Ok(event) => event,
        Err(refusal @ Refusal::BadBody(_)) => {
            count(http, "bad_request");
            return (StatusCode::BAD_REQUEST, refusal.to_string());
        }
        Err(refusal) => return (StatusCode::UNAUTHORIZED, refusal.to_string()),
    };
    if let Some(id) = text("x-atlassian-webhook-identifier")
        && !http.deliveries.first_time(id)
    {
        count(http, "duplicate");
        return (StatusCode::OK, "duplicate delivery ignored".to_owned());
    }
    let woken: usize = http
        .contexts
        .iter()
        .map(|ctx| ctx.ticket_changed(event.key.as_deref(), &event.labels, via))
        .sum();
    count(http, "accepted");
    tracing::debug!(event = %event.event, key = ?event.key, woken, "webhook delivery accepted");
    (StatusCode::OK, format!("{woken} sync(s) woken"))
}

#[cfg(test)]
mod tests {
    use super::is_json;

    #[test]
    fn only_json_content_types_are_taken() {
        for taken in [
            "application/json",
            "application/json; charset=UTF-8",
            "Application/JSON",
        ] {
            assert!(is_json(taken), "{taken}");
        }
        for refused in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/json-seq",
            "application/jsonp",
            "",
        ] {
            assert!(!is_json(refused), "{refused}");
        }
    }
}
