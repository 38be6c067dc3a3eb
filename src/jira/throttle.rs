//! Pacing of outgoing requests: the connection's token bucket plus the pauses Jira asked for, each
//! held only over the scope it names. Pauses are Jira's answers to an account, so every connection
//! of one site acting as one principal holds them ([`SitePauses`]): a 429 met by one namespace's
//! connection holds back the others instead of each drawing its own 429s.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::time::Instant;

use super::config::RateLimit;
use super::principal::PerPrincipal;
use super::rate_limit::PauseScope;

/// Shared by every clone of a client: the connection's bucket, and the pauses of its site and
/// principal.
#[derive(Debug)]
pub struct Throttle {
    bucket: DefaultDirectRateLimiter,
    pauses: SitePauses,
}

/// The pauses Jira asked one principal of one site for. Cheap to clone; clones share them.
#[derive(Debug, Clone, Default)]
pub struct SitePauses(Arc<Mutex<Pauses>>);

/// The pauses of every (site, principal) a process talks to.
pub type PauseDirectory = PerPrincipal<SitePauses>;

/// Until when a scope is held, and the `RateLimit-Reason` Jira gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    /// End of the pause.
    pub until: Instant,
    /// Jira's reason, if it gave one.
    pub reason: Option<String>,
}

#[derive(Debug, Default)]
struct Pauses {
    connection: Option<Pause>,
    endpoints: HashMap<String, Pause>,
    issues: HashMap<String, Pause>,
}

impl Pauses {
    fn longest(&self, endpoint: &str, issue: Option<&str>) -> Option<Pause> {
        [
            self.connection.as_ref(),
            self.endpoints.get(endpoint),
            issue.and_then(|key| self.issues.get(key)),
        ]
        .into_iter()
        .flatten()
        .max_by_key(|pause| pause.until)
        .cloned()
    }

    fn forget_expired(&mut self, now: Instant) {
        self.connection = self.connection.take().filter(|p| p.until > now);
        self.endpoints.retain(|_, p| p.until > now);
        self.issues.retain(|_, p| p.until > now);
    }
}

impl Throttle {
    /// A throttle with the connection's sustained rate and burst (zeroes are raised to 1),
    /// holding the pauses in `pauses`.
    pub fn new(limit: RateLimit, pauses: SitePauses) -> Throttle {
        let rate = NonZeroU32::new(limit.requests_per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        Throttle {
            bucket: RateLimiter::direct(Quota::per_second(rate).allow_burst(burst)),
            pauses,
        }
    }

    /// Waits until a request to `endpoint` (about `issue`, if any) may go out: first any pause over its
    /// scopes, then a token. A pause ending more than `max_wait` from now is not sat out but returned,
    /// so the caller can fail fast.
    pub async fn admit(
        &self,
        endpoint: &str,
        issue: Option<&str>,
        max_wait: Duration,
    ) -> Result<(), Pause> {
        loop {
            let now = Instant::now();
            let pause = self
                .lock()
                .longest(endpoint, issue)
                .filter(|p| p.until > now);
            match pause {
                Some(pause) if pause.until - now > max_wait => return Err(pause),
                Some(pause) => tokio::time::sleep_until(pause.until).await,
                None => break,
            }
        }
        self.bucket.until_ready().await;
        Ok(())
    }

    /// Holds back requests in `scope` for `wait` from now (an existing longer pause is kept).
    pub fn pause(&self, scope: &PauseScope, wait: Duration, reason: Option<&str>) {
        let now = Instant::now();
        let pause = Pause {
            until: now + wait,
            reason: reason.map(str::to_owned),
        };
        let mut pauses = self.lock();
        pauses.forget_expired(now);
        let slot = match scope {
            PauseScope::Connection => pauses.connection.get_or_insert_with(|| pause.clone()),
            PauseScope::Endpoint(endpoint) => pauses
                .endpoints
                .entry(endpoint.clone())
                .or_insert_with(|| pause.clone()),
            PauseScope::Issue(issue) => pauses
                .issues
                .entry(issue.clone())
                .or_insert_with(|| pause.clone()),
        };
        if pause.until > slot.until {
            *slot = pause;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pauses> {
        // The map holds plain deadlines, so a panic elsewhere cannot leave it inconsistent.
        self.pauses
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOMY: RateLimit = RateLimit {
        requests_per_second: 1000,
        burst: 1000,
    };

    fn roomy() -> Throttle {
        Throttle::new(ROOMY, SitePauses::default())
    }

    const LONG: Duration = Duration::from_secs(60);

    #[tokio::test(start_paused = true)]
    async fn issue_pause_holds_only_that_issue() {
        let throttle = roomy();
        throttle.pause(
            &PauseScope::Issue("SEC-1".into()),
            Duration::from_secs(2),
            None,
        );
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
            None,
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
        let quota = Some("jira-quota-tenant-based");
        throttle.pause(&PauseScope::Connection, Duration::from_secs(3), quota);
        throttle.pause(&PauseScope::Connection, Duration::from_secs(1), None);
        let held = throttle
            .admit("GET /myself", None, Duration::from_secs(2))
            .await
            .unwrap_err();
        assert_eq!(held.until - Instant::now(), Duration::from_secs(3));
        assert_eq!(held.reason.as_deref(), quota);
        let start = Instant::now();
        throttle.admit("GET /myself", None, LONG).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(3));
    }

    #[tokio::test]
    async fn bucket_lets_a_burst_through_then_paces() {
        let limit = RateLimit {
            requests_per_second: 20,
            burst: 5,
        };
        let throttle = Throttle::new(limit, SitePauses::default());
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

    #[tokio::test(start_paused = true)]
    async fn connections_of_one_site_and_principal_hold_one_anothers_pauses() {
        let site = SitePauses::default();
        let (first, second) = (
            Throttle::new(ROOMY, site.clone()),
            Throttle::new(ROOMY, site),
        );
        let elsewhere = roomy();
        first.pause(&PauseScope::Connection, Duration::from_secs(2), None);
        let start = Instant::now();
        elsewhere.admit("GET /myself", None, LONG).await.unwrap();
        assert_eq!(start.elapsed(), Duration::ZERO, "another site is not held");
        second.admit("GET /myself", None, LONG).await.unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }
}
