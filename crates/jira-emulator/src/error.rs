//! Jira's error body (`{"errorMessages": [...], "errors": {field: message}}`) and the status it travels with.

use std::collections::BTreeMap;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered the way Jira answers it: a status plus Jira's `ErrorCollection` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status of the answer.
    pub status: StatusCode,
    /// Messages not tied to one field (`errorMessages`).
    pub messages: Vec<String>,
    /// Messages per field (`errors`).
    pub errors: BTreeMap<String, String>,
}

impl ApiError {
    /// An error with one general message.
    pub fn message(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            messages: vec![message.into()],
            errors: BTreeMap::new(),
        }
    }

    /// A 400 with one message tied to a field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::fields(BTreeMap::from([(field.into(), message.into())]))
    }

    /// A 400 with messages tied to fields.
    pub fn fields(errors: BTreeMap<String, String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            messages: Vec::new(),
            errors,
        }
    }

    /// A 400 with one general message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::message(StatusCode::BAD_REQUEST, message)
    }

    /// Jira's answer for an issue that does not exist or that the caller may not browse.
    pub fn issue_not_found() -> Self {
        Self::message(
            StatusCode::NOT_FOUND,
            "Issue does not exist or you do not have permission to see it.",
        )
    }

    /// Jira's answer for a project that does not exist or that the caller may not browse.
    pub fn project_not_found(key: &str) -> Self {
        Self::message(
            StatusCode::NOT_FOUND,
            format!("No project could be found with key '{key}'."),
        )
    }

    /// The body as Jira writes it.
    pub fn body(&self) -> serde_json::Value {
        json!({ "errorMessages": self.messages, "errors": self.errors })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
            self.body().to_string(),
        )
            .into_response()
    }
}

/// Result of a handler that answers with a Jira error on failure.
pub type ApiResult<T> = Result<T, ApiError>;
