use rstest::rstest;
use serde_json::{Value, json};

use super::*;
use crate::{
    config::{Config, GuardrailMode},
    fleet::Fleet,
    rules::view::TemplateMeta,
    rules::{
        Decision,
        testing::{PolicyExt, SelectorExt, cpp, denial, deploy, example_fleet, map, pp, run, sel},
    },
};

fn config(mode: GuardrailMode, gate: bool) -> Config {
    let mut c = Config::default();
    c.guardrails.mode = mode;
    c.preemption_gate = gate;
    c
}

fn json_of(p: &Policy) -> Value {
    serde_json::to_value(p).unwrap()
}

/// Runs the mutating then the validating webhook, the way the API server chains them.
fn admit(policy: &Policy, fleet: &Fleet, config: &Config) -> (Decision, Decision) {
    let mut obj = json_of(policy);
    let mutated = run(Webhook::MutatePolicy, &obj, None, fleet, config);
    if mutated.allowed() {
        json_patch::patch(&mut obj, &mutated.patch).unwrap();
    }
    let validated = run(Webhook::ValidatePolicy, &obj, None, fleet, config);
    (mutated, validated)
}

fn batch_cpp_too_high() -> Policy {
    cpp(
        "migrate-statefulsets",
        Some(50),
        vec![sel("apps/v1", "StatefulSet")],
    )
    .overwrite()
}

/// An application PP for StatefulSets labelled app=db in `shop`, where the batch PP shop/shop-batch
/// (priority 0) selects every StatefulSet.
fn app_db(priority: Option<i32>) -> Policy {
    pp(
        "shop",
        "db-app",
        priority,
        vec![sel("apps/v1", "StatefulSet").labels(&[("app", "db")])],
    )
}

#[test]
fn a_batch_policy_above_the_batch_maximum_is_denied_in_enforce_mode() {
    let (m, v) = admit(
        &batch_cpp_too_high(),
        &example_fleet(),
        &config(GuardrailMode::Enforce, false),
    );
    assert_eq!(m, Decision::allow());
    let (reason, message) = denial(&v);
    assert_eq!(reason, DenyReason::Guardrail);
    assert!(message.contains("batch policy ClusterPropagationPolicy migrate-statefulsets has priority 50, above the batch maximum 0"), "{message}");
    assert!(message.contains("set spec.priority to 0 or lower"), "{message}");
}

#[test]
fn warn_mode_admits_with_the_same_message_as_a_warning() {
    let (_, v) = admit(
        &batch_cpp_too_high(),
        &example_fleet(),
        &config(GuardrailMode::Warn, false),
    );
    assert!(v.allowed());
    assert!(
        v.warnings[0].contains("above the batch maximum"),
        "{:?}",
        v.warnings
    );
}

#[test]
fn fix_mode_lowers_a_batch_policy_and_turns_preemption_off() {
    let (m, v) = admit(
        &batch_cpp_too_high().always(),
        &example_fleet(),
        &config(GuardrailMode::Fix, false),
    );
    assert!(v.allowed(), "{v:?}");
    let mut obj = json_of(&batch_cpp_too_high().always());
    json_patch::patch(&mut obj, &m.patch).unwrap();
    assert_eq!(obj["spec"]["priority"], 0);
    assert_eq!(obj["spec"]["preemption"], "Never");
    assert_eq!(m.warnings.len(), 2, "{:?}", m.warnings);
}

#[rstest]
#[case::equal_priority_loses(Some(0), false)]
#[case::nil_priority_loses(None, false)]
#[case::strictly_higher_wins(Some(1), true)]
fn an_application_pp_must_outrank_a_competing_batch_pp(#[case] priority: Option<i32>, #[case] ok: bool) {
    let (_, v) = admit(
        &app_db(priority),
        &example_fleet(),
        &config(GuardrailMode::Enforce, false),
    );
    assert_eq!(v.allowed(), ok, "{v:?}");
    if !ok {
        let (_, message) = denial(&v);
        assert!(
            message.contains("competes with batch policy PropagationPolicy shop/shop-batch (priority 0)"),
            "{message}"
        );
        assert!(message.contains("set spec.priority to 1"), "{message}");
    }
}

