//! Tests of the placement preview: table cases named after Karmada's own tests
//! (`pkg/scheduler/framework/plugins/*/*_test.go`, `pkg/scheduler/core/*_test.go`,
//! `pkg/util/selector_test.go`), scheduling end to end, and properties.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use k8s_openapi::{
    api::core::v1::Toleration,
    apimachinery::pkg::{api::resource::Quantity, apis::meta::v1::ObjectMeta},
};
use proptest::prelude::*;
use rstest::rstest;

use super::{
    assign, filter,
    spread::{self, ClusterDetail, GroupClustersInfo, GroupInfo},
    *,
};
use crate::karmada::cluster::{
    ApiEnablement, ApiResource, ClusterSpec, ClusterStatus, Condition, ResourceSummary, Taint,
};

/// A Ready member serving `apps/v1 Deployment` and `v1 ConfigMap` (complete list), 100 pods free.
pub(super) fn member(name: &str) -> Cluster {
    Cluster {
        api_version: "cluster.karmada.io/v1alpha1".into(),
        kind: "Cluster".into(),
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        spec: ClusterSpec::default(),
        status: Some(ClusterStatus {
            api_enablements: Some(vec![
                ApiEnablement {
                    group_version: "apps/v1".into(),
                    resources: Some(vec![ApiResource {
                        name: "deployments".into(),
                        kind: "Deployment".into(),
                    }]),
                },
                ApiEnablement {
                    group_version: "v1".into(),
                    resources: Some(vec![ApiResource {
                        name: "configmaps".into(),
                        kind: "ConfigMap".into(),
                    }]),
                },
            ]),
            conditions: Some(vec![
                condition("Ready", "True"),
                condition("CompleteAPIEnablements", "True"),
            ]),
            resource_summary: Some(pods(100)),
            ..Default::default()
        }),
    }
}

pub(super) fn condition(type_: &str, status: &str) -> Condition {
    Condition {
        type_: type_.into(),
        status: status.into(),
        ..Default::default()
    }
}

fn pods(n: i64) -> ResourceSummary {
    ResourceSummary {
        allocatable: Some([("pods".to_owned(), Quantity(n.to_string()))].into()),
        ..Default::default()
    }
}

/// Cluster refinements.
pub(super) trait Build {
    fn topology(self, provider: &str, region: &str, zone: &str) -> Self;
    fn labels(self, pairs: &[(&str, &str)]) -> Self;
    fn taint(self, key: &str, value: &str, effect: &str) -> Self;
    fn free_pods(self, n: i64) -> Self;
}

impl Build for Cluster {
    fn topology(mut self, provider: &str, region: &str, zone: &str) -> Self {
        let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        self.spec.provider = some(provider);
        self.spec.region = some(region);
        self.spec.zones = some(zone).map(|z| vec![z]);
        self
    }
    fn labels(mut self, pairs: &[(&str, &str)]) -> Self {
        self.metadata.labels = Some(crate::rules::testing::map(pairs));
        self
    }
    fn taint(mut self, key: &str, value: &str, effect: &str) -> Self {
        self.spec.taints.get_or_insert_with(Vec::new).push(Taint {
            key: key.into(),
            value: (!value.is_empty()).then(|| value.into()),
            effect: effect.into(),
        });
        self
    }
    fn free_pods(mut self, n: i64) -> Self {
        if let Some(s) = self.status.as_mut() {
            s.resource_summary = Some(pods(n));
        }
        self
    }
}

pub(super) fn placement(yaml: &str) -> Placement {
    crate::yaml::from_str(yaml).expect("placement")
}

fn deployment(replicas: i32) -> Workload {
    Workload {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        replicas,
        ..Default::default()
    }
}

fn configmap() -> Workload {
    Workload {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        ..Default::default()
    }
}

/// `(name, replicas)` of the picked clusters.
fn picked(o: &Outcome) -> Vec<(&str, i32)> {
    o.clusters.iter().map(|t| (t.name.as_str(), t.replicas)).collect()
}

fn reason<'a>(o: &'a Outcome, name: &str) -> &'a str {
    &o.excluded
        .iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("{name} not excluded: {o:?}"))
        .reason
}

fn pass_for<'a>(p: &'a Placement, affinities: &'a [&'a ClusterAffinity], w: &'a Workload) -> Pass<'a> {
    Pass {
        placement: p,
        affinities,
        workload: w,
    }
}

// --- Filter plugins -------------------------------------------------------------------------

