//! The Karmada adapter of the fleet view: kube-rs list/watches on karmada-apiserver and, through
//! Karmada's cluster proxy, metadata-only list/watches on every Ready member cluster. It feeds the
//! same [`Fleet`](crate::fleet::Fleet) the file adapter fills; the engine cannot tell them apart.
//!
//! ```text
//! karmada-apiserver ── PropagationPolicy, ClusterPropagationPolicy (full objects)
//!                   ── Cluster (full), Namespace (metadata)
//!                   ── templates of the selected kinds (metadata; ConfigMaps and
//!                      Secrets whole, their data kept as digests)             ──► SharedFleet
//!  …/clusters/<c>/proxy ── selected kinds in member <c> (metadata: managed?) ──►   (member index)
//! ```
//!
//! - Every watch is a `kube::runtime::watcher`: initial list, then watch from its
//!   resourceVersion with bookmarks; a 410 Gone re-lists and replaces exactly that source's part of
//!   the view (objects deleted while disconnected disappear). Errors back off exponentially
//!   (`Options::backoff_*`) and resume; they never touch the admission path, which only reads the
//!   fleet.
//! - Readiness ([`Running::is_synced`], and `Fleet::is_synced`) flips once policies, clusters,
//!   namespaces and the templates of every selected kind have been listed, and every member
//!   cluster that was Ready at start has been listed or has had `Options::member_sync_timeout` to
//!   do so (an unreachable member must not keep the webhook unready forever).
//! - Member clusters are followed: a cluster that joins or turns Ready gets watches, one that
//!   turns NotReady loses them but keeps its last known entries (its workloads still exist; a
//!   stale "managed" flag errs on the side of denying re-promotion), one that leaves is forgotten.
//! - Memory: a member entry is `(group, kind, namespace, name)` → `[(cluster index, managed)]`;
//!   labels, annotations and everything else are dropped as soon as an event is decoded.

use std::{collections::BTreeMap, fmt::Debug, sync::Arc, time::Duration};

use arc_swap::ArcSwap;
use kube::{
    Api, Client,
    core::{DynamicObject, PartialObjectMeta},
    runtime::watcher::{self},
};
use parking_lot::Mutex;
use tokio::{sync::watch, task::JoinSet};

use super::SharedFleet;
use crate::{
    config::{Config, KindRef},
    karmada::PolicyKind,
};

mod apply;
mod connection;
mod drive;
pub mod members;
pub mod metrics;
pub mod resources;

pub use apply::{
    MemberObject, TemplateObject, apply_members, apply_policies, apply_template_objects, apply_templates,
    decode_cluster, decode_member, decode_policy, decode_template, decode_template_object,
};
use apply::{apply_clusters, apply_namespaces};
pub use connection::{Connection, Error};
pub use drive::Change;
pub(crate) use drive::{Backoff, SyncTracker, drive};
pub use metrics::KarmadaMetrics;

/// Tuning of the adapter. The defaults suit production; tests shorten the timers.
#[derive(Debug, Clone)]
pub struct Options {
    /// First delay after a list/watch error.
    pub backoff_initial: Duration,
    /// Longest delay between retries.
    pub backoff_max: Duration,
    /// How long readiness waits for a member cluster that was Ready at start.
    pub member_sync_timeout: Duration,
    /// Objects written to the fleet per write-lock hold while applying a re-list.
    pub relist_chunk: usize,
    /// Watch member clusters (the member index). Off only for tests of the control-plane part.
    pub watch_members: bool,
    /// Longest wait for one API discovery call (kinds outside the built-in table), in
    /// karmada-apiserver or through a member's proxy; a slow call is retried with backoff.
    /// `serve` sets it from the config's `discovery.timeout`.
    pub discovery_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            backoff_initial: Duration::from_millis(500),
            backoff_max: Duration::from_secs(30),
            member_sync_timeout: Duration::from_secs(30),
            relist_chunk: 1000,
            watch_members: true,
            discovery_timeout: Duration::from_secs(2),
        }
    }
}

/// The running adapter: its tasks stop when this is dropped.
pub struct Running {
    synced: watch::Receiver<bool>,
    tracker: SyncTracker,
    members: Arc<Mutex<BTreeMap<String, members::MemberPhase>>>,
    connection: Connection,
    _tasks: JoinSet<()>,
}

impl Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("synced", &*self.synced.borrow())
            .field("members", &*self.members.lock())
            .finish_non_exhaustive()
    }
}

impl Running {
    /// Whether every initial list has completed (readiness).
    pub fn is_synced(&self) -> bool {
        *self.synced.borrow()
    }

    /// A receiver that turns `true` once synced.
    pub fn synced(&self) -> watch::Receiver<bool> {
        self.synced.clone()
    }

    /// Waits until synced, at most `timeout`; returns whether it is.
    pub async fn wait_synced(&self, timeout: Duration) -> bool {
        let mut rx = self.synced.clone();
        tokio::time::timeout(timeout, rx.wait_for(|s| *s)).await.is_ok()
    }

    /// Sources whose initial list is still pending (for the not-ready log line).
    pub fn pending(&self) -> Vec<String> {
        self.tracker.pending()
    }

    /// The watch state of every known member cluster.
    pub fn member_phases(&self) -> BTreeMap<String, members::MemberPhase> {
        self.members.lock().clone()
    }

    /// The karmada-apiserver connection.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }
}

// === start ===

