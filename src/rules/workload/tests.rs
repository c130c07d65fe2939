use serde_json::{Value, json};

use super::*;
use crate::{
    config::Config,
    karmada::keys::*,
    rules::{
        Action,
        dependencies::DependencyKind,
        takeover::ClusterSource,
        testing::{denial, example_fleet, run},
    },
};

/// A Deployment as karmada-apiserver hands it to the webhooks (defaults applied): the spec of
/// `examples/manifests/takeover-frontend.yaml`, which equals what runs in the example fleet's
/// member1 and member2 (so the restart guard finds nothing), under the given identity.
fn deployment(ns: &str, name: &str, labels: Value, annotations: Value) -> Value {
    let mut obj: Value =
        crate::yaml::from_str(include_str!("../../../examples/manifests/takeover-frontend.yaml")).unwrap();
    crate::kube::defaults::apply_defaults("apps/v1", "Deployment", &mut obj);
    obj["metadata"] = json!({"name": name, "namespace": ns, "labels": labels, "annotations": annotations});
    obj
}

fn frontend() -> Value {
    deployment("shop", "frontend", json!({"app": "frontend"}), json!({}))
}

fn mutate(obj: &Value) -> Decision {
    run(
        Webhook::MutateWorkload,
        obj,
        None,
        &example_fleet(),
        &Config::default(),
    )
}

/// `obj` in the compact form the fleet keeps for a running copy (or a Karmada copy).
fn kept(fleet: &crate::fleet::Fleet, obj: &Value) -> Option<crate::rules::restart::RunningCopy> {
    let copy = fleet.running_store().keep(
        obj["apiVersion"].as_str().unwrap(),
        obj["kind"].as_str().unwrap(),
        obj,
    );
    assert!(copy.is_some(), "{obj}");
    copy
}

/// The restart guard's denial message for the frontend takeover against `fleet`, default config.
fn restart_denial(fleet: &crate::fleet::Fleet) -> String {
    let d = run(
        Webhook::MutateWorkload,
        &frontend(),
        None,
        fleet,
        &Config::default(),
    );
    let (reason, message) = denial(&d);
    assert_eq!(reason, crate::rules::DenyReason::RestartGuard, "{message}");
    message.to_owned()
}

