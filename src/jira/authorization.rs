//! The `Authorization` header of each request: fixed for Basic and Bearer credentials, a cached and
//! renewed access token for OAuth 2.0 client credentials.

use base64::Engine;
use reqwest::header::HeaderValue;

use super::config::Credentials;
use super::error::JiraError;
use super::oauth::TokenSource;

/// Authorizes a connection's requests.
#[derive(Debug)]
pub enum Authorizer {
    /// The same header on every request.
    Fixed(HeaderValue),
    /// Access tokens from a token endpoint.
    OAuth2(TokenSource),
}

impl Authorizer {
    /// The authorizer of `credentials`; OAuth 2.0 tokens are fetched over `http`.
    pub fn new(credentials: &Credentials, http: &reqwest::Client) -> Result<Authorizer, JiraError> {
        let value = match credentials {
            Credentials::Basic { email, api_token } => format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{email}:{api_token}"))
            ),
            Credentials::Bearer { token } => format!("Bearer {token}"),
            Credentials::OAuth2ClientCredentials(client) => {
                return Ok(Authorizer::OAuth2(TokenSource::new(
                    client.clone(),
                    http.clone(),
                )));
            }
        };
        let mut header = HeaderValue::from_str(&value).map_err(|_| JiraError::InvalidInput {
            message: "credentials contain characters not allowed in an HTTP header".to_owned(),
        })?;
        header.set_sensitive(true);
        Ok(Authorizer::Fixed(header))
    }

    /// The header for the next request.
    pub async fn header(&self) -> Result<HeaderValue, JiraError> {
        match self {
            Authorizer::Fixed(header) => Ok(header.clone()),
            Authorizer::OAuth2(source) => source.header().await,
        }
    }

    /// Jira refused `used` with a 401: whether a fresh token may cure that (the access token may
    /// have been revoked or expired early); fixed credentials cannot renew themselves.
    pub async fn refused(&self, used: &HeaderValue) -> bool {
        match self {
            Authorizer::Fixed(_) => false,
            Authorizer::OAuth2(source) => {
                source.refused(used).await;
                true
            }
        }
    }

    /// The scopes an OAuth 2.0 token grants, when its endpoint says; `None` for other credentials.
    pub async fn granted_scopes(&self) -> Result<Option<Vec<String>>, JiraError> {
        match self {
            Authorizer::Fixed(_) => Ok(None),
            Authorizer::OAuth2(source) => source.granted_scopes().await,
        }
    }

    /// Whether the credentials are scoped (a 403 may then mean a missing scope).
    pub fn scoped(&self) -> bool {
        matches!(self, Authorizer::OAuth2(_))
    }
}
