//! Typed Jira errors carrying Jira's own messages, for conditions and Events.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// What went wrong talking to Jira. `Display` names the request (method and path, never credentials)
/// and Jira's messages.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JiraError {
    /// 401: the credentials were refused.
    #[error("{request}: Jira refused the credentials (401){}", messages_suffix(.messages))]
    Authentication {
        /// Method and path of the request.
        request: String,
        /// Jira's messages.
        messages: Vec<String>,
    },
    /// 403: the account lacks a permission, or a scoped credential a scope.
    #[error("{request}: permission denied (403){}{}", messages_suffix(.messages), scope_suffix(.needed_scope))]
    Permission {
        /// Method and path of the request.
        request: String,
        /// Jira's messages.
        messages: Vec<String>,
        /// The OAuth 2.0 scope the call needs, when the credentials are scoped.
        needed_scope: Option<&'static str>,
    },
    /// 404: the issue, project, property or user does not exist or is not visible.
    #[error("{request}: not found (404){}", messages_suffix(.messages))]
    NotFound {
        /// Method and path of the request.
        request: String,
        /// Jira's messages.
        messages: Vec<String>,
    },
    /// 400/409/422 (or a failed element of a bulk create): Jira rejected the input.
    #[error("{request}: Jira rejected the input ({status}){}", validation_suffix(.error_messages, .errors))]
    Validation {
        /// Method and path of the request.
        request: String,
        /// HTTP status (or the element status of a bulk create).
        status: u16,
        /// Jira's `errorMessages`.
        error_messages: Vec<String>,
        /// Jira's `errors`: field id -> message.
        errors: BTreeMap<String, String>,
    },
    /// 429 (or 503 with a rate-limit reason) that the client did not sit out.
    #[error("{request}: rate limited by Jira{}{}", reason_suffix(.reason), retry_suffix(.retry_after))]
    RateLimited {
        /// Method and path of the request.
        request: String,
        /// How long Jira asked us to wait.
        retry_after: Option<Duration>,
        /// Jira's `RateLimit-Reason` header.
        reason: Option<String>,
    },
    /// A server error, timeout or connection failure; trying later may succeed.
    #[error("{request}: transient failure{}: {message}", status_suffix(.status))]
    Transient {
        /// Method and path of the request.
        request: String,
        /// HTTP status, when a response arrived.
        status: Option<u16>,
        /// What happened.
        message: String,
    },
    /// 410: the endpoint was removed from this Jira (e.g. v3 `/search`).
    #[error("{request}: Jira removed this API (410){}", messages_suffix(.messages))]
    RemovedApi {
        /// Method and path of the request.
        request: String,
        /// Jira's messages.
        messages: Vec<String>,
    },
    /// No path of available transitions leads where asked.
    #[error(
        "{issue}{}: no path of available transitions leads to {target}{} (transitions offered there: {})",
        status.as_ref().map(|s| format!(" is in status {s:?}")).unwrap_or_default(),
        if path.is_empty() { String::new() } else { format!(" after {}", path.join(", ")) },
        if available.is_empty() { "none".to_owned() } else { available.join(", ") }
    )]
    NoTransition {
        /// The issue.
        issue: String,
        /// The status it is in, when known.
        status: Option<String>,
        /// The wanted target, as text.
        target: String,
        /// The transitions available there, as `name -> status`.
        available: Vec<String>,
        /// The transitions taken on the way, as `name -> status`.
        path: Vec<String>,
    },
    /// Jira answered something this client cannot understand.
    #[error("{request}: unexpected response: {message}")]
    UnexpectedResponse {
        /// Method and path of the request.
        request: String,
        /// What did not fit.
        message: String,
    },
    /// The server's TLS certificate is not trusted: signed by a CA the connection does not trust,
    /// or issued for another name.
    #[error("{request}: the server's TLS certificate is not trusted: {message}")]
    UntrustedCertificate {
        /// Method and path of the request.
        request: String,
        /// What the TLS library found wrong.
        message: String,
    },
    /// The connection settings or the call's arguments are unusable.
    #[error("invalid Jira client input: {message}")]
    InvalidInput {
        /// What is wrong.
        message: String,
    },
}