/// The annotations (or labels, with `field: "labels"`) the patch sets on a template that has
/// labels and no annotations.
fn patched(d: &Decision, field: &str) -> Vec<(String, String)> {
    let mut doc = json!({"metadata": {"labels": {}}});
    json_patch::patch(&mut doc, &d.patch).expect("patch applies");
    doc["metadata"][field]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn annotation_ops(d: &Decision) -> Vec<(String, String)> {
    patched(d, "annotations")
}

/// The takeover policy of the decision, as the JSON the writer sends.
fn ensured_policy(d: &Decision) -> Value {
    d.actions
        .iter()
        .find_map(|a| match a {
            Action::EnsurePolicy { policy } => Some(serde_json::to_value(policy).unwrap()),
            Action::ReleasePolicy { .. } => None,
        })
        .expect("an EnsurePolicy action")
}

#[test]
fn takeover_of_an_unmanaged_deployment_pins_a_policy_to_the_clusters_where_it_runs() {
    let d = mutate(&frontend());
    assert!(d.allowed(), "{d:?}");
    let plan = d.takeover.as_ref().expect("takeover plan");
    assert_eq!(plan.clusters, ["member1", "member2"]);
    assert_eq!(plan.cluster_source, ClusterSource::MemberIndex);
    let name = &plan.policy_name;
    assert!(name.starts_with("takeover-frontend-"), "{name}");
    assert_eq!(
        annotation_ops(&d),
        [
            (CLUSTERS.to_owned(), "member1,member2".to_owned()),
            (POLICY.to_owned(), name.clone()),
        ]
        .into_iter()
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect::<Vec<_>>()
    );
    // No conflict-resolution annotation (it would outlive the takeover); Karmada keeps each
    // member's replica count.
    assert_eq!(
        patched(&d, "labels"),
        [(RETAIN_REPLICAS.to_owned(), "true".to_owned())]
    );
    let p = ensured_policy(&d);
    assert_eq!(p["kind"], "PropagationPolicy");
    assert_eq!(p["metadata"]["namespace"], "shop");
    assert_eq!(p["metadata"]["labels"][MANAGED_BY], "karmada-takeover");
    assert_eq!(p["metadata"]["labels"][TIER], "batch");
    assert!(p["metadata"]["labels"].get(PP_PERMANENT_ID).is_none());
    assert_eq!(
        p["spec"],
        json!({
            "resourceSelectors": [{"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "frontend"}],
            "propagateDeps": true,
            "placement": {"clusterAffinity": {"clusterNames": ["member1", "member2"]}},
            "priority": 0, "preemption": "Never", "conflictResolution": "Overwrite", "preserveResourcesOnDeletion": true
        })
    );
    // Its ConfigMap is only in the members; its Secret is already in Karmada.
    let deps: Vec<(DependencyKind, &str, bool)> = plan
        .dependencies
        .iter()
        .map(|d| (d.kind, d.name.as_str(), d.in_karmada))
        .collect();
    assert_eq!(
        deps,
        [
            (DependencyKind::ConfigMap, "frontend-config", false),
            (DependencyKind::Secret, "frontend-tls", true)
        ]
    );
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("ConfigMap shop/frontend-config") && w.contains("member1")),
        "{:?}",
        d.warnings
    );
    assert!(
        !d.warnings.iter().any(|w| w.contains("frontend-tls")),
        "{:?}",
        d.warnings
    );
}

#[test]
fn the_validating_webhook_never_patches_or_creates() {
    let d = run(
        Webhook::ValidateWorkload,
        &frontend(),
        None,
        &example_fleet(),
        &Config::default(),
    );
    assert!(d.allowed() && d.patch.is_empty() && d.actions.is_empty(), "{d:?}");
}

#[test]
fn takeover_as_a_cluster_propagation_policy_beats_the_kind_wide_batch_cpp() {
    let mut config = Config::default();
    config.takeover.policy_kind = crate::config::TakeoverPolicyKind::ClusterPropagationPolicy;
    let d = run(
        Webhook::MutateWorkload,
        &frontend(),
        None,
        &example_fleet(),
        &config,
    );
    let p = ensured_policy(&d);
    assert_eq!(p["kind"], "ClusterPropagationPolicy");
    assert!(p["metadata"].get("namespace").is_none());
}

#[test]
fn a_copy_exported_from_a_managed_member_is_denied_with_its_markers() {
    let obj = deployment(
        "shop",
        "cart",
        json!({"app": "cart", MANAGED: "true"}),
        json!({WORK_NAME: "cart-7c8d9f6b5d", WORK_NAMESPACE: "karmada-es-member2"}),
    );
    for webhook in [Webhook::MutateWorkload, Webhook::ValidateWorkload] {
        let d = run(webhook, &obj, None, &example_fleet(), &Config::default());
        let (reason, message) = denial(&d);
        assert_eq!(reason, DenyReason::MemberMarkers);
        assert!(message.contains("label karmada.io/managed=true"), "{message}");
        assert!(
            message.contains("work.karmada.io/namespace=karmada-es-member2"),
            "{message}"
        );
        assert!(message.contains("edit its template in Karmada"), "{message}");
    }
}

#[test]
fn a_workload_managed_by_karmada_in_a_member_cannot_be_promoted_again() {
    let d = mutate(&deployment(
        "payments",
        "reports",
        json!({"app": "reports"}),
        json!({}),
    ));
    let (reason, message) = denial(&d);
    assert_eq!(reason, DenyReason::ManagedInMember);
    assert!(message.contains("member cluster member3"), "{message}");
}

#[test]
fn a_takeover_request_on_a_template_claimed_by_an_application_policy_is_denied() {
    let claim = json!({PP_NAMESPACE: "shop", PP_NAME: "cart-app"});
    let labels = json!({"app": "cart", PP_PERMANENT_ID: "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"});
    let old = deployment("shop", "cart", labels.clone(), claim.clone());
    let mut new_annotations = claim;
    new_annotations[CLUSTERS] = json!("member1");
    let new = deployment("shop", "cart", labels, new_annotations);
    let d = run(
        Webhook::ValidateWorkload,
        &new,
        Some(&old),
        &example_fleet(),
        &Config::default(),
    );
    let (reason, message) = denial(&d);
    assert_eq!(reason, DenyReason::ClaimedByApplication);
    assert!(message.contains("PropagationPolicy shop/cart-app"), "{message}");
}

#[test]
fn karmadas_own_claim_updates_pass_untouched() {
    let old = deployment(
        "shop",
        "frontend",
        json!({"app": "frontend"}),
        json!({CLUSTERS: "member1,member2"}),
    );
    let new = deployment(
        "shop",
        "frontend",
        json!({"app": "frontend", PP_PERMANENT_ID: "x"}),
        json!({CLUSTERS: "member1,member2", PP_NAMESPACE: "shop", PP_NAME: "takeover-frontend-x"}),
    );
    for webhook in [Webhook::MutateWorkload, Webhook::ValidateWorkload] {
        let d = run(webhook, &new, Some(&old), &example_fleet(), &Config::default());
        assert_eq!(d, Decision::allow());
    }
}

#[test]
fn an_application_policy_that_selects_the_workload_takes_precedence_and_abort_is_flagged() {
    let d = mutate(&deployment(
        "payments",
        "billing",
        json!({"app": "billing", "team": "payments"}),
        json!({}),
    ));
    assert!(d.allowed() && d.patch.is_empty() && d.actions.is_empty(), "{d:?}");
    assert!(
        d.warnings[0].contains("PropagationPolicy payments/payments-app"),
        "{:?}",
        d.warnings
    );
    assert!(
        d.warnings[1].contains("conflictResolution Abort") && d.warnings[1].contains("member1"),
        "{:?}",
        d.warnings
    );
}

#[test]
fn opt_outs_and_excluded_namespaces_are_left_alone() {
    for obj in [
        deployment("shop", "frontend", json!({SKIP: "true"}), json!({})),
        deployment("shop", "frontend", json!({}), json!({SKIP: "true"})),
        deployment("kube-system", "frontend", json!({}), json!({})),
        deployment("karmada-system", "frontend", json!({}), json!({})),
        deployment("legacy", "legacy-app", json!({}), json!({})),
    ] {
        assert_eq!(mutate(&obj), Decision::allow(), "{obj}");
    }
}

#[test]
fn a_workload_that_runs_nowhere_is_admitted_with_a_warning() {
    let d = mutate(&deployment("shop", "brand-new", json!({}), json!({})));
    assert!(d.allowed() && d.patch.is_empty() && d.actions.is_empty());
    assert!(
        d.warnings.iter().any(|w| w.contains("runs in no member cluster")),
        "{:?}",
        d.warnings
    );
}

#[test]
fn explicit_clusters_are_validated_and_used() {
    let d = mutate(&deployment(
        "shop",
        "frontend",
        json!({}),
        json!({CLUSTERS: "member9, member1"}),
    ));
    let (reason, message) = denial(&d);
    assert_eq!(reason, DenyReason::InvalidClusters);
    assert!(
        message.contains("unknown cluster member9") && message.contains("member1, member2, member3"),
        "{message}"
    );

    let d = mutate(&deployment(
        "shop",
        "frontend",
        json!({}),
        json!({CLUSTERS: "member3,member1,member1"}),
    ));
    let plan = d.takeover.as_ref().expect("plan");
    assert_eq!(plan.clusters, ["member1", "member3"]);
    assert_eq!(plan.cluster_source, ClusterSource::Annotation);
    assert!(
        d.warnings.iter().any(|w| w.contains("does not run in member3")),
        "{:?}",
        d.warnings
    );
}

#[test]
fn an_explicit_abort_annotation_means_no_takeover() {
    let d = mutate(&deployment(
        "shop",
        "frontend",
        json!({}),
        json!({CONFLICT_RESOLUTION: "abort"}),
    ));
    assert!(d.patch.is_empty() && d.actions.is_empty());
    assert!(d.warnings[0].contains("abort"), "{:?}", d.warnings);
}

#[test]
fn no_race_with_a_policy_that_already_selects_the_template() {
    // A batch PP in `shop` selects every StatefulSet: Karmada's detector claims shop/db with it as
    // soon as the template exists, before any takeover policy written after the review.
    let mut fleet = example_fleet();
    fleet.set_member("member1", "apps", "StatefulSet", "shop", "db", false);
    let sts = json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "shop"}, "spec": {}});
    let d = run(Webhook::MutateWorkload, &sts, None, &fleet, &Config::default());
    assert!(d.allowed() && d.patch.is_empty() && d.actions.is_empty(), "{d:?}");
    assert_eq!(
        d.warnings,
        [
            "PropagationPolicy shop/shop-batch already selects StatefulSet shop/db and claims it as soon as Karmada \
          sees it, so karmada-takeover created no takeover policy; it overwrites the copies running in member1 with \
          the template (conflictResolution Overwrite), unchecked by the restart guard"
        ]
    );
}

