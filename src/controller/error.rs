//! The controller's one error type.

use kube::runtime::finalizer::Error as FinalizerError;

use crate::jira::JiraError;

/// Why a reconcile could not finish.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A call to the Kubernetes API failed.
    #[error("Kubernetes API: {}", kube_message(.0))]
    Kube(#[from] kube::Error),
    /// The finalizer helper failed around the reconcile.
    #[error("finalizer: {0}")]
    Finalizer(#[source] Box<kube::runtime::finalizer::Error<Error>>),
    /// A call to Jira failed.
    #[error("Jira: {0}")]
    Jira(#[from] JiraError),
    /// The connection's Secret is missing or lacks a key.
    #[error("{0}")]
    Credentials(String),
    /// The credentials' OAuth 2.0 token lacks scopes the operator needs.
    #[error("{0}")]
    MissingScopes(String),
    /// A sync's `scope.taskSelector` cannot be parsed.
    #[error("{0}")]
    InvalidSelector(String),
    /// A sync's deletion policy cannot be carried out yet; the finalizer stays.
    #[error("{message}")]
    DeletionBlocked {
        /// PascalCase reason of what blocks it.
        reason: &'static str,
        /// What blocks it, when it is retried, and how to give up.
        message: String,
        /// When to try again (backing off while it stays blocked).
        retry_in: std::time::Duration,
    },
    /// An object lacks something the API server always sets (namespace, name).
    #[error("object has no {0}")]
    MissingMetadata(&'static str),
    /// An object asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Serialising a status or property failed.
    #[error("serialising: {0}")]
    Serialise(#[from] serde_json::Error),
}

impl Error {
    /// A short PascalCase reason for conditions and Events.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Kube(e) => kube_reason(e),
            Error::Finalizer(e) => match e.as_ref() {
                FinalizerError::ApplyFailed(e) | FinalizerError::CleanupFailed(e) => e.reason(),
                // The finalizer's JSON patch tests the finalizers it read first: a 422 means the
                // cached sync was older than the stored one, a conflict by another name.
                FinalizerError::AddFinalizer(kube::Error::Api(status))
                | FinalizerError::RemoveFinalizer(kube::Error::Api(status))
                    if status.code == 422 =>
                {
                    "KubernetesConflict"
                }
                FinalizerError::AddFinalizer(e) | FinalizerError::RemoveFinalizer(e) => {
                    kube_reason(e)
                }
                FinalizerError::UnnamedObject => "InvalidObject",
                FinalizerError::InvalidFinalizer => "FinalizerError",
            },
            Error::Jira(e) => jira_reason(e),
            Error::Credentials(_) => "CredentialsInvalid",
            Error::MissingScopes(_) => FORBIDDEN,
            Error::InvalidSelector(_) => "InvalidTaskSelector",
            Error::DeletionBlocked { reason, .. } => reason,
            Error::MissingMetadata(_) => "InvalidObject",
            Error::NotFound(_) => "NotFound",
            Error::Serialise(_) => "InternalError",
        }
    }
}

impl Error {
    /// Whether the API server refused a write as conflicting with a newer version: a fresh look is
    /// all it needs. The finalizer's JSON patch tests the finalizers it read first, so a 422 from it
    /// means the cached sync was older than the stored one, a conflict by another name.
    pub fn is_conflict(&self) -> bool {
        let conflict = |e: &kube::Error| matches!(e, kube::Error::Api(s) if s.code == 409);
        match self {
            Error::Kube(e) => conflict(e),
            Error::Finalizer(e) => match e.as_ref() {
                FinalizerError::ApplyFailed(e) | FinalizerError::CleanupFailed(e) => {
                    e.is_conflict()
                }
                FinalizerError::AddFinalizer(e) | FinalizerError::RemoveFinalizer(e) => {
                    conflict(e) || matches!(e, kube::Error::Api(s) if s.code == 422)
                }
                _ => false,
            },
            _ => false,
        }
    }
}

/// A short PascalCase reason for a failed Kubernetes call: a missing RBAC permission and a write
/// conflict are told apart, since the first needs the user and the second only a retry.
pub fn kube_reason(error: &kube::Error) -> &'static str {
    match error {
        kube::Error::Api(status) if status.code == 403 => "KubernetesPermissionDenied",
        kube::Error::Api(status) if status.code == 409 => "KubernetesConflict",
        _ => "KubernetesError",
    }
}

/// The API server's own message (for a 403 it names the user, verb, resource and namespace) with
/// its code and reason, rather than the client's debug dump of the whole Status.
fn kube_message(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) => {
            format!("{} ({} {})", status.message, status.code, status.reason)
        }
        other => other.to_string(),
    }
}