/// `TestTaintToleration_Filter` (the "cluster already in target clusters" case needs a previous
/// result, which a first schedule does not have).
#[rstest]
#[case::no_taints(member("m"), "", true)]
#[case::tolerated_taint(member("m").taint("foo", "bar", "NoSchedule"), "{clusterTolerations: [{key: foo, operator: Equal, value: bar, effect: NoSchedule}]}", true)]
#[case::untolerated_taint(member("m").taint("foo", "bar", "NoSchedule"), "", false)]
#[case::exists_tolerates_any_value(member("m").taint("foo", "x", "NoExecute"), "{clusterTolerations: [{key: foo, operator: Exists}]}", true)]
#[case::prefer_no_schedule_is_ignored(member("m").taint("foo", "", "PreferNoSchedule"), "", true)]
#[case::wrong_effect_does_not_tolerate(member("m").taint("foo", "bar", "NoExecute"), "{clusterTolerations: [{key: foo, operator: Exists, effect: NoSchedule}]}", false)]
fn taint_toleration_filter(#[case] cluster: Cluster, #[case] p: &str, #[case] fits: bool) {
    let p = if p.is_empty() {
        Placement::default()
    } else {
        placement(p)
    };
    let w = deployment(1);
    let got = filter::taint_toleration(&pass_for(&p, &[], &w), &cluster);
    assert_eq!(got.is_none(), fits, "{got:?}");
    if let Some(reason) = got {
        assert!(
            reason.starts_with("cluster(s) had untolerated taint {foo"),
            "{reason}"
        );
    }
}

/// `TestAPIEnablement_Filter` (and `TestAPIEnablement` of `cluster_helper_test.go` for the
/// partial list).
#[rstest]
#[case::api_is_enabled_in_cluster("apps/v1", "Deployment", true, true)]
#[case::api_is_not_enabled_in_cluster("apps/v1", "StatefulSet", true, false)]
#[case::partial_list_is_unknown_so_not_fit("apps/v1", "StatefulSet", false, false)]
#[case::other_group_version("apps/v1beta1", "Deployment", true, false)]
fn api_enablement_filter(
    #[case] api_version: &str,
    #[case] kind: &str,
    #[case] complete: bool,
    #[case] fits: bool,
) {
    let mut c = member("m");
    if !complete {
        c.status.as_mut().unwrap().conditions = Some(vec![condition("Ready", "True")]);
    }
    let w = Workload {
        api_version: api_version.into(),
        kind: kind.into(),
        replicas: 1,
        ..Default::default()
    };
    let p = Placement::default();
    let got = filter::api_enablement(&pass_for(&p, &[], &w), &c);
    assert_eq!(got.is_none(), fits, "{got:?}");
}

/// `TestSpreadConstraint_Filter`.
#[rstest]
#[case::no_spread_constraints(member("m"), "{}", None)]
#[case::spread_by_provider_provider_present(member("m").topology("P1", "", ""), "{spreadConstraints: [{spreadByField: provider}]}", None)]
#[case::spread_by_provider_provider_missing(
    member("m"),
    "{spreadConstraints: [{spreadByField: provider}]}",
    Some("cluster(s) did not have provider property")
)]
#[case::spread_by_region_region_present(member("m").topology("", "R1", ""), "{spreadConstraints: [{spreadByField: region}]}", None)]
#[case::spread_by_region_region_missing(
    member("m"),
    "{spreadConstraints: [{spreadByField: region}]}",
    Some("cluster(s) did not have region property")
)]
#[case::spread_by_zone_zones_present(member("m").topology("", "", "Z1"), "{spreadConstraints: [{spreadByField: zone}]}", None)]
#[case::spread_by_zone_zones_missing(
    member("m"),
    "{spreadConstraints: [{spreadByField: zone}]}",
    Some("cluster(s) did not have zones property")
)]
fn spread_constraint_filter(#[case] cluster: Cluster, #[case] p: &str, #[case] want: Option<&str>) {
    let p = placement(p);
    let w = deployment(1);
    assert_eq!(
        filter::spread_constraint(&pass_for(&p, &[], &w), &cluster).as_deref(),
        want
    );
}