#[test]
fn changing_the_clusters_of_an_adopted_workload_updates_its_own_takeover_policy() {
    let claim = json!({PP_NAMESPACE: "shop", PP_NAME: "takeover-catalog-7fd7ff5bf5", CLUSTERS: "member1"});
    let labels = json!({"app": "catalog", PP_PERMANENT_ID: "2f1e0d9c"});
    let old = deployment("shop", "catalog", labels.clone(), claim.clone());
    let mut annotations = claim;
    annotations[CLUSTERS] = json!("member1,member2");
    let new = deployment("shop", "catalog", labels, annotations);
    let d = run(
        Webhook::MutateWorkload,
        &new,
        Some(&old),
        &example_fleet(),
        &Config::default(),
    );
    assert!(d.allowed(), "{d:?}");
    assert_eq!(
        d.takeover.as_ref().map(|p| p.clusters.clone()),
        Some(vec!["member1".to_owned(), "member2".to_owned()])
    );
}

#[test]
fn updates_that_do_not_ask_for_takeover_change_nothing() {
    let old = frontend();
    let mut new = frontend();
    new["spec"]["replicas"] = json!(5);
    assert_eq!(
        run(
            Webhook::MutateWorkload,
            &new,
            Some(&old),
            &example_fleet(),
            &Config::default()
        ),
        Decision::allow()
    );
}

