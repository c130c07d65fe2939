//! Policies and the selector buckets that find a template's candidates with a few hash lookups,
//! whatever the number of policies.

use std::sync::Arc;

use foldhash::HashMap;

use super::{
    Fleet,
    keys::{LABEL_SLOT, LAST_APPLIED, Slot, join, label_slot, policy_key},
};
use crate::{
    karmada::{Policy, PolicyKind, ResourceSelector},
    rules::{
        claim::Template,
        selector,
        tier::{Tier, tier_of},
        view::TemplateMeta,
    },
};

/// Most buckets hold one policy (a takeover policy names its template): lists grow one slot at a
/// time instead of `Vec`'s first four.
fn push_unique(list: &mut Vec<Arc<Policy>>, policy: &Arc<Policy>) {
    if !list.iter().any(|p| Arc::ptr_eq(p, policy)) {
        list.reserve_exact(1);
        list.push(Arc::clone(policy));
    }
}

fn remove_from(map: &mut HashMap<Box<str>, Vec<Arc<Policy>>>, key: &str, policy: &Arc<Policy>) {
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

impl Fleet {
    /// Adds or replaces a policy. Objects of other kinds are ignored. Metadata no decision reads
    /// (kubectl's last-applied copy of the whole object, and [`ServerMeta`]: `managedFields` and
    /// the server's bookkeeping, uid, resourceVersion, generation, creationTimestamp, finalizers,
    /// owners) is dropped: at 10,000 policies it would double the view's memory. Kept: name,
    /// namespace, labels, annotations and `deletionTimestamp` (a policy being deleted claims
    /// nothing).
    ///
    /// [`ServerMeta`]: crate::karmada::policy::ServerMeta
    pub fn upsert_policy(&mut self, mut policy: Policy) {
        let Some(kind) = policy.policy_kind() else { return };
        let m = &mut policy.metadata;
        m.server = None;
        if let Some(annotations) = m.annotations.as_mut() {
            annotations.retain(|k| k != LAST_APPLIED);
        }
        self.remove_policy(kind, policy.namespace(), policy.name());
        let policy = Arc::new(policy);
        let batch = tier_of(&policy) == Tier::Batch;
        for slot in Self::slots_of(kind, &policy) {
            let buckets = match kind {
                PolicyKind::PropagationPolicy => &mut self.pp_buckets,
                PolicyKind::ClusterPropagationPolicy => &mut self.cpp_buckets,
            };
            push_unique(buckets.entry(slot.key.into()).or_default(), &policy);
            if batch && !slot.named {
                push_unique(self.batch_unnamed.entry(slot.scope.into()).or_default(), &policy);
            }
        }
        self.policies
            .insert(policy_key(kind, policy.namespace(), policy.name()).into(), policy);
    }

    /// Removes a policy.
    pub fn remove_policy(&mut self, kind: PolicyKind, namespace: &str, name: &str) -> Option<Arc<Policy>> {
        let old = self.policies.remove(policy_key(kind, namespace, name).as_str())?;
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
            let Some(ns) = rs.effective_namespace(kind, policy.namespace()) else {
                continue;
            };
            let scope = join(&[&rs.api_version, &rs.kind, ns]);
            let (fourth, named) = if !rs.name().is_empty() {
                (rs.name().to_owned(), true)
            } else {
                let first_pair = rs
                    .label_selector
                    .as_ref()
                    .filter(|s| selector::is_valid(s))
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
            .get(policy_key(kind, namespace, name).as_str())
            .map(AsRef::as_ref)
    }

    /// Every policy (unordered).
    pub fn policies(&self) -> impl Iterator<Item = &Policy> {
        self.policies.values().map(AsRef::as_ref)
    }

    /// Policies of `kind` with a selector that could select the template `t` (its apiVersion,
    /// kind, namespace, name and labels). A superset of the matches (each one must still be
    /// checked), found with a few hash lookups per label whatever the number of policies.
    pub fn policies_for(&self, kind: PolicyKind, t: &Template<'_>) -> Vec<&Policy> {
        let (api_version, obj_kind, namespace, name, labels) =
            (t.api_version, t.kind, t.namespace, t.name, t.labels);
        let (buckets, namespaces): (_, &[&str]) = match kind {
            PolicyKind::PropagationPolicy if namespace.is_empty() => return Vec::new(),
            PolicyKind::PropagationPolicy => (&self.pp_buckets, &[namespace]),
            PolicyKind::ClusterPropagationPolicy if namespace.is_empty() => (&self.cpp_buckets, &[""]),
            PolicyKind::ClusterPropagationPolicy => (&self.cpp_buckets, &[namespace, ""]),
        };
        // One key buffer: the scope prefix is written once per namespace, each slot appended to
        // it (the same bytes as `join` and `label_slot` write when the policy is filed).
        fn look<'f>(
            buckets: &'f HashMap<Box<str>, Vec<Arc<Policy>>>,
            key: &mut String,
            prefix: usize,
            slot: &[&str],
            out: &mut Vec<&'f Policy>,
        ) {
            key.truncate(prefix);
            for piece in slot {
                key.push_str(piece);
            }
            if let Some(list) = buckets.get(key.as_str()) {
                out.extend(list.iter().map(AsRef::as_ref));
            }
        }
        let mut out: Vec<&Policy> = Vec::new();
        let mut key = String::new();
        for ns in namespaces {
            key.clear();
            for part in [api_version, obj_kind, ns] {
                key.push_str(part);
                key.push('\0');
            }
            let prefix = key.len();
            if !name.is_empty() {
                look(buckets, &mut key, prefix, &[name], &mut out);
            }
            look(buckets, &mut key, prefix, &[], &mut out);
            for (k, v) in labels.iter() {
                look(buckets, &mut key, prefix, &[LABEL_SLOT, k, "=", v], &mut out);
            }
        }
        dedup_policies(&mut out);
        out
    }

    /// Batch-tier policies that may compete for templates selected by `rs` in `namespace` (empty:
    /// every namespace): batch policies with unnamed selectors there, and batch policies naming a
    /// template there that `rs` selects. A superset: callers check the selectors.
    pub fn batch_competitors(&self, rs: &ResourceSelector, namespace: &str) -> Vec<&Policy> {
        let (av, k) = (rs.api_version.as_str(), rs.kind.as_str());
        let mut out: Vec<&Policy> = Vec::new();
        let scopes: Vec<String> = if namespace.is_empty() {
            let prefix = join(&[av, k, ""]);
            self.batch_unnamed
                .keys()
                .filter(|s| s.starts_with(&prefix))
                .map(ToString::to_string)
                .collect()
        } else {
            vec![join(&[av, k, namespace]), join(&[av, k, ""])]
        };
        for scope in &scopes {
            if let Some(list) = self.batch_unnamed.get(scope.as_str()) {
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
                    if let Some(list) = buckets.get(join(&[av, k, ns, &t.name]).as_str()) {
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
}
