//! The Jira webhook: deliveries are verified (HMAC-SHA256 in `X-Hub-Signature`), de-duplicated by
//! `X-Atlassian-Webhook-Identifier`, and wake the syncs whose labels the issue carries. The payload is
//! only a trigger: the sync then reads the ticket from Jira itself, so a delivery can never make the
//! operator write something Jira does not say.

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// How many delivery identifiers are remembered for de-duplication.
const REMEMBERED: usize = 8192;

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No signature, while the operator has webhook secrets to check it with.
    #[error(
        "the delivery is not signed (X-Hub-Signature: sha256=...) but a webhook secret is configured"
    )]
    Unsigned,
    /// The signature matches no configured secret.
    #[error("the X-Hub-Signature matches no configured webhook secret")]
    BadSignature,
    /// The body is not a Jira issue event.
    #[error("the body is not a Jira webhook event: {0}")]
    BadBody(String),
}

/// Checks `X-Hub-Signature` against the configured secrets. With no secret configured, unsigned
/// deliveries are taken (they can only trigger a re-read of Jira).
pub fn verify(signature: Option<&str>, body: &[u8], secrets: &[String]) -> Result<(), Refusal> {
    let Some(signature) = signature else {
        return if secrets.is_empty() {
            Ok(())
        } else {
            Err(Refusal::Unsigned)
        };
    };
    let digest = signature
        .strip_prefix("sha256=")
        .and_then(|hex| hex::decode(hex.trim()).ok())
        .ok_or(Refusal::BadSignature)?;
    let valid = secrets.iter().any(|secret| {
        Hmac::<Sha256>::new_from_slice(secret.as_bytes())
            .map(|mut mac| {
                mac.update(body);
                mac.verify_slice(&digest).is_ok()
            })
            .unwrap_or(false)
    });
    if valid {
        Ok(())
    } else {
        Err(Refusal::BadSignature)
    }
}

#[derive(Deserialize)]
struct Delivery {
    #[serde(rename = "webhookEvent")]
    event: String,
    issue: Option<DeliveredIssue>,
}

#[derive(Deserialize)]
struct DeliveredIssue {
    key: Option<String>,
    #[serde(default)]
    fields: DeliveredFields,
}

#[derive(Deserialize, Default)]
struct DeliveredFields {
    #[serde(default)]
    labels: Vec<String>,
}

/// What a delivery is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueEvent {
    /// e.g. `jira:issue_updated`.
    pub event: String,
    /// The issue key.
    pub key: Option<String>,
    /// The issue's labels (the operator's name the syncs to wake).
    pub labels: Vec<String>,
}

/// Parses a delivery body.
pub fn parse(body: &[u8]) -> Result<IssueEvent, Refusal> {
    let delivery: Delivery =
        serde_json::from_slice(body).map_err(|e| Refusal::BadBody(e.to_string()))?;
    let (key, labels) = delivery
        .issue
        .map(|i| (i.key, i.fields.labels))
        .unwrap_or_default();
    Ok(IssueEvent {
        event: delivery.event,
        key,
        labels,
    })
}

/// Remembers recent delivery identifiers: Jira retries, so the same delivery may come twice.
#[derive(Default)]
pub struct Deduplicator {
    seen: Mutex<(HashSet<String>, VecDeque<String>)>,
}