#[test]
fn fix_mode_sets_the_smallest_sufficient_priority_but_not_below_the_application_minimum() {
    let mut c = config(GuardrailMode::Fix, false);
    c.tiers.application_min_priority = 5;
    let (m, v) = admit(&app_db(Some(0)), &example_fleet(), &c);
    assert!(v.allowed(), "{v:?}");
    let mut obj = json_of(&app_db(Some(0)));
    json_patch::patch(&mut obj, &m.patch).unwrap();
    assert_eq!(obj["spec"]["priority"], 5);

    let (m, _) = admit(
        &app_db(None),
        &example_fleet(),
        &config(GuardrailMode::Fix, false),
    );
    let mut obj = json_of(&app_db(None));
    json_patch::patch(&mut obj, &m.patch).unwrap();
    assert_eq!(obj["spec"]["priority"], 1, "adds the field when it was absent");
}

#[test]
fn a_pp_always_beats_a_batch_cpp_on_unclaimed_templates() {
    let app = pp("shop", "web", Some(0), vec![deploy().named("frontend")]);
    let (_, v) = admit(&app, &example_fleet(), &config(GuardrailMode::Enforce, false));
    // Admitted unchanged; the placement guard's verdict rides along for `check`.
    let placement = v
        .placement
        .clone()
        .expect("an application policy gets a placement verdict");
    assert!(placement.ok(), "{placement:?}");
    assert_eq!(Decision { placement: None, ..v }, Decision::allow());
}

#[test]
fn a_cpp_can_never_beat_a_batch_pp_and_no_fix_exists() {
    let app = cpp(
        "db-everywhere",
        Some(100),
        vec![sel("apps/v1", "StatefulSet").in_ns("shop").named("db")],
    );
    let (_, v) = admit(&app, &example_fleet(), &config(GuardrailMode::Enforce, false));
    let (_, message) = denial(&v);
    assert!(
        message.contains("can never win over batch policy PropagationPolicy shop/shop-batch"),
        "{message}"
    );
    assert!(
        message.contains("express this placement as a PropagationPolicy in namespace shop"),
        "{message}"
    );
    let (m, _) = admit(&app, &example_fleet(), &config(GuardrailMode::Fix, false));
    assert!(denial(&m).1.starts_with("no automatic fix exists"), "{m:?}");
}

fn catalog_app() -> Policy {
    pp(
        "shop",
        "catalog-app",
        Some(0),
        vec![deploy().in_ns("shop").named("catalog")],
    )
    .label(keys::TIER, "application")
}

#[test]
fn gate_off_names_the_takeover_policy_to_release() {
    let (_, v) = admit(
        &catalog_app(),
        &example_fleet(),
        &config(GuardrailMode::Enforce, false),
    );
    assert!(v.allowed(), "{v:?}");
    assert_eq!(
        v.actions,
        [Action::ReleasePolicy {
            kind: PolicyKind::PropagationPolicy,
            namespace: "shop".into(),
            name: "takeover-catalog-7fd7ff5bf5".into()
        }]
    );
    assert!(
        v.warnings[0].contains("releases takeover policy PropagationPolicy shop/takeover-catalog-7fd7ff5bf5"),
        "{:?}",
        v.warnings
    );
}

#[test]
fn gate_on_needs_preemption_always_and_a_strictly_higher_priority() {
    let (_, v) = admit(
        &catalog_app(),
        &example_fleet(),
        &config(GuardrailMode::Enforce, true),
    );
    let (_, message) = denial(&v);
    assert!(message.contains("needs a strictly higher priority"), "{message}");
    assert!(message.contains("spec.preemption: Always"), "{message}");
    let (m, v) = admit(
        &catalog_app(),
        &example_fleet(),
        &config(GuardrailMode::Fix, true),
    );
    assert!(v.allowed(), "{v:?}");
    let mut obj = json_of(&catalog_app());
    json_patch::patch(&mut obj, &m.patch).unwrap();
    assert_eq!(
        (obj["spec"]["priority"].clone(), obj["spec"]["preemption"].clone()),
        (json!(1), json!("Always"))
    );
}

#[test]
fn gate_on_preemption_needs_named_selectors() {
    let app = pp(
        "shop",
        "by-label",
        Some(5),
        vec![deploy().labels(&[("app", "catalog")])],
    )
    .always();
    let (_, v) = admit(&app, &example_fleet(), &config(GuardrailMode::Fix, true));
    let (_, message) = denial(&v);
    assert!(message.contains("name the resources"), "{message}");
}

