//! How to reach one Jira site: address, flavor, credentials and the politeness limits.

use std::fmt;
use std::time::Duration;

/// Which Jira product the site runs; decides the REST version and the description format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    /// Jira Cloud: REST v3, Atlassian Document Format descriptions, `parent` for epics.
    Cloud,
    /// Jira Data Center: REST v2, wiki markup descriptions, the Epic Link custom field.
    DataCenter,
}

impl Flavor {
    /// The REST API version this flavor speaks (`3` or `2`).
    pub fn api_version(self) -> u8 {
        match self {
            Flavor::Cloud => 3,
            Flavor::DataCenter => 2,
        }
    }
}

/// Credentials for one connection. `Debug` never shows the secret parts.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    /// Basic auth with an Atlassian account email and API token (Cloud).
    Basic {
        /// Account email.
        email: String,
        /// API token (secret).
        api_token: String,
    },
    /// Bearer personal access token (Data Center).
    Bearer {
        /// Personal access token (secret).
        token: String,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::Basic { email, .. } => f
                .debug_struct("Basic")
                .field("email", email)
                .field("api_token", &"<redacted>")
                .finish(),
            Credentials::Bearer { .. } => f
                .debug_struct("Bearer")
                .field("token", &"<redacted>")
                .finish(),
        }
    }
}

/// The client-side ceiling on request rate (`JiraConnection.spec.rateLimit`), kept below Jira's own limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Sustained requests per second (at least 1).
    pub requests_per_second: u32,
    /// Requests that may go out back to back before the sustained rate applies (at least 1).
    pub burst: u32,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            requests_per_second: 20,
            burst: 40,
        }
    }
}

/// How persistently one call is retried before its error is handed back to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per call, the first included.
    pub max_attempts: usize,
    /// First backoff delay when Jira gives no `Retry-After`.
    pub min_delay: Duration,
    /// Longest backoff delay between two attempts.
    pub max_delay: Duration,
    /// Longest pause a call sits out inside the client; a longer `Retry-After` (an exhausted hourly
    /// quota, say) fails the call at once with `RateLimited` so the caller can requeue instead of blocking.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            min_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
            max_wait: Duration::from_secs(30),
        }
    }
}

/// Everything needed to build a [`JiraClient`](super::JiraClient).
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Site root, e.g. `https://acme.atlassian.net` (no `/rest` suffix).
    pub base_url: String,
    /// Cloud or Data Center.
    pub flavor: Flavor,
    /// Who the client acts as.
    pub credentials: Credentials,
    /// Client-side token bucket.
    pub rate_limit: RateLimit,
    /// Retry and backoff behaviour.
    pub retry: RetryPolicy,
    /// Timeout of one HTTP attempt.
    pub request_timeout: Duration,
    /// How long a user looked up by email stays cached.
    pub user_cache_ttl: Duration,
}

impl ClientConfig {
    /// A configuration with default rate limit, retry policy, timeout and cache expiry.
    pub fn new(base_url: impl Into<String>, flavor: Flavor, credentials: Credentials) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            flavor,
            credentials,
            rate_limit: RateLimit::default(),
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(30),
            user_cache_ttl: Duration::from_secs(600),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_secrets() {
        let basic = Credentials::Basic {
            email: "admin@example.com".into(),
            api_token: "s3cr3t-token".into(),
        };
        let bearer = Credentials::Bearer {
            token: "pat-s3cr3t".into(),
        };
        let config = ClientConfig::new("https://x.example", Flavor::Cloud, basic.clone());
        for shown in [
            format!("{basic:?}"),
            format!("{bearer:?}"),
            format!("{config:?}"),
            format!("{config:#?}"),
        ] {
            assert!(!shown.contains("s3cr3t"), "secret leaked in {shown}");
            assert!(shown.contains("<redacted>"));
        }
        assert!(format!("{basic:?}").contains("admin@example.com"));
    }
}
