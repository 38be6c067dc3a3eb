//! Which failed attempts are tried again, and after how long.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};

use super::config::RetryPolicy;

/// Whether sending a request twice can do something twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Safety {
    /// Reads, PUTs, DELETEs, searches: repeating them is harmless.
    Idempotent,
    /// Creates, comments, transitions: a repeat after a lost answer may act twice, so only failures
    /// known to have happened before Jira acted (refused connections, 429) are retried.
    NotIdempotent,
}

/// How an attempt failed, as far as the retry decision is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The connection could not be opened: nothing reached Jira.
    NotSent,
    /// Timeout or broken connection after sending: Jira may or may not have acted.
    Lost,
    /// Jira rate limited the request (429, or 503 with a `RateLimit-Reason`): it did not act.
    RateLimited,
    /// Another HTTP status.
    Status(u16),
}

/// Whether a failed attempt may be tried again.
pub fn may_retry(safety: Safety, failure: Failure) -> bool {
    match failure {
        Failure::NotSent | Failure::RateLimited => true,
        Failure::Lost | Failure::Status(500 | 502 | 503 | 504) => safety == Safety::Idempotent,
        Failure::Status(_) => false,
    }
}

/// The backoff delays of one call: exponential from `min_delay`, capped at `max_delay`, with jitter,
/// one per retry the policy allows.
pub fn backoff(policy: &RetryPolicy) -> impl Iterator<Item = Duration> + use<> {
    ExponentialBuilder::default()
        .with_min_delay(policy.min_delay)
        .with_max_delay(policy.max_delay)
        .with_max_times(policy.max_attempts.saturating_sub(1))
        .with_jitter()
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_are_retried_only_when_jira_cannot_have_acted() {
        use Safety::*;
        assert!(may_retry(NotIdempotent, Failure::NotSent));
        assert!(may_retry(NotIdempotent, Failure::RateLimited));
        assert!(!may_retry(NotIdempotent, Failure::Lost));
        assert!(!may_retry(NotIdempotent, Failure::Status(503)));
        assert!(!may_retry(NotIdempotent, Failure::Status(500)));
        assert!(may_retry(Idempotent, Failure::Lost));
        assert!(may_retry(Idempotent, Failure::Status(502)));
        assert!(may_retry(Idempotent, Failure::Status(504)));
        for status in [400, 401, 403, 404, 409, 410, 422, 501] {
            assert!(!may_retry(Idempotent, Failure::Status(status)), "{status}");
        }
    }

    #[test]
    fn backoff_grows_with_jitter_and_stops() {
        let policy = RetryPolicy {
            max_attempts: 5,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
            max_wait: Duration::from_secs(1),
        };
        let delays: Vec<Duration> = backoff(&policy).collect();
        assert_eq!(delays.len(), 4);
        // Jitter adds up to one more base delay on top of 100, 200, 400, 500 (capped).
        for (delay, base) in delays.iter().zip([100u64, 200, 400, 500]) {
            assert!(*delay >= Duration::from_millis(base), "{delay:?} < {base}");
            assert!(
                *delay <= Duration::from_millis(base * 2),
                "{delay:?} > 2x{base}"
            );
        }
    }
}