/// `TestClusterMatches` (`pkg/util/selector_test.go`); the cluster is
/// `{name: cluster1, labels: {foo: bar}, provider: fake-provider, region: fake-region, zones: [fake-zone]}`.
#[rstest]
#[case::test_cluster_excluded_and_names("{clusterNames: [cluster1], exclude: [cluster1]}", false)]
#[case::test_cluster_excluded_and_label_selector(
    "{labelSelector: {matchLabels: {foo: bar}}, exclude: [cluster1]}",
    false
)]
#[case::test_cluster_excluded_and_field_selector(
    "{fieldSelector: {matchExpressions: [{key: region, operator: In, values: [fake-region]}]}, exclude: [cluster1]}",
    false
)]
#[case::test_cluster_names("{clusterNames: [cluster1]}", true)]
#[case::test_cluster_names_not_matched("{clusterNames: [cluster2]}", false)]
#[case::test_cluster_names_and_label_selector(
    "{clusterNames: [cluster1], labelSelector: {matchLabels: {foo: bar}}}",
    true
)]
#[case::test_cluster_names_and_label_selector_not_matched(
    "{clusterNames: [cluster1], labelSelector: {matchLabels: {bar: foo}}}",
    false
)]
#[case::test_cluster_names_and_field_selector_zone_and_region(
    "{clusterNames: [cluster1], fieldSelector: {matchExpressions: [{key: zone, operator: In, values: [fake-zone]}, {key: region, operator: In, values: [fake-region]}]}}",
    true
)]
#[case::test_cluster_names_and_field_selector_provider(
    "{clusterNames: [cluster1], fieldSelector: {matchExpressions: [{key: provider, operator: In, values: [fake-provider]}]}}",
    true
)]
#[case::test_cluster_names_and_field_selector_zone_not_in(
    "{clusterNames: [cluster1], fieldSelector: {matchExpressions: [{key: zone, operator: NotIn, values: [fake-zone]}]}}",
    false
)]
#[case::test_cluster_names_and_field_selector_provider_not_in(
    "{clusterNames: [cluster1], fieldSelector: {matchExpressions: [{key: provider, operator: NotIn, values: [fake-provider]}]}}",
    false
)]
#[case::test_cluster_names_and_field_selector_region_not_in(
    "{clusterNames: [cluster1], fieldSelector: {matchExpressions: [{key: region, operator: NotIn, values: [fake-region]}]}}",
    false
)]
#[case::test_label_selector("{labelSelector: {matchLabels: {foo: bar}}}", true)]
#[case::test_label_selector_not_matched("{labelSelector: {matchLabels: {bar: foo}}}", false)]
#[case::test_empty_cluster_affinity_matched("{}", true)]
#[case::test_label_selector_error(
    "{labelSelector: {matchExpressions: [{key: foo, operator: Bad, values: [bar]}]}}",
    false
)]
#[case::test_field_selector_error(
    "{fieldSelector: {matchExpressions: [{key: region, operator: Bad, values: [fake-region]}]}}",
    false
)]
#[case::test_field_selector_zone_partially_matched(
    "{fieldSelector: {matchExpressions: [{key: zone, operator: In, values: [fake-zone, other-zone]}]}}",
    true
)]
#[case::test_field_selector_zone_not_matched(
    "{fieldSelector: {matchExpressions: [{key: zone, operator: In, values: [other-zone]}]}}",
    false
)]
#[case::test_field_selector_provider_not_matched(
    "{fieldSelector: {matchExpressions: [{key: provider, operator: In, values: [other]}]}}",
    false
)]
#[case::test_field_selector_other_key_not_matched(
    "{fieldSelector: {matchExpressions: [{key: foo, operator: In, values: [bar]}]}}",
    false
)]
#[case::label_exists("{labelSelector: {matchExpressions: [{key: foo, operator: Exists}]}}", true)]
fn cluster_matches(#[case] affinity: &str, #[case] want: bool) {
    let c =
        member("cluster1")
            .labels(&[("foo", "bar")])
            .topology("fake-provider", "fake-region", "fake-zone");
    let a: ClusterAffinity = crate::yaml::from_str(affinity).unwrap();
    assert_eq!(filter::cluster_matches(&c, &a), want);
}

#[test]
fn the_deprecated_zone_counts_as_zones() {
    let mut c = member("m");
    c.spec.zone = Some("z1".into());
    let a: ClusterAffinity = crate::yaml::from_str(
        "{fieldSelector: {matchExpressions: [{key: zone, operator: In, values: [z1]}]}}",
    )
    .unwrap();
    assert!(filter::cluster_matches(&c, &a));
}

// --- Spread constraint selection --------------------------------------------------------------

fn group(name: &str, value: usize, weight: i64) -> GroupInfo {
    GroupInfo {
        name: name.into(),
        value,
        weight,
    }
}

