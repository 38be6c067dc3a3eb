//! OAuth 2.0 client credentials: the access token is fetched from the token endpoint, cached,
//! renewed shortly before it expires, and renewed at once when Jira refuses it. Tokens and the
//! client secret are never logged.

use std::time::Duration;

use reqwest::header::HeaderValue;
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;
use tracing::debug;

use super::config::{OAuth2Client, TokenRequestEncoding};
use super::error::JiraError;
use super::transport::connection_failure;

/// The lifetime assumed when a token endpoint does not say (Atlassian's tokens live an hour).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(3600);
/// The most a token is renewed ahead of its expiry.
const MOST_AHEAD: Duration = Duration::from_secs(60);

/// When a token issued at `issued` that lives `lifetime` is renewed: a fifth of its life before it
/// expires (at most a minute), so calls in flight never carry an expired token.
pub fn renew_at(issued: Instant, lifetime: Duration) -> Instant {
    let ahead = (lifetime / 5).min(MOST_AHEAD);
    issued + lifetime.saturating_sub(ahead)
}

#[derive(Clone)]
struct CachedToken {
    header: HeaderValue,
    renew_at: Instant,
    /// The scopes the endpoint says the token grants, when it says.
    scopes: Option<Vec<String>>,
}

/// The access tokens of one OAuth 2.0 client.
pub struct TokenSource {
    client: OAuth2Client,
    http: reqwest::Client,
    // One fetch at a time: concurrent calls wait for the token the first one fetches.
    cached: Mutex<Option<CachedToken>>,
}

impl std::fmt::Debug for TokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSource")
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

/// A token endpoint's answer.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
    #[serde(default)]
    scope: Option<String>,
}

/// A token endpoint's refusal (RFC 6749 section 5.2).
#[derive(Deserialize, Default)]
struct TokenRefusal {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

impl TokenSource {
    /// A source for `client`, fetching over `http`.
    pub fn new(client: OAuth2Client, http: reqwest::Client) -> TokenSource {
        TokenSource {
            client,
            http,
            cached: Mutex::new(None),
        }
    }

    /// The `Authorization` header of a valid token, fetching one when none is cached or it is due
    /// for renewal.
    pub async fn header(&self) -> Result<HeaderValue, JiraError> {
        let mut cached = self.cached.lock().await;
        if let Some(token) = cached.as_ref()
            && Instant::now() < token.renew_at
        {
            return Ok(token.header.clone());
        }
        let token = self.fetch().await?;
        let header = token.header.clone();
        *cached = Some(token);
        Ok(header)
    }

    /// Jira refused the token in `used`: it is dropped (unless a newer one replaced it already),
    /// so the next call fetches a fresh one.
    pub async fn refused(&self, used: &HeaderValue) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|token| token.header == used) {
            *cached = None;
        }
    }

    /// The scopes the current token grants, when the token endpoint said (fetching a token first
    /// if none is cached).
    pub async fn granted_scopes(&self) -> Result<Option<Vec<String>>, JiraError> {
        self.header().await?;
        Ok(self
            .cached
            .lock()
            .await
            .as_ref()
            .and_then(|token| token.scopes.clone()))
    }

    fn label(&self) -> String {
        let url = reqwest::Url::parse(&self.client.token_url);
        let place = url
            .as_ref()
            .map_or(self.client.token_url.as_str(), |u| u.path());
        format!("POST {place}")
    }

    /// The grant, encoded as the endpoint takes it.
    fn grant(&self) -> reqwest::RequestBuilder {
        let client = &self.client;
        let builder = self.http.post(&client.token_url);
        match client.encoding {
            TokenRequestEncoding::Json => builder.json(&serde_json::json!({
                "grant_type": "client_credentials",
                "client_id": client.client_id,
                "client_secret": client.client_secret,
            })),
            TokenRequestEncoding::Form => {
                let scope = client.scopes.join(" ");
                let mut form = vec![
                    ("grant_type", "client_credentials"),
                    ("client_id", client.client_id.as_str()),
                    ("client_secret", client.client_secret.as_str()),
                ];
                if !scope.is_empty() {
                    form.push(("scope", scope.as_str()));
                }
                builder.form(&form)
            }
        }
    }

    async fn fetch(&self) -> Result<CachedToken, JiraError> {
        let request = self.label();
        let issued = Instant::now();
        let response = self
            .grant()
            .send()
            .await
            .map_err(|e| connection_failure(&request, None, &e))?;
        let status = response.status().as_u16();
        let body = response
            .text()
            .await
            .map_err(|e| connection_failure(&request, Some(status), &e))?;
        if !(200..300).contains(&status) {
            return Err(refusal(&request, status, &body));
        }
        let answer: TokenAnswer =
            serde_json::from_str(&body).map_err(|e| JiraError::UnexpectedResponse {
                request: request.clone(),
                message: format!("the token endpoint's answer has no access_token: {e}"),
            })?;
        let lifetime = answer
            .expires_in
            .map_or(DEFAULT_LIFETIME, Duration::from_secs);
        let mut header = HeaderValue::from_str(&format!("Bearer {}", answer.access_token))
            .map_err(|_| JiraError::UnexpectedResponse {
                request,
                message: "the access token holds characters not allowed in a header".to_owned(),
            })?;
        header.set_sensitive(true);
        debug!(
            client_id = %self.client.client_id,
            lifetime_s = lifetime.as_secs(),
            "fetched an OAuth 2.0 access token"
        );
        let scopes = answer
            .scope
            .map(|s| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
            .filter(|s| !s.is_empty());
        Ok(CachedToken {
            header,
            renew_at: renew_at(issued, lifetime),
            scopes,
        })
    }
}

/// A token endpoint's refusal as an error: bad client credentials are an authentication failure,
/// scopes beyond the client's a permission failure, the endpoint failing a transient one.
fn refusal(request: &str, status: u16, body: &str) -> JiraError {
    let parsed: TokenRefusal = serde_json::from_str(body).unwrap_or_default();
    let mut messages: Vec<String> = parsed.error_description.into_iter().collect();
    if !parsed.error.is_empty() {
        messages.push(format!("OAuth 2.0 error {}", parsed.error));
    }
    match (status, parsed.error.as_str()) {
        (400, "invalid_scope") => JiraError::Permission {
            request: request.to_owned(),
            messages,
            needed_scope: None,
        },
        (400..=403, _) => JiraError::Authentication {
            request: request.to_owned(),
            messages,
        },
        _ => JiraError::from_response(request, status, body, None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_ahead_of_expiry() {
        let issued = Instant::now();
        let hour = renew_at(issued, Duration::from_secs(3600));
        assert_eq!(hour - issued, Duration::from_secs(3540));
        let short = renew_at(issued, Duration::from_secs(5));
        assert_eq!(short - issued, Duration::from_secs(4));
        assert_eq!(renew_at(issued, Duration::ZERO), issued);
    }

    #[test]
    fn refusals_keep_the_endpoints_words() {
        let body = r#"{"error":"access_denied","error_description":"Unauthorized"}"#;
        let error = refusal("POST /oauth/token", 401, body);
        assert!(
            matches!(error, JiraError::Authentication { .. }),
            "{error:?}"
        );
        assert_eq!(
            error.jira_messages(),
            vec![
                "Unauthorized".to_owned(),
                "OAuth 2.0 error access_denied".to_owned()
            ]
        );
        let scope = refusal("POST /t", 400, r#"{"error":"invalid_scope"}"#);
        assert!(matches!(scope, JiraError::Permission { .. }));
        assert!(refusal("POST /t", 503, "").is_retryable());
    }
}
