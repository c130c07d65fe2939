//! Dependency promotion: a ConfigMap or Secret an adopted workload uses, present in its source
//! member cluster but not in Karmada, is copied into Karmada so `propagateDeps` can carry it —
//! what `karmadactl promote -d` does (semantics.md §5, step 4–5).

use serde_json::{Map, Value};

use crate::karmada::keys;

/// Top-level metadata fields Karmada prunes from a manifest (semantics.md §4.2,
/// `prune.RemoveIrrelevantFields`).
const PRUNED_METADATA: &[&str] = &[
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "managedFields",
    "resourceVersion",
    "selfLink",
    "uid",
    "ownerReferences",
    "finalizers",
];

/// Why a member object is not promoted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotPromoted {
    /// Karmada already manages the member copy: promoting it would be a re-promotion.
    #[error("the member copy is managed by Karmada (karmada.io/managed or Work annotations)")]
    Managed,
    /// A service-account token Secret is minted per cluster; copying it would be wrong.
    #[error("service-account token Secrets are cluster-specific")]
    ServiceAccountToken,
}

/// The template to create in Karmada from a member object: server fields pruned as Karmada
/// prunes them, `work.karmada.io/conflict-resolution: overwrite` (unless the key is set) so that
/// Karmada may take the member copy over, and `karmada-takeover.io/skip: "true"` so that the
/// dependency rides on the workload's `propagateDeps` instead of getting a takeover policy of its
/// own (`karmadactl promote` gives dependencies no policy either).
pub fn prune_for_karmada(mut obj: Value) -> Result<Value, NotPromoted> {
    let labels: crate::karmada::Labels = obj["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    if crate::karmada::markers::is_managed(&labels) {
        return Err(NotPromoted::Managed);
    }
    if obj["kind"] == "Secret" && obj["type"] == "kubernetes.io/service-account-token" {
        return Err(NotPromoted::ServiceAccountToken);
    }
    if let Some(o) = obj.as_object_mut() {
        o.remove("status");
    }
    if let Some(meta) = obj["metadata"].as_object_mut() {
        for field in PRUNED_METADATA {
            meta.remove(*field);
        }
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if !annotations.is_object() {
            *annotations = Value::Object(Map::new());
        }
        if let Some(a) = annotations.as_object_mut() {
            a.remove("kubectl.kubernetes.io/last-applied-configuration");
            a.entry(keys::CONFLICT_RESOLUTION)
                .or_insert_with(|| Value::String(keys::CONFLICT_RESOLUTION_OVERWRITE.to_owned()));
            a.insert(keys::SKIP.to_owned(), Value::String("true".to_owned()));
        }
    }
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn server_fields_are_pruned_and_overwrite_is_added() {
        let member = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg", "namespace": "shop", "uid": "u", "resourceVersion": "7",
                         "creationTimestamp": "2026-01-01T00:00:00Z", "managedFields": [{}], "generation": 1,
                         "ownerReferences": [{}], "finalizers": ["x"], "selfLink": "/x",
                         "labels": {"app": "web"}},
            "data": {"k": "v"}, "status": {}});
        let out = prune_for_karmada(member).unwrap();
        assert_eq!(
            out,
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "cfg", "namespace": "shop", "labels": {"app": "web"},
                             "annotations": {"work.karmada.io/conflict-resolution": "overwrite",
                                             "karmada-takeover.io/skip": "true"}},
                "data": {"k": "v"}})
        );
    }

    #[test]
    fn managed_copies_and_token_secrets_are_not_promoted() {
        let managed = json!({"kind": "ConfigMap", "metadata": {"labels": {"karmada.io/managed": "true"}}});
        assert_eq!(prune_for_karmada(managed), Err(NotPromoted::Managed));
        let token = json!({"kind": "Secret", "type": "kubernetes.io/service-account-token", "metadata": {}});
        assert_eq!(prune_for_karmada(token), Err(NotPromoted::ServiceAccountToken));
    }

    #[test]
    fn an_explicit_conflict_resolution_is_kept() {
        let member = json!({"kind": "Secret", "metadata": {"annotations": {"work.karmada.io/conflict-resolution": "abort"}}});
        let out = prune_for_karmada(member).unwrap();
        assert_eq!(
            out["metadata"]["annotations"]["work.karmada.io/conflict-resolution"],
            "abort"
        );
    }
}