/// `TestSelectGroups` (`core/spreadconstraint/select_groups_test.go`).
#[rstest]
#[case::empty_groups(vec![], 2, 3, 1, vec![])]
#[case::no_enough_groups(vec![group("R1", 1, 80)], 2, 3, 1, vec![])]
#[case::no_enough_value(vec![group("R1", 1, 80), group("R2", 2, 30)], 2, 3, 4, vec![])]
#[case::select_one_group(vec![group("R1", 1, 80)], 1, 3, 1, vec!["R1"])]
#[case::prioritize_one_path(
    vec![group("R1", 1, 80), group("R3", 1, 80), group("R2", 1, 60), group("R5", 2, 60), group("R4", 5, 50), group("R6", 3, 50)],
    1, 3, 10, vec!["R5", "R4", "R6"])]
#[case::select_groups_with_less_total_number(
    vec![group("R1", 1, 80), group("R2", 4, 40), group("R3", 1, 30), group("R4", 3, 30), group("R5", 3, 20), group("R6", 5, 10)],
    2, 6, 5, vec!["R1", "R2"])]
fn select_groups(
    #[case] groups: Vec<GroupInfo>,
    #[case] min: usize,
    #[case] max: usize,
    #[case] target: usize,
    #[case] want: Vec<&str>,
) {
    let got: Vec<String> = spread::select_groups(groups, min, max, target)
        .into_iter()
        .map(|g| g.name)
        .collect();
    assert_eq!(got, want);
}

/// `generateClusterInfo` of `select_clusters_test.go`: already in scheduling order.
fn cluster_infos(clusters: &[Cluster]) -> GroupClustersInfo<'_> {
    let facts = [
        ("member4", 60, 50),
        ("member2", 40, 60),
        ("member3", 30, 80),
        ("member1", 20, 40),
    ];
    GroupClustersInfo {
        clusters: facts
            .iter()
            .map(|(name, score, available)| ClusterDetail {
                name: (*name).into(),
                score: *score,
                overflow_order: 0,
                available_replicas: *available,
                allocatable_replicas: i32::try_from(*available).unwrap(),
                cluster: clusters.iter().find(|c| c.name() == *name).unwrap(),
            })
            .collect(),
        ..Default::default()
    }
}

/// `TestSelectBestClusters` (`core/spreadconstraint/select_clusters_test.go`).
#[rstest]
#[case::select_clusters_by_cluster_score("{spreadConstraints: [{spreadByField: cluster, maxGroups: 2, minGroups: 1}]}", 100, Ok(vec!["member4", "member2"]))]
#[case::select_clusters_by_cluster_score_and_ignore_available_resources_when_scheduling_strategy_is_duplicated(
    "{spreadConstraints: [{spreadByField: cluster, maxGroups: 2, minGroups: 1}], replicaScheduling: {replicaSchedulingType: Duplicated}}",
    120, Ok(vec!["member4", "member2"]))]
#[case::select_clusters_by_cluster_score_and_ignore_available_resources_when_scheduling_strategy_is_static_weight(
    "{spreadConstraints: [{spreadByField: cluster, maxGroups: 2, minGroups: 1}], replicaScheduling: {replicaSchedulingType: Divided, replicaDivisionPreference: Weighted, weightPreference: {staticWeightList: [{targetCluster: {clusterNames: [member1]}, weight: 2}]}}}",
    120, Ok(vec!["member4", "member2", "member3", "member1"]))]
#[case::select_clusters_by_cluster_score_and_satisfy_available_resources(
    "{spreadConstraints: [{spreadByField: cluster, maxGroups: 2, minGroups: 1}], replicaScheduling: {replicaSchedulingType: Divided}}",
    120, Ok(vec!["member4", "member3"]))]
#[case::select_clusters_by_cluster_score_and_insufficient_resources(
    "{spreadConstraints: [{spreadByField: cluster, maxGroups: 2, minGroups: 1}], replicaScheduling: {replicaSchedulingType: Divided}}",
    200,
    Err("no enough resource when selecting 2 clusters")
)]
#[case::select_clusters_by_cluster_score_and_exceeded_the_number_of_available_clusters(
    "{spreadConstraints: [{spreadByField: cluster, maxGroups: 7, minGroups: 7}]}",
    30,
    Err("the number of feasible clusters is less than spreadConstraint.MinGroups")
)]
fn select_best_clusters(#[case] p: &str, #[case] need: i32, #[case] want: Result<Vec<&str>, &str>) {
    let clusters: Vec<Cluster> = ["member1", "member2", "member3", "member4"].map(member).into();
    let info = cluster_infos(&clusters);
    let got = spread::select_best_clusters(&placement(p), &info, need)
        .map(|cs| cs.into_iter().map(|c| c.name).collect::<Vec<_>>());
    assert_eq!(
        got,
        want.map(|v| v.into_iter().map(str::to_owned).collect())
            .map_err(str::to_owned)
    );
}

