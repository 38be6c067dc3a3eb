//! Posts webhook events to their receivers as Jira does: signed, identified, and retried with
//! backoff when the receiver fails in a way Jira retries (so a receiver may see duplicates).

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, USER_AGENT};

use super::payload::IssueEvent;
use super::registry::DeliveryTarget;
use super::signature::sign;

/// How often and how patiently deliveries are retried. Jira waits minutes between retries;
/// the emulator's default waits far less, so tests see retries quickly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (Jira: 5).
    pub max_retries: u32,
    /// Wait before the first retry; doubled for each one after.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// How long one attempt may take before it counts as failed.
    pub timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            timeout: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    fn backoff(&self, retry: u32) -> Duration {
        let doublings = retry.saturating_sub(1).min(30);
        self.first_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }
}

/// One try at delivering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// 0 for the first attempt, then the retry number sent in `X-Atlassian-Webhook-Retry`.
    pub retry: u32,
    /// The receiver's status, or why no status came back.
    pub outcome: Result<u16, String>,
}

/// Everything that happened to one event for one webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub webhook_id: u64,
    pub identifier: String,
    pub attempts: Vec<Attempt>,
    /// Whether an attempt got a 2xx.
    pub delivered: bool,
}

/// Sends webhook deliveries; cheap to clone, sharing one connection pool.
#[derive(Debug, Clone)]
pub struct WebhookDeliverer {
    client: reqwest::Client,
    policy: RetryPolicy,
}

