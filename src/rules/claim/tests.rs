use rstest::rstest;

use super::*;
use crate::{
    karmada::keys::CLAIMED_BY,
    rules::testing::{self, PolicyExt, SelectorExt, cpp, deploy, map, pp},
};

/// The outcome in one line: `PP default/a` / `CPP a` / `none`.
fn winner(
    policies: &[Policy],
    labels: &[(&str, &str)],
    annotations: &[(&str, &str)],
    ns: &str,
    gate: bool,
) -> String {
    let (l, a) = (map(labels), map(annotations));
    let t = Template::new("apps/v1", "Deployment", ns, "nginx", Some(&l), Some(&a));
    let r = resolve(&t, &policies, gate);
    r.winner().map_or("none".into(), |w| {
        format!(
            "{} {}",
            w.kind.short(),
            if w.namespace.is_empty() {
                w.name.to_owned()
            } else {
                format!("{}/{}", w.namespace, w.name)
            }
        )
    })
}

fn unclaimed(policies: &[Policy]) -> String {
    winner(policies, &[("app", "nginx")], &[], "default", false)
}

const PP_CLAIM_B: &[(&str, &str)] = &[(PP_NAMESPACE, "default"), (PP_NAME, "b")];
const PP_ID: &[(&str, &str)] = &[(PP_PERMANENT_ID, "id-b"), ("app", "nginx")];
const CPP_CLAIM_B: &[(&str, &str)] = &[(CPP_NAME, "b")];
const CPP_ID: &[(&str, &str)] = &[(CPP_PERMANENT_ID, "id-b"), ("app", "nginx")];

#[rstest]
#[case::higher_explicit_priority_beats_name_precision(
    vec![pp("default", "a", Some(2), vec![deploy().labels(&[("app", "nginx")])]), pp("default", "b", Some(1), vec![deploy().named("nginx")])],
    "PP default/a")]
#[case::zero_beats_negative_even_with_worse_precision(
    vec![pp("default", "a", None, vec![deploy()]), pp("default", "b", Some(-1), vec![deploy().named("nginx")])],
    "PP default/a")]
#[case::equal_explicit_name_beats_labels(
    vec![pp("default", "a", Some(1), vec![deploy().labels(&[("app", "nginx")])]), pp("default", "b", Some(1), vec![deploy().named("nginx")])],
    "PP default/b")]
#[case::equal_explicit_labels_beat_kind_wide(
    vec![pp("default", "a", None, vec![deploy()]), pp("default", "b", None, vec![deploy().labels(&[("app", "nginx")])])],
    "PP default/b")]
#[case::full_tie_smaller_name_wins(
    vec![pp("default", "b", None, vec![deploy()]), pp("default", "a", None, vec![deploy()])],
    "PP default/a")]
#[case::byte_order_uppercase_before_lowercase(
    vec![pp("default", "a", None, vec![deploy()]), pp("default", "B", None, vec![deploy()])],
    "PP default/B")]
#[case::byte_order_prefix_first(
    vec![pp("default", "abc", None, vec![deploy()]), pp("default", "ab", None, vec![deploy()])],
    "PP default/ab")]
#[case::nil_priority_is_zero(
    vec![pp("default", "a", None, vec![deploy()]), pp("default", "b", Some(0), vec![deploy()])],
    "PP default/a")]
#[case::any_pp_beats_any_cpp(
    vec![cpp("a", Some(100), vec![deploy().named("nginx")]), pp("default", "z", Some(-5), vec![deploy()])],
    "PP default/z")]
#[case::cpp_when_no_pp_matches(
    vec![cpp("a", None, vec![deploy()]), pp("default", "z", None, vec![deploy().named("other")])],
    "CPP a")]
#[case::pp_in_other_namespace_never_matches(
    vec![pp("other", "a", Some(9), vec![deploy()]), cpp("c", None, vec![deploy()])],
    "CPP c")]
#[case::selector_namespace_must_equal(
    vec![cpp("a", None, vec![deploy().in_ns("other")])],
    "none")]
#[case::api_version_is_an_exact_string(
    vec![pp("default", "a", None, vec![testing::sel("apps/v1beta1", "Deployment")])],
    "none")]
#[case::kind_is_an_exact_string(
    vec![pp("default", "a", None, vec![testing::sel("apps/v1", "deployment")])],
    "none")]
#[case::name_ignores_label_selector(
    vec![pp("default", "a", None, vec![deploy().named("nginx").labels(&[("app", "other")])])],
    "PP default/a")]
#[case::best_selector_of_a_policy_counts(
    vec![pp("default", "a", None, vec![deploy(), deploy().named("nginx")]), pp("default", "b", None, vec![deploy().labels(&[("app", "nginx")])])],
    "PP default/a")]
#[case::no_policies(vec![], "none")]
fn first_match(#[case] policies: Vec<Policy>, #[case] want: &str) {
    assert_eq!(unclaimed(&policies), want);
}

