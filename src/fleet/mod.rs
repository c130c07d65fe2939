//! The fleet view: the read-only state the engine queries, and the adapters that fill it.
//!
//! One [`Fleet`] holds what decisions need and nothing more:
//! - policies (PP and CPP), indexed by the selectors they carry: `(apiVersion, kind, namespace, name)`
//!   buckets, so finding the candidates for a template costs a few hash lookups whatever the
//!   number of policies;
//! - resource templates in Karmada (metadata only: labels and annotations carry claims and markers),
//!   and which templates each policy claims;
//! - clusters (name, labels, readiness), namespaces (labels, for the opt-out label);
//! - the member index: `(group, kind, namespace, name)` → the member clusters that hold the object,
//!   and whether Karmada manages it there.
//!
//! Adapters ([`files`], and the Karmada watches) call the `upsert_*` / `remove_*` methods; the
//! engine only reads. Keys are plain strings joined by NUL, which cannot occur in Kubernetes names.

use std::{collections::BTreeMap, sync::Arc};

// The indexes are looked up several times per review with keys of 30-80 bytes: foldhash
// (hashbrown's default hasher, randomly seeded at startup, so names chosen by tenants cannot be
// aimed at collisions without the seed) instead of std's SipHash took a policy review from 10.3
// to 9.3 µs in process (BENCHMARKS.md).
use foldhash::{HashMap, HashSet};

use parking_lot::RwLock;
use serde::Serialize;

use crate::{
    karmada::{Cluster, Policy, PolicyKind, keys},
    rules::{
        claim::{PolicySource, Template},
        selector::Labels,
        tier::{Tier, tier_of},
    },
};

pub mod files;
pub mod karmada;

/// Metadata of a resource template stored in Karmada: what claims and markers live in.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateMeta {
    /// `apps/v1`...
    pub api_version: String,
    /// `Deployment`...
    pub kind: String,
    /// Empty for cluster-scoped templates.
    pub namespace: String,
    /// Template name.
    pub name: String,
    /// `metadata.labels`.
    pub labels: Labels,
    /// `metadata.annotations`.
    pub annotations: Labels,
}

impl TemplateMeta {
    /// The claim-resolution view of this template.
    pub fn as_template(&self) -> Template<'_> {
        Template::new(
            &self.api_version,
            &self.kind,
            &self.namespace,
            &self.name,
            Some(&self.labels),
            Some(&self.annotations),
        )
    }

    fn key(&self) -> String {
        join(&[&self.api_version, &self.kind, &self.namespace, &self.name])
    }
}

/// A member cluster as decisions see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterInfo {
    /// Cluster name.
    pub name: String,
    /// Cluster labels.
    pub labels: Labels,
    /// `Ready` condition is `True`.
    pub ready: bool,
}

impl From<&Cluster> for ClusterInfo {
    fn from(c: &Cluster) -> Self {
        Self {
            name: c.name().to_owned(),
            labels: c.metadata.labels.clone().unwrap_or_default(),
            ready: c.is_ready(),
        }
    }
}

/// One member cluster's copy of a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct MemberCopy {
    /// Index into the fleet's cluster name table.
    #[serde(skip)]
    pub cluster: u16,
    /// Whether the copy carries `karmada.io/managed=true` (or Work annotations).
    pub managed: bool,
}

/// The copies of one member object. Almost every object runs in one cluster, so that case is
/// stored inline: the member index is the largest part of the view (100,000 entries and more).
#[derive(Debug, Clone)]
enum Copies {
    One(MemberCopy),
    Many(Vec<MemberCopy>),
}

impl Copies {
    fn as_slice(&self) -> &[MemberCopy] {
        match self {
            Copies::One(c) => std::slice::from_ref(c),
            Copies::Many(v) => v,
        }
    }

    fn set(&mut self, copy: MemberCopy) {
        match self {
            Copies::One(c) if c.cluster == copy.cluster => *c = copy,
            Copies::One(c) => *self = Copies::Many(vec![*c, copy]),
            Copies::Many(v) => match v.iter_mut().find(|c| c.cluster == copy.cluster) {
                Some(c) => *c = copy,
                None => v.push(copy),
            },
        }
    }