#[test]
fn markers_present_before_an_update_only_warn() {
    let obj = deployment("shop", "x", json!({MANAGED: "true"}), json!({}));
    let d = run(
        Webhook::ValidateWorkload,
        &obj,
        Some(&obj),
        &example_fleet(),
        &Config::default(),
    );
    assert!(d.allowed() && d.warnings.len() == 1, "{d:?}");
}

#[test]
fn kinds_outside_the_selection_are_ignored() {
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "frontend", "namespace": "shop", "labels": {MANAGED: "true"}}});
    assert_eq!(mutate(&pod), Decision::allow());
}

#[test]
fn parse_clusters_trims_dedups_and_sorts() {
    assert_eq!(parse_clusters(" b,a,,b , c"), ["a", "b", "c"]);
    assert!(parse_clusters(" , ").is_empty());
}

/// [`only_claims_changed`] with both bodies read from serde_json's tree, and again from sonic-rs's
/// (the admission decoder's, whose keys keep their written order): both must agree.
fn claims_only(old: &crate::rules::DynamicObject, new: &crate::rules::DynamicObject) -> bool {
    use crate::rules::{Admitted, json::tests::sonic};
    let serde = only_claims_changed(old.into(), new.into());
    let (old_tree, new_tree) = (sonic(&old.data), sonic(&new.data));
    let fast = only_claims_changed(
        Admitted {
            metadata: &old.metadata,
            body: (&old_tree).into(),
        },
        Admitted {
            metadata: &new.metadata,
            body: (&new_tree).into(),
        },
    );
    assert_eq!(serde, fast, "serde_json and sonic-rs trees disagree");
    serde
}

