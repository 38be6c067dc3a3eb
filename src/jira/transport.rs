//! One HTTP exchange with Jira, made polite: authentication, the connection's token bucket and
//! scoped pauses, retries with backoff where safe, and mapping of failures to [`JiraError`].

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tracing::{debug, warn};

use super::config::{ClientConfig, Credentials, RetryPolicy};
use super::error::JiraError;
use super::rate_limit::{self, PauseScope};
use super::retry::{self, Failure, Safety};
use super::throttle::Throttle;

/// The HTTP side of a client, shared by its clones.
#[derive(Debug)]
pub struct Transport {
    http: reqwest::Client,
    base: Url,
    authorization: HeaderValue,
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
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .user_agent(concat!("jira-active-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| JiraError::InvalidInput {
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Arc::new(Transport {
            http,
            base,
            authorization: authorization(&config.credentials)?,
            throttle: Throttle::new(config.rate_limit),
            retry: config.retry,
        }))
    }

    /// The site root (no trailing slash).
    pub fn base_url(&self) -> &str {
        self.base.as_str().trim_end_matches('/')
    }

    /// Sends a request, waiting out pauses and retrying where safe, and returns the 2xx answer.
    pub async fn send(&self, request: Request<'_>) -> Result<Answer, JiraError> {
        let label = request.label();
        let endpoint = request.endpoint();
        let mut url = self.base.clone();
        url.set_path(&format!(
            "{}{}",
            url.path().trim_end_matches('/'),
            request.path
        ));
        if !request.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&request.query);
        }
        let mut delays = retry::backoff(&self.retry);
        let mut attempt = 0;
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
            let failed = match self.attempt(&request, &url, &label).await {
                Ok(answer) => return Ok(answer),
                Err(failed) => failed,
            };
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
    ) -> Result<Answer, Failed> {
        let mut builder = self
            .http
            .request(request.method.clone(), url.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(ACCEPT, "application/json");
        if let Some(body) = &request.body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let transient = |status: Option<u16>, e: &reqwest::Error| JiraError::Transient {
            request: label.to_owned(),
            status,
            message: transport_message(e),
        };
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
            JiraError::from_response(label, code, &body, wait, reason)
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

fn authorization(credentials: &Credentials) -> Result<HeaderValue, JiraError> {
    use base64::Engine;
    let value = match credentials {
        Credentials::Basic { email, api_token } => format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{email}:{api_token}"))
        ),
        Credentials::Bearer { token } => format!("Bearer {token}"),
    };
    let mut header = HeaderValue::from_str(&value).map_err(|_| JiraError::InvalidInput {
        message: "credentials contain characters not allowed in an HTTP header".to_owned(),
    })?;
    header.set_sensitive(true);
    Ok(header)
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