/// `Test_selectBestClustersByRegion` (`core/spreadconstraint/select_clusters_by_region_test.go`):
/// regions R1 (score 100: member1 100, member2 80) and R2 (score 80: member3 80, member4 80,
/// member5 60), every cluster 40 available replicas.
#[rstest]
#[case::select_cluster_from_the_region_with_the_higher_score(2, vec!["member1", "member2"])]
#[case::select_cluster_from_the_region_with_enough_clusters(3, vec!["member3", "member4", "member5"])]
fn select_best_clusters_by_region(#[case] clusters_wanted: i32, #[case] want: Vec<&str>) {
    let clusters: Vec<Cluster> = ["member1", "member2", "member3", "member4", "member5"]
        .map(member)
        .into();
    let detail = |name: &str, score: i64| ClusterDetail {
        name: name.into(),
        score,
        overflow_order: 0,
        available_replicas: 40,
        allocatable_replicas: 40,
        cluster: clusters.iter().find(|c| c.name() == name).unwrap(),
    };
    fn region<'a>(name: &str, score: i64, members: Vec<ClusterDetail<'a>>) -> spread::Group<'a> {
        spread::Group {
            name: name.into(),
            score,
            clusters: members,
        }
    }
    let mut info = GroupClustersInfo::default();
    info.regions.insert(
        "R1".into(),
        region("R1", 100, vec![detail("member1", 100), detail("member2", 80)]),
    );
    info.regions.insert(
        "R2".into(),
        region(
            "R2",
            80,
            vec![
                detail("member3", 80),
                detail("member4", 80),
                detail("member5", 60),
            ],
        ),
    );
    let p = placement(&format!(
        "{{spreadConstraints: [{{spreadByField: region, maxGroups: 1, minGroups: 1}}, {{spreadByField: cluster, maxGroups: {clusters_wanted}, minGroups: {clusters_wanted}}}]}}"
    ));
    let got: Vec<String> = spread::select_best_clusters(&p, &info, 10)
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(got, want);
}

// --- Replica assignment -----------------------------------------------------------------------

/// `Test_assignByStaticWeightStrategy` (`core/assignment_test.go`), through [`schedule`].
#[rstest]
#[case::replica_12_weight_3_2_1(12, "[{targetCluster: {clusterNames: [member1]}, weight: 3}, {targetCluster: {clusterNames: [member2]}, weight: 2}, {targetCluster: {clusterNames: [member3]}, weight: 1}]", vec![("member1", 6), ("member2", 4), ("member3", 2)])]
#[case::replica_12_default_weight(12, "", vec![("member1", 4), ("member2", 4), ("member3", 4)])]
#[case::replica_13_weight_3_2_1(13, "[{targetCluster: {clusterNames: [member1]}, weight: 3}, {targetCluster: {clusterNames: [member2]}, weight: 2}, {targetCluster: {clusterNames: [member3]}, weight: 1}]", vec![("member1", 7), ("member2", 4), ("member3", 2)])]
#[case::replica_14_weight_3_2_1(14, "[{targetCluster: {clusterNames: [member1]}, weight: 3}, {targetCluster: {clusterNames: [member2]}, weight: 2}, {targetCluster: {clusterNames: [member3]}, weight: 1}]", vec![("member1", 7), ("member2", 5), ("member3", 2)])]
#[case::selected_cluster_without_weight_should_be_ignored(2, "[{targetCluster: {clusterNames: [member1]}, weight: 1}]", vec![("member1", 2)])]
#[case::cluster_with_multiple_weights_takes_the_largest(6, "[{targetCluster: {clusterNames: [member1]}, weight: 1}, {targetCluster: {labelSelector: {matchLabels: {tier: gold}}}, weight: 2}]", vec![("member1", 2), ("member2", 4)])]
fn static_weights(#[case] replicas: i32, #[case] list: &str, #[case] want: Vec<(&str, i32)>) {
    let clusters = vec![
        member("member1"),
        member("member2").labels(&[("tier", "gold")]),
        member("member3"),
    ];
    let p = if list.is_empty() {
        placement(
            "{replicaScheduling: {replicaSchedulingType: Divided, replicaDivisionPreference: Weighted}}",
        )
    } else {
        placement(&format!(
            "{{replicaScheduling: {{replicaSchedulingType: Divided, replicaDivisionPreference: Weighted, weightPreference: {{staticWeightList: {list}}}}}}}"
        ))
    };
    let o = schedule(&p, &clusters, &deployment(replicas));
    assert!(o.feasible, "{o:?}");
    assert_eq!(picked(&o), want);
}

