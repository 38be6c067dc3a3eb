//! One HTTP exchange with Jira, made polite: authentication (renewing an OAuth 2.0 token Jira
//! refuses, once), the site URL or the API gateway, the connection's token bucket and scoped
//! pauses, retries with backoff where safe, and mapping of failures to [`JiraError`].

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::OnceCell;
use tracing::{debug, warn};

use super::authorization::Authorizer;
use super::config::{ClientConfig, Flavor, Gateway, RetryPolicy};
use super::error::JiraError;
use super::gateway;
use super::rate_limit::{self, PauseScope};
use super::retry::{self, Failure, Safety};
use super::scopes;
use super::throttle::Throttle;

/// The HTTP side of a client, shared by its clones.
#[derive(Debug)]
pub struct Transport {
    http: reqwest::Client,
    base: Url,
    flavor: Flavor,
    gateway: Option<Gateway>,
    /// Where API paths are appended: the site, or the gateway's `/ex/jira/{cloudId}` (whose cloud id
    /// may have to be asked of the site first).
    api_base: OnceCell<Url>,
    authorizer: Authorizer,
    throttle: Throttle,
    retry: RetryPolicy,
}

/// One request to make.
#[derive(Debug)]
pub struct Request<'a> {
    /// HTTP method.
    pub method: Method,
    /// Path below the site root, e.g. `/rest/api/3/issue/SEC-1`.
    pub path: String,
    /// The path with identifiers replaced by placeholders; the scope of burst pauses.
    pub template: &'a str,
    /// The issue this request writes, for per-issue pauses.
    pub issue: Option<&'a str>,
    /// Query parameters.
    pub query: Vec<(&'static str, String)>,
    /// JSON body, serialized once (retries send the same bytes).
    pub body: Option<Vec<u8>>,
    /// Whether a repeat is harmless.
    pub safety: Safety,
    /// Error statuses whose body the caller reads itself (a bulk create's 400 lists per-element errors).
    pub answers_on: &'static [u16],
}

impl<'a> Request<'a> {
    /// A request without query or body.
    pub fn new(method: Method, path: String, template: &'a str, safety: Safety) -> Request<'a> {
        Request {
            method,
            path,
            template,
            issue: None,
            query: Vec::new(),
            body: None,
            safety,
            answers_on: &[],
        }
    }

    /// Adds a JSON body.
    pub fn json(mut self, body: &impl Serialize) -> Result<Request<'a>, JiraError> {
        let value = serde_json::to_vec(body).map_err(|e| JiraError::InvalidInput {
            message: format!(
                "cannot encode the body of {} {}: {e}",
                self.method, self.path
            ),
        })?;
        self.body = Some(value);
        Ok(self)
    }

