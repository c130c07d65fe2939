//! Pollers that keep the fleet view and the engine config current from files.
//!
//! Both compare what is on disk (following symlinks, so a ConfigMap volume's `..data` swap is
//! seen) with what was last loaded, and reload only on a change. A reload that fails keeps the
//! previous state, logs the error and counts `{result="error"}`.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
    time::{Duration, SystemTime},
};

use arc_swap::ArcSwap;

use crate::{
    config::Config,
    fleet::{SharedFleet, files},
    metrics::Metrics,
};

/// Deepest directory level walked (guards against symlink loops).
const MAX_DEPTH: usize = 16;

/// What identifies the content of a directory tree: every file's path, size, mtime and inode.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Fingerprint(Vec<(PathBuf, u64, Option<SystemTime>, u64)>);

impl Fingerprint {
    /// Walks `dir` (following symlinks) and records each regular file.
    pub fn of_dir(dir: &Path) -> std::io::Result<Self> {
        let mut entries = Vec::new();
        walk(dir, 0, &mut entries)?;
        entries.sort();
        Ok(Self(entries))
    }
}

fn walk(
    dir: &Path,
    depth: usize,
    out: &mut Vec<(PathBuf, u64, Option<SystemTime>, u64)>,
) -> std::io::Result<()> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        // Follows symlinks: a swapped `..data` changes the target's inode and mtime.
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            walk(&path, depth + 1, out)?;
        } else {
            use std::os::unix::fs::MetadataExt;
            out.push((path, meta.len(), meta.modified().ok(), meta.ino()));
        }
    }
    Ok(())
}

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
        let loaded = tokio::task::spawn_blocking(move || files::load_dir(&load_dir)).await;
        match loaded {
            Ok(Ok(new_fleet)) => {
                metrics.observe_fleet(&new_fleet);
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

/// Reloads the engine config from `path` whenever its bytes change, until `shutdown`.
/// The baseline is read when this is called, like [`watch_fleet_dir`].
pub fn watch_config(
    path: PathBuf,
    interval: Duration,
    config: Arc<ArcSwap<Config>>,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send,
) -> impl Future<Output = ()> + Send {
    let last = std::fs::read(&path).ok();
    poll_config(path, interval, config, metrics, shutdown, last)
}

async fn poll_config(
    path: PathBuf,
    interval: Duration,
    config: Arc<ArcSwap<Config>>,
    metrics: Arc<Metrics>,
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
                metrics.config_reloads_total.with_label_values(&["ok"]).inc();
                tracing::info!(config = %path.display(), "config reloaded");
            }
            Err(error) => {
                metrics.config_reloads_total.with_label_values(&["error"]).inc();
                tracing::error!(%error, "--config: reload failed; keeping the previous config");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_sees_a_data_symlink_swap() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir(root.join("..v1")).unwrap();
        std::fs::write(root.join("..v1/clusters.yaml"), "a").unwrap();
        std::os::unix::fs::symlink("..v1", root.join("..data")).unwrap();
        std::os::unix::fs::symlink("..data/clusters.yaml", root.join("clusters.yaml")).unwrap();
        let before = Fingerprint::of_dir(root).unwrap();
        std::fs::create_dir(root.join("..v2")).unwrap();
        std::fs::write(root.join("..v2/clusters.yaml"), "b").unwrap();
        std::os::unix::fs::symlink("..v2", root.join("..data_tmp")).unwrap();
        std::fs::rename(root.join("..data_tmp"), root.join("..data")).unwrap();
        std::fs::remove_dir_all(root.join("..v1")).unwrap();
        assert_ne!(before, Fingerprint::of_dir(root).unwrap());
    }
}
