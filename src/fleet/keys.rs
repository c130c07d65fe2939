//! The key scheme of the fleet's indexes: parts joined by NUL, which cannot occur in Kubernetes
//! names, so no two identities share a key.

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
    format!("\u{1}{key}={value}")
}

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
