//! Jira Cloud's request rate limits, pure and driven by the caller's clock: burst token buckets per
//! HTTP method and endpoint, and per-issue write windows. Answers with the headers Jira sends:
//! `X-RateLimit-Limit/Remaining/Reset/NearLimit` when a request passes, and on a 429 also
//! `Retry-After` (seconds) and `RateLimit-Reason`.

use std::collections::{HashMap, VecDeque};

use axum::http::Method;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Why Jira refused a request, as its `RateLimit-Reason` header names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitReason {
    /// Too many requests per second to one endpoint with one method.
    Burst,
    /// Too many writes to one issue.
    PerIssueOnWrite,
    /// The site-wide quota of all tenants is spent (only ever injected as a fault here).
    QuotaGlobal,
    /// This tenant's quota is spent (only ever injected as a fault here).
    QuotaTenant,
}

impl RateLimitReason {
    /// The header value.
    pub fn as_str(self) -> &'static str {
        match self {
            RateLimitReason::Burst => "jira-burst-based",
            RateLimitReason::PerIssueOnWrite => "jira-per-issue-on-write",
            RateLimitReason::QuotaGlobal => "jira-quota-global-based",
            RateLimitReason::QuotaTenant => "jira-quota-tenant-based",
        }
    }
}

/// How many writes one issue takes within a sliding window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WriteWindow {
    pub limit: u32,
    pub seconds: u32,
}

/// The limits in force; switchable as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RateLimitConfig {
    /// Off: every request passes and no rate-limit header is sent (as on Data Center).
    pub enabled: bool,
    /// Requests per second, and bucket size, for each method on one endpoint.
    pub get_per_second: u32,
    pub post_per_second: u32,
    pub put_per_second: u32,
    pub delete_per_second: u32,
    /// Writes one issue takes, in each window.
    pub per_issue_writes: Vec<WriteWindow>,
}

impl Default for RateLimitConfig {
    /// Jira Cloud's published figures.
    fn default() -> Self {
        RateLimitConfig {
            enabled: true,
            get_per_second: 100,
            post_per_second: 100,
            put_per_second: 50,
            delete_per_second: 50,
            per_issue_writes: vec![
                WriteWindow {
                    limit: 20,
                    seconds: 2,
                },
                WriteWindow {
                    limit: 100,
                    seconds: 30,
                },
            ],
        }
    }
}

impl RateLimitConfig {
    fn per_second(&self, method: &Method) -> u32 {
        match *method {
            Method::POST => self.post_per_second,
            Method::PUT | Method::PATCH => self.put_per_second,
            Method::DELETE => self.delete_per_second,
            _ => self.get_per_second,
        }
    }
}

/// What the limiter needs to know about a request.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitedRequest<'a> {
    pub method: &'a Method,
    /// The endpoint as a route template (`/rest/api/3/issue/{issueIdOrKey}`), so every issue
    /// shares one bucket.
    pub endpoint: &'a str,
    /// The issue a write changes, when it changes one (by id, so key and id count as one).
    pub issue: Option<&'a str>,
}

/// A request that passed, with the headers to add to its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allowance {
    pub headers: Vec<(&'static str, String)>,
}

/// A request refused with 429.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The `RateLimit-Reason`; none for a 429 that names no reason.
    pub reason: Option<RateLimitReason>,
    /// Whole seconds to wait, at least 1.
    pub retry_after_seconds: u64,
    /// Every header of the 429 answer, `Retry-After` and `RateLimit-Reason` (when named) included.
    pub headers: Vec<(&'static str, String)>,
}

impl Refusal {
    /// The 429 body, in Jira's error shape.
    pub fn body(&self) -> serde_json::Value {
        serde_json::json!({
            "errorMessages": ["Rate limit exceeded."],
            "errors": {},
        })
    }
}

/// A burst bucket: `capacity` tokens, refilled at `capacity` per second.
#[derive(Debug, Clone)]
struct TokenBucket {
    tokens: f64,
    updated: Timestamp,
}

/// The limiter's state. Not shared by itself: the server holds it behind a lock.
#[derive(Debug, Default)]
pub struct RateLimiter {
    config: RateLimitConfig,
    buckets: HashMap<(Method, String), TokenBucket>,
    issue_writes: HashMap<String, VecDeque<Timestamp>>,
}

/// Below this share of a budget left, Jira sets `X-RateLimit-NearLimit: true`.
const NEAR_LIMIT_SHARE: f64 = 0.2;

