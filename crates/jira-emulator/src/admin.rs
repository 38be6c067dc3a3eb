//! The admin API under `/_emulator/`: reset and seed the site, change settings, read the request log
//! and counters, inject faults, and add, expire or revoke service credentials.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use super::config::Flavor;
use super::credentials::{CredentialRegistry, CredentialSpec};
use super::error::{ApiError, ApiResult};
use super::faults::FaultRule;
use super::rate_limit::RateLimitConfig;
use super::routes::Params;
use super::seed::Seed;
use super::state::Shared;
use super::store::Store;

/// The admin routes.
pub fn router() -> Router<Shared> {
    Router::new()
        .route("/_emulator/reset", post(reset))
        .route("/_emulator/seed", get(get_seed).post(load_seed))
        .route(
            "/_emulator/config",
            get(get_config).put(set_config).patch(set_config),
        )
        .route("/_emulator/requests", get(requests).delete(clear_requests))
        .route("/_emulator/counters", get(counters))
        .route(
            "/_emulator/webhooks/deliveries",
            get(deliveries).delete(clear_deliveries),
        )
        .route(
            "/_emulator/faults",
            get(faults).post(add_fault).delete(clear_faults),
        )
        .route(
            "/_emulator/credentials",
            get(credentials).post(add_credential),
        )
        .route(
            "/_emulator/credentials/{name}/{change}",
            post(change_credential),
        )
}

fn rebuild(state: &Shared, seed: &Seed) -> ApiResult<()> {
    let mut store = Store::from_seed(seed, Timestamp::now())
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    store.set_search_lag(state.settings().search_lag);
    *state.store_mut() = store;
    state.faults().rules.clear();
    state.log().clear();
    state.webhooks().clear();
    state.deliveries().clear();
    *state.credentials() = CredentialRegistry::default();
    let mut limiter = state.rate_limiter();
    let config = limiter.config().clone();
    limiter.set_config(config);
    Ok(())
}

/// `POST /_emulator/reset`: back to the current seed; clears the log and faults.
async fn reset(State(state): State<Shared>) -> ApiResult<StatusCode> {
    let seed = state.seed().clone();
    rebuild(&state, &seed)?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /_emulator/seed`: the seed resets return to.
async fn get_seed(State(state): State<Shared>) -> Json<Seed> {
    Json(state.seed().clone())
}

/// `POST /_emulator/seed` (YAML or JSON): replaces the seed and resets to it.
async fn load_seed(State(state): State<Shared>, body: Bytes) -> ApiResult<StatusCode> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("The seed must be UTF-8 text."))?;
    let seed =
        Seed::parse(text, "request body").map_err(|e| ApiError::bad_request(e.to_string()))?;
    rebuild(&state, &seed)?;
    *state.seed() = seed;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /_emulator/config`.
async fn get_config(State(state): State<Shared>) -> Json<Value> {
    Json(json!(state.settings()))
}

/// Settings to change; absent ones stay.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ConfigChange {
    flavor: Option<Flavor>,
    rate_limits: Option<bool>,
    search_lag_ms: Option<u64>,
    latency_ms: Option<u64>,
}

/// `PUT|PATCH /_emulator/config`: changes flavor, rate limits, search lag, latency.
async fn set_config(State(state): State<Shared>, body: Bytes) -> ApiResult<Json<Value>> {
    let change: ConfigChange = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("Invalid config: {e}")))?;
    let settings = {
        let mut settings = state.settings_mut();
        if let Some(flavor) = change.flavor {
            settings.flavor = flavor;
        }
        if let Some(on) = change.rate_limits {
            settings.rate_limits = on;
            let mut limiter = state.rate_limiter();
            let config = RateLimitConfig {
                enabled: on,
                ..limiter.config().clone()
            };
            limiter.set_config(config);
        }
        if let Some(ms) = change.search_lag_ms {
            settings.search_lag = Duration::from_millis(ms);
        }
        if let Some(ms) = change.latency_ms {
            settings.latency = Duration::from_millis(ms);
        }
        settings.clone()
    };
    state.store_mut().set_search_lag(settings.search_lag);
    Ok(Json(json!(settings)))
}

