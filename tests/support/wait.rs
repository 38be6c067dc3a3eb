//! Waiting for the system under test to get somewhere.

use std::time::Duration;

use tokio::time::Instant;

/// Polls `check` until it gives `Some`, or panics after `patience` naming `what`.
pub async fn eventually<T, F, Fut>(what: &str, patience: Duration, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    within(patience, check)
        .await
        .unwrap_or_else(|| panic!("timed out after {patience:?} waiting for {what}"))
}

/// Polls `check` until it gives `Some`, or gives `None` after `patience` (for a caller that has
/// more to say about a timeout). Between polls it waits as long as the last poll took (at least
/// 100 ms, at most 1 s), so a heavy check (a search of a thousand tickets) does not keep the
/// machine busy while a light one stays prompt.
pub async fn within<T, F, Fut>(patience: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + patience;
    loop {
        let started = Instant::now();
        if let Some(value) = check().await {
            return Some(value);
        }
        if Instant::now() >= deadline {
            return None;
        }
        let pause = started
            .elapsed()
            .clamp(Duration::from_millis(100), Duration::from_secs(1));
        tokio::time::sleep(pause).await;
    }
}
