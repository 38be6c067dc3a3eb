//! The controller's one error type.

use crate::jira::JiraError;

/// Why a reconcile could not finish.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A call to the Kubernetes API failed.
    #[error("Kubernetes API: {0}")]
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
    /// The sync names a connection that does not exist or is not usable.
    #[error("{0}")]
    Connection(String),
    /// An object lacks something the API server always sets (namespace, name).
    #[error("object has no {0}")]
    MissingMetadata(&'static str),
    /// Serialising a status or property failed.
    #[error("serialising: {0}")]
    Serialise(#[from] serde_json::Error),
}

impl Error {
    /// A short PascalCase reason for conditions and Events.
    pub fn reason(&self) -> &'static str {
        match self {
            Error::Kube(_) => "KubernetesError",
            Error::Finalizer(_) => "FinalizerError",
            Error::Jira(e) => jira_reason(e),
            Error::Credentials(_) => "CredentialsInvalid",
            Error::Connection(_) => "ConnectionNotReady",
            Error::MissingMetadata(_) => "InvalidObject",
            Error::Serialise(_) => "InternalError",
        }
    }
}

/// A short PascalCase reason for a Jira failure.
pub fn jira_reason(error: &JiraError) -> &'static str {
    match error {
        JiraError::Authentication { .. } => "JiraAuthenticationFailed",
        JiraError::Permission { .. } => "JiraPermissionDenied",
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