impl JiraError {
    /// Whether trying the same call later can succeed without a change on our side.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            JiraError::RateLimited { .. } | JiraError::Transient { .. }
        )
    }

    /// Jira's own messages (error messages, then `field: message` pairs), for Events and conditions.
    pub fn jira_messages(&self) -> Vec<String> {
        match self {
            JiraError::Authentication { messages, .. }
            | JiraError::Permission { messages, .. }
            | JiraError::NotFound { messages, .. }
            | JiraError::RemovedApi { messages, .. } => messages.clone(),
            JiraError::Validation {
                error_messages,
                errors,
                ..
            } => error_messages
                .iter()
                .cloned()
                .chain(errors.iter().map(|(field, msg)| format!("{field}: {msg}")))
                .collect(),
            JiraError::RateLimited { .. }
            | JiraError::Transient { .. }
            | JiraError::NoTransition { .. }
            | JiraError::UnexpectedResponse { .. }
            | JiraError::UntrustedCertificate { .. }
            | JiraError::InvalidInput { .. } => Vec::new(),
        }
    }

    /// Maps an unsuccessful HTTP answer (status and body) to an error.
    pub(crate) fn from_response(
        request: &str,
        status: u16,
        body: &str,
        retry_after: Option<Duration>,
        reason: Option<String>,
    ) -> JiraError {
        let request = request.to_owned();
        let collection = ErrorCollection::parse(body);
        match status {
            401 => JiraError::Authentication {
                request,
                messages: collection.all_messages(),
            },
            403 => JiraError::Permission {
                request,
                messages: collection.all_messages(),
                needed_scope: None,
            },
            404 => JiraError::NotFound {
                request,
                messages: collection.all_messages(),
            },
            410 => JiraError::RemovedApi {
                request,
                messages: collection.all_messages(),
            },
            429 => JiraError::RateLimited {
                request,
                retry_after,
                reason,
            },
            400..=499 => JiraError::Validation {
                request,
                status,
                error_messages: collection.error_messages,
                errors: collection.errors,
            },
            _ => JiraError::Transient {
                request,
                status: Some(status),
                message: collection.all_messages().join("; "),
            },
        }
    }
}

impl JiraError {
    /// Names the scope a refused call needs (for scoped credentials; a no-op on other errors).
    pub(crate) fn needing_scope(self, scope: Option<&'static str>) -> JiraError {
        match self {
            JiraError::Permission {
                request, messages, ..
            } => JiraError::Permission {
                request,
                messages,
                needed_scope: scope,
            },
            other => other,
        }
    }
}

/// Jira's error body: `{"errorMessages": [...], "errors": {"field": "message"}}`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ErrorCollection {
    #[serde(default)]
    pub error_messages: Vec<String>,
    #[serde(default)]
    pub errors: BTreeMap<String, String>,
    /// Some gateways answer `{"message": "..."}` instead.
    #[serde(default)]
    pub message: Option<String>,
}

impl ErrorCollection {
    /// Parses a body leniently: JSON error collection, or plain text kept as one message.
    pub fn parse(body: &str) -> ErrorCollection {
        let trimmed = body.trim();
        match serde_json::from_str::<ErrorCollection>(trimmed) {
            Ok(mut parsed) => {
                if let Some(message) = parsed.message.take() {
                    parsed.error_messages.push(message);
                }
                parsed
            }
            Err(_) if trimmed.is_empty() => ErrorCollection::default(),
            Err(_) => ErrorCollection {
                error_messages: vec![truncate(trimmed, 500)],
                ..ErrorCollection::default()
            },
        }
    }