#[test]
fn empty_label_selector_matches_with_label_precision_and_nil_with_kind_precision() {
    let mut empty = deploy();
    empty.label_selector = Some(Default::default());
    let policies = [
        pp("default", "b", None, vec![empty]),
        pp("default", "a", None, vec![deploy()]),
    ];
    assert_eq!(unclaimed(&policies), "PP default/b");
}

#[test]
fn invalid_label_selector_never_matches() {
    let mut bad = deploy();
    bad.label_selector = Some(crate::karmada::policy::LabelSelector {
        match_expressions: Some(vec![
            k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement {
                key: "app".into(),
                operator: "In".into(),
                values: None,
            },
        ]),
        ..Default::default()
    });
    assert_eq!(unclaimed(&[pp("default", "a", None, vec![bad])]), "none");
}

#[rstest]
#[case::reserved_system("karmada-system")]
#[case::reserved_cluster("karmada-cluster")]
#[case::execution_space("karmada-es-member1")]
#[case::kube_prefix("kube-system")]
fn skipped_namespaces_never_match(#[case] ns: &str) {
    let policies = [pp(ns, "a", None, vec![deploy()]), cpp("c", None, vec![deploy()])];
    assert_eq!(winner(&policies, &[], &[], ns, false), "none");
}

#[test]
fn claimed_by_label_skips_the_template() {
    let policies = [pp("default", "a", None, vec![deploy()])];
    assert_eq!(
        winner(&policies, &[(CLAIMED_BY, "mcs")], &[], "default", false),
        "none"
    );
}

#[rstest]
// Sticky claims.
#[case::pp_claim_is_sticky_against_higher_priority(
    vec![pp("default", "b", Some(1), vec![deploy()]), pp("default", "a", Some(9), vec![deploy().named("nginx")])],
    PP_ID, PP_CLAIM_B, false, "PP default/b")]
#[case::claim_needs_the_permanent_id_label(
    vec![pp("default", "b", Some(1), vec![deploy()]), pp("default", "a", Some(9), vec![deploy().named("nginx")])],
    &[("app", "nginx")], PP_CLAIM_B, false, "PP default/a")]
#[case::stale_claim_to_a_missing_policy_rematches(
    vec![pp("default", "a", None, vec![deploy()])],
    PP_ID, PP_CLAIM_B, false, "PP default/a")]
#[case::claim_whose_selectors_stopped_matching_rematches(
    vec![pp("default", "b", None, vec![deploy().named("other")]), pp("default", "a", None, vec![deploy()])],
    PP_ID, PP_CLAIM_B, false, "PP default/a")]
#[case::cpp_claim_is_sticky_against_a_new_pp_without_preemption(
    vec![cpp("b", None, vec![deploy()]), pp("default", "a", Some(5), vec![deploy().named("nginx")])],
    CPP_ID, CPP_CLAIM_B, true, "CPP b")]
// Preemption, gate on.
#[case::pp_preempts_lower_pp(
    vec![pp("default", "b", Some(1), vec![deploy()]), pp("default", "a", Some(2), vec![deploy().named("nginx")]).always()],
    PP_ID, PP_CLAIM_B, true, "PP default/a")]
#[case::pp_equal_priority_cannot_preempt(
    vec![pp("default", "b", Some(2), vec![deploy()]), pp("default", "a", Some(2), vec![deploy().named("nginx")]).always()],
    PP_ID, PP_CLAIM_B, true, "PP default/b")]
#[case::pp_lower_priority_cannot_preempt(
    vec![pp("default", "b", Some(3), vec![deploy()]), pp("default", "a", Some(2), vec![deploy().named("nginx")]).always()],
    PP_ID, PP_CLAIM_B, true, "PP default/b")]
#[case::preemption_needs_a_named_selector(
    vec![pp("default", "b", Some(1), vec![deploy()]), pp("default", "a", Some(5), vec![deploy().labels(&[("app", "nginx")])]).always()],
    PP_ID, PP_CLAIM_B, true, "PP default/b")]
#[case::gate_off_blocks_preemption(
    vec![pp("default", "b", Some(1), vec![deploy()]), pp("default", "a", Some(5), vec![deploy().named("nginx")]).always()],
    PP_ID, PP_CLAIM_B, false, "PP default/b")]
#[case::pp_preempts_cpp_regardless_of_priority(
    vec![cpp("b", Some(100), vec![deploy()]), pp("default", "a", Some(-3), vec![deploy().named("nginx")]).always()],
    CPP_ID, CPP_CLAIM_B, true, "PP default/a")]
#[case::cpp_preempts_lower_cpp(
    vec![cpp("b", Some(1), vec![deploy()]), cpp("a", Some(2), vec![deploy().named("nginx").in_ns("default")]).always()],
    CPP_ID, CPP_CLAIM_B, true, "CPP a")]
#[case::cpp_preemption_needs_the_selector_namespace(
    vec![cpp("b", Some(1), vec![deploy()]), cpp("a", Some(2), vec![deploy().named("nginx")]).always()],
    CPP_ID, CPP_CLAIM_B, true, "CPP b")]
#[case::cpp_never_preempts_pp(
    vec![pp("default", "b", Some(-1), vec![deploy()]), cpp("a", Some(100), vec![deploy().named("nginx").in_ns("default")]).always()],
    PP_ID, PP_CLAIM_B, true, "PP default/b")]
