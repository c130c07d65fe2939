//! Tests of the placement guard: table cases per rule (named after Karmada's own scheduler tests
//! where the rule has one: `TestTaintToleration_Filter`, `TestAPIEnablement_Filter`,
//! `TestSpreadConstraint_Filter`, `TestSelectBestClusters`), the verdict folded into decisions,
//! and a property.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;
use rstest::rstest;

use super::*;
use crate::{
    fleet::Fleet,
    karmada::cluster::{self as kc},
    rules::{
        placement::tests::{Build, condition, member, placement},
        testing::{SelectorExt, deploy, pp, sel},
        view::ClusterInfo,
    },
};

/// A member whose `Ready` condition is `False`, with the taint Karmada's cluster controller
/// puts on it.
fn not_ready(name: &str) -> Cluster {
    let mut c = member(name);
    c.status.as_mut().unwrap().conditions = Some(vec![
        condition("Ready", "False"),
        condition("CompleteAPIEnablements", "True"),
    ]);
    c.spec.taints = Some(vec![kc::not_ready_taint()]);
    c
}

fn fleet_of(clusters: &[Cluster]) -> Fleet {
    let mut f = Fleet::synced_empty();
    for c in clusters {
        f.upsert_cluster(ClusterInfo::from(c));
    }
    f
}

/// Three Ready, untainted members serving Deployments and ConfigMaps.
fn three() -> Vec<Cluster> {
    vec![member("member1"), member("member2"), member("member3")]
}

/// An application PP for shop/web of `api_version`/`kind` with the placement in YAML.
fn app_policy(api_version: &str, kind: &str, placement_yaml: &str) -> Policy {
    let mut p = pp("shop", "web", Some(1), vec![sel(api_version, kind).named("web")]);
    p.spec.placement = Some(Box::new(placement(placement_yaml)));
    p
}

fn check(policy: &Policy, fleet: &Fleet, mode: PlacementGuard) -> Option<PlacementVerdict> {
    check_policy(policy, PolicyKind::PropagationPolicy, fleet, mode)
}

// --- Application policies -------------------------------------------------------------------

