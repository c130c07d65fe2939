//! Periodic polling until shutdown: the shape of every reload loop (TLS files, fleet directory,
//! config file). Polling and comparing, not inotify, because kubelet updates mounted Secrets and
//! ConfigMaps by swapping a `..data` symlink, which a watch on the file itself never sees.

use std::{
    future::Future,
    path::{Path, PathBuf},
    pin::Pin,
    time::{Duration, SystemTime},
};

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
