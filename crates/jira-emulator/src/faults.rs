//! Injected faults: requests matching a method and path fail (with Jira's rate-limit answer when the
//! rule names a `RateLimit-Reason`), are answered slowly, or are carried out with their response lost
//! (the connection closes, as when a proxy drops it). A rule applies to a count of requests, for a
//! duration (an outage), or both.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::rate_limit::RateLimitReason;

/// The `RateLimit-Reason` an injected answer carries: one of Jira Cloud's, or none at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InjectedReason {
    /// `jira-burst-based`.
    JiraBurstBased,
    /// `jira-per-issue-on-write`.
    JiraPerIssueOnWrite,
    /// `jira-quota-global-based`.
    JiraQuotaGlobalBased,
    /// `jira-quota-tenant-based`.
    JiraQuotaTenantBased,
    /// No `RateLimit-Reason` header.
    None,
}

impl InjectedReason {
    /// The reason as the rate limiter names it; `None` sends no header.
    pub fn reason(self) -> Option<RateLimitReason> {
        match self {
            InjectedReason::JiraBurstBased => Some(RateLimitReason::Burst),
            InjectedReason::JiraPerIssueOnWrite => Some(RateLimitReason::PerIssueOnWrite),
            InjectedReason::JiraQuotaGlobalBased => Some(RateLimitReason::QuotaGlobal),
            InjectedReason::JiraQuotaTenantBased => Some(RateLimitReason::QuotaTenant),
            InjectedReason::None => None,
        }
    }
}

/// What a matching request suffers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum FaultAction {
    /// Answer with this status (and Jira's error body) without running the request.
    #[serde(rename_all = "camelCase")]
    Error {
        /// HTTP status, e.g. 503 or 429.
        status: u16,
        /// Seconds for a `Retry-After` header. A 429 always carries one, as Jira's do (1 when absent).
        #[serde(default)]
        retry_after_secs: Option<u64>,
        /// The `RateLimit-Reason` header; a 429 defaults to `jira-burst-based`, other statuses to none.
        #[serde(default)]
        rate_limit_reason: Option<InjectedReason>,
        /// Message for the error body.
        #[serde(default)]
        message: Option<String>,
    },
    /// Run the request (its changes are committed) and then close the connection without answering.
    DropResponse,
    /// Run the request after waiting `latencyMs` plus up to `jitterMs` more (uniformly drawn).
    #[serde(rename_all = "camelCase")]
    Slow {
        /// Least added latency.
        latency_ms: u64,
        /// Most extra latency on top, drawn per request.
        #[serde(default)]
        jitter_ms: u64,
    },
}

impl FaultAction {
    /// The `RateLimit-Reason` an error answer carries: the named one, else `jira-burst-based` on a 429.
    pub fn rate_limit_reason(
        status: u16,
        named: Option<InjectedReason>,
    ) -> Option<RateLimitReason> {
        match named {
            Some(named) => named.reason(),
            None if status == 429 => Some(RateLimitReason::Burst),
            None => None,
        }
    }

    /// How long a `Slow` request waits, with `draw` giving the jitter in `0..=jitter_ms`.
    pub fn latency(&self, draw: impl FnOnce(u64) -> u64) -> Option<Duration> {
        match self {
            FaultAction::Slow {
                latency_ms,
                jitter_ms,
            } => {
                let extra = if *jitter_ms == 0 {
                    0
                } else {
                    draw(*jitter_ms).min(*jitter_ms)
                };
                Some(Duration::from_millis(latency_ms.saturating_add(extra)))
            }
            _ => None,
        }
    }
}

/// One fault rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultRule {
    /// HTTP method to match; any when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// Path to match; `*` matches any run of characters (`/rest/*`, `/rest/api/3/issue/*/transitions`).
    pub path: String,
    /// How many more requests it applies to; unlimited within `forMs` when only that is given, 1 when
    /// neither is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// For how long after it is added the rule applies (an outage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_ms: Option<u64>,
    /// What happens to them.
    #[serde(flatten)]
    pub action: FaultAction,
    /// When a rule with `forMs` stops applying; set when it is added.
    #[serde(skip)]
    ends: Option<Instant>,
}

