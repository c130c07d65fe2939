//! The member index: per Ready member cluster, one list/watch per selected kind through Karmada's
//! cluster proxy, reduced at decode to `(namespace, name, managed, what it runs)` per object. The
//! watches carry whole objects (the restart guard compares specs); only the reduced form is kept,
//! and lists come in pages of 500.

use std::{collections::HashMap, sync::Arc};

use kube::{Api, core::DynamicObject, runtime::watcher};
use parking_lot::Mutex;
use serde::Serialize;
use tokio::{sync::mpsc, task::JoinSet};

use super::{
    Backoff, Change, Connection, KarmadaMetrics, Options, Phases, SyncTracker, apply_members, decode_member,
    resources,
};
use crate::{config::KindRef, fleet::SharedFleet};

/// Where a member cluster's watches stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MemberPhase {
    /// Watches started, initial lists not all in yet.
    Listing,
    /// Every selected kind listed; following changes.
    Synced,
    /// The cluster is not Ready: no watches; its last known entries are kept.
    NotReady,
}

impl MemberPhase {
    /// Metric label.
    pub fn label(self) -> &'static str {
        match self {
            MemberPhase::Listing => "listing",
            MemberPhase::Synced => "synced",
            MemberPhase::NotReady => "not-ready",
        }
    }
}

/// A cluster event for the manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClusterMsg {
    /// A cluster exists, Ready or not.
    Upsert {
        /// Cluster name.
        name: String,
        /// `Ready` condition is `True`.
        ready: bool,
    },
    /// A cluster left (its entries are already gone from the fleet).
    Remove {
        /// Cluster name.
        name: String,
    },
}

/// The readiness source of one member cluster.
pub(crate) fn sync_source(cluster: &str) -> String {
    format!("member/{cluster}")
}

/// What the manager needs.
pub(crate) struct Context {
    pub(crate) connection: Connection,
    pub(crate) fleet: SharedFleet,
    pub(crate) kinds: Vec<KindRef>,
    pub(crate) tracker: SyncTracker,
    pub(crate) metrics: KarmadaMetrics,
    pub(crate) options: Options,
    pub(crate) phases: Phases,
}

/// Starts and stops member watches as clusters come, go and change readiness.
pub(crate) async fn manage(mut rx: mpsc::UnboundedReceiver<ClusterMsg>, ctx: Context) {
    // Dropping a JoinSet aborts its tasks: removing a cluster's entry stops its watches.
    let mut running: HashMap<String, JoinSet<()>> = HashMap::new();
    while let Some(msg) = rx.recv().await {
        match msg {
            ClusterMsg::Upsert { name, ready: true } => {
                if running.contains_key(&name) {
                    continue;
                }
                tracing::info!(cluster = %name, "member cluster Ready: starting its watches");
                running.insert(name.clone(), start_cluster(&ctx, &name));
            }
            ClusterMsg::Upsert { name, ready: false } => {
                if running.remove(&name).is_some() {
                    tracing::warn!(cluster = %name, "member cluster not Ready: watches stopped, last known entries kept");
                }
                ctx.phases.lock().insert(name.clone(), MemberPhase::NotReady);
                // A NotReady cluster must not hold readiness.
                ctx.tracker.done(&sync_source(&name));
            }
            ClusterMsg::Remove { name } => {
                running.remove(&name);
                ctx.phases.lock().remove(&name);
                ctx.fleet.write().clear_member_cluster(&name);
                ctx.tracker.done(&sync_source(&name));
                tracing::info!(cluster = %name, "member cluster left: its entries are forgotten");
            }
        }
        update_gauges(&ctx);
    }
}

fn update_gauges(ctx: &Context) {
    let phases = ctx.phases.lock();
    for phase in [MemberPhase::Listing, MemberPhase::Synced, MemberPhase::NotReady] {
        let n = phases.values().filter(|p| **p == phase).count();
        ctx.metrics
            .member_clusters
            .with_label_values(&[phase.label()])
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }
}

fn start_cluster(ctx: &Context, cluster: &str) -> JoinSet<()> {
    let mut set = JoinSet::new();
    ctx.phases.lock().insert(cluster.to_owned(), MemberPhase::Listing);
    let source = sync_source(cluster);
    // Readiness never waits on a member longer than the timeout.
    {
        let (tracker, source, timeout, cluster) = (
            ctx.tracker.clone(),
            source.clone(),
            ctx.options.member_sync_timeout,
            cluster.to_owned(),
        );
        set.spawn(async move {
            tokio::time::sleep(timeout).await;
            if tracker.pending().contains(&source) {
                tracing::warn!(%cluster, timeout_ms = timeout.as_millis() as u64,
                    "member cluster not listed in time: ready without it; its entries arrive when it answers");
                tracker.done(&source);
            }
        });
    }
    let client = match ctx.connection.member(cluster) {
        Ok(c) => c,
        Err(error) => {
            tracing::error!(%cluster, %error, "cannot build the member proxy client");
            ctx.tracker.done(&source);
            return set;
        }
    };
    let remaining = Arc::new(Mutex::new(ctx.kinds.len()));
    if ctx.kinds.is_empty() {
        ctx.tracker.done(&source);
    }
    for kind in &ctx.kinds {
        let (client, kind, cluster) = (client.clone(), kind.clone(), cluster.to_owned());
        let (fleet, tracker, metrics, options, phases, remaining, source) = (
            ctx.fleet.clone(),
            ctx.tracker.clone(),
            ctx.metrics.clone(),
            ctx.options.clone(),
            ctx.phases.clone(),
            remaining.clone(),
            source.clone(),
        );
        let name = cluster.clone();
        let member_synced = move || {
            let mut left = remaining.lock();
            *left = left.saturating_sub(1);
            if *left == 0 {
                phases.lock().insert(name.clone(), MemberPhase::Synced);
                tracing::info!(cluster = %name, "member cluster listed");
                tracker.done(&source);
            }
        };
        set.spawn(watch_kind(
            client,
            cluster,
            kind,
            fleet,
            metrics,
            options,
            member_synced,
        ));
    }
    set
}

async fn watch_kind(
    client: kube::Client,
    cluster: String,
    kind: KindRef,
    fleet: SharedFleet,
    metrics: KarmadaMetrics,
    options: Options,
    member_synced: impl FnOnce() + Send + 'static,
) {
    let source = format!("member/{cluster}/{}/{}", kind.api_version, kind.kind);
    let mut backoff = Backoff::new(&options);
    let ar = loop {
        match resources::resolve(&client, &kind, options.discovery_timeout).await {
            Ok(ar) => break ar,
            Err(resources::ResolveError::NotServed(what)) => {
                tracing::info!(%cluster, kind = %what, "kind not served by the member cluster: nothing to index");
                member_synced();
                return;
            }
            Err(error) => {
                metrics.watch_errors_total.with_label_values(&["member"]).inc();
                let delay = backoff.next_delay();
                tracing::warn!(%source, %error, retry_in_ms = delay.as_millis() as u64, "member discovery failed; retrying");
                tokio::time::sleep(delay).await;
            }
        }
    };
    let chunk = options.relist_chunk;
    let (ar2, ar3) = (ar.clone(), ar.clone());
    let store = fleet.read().running_store();
    super::drive(
        Api::<DynamicObject>::all_with(client, &ar),
        watcher::Config::default().any_semantic().page_size(500),
        "member".to_owned(),
        metrics,
        backoff,
        move |o| Some(decode_member(&ar3, o, &store)),
        move |change: Change<_>| apply_members(&fleet, &cluster, &ar2, change, chunk),
        member_synced,
    )
    .await;
}
