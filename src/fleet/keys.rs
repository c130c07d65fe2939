//! The key scheme of the fleet's indexes: parts joined by NUL, which cannot occur in Kubernetes
//! names, so no two identities share a key.

use std::sync::Arc;

use foldhash::{HashMap, HashSet};

use crate::karmada::PolicyKind;

/// kubectl's copy of the last applied object: never stored (it can be larger than everything
/// else the view keeps for an object).
pub(super) const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// One index slot of a selector.
pub(super) struct Slot {
    /// `join(apiVersion, kind, namespace, name | label slot | "")`.
    pub(super) key: String,
    /// `join(apiVersion, kind, namespace)`.
    pub(super) scope: String,
    /// Whether the selector has a name.
    pub(super) named: bool,
}

/// The fourth key part for a label pair (`\u{1}` cannot start a Kubernetes name).
pub(super) fn label_slot(key: &str, value: &str) -> String {
    format!("{LABEL_SLOT}{key}={value}")
}

/// What starts a label slot (no name starts with it).
pub(super) const LABEL_SLOT: &str = "\u{1}";

/// Joins key parts with NUL.
pub(super) fn join(parts: &[&str]) -> String {
    parts.join("\0")
}

/// The key of a policy.
pub(super) fn policy_key(kind: PolicyKind, namespace: &str, name: &str) -> String {
    join(&[kind.short(), namespace, name])
}

/// The key of a member object.
pub(super) fn member_key(group: &str, kind: &str, namespace: &str, name: &str) -> String {
    join(&[group, kind, namespace, name])
}

/// The template keys filed under one index key (a label pair, a claiming policy). Most of those
/// name exactly one template (an app name, a permanent id, a takeover policy's claim), so one key
/// is held inline and a set is allocated only from the second: a `HashSet` allocates about 100
/// bytes for its first element, three times per template at 8,000 templates (issue 11). A scope
/// (apiVersion, kind, namespace) holds many templates: its index keeps plain sets.
#[derive(Debug)]
pub(super) enum KeySet {
    One(Arc<str>),
    Many(Box<HashSet<Arc<str>>>),
}

impl KeySet {
    /// Files `key` under `index_key`.
    pub(super) fn add(map: &mut HashMap<Box<str>, KeySet>, index_key: &str, key: &Arc<str>) {
        let Some(set) = map.get_mut(index_key) else {
            map.insert(index_key.into(), KeySet::One(key.clone()));
            return;
        };
        match set {
            KeySet::One(first) if *first == *key => {}
            KeySet::One(first) => {
                let many: HashSet<Arc<str>> = [first.clone(), key.clone()].into_iter().collect();
                *set = KeySet::Many(Box::new(many));
            }
            KeySet::Many(many) => {
                many.insert(key.clone());
            }
        }
    }

    /// Removes `key` from under `index_key`, and the index key once it holds none.
    pub(super) fn remove(map: &mut HashMap<Box<str>, KeySet>, index_key: &str, key: &str) {
        let empty = match map.get_mut(index_key) {
            None => return,
            Some(KeySet::One(first)) => **first == *key,
            Some(KeySet::Many(many)) => {
                many.remove(key);
                many.is_empty()
            }
        };
        if empty {
            map.remove(index_key);
        }
    }

    /// The keys, unordered.
    pub(super) fn iter(&self) -> impl Iterator<Item = &Arc<str>> {
        let (one, many) = match self {
            KeySet::One(key) => (Some(key), None),
            KeySet::Many(many) => (None, Some(many.iter())),
        };
        one.into_iter().chain(many.into_iter().flatten())
    }
}
