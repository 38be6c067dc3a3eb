//! Jira's admin webhook API: `/rest/webhooks/1.0/webhook`.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::Value;

use super::json_body;
use crate::auth::Ctx;
use crate::error::{ApiError, ApiResult};
use crate::state::Shared;
use crate::webhooks::{WebhookError, WebhookRegistration};

fn webhook_id(text: &str) -> ApiResult<u64> {
    text.parse().map_err(|_| not_found(text))
}

fn not_found(id: &str) -> ApiError {
    ApiError::message(
        StatusCode::NOT_FOUND,
        format!("Webhook with id {id} does not exist."),
    )
}

fn registration(body: &Bytes) -> ApiResult<WebhookRegistration> {
    let value = json_body(body)?;
    serde_json::from_value(value)
        .map_err(|e| ApiError::bad_request(format!("Invalid webhook: {e}")))
}

fn refused(error: &WebhookError) -> Response {
    (StatusCode::BAD_REQUEST, Json(error.body())).into_response()
}

fn author(state: &Shared, ctx: &Ctx) -> (String, String) {
    state
        .store()
        .user(&ctx.account_id)
        .map(|u| (u.name.clone(), u.display_name.clone()))
        .unwrap_or_default()
}

/// `GET /rest/webhooks/1.0/webhook`.
pub async fn list(State(state): State<Shared>, _ctx: Ctx) -> Json<Value> {
    Json(Value::Array(
        state
            .webhooks()
            .list()
            .map(|h| h.to_json(&state.base_url))
            .collect(),
    ))
}

/// `POST /rest/webhooks/1.0/webhook`: 201 with the registered webhook.
pub async fn register(State(state): State<Shared>, ctx: Ctx, body: Bytes) -> ApiResult<Response> {
    let registration = registration(&body)?;
    let by = author(&state, &ctx);
    let mut registry = state.webhooks();
    Ok(
        match registry.register(registration, (&by.0, &by.1), Timestamp::now()) {
            Ok(hook) => (StatusCode::CREATED, Json(hook.to_json(&state.base_url))).into_response(),
            Err(error) => refused(&error),
        },
    )
}

/// `GET /rest/webhooks/1.0/webhook/{id}`.
pub async fn get(
    State(state): State<Shared>,
    _ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let registry = state.webhooks();
    let hook = registry
        .get(webhook_id(&id)?)
        .ok_or_else(|| not_found(&id))?;
    Ok(Json(hook.to_json(&state.base_url)))
}

/// `PUT /rest/webhooks/1.0/webhook/{id}`.
pub async fn update(
    State(state): State<Shared>,
    ctx: Ctx,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Response> {
    let number = webhook_id(&id)?;
    let registration = registration(&body)?;
    let by = author(&state, &ctx);
    let mut registry = state.webhooks();
    match registry.update(number, registration, (&by.0, &by.1), Timestamp::now()) {
        Ok(Some(hook)) => Ok(Json(hook.to_json(&state.base_url)).into_response()),
        Ok(None) => Err(not_found(&id)),
        Err(error) => Ok(refused(&error)),
    }
}

/// `DELETE /rest/webhooks/1.0/webhook/{id}`.
pub async fn delete(
    State(state): State<Shared>,
    _ctx: Ctx,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    if state.webhooks().remove(webhook_id(&id)?) {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found(&id))
    }
}