#[test]
fn only_claims_changed_ignores_status_but_not_spec() {
    let mk = |labels: Value, spec: Value, status: Value| -> crate::rules::DynamicObject {
        serde_json::from_value(json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "a", "labels": labels}, "spec": spec, "status": status})).unwrap()
    };
    let old = mk(
        json!({"app": "a"}),
        json!({"replicas": 1, "paused": false}),
        json!({"ready": 0}),
    );
    assert!(claims_only(
        &old,
        &mk(
            json!({"app": "a", PP_PERMANENT_ID: "x"}),
            json!({"paused": false, "replicas": 1}),
            json!({"ready": 1})
        )
    ));
    assert!(!claims_only(
        &old,
        &mk(
            json!({"app": "a", PP_PERMANENT_ID: "x"}),
            json!({"replicas": 2, "paused": false}),
            json!({})
        )
    ));
    assert!(!claims_only(
        &old,
        &mk(
            json!({"app": "b", PP_PERMANENT_ID: "x"}),
            json!({"replicas": 1, "paused": false}),
            json!({})
        )
    ));
    assert!(!claims_only(&old, &old), "no change at all is not a claim update");
}

#[rstest::rstest]
#[case::off_by_default(false, json!({"app": "frontend"}), json!({}), None)]
#[case::labels_an_adopted_template(true, json!({"app": "frontend"}), json!({}), Some("Always"))]
#[case::creates_the_label_map(true, json!({}), json!({}), Some("Always"))]
#[case::not_again_once_adopted_so_removing_it_lifts_it(true, json!({"app": "frontend"}), json!({"karmada-takeover.io/policy": "takeover-frontend-x"}), None)]
fn deletion_protection(
    #[case] on: bool,
    #[case] labels: Value,
    #[case] annotations: Value,
    #[case] want: Option<&str>,
) {
    let mut config = Config::default();
    config.takeover.deletion_protection = on;
    let mut obj = deployment("shop", "frontend", labels.clone(), annotations);
    if labels.as_object().is_some_and(serde_json::Map::is_empty) {
        obj["metadata"].as_object_mut().unwrap().remove("labels");
    }
    let d = run(Webhook::MutateWorkload, &obj, None, &example_fleet(), &config);
    assert!(d.allowed(), "{d:?}");
    // The takeover itself goes ahead in every case: only the label differs.
    assert!(d.takeover.is_some(), "{d:?}");
    let mut patched = obj.clone();
    json_patch::patch(&mut patched, &d.patch).expect("patch applies");
    assert_eq!(
        patched["metadata"]["labels"][DELETION_PROTECTED].as_str(),
        want,
        "{:?}",
        d.patch
    );
    if want.is_some() {
        assert_eq!(patched["metadata"]["labels"].get("app"), labels.get("app"));
    }
}

// --- The placement guard on takeover -----------------------------------------------------------

/// The example fleet with member2 tainted `maintenance:NoSchedule`.
fn fleet_with_member2_tainted() -> crate::fleet::Fleet {
    let mut fleet = example_fleet();
    let mut member2 = fleet.cluster("member2").unwrap().to_cluster();
    member2.spec.taints = Some(vec![crate::karmada::cluster::Taint {
        key: "maintenance".into(),
        value: None,
        effect: "NoSchedule".into(),
    }]);
    fleet.upsert_cluster(crate::rules::view::ClusterInfo::from(&member2));
    fleet
}

