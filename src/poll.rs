//! Periodic polling until shutdown: the shape of every reload loop (TLS files, fleet directory,
//! config file). Polling and comparing, not inotify, because kubelet updates mounted Secrets and
//! ConfigMaps by swapping a `..data` symlink, which a watch on the file itself never sees.

use std::{future::Future, pin::Pin, time::Duration};

use tokio::time::{Instant, Interval, MissedTickBehavior};

/// A ticker that ends when `shutdown` resolves: `while ticks.next().await { … }`.
pub struct Ticks<'a> {
    ticker: Interval,
    shutdown: Pin<Box<dyn Future<Output = ()> + Send + 'a>>,
}

impl<'a> Ticks<'a> {
    /// The first tick comes one `interval` after this call; ticks missed while a body runs are
    /// delayed, not bunched.
    pub fn new(interval: Duration, shutdown: impl Future<Output = ()> + Send + 'a) -> Self {
        let mut ticker = tokio::time::interval_at(Instant::now() + interval, interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self {
            ticker,
            shutdown: Box::pin(shutdown),
        }
    }

    /// Waits for the next tick; `false` once shutdown has been requested.
    pub async fn next(&mut self) -> bool {
        tokio::select! {
            () = &mut self.shutdown => false,
            _ = self.ticker.tick() => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn ticks_until_shutdown() {
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let mut ticks = Ticks::new(Duration::from_secs(1), async move {
            let _ = rx.await;
        });
        let started = Instant::now();
        assert!(ticks.next().await);
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(1),
            "the first tick waits one interval"
        );
        assert!(ticks.next().await);
        drop(tx);
        assert!(!ticks.next().await);
    }
}