/// One case per rule: the fleet, the placement, the selected kind, and fragments every problem
/// message must hold (empty: no problem).
#[rstest]
#[case::no_taints(three(), "{clusterAffinity: {clusterNames: [member1, member2]}}", "Deployment", &[])]
#[case::tolerated_taint(
    vec![member("member1").taint("key1", "value1", "NoSchedule")],
    "{clusterTolerations: [{key: key1, operator: Equal, value: value1, effect: NoSchedule}]}",
    "Deployment",
    &[]
)]
#[case::untolerated_taint(
    vec![member("member1").taint("key1", "value1", "NoSchedule")],
    "{}",
    "Deployment",
    &["PropagationPolicy shop/web places apps/v1 Deployment in no cluster", "\"0/1 clusters are available\"", "member1: cluster(s) had untolerated taint {key1=value1:NoSchedule}"]
)]
#[case::api_is_not_enabled_in_cluster(
    three(),
    "{}",
    "StatefulSet",
    &["places apps/v1 StatefulSet in no cluster", "member2: cluster(s) did not have the API resource (apps/v1 StatefulSet is not in status.apiEnablements)"]
)]
#[case::selects_no_ready_cluster(
    vec![not_ready("member1"), not_ready("member2"), member("member3")],
    "{clusterAffinity: {clusterNames: [member1, member2]}}",
    "Deployment",
    &["\"0/3 clusters are available\"", "member1: cluster(s) had untolerated taint {cluster.karmada.io/not-ready:NoSchedule}", "member3: cluster(s) did not match the placement cluster affinity constraint (not in clusterNames)"]
)]
#[case::excludes_every_cluster(
    three(),
    "{clusterAffinity: {exclude: [member1, member2, member3]}}",
    "Deployment",
    &["member1: cluster(s) did not match the placement cluster affinity constraint (listed in exclude)", "member3: cluster(s) did not match"]
)]
#[case::label_selector_matches_no_cluster(
    three(),
    "{clusterAffinity: {labelSelector: {matchLabels: {env: prod}}}}",
    "Deployment",
    &["member2: cluster(s) did not match the placement cluster affinity constraint (labels do not match labelSelector)"]
)]
#[case::spread_by_region_region_missing(
    three(),
    "{spreadConstraints: [{spreadByField: region, minGroups: 1, maxGroups: 2}]}",
    "Deployment",
    &["member1: cluster(s) did not have region property"]
)]
#[case::select_clusters_by_cluster_score_and_exceeded_the_number_of_available_clusters(
    three(),
    "{clusterAffinity: {clusterNames: [member1, member2]}, spreadConstraints: [{spreadByField: cluster, minGroups: 3, maxGroups: 3}]}",
    "Deployment",
    &["\"the number of feasible clusters is less than spreadConstraint.MinGroups\"", "member1: feasible, but the spread constraints cannot be met"]
)]
#[case::a_cluster_that_does_not_exist(
    three(),
    "{clusterAffinity: {clusterNames: [member1, membr2]}}",
    "Deployment",
    &["PropagationPolicy shop/web names cluster membr2 in spec.placement.clusterAffinity.clusterNames, but no member cluster has that name; member clusters are: member1, member2, member3"]
)]
#[case::clusters_that_do_not_exist_in_a_clusteraffinities_term(
    three(),
    "{clusterAffinities: [{affinityName: primary, clusterNames: [member1]}, {affinityName: backup, clusterNames: [x1, x2]}]}",
    "Deployment",
    &["names clusters x1, x2 in spec.placement.clusterAffinities[1].clusterNames, but no member cluster has those names"]
)]
#[case::a_static_weight_target_that_does_not_exist(
    three(),
    "{replicaScheduling: {replicaSchedulingType: Divided, replicaDivisionPreference: Weighted, weightPreference: {staticWeightList: [{targetCluster: {clusterNames: [member9]}, weight: 1}]}}}",
    "Deployment",
    &["names cluster member9 in spec.placement.replicaScheduling.weightPreference.staticWeightList[0].targetCluster.clusterNames"]
)]
fn application_policy_placements(
    #[case] clusters: Vec<Cluster>,
    #[case] placement_yaml: &str,
    #[case] kind: &str,
    #[case] fragments: &[&str],
) {
    let fleet = fleet_of(&clusters);
    let v = check(
        &app_policy("apps/v1", kind, placement_yaml),
        &fleet,
        PlacementGuard::Warn,
    )
    .expect("a verdict");
    assert_eq!(v.mode, PlacementGuard::Warn);
    assert_eq!(v.checks.len(), 1, "{v:?}");
    if fragments.is_empty() {
        assert!(v.ok(), "{v:?}");
        assert!(v.checks[0].feasible, "{v:?}");
        return;
    }
    assert_eq!(v.problems.len(), 1, "{v:?}");
    let problem = &v.problems[0];
    for f in fragments {
        assert!(
            problem.message.contains(f),
            "missing {f:?} in {}",
            problem.message
        );
    }
    assert!(
        !problem.clusters.is_empty(),
        "the reason per cluster: {problem:?}"
    );
}

#[test]
fn every_cluster_of_an_infeasible_placement_comes_with_its_reason() {
    let fleet = fleet_of(&[
        member("member1").taint("maintenance", "", "NoSchedule"),
        not_ready("member2"),
        member("member3"),
    ]);
    let v = check(
        &app_policy(
            "apps/v1",
            "Deployment",
            "{clusterAffinity: {clusterNames: [member1, member2]}}",
        ),
        &fleet,
        PlacementGuard::Warn,
    )
    .unwrap();
    let reasons: Vec<(&str, &str)> = v.problems[0]
        .clusters
        .iter()
        .map(|e| (e.name.as_str(), e.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "member1",
                "cluster(s) had untolerated taint {maintenance:NoSchedule}"
            ),
            (
                "member2",
                "cluster(s) had untolerated taint {cluster.karmada.io/not-ready:NoSchedule}"
            ),
            (
                "member3",
                "cluster(s) did not match the placement cluster affinity constraint (not in clusterNames)"
            ),
        ]
    );
    assert!(!v.checks[0].feasible);
    assert_eq!(v.checks[0].error.as_deref(), Some("0/3 clusters are available"));
}