    /// Forgets one cluster's copy; `true` when no copy is left.
    fn remove(&mut self, cluster: u16) -> bool {
        match self {
            Copies::One(c) => c.cluster == cluster,
            Copies::Many(v) => {
                v.retain(|c| c.cluster != cluster);
                if let [only] = v.as_slice() {
                    *self = Copies::One(*only);
                }
                matches!(self, Copies::Many(v) if v.is_empty())
            }
        }
    }
}

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
    synced: bool,
    policies: HashMap<String, Arc<Policy>>,
    /// Selector buckets: `join(apiVersion, kind, namespace, name)` → policies with such a selector.
    /// PP buckets always carry the (effective) namespace; CPP buckets may have empty namespace/name.
    pp_buckets: HashMap<String, Vec<Arc<Policy>>>,
    cpp_buckets: HashMap<String, Vec<Arc<Policy>>>,
    /// Batch-tier policies with unnamed selectors by `join(apiVersion, kind, namespace)` (namespace
    /// empty for a CPP selector without one): the guardrails' competitor search.
    batch_unnamed: HashMap<String, Vec<Arc<Policy>>>,
    /// Template keys by `join(apiVersion, kind, namespace)`.
    templates_by_scope: HashMap<String, HashSet<String>>,
    /// Template keys by `join(apiVersion, kind, namespace, label_slot(k, v))`.
    templates_by_label: HashMap<String, HashSet<String>>,
    templates: HashMap<String, TemplateMeta>,
    /// Policy key → keys of the templates whose claim names it.
    claims: HashMap<String, HashSet<String>>,
    clusters: BTreeMap<String, ClusterInfo>,
    namespaces: HashMap<String, Labels>,
    /// Interned cluster names for the member index (index = `MemberCopy::cluster`).
    cluster_names: Vec<String>,
    members: HashMap<Box<str>, Copies>,
}

/// kubectl's copy of the last applied object.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Annotation prefixes the engine reads on stored templates.
fn is_decision_annotation(key: &str) -> bool {
    [
        "propagationpolicy.karmada.io/",
        "clusterpropagationpolicy.karmada.io/",
        "karmada-takeover.io/",
        "work.karmada.io/",
        "resourcetemplate.karmada.io/",
    ]
    .iter()
    .any(|p| key.starts_with(p))
}

/// One index slot of a selector.
struct Slot {
    /// `join(apiVersion, kind, namespace, name | label slot | "")`.
    key: String,
    /// `join(apiVersion, kind, namespace)`.
    scope: String,
    /// Whether the selector has a name.
    named: bool,
}

/// The fourth key part for a label pair (`\u{1}` cannot start a Kubernetes name).
fn label_slot(key: &str, value: &str) -> String {
    format!("\u{1}{key}={value}")
}

fn push_unique(list: &mut Vec<Arc<Policy>>, policy: &Arc<Policy>) {
    if !list.iter().any(|p| Arc::ptr_eq(p, policy)) {
        list.push(Arc::clone(policy));
    }
}

fn remove_from(map: &mut HashMap<String, Vec<Arc<Policy>>>, key: &str, policy: &Arc<Policy>) {
    if let Some(list) = map.get_mut(key) {
        list.retain(|p| !Arc::ptr_eq(p, policy));
        if list.is_empty() {
            map.remove(key);
        }
    }
}

fn dedup_policies(list: &mut Vec<&Policy>) {
    list.sort_unstable_by_key(|p| std::ptr::from_ref::<Policy>(p) as usize);
    list.dedup_by(|a, b| std::ptr::eq(*a, *b));
}

/// Joins key parts with NUL.
fn join(parts: &[&str]) -> String {
    parts.join("\0")
}

fn policy_key(kind: PolicyKind, namespace: &str, name: &str) -> String {
    join(&[kind.short(), namespace, name])
}

fn member_key(group: &str, kind: &str, namespace: &str, name: &str) -> String {
    join(&[group, kind, namespace, name])
}