fn mutate_with(obj: &Value, fleet: &crate::fleet::Fleet, guard: crate::config::PlacementGuard) -> Decision {
    let config = Config {
        placement_guard: guard,
        ..Config::default()
    };
    run(Webhook::MutateWorkload, obj, None, fleet, &config)
}

#[test]
fn a_source_cluster_with_an_untolerated_taint_is_warned_about_and_the_takeover_goes_ahead() {
    let d = mutate_with(
        &frontend(),
        &fleet_with_member2_tainted(),
        crate::config::PlacementGuard::Warn,
    );
    assert!(d.allowed(), "{d:?}");
    assert_eq!(d.takeover.as_ref().unwrap().clusters, ["member1", "member2"]);
    let warning = d
        .warnings
        .iter()
        .find(|w| w.starts_with("takeover policy"))
        .expect("a placement warning");
    assert!(
        warning.contains(
            "pins Deployment shop/frontend to member2, but Karmada's scheduler would filter member2 out (cluster(s) had \
             untolerated taint {maintenance:NoSchedule})"
        ),
        "{warning}"
    );
    assert!(
        warning.contains("remove the taint from Cluster member2"),
        "{warning}"
    );
    let verdict = d.placement.as_ref().unwrap();
    assert_eq!(verdict.checks[0].clusters, ["member1"]);
    // The policy is still pinned to both clusters and tolerates nothing.
    let policy = ensured_policy(&d);
    assert_eq!(
        policy["spec"]["placement"]["clusterAffinity"]["clusterNames"],
        json!(["member1", "member2"])
    );
    assert!(
        policy["spec"]["placement"].get("clusterTolerations").is_none(),
        "{policy}"
    );
}

#[test]
fn enforce_denies_the_takeover_and_creates_no_policy() {
    let d = mutate_with(
        &frontend(),
        &fleet_with_member2_tainted(),
        crate::config::PlacementGuard::Enforce,
    );
    let (reason, message) = denial(&d);
    assert_eq!(reason, DenyReason::Placement);
    assert!(message.contains("would filter member2 out"), "{message}");
    assert!(
        d.actions.is_empty() && d.patch.is_empty() && d.takeover.is_none(),
        "{d:?}"
    );
}

#[test]
fn off_takes_over_without_a_placement_word() {
    let d = mutate_with(
        &frontend(),
        &fleet_with_member2_tainted(),
        crate::config::PlacementGuard::Off,
    );
    assert!(d.allowed() && d.takeover.is_some(), "{d:?}");
    assert!(d.placement.is_none());
    assert!(
        !d.warnings
            .iter()
            .any(|w| w.contains("member2") && (w.contains("taint") || w.starts_with("takeover policy"))),
        "{:?}",
        d.warnings
    );
}

#[test]
fn untainted_ready_sources_get_a_clean_verdict() {
    let d = mutate(&frontend());
    let verdict = d.placement.as_ref().expect("a verdict");
    assert!(verdict.ok(), "{verdict:?}");
    assert_eq!(verdict.checks[0].clusters, ["member1", "member2"]);
    assert!(
        !d.warnings.iter().any(|w| w.starts_with("takeover policy")),
        "{:?}",
        d.warnings
    );
}

/// The not-Ready warning that predates the guard stays when the guard is off; with it on, the
/// guard's verdict says the same and what to do.
#[rstest::rstest]
#[case::guard_off(
    crate::config::PlacementGuard::Off,
    "member cluster member2 is not Ready: Karmada cannot schedule to it until it is"
)]
#[case::guard_warn(crate::config::PlacementGuard::Warn, "once member2 is Ready again")]
fn a_source_cluster_that_is_not_ready_is_reported_once(
    #[case] guard: crate::config::PlacementGuard,
    #[case] fragment: &str,
) {
    let mut fleet = example_fleet();
    let mut info = fleet.cluster("member2").unwrap().clone();
    info.ready = false;
    if let Some(object) = info.object.as_mut() {
        object.status.as_mut().unwrap().conditions.as_mut().unwrap()[0].status = "False".into();
        object.spec.taints = Some(vec![crate::karmada::cluster::not_ready_taint()]);
    }
    fleet.upsert_cluster(info);
    let d = mutate_with(&frontend(), &fleet, guard);
    let about_member2: Vec<&String> = d.warnings.iter().filter(|w| w.contains("member2 is")).collect();
    assert_eq!(about_member2.len(), 1, "{:?}", d.warnings);
    assert!(about_member2[0].contains(fragment), "{}", about_member2[0]);
}

