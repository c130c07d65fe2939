//! Keeps a `--fleet` directory's view current: polls the directory's [`Fingerprint`] and
//! reloads the whole view on a change. A reload that fails keeps the previous view, logs the
//! error and counts `fleet_reloads_total{result="error"}`.

use std::{path::PathBuf, sync::Arc, time::Duration};

use crate::{fleet::SharedFleet, metrics::Metrics, poll::Fingerprint};

/// Reloads the fleet from `dir` whenever its fingerprint changes, until `shutdown`.
///
/// The baseline is taken when this is called (not when the future is first polled), so a change
/// made right after the initial load is not mistaken for the loaded state.
pub fn watch_fleet_dir(
    dir: PathBuf,
    interval: Duration,
    fleet: SharedFleet,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send,
) -> impl Future<Output = ()> + Send {
    let last = Fingerprint::of_dir(&dir).unwrap_or_default();
    poll_fleet_dir(dir, interval, fleet, metrics, shutdown, last)
}

async fn poll_fleet_dir(
    dir: PathBuf,
    interval: Duration,
    fleet: SharedFleet,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send,
    mut last: Fingerprint,
) {
    let mut ticks = crate::poll::Ticks::new(interval, shutdown);
    while ticks.next().await {
        let current = match Fingerprint::of_dir(&dir) {
            Ok(current) => current,
            Err(error) => {
                tracing::warn!(dir = %dir.display(), %error, "--fleet: cannot read the directory; keeping the loaded fleet");
                continue;
            }
        };
        if current == last {
            continue;
        }
        last = current;
        let load_dir = dir.clone();
        let loaded = tokio::task::spawn_blocking(move || super::load_dir(&load_dir)).await;
        match loaded {
            Ok(Ok(new_fleet)) => {
                new_fleet.observe(&metrics);
                fleet.replace(new_fleet);
                metrics.fleet_reloads_total.with_label_values(&["ok"]).inc();
                tracing::info!(dir = %dir.display(), "fleet reloaded");
            }
            Ok(Err(error)) => {
                metrics.fleet_reloads_total.with_label_values(&["error"]).inc();
                tracing::error!(dir = %dir.display(), %error, "--fleet: reload failed; keeping the previous fleet");
            }
            Err(error) => {
                metrics.fleet_reloads_total.with_label_values(&["error"]).inc();
                tracing::error!(dir = %dir.display(), %error, "--fleet: reload task failed");
            }
        }
    }
}