impl Deduplicator {
    /// Whether `id` is new; remembers it.
    pub fn first_time(&self, id: &str) -> bool {
        let mut guard = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (set, order) = &mut *guard;
        if !set.insert(id.to_owned()) {
            return false;
        }
        order.push_back(id.to_owned());
        if order.len() > REMEMBERED
            && let Some(old) = order.pop_front()
        {
            set.remove(&old);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn signatures_are_checked_against_every_secret() {
        let body = br#"{"webhookEvent":"jira:issue_updated"}"#;
        let secrets = vec!["one".to_owned(), "two".to_owned()];
        assert_eq!(verify(Some(&sign("two", body)), body, &secrets), Ok(()));
        assert_eq!(
            verify(Some(&sign("three", body)), body, &secrets),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify(Some("sha256=zz"), body, &secrets),
            Err(Refusal::BadSignature)
        );
        assert_eq!(
            verify(Some("md5=00"), body, &secrets),
            Err(Refusal::BadSignature)
        );
        assert_eq!(verify(None, body, &secrets), Err(Refusal::Unsigned));
        assert_eq!(verify(None, body, &[]), Ok(()));
        let tampered = br#"{"webhookEvent":"jira:issue_deleted"}"#;
        assert_eq!(
            verify(Some(&sign("two", body)), tampered, &secrets),
            Err(Refusal::BadSignature)
        );
    }

    #[test]
    fn payloads_give_the_issue_and_its_labels() {
        let body = br#"{"webhookEvent":"jira:issue_updated","issue":{"key":"SEC-1","fields":{"labels":["jas.ns.s","x"]}}}"#;
        let event = parse(body).expect("valid");
        assert_eq!(event.key.as_deref(), Some("SEC-1"));
        assert_eq!(event.labels, vec!["jas.ns.s", "x"]);
        assert!(matches!(parse(b"not json"), Err(Refusal::BadBody(_))));
        assert!(matches!(parse(b"{}"), Err(Refusal::BadBody(_))));
    }

    #[test]
    fn repeated_identifiers_are_dropped_and_old_ones_forgotten() {
        let dedup = Deduplicator::default();
        assert!(dedup.first_time("a"));
        assert!(!dedup.first_time("a"));
        for i in 0..REMEMBERED {
            dedup.first_time(&i.to_string());
        }
        assert!(
            dedup.first_time("a"),
            "forgotten after {REMEMBERED} newer ones"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// Any bytes, signed or not, give a result and never a panic; only the right secret's
        /// signature over these exact bytes passes.
        #[test]
        fn forged_and_malformed_deliveries_are_refused(
            body in proptest::collection::vec(proptest::num::u8::ANY, 0..512),
            secret in "[ -~]{1,32}",
            forger in "[ -~]{1,32}",
            flip in proptest::num::usize::ANY,
            header in "\\PC{0,80}",
        ) {
            let secrets = vec![secret.clone()];
            let _ = parse(&body);
            proptest::prop_assert_eq!(verify(Some(&sign(&secret, &body)), &body, &secrets), Ok(()));
            if forger != secret {
                proptest::prop_assert_eq!(
                    verify(Some(&sign(&forger, &body)), &body, &secrets),
                    Err(Refusal::BadSignature)
                );
            }
            if !body.is_empty() {
                let mut tampered = body.clone();
                let at = flip % tampered.len();
                tampered[at] ^= 0x01;
                proptest::prop_assert_eq!(
                    verify(Some(&sign(&secret, &body)), &tampered, &secrets),
                    Err(Refusal::BadSignature)
                );
            }
            proptest::prop_assert!(verify(Some(&header), &body, &secrets).is_err());
            proptest::prop_assert_eq!(verify(None, &body, &secrets), Err(Refusal::Unsigned));
        }

        /// JSON of any shape parses to an event or a clear refusal.
        #[test]
        fn any_json_parses_or_is_refused(
            event in proptest::option::of("\\PC{0,20}"),
            key in proptest::option::of("\\PC{0,20}"),
            labels in proptest::collection::vec("\\PC{0,20}", 0..5),
            garbage in "\\PC{0,40}",
        ) {
            let body = serde_json::json!({
                "webhookEvent": event, "issue": {"key": key, "fields": {"labels": labels}}, "x": garbage
            });
            let bytes = serde_json::to_vec(&body).expect("json");
            match (parse(&bytes), &event) {
                (Ok(parsed), Some(event)) => {
                    proptest::prop_assert_eq!(&parsed.event, event);
                    proptest::prop_assert_eq!(parsed.labels, labels);
                }
                (Err(Refusal::BadBody(_)), None) => {}
                (other, _) => proptest::prop_assert!(false, "unexpected {other:?}"),
            }
        }
    }
}
