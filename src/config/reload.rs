//! Keeps the engine config current: polls the `--config` file (following symlinks, so a
//! ConfigMap volume's `..data` swap is seen) and reloads it when its bytes change. A reload that
//! fails keeps the previous config, logs the error and counts `{result="error"}`.

use std::{path::PathBuf, sync::Arc, time::Duration};

use arc_swap::ArcSwap;
use prometheus::IntCounterVec;

use super::Config;

/// Reloads the engine config from `path` whenever its bytes change, until `shutdown`.
/// The baseline is read when this is called (not when the future is first polled), so a change
/// made right after the initial load is not mistaken for the loaded state. `reloads` is the
/// `config_reloads_total` counter, labelled by result.
pub fn watch_config(
    path: PathBuf,
    interval: Duration,
    config: Arc<ArcSwap<Config>>,
    reloads: IntCounterVec,
    shutdown: impl Future<Output = ()> + Send,
) -> impl Future<Output = ()> + Send {
    let last = std::fs::read(&path).ok();
    poll_config(path, interval, config, reloads, shutdown, last)
}

async fn poll_config(
    path: PathBuf,
    interval: Duration,
    config: Arc<ArcSwap<Config>>,
    reloads: IntCounterVec,
    shutdown: impl Future<Output = ()> + Send,
    mut last: Option<Vec<u8>>,
) {
    let mut ticks = crate::poll::Ticks::new(interval, shutdown);
    while ticks.next().await {
        let current = std::fs::read(&path).ok();
        if current == last {
            continue;
        }
        last = current;
        match Config::load(&path) {
            Ok(new_config) => {
                config.store(Arc::new(new_config));
                reloads.with_label_values(&["ok"]).inc();
                tracing::info!(config = %path.display(), "config reloaded");
            }
            Err(error) => {
                reloads.with_label_values(&["error"]).inc();
                tracing::error!(%error, "--config: reload failed; keeping the previous config");
            }
        }
    }
}