impl FaultRule {
    /// A rule for the next `count` requests matching `method` (any when `None`) and `path`.
    pub fn new(method: Option<&str>, path: &str, count: u32, action: FaultAction) -> FaultRule {
        FaultRule {
            method: method.map(str::to_owned),
            path: path.to_owned(),
            count: Some(count),
            for_ms: None,
            action,
            ends: None,
        }
    }

    /// Whether the rule still applies at `now`.
    fn live(&self, now: Instant) -> bool {
        self.count != Some(0) && self.ends.is_none_or(|ends| now < ends)
    }

    fn matches(&self, method: &str, path: &str, now: Instant) -> bool {
        let method_ok = self
            .method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(method));
        method_ok && glob(&self.path, path) && self.live(now)
    }
}

/// Whether `text` matches `pattern`, where `*` matches any run of characters (none included).
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else {
        return text.is_empty();
    };
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// The active fault rules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Faults {
    /// Rules, first match wins.
    pub rules: Vec<FaultRule>,
}

impl Faults {
    /// Adds a rule at `now` (a `forMs` rule applies from then on).
    pub fn add(&mut self, mut rule: FaultRule, now: Instant) {
        if rule.count.is_none() && rule.for_ms.is_none() {
            rule.count = Some(1);
        }
        rule.ends = rule
            .for_ms
            .map(|ms| now.checked_add(Duration::from_millis(ms)).unwrap_or(now));
        self.rules.push(rule);
    }

    /// The rules that still apply at `now`.
    pub fn active(&mut self, now: Instant) -> &[FaultRule] {
        self.rules.retain(|r| r.live(now));
        &self.rules
    }

