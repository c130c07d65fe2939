//! The Karmada adapter of the fleet view: kube-rs list/watches on karmada-apiserver and, through
//! Karmada's cluster proxy, metadata-only list/watches on every Ready member cluster. It feeds the
//! same [`Fleet`](crate::fleet::Fleet) the file adapter fills; the engine cannot tell them apart.
//!
//! ```text
//! karmada-apiserver ── PropagationPolicy, ClusterPropagationPolicy (full objects)
//!                   ── Cluster (full), Namespace (metadata)
//!                   ── templates of the selected kinds (metadata)           ──► SharedFleet
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

use std::{
    collections::{BTreeMap, HashSet},
    fmt::Debug,
    path::Path,
    sync::Arc,
    time::Duration,
};

use arc_swap::ArcSwap;
use futures::StreamExt;
use kube::{
    Api, Client, Resource,
    core::{ApiResource, DynamicObject, PartialObjectMeta},
    runtime::watcher::{self, Event},
};
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use tokio::{sync::watch, task::JoinSet};

use super::{ClusterInfo, SharedFleet, TemplateMeta, files::is_karmada_managed, group_of};
use crate::{
    config::{Config, KindRef},
    karmada::{Cluster, Policy, PolicyKind},
};

pub mod members;
pub mod metrics;
pub mod resources;

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

/// A connection that could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kubeconfig could not be read or used.
    #[error("kubeconfig {path}: {source}")]
    Kubeconfig {
        /// The file.
        path: String,
        /// Why.
        source: kube::config::KubeconfigError,
    },
    /// The kube client could not be built from the configuration.
    #[error("cannot build a client for {url}: {source}")]
    Client {
        /// The server URL.
        url: String,
        /// Why.
        source: kube::Error,
    },
    /// A member's proxy URL is not a valid URI.
    #[error("invalid cluster proxy URL {0}")]
    ProxyUrl(String),
}

/// A client of karmada-apiserver plus the configuration it came from, so member-cluster proxy
/// clients can be derived from it (same credentials, URL extended by the proxy path).
#[derive(Clone)]
pub struct Connection {
    /// The karmada-apiserver client.
    pub client: Client,
    config: kube::Config,
}

impl Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("url", &self.config.cluster_url)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Reads a kubeconfig file (its current context) pointing at karmada-apiserver.
    pub async fn from_kubeconfig(path: &Path) -> Result<Self, Error> {
        let shown = path.display().to_string();
        let kubeconfig = kube::config::Kubeconfig::read_from(path).map_err(|source| Error::Kubeconfig {
            path: shown.clone(),
            source,
        })?;
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(|source| Error::Kubeconfig { path: shown, source })?;
        Self::from_config(config)
    }

    /// Uses an existing client configuration.
    pub fn from_config(config: kube::Config) -> Result<Self, Error> {
        let client = Client::try_from(config.clone()).map_err(|source| Error::Client {
            url: config.cluster_url.to_string(),
            source,
        })?;
        Ok(Self { client, config })
    }

    /// The base URL of member `cluster`'s proxy:
    /// `<karmada-apiserver>/apis/cluster.karmada.io/v1alpha1/clusters/<cluster>/proxy`.
    pub fn member_url(&self, cluster: &str) -> String {
        format!(
            "{}/apis/cluster.karmada.io/v1alpha1/clusters/{cluster}/proxy",
            self.config.cluster_url.to_string().trim_end_matches('/')
        )
    }

    /// A client whose requests go to member `cluster` through Karmada's cluster proxy. kube's
    /// base-URI middleware keeps the path of `cluster_url` and appends each request path to it.
    pub fn member(&self, cluster: &str) -> Result<Client, Error> {
        let url = self.member_url(cluster);
        let mut config = self.config.clone();
        config.cluster_url = url.parse().map_err(|_| Error::ProxyUrl(url.clone()))?;
        Client::try_from(config).map_err(|source| Error::Client { url, source })
    }
}

/// Readiness bookkeeping: the sources whose initial list is still pending.
#[derive(Clone)]
pub(crate) struct SyncTracker {
    inner: Arc<Mutex<(HashSet<String>, bool)>>,
    fleet: SharedFleet,
    tx: Arc<watch::Sender<bool>>,
}

