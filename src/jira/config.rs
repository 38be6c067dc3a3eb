//! How to reach one Jira site: address, flavor, credentials, the way in (site URL or Cloud's API
//! gateway), the CA to trust and the politeness limits.

use super::throttle::SitePauses;
use super::users::UserCache;
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
    /// A service account's OAuth 2.0 client credentials, exchanged for expiring access tokens.
    OAuth2ClientCredentials(OAuth2Client),
}

/// An OAuth 2.0 client of the client credentials grant. `Debug` never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuth2Client {
    /// Client id.
    pub client_id: String,
    /// Client secret (secret).
    pub client_secret: String,
    /// The token endpoint.
    pub token_url: String,
    /// Scopes to ask for; empty asks for the client's own.
    pub scopes: Vec<String>,
    /// How the token endpoint takes the grant.
    pub encoding: TokenRequestEncoding,
}

/// How a token endpoint takes the grant's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRequestEncoding {
    /// A JSON body (Atlassian Cloud's `auth.atlassian.com`).
    Json,
    /// A form-encoded body (Data Center's `/rest/oauth2/latest/token`, RFC 6749).
    Form,
}

impl fmt::Debug for OAuth2Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth2Client")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("token_url", &self.token_url)
            .field("scopes", &self.scopes)
            .field("encoding", &self.encoding)
            .finish()
    }
}

/// Atlassian Cloud's token endpoint for OAuth 2.0 client credentials.
pub const CLOUD_TOKEN_URL: &str = "https://auth.atlassian.com/oauth/token";
/// Atlassian Cloud's API gateway.
pub const CLOUD_GATEWAY_URL: &str = "https://api.atlassian.com";

impl Flavor {
    /// The token endpoint of a site of this flavor when the connection names none.
    pub fn default_token_url(self, site: &str) -> String {
        match self {
            Flavor::Cloud => CLOUD_TOKEN_URL.to_owned(),
            Flavor::DataCenter => {
                format!("{}/rest/oauth2/latest/token", site.trim_end_matches('/'))
            }
        }
    }

    /// How this flavor's token endpoint takes the grant.
    pub fn token_request_encoding(self) -> TokenRequestEncoding {
        match self {
            Flavor::Cloud => TokenRequestEncoding::Json,
            Flavor::DataCenter => TokenRequestEncoding::Form,
        }
    }
}

/// Calls through Atlassian Cloud's API gateway (`{url}/ex/jira/{cloudId}`) rather than the site URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    /// The gateway's base, normally [`CLOUD_GATEWAY_URL`].
    pub url: String,
    /// The site's cloud id; `None` asks the site's `/_edge/tenant_info` once.
    pub cloud_id: Option<String>,
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
            Credentials::OAuth2ClientCredentials(client) => client.fmt(f),
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
    /// The API gateway to call instead of the site URL (Cloud scoped tokens and service accounts).
    pub gateway: Option<Gateway>,
    /// A private CA (PEM, one or more certificates) trusted besides the public roots, for the site,
    /// the gateway and the token endpoint.
    pub trusted_ca_pem: Option<Vec<u8>>,
    /// Client-side token bucket.
    pub rate_limit: RateLimit,
    /// Retry and backoff behaviour.
    pub retry: RetryPolicy,
    /// Timeout of one HTTP attempt.
    pub request_timeout: Duration,
    /// How long a user looked up by email stays cached.
    pub user_cache_ttl: Duration,
    /// Where looked-up users are cached: by default the client's own; the controller gives every
    /// client of one site and principal the same one ([`PrincipalShares`](super::PrincipalShares)).
    pub users: UserCache,
    /// Where the pauses Jira asks for are held: by default the client's own; the controller gives
    /// every client of one site and principal the same ([`PrincipalShares`](super::PrincipalShares)).
    pub pauses: SitePauses,
}

impl ClientConfig {
    /// A configuration with default rate limit, retry policy, timeout and cache expiry.
    pub fn new(base_url: impl Into<String>, flavor: Flavor, credentials: Credentials) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            flavor,
            credentials,
            gateway: None,
            trusted_ca_pem: None,
            rate_limit: RateLimit::default(),
            retry: RetryPolicy::default(),
            request_timeout: Duration::from_secs(30),
            user_cache_ttl: Duration::from_secs(600),
            users: UserCache::default(),
            pauses: SitePauses::default(),
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
        let oauth = Credentials::OAuth2ClientCredentials(OAuth2Client {
            client_id: "svc-client".into(),
            client_secret: "oauth-s3cr3t".into(),
            token_url: CLOUD_TOKEN_URL.into(),
            scopes: vec!["read:jira-work".into()],
            encoding: TokenRequestEncoding::Json,
        });
        let config = ClientConfig::new("https://x.example", Flavor::Cloud, basic.clone());
        for shown in [
            format!("{basic:?}"),
            format!("{bearer:?}"),
            format!("{oauth:?}"),
            format!("{config:?}"),
            format!("{config:#?}"),
        ] {
            assert!(!shown.contains("s3cr3t"), "secret leaked in {shown}");
            assert!(shown.contains("<redacted>"));
        }
        assert!(format!("{basic:?}").contains("admin@example.com"));
        assert!(format!("{oauth:?}").contains("svc-client"));
    }

    #[test]
    fn token_urls_default_per_flavor() {
        assert_eq!(
            Flavor::Cloud.default_token_url("https://acme.atlassian.net"),
            "https://auth.atlassian.com/oauth/token"
        );
        assert_eq!(
            Flavor::DataCenter.default_token_url("https://jira.corp.example/"),
            "https://jira.corp.example/rest/oauth2/latest/token"
        );
    }
}