    /// Takes one use of the first rule matching the request at `now`, if any.
    pub fn take(&mut self, method: &str, path: &str, now: Instant) -> Option<FaultAction> {
        self.rules.retain(|r| r.live(now));
        let rule = self
            .rules
            .iter_mut()
            .find(|r| r.matches(method, path, now))?;
        if let Some(count) = rule.count.as_mut() {
            *count -= 1;
        }
        let action = rule.action.clone();
        self.rules.retain(|r| r.live(now));
        Some(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: serde_json::Value) -> FaultRule {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_rule_applies_to_its_count_of_matching_requests_only() {
        let now = Instant::now();
        let mut faults = Faults::default();
        faults.add(
            FaultRule::new(
                Some("POST"),
                "/rest/api/3/issue*",
                2,
                FaultAction::DropResponse,
            ),
            now,
        );
        assert_eq!(faults.take("GET", "/rest/api/3/issue/SEC-1", now), None);
        assert_eq!(
            faults.take("post", "/rest/api/3/issue", now),
            Some(FaultAction::DropResponse)
        );
        assert_eq!(
            faults.take("POST", "/rest/api/3/issue/bulk", now),
            Some(FaultAction::DropResponse)
        );
        assert_eq!(faults.take("POST", "/rest/api/3/issue", now), None);
        assert!(faults.rules.is_empty());
    }

    #[test]
    fn without_count_or_duration_a_rule_applies_once() {
        let now = Instant::now();
        let mut faults = Faults::default();
        faults.add(
            rule(
                serde_json::json!({"path": "/rest/api/3/myself", "action": "error", "status": 500}),
            ),
            now,
        );
        assert!(faults.take("GET", "/rest/api/3/myself", now).is_some());
        assert!(faults.take("GET", "/rest/api/3/myself", now).is_none());
    }

    #[test]
    fn an_outage_applies_to_every_match_for_its_duration() {
        let start = Instant::now();
        let mut faults = Faults::default();
        faults.add(
            rule(serde_json::json!({"path": "/rest/*", "forMs": 30_000, "action": "error", "status": 503})),
            start,
        );
        for second in 0..30 {
            let at = start + Duration::from_millis(second * 1_000 + 999);
            for path in ["/rest/api/3/search/jql", "/rest/api/3/issue/SEC-1"] {
                assert!(
                    faults.take("GET", path, at).is_some(),
                    "{path} at {second}s"
                );
            }
        }
        assert_eq!(faults.active(start + Duration::from_secs(29)).len(), 1);
        assert!(
            faults
                .take("GET", "/rest/api/3/myself", start + Duration::from_secs(30))
                .is_none()
        );
        assert!(faults.rules.is_empty(), "an ended outage is forgotten");
    }

    #[test]
    fn count_and_duration_together_end_at_whichever_comes_first() {
        let start = Instant::now();
        let mut faults = Faults::default();
        faults.add(
            rule(serde_json::json!({"path": "/x", "count": 2, "forMs": 1000, "action": "dropResponse"})),
            start,
        );
        assert!(faults.take("GET", "/x", start).is_some());
        assert!(faults.take("GET", "/x", start).is_some());
        assert!(faults.take("GET", "/x", start).is_none(), "count used up");
        faults.add(
            rule(serde_json::json!({"path": "/x", "count": 5, "forMs": 1000, "action": "dropResponse"})),
            start,
        );
        assert!(faults.take("GET", "/x", start).is_some());
        assert!(
            faults
                .take("GET", "/x", start + Duration::from_millis(1000))
                .is_none(),
            "time is up"
        );
        assert!(
            faults
                .active(start + Duration::from_millis(1000))
                .is_empty()
        );
    }

    #[test]
    fn stars_match_anywhere_in_the_path() {
        let transitions = "/rest/api/3/issue/*/transitions";
        assert!(glob(transitions, "/rest/api/3/issue/SEC-12/transitions"));
        assert!(!glob(transitions, "/rest/api/3/issue/SEC-12"));
        assert!(!glob(transitions, "/rest/api/3/issue/SEC-12/transitions/x"));
        assert!(glob("/rest/*", "/rest/api/3/myself"));
        assert!(glob("/rest/*", "/rest/"));
        assert!(!glob("/rest/*", "/_emulator/faults"));
        assert!(glob("/rest/api/3/myself", "/rest/api/3/myself"));
        assert!(!glob("/rest/api/3/myself", "/rest/api/3/myselfie"));
        assert!(glob("*", ""));
        assert!(glob("/a*b*c", "/a-b-b-c"));
        assert!(!glob("/a*b*c", "/a-c"));
        assert!(!glob("/ab*ba", "/aba"), "prefix and suffix may not overlap");
    }

    #[test]
    fn a_429_names_burst_unless_told_otherwise() {
        assert_eq!(
            FaultAction::rate_limit_reason(429, None),
            Some(RateLimitReason::Burst)
        );
        assert_eq!(FaultAction::rate_limit_reason(503, None), None);
        assert_eq!(
            FaultAction::rate_limit_reason(429, Some(InjectedReason::None)),
            None
        );
        for (name, reason) in [
            ("jira-burst-based", RateLimitReason::Burst),
            ("jira-per-issue-on-write", RateLimitReason::PerIssueOnWrite),
            ("jira-quota-global-based", RateLimitReason::QuotaGlobal),
            ("jira-quota-tenant-based", RateLimitReason::QuotaTenant),
        ] {
            let parsed = rule(
                serde_json::json!({"path": "/x", "action": "error", "status": 429, "rateLimitReason": name}),
            );
            let FaultAction::Error {
                rate_limit_reason, ..
            } = parsed.action
            else {
                panic!("an error action");
            };
            assert_eq!(
                FaultAction::rate_limit_reason(429, rate_limit_reason),
                Some(reason)
            );
            assert_eq!(reason.as_str(), name);
        }
        let unknown = serde_json::from_value::<FaultRule>(serde_json::json!(
            {"path": "/x", "action": "error", "status": 429, "rateLimitReason": "jira-cost-based"}
        ))
        .unwrap_err();
        assert!(
            unknown.to_string().contains("jira-quota-tenant-based"),
            "{unknown}"
        );
    }

    #[test]
    fn slow_requests_wait_their_latency_plus_drawn_jitter() {
        let slow = rule(
            serde_json::json!({"path": "/x", "action": "slow", "latencyMs": 1000, "jitterMs": 2000}),
        );
        assert_eq!(
            slow.action.latency(|_| 0),
            Some(Duration::from_millis(1000))
        );
        assert_eq!(
            slow.action.latency(|most| most),
            Some(Duration::from_millis(3000))
        );
        assert_eq!(
            slow.action.latency(|_| u64::MAX),
            Some(Duration::from_millis(3000)),
            "a draw past the jitter is capped"
        );
        let steady = rule(serde_json::json!({"path": "/x", "action": "slow", "latencyMs": 50}));
        assert_eq!(
            steady.action.latency(|_| panic!("no jitter to draw")),
            Some(Duration::from_millis(50))
        );
        assert_eq!(FaultAction::DropResponse.latency(|_| 0), None);
    }
}