impl SyncTracker {
    fn new(fleet: SharedFleet) -> (Self, watch::Receiver<bool>) {
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

    fn seal(&self) {
        self.inner.lock().1 = true;
        self.done("");
    }

    fn pending(&self) -> Vec<String> {
        let mut out: Vec<String> = self.inner.lock().0.iter().cloned().collect();
        out.sort();
        out
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
/// `on_synced` after the first complete list, and backs off on errors.
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

// === decoding and applying (pure with respect to I/O: the benchmark drives these directly) ===

/// Decodes a PropagationPolicy / ClusterPropagationPolicy; `None` (logged) when it does not
/// have the shape Karmada's CRD guarantees.
pub fn decode_policy(obj: DynamicObject) -> Option<Policy> {
    let shown = format!(
        "{}/{}",
        obj.metadata.namespace.as_deref().unwrap_or_default(),
        obj.metadata.name.as_deref().unwrap_or_default()
    );
    let value = serde_json::to_value(obj).ok()?;
    match serde_json::from_value::<Policy>(value) {
        Ok(p) => Some(p),
        Err(error) => {
            tracing::warn!(policy = %shown, %error, "ignoring a policy that does not decode");
            None
        }
    }
}

/// Applies one policy change for `kind` (a re-list replaces every policy of that kind).
pub fn apply_policies(fleet: &SharedFleet, kind: PolicyKind, change: Change<Policy>, chunk: usize) {
    match change {
        Change::Apply(p) => fleet.write().upsert_policy(p),
        Change::Delete(p) => {
            fleet.write().remove_policy(kind, p.namespace(), p.name());
        }
        Change::Relist(list) => {
            let keep: HashSet<(String, String)> = list
                .iter()
                .map(|p| (p.namespace().to_owned(), p.name().to_owned()))
                .collect();
            let stale: Vec<(String, String)> = fleet
                .read()
                .policies()
                .filter(|p| p.policy_kind() == Some(kind))
                .map(|p| (p.namespace().to_owned(), p.name().to_owned()))
                .filter(|k| !keep.contains(k))
                .collect();
            {
                let mut f = fleet.write();
                for (ns, name) in &stale {
                    f.remove_policy(kind, ns, name);
                }
            }
            let mut list = list.into_iter().peekable();
            while list.peek().is_some() {
                let mut f = fleet.write();
                for p in list.by_ref().take(chunk.max(1)) {
                    f.upsert_policy(p);
                }
            }
        }
    }
}

/// A template's metadata as the fleet keeps it.
pub fn decode_template(ar: &ApiResource, obj: PartialObjectMeta<DynamicObject>) -> TemplateMeta {
    let m = obj.metadata;
    TemplateMeta {
        api_version: ar.api_version.clone(),
        kind: ar.kind.clone(),
        namespace: m.namespace.unwrap_or_default(),
        name: m.name.unwrap_or_default(),
        labels: m.labels.unwrap_or_default(),
        annotations: m.annotations.unwrap_or_default(),
    }
}

/// Applies one template change for the kind of `ar`.
pub fn apply_templates(fleet: &SharedFleet, ar: &ApiResource, change: Change<TemplateMeta>, chunk: usize) {
    match change {
        Change::Apply(t) => fleet.write().upsert_template(t),
        Change::Delete(t) => fleet
            .write()
            .remove_template(&t.api_version, &t.kind, &t.namespace, &t.name),
        Change::Relist(list) => {
            let keep: HashSet<(&str, &str)> = list
                .iter()
                .map(|t| (t.namespace.as_str(), t.name.as_str()))
                .collect();
            let stale: Vec<(String, String)> = fleet
                .read()
                .templates_of_kind(&ar.api_version, &ar.kind)
                .into_iter()
                .filter(|t| !keep.contains(&(t.namespace.as_str(), t.name.as_str())))
                .map(|t| (t.namespace.clone(), t.name.clone()))
                .collect();
            drop(keep);
            {
                let mut f = fleet.write();
                for (ns, name) in &stale {
                    f.remove_template(&ar.api_version, &ar.kind, ns, name);
                }
            }
            let mut list = list.into_iter().peekable();
            while list.peek().is_some() {
                let mut f = fleet.write();
                for t in list.by_ref().take(chunk.max(1)) {
                    f.upsert_template(t);
                }
            }
        }
    }
}

/// Decodes a Cluster; `None` (logged) when it does not decode.
pub fn decode_cluster(obj: DynamicObject) -> Option<Cluster> {
    let name = obj.metadata.name.clone().unwrap_or_default();
    let value = serde_json::to_value(obj).ok()?;
    match serde_json::from_value::<Cluster>(value) {
        Ok(c) => Some(c),
        Err(error) => {
            tracing::warn!(cluster = %name, %error, "ignoring a Cluster that does not decode");
            None
        }
    }
}

/// A member-cluster object as the member index keeps it: namespace, name, managed flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberObject {
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Whether Karmada manages this copy (see [`is_karmada_managed`]).
    pub managed: bool,
}

/// Reduces a member object's metadata to what the index keeps.
pub fn decode_member(obj: PartialObjectMeta<DynamicObject>) -> MemberObject {
    static EMPTY: BTreeMap<String, String> = BTreeMap::new();
    let m = obj.metadata;
    let managed = is_karmada_managed(
        m.labels.as_ref().unwrap_or(&EMPTY),
        m.annotations.as_ref().unwrap_or(&EMPTY),
    );
    MemberObject {
        namespace: m.namespace.unwrap_or_default(),
        name: m.name.unwrap_or_default(),
        managed,
    }
}

/// Applies one member-object change of `cluster` for the kind of `ar`.
pub fn apply_members(
    fleet: &SharedFleet,
    cluster: &str,
    ar: &ApiResource,
    change: Change<MemberObject>,
    chunk: usize,
) {
    let group = group_of(&ar.api_version);
    match change {
        Change::Apply(o) => {
            fleet
                .write()
                .set_member(cluster, group, &ar.kind, &o.namespace, &o.name, o.managed);
        }
        Change::Delete(o) => {
            fleet
                .write()
                .remove_member(cluster, group, &ar.kind, &o.namespace, &o.name);
        }
        Change::Relist(list) => {
            {
                let keep: HashSet<(&str, &str)> = list
                    .iter()
                    .map(|o| (o.namespace.as_str(), o.name.as_str()))
                    .collect();
                fleet
                    .write()
                    .retain_member_objects(cluster, group, &ar.kind, |ns, name| keep.contains(&(ns, name)));
            }
            for part in list.chunks(chunk.max(1)) {
                let mut f = fleet.write();
                for o in part {
                    f.set_member(cluster, group, &ar.kind, &o.namespace, &o.name, o.managed);
                }
            }
        }
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

fn apply_clusters(fleet: &SharedFleet, change: Change<Cluster>) -> Vec<members::ClusterMsg> {
    let mut msgs = Vec::new();
    match change {
        Change::Apply(c) => {
            let info = ClusterInfo::from(&c);
            msgs.push(members::ClusterMsg::Upsert {
                name: info.name.clone(),
                ready: info.ready,
            });
            fleet.write().upsert_cluster(info);
        }
        Change::Delete(c) => {
            fleet.write().remove_cluster(c.name());
            msgs.push(members::ClusterMsg::Remove {
                name: c.name().to_owned(),
            });
        }
        Change::Relist(list) => {
            let keep: HashSet<&str> = list.iter().map(Cluster::name).collect();
            let stale: Vec<String> = fleet
                .read()
                .clusters()
                .map(|c| c.name.clone())
                .filter(|n| !keep.contains(n.as_str()))
                .collect();
            let mut f = fleet.write();
            for name in stale {
                f.remove_cluster(&name);
                msgs.push(members::ClusterMsg::Remove { name });
            }
            for c in &list {
                let info = ClusterInfo::from(c);
                msgs.push(members::ClusterMsg::Upsert {
                    name: info.name.clone(),
                    ready: info.ready,
                });
                f.upsert_cluster(info);
            }
        }
    }
    msgs
}

fn apply_namespaces(fleet: &SharedFleet, change: Change<kube::core::ObjectMeta>) {
    match change {
        Change::Apply(m) => {
            let name = m.name.unwrap_or_default();
            fleet
                .write()
                .upsert_namespace(&name, m.labels.unwrap_or_default());
        }
        Change::Delete(m) => fleet
            .write()
            .remove_namespace(m.name.as_deref().unwrap_or_default()),
        Change::Relist(list) => {
            let keep: HashSet<&str> = list.iter().filter_map(|m| m.name.as_deref()).collect();
            let mut f = fleet.write();
            let stale: Vec<String> = f
                .namespace_names()
                .filter(|n| !keep.contains(n))
                .map(str::to_owned)
                .collect();
            for n in stale {
                f.remove_namespace(&n);
            }
            for m in list {
                let name = m.name.unwrap_or_default();
                f.upsert_namespace(&name, m.labels.unwrap_or_default());
            }
        }
    }
}

/// Member watch states, shared with [`Running`].
pub(crate) type Phases = Arc<Mutex<BTreeMap<String, members::MemberPhase>>>;