    fn all_messages(self) -> Vec<String> {
        self.error_messages
            .into_iter()
            .chain(
                self.errors
                    .into_iter()
                    .map(|(field, msg)| format!("{field}: {msg}")),
            )
            .collect()
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn messages_suffix(messages: &[String]) -> String {
    if messages.is_empty() {
        String::new()
    } else {
        format!(": {}", messages.join("; "))
    }
}

fn scope_suffix(scope: &Option<&'static str>) -> String {
    scope
        .map(|s| format!("; this call needs the OAuth 2.0 scope {s}"))
        .unwrap_or_default()
}

fn validation_suffix(error_messages: &[String], errors: &BTreeMap<String, String>) -> String {
    let all: Vec<String> = error_messages
        .iter()
        .cloned()
        .chain(errors.iter().map(|(field, msg)| format!("{field}: {msg}")))
        .collect();
    messages_suffix(&all)
}

fn reason_suffix(reason: &Option<String>) -> String {
    reason
        .as_deref()
        .map(|r| format!(" ({r})"))
        .unwrap_or_default()
}

fn retry_suffix(retry_after: &Option<Duration>) -> String {
    retry_after
        .map(|d| format!(", retry after {}", Seconds(d)))
        .unwrap_or_default()
}

fn status_suffix(status: &Option<u16>) -> String {
    status.map(|s| format!(" ({s})")).unwrap_or_default()
}

struct Seconds(Duration);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.1}s", self.0.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_errors_are_kept_and_shown() {
        let body = r#"{"errorMessages":["Bad input"],"errors":{"labels":"The label 'a b' contains spaces","summary":"Summary is required."}}"#;
        let err = JiraError::from_response("POST /rest/api/3/issue", 400, body, None, None);
        let JiraError::Validation {
            status,
            ref error_messages,
            ref errors,
            ..
        } = err
        else {
            panic!("expected validation, got {err:?}");
        };
        assert_eq!(status, 400);
        assert_eq!(error_messages, &vec!["Bad input".to_string()]);
        assert_eq!(errors["summary"], "Summary is required.");
        let shown = err.to_string();
        assert!(shown.starts_with("POST /rest/api/3/issue: Jira rejected the input (400)"));
        assert!(shown.contains("labels: The label 'a b' contains spaces"));
        assert!(!err.is_retryable());
        assert_eq!(err.jira_messages().len(), 3);
    }

    #[test]
    fn statuses_map_to_kinds() {
        let kind = |status| JiraError::from_response("GET /x", status, "", None, None);
        assert!(matches!(kind(401), JiraError::Authentication { .. }));
        assert!(matches!(kind(403), JiraError::Permission { .. }));
        assert!(matches!(kind(404), JiraError::NotFound { .. }));
        assert!(matches!(kind(409), JiraError::Validation { .. }));
        assert!(matches!(kind(422), JiraError::Validation { .. }));
        assert!(matches!(kind(410), JiraError::RemovedApi { .. }));
        assert!(matches!(kind(429), JiraError::RateLimited { .. }));
        assert!(matches!(kind(500), JiraError::Transient { .. }));
        assert!(matches!(kind(503), JiraError::Transient { .. }));
        assert!(kind(429).is_retryable());
        assert!(kind(502).is_retryable());
        assert!(!kind(410).is_retryable());
    }

    #[test]
    fn non_json_bodies_become_one_message() {
        let err = JiraError::from_response("GET /x", 502, "<html>Bad gateway</html>", None, None);
        assert!(err.to_string().contains("<html>Bad gateway</html>"));
        let err = JiraError::from_response("GET /x", 404, r#"{"message":"gone"}"#, None, None);
        assert_eq!(err.jira_messages(), vec!["gone".to_string()]);
    }

    #[test]
    fn rate_limited_display_names_reason_and_wait() {
        let err = JiraError::from_response(
            "PUT /rest/api/3/issue/SEC-1",
            429,
            "",
            Some(Duration::from_secs(2)),
            Some("jira-per-issue-on-write".into()),
        );
        assert_eq!(
            err.to_string(),
            "PUT /rest/api/3/issue/SEC-1: rate limited by Jira (jira-per-issue-on-write), retry after 2.0s"
        );
    }
}