#[test]
fn each_selected_kind_is_checked_once() {
    let mut p = app_policy("apps/v1", "Deployment", "{}");
    p.spec.resource_selectors = vec![
        deploy().named("a"),
        deploy().labels(&[("app", "b")]),
        sel("v1", "ConfigMap"),
        sel("apps/v1", "StatefulSet"),
    ];
    let v = check(&p, &fleet_of(&three()), PlacementGuard::Warn).unwrap();
    let kinds: Vec<(&str, bool)> = v.checks.iter().map(|c| (c.kind.as_str(), c.feasible)).collect();
    assert_eq!(
        kinds,
        [("Deployment", true), ("ConfigMap", true), ("StatefulSet", false)]
    );
    assert_eq!(v.problems.len(), 1);
    assert!(v.problems[0].message.contains("apps/v1 StatefulSet"), "{v:?}");
}

#[test]
fn a_placement_that_names_a_missing_cluster_and_fits_nowhere_gets_both_problems() {
    let v = check(
        &app_policy(
            "apps/v1",
            "Deployment",
            "{clusterAffinity: {clusterNames: [member4]}}",
        ),
        &fleet_of(&three()),
        PlacementGuard::Enforce,
    )
    .unwrap();
    assert_eq!(v.problems.len(), 2, "{v:?}");
    assert!(v.problems[0].message.contains("names cluster member4"), "{v:?}");
    assert!(v.problems[1].message.contains("in no cluster"), "{v:?}");
}

#[test]
fn a_fleet_without_clusters_gets_no_verdict_and_off_checks_nothing() {
    let p = app_policy(
        "apps/v1",
        "Deployment",
        "{clusterAffinity: {clusterNames: [member4]}}",
    );
    assert_eq!(check(&p, &Fleet::synced_empty(), PlacementGuard::Enforce), None);
    assert_eq!(check(&p, &fleet_of(&three()), PlacementGuard::Off), None);
}

#[test]
fn a_policy_being_deleted_gets_no_verdict() {
    let mut p = app_policy(
        "apps/v1",
        "Deployment",
        "{clusterAffinity: {clusterNames: [member4]}}",
    );
    p.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
    ));
    assert_eq!(check(&p, &fleet_of(&three()), PlacementGuard::Enforce), None);
}

/// A source that reports only names and readiness cannot say what the scheduler would filter:
/// unknown names are still reported, feasibility is not judged.
#[test]
fn without_cluster_objects_only_names_are_judged() {
    let mut fleet = Fleet::synced_empty();
    for name in ["member1", "member2"] {
        fleet.upsert_cluster(ClusterInfo {
            name: name.into(),
            labels: Default::default(),
            ready: true,
            object: None,
        });
    }
    let v = check(
        &app_policy(
            "apps/v1",
            "Deployment",
            "{clusterAffinity: {clusterNames: [member1, member7]}}",
        ),
        &fleet,
        PlacementGuard::Warn,
    )
    .unwrap();
    assert!(v.checks.is_empty(), "{v:?}");
    assert_eq!(v.problems.len(), 1);
    assert_eq!(v.problems[0].clusters[0].name, "member7");
}

// --- Takeover policies ----------------------------------------------------------------------

fn workload(kind: &str) -> Workload {
    Workload {
        api_version: "apps/v1".into(),
        kind: kind.into(),
        ..Workload::default()
    }
}

/// The takeover policy the engine would create for shop/web, pinned to `clusters`.
fn takeover_of(clusters: &[&str]) -> Policy {
    let names: Vec<String> = clusters.iter().map(|c| (*c).to_owned()).collect();
    let mut p = pp(
        "shop",
        "takeover-web-1234567890",
        Some(0),
        vec![deploy().named("web")],
    );
    p.spec.placement = Some(Box::new(Placement {
        cluster_affinity: Some(ClusterAffinity {
            cluster_names: Some(names),
            ..Default::default()
        }),
        ..Default::default()
    }));
    p
}