/// `Test_dynamicScaleUp` (`core/assignment_test.go`): first schedule of 12 replicas over clusters
/// whose resource summaries leave 6/8/10 (etc.) pods.
#[rstest]
#[case::replica_12_dynamic_weight_6_8_10("Weighted", [6, 8, 10], Some(vec![("member1", 3), ("member2", 4), ("member3", 5)]))]
#[case::replica_12_dynamic_weight_8_8_10("Weighted", [8, 8, 10], Some(vec![("member1", 4), ("member2", 4), ("member3", 4)]))]
#[case::replica_12_dynamic_weight_3_3_3("Weighted", [3, 3, 3], None)]
#[case::replica_12_aggregated_6_8_10("Aggregated", [6, 8, 10], Some(vec![("member2", 5), ("member3", 7)]))]
#[case::replica_12_aggregated_12_8_10("Aggregated", [12, 8, 10], Some(vec![("member1", 12)]))]
#[case::replica_12_aggregated_3_3_3("Aggregated", [3, 3, 3], None)]
fn dynamic_scale_up(
    #[case] preference: &str,
    #[case] free: [i64; 3],
    #[case] want: Option<Vec<(&str, i32)>>,
) {
    let clusters: Vec<Cluster> = ["member1", "member2", "member3"]
        .iter()
        .zip(free)
        .map(|(n, f)| member(n).free_pods(f))
        .collect();
    let weight = if preference == "Weighted" {
        ", weightPreference: {dynamicWeight: AvailableReplicas}"
    } else {
        ""
    };
    let p = placement(&format!(
        "{{replicaScheduling: {{replicaSchedulingType: Divided, replicaDivisionPreference: {preference}{weight}}}}}"
    ));
    let o = schedule(&p, &clusters, &deployment(12));
    match want {
        Some(want) => assert_eq!(picked(&o), want, "{o:?}"),
        None => {
            assert!(!o.feasible, "{o:?}");
            assert_eq!(
                o.error.as_deref(),
                Some("Clusters available replicas 9 are not enough to schedule.")
            );
        }
    }
}

/// `Test_dynamicDivideReplicas` "replica 12, aggregated 12:6:6" and "… 6:6:6".
#[rstest]
#[case::replica_12_aggregated_12_6_6([12, 6, 6], vec![("member1", 12)])]
#[case::replica_12_aggregated_6_6_6([6, 6, 6], vec![("member1", 6), ("member2", 6)])]
fn dynamic_divide_replicas(#[case] free: [i64; 3], #[case] want: Vec<(&str, i32)>) {
    let clusters: Vec<Cluster> = ["member1", "member2", "member3"]
        .iter()
        .zip(free)
        .map(|(n, f)| member(n).free_pods(f))
        .collect();
    let p = placement(
        "{replicaScheduling: {replicaSchedulingType: Divided, replicaDivisionPreference: Aggregated}}",
    );
    assert_eq!(picked(&schedule(&p, &clusters, &deployment(12))), want);
}

/// `Test_assignByDuplicatedStrategy` "test with multiple cluster".
#[test]
fn duplicated_test_with_multiple_cluster() {
    let clusters = vec![member("member1"), member("member2"), member("member3")];
    let o = schedule(&Placement::default(), &clusters, &deployment(3));
    assert_eq!(picked(&o), [("member1", 3), ("member2", 3), ("member3", 3)]);
}

/// Webster's ties go by `tieBreakerByUID`: the FNV-1a parity of the UID picks the direction.
#[test]
fn ties_follow_the_uid_and_are_noted_without_one() {
    let clusters = vec![member("member1"), member("member2")];
    let p = placement(
        "{replicaScheduling: {replicaSchedulingType: Divided, replicaDivisionPreference: Weighted}}",
    );
    let mut w = deployment(3);
    let o = schedule(&p, &clusters, &w);
    assert_eq!(picked(&o), [("member1", 2), ("member2", 1)]);
    assert!(o.notes.iter().any(|n| n.contains("tieBreakerByUID")), "{o:?}");
    // Find a UID whose hash is odd: the tie then goes to the larger name.
    let odd = (0..100)
        .map(|i| format!("uid-{i}"))
        .find(|u| assign::name_descending_wins(u))
        .unwrap();
    w.uid = Some(odd);
    let o = schedule(&p, &clusters, &w);
    assert_eq!(picked(&o), [("member1", 1), ("member2", 2)]);
    assert!(!o.notes.iter().any(|n| n.contains("tieBreakerByUID")));
}

// --- Scheduling end to end --------------------------------------------------------------------