/// Starts every watch and returns at once (nothing here waits on the API server). The fleet
/// becomes synced when the initial lists are in; see the module docs.
pub fn start(
    connection: Connection,
    fleet: SharedFleet,
    config: Arc<ArcSwap<Config>>,
    options: Options,
    metrics: KarmadaMetrics,
) -> Running {
    let (tracker, synced) = SyncTracker::new(fleet.clone());
    let mut tasks = JoinSet::new();
    let client = connection.client.clone();
    let kinds: Vec<KindRef> = config.load().kinds.clone();
    let phases = Arc::new(Mutex::new(BTreeMap::new()));

    // Member manager first: the cluster watch feeds it.
    let (cluster_tx, cluster_rx) = tokio::sync::mpsc::unbounded_channel();
    if options.watch_members {
        tasks.spawn(members::manage(
            cluster_rx,
            members::Context {
                connection: connection.clone(),
                fleet: fleet.clone(),
                kinds: kinds.clone(),
                tracker: tracker.clone(),
                metrics: metrics.clone(),
                options: options.clone(),
                phases: phases.clone(),
            },
        ));
    }

    for kind in [
        PolicyKind::PropagationPolicy,
        PolicyKind::ClusterPropagationPolicy,
    ] {
        let Some(ar) = resources::known(crate::karmada::policy::API_VERSION, kind.as_str()) else {
            continue;
        };
        let source = ar.plural.clone();
        tracker.add(&source);
        let (fleet, tracker, chunk) = (fleet.clone(), tracker.clone(), options.relist_chunk);
        tasks.spawn(drive(
            Api::<DynamicObject>::all_with(client.clone(), &ar),
            watcher::Config::default(),
            source.clone(),
            metrics.clone(),
            Backoff::new(&options),
            decode_policy,
            move |change| apply_policies(&fleet, kind, change, chunk),
            move || tracker.done(&source),
        ));
    }

    if let Some(ar) = resources::known(crate::karmada::cluster::API_VERSION, "Cluster") {
        tracker.add("clusters");
        let (fleet, tracker_sync, tracker) = (fleet.clone(), tracker.clone(), tracker.clone());
        let watch_members = options.watch_members;
        tasks.spawn(drive(
            Api::<DynamicObject>::all_with(client.clone(), &ar),
            watcher::Config::default(),
            "clusters".to_owned(),
            metrics.clone(),
            Backoff::new(&options),
            decode_cluster,
            move |change| {
                let msgs = apply_clusters(&fleet, change);
                if watch_members {
                    for msg in msgs {
                        if let members::ClusterMsg::Upsert { name, ready: true } = &msg {
                            // Clusters Ready at the first list hold readiness until listed.
                            tracker_sync.add(&members::sync_source(name));
                        }
                        let _ = cluster_tx.send(msg);
                    }
                }
            },
            move || tracker.done("clusters"),
        ));
    }

    if let Some(ar) = resources::known("v1", "Namespace") {
        tracker.add("namespaces");
        let (fleet, tracker) = (fleet.clone(), tracker.clone());
        tasks.spawn(drive(
            Api::<PartialObjectMeta<DynamicObject>>::all_with(client.clone(), &ar),
            watcher::Config::default(),
            "namespaces".to_owned(),
            metrics.clone(),
            Backoff::new(&options),
            |o: PartialObjectMeta<DynamicObject>| Some(o.metadata),
            move |change| apply_namespaces(&fleet, change),
            move || tracker.done("namespaces"),
        ));
    }

    for kind in kinds {
        let source = format!("templates/{}/{}", kind.api_version, kind.kind);
        tracker.add(&source);
        tasks.spawn(watch_templates(
            client.clone(),
            kind,
            source,
            fleet.clone(),
            tracker.clone(),
            metrics.clone(),
            options.clone(),
        ));
    }
    tracker.seal();
    Running {
        synced,
        tracker,
        members: phases,
        connection,
        _tasks: tasks,
    }
}

async fn watch_templates(
    client: Client,
    kind: KindRef,
    source: String,
    fleet: SharedFleet,
    tracker: SyncTracker,
    metrics: KarmadaMetrics,
    options: Options,
) {
    let mut backoff = Backoff::new(&options);
    let ar = loop {
        match resources::resolve(&client, &kind, options.discovery_timeout).await {
            Ok(ar) => break ar,
            Err(resources::ResolveError::NotServed(what)) => {
                tracing::warn!(kind = %what, "selected kind is not served by karmada-apiserver: no templates of it to watch");
                tracker.done(&source);
                return;
            }
            Err(error) => {
                metrics.watch_errors_total.with_label_values(&[&source]).inc();
                let delay = backoff.next_delay();
                tracing::warn!(%source, %error, retry_in_ms = delay.as_millis() as u64, "discovery failed; retrying");
                tokio::time::sleep(delay).await;
            }
        }
    };
    let chunk = options.relist_chunk;
    let ar2 = ar.clone();
    if crate::fleet::karmada_keeps_content(&ar.api_version, &ar.kind) {
        // ConfigMaps and Secrets are read whole: their data (kept as digests) is compared with
        // the members' copies before a takeover's propagateDeps overwrites them.
        let store = fleet.read().running_store();
        drive(
            Api::<DynamicObject>::all_with(client, &ar),
            watcher::Config::default(),
            source.clone(),
            metrics,
            backoff,
            move |o| Some(decode_template_object(&ar2, o, &store)),
            move |change| apply_template_objects(&fleet, &ar, change, chunk),
            move || tracker.done(&source),
        )
        .await;
        return;
    }
    drive(
        Api::<PartialObjectMeta<DynamicObject>>::all_with(client, &ar),
        watcher::Config::default(),
        source.clone(),
        metrics,
        backoff,
        move |o| Some(decode_template(&ar2, o)),
        move |change| apply_templates(&fleet, &ar, change, chunk),
        move || tracker.done(&source),
    )
    .await;
}

/// Member watch states, shared with [`Running`].
pub(crate) type Phases = Arc<Mutex<BTreeMap<String, members::MemberPhase>>>;
