//! How every watch runs: one `kube::runtime::watcher` driven forever, its first complete list
//! reported to the readiness tracker, the memory each complete list freed handed back to the OS,
//! errors retried with exponential backoff.

use std::{collections::HashSet, fmt::Debug, sync::Arc, time::Duration};

use futures::StreamExt;
use kube::{
    Api, Resource,
    runtime::watcher::{self, Event},
};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use tokio::sync::watch;

use super::{KarmadaMetrics, Options};
use crate::fleet::SharedFleet;

/// Readiness bookkeeping: the sources whose initial list is still pending.
#[derive(Clone)]
pub(crate) struct SyncTracker {
    inner: Arc<Mutex<(HashSet<String>, bool)>>,
    fleet: SharedFleet,
    tx: Arc<watch::Sender<bool>>,
}

impl SyncTracker {
    pub(super) fn new(fleet: SharedFleet) -> (Self, watch::Receiver<bool>) {
        let (tx, rx) = watch::channel(false);
        (
            Self {
                inner: Arc::new(Mutex::new((HashSet::new(), false))),
                fleet,
                tx: Arc::new(tx),
            },
            rx,
        )
    }

    pub(crate) fn add(&self, source: &str) {
        if !*self.tx.borrow() {
            self.inner.lock().0.insert(source.to_owned());
        }
    }

    pub(crate) fn done(&self, source: &str) {
        let now_complete = {
            let mut inner = self.inner.lock();
            inner.0.remove(source);
            inner.1 && inner.0.is_empty()
        };
        if now_complete && !*self.tx.borrow() {
            self.fleet.write().mark_synced();
            tracing::info!(counts = ?self.fleet.read().counts(), "fleet state synced from karmada-apiserver");
            self.tx.send_replace(true);
        }
    }

    pub(super) fn seal(&self) {
        self.inner.lock().1 = true;
        self.done("");
    }

    pub(crate) fn pending(&self) -> Vec<String> {
        let mut out: Vec<String> = self.inner.lock().0.iter().cloned().collect();
        out.sort();
        out
    }
}

/// One change from a watch, after decoding.
#[derive(Debug)]
pub enum Change<T> {
    /// Created or updated.
    Apply(T),
    /// Deleted.
    Delete(T),
    /// The complete current set (initial list or re-list after 410 Gone).
    Relist(Vec<T>),
}

/// Exponential backoff between retries.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub(crate) fn new(options: &Options) -> Self {
        Self {
            initial: options.backoff_initial,
            max: options.backoff_max,
            next: options.backoff_initial,
        }
    }

    pub(crate) fn reset(&mut self) {
        self.next = self.initial;
    }

    pub(crate) fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        d
    }
}

/// Runs one watcher forever: decodes events with `decode`, hands them to `sink`, calls
/// `on_synced` after the first complete list, and backs off on errors. After each complete list
/// has been applied, the memory it freed is handed back ([`crate::memory::release_freed`]).
// The three closures are the point of this function; bundling them into a struct would only
// rename the arguments.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn drive<K, T>(
    api: Api<K>,
    config: watcher::Config,
    source: String,
    metrics: KarmadaMetrics,
    mut backoff: Backoff,
    mut decode: impl FnMut(K) -> Option<T> + Send,
    mut sink: impl FnMut(Change<T>) + Send,
    on_synced: impl FnOnce() + Send,
) where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    T: Send,
{
    let stream = watcher::watcher(api, config);
    futures::pin_mut!(stream);
    let mut buffer: Vec<T> = Vec::new();
    let mut on_synced = Some(on_synced);
    while let Some(item) = stream.next().await {
        match item {
            Ok(Event::Init) => buffer.clear(),
            Ok(Event::InitApply(obj)) => buffer.extend(decode(obj)),
            Ok(Event::InitDone) => {
                sink(Change::Relist(std::mem::take(&mut buffer)));
                // The list and its decoded buffer are dropped: hand their pages back to the OS
                // instead of keeping the re-list's peak resident (crate::memory).
                crate::memory::release_freed();
                backoff.reset();
                if let Some(f) = on_synced.take() {
                    f();
                }
            }
            Ok(Event::Apply(obj)) => {
                backoff.reset();
                if let Some(t) = decode(obj) {
                    sink(Change::Apply(t));
                }
            }
            Ok(Event::Delete(obj)) => {
                backoff.reset();
                if let Some(t) = decode(obj) {
                    sink(Change::Delete(t));
                }
            }
            Err(error) => {
                let delay = backoff.next_delay();
                metrics.watch_errors_total.with_label_values(&[&source]).inc();
                tracing::warn!(%source, %error, retry_in_ms = delay.as_millis() as u64, "list/watch failed; retrying");
                tokio::time::sleep(delay).await;
            }
        }
    }
}