#[test]
fn every_filtered_cluster_gets_its_reason() {
    let clusters = vec![
        member("a"),
        member("b").taint("maintenance", "", "NoSchedule"),
        member("c").labels(&[("env", "prod")]),
        member("d"),
    ];
    let p = placement("{clusterAffinity: {clusterNames: [a, b, d], exclude: [d]}}");
    let o = schedule(&p, &clusters, &deployment(2));
    assert_eq!(picked(&o), [("a", 2)]);
    assert_eq!(
        reason(&o, "b"),
        "cluster(s) had untolerated taint {maintenance:NoSchedule}"
    );
    assert!(reason(&o, "c").contains("not in clusterNames"), "{o:?}");
    assert!(reason(&o, "d").contains("listed in exclude"), "{o:?}");
}

#[test]
fn no_feasible_cluster_is_infeasible_with_reasons() {
    let clusters = vec![member("a"), member("b")];
    let p = placement("{clusterAffinity: {clusterNames: [nowhere]}}");
    let o = schedule(&p, &clusters, &deployment(1));
    assert!(!o.feasible);
    assert!(o.clusters.is_empty());
    assert_eq!(o.excluded.len(), 2);
    assert_eq!(o.error.as_deref(), Some("0/2 clusters are available"));
}

#[test]
fn cluster_affinities_are_tried_in_order() {
    let clusters = vec![member("a").taint("down", "", "NoExecute"), member("b")];
    let p = placement(
        "{clusterAffinities: [{affinityName: primary, clusterNames: [a]}, {affinityName: backup, clusterNames: [b]}]}",
    );
    let o = schedule(&p, &clusters, &deployment(1));
    assert_eq!(o.affinity_name.as_deref(), Some("backup"));
    assert_eq!(picked(&o), [("b", 1)]);
    assert!(reason(&o, "a").contains("did not match"), "{o:?}");
    assert!(o.notes.iter().any(|n| n.contains("\"primary\"")), "{o:?}");
}

#[test]
fn a_non_workload_goes_whole_to_every_selected_cluster() {
    let clusters = vec![member("a"), member("b").free_pods(0)];
    let p = placement(
        "{replicaScheduling: {replicaSchedulingType: Divided, replicaDivisionPreference: Aggregated}}",
    );
    let o = schedule(&p, &clusters, &configmap());
    assert_eq!(picked(&o), [("a", 0), ("b", 0)]);
}

#[test]
fn a_workload_scaled_to_zero_is_feasible_with_no_cluster() {
    let mut w = deployment(0);
    w.requests = Some([("cpu".to_owned(), 100)].into());
    let o = schedule(&Placement::default(), &[member("a")], &w);
    assert!(o.feasible, "{o:?}");
    assert!(o.clusters.is_empty());
    assert!(reason(&o, "a").contains("assigned 0 replicas"), "{o:?}");
    assert!(
        o.notes
            .iter()
            .any(|n| n.contains("enable-empty-workload-propagation")),
        "{o:?}"
    );
}

#[test]
fn region_spread_picks_one_cluster_per_region_first() {
    let clusters = vec![
        member("a1").topology("p", "r1", "z1"),
        member("a2").topology("p", "r1", "z2"),
        member("b1").topology("p", "r2", "z3"),
        member("x"),
    ];
    let p = placement(
        "{spreadConstraints: [{spreadByField: region, minGroups: 2, maxGroups: 2}, {spreadByField: cluster, minGroups: 2, maxGroups: 2}]}",
    );
    let o = schedule(&p, &clusters, &deployment(1));
    assert_eq!(picked(&o), [("a1", 1), ("b1", 1)]);
    assert_eq!(reason(&o, "x"), "cluster(s) did not have region property");
    assert!(
        reason(&o, "a2").contains("not selected by the spread constraints"),
        "{o:?}"
    );
}

#[test]
fn spreading_by_provider_alone_is_an_error_in_karmada() {
    let clusters = vec![member("a").topology("p", "r", "z")];
    let o = schedule(
        &placement("{spreadConstraints: [{spreadByField: provider}]}"),
        &clusters,
        &deployment(1),
    );
    assert!(!o.feasible);
    assert_eq!(
        o.error.as_deref(),
        Some("just support cluster and region spread constraint")
    );
}

#[test]
fn a_deleting_cluster_is_skipped() {
    let mut gone = member("gone");
    gone.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
    ));
    let o = schedule(&Placement::default(), &[member("a"), gone], &deployment(1));
    assert_eq!(picked(&o), [("a", 1)]);
    assert_eq!(reason(&o, "gone"), "cluster is being deleted");
}

