//! Reading Jira's rate-limit answers: how long to wait (`Retry-After`, `X-RateLimit-Reset`) and what the
//! wait applies to (`RateLimit-Reason`).

use std::time::Duration;

use reqwest::header::HeaderMap;

/// What a rate-limit pause applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PauseScope {
    /// Only writes to this one issue (`jira-per-issue-on-write`).
    Issue(String),
    /// Only this method and endpoint template, e.g. `POST /rest/api/3/issue/bulk` (`jira-burst-based`).
    Endpoint(String),
    /// Every request of the connection until the quota resets (`jira-quota-*-based`, or no reason given).
    Connection,
}

/// Jira Cloud's documented `RateLimit-Reason` values.
const PER_ISSUE: &str = "jira-per-issue-on-write";
const BURST: &str = "jira-burst-based";

/// Decides what a 429/503 pauses. Per-issue limits hold back only that issue, burst limits only that
/// endpoint; quota limits, unknown reasons and a 429 without a reason hold back the whole connection,
/// since nothing narrower is known to be safe. A 503 without a reason is an overloaded endpoint.
pub fn pause_scope(
    status: u16,
    reason: Option<&str>,
    endpoint: &str,
    issue: Option<&str>,
) -> PauseScope {
    match (reason, issue) {
        (Some(PER_ISSUE), Some(issue)) => PauseScope::Issue(issue.to_owned()),
        (Some(PER_ISSUE) | Some(BURST), _) => PauseScope::Endpoint(endpoint.to_owned()),
        (None, _) if status == 503 => PauseScope::Endpoint(endpoint.to_owned()),
        _ => PauseScope::Connection,
    }
}

/// How long Jira asks us to wait: `Retry-After` (seconds or an HTTP date), else `X-RateLimit-Reset`
/// (an ISO-8601 instant). `None` when neither is present or parseable.
pub fn requested_wait(headers: &HeaderMap, now: jiff::Timestamp) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(value) = header("retry-after") {
        if let Ok(seconds) = value.parse::<f64>()
            && seconds.is_finite()
            && seconds >= 0.0
        {
            return Some(Duration::from_secs_f64(seconds));
        }
        if let Ok(at) = jiff::fmt::rfc2822::parse(value) {
            return Some(until(now, at.timestamp()));
        }
    }
    header("x-ratelimit-reset")
        .and_then(|value| value.parse::<jiff::Timestamp>().ok())
        .map(|at| until(now, at))
}

/// The `RateLimit-Reason` header, if any.
pub fn reason(headers: &HeaderMap) -> Option<String> {
    headers
        .get("ratelimit-reason")
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

fn until(now: jiff::Timestamp, at: jiff::Timestamp) -> Duration {
    let span = at.as_millisecond().saturating_sub(now.as_millisecond());
    Duration::from_millis(u64::try_from(span).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn reasons_scope_the_pause() {
        let ep = "PUT /rest/api/3/issue/{issueIdOrKey}";
        assert_eq!(
            pause_scope(429, Some(PER_ISSUE), ep, Some("SEC-7")),
            PauseScope::Issue("SEC-7".into())
        );
        assert_eq!(
            pause_scope(429, Some(PER_ISSUE), ep, None),
            PauseScope::Endpoint(ep.into())
        );
        assert_eq!(
            pause_scope(429, Some(BURST), ep, Some("SEC-7")),
            PauseScope::Endpoint(ep.into())
        );
        for quota in [
            "jira-quota-global-based",
            "jira-quota-tenant-based",
            "jira-cost-based",
        ] {
            assert_eq!(
                pause_scope(429, Some(quota), ep, Some("SEC-7")),
                PauseScope::Connection
            );
        }
        assert_eq!(pause_scope(429, None, ep, None), PauseScope::Connection);
        assert_eq!(
            pause_scope(503, None, ep, None),
            PauseScope::Endpoint(ep.into())
        );
    }

    #[test]
    fn retry_after_in_seconds_dates_and_reset() {
        let now: jiff::Timestamp = "2026-01-01T01:01:00Z".parse().unwrap();
        assert_eq!(
            requested_wait(&headers(&[("retry-after", "3")]), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            requested_wait(&headers(&[("retry-after", "0.5")]), now),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            requested_wait(
                &headers(&[("retry-after", "Thu, 01 Jan 2026 01:01:10 GMT")]),
                now
            ),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            requested_wait(
                &headers(&[("x-ratelimit-reset", "2026-01-01T01:01:01Z")]),
                now
            ),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            requested_wait(
                &headers(&[("x-ratelimit-reset", "2026-01-01T01:00:00Z")]),
                now
            ),
            Some(Duration::ZERO)
        );
        assert_eq!(
            requested_wait(&headers(&[("retry-after", "soon")]), now),
            None
        );
        assert_eq!(requested_wait(&HeaderMap::new(), now), None);
    }

    #[test]
    fn reason_header_is_read() {
        assert_eq!(
            reason(&headers(&[("ratelimit-reason", "jira-burst-based")])).as_deref(),
            Some(BURST)
        );
        assert_eq!(reason(&HeaderMap::new()), None);
    }
}