/// A fresh `X-Atlassian-Webhook-Identifier`, in the UUID form Jira uses.
pub fn new_identifier() -> String {
    let bits: u128 = rand::random();
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Jira retries on these statuses, and on no answer at all; never on other 4xx.
fn is_retryable(status: u16) -> bool {
    matches!(status, 408 | 409 | 425 | 429) || (500..600).contains(&status)
}

impl WebhookDeliverer {
    /// A deliverer following `policy`.
    pub fn new(policy: RetryPolicy) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder().timeout(policy.timeout).build()?;
        Ok(WebhookDeliverer { client, policy })
    }

    /// Sends `event` to every target in the background, each with its own identifier, and
    /// returns the tasks, whose reports say how each delivery went.
    pub fn dispatch(
        &self,
        targets: Vec<DeliveryTarget>,
        event: &IssueEvent,
    ) -> Vec<tokio::task::JoinHandle<DeliveryReport>> {
        let body = event.payload().to_string().into_bytes();
        targets
            .into_iter()
            .map(|target| {
                let deliverer = self.clone();
                let body = body.clone();
                tokio::spawn(
                    async move { deliverer.deliver(&target, &new_identifier(), &body).await },
                )
            })
            .collect()
    }

    /// Delivers `body` (the serialised payload) to `target`, retrying as Jira would. Every
    /// attempt carries the same `identifier`.
    pub async fn deliver(
        &self,
        target: &DeliveryTarget,
        identifier: &str,
        body: &[u8],
    ) -> DeliveryReport {
        let body: &[u8] = if target.exclude_body { &[] } else { body };
        let signature = target.secret.as_deref().map(|secret| sign(secret, body));
        let mut attempts = Vec::new();
        for retry in 0..=self.policy.max_retries {
            if retry > 0 {
                tokio::time::sleep(self.policy.backoff(retry)).await;
            }
            let mut request = self
                .client
                .post(&target.url)
                .header(CONTENT_TYPE, "application/json; charset=utf-8")
                .header(USER_AGENT, "Atlassian Webhook HTTP Client")
                .header("X-Atlassian-Webhook-Identifier", identifier)
                .body(body.to_vec());
            if retry > 0 {
                request = request.header("X-Atlassian-Webhook-Retry", retry.to_string());
            }
            if let Some(signature) = &signature {
                request = request.header("X-Hub-Signature", signature);
            }
            let outcome = match request.send().await {
                Ok(response) => Ok(response.status().as_u16()),
                Err(error) => Err(error.to_string()),
            };
            tracing::debug!(
                webhook = target.webhook_id,
                url = %target.url,
                identifier,
                retry,
                outcome = ?outcome,
                "webhook delivery attempt"
            );
            let finished = match &outcome {
                Ok(status) => !is_retryable(*status),
                Err(_) => false,
            };
            let delivered = matches!(outcome, Ok(status) if (200..300).contains(&status));
            attempts.push(Attempt { retry, outcome });
            if finished {
                return DeliveryReport {
                    webhook_id: target.webhook_id,
                    identifier: identifier.to_owned(),
                    attempts,
                    delivered,
                };
            }
        }
        tracing::warn!(
            webhook = target.webhook_id,
            url = %target.url,
            identifier,
            "webhook delivery abandoned after retries"
        );
        DeliveryReport {
            webhook_id: target.webhook_id,
            identifier: identifier.to_owned(),
            attempts,
            delivered: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex};
    use std::time::Instant;

    use axum::body::Bytes;
    use axum::extract::State;
    use axum::http::{HeaderMap, StatusCode};
    use axum::routing::post;

    use super::*;

    /// What the receiver saw of one request.
    #[derive(Debug, Clone)]
    struct Seen {
        headers: HeaderMap,
        body: Bytes,
        at: Instant,
    }

    #[derive(Clone, Default)]
    struct Receiver {
        seen: Arc<Mutex<Vec<Seen>>>,
        /// Statuses to answer with, in order; 200 once they run out.
        script: Arc<Mutex<VecDeque<u16>>>,
    }

    async fn receive(
        State(receiver): State<Receiver>,
        headers: HeaderMap,
        body: Bytes,
    ) -> StatusCode {
        receiver.seen.lock().unwrap().push(Seen {
            headers,
            body,
            at: Instant::now(),
        });
        let status = receiver.script.lock().unwrap().pop_front().unwrap_or(200);
        StatusCode::from_u16(status).unwrap()
    }

    /// A real HTTP receiver on loopback, answering with `script`.
    async fn start_receiver(script: &[u16]) -> (Receiver, String) {
        let receiver = Receiver::default();
        receiver.script.lock().unwrap().extend(script);
        let app = axum::Router::new()
            .route("/hook", post(receive))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    fn quick(max_retries: u32) -> WebhookDeliverer {
        WebhookDeliverer::new(RetryPolicy {
            max_retries,
            first_backoff: Duration::from_millis(20),
            max_backoff: Duration::from_millis(200),
            timeout: Duration::from_secs(5),
        })
        .unwrap()
    }

    fn target(url: &str, secret: Option<&str>) -> DeliveryTarget {
        DeliveryTarget {
            webhook_id: 7,
            url: url.to_owned(),
            secret: secret.map(str::to_owned),
            exclude_body: false,
        }
    }

    fn header<'a>(seen: &'a Seen, name: &str) -> Option<&'a str> {
        seen.headers.get(name).map(|v| v.to_str().unwrap())
    }

    const BODY: &[u8] = br#"{"webhookEvent":"jira:issue_updated","issue":{"key":"SEC-1"}}"#;

    #[tokio::test]
    async fn a_delivery_is_signed_and_identified() {
        let (receiver, url) = start_receiver(&[]).await;
        let report = quick(5)
            .deliver(&target(&url, Some("s3cret")), "id-1", BODY)
            .await;
        assert!(report.delivered);
        assert_eq!(
            report.attempts,
            [Attempt {
                retry: 0,
                outcome: Ok(200)
            }]
        );
        let seen = receiver.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 1);
        assert_eq!(seen[0].body.as_ref(), BODY);
        assert_eq!(
            header(&seen[0], "x-hub-signature"),
            Some(sign("s3cret", BODY).as_str())
        );
        assert_eq!(
            header(&seen[0], "x-atlassian-webhook-identifier"),
            Some("id-1")
        );
        assert_eq!(header(&seen[0], "x-atlassian-webhook-retry"), None);
        assert_eq!(
            header(&seen[0], "content-type"),
            Some("application/json; charset=utf-8")
        );
    }

    #[tokio::test]
    async fn without_a_secret_there_is_no_signature_and_exclude_body_sends_none() {
        let (receiver, url) = start_receiver(&[]).await;
        let mut bare = target(&url, None);
        quick(0).deliver(&bare, "id-2", BODY).await;
        bare.exclude_body = true;
        bare.secret = Some("k".to_owned());
        quick(0).deliver(&bare, "id-3", BODY).await;
        let seen = receiver.seen.lock().unwrap().clone();
        assert_eq!(header(&seen[0], "x-hub-signature"), None);
        assert!(seen[1].body.is_empty());
        assert_eq!(
            header(&seen[1], "x-hub-signature"),
            Some(sign("k", b"").as_str())
        );
    }

    #[tokio::test]
    async fn failures_are_retried_with_the_same_identifier_and_growing_backoff() {
        let (receiver, url) = start_receiver(&[500, 503, 429]).await;
        let report = quick(5)
            .deliver(&target(&url, Some("k")), "id-4", BODY)
            .await;
        assert!(report.delivered);
        let outcomes: Vec<_> = report
            .attempts
            .iter()
            .map(|a| (a.retry, a.outcome.clone()))
            .collect();
        assert_eq!(
            outcomes,
            [(0, Ok(500)), (1, Ok(503)), (2, Ok(429)), (3, Ok(200))]
        );
        let seen = receiver.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 4, "the receiver saw every attempt");
        for (n, attempt) in seen.iter().enumerate() {
            assert_eq!(
                header(attempt, "x-atlassian-webhook-identifier"),
                Some("id-4")
            );
            assert_eq!(attempt.body.as_ref(), BODY);
            let retry = (n > 0).then(|| n.to_string());
            assert_eq!(
                header(attempt, "x-atlassian-webhook-retry"),
                retry.as_deref()
            );
        }
        // Waits of 20, 40 and 80 ms between the attempts.
        assert!(seen[1].at - seen[0].at >= Duration::from_millis(20));
        assert!(seen[2].at - seen[1].at >= Duration::from_millis(40));
        assert!(seen[3].at - seen[2].at >= Duration::from_millis(80));
    }

    #[tokio::test]
    async fn a_client_error_is_not_retried() {
        let (receiver, url) = start_receiver(&[400]).await;
        let report = quick(5).deliver(&target(&url, None), "id-5", BODY).await;
        assert!(!report.delivered);
        assert_eq!(report.attempts.len(), 1);
        assert_eq!(receiver.seen.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn gives_up_after_the_last_retry() {
        let (receiver, url) = start_receiver(&[500, 500, 500, 500]).await;
        let report = quick(2).deliver(&target(&url, None), "id-6", BODY).await;
        assert!(!report.delivered);
        assert_eq!(report.attempts.len(), 3);
        assert_eq!(receiver.seen.lock().unwrap().len(), 3);
    }

    #[tokio::test]
    async fn an_unreachable_receiver_is_retried_then_reported() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        drop(listener);
        let report = quick(1).deliver(&target(&url, None), "id-7", BODY).await;
        assert!(!report.delivered);
        assert_eq!(report.attempts.len(), 2);
        assert!(report.attempts.iter().all(|a| a.outcome.is_err()));
    }

    #[tokio::test]
    async fn dispatch_sends_the_payload_to_every_target_with_its_own_identifier() {
        let (receiver, url) = start_receiver(&[]).await;
        let event = IssueEvent::new(
            super::super::IssueEventKind::Created,
            "2026-03-01T10:00:00Z".parse().unwrap(),
            serde_json::json!({"accountId": "acc-admin"}),
            serde_json::json!({"key": "SEC-3"}),
        );
        let tasks = quick(0).dispatch(vec![target(&url, None), target(&url, Some("k"))], &event);
        for task in tasks {
            assert!(task.await.unwrap().delivered);
        }
        let seen = receiver.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2);
        let payload: serde_json::Value = serde_json::from_slice(&seen[0].body).unwrap();
        assert_eq!(payload, event.payload());
        assert_ne!(
            header(&seen[0], "x-atlassian-webhook-identifier"),
            header(&seen[1], "x-atlassian-webhook-identifier")
        );
    }

    #[test]
    fn backoff_doubles_up_to_its_cap() {
        let policy = RetryPolicy {
            max_retries: 40,
            first_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
        };
        let waits: Vec<u128> = (1..=6).map(|r| policy.backoff(r).as_millis()).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(policy.backoff(40), Duration::from_secs(1));
    }

    #[test]
    fn identifiers_are_unique_uuids() {
        let a = new_identifier();
        assert_eq!(a.len(), 36);
        assert_eq!(a.matches('-').count(), 4);
        assert_ne!(a, new_identifier());
    }
}