/// Each source cluster through the filters with the takeover policy's placement: the cluster,
/// Karmada's reason and what to do.
#[rstest]
#[case::no_taints(member("member2"), "Deployment", &[])]
#[case::untolerated_taint(
    member("member2").taint("key1", "value1", "NoSchedule"),
    "Deployment",
    &["takeover policy PropagationPolicy shop/takeover-web-1234567890 pins Deployment shop/web to member2, but Karmada's scheduler would filter member2 out (cluster(s) had untolerated taint {key1=value1:NoSchedule})", "remove the taint from Cluster member2 (spec.taints)", "never adds tolerations"]
)]
#[case::untolerated_no_execute_taint(
    member("member2").taint("drain", "", "NoExecute"),
    "Deployment",
    &["untolerated taint {drain:NoExecute}", "spec.placement.clusterTolerations"]
)]
#[case::prefer_no_schedule_is_ignored(member("member2").taint("soft", "", "PreferNoSchedule"), "Deployment", &[])]
#[case::api_is_not_enabled_in_cluster(
    member("member2"),
    "StatefulSet",
    &["cluster(s) did not have the API resource (apps/v1 StatefulSet is not in status.apiEnablements)", "make sure member2 serves apps/v1 StatefulSet and that Cluster member2 lists it in status.apiEnablements"]
)]
#[case::not_ready(
    not_ready("member2"),
    "Deployment",
    &["untolerated taint {cluster.karmada.io/not-ready:NoSchedule}", "once member2 is Ready again", "kubectl get cluster member2"]
)]
fn takeover_source_clusters(#[case] source: Cluster, #[case] kind: &str, #[case] fragments: &[&str]) {
    let fleet = fleet_of(&[member("member1"), source]);
    let v = check_takeover(
        &takeover_of(&["member2"]),
        "Deployment shop/web",
        &workload(kind),
        &["member2".to_owned()],
        &fleet,
        PlacementGuard::Warn,
    )
    .unwrap();
    if fragments.is_empty() {
        assert!(v.ok(), "{v:?}");
        assert_eq!(v.checks[0].clusters, ["member2"]);
        return;
    }
    assert_eq!(v.problems.len(), 1, "{v:?}");
    let p = &v.problems[0];
    for f in fragments {
        assert!(p.message.contains(f), "missing {f:?} in {}", p.message);
    }
    assert_eq!(p.clusters[0].name, "member2");
    assert_eq!(v.checks[0].excluded[0].name, "member2");
}

#[test]
fn a_takeover_whose_every_source_is_filtered_is_infeasible() {
    let fleet = fleet_of(&[not_ready("member1")]);
    let v = check_takeover(
        &takeover_of(&["member1"]),
        "Deployment shop/web",
        &workload("Deployment"),
        &["member1".to_owned()],
        &fleet,
        PlacementGuard::Enforce,
    )
    .unwrap();
    assert!(!v.checks[0].feasible);
    assert_eq!(v.checks[0].error.as_deref(), Some("0/1 clusters are available"));
}

#[test]
fn a_takeover_source_without_its_object_is_judged_on_readiness_alone() {
    let mut fleet = Fleet::synced_empty();
    for (name, ready) in [("member1", true), ("member2", false)] {
        fleet.upsert_cluster(ClusterInfo {
            name: name.into(),
            labels: Default::default(),
            ready,
            object: None,
        });
    }
    let v = check_takeover(
        &takeover_of(&["member1", "member2"]),
        "Deployment shop/web",
        &workload("Deployment"),
        &["member1".to_owned(), "member2".to_owned()],
        &fleet,
        PlacementGuard::Warn,
    )
    .unwrap();
    assert_eq!(v.checks[0].clusters, ["member1"]);
    assert_eq!(v.problems.len(), 1);
    assert!(v.problems[0].message.contains("(cluster is not Ready)"), "{v:?}");
    assert_eq!(
        check_takeover(
            &takeover_of(&["member2"]),
            "Deployment shop/web",
            &workload("Deployment"),
            &["member2".to_owned()],
            &fleet,
            PlacementGuard::Off,
        ),
        None
    );
}