/// Past this many tracked issues, issues with no write inside any window are forgotten.
const ISSUES_BEFORE_PRUNING: usize = 10_000;

impl RateLimiter {
    /// A limiter enforcing `config`.
    pub fn new(config: RateLimitConfig) -> Self {
        RateLimiter {
            config,
            ..RateLimiter::default()
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &RateLimitConfig {
        &self.config
    }

    /// Replaces the limits and forgets what was counted under the old ones.
    pub fn set_config(&mut self, config: RateLimitConfig) {
        *self = RateLimiter::new(config);
    }

    /// Counts the request at `now`, or refuses it. A refused request consumes nothing.
    pub fn check(
        &mut self,
        request: RateLimitedRequest<'_>,
        now: Timestamp,
    ) -> Result<Allowance, Refusal> {
        if !self.config.enabled {
            return Ok(Allowance {
                headers: Vec::new(),
            });
        }
        let capacity = f64::from(self.config.per_second(request.method).max(1));
        let bucket = self
            .buckets
            .entry((request.method.clone(), request.endpoint.to_owned()))
            .or_insert(TokenBucket {
                tokens: capacity,
                updated: now,
            });
        refill(bucket, capacity, now);
        if bucket.tokens < 1.0 {
            let wait = SignedDuration::from_secs_f64((1.0 - bucket.tokens) / capacity);
            let tokens = bucket.tokens;
            return Err(refusal(
                Some(RateLimitReason::Burst),
                capacity,
                tokens,
                wait,
                now,
            ));
        }
        if let Some(issue) = request.issue {
            let writes = self.issue_writes.entry(issue.to_owned()).or_default();
            if let Some(wait) = issue_wait(writes, &self.config.per_issue_writes, now) {
                let tokens = bucket.tokens;
                return Err(refusal(
                    Some(RateLimitReason::PerIssueOnWrite),
                    capacity,
                    tokens,
                    wait,
                    now,
                ));
            }
            writes.push_back(now);
        }
        bucket.tokens -= 1.0;
        let headers = success_headers(capacity, bucket.tokens, now);
        self.prune(now);
        Ok(Allowance { headers })
    }

    /// The 429 Jira would answer a `method` request with for `reason`, asking for a wait of
    /// `retry_after_seconds`: what an injected rate-limit fault sends, headers and all. Counts nothing.
    pub fn refuse(
        &self,
        method: &Method,
        reason: Option<RateLimitReason>,
        retry_after_seconds: u64,
        now: Timestamp,
    ) -> Refusal {
        let capacity = f64::from(self.config.per_second(method).max(1));
        let wait =
            SignedDuration::from_secs(i64::try_from(retry_after_seconds).unwrap_or(i64::MAX));
        refusal(reason, capacity, 0.0, wait, now)
    }

    fn prune(&mut self, now: Timestamp) {
        if self.issue_writes.len() <= ISSUES_BEFORE_PRUNING {
            return;
        }
        let longest = longest_window(&self.config.per_issue_writes);
        self.issue_writes.retain(|_, writes| {
            writes
                .back()
                .is_some_and(|last| now.duration_since(*last) < longest)
        });
    }
}

fn refill(bucket: &mut TokenBucket, capacity: f64, now: Timestamp) {
    let elapsed = now.duration_since(bucket.updated).as_secs_f64();
    if elapsed > 0.0 {
        bucket.tokens = (bucket.tokens + elapsed * capacity).min(capacity);
        bucket.updated = now;
    }
}

fn longest_window(windows: &[WriteWindow]) -> SignedDuration {
    windows
        .iter()
        .map(|w| SignedDuration::from_secs(i64::from(w.seconds)))
        .max()
        .unwrap_or(SignedDuration::ZERO)
}

/// How long until the issue takes another write, or `None` if it takes one now. Forgets writes
/// older than the longest window.
fn issue_wait(
    writes: &mut VecDeque<Timestamp>,
    windows: &[WriteWindow],
    now: Timestamp,
) -> Option<SignedDuration> {
    let longest = longest_window(windows);
    while writes
        .front()
        .is_some_and(|first| now.duration_since(*first) >= longest)
    {
        writes.pop_front();
    }
    windows
        .iter()
        .filter_map(|window| {
            let span = SignedDuration::from_secs(i64::from(window.seconds));
            let inside: Vec<&Timestamp> = writes
                .iter()
                .filter(|at| now.duration_since(**at) < span)
                .collect();
            let limit = usize::try_from(window.limit).unwrap_or(usize::MAX);
            if inside.len() < limit {
                return None;
            }
            // The write that must leave the window before another fits; with a limit of 0,
            // none ever does and the whole window is the wait.
            Some(match inside.get(inside.len() - limit) {
                Some(leaving) if limit > 0 => span - now.duration_since(**leaving),
                _ => span,
            })
        })
        .max()
}

/// `yyyy-MM-ddTHH:mmZ`, the form of Jira's `X-RateLimit-Reset`.
fn reset_header(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%MZ").to_string()
}

fn whole_seconds_at_least_one(wait: SignedDuration) -> u64 {
    let seconds = wait.as_secs_f64().ceil();
    if seconds < 1.0 { 1 } else { seconds as u64 }
}

fn success_headers(capacity: f64, tokens: f64, now: Timestamp) -> Vec<(&'static str, String)> {
    let until_full = SignedDuration::from_secs_f64(((capacity - tokens) / capacity).max(0.0));
    let reset = now.checked_add(until_full).unwrap_or(now);
    vec![
        ("X-RateLimit-Limit", format!("{capacity:.0}")),
        ("X-RateLimit-Remaining", format!("{:.0}", tokens.floor())),
        ("X-RateLimit-Reset", reset_header(reset)),
        (
            "X-RateLimit-NearLimit",
            (tokens < capacity * NEAR_LIMIT_SHARE).to_string(),
        ),
    ]
}

fn refusal(
    reason: Option<RateLimitReason>,
    capacity: f64,
    tokens: f64,
    wait: SignedDuration,
    now: Timestamp,
) -> Refusal {
    let retry_after_seconds = whole_seconds_at_least_one(wait);
    let retry_span =
        SignedDuration::from_secs(i64::try_from(retry_after_seconds).unwrap_or(i64::MAX));
    let reset = now.checked_add(retry_span).unwrap_or(now);
    let mut headers = vec![("Retry-After", retry_after_seconds.to_string())];
    if let Some(reason) = reason {
        headers.push(("RateLimit-Reason", reason.as_str().to_owned()));
    }
    headers.extend([
        ("X-RateLimit-Limit", format!("{capacity:.0}")),
        (
            "X-RateLimit-Remaining",
            format!("{:.0}", tokens.max(0.0).floor()),
        ),
        ("X-RateLimit-Reset", reset_header(reset)),
        ("X-RateLimit-NearLimit", "true".to_owned()),
    ]);
    Refusal {
        reason,
        retry_after_seconds,
        headers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEARCH: &str = "/rest/api/3/search/jql";
    const ISSUE: &str = "/rest/api/3/issue/{issueIdOrKey}";

    fn start() -> Timestamp {
        "2026-03-01T10:00:00Z".parse().unwrap()
    }

    fn after(millis: i64) -> Timestamp {
        start() + SignedDuration::from_millis(millis)
    }

    fn get(endpoint: &str) -> RateLimitedRequest<'_> {
        RateLimitedRequest {
            method: &Method::GET,
            endpoint,
            issue: None,
        }
    }

    fn put(issue: &str) -> RateLimitedRequest<'_> {
        RateLimitedRequest {
            method: &Method::PUT,
            endpoint: ISSUE,
            issue: Some(issue),
        }
    }

    fn header<'a>(headers: &'a [(&'static str, String)], name: &str) -> &'a str {
        headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
    }

    #[test]
    fn a_get_burst_allows_100_then_refuses_for_a_second() {
        let mut limiter = RateLimiter::new(RateLimitConfig::default());
        for n in 0..100 {
            let allowance = limiter.check(get(SEARCH), start()).unwrap();
            assert_eq!(
                header(&allowance.headers, "X-RateLimit-Remaining"),
                (99 - n).to_string()
            );
            assert_eq!(header(&allowance.headers, "X-RateLimit-Limit"), "100");
        }
        let refusal = limiter.check(get(SEARCH), start()).unwrap_err();
        assert_eq!(refusal.reason, Some(RateLimitReason::Burst));
        assert_eq!(refusal.retry_after_seconds, 1);
        assert_eq!(header(&refusal.headers, "Retry-After"), "1");
        assert_eq!(
            header(&refusal.headers, "RateLimit-Reason"),
            "jira-burst-based"
        );
        assert_eq!(header(&refusal.headers, "X-RateLimit-Remaining"), "0");
        assert_eq!(
            header(&refusal.headers, "X-RateLimit-Reset"),
            "2026-03-01T10:00Z"
        );
        assert_eq!(refusal.body()["errorMessages"][0], "Rate limit exceeded.");
        // Refilled at 100 per second: 10 ms brings one token back.
        assert!(limiter.check(get(SEARCH), after(10)).is_ok());
        assert!(limiter.check(get(SEARCH), after(10)).is_err());
        assert!(limiter.check(get(SEARCH), after(1_000)).is_ok());
    }

    #[test]
    fn buckets_are_per_method_and_endpoint() {
        let mut limiter = RateLimiter::new(RateLimitConfig::default());
        for _ in 0..100 {
            limiter.check(get(SEARCH), start()).unwrap();
        }
        assert!(limiter.check(get(SEARCH), start()).is_err());
        assert!(limiter.check(get("/rest/api/3/myself"), start()).is_ok());
        let post = RateLimitedRequest {
            method: &Method::POST,
            endpoint: SEARCH,
            issue: None,
        };
        assert!(limiter.check(post, start()).is_ok());
    }

    #[test]
    fn put_and_delete_take_50_per_second() {
        let mut limiter = RateLimiter::new(RateLimitConfig::default());
        for n in 0..50 {
            // Distinct issues, so only the burst bucket counts.
            limiter.check(put(&format!("1{n:04}")), start()).unwrap();
        }
        let refusal = limiter.check(put("20000"), start()).unwrap_err();
        assert_eq!(refusal.reason, Some(RateLimitReason::Burst));
        let delete = RateLimitedRequest {
            method: &Method::DELETE,
            endpoint: ISSUE,
            issue: None,
        };
        for _ in 0..50 {
            limiter.check(delete, start()).unwrap();
        }
        assert!(limiter.check(delete, start()).is_err());
    }

    #[test]
    fn one_issue_takes_20_writes_per_2_seconds() {
        let mut limiter = RateLimiter::new(RateLimitConfig::default());
        for n in 0..20 {
            limiter.check(put("10001"), after(n * 50)).unwrap();
        }
        let refusal = limiter.check(put("10001"), after(1_000)).unwrap_err();
        assert_eq!(refusal.reason, Some(RateLimitReason::PerIssueOnWrite));
        assert_eq!(
            header(&refusal.headers, "RateLimit-Reason"),
            "jira-per-issue-on-write"
        );
        // The first write (at 0 ms) leaves the window at 2 s: one second from now.
        assert_eq!(refusal.retry_after_seconds, 1);
        assert!(
            limiter.check(put("10002"), after(1_000)).is_ok(),
            "other issues are not held back"
        );
        assert!(limiter.check(put("10001"), after(1_999)).is_err());
        assert!(limiter.check(put("10001"), after(2_000)).is_ok());
    }

    #[test]
    fn one_issue_takes_100_writes_per_30_seconds() {
        let mut limiter = RateLimiter::new(RateLimitConfig::default());
        // 10 writes every 2 s stay under the short window; the long one fills after 20 s.
        for n in 0..100 {
            limiter.check(put("10001"), after(n * 200)).unwrap();
        }
        let refusal = limiter.check(put("10001"), after(20_000)).unwrap_err();
        assert_eq!(refusal.reason, Some(RateLimitReason::PerIssueOnWrite));
        assert_eq!(
            refusal.retry_after_seconds, 10,
            "the first write leaves the 30 s window at 30 s"
        );
        assert!(limiter.check(put("10001"), after(29_999)).is_err());
        assert!(limiter.check(put("10001"), after(30_000)).is_ok());
    }

    #[test]
    fn a_refused_write_consumes_nothing() {
        let mut limiter = RateLimiter::new(RateLimitConfig::default());
        for _ in 0..20 {
            limiter.check(put("10001"), start()).unwrap();
        }
        for _ in 0..30 {
            assert!(limiter.check(put("10001"), start()).is_err());
        }
        let allowance = limiter.check(put("10002"), start()).unwrap();
        assert_eq!(
            header(&allowance.headers, "X-RateLimit-Remaining"),
            "29",
            "50 - 20 - this one"
        );
    }

    #[test]
    fn an_injected_refusal_carries_the_headers_of_a_real_one() {
        let mut limiter = RateLimiter::new(RateLimitConfig::default());
        let refusal = limiter.refuse(
            &Method::POST,
            Some(RateLimitReason::QuotaTenant),
            90,
            after(30_000),
        );
        assert_eq!(refusal.retry_after_seconds, 90);
        assert_eq!(header(&refusal.headers, "Retry-After"), "90");
        assert_eq!(
            header(&refusal.headers, "RateLimit-Reason"),
            "jira-quota-tenant-based"
        );
        assert_eq!(header(&refusal.headers, "X-RateLimit-Limit"), "100");
        assert_eq!(header(&refusal.headers, "X-RateLimit-Remaining"), "0");
        assert_eq!(
            header(&refusal.headers, "X-RateLimit-Reset"),
            "2026-03-01T10:02Z"
        );
        assert_eq!(header(&refusal.headers, "X-RateLimit-NearLimit"), "true");
        let unnamed = limiter.refuse(&Method::PUT, None, 1, start());
        assert!(
            unnamed
                .headers
                .iter()
                .all(|(n, _)| *n != "RateLimit-Reason")
        );
        assert_eq!(header(&unnamed.headers, "X-RateLimit-Limit"), "50");
        assert!(
            limiter.check(get(SEARCH), start()).is_ok(),
            "an injected refusal counts nothing"
        );
    }

    #[test]
    fn near_limit_turns_true_below_a_fifth_of_the_budget() {
        let mut limiter = RateLimiter::new(RateLimitConfig::default());
        let mut near = Vec::new();
        for _ in 0..100 {
            let allowance = limiter.check(get(SEARCH), start()).unwrap();
            near.push(header(&allowance.headers, "X-RateLimit-NearLimit") == "true");
        }
        assert_eq!(
            near.iter().filter(|n| !**n).count(),
            80,
            "remaining 99..=20 are not near"
        );
        assert!(near[80..].iter().all(|n| *n), "remaining 19..=0 are");
    }

    #[test]
    fn reset_names_when_the_bucket_is_full_again() {
        let mut limiter = RateLimiter::new(RateLimitConfig::default());
        let at = "2026-03-01T10:00:59.999Z".parse().unwrap();
        let allowance = limiter.check(get(SEARCH), at).unwrap();
        assert_eq!(
            header(&allowance.headers, "X-RateLimit-Reset"),
            "2026-03-01T10:01Z"
        );
    }

    #[test]
    fn switched_off_everything_passes_without_headers() {
        let mut limiter = RateLimiter::new(RateLimitConfig {
            enabled: false,
            ..RateLimitConfig::default()
        });
        for _ in 0..1_000 {
            let allowance = limiter.check(put("10001"), start()).unwrap();
            assert!(allowance.headers.is_empty());
        }
        limiter.set_config(RateLimitConfig {
            get_per_second: 2,
            ..RateLimitConfig::default()
        });
        assert!(limiter.config().enabled);
        assert!(limiter.check(get(SEARCH), start()).is_ok());
        assert!(limiter.check(get(SEARCH), start()).is_ok());
        assert!(limiter.check(get(SEARCH), start()).is_err());
    }

    #[test]
    fn the_config_reads_from_partial_json() {
        let config: RateLimitConfig = serde_json::from_str(
            r#"{"enabled": false, "perIssueWrites": [{"limit": 1, "seconds": 5}]}"#,
        )
        .unwrap();
        assert!(!config.enabled);
        assert_eq!(config.get_per_second, 100);
        assert_eq!(
            config.per_issue_writes,
            [WriteWindow {
                limit: 1,
                seconds: 5
            }]
        );
    }

    #[test]
    fn odd_configurations_never_panic() {
        let mut limiter = RateLimiter::new(RateLimitConfig {
            get_per_second: 0,
            put_per_second: 0,
            per_issue_writes: vec![
                WriteWindow {
                    limit: 0,
                    seconds: 0,
                },
                WriteWindow {
                    limit: 0,
                    seconds: u32::MAX,
                },
            ],
            ..RateLimitConfig::default()
        });
        let _ = limiter.check(get(SEARCH), start());
        let _ = limiter.check(put("1"), start());
        let _ = limiter.check(put("1"), Timestamp::MAX);
        let _ = limiter.check(get(SEARCH), Timestamp::MIN);
    }

    #[test]
    fn forgets_idle_issues_once_it_tracks_many() {
        let mut limiter = RateLimiter::new(RateLimitConfig {
            put_per_second: 1_000_000,
            ..RateLimitConfig::default()
        });
        for n in 0..=ISSUES_BEFORE_PRUNING {
            limiter.check(put(&n.to_string()), start()).unwrap();
        }
        limiter.check(put("fresh"), after(60_000)).unwrap();
        assert_eq!(limiter.issue_writes.len(), 1);
    }
}