#[test]
fn tolerations_let_a_tainted_cluster_in() {
    let tol = Toleration {
        key: Some("maintenance".into()),
        operator: Some("Exists".into()),
        ..Default::default()
    };
    let p = Placement {
        cluster_tolerations: Some(vec![tol]),
        ..Default::default()
    };
    let o = schedule(
        &p,
        &[member("a").taint("maintenance", "", "NoSchedule")],
        &deployment(1),
    );
    assert_eq!(picked(&o), [("a", 1)]);
}

// --- Properties -------------------------------------------------------------------------------

fn arb_cluster() -> impl Strategy<Value = Cluster> {
    (
        0..4u8,
        prop::bool::ANY,
        prop::bool::ANY,
        0..40i64,
        prop::sample::select(vec!["r1", "r2", ""]),
    )
        .prop_map(|(tier, tainted, has_api, free, region)| {
            let mut c = member("x").free_pods(free).topology("p", region, "");
            c.metadata.labels = Some(crate::rules::testing::map(&[(
                "tier",
                ["a", "b", "c", "d"][usize::from(tier)],
            )]));
            if tainted {
                c = c.taint("t", "", "NoSchedule");
            }
            if !has_api {
                c.status.as_mut().unwrap().api_enablements = None;
            }
            c
        })
}

fn arb_clusters() -> impl Strategy<Value = Vec<Cluster>> {
    prop::collection::vec(arb_cluster(), 1..7).prop_map(|mut cs| {
        for (i, c) in cs.iter_mut().enumerate() {
            c.metadata.name = Some(format!("m{i}"));
        }
        cs
    })
}

fn arb_placement_without_spread() -> impl Strategy<Value = Placement> {
    prop::sample::select(vec![
        "{}",
        "{clusterAffinity: {labelSelector: {matchExpressions: [{key: tier, operator: In, values: [a, b]}]}}}",
        "{clusterTolerations: [{key: t, operator: Exists}]}",
        "{replicaScheduling: {replicaSchedulingType: Divided, replicaDivisionPreference: Weighted}}",
        "{clusterAffinity: {fieldSelector: {matchExpressions: [{key: region, operator: In, values: [r1]}]}}}",
    ])
    .prop_map(placement)
}

proptest! {
    /// A cluster excluded by name never appears in the result, whatever else the placement says.
    #[test]
    fn a_cluster_excluded_by_name_never_appears(
        clusters in arb_clusters(),
        placement_yaml in prop::sample::select(vec![
            "{replicaScheduling: {replicaSchedulingType: Divided, replicaDivisionPreference: Aggregated}}",
            "{replicaScheduling: {replicaSchedulingType: Divided, replicaDivisionPreference: Weighted, weightPreference: {dynamicWeight: AvailableReplicas}}}",
            "{spreadConstraints: [{spreadByField: cluster, minGroups: 1, maxGroups: 2}]}",
            "{clusterTolerations: [{key: t, operator: Exists}]}",
            "{}",
        ]),
        victim in 0..7usize,
        replicas in 0..30i32,
    ) {
        let victim = format!("m{}", victim % clusters.len());
        let mut p = placement(placement_yaml);
        p.cluster_affinity.get_or_insert_with(Default::default).exclude = Some(vec![victim.clone()]);
        let o = schedule(&p, &clusters, &deployment(replicas));
        prop_assert!(!o.clusters.iter().any(|t| t.name == victim));
        prop_assert!(o.excluded.iter().any(|e| e.name == victim));
        // Every cluster is accounted for exactly once.
        prop_assert_eq!(o.clusters.len() + o.excluded.len(), clusters.len());
    }

    /// Without spread constraints (Duplicated or static weights), adding a cluster never removes
    /// another from the result.
    #[test]
    fn adding_a_cluster_never_removes_another(
        clusters in arb_clusters(),
        extra in arb_cluster(),
        p in arb_placement_without_spread(),
        replicas in 0..30i32,
    ) {
        let before = schedule(&p, &clusters, &deployment(replicas));
        let mut more = clusters.clone();
        let mut extra = extra;
        extra.metadata.name = Some("zz-new".into());
        more.push(extra);
        let after = schedule(&p, &more, &deployment(replicas));
        for t in &before.clusters {
            // Static weights divide a fixed number of replicas: a cluster may drop to 0 when a
            // new one joins only if there are fewer replicas than clusters.
            let divided = p.replica_scheduling.is_some();
            let room = usize::try_from(replicas).unwrap_or(0) > more.len();
            if !divided || room {
                prop_assert!(after.clusters.iter().any(|a| a.name == t.name), "{} lost: {:?} -> {:?}", t.name, before, after);
            }
        }
    }
}