// --- Folding the verdict into the decision --------------------------------------------------

fn verdict(mode: PlacementGuard, problems: &[&str]) -> PlacementVerdict {
    PlacementVerdict {
        mode,
        checks: Vec::new(),
        problems: problems
            .iter()
            .map(|m| Problem {
                message: (*m).to_owned(),
                clusters: Vec::new(),
            })
            .collect(),
    }
}

#[test]
fn warn_adds_a_warning_per_problem_and_keeps_the_verdict() {
    let d = apply(
        Decision::allow(),
        Some(verdict(PlacementGuard::Warn, &["a", "b"])),
    );
    assert!(d.allowed());
    assert_eq!(d.warnings, ["a", "b"]);
    assert_eq!(d.placement.unwrap().problems.len(), 2);
}

#[test]
fn enforce_denies_with_reason_placement_and_drops_what_the_admission_would_have_done() {
    let allowed = Decision::allow().warn("a dependency note");
    let d = apply(allowed, Some(verdict(PlacementGuard::Enforce, &["a", "b"])));
    assert_eq!(
        d.verdict,
        Verdict::Deny {
            reason: DenyReason::Placement,
            message: "a; b".into()
        }
    );
    assert!(d.warnings.is_empty());
    assert!(d.placement.is_some());
}

#[test]
fn enforce_on_a_review_already_denied_keeps_its_reason_and_joins_the_messages() {
    let denied = Decision::deny(DenyReason::Guardrail, "tier rule");
    let d = apply(
        denied,
        Some(verdict(PlacementGuard::Enforce, &["placement rule"])),
    );
    assert_eq!(
        d.verdict,
        Verdict::Deny {
            reason: DenyReason::Guardrail,
            message: "tier rule; placement rule".into()
        }
    );
}

#[test]
fn no_problem_changes_nothing_but_the_verdict_shown() {
    let d = apply(Decision::allow(), Some(verdict(PlacementGuard::Enforce, &[])));
    assert!(d.allowed() && d.warnings.is_empty());
    assert!(d.placement.unwrap().ok());
    assert_eq!(apply(Decision::allow(), None), Decision::allow());
}

// --- Property -------------------------------------------------------------------------------

proptest! {
    /// A policy whose clusterNames are all existing, Ready, untainted clusters serving the kind
    /// never gets a placement problem, with or without a cluster spread constraint it can meet.
    #[test]
    fn naming_only_ready_untainted_clusters_never_gets_a_problem(
        n in 1..6usize,
        mask in 1..64u32,
        spread in prop::option::of((1..6i32, 0..3i32)),
        regions in prop::collection::vec(prop::sample::select(vec!["r1", "r2", ""]), 6),
    ) {
        let clusters: Vec<Cluster> = (0..n)
            .map(|i| member(&format!("m{i}")).topology("p", regions[i], ""))
            .collect();
        let mut names: Vec<String> = (0..n).filter(|i| mask & (1 << i) != 0).map(|i| format!("m{i}")).collect();
        if names.is_empty() {
            names.push("m0".into());
        }
        let mut yaml = format!("{{clusterAffinity: {{clusterNames: [{}]}}", names.join(", "));
        if let Some((min, extra)) = spread {
            let count = i32::try_from(names.len()).unwrap();
            let min = min.min(count);
            yaml.push_str(&format!(", spreadConstraints: [{{spreadByField: cluster, minGroups: {min}, maxGroups: {}}}]", min + extra));
        }
        yaml.push('}');
        let v = check(&app_policy("apps/v1", "Deployment", &yaml), &fleet_of(&clusters), PlacementGuard::Enforce).unwrap();
        prop_assert!(v.ok(), "{} -> {:?}", yaml, v);
        prop_assert!(v.checks[0].clusters.iter().all(|c| names.contains(c)));
        prop_assert!(!v.checks[0].clusters.is_empty());
    }
}