    /// Names the issue the request is about (per-issue rate limits).
    pub fn about(mut self, issue: &'a str) -> Request<'a> {
        self.issue = Some(issue);
        self
    }

    /// Adds a query parameter.
    pub fn query(mut self, name: &'static str, value: impl Into<String>) -> Request<'a> {
        self.query.push((name, value.into()));
        self
    }

    /// Hands these error statuses back as answers instead of errors.
    pub fn answering_on(mut self, statuses: &'static [u16]) -> Request<'a> {
        self.answers_on = statuses;
        self
    }

    fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    fn endpoint(&self) -> String {
        format!("{} {}", self.method, self.template)
    }
}

/// A successful answer.
#[derive(Debug)]
pub struct Answer {
    /// The HTTP status (2xx).
    pub status: StatusCode,
    /// The body text (possibly empty).
    pub body: String,
    label: String,
}

impl Answer {
    /// Decodes the body as JSON.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, JiraError> {
        serde_json::from_str(&self.body).map_err(|e| JiraError::UnexpectedResponse {
            request: self.label.clone(),
            message: format!("cannot decode the answer ({}): {e}", self.status),
        })
    }
}

impl Transport {
    /// Builds the HTTP client for a connection; checks the URL and credentials are usable.
    pub fn new(config: &ClientConfig) -> Result<Arc<Transport>, JiraError> {
        let base = Url::parse(config.base_url.trim_end_matches('/')).map_err(|e| {
            JiraError::InvalidInput {
                message: format!("base URL {:?} is not a URL: {e}", config.base_url),
            }
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(JiraError::InvalidInput {
                message: format!("base URL {:?} must be an http(s) URL", config.base_url),
            });
        }
        let http = http_client(config)?;
        // Without a gateway the site is the API base; a gateway with a cloud id is known now.
        let api_base = match &config.gateway {
            None => OnceCell::new_with(Some(base.clone())),
            Some(Gateway {
                url,
                cloud_id: Some(cloud_id),
            }) => OnceCell::new_with(Some(gateway::api_base(url, cloud_id)?)),
            Some(_) => OnceCell::new(),
        };
        Ok(Arc::new(Transport {
            authorizer: Authorizer::new(&config.credentials, &http)?,
            http,
            base,
            flavor: config.flavor,
            gateway: config.gateway.clone(),
            api_base,
            throttle: Throttle::new(config.rate_limit, config.pauses.clone()),
            retry: config.retry,
        }))
    }

    /// The URL of a request: its path under the API base, with its query.
    async fn url_of(&self, request: &Request<'_>) -> Result<Url, JiraError> {
        let base = self
            .api_base
            .get_or_try_init(|| async {
                let gateway = self
                    .gateway
                    .as_ref()
                    .ok_or_else(|| JiraError::InvalidInput {
                        message: "no API base and no gateway".to_owned(),
                    })?;
                let cloud_id = gateway::discover_cloud_id(&self.http, &self.base).await?;
                debug!(%cloud_id, "discovered the site's cloud id");
                gateway::api_base(&gateway.url, &cloud_id)
            })
            .await?;
        let mut url = base.clone();
        url.set_path(&format!(
            "{}{}",
            url.path().trim_end_matches('/'),
            request.path
        ));
        if !request.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&request.query);
        }
        Ok(url)
    }

    /// The scopes the connection's OAuth 2.0 token grants, when its endpoint says.
    pub async fn granted_scopes(&self) -> Result<Option<Vec<String>>, JiraError> {
        self.authorizer.granted_scopes().await
    }

    /// The site root (no trailing slash).
    pub fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// Sends a request, waiting out pauses and retrying where safe, and returns the 2xx answer.
    pub async fn send(&self, request: Request<'_>) -> Result<Answer, JiraError> {
        let label = request.label();
        let endpoint = request.endpoint();
        let url = self.url_of(&request).await?;
        let mut delays = retry::backoff(&self.retry);
        let mut attempt = 0;
        let mut renewed = false;
        loop {
            attempt += 1;
            if let Err(pause) = self
                .throttle
                .admit(&endpoint, request.issue, self.retry.max_wait)
                .await
            {
                let wait = pause
                    .until
                    .saturating_duration_since(tokio::time::Instant::now());
                debug!(request = %label, wait_ms = wait.as_millis() as u64, "rate-limit pause too long; failing fast");
                return Err(JiraError::RateLimited {
                    request: label,
                    retry_after: Some(wait),
                    reason: pause.reason,
                });
            }
            let authorization = self.authorizer.header().await?;
            let failed = match self.attempt(&request, &url, &label, &authorization).await {
                Ok(answer) => return Ok(answer),
                Err(failed) => failed,
            };
            // A refused access token may have expired or been revoked early: one fresh token, and
            // the request again (a 401 means Jira did nothing); a second refusal is the answer.
            if matches!(failed.error, JiraError::Authentication { .. })
                && !renewed
                && self.authorizer.refused(&authorization).await
            {
                renewed = true;
                debug!(request = %label, "Jira refused the access token; renewing it once");
                continue;
            }
            let backoff = delays.next();
            // Jira did not say how long: hold the scope for the backoff delay instead.
            let wait = failed.wait.or(backoff).unwrap_or(self.retry.min_delay);
            if let Some(scope) = &failed.pause {
                let reason = match &failed.error {
                    JiraError::RateLimited { reason, .. } => reason.as_deref(),
                    _ => None,
                };
                self.throttle.pause(scope, wait, reason);
                if *scope == PauseScope::Connection {
                    warn!(request = %label, pause_ms = wait.as_millis() as u64, "connection paused by Jira's rate limit");
                }
            }
            if !retry::may_retry(request.safety, failed.failure) || wait > self.retry.max_wait {
                return Err(failed.error);
            }
            if backoff.is_none() {
                warn!(request = %label, attempt, error = %failed.error, "giving up after retries");
                return Err(failed.error);
            }
            if failed.pause.is_some() {
                // The next admission sits out the pause (others in its scope wait with us).
                warn!(request = %label, attempt, wait_ms = wait.as_millis() as u64, error = %failed.error, "rate limited; retrying after the pause");
                continue;
            }
            warn!(request = %label, attempt, wait_ms = wait.as_millis() as u64, error = %failed.error, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// One attempt.
    async fn attempt(
        &self,
        request: &Request<'_>,
        url: &Url,
        label: &str,
        authorization: &HeaderValue,
    ) -> Result<Answer, Failed> {
        let mut builder = self
            .http
            .request(request.method.clone(), url.clone())
            .header(AUTHORIZATION, authorization.clone())
            .header(ACCEPT, "application/json");
        if let Some(body) = &request.body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let transient =
            |status: Option<u16>, e: &reqwest::Error| connection_failure(label, status, e);
        let response = builder.send().await.map_err(|e| Failed {
            failure: if e.is_connect() {
                Failure::NotSent
            } else {
                Failure::Lost
            },
            error: transient(None, &e),
            pause: None,
            wait: None,
        })?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.text().await.map_err(|e| Failed {
            failure: Failure::Lost,
            error: transient(Some(status.as_u16()), &e),
            pause: None,
            wait: None,
        })?;
        debug!(request = %label, status = status.as_u16(), "jira answered");
        if status.is_success() || request.answers_on.contains(&status.as_u16()) {
            return Ok(Answer {
                status,
                body,
                label: label.to_owned(),
            });
        }
        let code = status.as_u16();
        let reason = rate_limit::reason(&headers);
        let wait = rate_limit::requested_wait(&headers, jiff::Timestamp::now());
        let limited = code == 429 || (code == 503 && reason.is_some());
        let pause = (limited || (code == 503 && wait.is_some())).then(|| {
            rate_limit::pause_scope(code, reason.as_deref(), &request.endpoint(), request.issue)
        });
        let error = if limited {
            JiraError::RateLimited {
                request: label.to_owned(),
                retry_after: wait,
                reason,
            }
        } else {
            // OAuth 2.0 tokens and the gateway's scoped API tokens are the scoped credentials.
            let scope = (self.authorizer.scoped() || self.gateway.is_some())
                .then(|| scopes::needed(self.flavor, &request.method, request.template))
                .flatten();
            JiraError::from_response(label, code, &body, wait, reason).needing_scope(scope)
        };
        Err(Failed {
            failure: if limited {
                Failure::RateLimited
            } else {
                Failure::Status(code)
            },
            error,
            pause,
            wait,
        })
    }
}

/// A failed attempt and what it asks of the caller.
struct Failed {
    failure: Failure,
    error: JiraError,
    /// The scope to hold back, for rate-limit answers.
    pause: Option<PauseScope>,
    /// How long Jira asked us to wait.
    wait: Option<Duration>,
}

/// The HTTP client of a connection: its timeout, and the private CA it trusts besides the public
/// roots.
fn http_client(config: &ClientConfig) -> Result<reqwest::Client, JiraError> {
    let mut builder = reqwest::Client::builder()
        .timeout(config.request_timeout)
        .user_agent(concat!("jira-active-sync/", env!("CARGO_PKG_VERSION")));
    if let Some(pem) = &config.trusted_ca_pem {
        let certificates =
            reqwest::Certificate::from_pem_bundle(pem).map_err(|e| JiraError::InvalidInput {
                message: format!("the CA certificate is not PEM: {e}"),
            })?;
        if certificates.is_empty() {
            return Err(JiraError::InvalidInput {
                message: "the CA bundle holds no PEM certificate".to_owned(),
            });
        }
        for certificate in certificates {
            builder = builder.add_root_certificate(certificate);
        }
    }
    builder.build().map_err(|e| JiraError::InvalidInput {
        message: format!("cannot build the HTTP client: {e}"),
    })
}

/// A request that got no answer: an untrusted certificate (which no retry cures) or a transient
/// failure.
pub(super) fn connection_failure(
    request: &str,
    status: Option<u16>,
    error: &reqwest::Error,
) -> JiraError {
    if let Some(certificate) = certificate_problem(error) {
        return JiraError::UntrustedCertificate {
            request: request.to_owned(),
            message: certificate,
        };
    }
    JiraError::Transient {
        request: request.to_owned(),
        status,
        message: transport_message(error),
    }
}

/// What rustls found wrong with the server's certificate, if that is why the request failed.
fn certificate_problem(error: &reqwest::Error) -> Option<String> {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(rustls::Error::InvalidCertificate(_)) = rustls_error(cause) {
            return Some(cause.to_string());
        }
        source = cause.source();
    }
    None
}

/// The rustls error inside `error`: `io::Error` hides the error it wraps from `source()`, so the
/// wrappers are opened with `get_ref`.
fn rustls_error<'a>(mut error: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    loop {
        if let Some(found) = error.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        error = error.downcast_ref::<std::io::Error>()?.get_ref()?;
    }
}

/// A transport error's description: its kind and causes, without the URL.
fn transport_message(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else if error.is_body() || error.is_decode() {
        "broken response body"
    } else {
        "connection failed"
    };
    let mut message = kind.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
