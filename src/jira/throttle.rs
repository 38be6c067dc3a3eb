//! Pacing of outgoing requests: the connection's token bucket plus the pauses Jira asked for, each
//! held only over the scope it names.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

use super::config::RateLimit;
use super::rate_limit::PauseScope;

/// Shared by every clone of a client: one bucket and one set of pauses per connection.
#[derive(Debug)]
pub struct Throttle {
    bucket: DefaultDirectRateLimiter,
    pauses: Mutex<Pauses>,
}

#[derive(Debug, Default)]
struct Pauses {
    connection: Option<Instant>,
    endpoints: HashMap<String, Instant>,
    issues: HashMap<String, Instant>,
}

impl Pauses {
    fn until(&self, endpoint: &str, issue: Option<&str>) -> Option<Instant> {
        [
            self.connection,
            self.endpoints.get(endpoint).copied(),
            issue.and_then(|key| self.issues.get(key).copied()),
        ]
        .into_iter()
        .flatten()
        .max()
    }

    fn forget_expired(&mut self, now: Instant) {
        self.connection = self.connection.filter(|at| *at > now);
        self.endpoints.retain(|_, at| *at > now);
        self.issues.retain(|_, at| *at > now);
    }
}

impl Throttle {
    /// A throttle with the connection's sustained rate and burst (zeroes are raised to 1).
    pub fn new(limit: RateLimit) -> Throttle {
        let rate = NonZeroU32::new(limit.requests_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        Throttle {
            bucket: RateLimiter::direct(Quota::per_second(rate).allow_burst(burst)),
            pauses: Mutex::new(Pauses::default()),
        }
    }

    /// Waits until a request to `endpoint` (about `issue`, if any) may go out: first any pause over its
    /// scopes, then a token. A pause longer than `max_wait` is not sat out: its remaining length is
    /// returned as the error so the caller can fail fast.
    pub async fn admit(
        &self,
        endpoint: &str,
        issue: Option<&str>,
        max_wait: Duration,
    ) -> Result<(), Duration> {
        loop {
            let now = Instant::now();
            let until = self.lock().until(endpoint, issue).filter(|at| *at > now);
            match until {
                Some(at) if at - now > max_wait => return Err(at - now),
                Some(at) => tokio::time::sleep_until(at).await,
                None => break,
            }
        }
        self.bucket.until_ready().await;
        Ok(())
    }

    /// Holds back requests in `scope` for `wait` from now (an existing longer pause is kept).
    pub fn pause(&self, scope: &PauseScope, wait: Duration) {
        let now = Instant::now();
        let until = now + wait;
        let mut pauses = self.lock();
        pauses.forget_expired(now);
        let slot = match scope {
            PauseScope::Connection => pauses.connection.get_or_insert(until),
            PauseScope::Endpoint(endpoint) => {
                pauses.endpoints.entry(endpoint.clone()).or_insert(until)
            }
            PauseScope::Issue(issue) => pauses.issues.entry(issue.clone()).or_insert(until),
        };
        *slot = (*slot).max(until);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pauses> {
        // The map holds plain deadlines, so a panic elsewhere cannot leave it inconsistent.
        self.pauses
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roomy() -> Throttle {
        Throttle::new(RateLimit {
            requests_per_second: 1000,
            burst: 1000,
        })
    }

    const LONG: Duration = Duration::from_secs(60);

    #[tokio::test(start_paused = true)]
    async fn issue_pause_holds_only_that_issue() {
        let throttle = roomy();
        throttle.pause(&PauseScope::Issue("SEC-1".into()), Duration::from_secs(2));
        let start = Instant::now();
        throttle
            .admit("PUT /issue", Some("SEC-2"), LONG)
            .await
            .unwrap();
        throttle.admit("PUT /issue", None, LONG).await.unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO);
        throttle
            .admit("PUT /issue", Some("SEC-1"), LONG)
            .await
            .unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn endpoint_pause_holds_only_that_endpoint() {
        let throttle = roomy();
        throttle.pause(
            &PauseScope::Endpoint("POST /bulk".into()),
            Duration::from_secs(1),
        );
        let start = Instant::now();
        throttle
            .admit("GET /issue", Some("SEC-1"), LONG)
            .await
            .unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO);
        throttle.admit("POST /bulk", None, LONG).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn connection_pause_holds_everything_and_long_pauses_fail_fast() {
        let throttle = roomy();
        throttle.pause(&PauseScope::Connection, Duration::from_secs(3));
        throttle.pause(&PauseScope::Connection, Duration::from_secs(1));
        let waited = throttle
            .admit("GET /myself", None, Duration::from_secs(2))
            .await
            .unwrap_err();
        assert_eq!(waited, Duration::from_secs(3));
        let start = Instant::now();
        throttle.admit("GET /myself", None, LONG).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }

    #[tokio::test]
    async fn bucket_lets_a_burst_through_then_paces() {
        let throttle = Throttle::new(RateLimit {
            requests_per_second: 20,
            burst: 5,
        });
        let start = std::time::Instant::now();
        for _ in 0..5 {
            throttle.admit("GET /x", None, LONG).await.unwrap();
        }
        for _ in 0..4 {
            throttle.admit("GET /x", None, LONG).await.unwrap();
        }
        // Four more tokens at 20/s take at least 150 ms (the first refills within 50 ms of the burst).
        assert!(start.elapsed() >= Duration::from_millis(150));
    }
}