/// The API group of an apiVersion (`""` for the core group).
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(group, _)| group)
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

    /// Object counts.
    pub fn counts(&self) -> Counts {
        Counts {
            policies: self.policies.len(),
            templates: self.templates.len(),
            clusters: self.clusters.len(),
            member_entries: self.members.len(),
        }
    }

    // === policies ===

    /// Adds or replaces a policy. Objects of other kinds are ignored. Metadata no decision reads
    /// (`managedFields`, kubectl's last-applied copy of the whole object) is dropped: at 10,000
    /// policies it would double the view's memory.
    pub fn upsert_policy(&mut self, mut policy: Policy) {
        let Some(kind) = policy.policy_kind() else { return };
        policy.metadata.managed_fields = None;
        if let Some(annotations) = policy.metadata.annotations.as_mut() {
            annotations.remove(LAST_APPLIED);
        }
        self.remove_policy(kind, policy.namespace(), policy.name());
        let policy = Arc::new(policy);
        let batch = tier_of(&policy) == Tier::Batch;
        for slot in Self::slots_of(kind, &policy) {
            let buckets = match kind {
                PolicyKind::PropagationPolicy => &mut self.pp_buckets,
                PolicyKind::ClusterPropagationPolicy => &mut self.cpp_buckets,
            };
            push_unique(buckets.entry(slot.key).or_default(), &policy);
            if batch && !slot.named {
                push_unique(self.batch_unnamed.entry(slot.scope).or_default(), &policy);
            }
        }
        self.policies
            .insert(policy_key(kind, policy.namespace(), policy.name()), policy);
    }

    /// Removes a policy.
    pub fn remove_policy(&mut self, kind: PolicyKind, namespace: &str, name: &str) -> Option<Arc<Policy>> {
        let old = self.policies.remove(&policy_key(kind, namespace, name))?;
        for slot in Self::slots_of(kind, &old) {
            let buckets = match kind {
                PolicyKind::PropagationPolicy => &mut self.pp_buckets,
                PolicyKind::ClusterPropagationPolicy => &mut self.cpp_buckets,
            };
            remove_from(buckets, &slot.key, &old);
            remove_from(&mut self.batch_unnamed, &slot.scope, &old);
        }
        Some(old)
    }

    /// The index slots of a policy's selectors. A PP selector's empty namespace means the PP's own
    /// (Karmada's webhook fills it in); a PP selector naming another namespace can never match (a
    /// PP only sees its own namespace), so it gets no slot. A selector with a name is indexed by
    /// name; one with `matchLabels` by its first label pair (a template can only match if it
    /// carries that pair); any other by kind and namespace alone.
    fn slots_of(kind: PolicyKind, policy: &Policy) -> Vec<Slot> {
        let mut out = Vec::with_capacity(policy.spec.resource_selectors.len());
        for rs in &policy.spec.resource_selectors {
            let ns = match kind {
                PolicyKind::PropagationPolicy => match rs.namespace() {
                    "" => policy.namespace(),
                    ns if ns == policy.namespace() => ns,
                    _ => continue,
                },
                PolicyKind::ClusterPropagationPolicy => rs.namespace(),
            };
            let scope = join(&[&rs.api_version, &rs.kind, ns]);
            let (fourth, named) = if !rs.name().is_empty() {
                (rs.name().to_owned(), true)
            } else {
                let first_pair = rs
                    .label_selector
                    .as_ref()
                    .filter(|s| crate::rules::selector::is_valid(s))
                    .and_then(|s| s.match_labels.as_ref())
                    .and_then(|m| m.iter().next());
                (
                    first_pair.map_or_else(String::new, |(k, v)| label_slot(k, v)),
                    false,
                )
            };
            out.push(Slot {
                key: join(&[&scope, &fourth]),
                scope,
                named,
            });
        }
        out
    }

    /// A policy by kind, namespace (empty for CPP) and name.
    pub fn policy(&self, kind: PolicyKind, namespace: &str, name: &str) -> Option<&Policy> {
        self.policies
            .get(&policy_key(kind, namespace, name))
            .map(AsRef::as_ref)
    }

    /// Every policy (unordered).
    pub fn policies(&self) -> impl Iterator<Item = &Policy> {
        self.policies.values().map(AsRef::as_ref)
    }

    /// Policies of `kind` with a selector that could select the object of `api_version`/`obj_kind`
    /// in `namespace` named `name` carrying `labels`. A superset of the matches (each one must still
    /// be checked), found with a few hash lookups per label whatever the number of policies.
    pub fn policies_for(
        &self,
        kind: PolicyKind,
        api_version: &str,
        obj_kind: &str,
        namespace: &str,
        name: &str,
        labels: &Labels,
    ) -> Vec<&Policy> {
        let (buckets, namespaces): (_, &[&str]) = match kind {
            PolicyKind::PropagationPolicy if namespace.is_empty() => return Vec::new(),
            PolicyKind::PropagationPolicy => (&self.pp_buckets, &[namespace]),
            PolicyKind::ClusterPropagationPolicy if namespace.is_empty() => (&self.cpp_buckets, &[""]),
            PolicyKind::ClusterPropagationPolicy => (&self.cpp_buckets, &[namespace, ""]),
        };
        fn look<'f>(
            buckets: &'f HashMap<String, Vec<Arc<Policy>>>,
            key: &mut String,
            parts: [&str; 4],
            out: &mut Vec<&'f Policy>,
        ) {
            key.clear();
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    key.push('\0');
                }
                key.push_str(part);
            }
            if let Some(list) = buckets.get(key.as_str()) {
                out.extend(list.iter().map(AsRef::as_ref));
            }
        }
        let mut out: Vec<&Policy> = Vec::new();
        let mut key = String::new();
        for ns in namespaces {
            if !name.is_empty() {
                look(buckets, &mut key, [api_version, obj_kind, ns, name], &mut out);
            }
            look(buckets, &mut key, [api_version, obj_kind, ns, ""], &mut out);
            for (k, v) in labels {
                look(
                    buckets,
                    &mut key,
                    [api_version, obj_kind, ns, &label_slot(k, v)],
                    &mut out,
                );
            }
        }
        dedup_policies(&mut out);
        out
    }

    /// Batch-tier policies that may compete for templates selected by `rs` in `namespace` (empty:
    /// every namespace): batch policies with unnamed selectors there, and batch policies naming a
    /// template there that `rs` selects. A superset: callers check the selectors.
    pub fn batch_competitors(&self, rs: &crate::karmada::ResourceSelector, namespace: &str) -> Vec<&Policy> {
        let (av, k) = (rs.api_version.as_str(), rs.kind.as_str());
        let mut out: Vec<&Policy> = Vec::new();
        let scopes: Vec<String> = if namespace.is_empty() {
            let prefix = join(&[av, k, ""]);
            self.batch_unnamed
                .keys()
                .filter(|s| s.starts_with(&prefix))
                .cloned()
                .collect()
        } else {
            vec![join(&[av, k, namespace]), join(&[av, k, ""])]
        };
        for scope in &scopes {
            if let Some(list) = self.batch_unnamed.get(scope) {
                out.extend(list.iter().map(AsRef::as_ref));
            }
        }
        // Named batch selectors compete only through templates that exist: a template created
        // later goes through the takeover webhook, which defers to application policies.
        let named_templates: Vec<&TemplateMeta> = if !rs.name().is_empty() {
            if namespace.is_empty() {
                self.templates_of_kind(av, k)
                    .into_iter()
                    .filter(|t| t.name == rs.name())
                    .collect()
            } else {
                self.template(av, k, namespace, rs.name()).into_iter().collect()
            }
        } else {
            self.templates_selected_by(rs, namespace)
        };
        for t in named_templates {
            for kind in [
                PolicyKind::PropagationPolicy,
                PolicyKind::ClusterPropagationPolicy,
            ] {
                let buckets = match kind {
                    PolicyKind::PropagationPolicy => &self.pp_buckets,
                    PolicyKind::ClusterPropagationPolicy => &self.cpp_buckets,
                };
                let spaces: &[&str] = if kind == PolicyKind::PropagationPolicy {
                    &[&t.namespace]
                } else {
                    &[&t.namespace, ""]
                };
                for ns in spaces {
                    if let Some(list) = buckets.get(&join(&[av, k, ns, &t.name])) {
                        out.extend(
                            list.iter()
                                .map(AsRef::as_ref)
                                .filter(|p| tier_of(p) == Tier::Batch),
                        );
                    }
                }
            }
        }
        dedup_policies(&mut out);
        out
    }

    // === templates ===

    /// Adds or replaces a template's metadata. Only the annotations decisions read are kept
    /// (claims, ours, Karmada's work/conflict-resolution keys): a template's
    /// `kubectl.kubernetes.io/last-applied-configuration` alone can be larger than everything else
    /// the view stores for it.
    pub fn upsert_template(&mut self, mut template: TemplateMeta) {
        template.annotations.retain(|k, _| is_decision_annotation(k));
        let key = template.key();
        self.remove_template_by_key(&key);
        if let Some(claim) = template.as_template().claim() {
            self.claims
                .entry(policy_key(claim.kind, claim.namespace, claim.name))
                .or_default()
                .insert(key.clone());
        }
        let scope = join(&[&template.api_version, &template.kind, &template.namespace]);
        for (k, v) in &template.labels {
            self.templates_by_label
                .entry(join(&[&scope, &label_slot(k, v)]))
                .or_default()
                .insert(key.clone());
        }
        self.templates_by_scope
            .entry(scope)
            .or_default()
            .insert(key.clone());
        self.templates.insert(key, template);
    }

    /// Removes a template.
    pub fn remove_template(&mut self, api_version: &str, kind: &str, namespace: &str, name: &str) {
        self.remove_template_by_key(&join(&[api_version, kind, namespace, name]));
    }

    fn remove_template_by_key(&mut self, key: &str) {
        let Some(old) = self.templates.remove(key) else {
            return;
        };
        let scope = join(&[&old.api_version, &old.kind, &old.namespace]);
        let unindex = |map: &mut HashMap<String, HashSet<String>>, index_key: String| {
            if let Some(set) = map.get_mut(&index_key) {
                set.remove(key);
                if set.is_empty() {
                    map.remove(&index_key);
                }
            }
        };
        for (k, v) in &old.labels {
            unindex(&mut self.templates_by_label, join(&[&scope, &label_slot(k, v)]));
        }
        unindex(&mut self.templates_by_scope, scope);
        if let Some(claim) = old.as_template().claim() {
            let pk = policy_key(claim.kind, claim.namespace, claim.name);
            if let Some(set) = self.claims.get_mut(&pk) {
                set.remove(key);
                if set.is_empty() {
                    self.claims.remove(&pk);
                }
            }
        }
    }

    /// A template by identity.
    pub fn template(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<&TemplateMeta> {
        self.templates.get(&join(&[api_version, kind, namespace, name]))
    }

    /// Every template of a kind, in every namespace (walks the namespace index).
    pub fn templates_of_kind(&self, api_version: &str, kind: &str) -> Vec<&TemplateMeta> {
        let prefix = join(&[api_version, kind, ""]);
        self.templates_by_scope
            .iter()
            .filter(|(scope, _)| scope.starts_with(&prefix))
            .flat_map(|(_, keys)| keys.iter().filter_map(|k| self.templates.get(k)))
            .collect()
    }

    /// The existing templates an unnamed selector selects in `namespace` (empty: every namespace),
    /// through the label index when the selector has `matchLabels`.
    pub fn templates_selected_by(
        &self,
        rs: &crate::karmada::ResourceSelector,
        namespace: &str,
    ) -> Vec<&TemplateMeta> {
        let (av, k) = (rs.api_version.as_str(), rs.kind.as_str());
        let first_pair = rs
            .label_selector
            .as_ref()
            .and_then(|s| s.match_labels.as_ref())
            .and_then(|m| m.iter().next());
        let candidates: Vec<&TemplateMeta> = match (first_pair, namespace) {
            (Some((lk, lv)), ns) if !ns.is_empty() => self
                .templates_by_label
                .get(&join(&[av, k, ns, &label_slot(lk, lv)]))
                .map(|keys| keys.iter().filter_map(|key| self.templates.get(key)).collect())
                .unwrap_or_default(),
            (_, "") => self.templates_of_kind(av, k),
            (_, ns) => self
                .templates_by_scope
                .get(&join(&[av, k, ns]))
                .map(|keys| keys.iter().filter_map(|key| self.templates.get(key)).collect())
                .unwrap_or_default(),
        };
        candidates
            .into_iter()
            .filter(|t| {
                crate::rules::claim::selector_priority(rs, &t.as_template())
                    != crate::rules::claim::Implicit::Mismatch
            })
            .collect()
    }

    /// The templates whose claim names this policy.
    pub fn claimed_by(&self, kind: PolicyKind, namespace: &str, name: &str) -> Vec<&TemplateMeta> {
        self.claims
            .get(&policy_key(kind, namespace, name))
            .map(|keys| keys.iter().filter_map(|k| self.templates.get(k)).collect())
            .unwrap_or_default()
    }

    // === clusters and namespaces ===

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

    // === member index ===

    fn intern_cluster(&mut self, name: &str) -> u16 {
        if let Some(i) = self.cluster_names.iter().position(|n| n == name) {
            return i as u16;
        }
        self.cluster_names.push(name.to_owned());
        (self.cluster_names.len() - 1) as u16
    }

    /// Records that `cluster` holds the object (and whether Karmada manages it there).
    pub fn set_member(
        &mut self,
        cluster: &str,
        group: &str,
        kind: &str,
        namespace: &str,
        name: &str,
        managed: bool,
    ) {
        let idx = self.intern_cluster(cluster);
        let copy = MemberCopy {
            cluster: idx,
            managed,
        };
        let key = member_key(group, kind, namespace, name);
        match self.members.get_mut(key.as_str()) {
            Some(copies) => copies.set(copy),
            None => {
                self.members.insert(key.into_boxed_str(), Copies::One(copy));
            }
        }
    }

    /// Records that `cluster` no longer holds the object.
    pub fn remove_member(&mut self, cluster: &str, group: &str, kind: &str, namespace: &str, name: &str) {
        let Some(idx) = self.cluster_names.iter().position(|n| n == cluster) else {
            return;
        };
        let key = member_key(group, kind, namespace, name);
        if self
            .members
            .get_mut(key.as_str())
            .is_some_and(|copies| copies.remove(idx as u16))
        {
            self.members.remove(key.as_str());
        }
    }

    /// Forgets everything recorded for one member cluster (it left, or turned NotReady).
    pub fn clear_member_cluster(&mut self, cluster: &str) {
        let Some(idx) = self.cluster_names.iter().position(|n| n == cluster) else {
            return;
        };
        self.members.retain(|_, copies| !copies.remove(idx as u16));
    }

    /// Keeps, of the objects of one `(group, kind)` that `cluster` holds, only those for which
    /// `keep(namespace, name)` holds (a re-list replacing one member watch's state).
    pub fn retain_member_objects(
        &mut self,
        cluster: &str,
        group: &str,
        kind: &str,
        mut keep: impl FnMut(&str, &str) -> bool,
    ) {
        let Some(idx) = self.cluster_names.iter().position(|n| n == cluster) else {
            return;
        };
        let prefix = join(&[group, kind, ""]);
        self.members.retain(|key, copies| {
            let Some(rest) = key.strip_prefix(&prefix) else {
                return true;
            };
            let (namespace, name) = rest.split_once('\0').unwrap_or(("", rest));
            keep(namespace, name) || !copies.remove(idx as u16)
        });
    }

    /// The member clusters holding the object, sorted by cluster name, with their managed flag.
    pub fn member_copies(&self, group: &str, kind: &str, namespace: &str, name: &str) -> Vec<(&str, bool)> {
        let mut out: Vec<(&str, bool)> = self
            .members
            .get(member_key(group, kind, namespace, name).as_str())
            .map(|copies| {
                copies
                    .as_slice()
                    .iter()
                    .filter_map(|c| {
                        self.cluster_names
                            .get(usize::from(c.cluster))
                            .map(|n| (n.as_str(), c.managed))
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort_unstable();
        out
    }
}

/// The fleet as a [`PolicySource`] for claim resolution: candidates come from the selector buckets.
impl<'f> PolicySource<'f> for &'f Fleet {
    fn candidates(&self, t: &Template<'_>) -> Vec<&'f Policy> {
        let mut out = self.policies_for(
            PolicyKind::PropagationPolicy,
            t.api_version,
            t.kind,
            t.namespace,
            t.name,
            t.labels,
        );
        out.extend(self.policies_for(
            PolicyKind::ClusterPropagationPolicy,
            t.api_version,
            t.kind,
            t.namespace,
            t.name,
            t.labels,
        ));
        out
    }

    fn get(&self, kind: PolicyKind, namespace: &str, name: &str) -> Option<&'f Policy> {
        self.policy(kind, namespace, name)
    }
}

/// The fleet view shared between the admission path (readers) and the adapters (writers).
#[derive(Debug, Clone, Default)]
pub struct SharedFleet(Arc<RwLock<Fleet>>);

impl SharedFleet {
    /// Wraps a fleet view.
    pub fn new(fleet: Fleet) -> Self {
        Self(Arc::new(RwLock::new(fleet)))
    }

    /// Read access; held only for the duration of one decision.
    pub fn read(&self) -> parking_lot::RwLockReadGuard<'_, Fleet> {
        self.0.read()
    }

    /// Write access, for adapters applying watch events.
    pub fn write(&self) -> parking_lot::RwLockWriteGuard<'_, Fleet> {
        self.0.write()
    }

    /// Replaces the whole view (file adapter reload).
    pub fn replace(&self, fleet: Fleet) {
        *self.0.write() = fleet;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{
        claim::resolve,
        testing::{SelectorExt, cpp, deploy, map, pp},
    };

    fn tpl(ns: &str, name: &str) -> TemplateMeta {
        TemplateMeta {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: ns.into(),
            name: name.into(),
            labels: Labels::new(),
            annotations: Labels::new(),
        }
    }

    #[test]
    fn buckets_find_exactly_the_policies_that_can_match() {
        let mut f = Fleet::new();
        f.upsert_policy(pp("default", "named", None, vec![deploy().named("web")]));
        f.upsert_policy(pp("default", "wide", None, vec![deploy()]));
        f.upsert_policy(pp("other", "elsewhere", None, vec![deploy()]));
        f.upsert_policy(pp("default", "wrong-ns", None, vec![deploy().in_ns("other")]));
        f.upsert_policy(cpp("any", None, vec![deploy()]));
        f.upsert_policy(cpp("named-anyns", None, vec![deploy().named("web")]));
        let t = tpl("default", "web");
        let mut names: Vec<&str> = (&f)
            .candidates(&t.as_template())
            .iter()
            .map(|p| p.name())
            .collect();
        names.sort_unstable();
        assert_eq!(names, ["any", "named", "named-anyns", "wide"]);
    }

    #[test]
    fn replacing_and_removing_policies_updates_the_buckets() {
        let mut f = Fleet::new();
        f.upsert_policy(pp("default", "a", None, vec![deploy().named("web")]));
        f.upsert_policy(pp("default", "a", None, vec![deploy().named("api")]));
        let none = Labels::new();
        assert!(
            f.policies_for(
                PolicyKind::PropagationPolicy,
                "apps/v1",
                "Deployment",
                "default",
                "web",
                &none
            )
            .is_empty()
        );
        assert_eq!(
            f.policies_for(
                PolicyKind::PropagationPolicy,
                "apps/v1",
                "Deployment",
                "default",
                "api",
                &none
            )
            .len(),
            1
        );
        f.remove_policy(PolicyKind::PropagationPolicy, "default", "a");
        assert_eq!(f.counts().policies, 0);
        assert!(f.pp_buckets.is_empty() && f.batch_unnamed.is_empty());
    }

    #[test]
    fn fleet_and_plain_list_resolve_the_same_winner() {
        let policies = vec![
            pp("default", "b", Some(1), vec![deploy()]),
            pp("default", "a", Some(1), vec![deploy().named("web")]),
            cpp("c", Some(9), vec![deploy()]),
        ];
        let mut f = Fleet::new();
        for p in &policies {
            f.upsert_policy(p.clone());
        }
        let t = tpl("default", "web");
        let from_fleet = resolve(&t.as_template(), &&f, false)
            .winner()
            .map(|w| w.name.to_owned());
        let from_list = resolve(&t.as_template(), &&policies[..], false)
            .winner()
            .map(|w| w.name.to_owned());
        assert_eq!(from_fleet, from_list);
        assert_eq!(from_fleet.as_deref(), Some("a"));
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;
        use crate::rules::testing::{PolicyExt, map};

        fn arb_selector() -> impl Strategy<Value = crate::karmada::ResourceSelector> {
            (
                0u8..6,
                prop_oneof![Just(None), Just(Some("default")), Just(Some("other"))],
            )
                .prop_map(|(shape, ns)| {
                    let s = match shape {
                        0 => deploy(),
                        1 => deploy().named("web"),
                        2 => deploy().named("api"),
                        3 => deploy().labels(&[("app", "web")]),
                        4 => deploy().labels(&[("app", "web"), ("tier", "front")]),
                        _ => deploy().labels(&[("app", "api")]),
                    };
                    match ns {
                        Some(ns) => s.in_ns(ns),
                        None => s,
                    }
                })
        }

        fn arb_policy() -> impl Strategy<Value = Policy> {
            (
                any::<bool>(),
                "[a-c]{1,2}",
                -1i32..2,
                proptest::collection::vec(arb_selector(), 1..3),
                any::<bool>(),
            )
                .prop_map(|(is_pp, name, prio, sels, always)| {
                    let p = if is_pp {
                        pp("default", &name, Some(prio), sels)
                    } else {
                        cpp(&name, Some(prio), sels)
                    };
                    if always { p.always() } else { p }
                })
        }

        proptest! {
            #[test]
            fn the_indexed_fleet_resolves_like_a_plain_list(
                policies in proptest::collection::vec(arb_policy(), 0..8),
                name in prop_oneof![Just("web"), Just("api"), Just("db")],
                labels in prop_oneof![Just(vec![]), Just(vec![("app", "web")]), Just(vec![("app", "web"), ("tier", "front")]), Just(vec![("app", "api")])],
            ) {
                let mut unique: Vec<Policy> = Vec::new();
                for p in policies {
                    unique.retain(|q| !(q.kind == p.kind && q.name() == p.name()));
                    unique.push(p);
                }
                let mut f = Fleet::new();
                for p in &unique {
                    f.upsert_policy(p.clone());
                }
                let l = map(&labels);
                let t = Template::new("apps/v1", "Deployment", "default", name, Some(&l), None);
                let from_fleet = resolve(&t, &&f, true);
                let from_list = resolve(&t, &&unique[..], true);
                let key = |r: &crate::rules::claim::Resolution<'_>| r.winner().map(|w| (w.kind, w.name.to_owned()));
                prop_assert_eq!(key(&from_fleet), key(&from_list));
                prop_assert_eq!(from_fleet.candidates.len(), from_list.candidates.len());
            }
        }
    }

    #[test]
    fn metadata_no_decision_reads_is_not_stored() {
        let mut f = Fleet::new();
        let mut p = pp("default", "a", None, vec![deploy()]);
        p.metadata.annotations = Some(map(&[(LAST_APPLIED, "{...}"), ("team", "x")]));
        p.metadata.managed_fields = Some(vec![Default::default()]);
        f.upsert_policy(p);
        let stored = f.policy(PolicyKind::PropagationPolicy, "default", "a").unwrap();
        assert!(stored.metadata.managed_fields.is_none());
        assert_eq!(stored.metadata.annotations, Some(map(&[("team", "x")])));
        let mut t = tpl("default", "web");
        t.annotations = map(&[
            (LAST_APPLIED, "{...}"),
            (keys::PP_NAME, "p"),
            (keys::CLUSTERS, "m1"),
            ("other", "y"),
        ]);
        f.upsert_template(t);
        let stored = f.template("apps/v1", "Deployment", "default", "web").unwrap();
        assert_eq!(
            stored.annotations,
            map(&[(keys::CLUSTERS, "m1"), (keys::PP_NAME, "p")])
        );
    }

    #[test]
    fn claims_are_indexed_by_policy() {
        let mut f = Fleet::new();
        let mut t = tpl("default", "web");
        t.labels.insert(keys::PP_PERMANENT_ID.into(), "x".into());
        t.annotations.insert(keys::PP_NAMESPACE.into(), "default".into());
        t.annotations.insert(keys::PP_NAME.into(), "p".into());
        f.upsert_template(t);
        assert_eq!(
            f.claimed_by(PolicyKind::PropagationPolicy, "default", "p").len(),
            1
        );
        f.remove_template("apps/v1", "Deployment", "default", "web");
        assert!(
            f.claimed_by(PolicyKind::PropagationPolicy, "default", "p")
                .is_empty()
        );
    }

    #[test]
    fn member_index_tracks_clusters_and_managed_flags() {
        let mut f = Fleet::new();
        f.set_member("member2", "apps", "Deployment", "default", "web", false);
        f.set_member("member1", "apps", "Deployment", "default", "web", true);
        assert_eq!(
            f.member_copies("apps", "Deployment", "default", "web"),
            [("member1", true), ("member2", false)]
        );
        f.remove_member("member1", "apps", "Deployment", "default", "web");
        assert_eq!(
            f.member_copies("apps", "Deployment", "default", "web"),
            [("member2", false)]
        );
        f.clear_member_cluster("member2");
        assert_eq!(f.counts().member_entries, 0);
    }
}