/// A ConfigMap not in Karmada whose copies in the source clusters differ: propagateDeps can carry
/// only one, so the other cluster's mounted files would change. The guard names the ConfigMap,
/// the clusters and the keys, and advises what resolves this kind of difference.
#[test]
fn a_dependency_whose_source_copies_differ_is_refused_with_its_own_advice() {
    let mut fleet = example_fleet();
    let other = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "frontend-config", "namespace": "shop"},
        "data": {"API_URL": "http://api.shop.svc:8080", "LOG_LEVEL": "debug"}});
    let copy = kept(&fleet, &other);
    fleet.set_member_copy("member2", "", "ConfigMap", "shop", "frontend-config", false, copy);

    let message = restart_denial(&fleet);
    assert!(
        message.contains(
            "ConfigMap shop/frontend-config is not in Karmada and its copies in the source clusters differ"
        ),
        "{message}"
    );
    assert!(message.contains("data[LOG_LEVEL]"), "{message}");
    assert!(
        message.contains("member1") && message.contains("member2"),
        "{message}"
    );
    assert!(
        message.contains("make the source clusters' copies equal")
            && !message.contains("edit the copy in Karmada"),
        "the advice is for an object Karmada does not have: {message}"
    );
    assert!(
        !message.contains("debug"),
        "config data is never shown: {message}"
    );
}

/// A Secret already in Karmada whose data differs from the copies in the source clusters: the
/// takeover's propagateDeps would write Karmada's copy into the members, under running pods. The
/// guard names the Secret, the clusters and the keys, never the data.
#[test]
fn a_dependency_in_karmada_that_differs_from_the_members_copies_is_refused() {
    let mut fleet = example_fleet();
    let other = json!({"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
        "metadata": {"name": "frontend-tls", "namespace": "shop"},
        "data": {"tls.crt": "b3RoZXItY2VydA==", "tls.key": "b3RoZXIta2V5"}});
    let copy = kept(&fleet, &other);
    fleet.set_karmada_copy("v1", "Secret", "shop", "frontend-tls", copy);

    let message = restart_denial(&fleet);
    assert!(
        message
            .contains("Secret shop/frontend-tls in Karmada differs from its copies in the source clusters"),
        "{message}"
    );
    assert!(message.contains("member1: data[tls.crt]"), "{message}");
    assert!(message.contains("member2: data[tls.crt]"), "{message}");
    assert!(
        message.contains("edit the copy in Karmada to what the source clusters run")
            && !message.contains("create the object in Karmada yourself"),
        "the advice is for an object Karmada already has: {message}"
    );
    assert!(
        !message.contains("b3RoZXI"),
        "Secret data must never be shown: {message}"
    );

    // Under `warn` the same finding is a warning and the takeover goes ahead.
    let warn = Config {
        restart_guard: crate::config::RestartGuardMode::Warn,
        ..Config::default()
    };
    let d = run(Webhook::MutateWorkload, &frontend(), None, &fleet, &warn);
    assert!(d.allowed(), "{d:?}");
    assert!(
        d.warnings
            .iter()
            .any(|w| w.contains("Secret shop/frontend-tls in Karmada differs")),
        "{:?}",
        d.warnings
    );

    // With the same data as the members (the example fleet as shipped), nothing is said.
    let d = mutate(&frontend());
    assert!(d.allowed(), "{d:?}");
    assert!(
        !d.warnings.iter().any(|w| w.contains("in Karmada differs")),
        "{:?}",
        d.warnings
    );
}
