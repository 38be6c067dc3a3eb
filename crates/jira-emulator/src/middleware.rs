//! What happens around every API request: added latency, injected faults, and the request log.

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;
use super::faults::{FaultAction, InjectedReason};
use super::gateway::ViaGateway;
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

/// Adds `headers` to a response, skipping any value HTTP cannot carry.
fn add_headers(response: &mut Response, headers: &[(&'static str, String)]) {
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().insert(*name, value);
        }
    }
}

/// The answer of an injected error: a 429 is the rate limiter's own answer for the rule's reason
/// (`Retry-After`, `RateLimit-Reason`, `X-RateLimit-*`); other statuses carry Jira's error body, and
/// `Retry-After` and `RateLimit-Reason` when the rule names them.
fn fault_response(
    state: &Shared,
    method: &axum::http::Method,
    status: u16,
    retry_after: Option<u64>,
    named: Option<InjectedReason>,
    message: Option<String>,
) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = FaultAction::rate_limit_reason(status.as_u16(), named);
    if status == StatusCode::TOO_MANY_REQUESTS {
        let refusal = state.rate_limiter().refuse(
            method,
            reason,
            retry_after.unwrap_or(1),
            jiff::Timestamp::now(),
        );
        let mut response = match message {
            Some(text) => ApiError::message(status, text).into_response(),
            None => (status, axum::Json(refusal.body())).into_response(),
        };
        add_headers(&mut response, &refusal.headers);
        return response;
    }
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
    if let Some(reason) = reason {
        response.headers_mut().insert(
            "RateLimit-Reason",
            HeaderValue::from_static(reason.as_str()),
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
    let arrived = jiff::Timestamp::now();
    let method = request.method().as_str().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let gateway = request.extensions().get::<ViaGateway>().is_some();
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
    let fault = state
        .faults()
        .take(&method, &path, std::time::Instant::now());
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
            add_headers(&mut response, &refusal.headers);
            (response, StatusCode::TOO_MANY_REQUESTS.as_u16())
        }
        (
            Some(FaultAction::Error {
                status,
                retry_after_secs,
                rate_limit_reason,
                message,
            }),
            Ok(allowance),
        ) => {
            let mut response = fault_response(
                &state,
                request.method(),
                status,
                retry_after_secs,
                rate_limit_reason,
                message,
            );
            // An injected 429 already carries the rate-limit headers of its refusal.
            if response.status() != StatusCode::TOO_MANY_REQUESTS {
                add_headers(&mut response, &allowance.headers);
            }
            let status = response.status().as_u16();
            (response, status)
        }
        (fault, Ok(allowance)) => {
            let (mut response, status) = run(fault, request, next).await;
            add_headers(&mut response, &allowance.headers);
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
            gateway,
            query,
            status,
            dropped,
            body: logged_body(&bytes),
            time: arrived.to_string(),
        },
    );
    response
}

/// Runs the request, slowed or with its answer to be dropped as a fault says; a response to be
/// dropped is marked.
async fn run(fault: Option<FaultAction>, request: Request, next: Next) -> (Response, u16) {
    let drop = matches!(fault, Some(FaultAction::DropResponse));
    let latency = fault.and_then(|f| f.latency(|most| rand::random_range(0..=most)));
    if let Some(latency) = latency {
        tokio::time::sleep(latency).await;
    }
    let mut response = next.run(request).await;
    if drop {
        response.extensions_mut().insert(DropConnection);
    }
    let status = response.status().as_u16();
    (response, status)
}
