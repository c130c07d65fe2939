//! Bounded waits: every wait in the tests ends at a deadline and fails the test saying what it
//! was waiting for and for how long.

use std::{future::Future, time::Duration};

/// Every wait in the tests, and every request to a server a test started, is bounded by this
/// unless a test says otherwise.
pub const WAIT: Duration = Duration::from_secs(10);

/// Fails the test if `future` does not finish within `limit`.
pub async fn within<F: Future>(limit: Duration, what: &str, future: F) -> F::Output {
    match tokio::time::timeout(limit, future).await {
        Ok(output) => output,
        Err(_) => panic!("timed out after {limit:?}: {what}"),
    }
}

/// Polls `check` every 20 ms until it returns true; fails the test if it has not within `limit`.
pub async fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    within(limit, what, async {
        while !check() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}