#[test]
fn gate_off_and_someone_elses_batch_claim_is_denied() {
    let mut fleet = example_fleet();
    fleet.upsert_template(TemplateMeta {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        namespace: "warehouse".into(),
        name: "api".into(),
        labels: map(&[(keys::CPP_PERMANENT_ID, "id")]).into(),
        annotations: map(&[(keys::CPP_NAME, "migrate-deployments")]).into(),
    });
    let app = pp("warehouse", "api-app", Some(3), vec![deploy().named("api")]);
    let (_, v) = admit(&app, &fleet, &config(GuardrailMode::Enforce, false));
    let (_, message) = denial(&v);
    assert!(
        message
            .contains("ClusterPropagationPolicy migrate-deployments already claims Deployment warehouse/api"),
        "{message}"
    );
    assert!(message.contains("delete or narrow"), "{message}");
    // With the gate on, a PP with preemption Always takes it from a CPP regardless of priority.
    let (_, v) = admit(
        &app.clone().always(),
        &fleet,
        &config(GuardrailMode::Enforce, true),
    );
    assert!(v.allowed(), "{v:?}");
}

#[test]
fn label_selectors_that_cannot_overlap_do_not_compete() {
    let mut fleet = Fleet::synced_empty();
    fleet.upsert_policy(
        pp(
            "ns",
            "batch",
            Some(0),
            vec![deploy().labels(&[("tier", "batch")])],
        )
        .label(keys::TIER, "batch"),
    );
    let app = pp("ns", "app", Some(0), vec![deploy().labels(&[("tier", "web")])]);
    assert!(
        admit(&app, &fleet, &config(GuardrailMode::Enforce, false))
            .1
            .allowed()
    );
    let overlapping = pp("ns", "app", Some(0), vec![deploy().labels(&[("team", "a")])]);
    assert!(
        !admit(&overlapping, &fleet, &config(GuardrailMode::Enforce, false))
            .1
            .allowed()
    );
}

#[test]
fn an_update_does_not_compete_with_its_own_old_version() {
    let mut fleet = Fleet::synced_empty();
    let batch = pp("ns", "batch", Some(0), vec![deploy()]);
    fleet.upsert_policy(batch.clone());
    let (_, v) = admit(&batch, &fleet, &config(GuardrailMode::Enforce, false));
    assert_eq!(v, Decision::allow());
}

#[test]
fn an_invalid_tier_label_is_denied_with_the_allowed_values() {
    let p = pp("shop", "x", None, vec![deploy()]).label(keys::TIER, "gold");
    let (_, v) = admit(&p, &example_fleet(), &config(GuardrailMode::Enforce, false));
    assert!(denial(&v).1.contains("\"gold\" is not a tier"), "{v:?}");
}

#[test]
fn a_malformed_policy_is_denied_with_the_field() {
    let obj = json!({"apiVersion": "policy.karmada.io/v1alpha1", "kind": "PropagationPolicy",
        "metadata": {"name": "x", "namespace": "shop"}, "spec": {"resourceSelectors": [{"kind": "Deployment"}]}});
    let d = run(
        Webhook::ValidatePolicy,
        &obj,
        None,
        &example_fleet(),
        &Config::default(),
    );
    let (reason, message) = denial(&d);
    assert_eq!(reason, DenyReason::MalformedObject);
    assert!(
        message.contains("apiVersion") && message.contains("resourceSelectors[0]"),
        "{message}"
    );
}

#[test]
fn a_malformed_policy_is_denied_without_repeating_a_huge_value() {
    let obj = json!({"apiVersion": "policy.karmada.io/v1alpha1", "kind": "PropagationPolicy",
        "metadata": {"name": "x", "namespace": "shop"},
        "spec": {"resourceSelectors": [{"apiVersion": "apps/v1", "kind": "Deployment"}], "preemption": "N".repeat(1_000_000)}});
    let d = run(
        Webhook::ValidatePolicy,
        &obj,
        None,
        &example_fleet(),
        &Config::default(),
    );
    let (reason, message) = denial(&d);
    assert_eq!(reason, DenyReason::MalformedObject);
    assert!(
        message.len() < 500 && message.contains("…(1000000 bytes)") && message.contains("spec.preemption"),
        "{message}"
    );
}