#[case::highest_pp_preemptor_ends_up_holding(
    vec![cpp("b", None, vec![deploy()]),
         pp("default", "low", Some(1), vec![deploy().named("nginx")]).always(),
         pp("default", "high", Some(5), vec![deploy().named("nginx")]).always()],
    CPP_ID, CPP_CLAIM_B, true, "PP default/high")]
#[case::pp_preemptor_beats_cpp_preemptor(
    vec![cpp("b", None, vec![deploy()]),
         cpp("c", Some(50), vec![deploy().named("nginx").in_ns("default")]).always(),
         pp("default", "p", Some(0), vec![deploy().named("nginx")]).always()],
    CPP_ID, CPP_CLAIM_B, true, "PP default/p")]
fn claims_and_preemption(
    #[case] policies: Vec<Policy>,
    #[case] labels: &[(&str, &str)],
    #[case] annotations: &[(&str, &str)],
    #[case] gate: bool,
    #[case] want: &str,
) {
    assert_eq!(winner(&policies, labels, annotations, "default", gate), want);
}

#[test]
fn explanation_names_the_tie_break() {
    let policies = [
        pp("default", "b", None, vec![deploy()]),
        pp("default", "a", None, vec![deploy()]),
    ];
    let l = map(&[]);
    let t = Template::new("apps/v1", "Deployment", "default", "nginx", Some(&l), None);
    let r = resolve(&t, &&policies[..], false);
    let loser = r.candidates.iter().find(|c| c.name == "b").unwrap();
    assert!(loser.verdict.contains("byte order"), "{}", loser.verdict);
    assert_eq!(r.won_by, Some(WonBy::FirstMatchPropagationPolicy));
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn arb_policy() -> impl Strategy<Value = Policy> {
        (
            any::<bool>(),
            "[a-dA-D]{1,3}",
            prop_oneof![Just(None), (-3i32..4).prop_map(Some)],
            prop_oneof![Just(0u8), Just(1), Just(2), Just(3)],
            any::<bool>(),
        )
            .prop_map(|(is_pp, name, prio, sel_kind, always)| {
                let s = match sel_kind {
                    0 => deploy(),
                    1 => deploy().named("nginx"),
                    2 => deploy().labels(&[("app", "nginx")]),
                    _ => deploy().named("other"),
                };
                let p = if is_pp {
                    pp("default", &name, prio, vec![s])
                } else {
                    cpp(&name, prio, vec![s])
                };
                if always { p.always() } else { p }
            })
    }

    fn unique(mut v: Vec<Policy>) -> Vec<Policy> {
        let mut seen = std::collections::HashSet::new();
        v.retain(|p| seen.insert((p.kind.clone(), p.name().to_owned())));
        v
    }

    proptest! {
        #[test]
        fn winner_does_not_depend_on_candidate_order(
            policies in proptest::collection::vec(arb_policy(), 0..8).prop_map(unique),
            seed in any::<u64>(), claim in 0usize..10, gate in any::<bool>(),
        ) {
            // Optionally claim the template for one of the policies.
            let mut labels = map(&[("app", "nginx")]);
            let mut annotations = map(&[]);
            if let Some(c) = policies.get(claim) {
                if c.kind == "PropagationPolicy" {
                    labels.insert(PP_PERMANENT_ID.into(), "id".into());
                    annotations.insert(PP_NAMESPACE.into(), "default".into());
                    annotations.insert(PP_NAME.into(), c.name().into());
                } else {
                    labels.insert(CPP_PERMANENT_ID.into(), "id".into());
                    annotations.insert(CPP_NAME.into(), c.name().into());
                }
            }
            let t = Template::new("apps/v1", "Deployment", "default", "nginx", Some(&labels), Some(&annotations));
            let mut shuffled = policies.clone();
            // Deterministic shuffle from the seed.
            let mut s = seed;
            for i in (1..shuffled.len()).rev() {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (s >> 33) as usize % (i + 1));
            }
            let a = resolve(&t, &&policies[..], gate);
            let b = resolve(&t, &&shuffled[..], gate);
            let key = |r: &Resolution<'_>| r.winner().map(|w| (w.kind, w.name.to_owned()));
            prop_assert_eq!(key(&a), key(&b));
            // A winner always matches the template or holds its claim.
            if let Some(w) = a.winner() {
                prop_assert!(w.implicit_priority != Implicit::Mismatch);
            }
        }

        #[test]
        fn resolving_arbitrary_templates_never_panics(
            ns in "[a-z-]{0,12}", name in "[a-zA-Z0-9.:-]{0,12}",
            labels in proptest::collection::btree_map("[a-z./-]{0,10}", "[a-zA-Z0-9 ._-]{0,8}", 0..4),
            policies in proptest::collection::vec(arb_policy(), 0..6),
        ) {
            let t = Template::new("apps/v1", "Deployment", &ns, &name, Some(&labels), Some(&labels));
            let _ = resolve(&t, &&policies[..], true);
        }
    }
}
