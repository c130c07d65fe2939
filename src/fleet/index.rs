//! The [`Fleet`]: its indexes (filled by the other files of this module), object counts,
//! clusters and namespaces.

use std::{collections::BTreeMap, sync::Arc};

// The indexes are looked up several times per review with keys of 30-80 bytes: foldhash
// (hashbrown's default hasher, randomly seeded at startup, so names chosen by tenants cannot be
// aimed at collisions without the seed) instead of std's SipHash took a policy review from 10.3
// to 9.3 µs in process (BENCHMARKS.md).
use foldhash::{HashMap, HashSet};

use serde::Serialize;

use super::{keys::KeySet, members::Copies};
use crate::{
    karmada::{Labels, Policy, keys},
    metrics::Metrics,
    rules::view::{ClusterInfo, TemplateMeta},
};

/// Object counts, for the `fleet_objects` gauge and `check` output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    /// PropagationPolicies + ClusterPropagationPolicies.
    pub policies: usize,
    /// Resource templates in Karmada.
    pub templates: usize,
    /// Member clusters.
    pub clusters: usize,
    /// Member index entries (objects, not copies).
    pub member_entries: usize,
}

/// Everything the engine knows about the Karmada control plane and its member clusters.
#[derive(Debug, Default)]
pub struct Fleet {
    pub(super) synced: bool,
    pub(super) policies: HashMap<Box<str>, Arc<Policy>>,
    /// Selector buckets: `join(apiVersion, kind, namespace, name)` → policies with such a selector.
    /// PP buckets always carry the (effective) namespace; CPP buckets may have empty namespace/name.
    pub(super) pp_buckets: HashMap<Box<str>, Vec<Arc<Policy>>>,
    pub(super) cpp_buckets: HashMap<Box<str>, Vec<Arc<Policy>>>,
    /// Batch-tier policies with unnamed selectors by `join(apiVersion, kind, namespace)` (namespace
    /// empty for a CPP selector without one): the guardrails' competitor search.
    pub(super) batch_unnamed: HashMap<Box<str>, Vec<Arc<Policy>>>,
    /// Template keys by `join(apiVersion, kind, namespace)`. A template's key is one shared
    /// string in all four template indexes.
    pub(super) templates_by_scope: HashMap<String, HashSet<Arc<str>>>,
    /// Template keys by `join(apiVersion, kind, namespace, label_slot(k, v))`.
    pub(super) templates_by_label: HashMap<Box<str>, KeySet>,
    pub(super) templates: HashMap<Arc<str>, TemplateMeta>,
    /// The content of the ConfigMap and Secret templates (data digests, as member copies are
    /// kept), by template key: a dependency in Karmada is compared with the members' copies.
    pub(super) karmada_copies: HashMap<Arc<str>, crate::rules::restart::RunningCopy>,
    /// Policy key → keys of the templates whose claim names it.
    pub(super) claims: HashMap<Box<str>, KeySet>,
    pub(super) clusters: BTreeMap<String, ClusterInfo>,
    pub(super) namespaces: HashMap<String, Labels>,
    /// Interned cluster names for the member index (index = `MemberCopy::cluster`).
    pub(super) cluster_names: Vec<String>,
    pub(super) members: HashMap<Box<str>, Copies>,
    /// What the member copies run (restart guard): layouts shared, paths interned.
    pub(super) running: super::running::RunningStore,
}

impl Fleet {
    /// An empty, unsynced view.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the initial state has been loaded (file) or listed (Karmada).
    pub fn is_synced(&self) -> bool {
        self.synced
    }

    /// Marks the initial state as complete: readiness flips, decisions stop failing safe.
    pub fn mark_synced(&mut self) {
        self.synced = true;
    }

    /// An empty view that counts as synced.
    pub fn synced_empty() -> Self {
        Self {
            synced: true,
            ..Self::default()
        }
    }

    /// Sets the `fleet_synced` and `fleet_objects` gauges from this view.
    pub fn observe(&self, metrics: &Metrics) {
        let c = self.counts();
        metrics.observe_fleet(
            self.synced,
            &[
                ("policies", c.policies),
                ("templates", c.templates),
                ("clusters", c.clusters),
                ("member_entries", c.member_entries),
            ],
        );
    }

    /// The store member copies are kept with ([`crate::fleet::RunningStore::keep`]); it has its
    /// own lock, so adapters reduce objects before taking the fleet's.
    pub fn running_store(&self) -> super::running::RunningStore {
        self.running.clone()
    }

    /// Object counts.
    pub fn counts(&self) -> Counts {
        Counts {
            policies: self.policies.len(),
            templates: self.templates.len(),
            clusters: self.clusters.len(),
            member_entries: self.members.len(),
        }
    }

    /// Adds or replaces a cluster.
    pub fn upsert_cluster(&mut self, cluster: ClusterInfo) {
        self.intern_cluster(&cluster.name);
        self.clusters.insert(cluster.name.clone(), cluster);
    }

    /// Removes a cluster and its member index entries.
    pub fn remove_cluster(&mut self, name: &str) {
        self.clusters.remove(name);
        self.clear_member_cluster(name);
    }

    /// A cluster by name.
    pub fn cluster(&self, name: &str) -> Option<&ClusterInfo> {
        self.clusters.get(name)
    }

    /// Every cluster, by name.
    pub fn clusters(&self) -> impl Iterator<Item = &ClusterInfo> {
        self.clusters.values()
    }

    /// Sets a namespace's labels.
    pub fn upsert_namespace(&mut self, name: &str, labels: Labels) {
        self.namespaces.insert(name.to_owned(), labels);
    }

    /// Removes a namespace.
    pub fn remove_namespace(&mut self, name: &str) {
        self.namespaces.remove(name);
    }

    /// Names of the namespaces whose labels are known.
    pub fn namespace_names(&self) -> impl Iterator<Item = &str> {
        self.namespaces.keys().map(String::as_str)
    }

    /// Whether the namespace carries `karmada-takeover.io/admission: disabled`.
    pub fn namespace_disabled(&self, name: &str) -> bool {
        self.namespaces
            .get(name)
            .and_then(|l| l.get(keys::ADMISSION))
            .is_some_and(|v| v == "disabled")
    }
}