/// A short PascalCase reason for a Jira failure.
pub fn jira_reason(error: &JiraError) -> &'static str {
    match error {
        JiraError::Authentication { .. } => AUTHENTICATION_FAILED,
        JiraError::Permission { .. } => FORBIDDEN,
        JiraError::NotFound { .. } => "JiraNotFound",
        JiraError::Validation { .. } => "JiraRejectedInput",
        JiraError::RateLimited { .. } => "JiraRateLimited",
        // Jira answered with a server error (500, 502, 503, 504): it is there but not serving.
        JiraError::Transient {
            status: Some(_), ..
        } => "JiraUnavailable",
        JiraError::Transient { status: None, .. } => "JiraUnreachable",
        JiraError::RemovedApi { .. } => "JiraApiRemoved",
        JiraError::NoTransition { .. } => "JiraNoTransition",
        JiraError::UnexpectedResponse { .. } => "JiraUnexpectedResponse",
        JiraError::InvalidInput { .. } => "JiraInvalidInput",
        JiraError::UntrustedCertificate { .. } => "CertificateUntrusted",
    }
}

/// The reason of credentials Jira (or its token endpoint) refused: expired, revoked or wrong.
pub const AUTHENTICATION_FAILED: &str = "AuthenticationFailed";
/// The reason of a call the credentials may not make: a missing scope or project permission.
pub const FORBIDDEN: &str = "Forbidden";

#[cfg(test)]
mod tests {
    use kube::core::Status;

    use super::*;

    fn api(code: u16, reason: &str, message: &str) -> kube::Error {
        kube::Error::Api(Box::new(Status {
            code,
            reason: reason.to_owned(),
            message: message.to_owned(),
            ..Status::default()
        }))
    }

    #[test]
    fn a_refusal_by_rbac_is_named_and_keeps_the_api_servers_message() {
        let message = r#"compliancetasks.activesync.dev "t0" is forbidden: User "system:serviceaccount:team:operator" cannot patch resource "compliancetasks/status" in API group "activesync.dev" in the namespace "team""#;
        let error = Error::from(api(403, "Forbidden", message));
        assert_eq!(error.reason(), "KubernetesPermissionDenied");
        assert_eq!(
            error.to_string(),
            format!("Kubernetes API: {message} (403 Forbidden)")
        );
    }

    #[test]
    fn conflicts_are_told_apart_from_other_failures() {
        assert_eq!(
            Error::from(api(409, "Conflict", "modified")).reason(),
            "KubernetesConflict"
        );
        assert_eq!(
            Error::from(api(500, "InternalError", "boom")).reason(),
            "KubernetesError"
        );
        let stale = Error::Finalizer(Box::new(FinalizerError::AddFinalizer(api(
            422,
            "Invalid",
            "test failed",
        ))));
        assert_eq!(stale.reason(), "KubernetesConflict");
        let refused = Error::Finalizer(Box::new(FinalizerError::AddFinalizer(api(
            403,
            "Forbidden",
            "no",
        ))));
        assert_eq!(refused.reason(), "KubernetesPermissionDenied");
        let inner = Error::Finalizer(Box::new(FinalizerError::ApplyFailed(Error::from(api(
            409, "Conflict", "modified",
        )))));
        assert_eq!(inner.reason(), "KubernetesConflict");
    }

    #[test]
    fn an_answering_jira_is_unavailable_a_silent_one_unreachable() {
        let transient = |status| JiraError::Transient {
            request: "POST /rest/api/3/search/jql".into(),
            status,
            message: String::new(),
        };
        assert_eq!(jira_reason(&transient(Some(503))), "JiraUnavailable");
        assert_eq!(jira_reason(&transient(None)), "JiraUnreachable");
        let limited = JiraError::RateLimited {
            request: "POST /rest/api/3/issue/bulk".into(),
            retry_after: None,
            reason: Some("jira-quota-tenant-based".into()),
        };
        assert_eq!(jira_reason(&limited), "JiraRateLimited");
    }
}
