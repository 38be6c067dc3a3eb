//! What happens around every API request: added latency, injected faults, and the request log.

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;
use super::faults::FaultAction;
use super::rate_limit::RateLimitedRequest;
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

/// The issue a write request changes (`POST|PUT|DELETE /rest/api/N/issue/{issue}/...`), by key, for
/// Jira's per-issue write limits.
fn written_issue(state: &Shared, method: &axum::http::Method, path: &str) -> Option<String> {
    if method == axum::http::Method::GET || method == axum::http::Method::HEAD {
        return None;
    }
    let mut segments = path.trim_start_matches('/').split('/');
    let (Some("rest"), Some("api"), Some(_), Some("issue"), Some(issue)) = (
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
        segments.next(),
    ) else {
        return None;
    };
    if matches!(issue, "bulk" | "bulkfetch" | "createmeta") {
        return None;
    }
    Some(
        state
            .store()
            .issue(issue)
            .map_or_else(|| issue.to_ascii_uppercase(), |i| i.key.clone()),
    )
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
    let issue = written_issue(&state, &parts.method, &path);
    let rate = state.rate_limiter().check(
        RateLimitedRequest {
            method: &parts.method,
            endpoint: &endpoint,
            issue: issue.as_deref(),
        },
        jiff::Timestamp::now(),
    );
    let request = Request::from_parts(parts, Body::from(bytes.clone()));
    let (response, status) = match (fault, rate) {
        (_, Err(refusal)) => {
            let mut response =
                (StatusCode::TOO_MANY_REQUESTS, axum::Json(refusal.body())).into_response();
            for (name, value) in &refusal.headers {
                if let Ok(value) = HeaderValue::from_str(value) {
                    response.headers_mut().insert(*name, value);
                }
            }
            (response, StatusCode::TOO_MANY_REQUESTS.as_u16())
        }
        (fault, Ok(allowance)) => {
            let (mut response, status) = run(fault, request, next).await;
            for (name, value) in &allowance.headers {
                if let Ok(value) = HeaderValue::from_str(value) {
                    response.headers_mut().insert(*name, value);
                }
            }
            (response, status)
        }
    };
    let dropped = response.extensions().get::<DropConnection>().is_some();
    tracing::debug!(%method, %path, status, "jira request");
    state.log().record(
        format!("{method} {endpoint}"),
        LoggedRequest {
            seq: 0,
            method,
            path,
            query,
            status,
            dropped,
            body: logged_body(&bytes),
            time: jiff::Timestamp::now().to_string(),
        },
    );
    response
}

/// Runs the request unless a fault says otherwise; a response to be dropped is marked.
async fn run(fault: Option<FaultAction>, request: Request, next: Next) -> (Response, u16) {
    match fault {
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
            let status = response.status().as_u16();
            (response, status)
        }
        None => {
            let response = next.run(request).await;
            let status = response.status().as_u16();
            (response, status)
        }
    }
}
