//! What happens around every API request: added latency, injected faults, and the request log.

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;
use super::faults::FaultAction;
use super::request_log::LoggedRequest;
use super::state::Shared;

/// Largest request body accepted.
const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// Marks a response whose connection must be closed without sending it (the "response lost" fault).
#[derive(Debug, Clone, Copy)]
pub struct DropConnection;

fn logged_body(bytes: &Bytes) -> Option<Value> {
    if bytes.is_empty() {
        return None;
    }
    Some(
        serde_json::from_slice(bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned())),
    )
}

fn fault_response(status: u16, retry_after: Option<u64>, message: Option<String>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let text = message.unwrap_or_else(|| {
        status
            .canonical_reason()
            .unwrap_or("Injected fault")
            .to_owned()
    });
    let mut response = ApiError::message(status, text).into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert("Retry-After", HeaderValue::from(seconds));
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        response.headers_mut().insert(
            "RateLimit-Reason",
            HeaderValue::from_static("jira-burst-based"),
        );
    }
    response
}

/// Applies latency and faults to API requests and records them in the request log.
pub async fn observe(State(state): State<Shared>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if path.starts_with("/_emulator") {
        return next.run(request).await;
    }
    let method = request.method().as_str().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let endpoint = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| path.clone(), |m| m.as_str().to_owned());
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return ApiError::message(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is too large.",
            )
            .into_response();
        }
    };
    let latency = state.settings().latency;
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let fault = state.faults().take(&method, &path);
    let request = Request::from_parts(parts, Body::from(bytes.clone()));
    let (response, status) = match fault {
        Some(FaultAction::Error {
            status,
            retry_after_secs,
            message,
        }) => {
            let response = fault_response(status, retry_after_secs, message);
            let status = response.status().as_u16();
            (response, status)
        }
        Some(FaultAction::DropResponse) => {
            let mut response = next.run(request).await;
            response.extensions_mut().insert(DropConnection);
            (response, 0)
        }
        None => {
            let response = next.run(request).await;
            let status = response.status().as_u16();
            (response, status)
        }
    };
    tracing::debug!(%method, %path, status, "jira request");
    state.log().record(
        format!("{method} {endpoint}"),
        LoggedRequest {
            seq: 0,
            method,
            path,
            query,
            status,
            body: logged_body(&bytes),
            time: jiff::Timestamp::now().to_string(),
        },
    );
    response
}
