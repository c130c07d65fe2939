//! Karmada's name algorithms, reproduced exactly (`pkg/util/names/names.go`,
//! k8s.io/apimachinery `util/rand.SafeEncodeString`), so names we compute agree with Karmada's.

/// FNV-32a of the bytes (the hash behind Karmada's generated names).
pub fn fnv32a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |hash, &b| {
        (hash ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

/// `SafeEncodeString`: maps each character to one of 27 characters that never form bad words.
pub fn safe_encode(s: &str) -> String {
    const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    s.bytes()
        .map(|b| char::from(ALPHANUMS[usize::from(b) % ALPHANUMS.len()]))
        .collect()
}

/// Go's `GroupVersionKind.String()`: `apps/v1, Kind=Deployment`; core group: `/v1, Kind=Secret`.
pub fn gvk_string(api_version: &str, kind: &str) -> String {
    let (group, version) = super::api::split_api_version(api_version);
    format!("{group}/{version}, Kind={kind}")
}

/// `GeneratePolicyName(namespace, name, gvk)`: what `karmadactl promote` names its policy.
pub fn generate_policy_name(namespace: &str, name: &str, gvk: &str) -> String {
    let hash = fnv32a(format!("{namespace}{gvk}").as_bytes());
    format!(
        "{}-{}",
        name.replace(':', ".").to_lowercase(),
        safe_encode(&hash.to_string())
    )
}

/// `GenerateBindingName(kind, name)`: the ResourceBinding of a template.
pub fn binding_name(kind: &str, name: &str) -> String {
    format!("{}-{}", name.replace(':', "."), kind).to_lowercase()
}

/// Longest name a PropagationPolicy may have (a DNS subdomain).
pub const MAX_NAME_LEN: usize = 253;

/// The deterministic name of the takeover policy for a template: `takeover-` + Karmada's
/// `GeneratePolicyName` of the template (hash over namespace + GVK, so a CPP name is unique per
/// namespace too), trimmed to a valid object name.
pub fn takeover_policy_name(namespace: &str, name: &str, api_version: &str, kind: &str) -> String {
    let generated = generate_policy_name(namespace, name, &gvk_string(api_version, kind));
    let mut full = format!("takeover-{generated}");
    if full.len() > MAX_NAME_LEN {
        // Keep the hash suffix: it is what makes the name unique.
        let suffix_at = full.rfind('-').unwrap_or(full.len());
        let suffix = full[suffix_at..].to_owned();
        full.truncate(MAX_NAME_LEN - suffix.len());
        full = format!("{}{suffix}", full.trim_end_matches(['-', '.']));
    }
    full
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn karmada_test_vector_for_generate_policy_name() {
        // pkg/util/names/names_test.go: ns "ns-foo", name "foo", gvk "rand".
        assert_eq!(fnv32a(b"ns-foorand"), 60534340);
        assert_eq!(generate_policy_name("ns-foo", "foo", "rand"), "foo-b4978784");
    }

    #[test]
    fn gvk_strings_match_go() {
        assert_eq!(gvk_string("apps/v1", "Deployment"), "apps/v1, Kind=Deployment");
        assert_eq!(gvk_string("v1", "Secret"), "/v1, Kind=Secret");
    }

    #[test]
    fn binding_names_match_go() {
        assert_eq!(binding_name("Deployment", "nginx"), "nginx-deployment");
        assert_eq!(
            binding_name("ClusterRole", "system:admin"),
            "system.admin-clusterrole"
        );
    }

    #[test]
    fn takeover_names_are_deterministic_and_valid() {
        let a = takeover_policy_name("default", "Nginx", "apps/v1", "Deployment");
        assert_eq!(
            a,
            takeover_policy_name("default", "Nginx", "apps/v1", "Deployment")
        );
        assert!(a.starts_with("takeover-nginx-"), "{a}");
        assert_ne!(a, takeover_policy_name("other", "Nginx", "apps/v1", "Deployment"));
        let long = takeover_policy_name("default", &"x".repeat(400), "apps/v1", "Deployment");
        assert!(long.len() <= MAX_NAME_LEN);
        let hash = generate_policy_name("default", &"x".repeat(400), &gvk_string("apps/v1", "Deployment"));
        assert!(long.ends_with(&hash[hash.rfind('-').unwrap()..]), "{long}");
    }
}
