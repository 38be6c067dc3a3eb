//! Waiting for the system under test to get somewhere.

use std::time::Duration;

use tokio::time::Instant;

/// Polls `check` until it gives `Some`, or panics after `patience` naming `what`. Between polls it
/// waits as long as the last poll took (at least 100 ms, at most 1 s), so a heavy check (a search
/// of a thousand tickets) does not keep the machine busy while a light one stays prompt.
pub async fn eventually<T, F, Fut>(what: &str, patience: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + patience;
    loop {
        let started = Instant::now();
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {patience:?} waiting for {what}"
        );
        let pause = started
            .elapsed()
            .clamp(Duration::from_millis(100), Duration::from_secs(1));
        tokio::time::sleep(pause).await;
    }
}