/// `GET /_emulator/requests?since=N`: logged API requests from `seq` N on.
async fn requests(State(state): State<Shared>, params: Params) -> ApiResult<Json<Value>> {
    let since = params.number("since", 0)?;
    let entries = state.log().since(u64::try_from(since).unwrap_or(u64::MAX));
    Ok(Json(json!({ "requests": entries })))
}

/// `DELETE /_emulator/requests`: clears the log and counters.
async fn clear_requests(State(state): State<Shared>) -> StatusCode {
    state.log().clear();
    StatusCode::NO_CONTENT
}

/// `GET /_emulator/counters`: requests per `METHOD /route`.
async fn counters(State(state): State<Shared>) -> Json<Value> {
    Json(json!({ "counters": state.log().counters() }))
}

/// `GET /_emulator/faults`: the active fault rules.
async fn faults(State(state): State<Shared>) -> Json<Value> {
    Json(json!({ "faults": state.faults().active(std::time::Instant::now()) }))
}

/// `POST /_emulator/faults`: adds a fault rule.
async fn add_fault(State(state): State<Shared>, body: Bytes) -> ApiResult<StatusCode> {
    let rule: FaultRule = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("Invalid fault: {e}")))?;
    state.faults().add(rule, std::time::Instant::now());
    Ok(StatusCode::CREATED)
}

/// `DELETE /_emulator/faults`: removes every fault rule.
async fn clear_faults(State(state): State<Shared>) -> StatusCode {
    state.faults().rules.clear();
    StatusCode::NO_CONTENT
}

/// `GET /_emulator/webhooks/deliveries`: how each finished webhook delivery went.
async fn deliveries(State(state): State<Shared>) -> Json<Value> {
    Json(state.deliveries_json())
}

/// `DELETE /_emulator/webhooks/deliveries`: forgets the delivery reports.
async fn clear_deliveries(State(state): State<Shared>) -> StatusCode {
    state.deliveries().clear();
    StatusCode::NO_CONTENT
}

/// `GET /_emulator/credentials`: the service credentials, and the cloud id gateway paths name.
async fn credentials(State(state): State<Shared>) -> Json<Value> {
    Json(json!({"cloudId": state.cloud_id, "credentials": state.credentials().specs()}))
}

/// `POST /_emulator/credentials`: adds an OAuth client (`type: oauthClient`, `clientId`,
/// `clientSecret`, `tokenLifetimeSecs`) or a scoped API token (`type: scopedToken`, `token`),
/// acting as the user `email` within `scopes`.
async fn add_credential(State(state): State<Shared>, body: Bytes) -> ApiResult<StatusCode> {
    let spec: CredentialSpec = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("Invalid credential: {e}")))?;
    if !state
        .store()
        .users()
        .iter()
        .any(|u| u.email.eq_ignore_ascii_case(&spec.email))
    {
        return Err(ApiError::bad_request(format!(
            "No user has the email {}.",
            spec.email
        )));
    }
    state.credentials().add(spec);
    Ok(StatusCode::CREATED)
}

/// `POST /_emulator/credentials/{name}/expire|revoke`: its tokens expire now (an OAuth client may
/// fetch new ones), or it stops working altogether.
async fn change_credential(
    State(state): State<Shared>,
    Path((name, change)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let found = match change.as_str() {
        "expire" => state.credentials().expire(&name, std::time::Instant::now()),
        "revoke" => state.credentials().revoke(&name),
        _ => {
            return Err(ApiError::message(
                StatusCode::NOT_FOUND,
                format!("Unknown change {change}: use expire or revoke."),
            ));
        }
    };
    if found {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::message(
            StatusCode::NOT_FOUND,
            format!("No credential is named {name}."),
        ))
    }
}