#[test]
fn policies_in_excluded_namespaces_are_not_checked() {
    let p = pp("kube-system", "x", Some(99), vec![deploy()]);
    assert_eq!(
        admit(&p, &example_fleet(), &config(GuardrailMode::Enforce, false)).1,
        Decision::allow()
    );
}

// --- The placement guard on policy admission ---------------------------------------------------

/// An application PP for shop/frontend placed by `clusterNames`.
fn app_named(clusters: &[&str]) -> Policy {
    let mut p = pp("shop", "web", Some(1), vec![deploy().named("frontend")]);
    p.spec.placement = Some(Box::new(crate::karmada::policy::Placement {
        cluster_affinity: Some(crate::karmada::policy::ClusterAffinity {
            cluster_names: Some(clusters.iter().map(|c| (*c).to_owned()).collect()),
            ..Default::default()
        }),
        ..Default::default()
    }));
    p
}

fn with_guard(mode: crate::config::PlacementGuard) -> Config {
    let mut c = config(GuardrailMode::Enforce, false);
    c.placement_guard = mode;
    c
}

#[test]
fn an_application_policy_naming_a_cluster_that_does_not_exist_is_warned_about_by_default() {
    let (m, v) = admit(
        &app_named(&["member1", "membr2"]),
        &example_fleet(),
        &Config::default(),
    );
    assert!(
        m.warnings.is_empty() && m.placement.is_none(),
        "only the validating webhook checks: {m:?}"
    );
    assert!(v.allowed(), "{v:?}");
    assert_eq!(v.warnings.len(), 1, "{v:?}");
    assert!(
        v.warnings[0].starts_with(
            "PropagationPolicy shop/web names cluster membr2 in spec.placement.clusterAffinity.clusterNames, but no \
             member cluster has that name; member clusters are: member1, member2, member3"
        ),
        "{}",
        v.warnings[0]
    );
}

#[test]
fn enforce_denies_a_placement_that_fits_no_cluster_with_reason_placement() {
    let (_, v) = admit(
        &app_named(&["member7"]),
        &example_fleet(),
        &with_guard(crate::config::PlacementGuard::Enforce),
    );
    let (reason, message) = denial(&v);
    assert_eq!(reason, DenyReason::Placement);
    assert_eq!(reason.label(), "placement");
    assert!(message.contains("names cluster member7"), "{message}");
    assert!(
        message.contains(
            "places apps/v1 Deployment in no cluster: Karmada's scheduler would answer \"0/3 clusters are available\" \
             (member1: cluster(s) did not match the placement cluster affinity constraint (not in clusterNames); member2:"
        ),
        "{message}"
    );
}

#[test]
fn off_leaves_placements_unchecked() {
    let (_, v) = admit(
        &app_named(&["member7"]),
        &example_fleet(),
        &with_guard(crate::config::PlacementGuard::Off),
    );
    assert_eq!(v, Decision::allow());
}

#[test]
fn batch_policies_get_no_placement_verdict() {
    let mut batch = cpp("migrate-all", Some(0), vec![sel("apps/v1", "StatefulSet")]);
    batch.spec.placement = app_named(&["member7"]).spec.placement;
    let (_, v) = admit(
        &batch,
        &example_fleet(),
        &with_guard(crate::config::PlacementGuard::Enforce),
    );
    assert_eq!(v, Decision::allow());
}

#[test]
fn a_tier_denial_and_a_placement_denial_are_one_message_with_the_tier_reason() {
    // db-app at priority 0 cannot win over shop/shop-batch, and member7 does not exist.
    let mut weak = app_db(Some(0));
    weak.spec.placement = app_named(&["member1", "member7"]).spec.placement;
    let (_, v) = admit(
        &weak,
        &example_fleet(),
        &with_guard(crate::config::PlacementGuard::Enforce),
    );
    let (reason, message) = denial(&v);
    assert_eq!(reason, DenyReason::Guardrail);
    assert!(message.contains("competes with batch policy"), "{message}");
    assert!(
        message.contains("; PropagationPolicy shop/db-app names cluster member7"),
        "{message}"
    );
}
