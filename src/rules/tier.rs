//! Policy tiers: batch (takeover) policies and application policies.
//!
//! The label `karmada-takeover.io/tier: batch|application` decides; without it a policy whose
//! every selector is kind-wide (no name, no or an empty label selector) is batch — that is the
//! shape of Karmada's "migrate in batch" policies — and any other policy is application.
//! Policies the engine creates are batch.

use serde::Serialize;

use crate::karmada::{Policy, keys};

/// The two tiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Tier {
    /// Adopts existing member workloads at the lowest priority; must lose to application policies.
    Batch,
    /// Says where an application should run; must be able to win over batch policies.
    Application,
}

impl Tier {
    /// `batch` or `application`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Batch => "batch",
            Tier::Application => "application",
        }
    }
}

/// The tier of a policy; `Err` names the bad label value.
pub fn classify(policy: &Policy) -> Result<Tier, String> {
    match policy.label(keys::TIER) {
        Some("batch") => Ok(Tier::Batch),
        Some("application") => Ok(Tier::Application),
        Some(other) => Err(format!(
            "label {}={other:?} is not a tier: use \"batch\" or \"application\" (or remove the label)",
            keys::TIER
        )),
        None if policy.is_ours() => Ok(Tier::Batch),
        None if !policy.spec.resource_selectors.is_empty()
            && policy.spec.resource_selectors.iter().all(|s| s.is_kind_wide()) =>
        {
            Ok(Tier::Batch)
        }
        None => Ok(Tier::Application),
    }
}

/// The tier, treating an invalid label as application (the conservative reading for competitors).
pub fn tier_of(policy: &Policy) -> Tier {
    classify(policy).unwrap_or(Tier::Application)
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::rules::testing::{PolicyExt, SelectorExt, cpp, deploy, pp};

    #[rstest]
    #[case::kind_wide_is_batch(pp("d", "p", None, vec![deploy()]), Ok(Tier::Batch))]
    #[case::empty_label_selector_is_kind_wide(pp("d", "p", None, vec![{ let mut s = deploy(); s.label_selector = Some(Default::default()); s }]), Ok(Tier::Batch))]
    #[case::named_is_application(pp("d", "p", None, vec![deploy().named("web")]), Ok(Tier::Application))]
    #[case::labels_are_application(cpp("p", None, vec![deploy().labels(&[("a", "b")])]), Ok(Tier::Application))]
    #[case::one_precise_selector_makes_application(pp("d", "p", None, vec![deploy(), deploy().named("x")]), Ok(Tier::Application))]
    #[case::label_wins(pp("d", "p", None, vec![deploy()]).label(keys::TIER, "application"), Ok(Tier::Application))]
    #[case::label_wins_for_named(pp("d", "p", None, vec![deploy().named("x")]).label(keys::TIER, "batch"), Ok(Tier::Batch))]
    #[case::ours_are_batch(pp("d", "p", None, vec![deploy().named("x")]).label(keys::MANAGED_BY, keys::MANAGED_BY_VALUE), Ok(Tier::Batch))]
    fn tiers(#[case] policy: Policy, #[case] want: Result<Tier, String>) {
        assert_eq!(classify(&policy), want);
    }

    #[test]
    fn bad_tier_label_is_explained() {
        let err = classify(&pp("d", "p", None, vec![deploy()]).label(keys::TIER, "gold")).unwrap_err();
        assert!(err.contains("gold") && err.contains("batch"), "{err}");
    }
}
