//! API coordinates: how an `apiVersion` splits into group and version, and the REST plural of
//! the kinds this project reads, writes or is registered for. One table, used by the Karmada
//! watches (no discovery round trip for these kinds), the policy writer and the AdmissionReview
//! requests the demo and tests build.

/// `(group, version)` of an `apiVersion`: `apps/v1` → `("apps", "v1")`; the core group's `v1` →
/// `("", "v1")`.
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.rsplit_once('/').unwrap_or(("", api_version))
}

/// The API group of an `apiVersion` (`""` for the core group).
pub fn group_of(api_version: &str) -> &str {
    split_api_version(api_version).0
}

/// `(apiVersion, kind, plural)` of the kinds the default configuration selects, plus the ones
/// the Karmada adapter and the writer use themselves.
pub const PLURALS: &[(&str, &str, &str)] = &[
    ("apps/v1", "Deployment", "deployments"),
    ("apps/v1", "StatefulSet", "statefulsets"),
    ("apps/v1", "DaemonSet", "daemonsets"),
    ("apps/v1", "ReplicaSet", "replicasets"),
    ("batch/v1", "Job", "jobs"),
    ("batch/v1", "CronJob", "cronjobs"),
    ("v1", "Service", "services"),
    ("v1", "ConfigMap", "configmaps"),
    ("v1", "Secret", "secrets"),
    ("v1", "ServiceAccount", "serviceaccounts"),
    ("v1", "PersistentVolumeClaim", "persistentvolumeclaims"),
    ("v1", "Namespace", "namespaces"),
    ("networking.k8s.io/v1", "Ingress", "ingresses"),
    (
        "policy.karmada.io/v1alpha1",
        "PropagationPolicy",
        "propagationpolicies",
    ),
    (
        "policy.karmada.io/v1alpha1",
        "ClusterPropagationPolicy",
        "clusterpropagationpolicies",
    ),
    ("cluster.karmada.io/v1alpha1", "Cluster", "clusters"),
    ("coordination.k8s.io/v1", "Lease", "leases"),
];

/// The plural of a kind in the table; `None` for any other kind (ask discovery).
pub fn known_plural(api_version: &str, kind: &str) -> Option<&'static str> {
    PLURALS
        .iter()
        .find(|(av, k, _)| *av == api_version && *k == kind)
        .map(|(_, _, plural)| *plural)
}

/// The plural of a kind: the table's, else the conventional lowercase `kind + "s"` (what
/// AdmissionReview requests built without discovery carry).
pub fn plural(api_version: &str, kind: &str) -> String {
    known_plural(api_version, kind).map_or_else(|| format!("{}s", kind.to_lowercase()), str::to_owned)
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case::grouped("apps/v1", ("apps", "v1"))]
    #[case::core("v1", ("", "v1"))]
    #[case::dotted_group("policy.karmada.io/v1alpha1", ("policy.karmada.io", "v1alpha1"))]
    #[case::empty("", ("", ""))]
    fn api_versions_split_like_apimachinery(#[case] api_version: &str, #[case] want: (&str, &str)) {
        assert_eq!(split_api_version(api_version), want);
        assert_eq!(group_of(api_version), want.0);
    }

    #[rstest]
    #[case::table("networking.k8s.io/v1", "Ingress", "ingresses")]
    #[case::policy("policy.karmada.io/v1alpha1", "PropagationPolicy", "propagationpolicies")]
    #[case::unknown_kind_guessed("example.com/v1", "Widget", "widgets")]
    fn plurals(#[case] api_version: &str, #[case] kind: &str, #[case] want: &str) {
        assert_eq!(plural(api_version, kind), want);
    }

    #[test]
    fn the_table_has_one_row_per_kind() {
        let mut seen: Vec<(&str, &str)> = PLURALS.iter().map(|(a, k, _)| (*a, *k)).collect();
        seen.sort_unstable();
        let before = seen.len();
        seen.dedup();
        assert_eq!(before, seen.len());
    }
}
