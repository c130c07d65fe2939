//! Namespaces Karmada never propagates from, and so the engine never acts in: one definition for
//! the claim resolver (which mirrors Karmada's detector) and the config's always-excluded list.

/// Karmada's reserved namespaces (`pkg/util/names/names.go`: `NamespaceKarmadaSystem`,
/// `NamespaceKarmadaCluster`).
pub const RESERVED: &[&str] = &["karmada-system", "karmada-cluster"];
/// Prefix of Karmada's execution namespaces (`karmada-es-<cluster>`, `names.ExecutionSpacePrefix`).
pub const EXECUTION_PREFIX: &str = "karmada-es-";
/// Prefix the detector skips with its default `--skipped-propagating-namespaces=kube-.*`.
pub const DEFAULT_SKIPPED_PREFIX: &str = "kube-";

/// The always-excluded namespaces as the config documents them (`*` is a prefix match).
pub const ALWAYS_EXCLUDED_PATTERNS: &[&str] =
    &["karmada-system", "karmada-cluster", "karmada-es-*", "kube-*"];

/// Whether Karmada treats `namespace` as reserved (never propagated, never matched by a CPP):
/// `names.IsReservedNamespace`.
pub fn is_reserved(namespace: &str) -> bool {
    RESERVED.contains(&namespace) || namespace.starts_with(EXECUTION_PREFIX)
}

/// Whether the detector skips `namespace` with its default `--skipped-propagating-namespaces`.
pub fn is_default_skipped(namespace: &str) -> bool {
    namespace.starts_with(DEFAULT_SKIPPED_PREFIX)
}

/// Whether the engine never acts in `namespace`, whatever the configuration says.
pub fn is_always_excluded(namespace: &str) -> bool {
    is_reserved(namespace) || is_default_skipped(namespace)
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case::karmada_system("karmada-system", true, false)]
    #[case::karmada_cluster("karmada-cluster", true, false)]
    #[case::execution_space("karmada-es-member1", true, false)]
    #[case::kube_system("kube-system", false, true)]
    #[case::kube_public("kube-public", false, true)]
    #[case::ordinary("shop", false, false)]
    #[case::lookalike("karmada-systems", false, false)]
    #[case::kube_without_dash("kubeflow", false, false)]
    fn reserved_and_skipped(#[case] ns: &str, #[case] reserved: bool, #[case] skipped: bool) {
        assert_eq!(is_reserved(ns), reserved);
        assert_eq!(is_default_skipped(ns), skipped);
        assert_eq!(is_always_excluded(ns), reserved || skipped);
    }

    #[test]
    fn the_documented_patterns_say_the_same() {
        let by_pattern = |ns: &str| {
            ALWAYS_EXCLUDED_PATTERNS
                .iter()
                .any(|p| match p.strip_suffix('*') {
                    Some(prefix) => ns.starts_with(prefix),
                    None => *p == ns,
                })
        };
        for ns in [
            "karmada-system",
            "karmada-cluster",
            "karmada-es-m1",
            "kube-x",
            "shop",
            "kubeflow",
            "karmada",
        ] {
            assert_eq!(by_pattern(ns), is_always_excluded(ns), "{ns}");
        }
    }
}
