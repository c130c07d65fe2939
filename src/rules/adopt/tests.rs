//! Table tests of adoption planning: one named case per refusal class and per plan shape.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rstest::rstest;
use serde_json::{Value, json};

use super::*;
use crate::{
    fleet::Fleet,
    rules::{
        restart::{Flattened, RunningCopy},
        testing::{SelectorExt, map, pp, sel},
        view::{ClusterInfo, TemplateMeta},
    },
};

fn deployment(name: &str, image: &str, labels: Value, config: Option<&str>) -> Value {
    let volumes = config.map_or(json!([]), |c| json!([{"name": "cfg", "configMap": {"name": c}}]));
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "shop", "uid": "u-1", "resourceVersion": "9", "generation": 3,
                     "creationTimestamp": "2026-01-01T00:00:00Z", "labels": labels,
                     "annotations": {"deployment.kubernetes.io/revision": "4",
                                     "kubectl.kubernetes.io/last-applied-configuration": "{}"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "app", "image": image}], "volumes": volumes}}},
        "status": {"replicas": 3}})
}

fn configmap(name: &str, data: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "shop"},
           "data": {"k": data}})
}

/// A fleet with member1 and member2 and the given member copies.
fn fleet(copies: &[(&str, &Value)]) -> Fleet {
    let mut f = Fleet::new();
    for c in ["member1", "member2"] {
        f.upsert_cluster(ClusterInfo {
            name: c.into(),
            labels: map(&[]),
            ready: true,
            object: None,
        });
    }
    f.upsert_namespace("shop", map(&[]));
    for (cluster, obj) in copies {
        let api_version = obj["apiVersion"].as_str().unwrap();
        let kind = obj["kind"].as_str().unwrap();
        let managed = obj["metadata"]["labels"]["karmada.io/managed"] == "true";
        f.set_member_copy(
            cluster,
            group_of(api_version),
            kind,
            obj["metadata"]["namespace"].as_str().unwrap(),
            obj["metadata"]["name"].as_str().unwrap(),
            managed,
            Flattened::of(api_version, kind, *obj).map(|f| RunningCopy::standalone(&f)),
        );
    }
    f.mark_synced();
    f
}

fn candidate<'a>(obj: &'a Value, copies: &[(&'a str, &'a Value)]) -> Candidate<'a> {
    Candidate {
        api_version: obj["apiVersion"].as_str().unwrap(),
        kind: obj["kind"].as_str().unwrap(),
        namespace: obj["metadata"]["namespace"].as_str().unwrap(),
        name: obj["metadata"]["name"].as_str().unwrap(),
        copies: copies.to_vec(),
        namespace_exists: true,
    }
}

#[rstest]
#[case::copies_disagree("copies-disagree", Reason::CopiesDisagree, "roll the others")]
#[case::node_ports_allocated_per_cluster("node-ports", Reason::CopiesDisagree, "--no-services")]
#[case::already_multicloud(
    "already-multicloud",
    Reason::AlreadyMulticloud,
    "already has a template in Karmada"
)]
#[case::managed_in_member("managed-in-member", Reason::ManagedInMember, "member2")]
#[case::claimed_by_another_policy("claimed", Reason::ClaimedByPolicy, "PropagationPolicy shop/web-app")]
#[case::dependency_copies_disagree(
    "dependency",
    Reason::DependencyCopiesDisagree,
    "ConfigMap shop/web-config"
)]
#[case::kind_not_selected("kind", Reason::KindNotSelected, "ReplicaSet")]
#[case::namespace_not_allowed("namespace", Reason::NamespaceNotAllowed, "kube-system")]
#[case::unknown_source_cluster("source", Reason::UnknownSourceCluster, "member9")]
#[case::immutable_field_even_with_a_source_cluster("immutable", Reason::RestartGuard, "spec.selector")]
fn every_refusal_class_says_why(#[case] setup: &str, #[case] reason: Reason, #[case] names: &str) {
    let web = deployment("web", "web:1", json!({"app": "web"}), Some("web-config"));
    let web2 = deployment("web", "web:2", json!({"app": "web"}), Some("web-config"));
    let managed = deployment(
        "web",
        "web:1",
        json!({"app": "web", "karmada.io/managed": "true"}),
        None,
    );
    let (cm1, cm2) = (configmap("web-config", "a"), configmap("web-config", "b"));
    let mut rs = web.clone();
    rs["kind"] = json!("ReplicaSet");
    let mut sys = web.clone();
    sys["metadata"]["namespace"] = json!("kube-system");
    let mut other_selector = web.clone();
    other_selector["spec"]["selector"]["matchLabels"]["app"] = json!("web2");
    other_selector["spec"]["template"]["metadata"]["labels"]["app"] = json!("web2");
    let service = |node_port: u16| {
        json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
               "spec": {"type": "NodePort", "clusterIP": "10.0.0.1", "selector": {"app": "web"},
                        "ports": [{"port": 80, "targetPort": 80, "protocol": "TCP", "nodePort": node_port}]}})
    };
    let (svc1, svc2) = (service(31603), service(32374));
    let config = Config::default();
    let mut source = None;
    let (obj, copies, mut f): (&Value, Vec<(&str, &Value)>, Fleet) = match setup {
        "copies-disagree" => (
            &web,
            vec![("member1", &web), ("member2", &web2)],
            fleet(&[("member1", &web), ("member2", &web2)]),
        ),
        "already-multicloud" => {
            let mut f = fleet(&[("member1", &web)]);
            f.upsert_template(TemplateMeta {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                namespace: "shop".into(),
                name: "web".into(),
                labels: map(&[]).into(),
                annotations: map(&[("karmada-takeover.io/policy", "takeover-web")]).into(),
            });
            (&web, vec![("member1", &web)], f)
        }
        "managed-in-member" => (
            &web,
            vec![("member1", &web), ("member2", &managed)],
            fleet(&[("member1", &web), ("member2", &managed)]),
        ),
        "claimed" => {
            let mut f = fleet(&[("member1", &web)]);
            f.upsert_policy(pp(
                "shop",
                "web-app",
                None,
                vec![sel("apps/v1", "Deployment").named("web")],
            ));
            (&web, vec![("member1", &web)], f)
        }
        "dependency" => (
            &web,
            vec![("member1", &web), ("member2", &web)],
            fleet(&[
                ("member1", &web),
                ("member2", &web),
                ("member1", &cm1),
                ("member2", &cm2),
            ]),
        ),
        "node-ports" => (
            &svc1,
            vec![("member1", &svc1), ("member2", &svc2)],
            fleet(&[("member1", &svc1), ("member2", &svc2)]),
        ),
        "kind" => (&rs, vec![("member1", &rs)], fleet(&[("member1", &rs)])),
        "namespace" => (&sys, vec![("member1", &sys)], fleet(&[("member1", &sys)])),
        "immutable" => {
            source = Some("member1");
            (
                &web,
                vec![("member1", &web), ("member2", &other_selector)],
                fleet(&[("member1", &web), ("member2", &other_selector)]),
            )
        }
        "source" => {
            source = Some("member9");
            (&web, vec![("member1", &web)], fleet(&[("member1", &web)]))
        }
        other => panic!("unknown setup {other}"),
    };
    f.mark_synced();
    let refusal = plan(&candidate(obj, &copies), source, &f, &config).unwrap_err();
    assert_eq!(refusal.reason, reason, "{refusal:?}");
    assert!(refusal.message.contains(names), "{refusal:?}");
    assert_eq!(
        refusal.reason.is_done(),
        matches!(reason, Reason::AlreadyMulticloud | Reason::ManagedInMember)
    );
}

#[test]
fn one_copy_plans_a_pruned_template_its_policy_and_the_missing_dependency() {
    let web = deployment("web", "web:1", json!({"app": "web"}), Some("web-config"));
    let cm = configmap("web-config", "a");
    let f = fleet(&[("member1", &web), ("member1", &cm)]);
    let mut c = candidate(&web, &[("member1", &web)]);
    c.namespace_exists = false;
    let plan = plan(&c, None, &f, &Config::default()).unwrap();
    assert_eq!(plan.source_cluster, "member1");
    assert_eq!(plan.clusters, vec!["member1".to_owned()]);
    assert!(plan.create_namespace);
    assert!(plan.rollout_in.is_empty());
    assert_eq!(
        plan.dependencies,
        vec![DependencyRef {
            kind: "ConfigMap",
            name: "web-config".into()
        }]
    );
    // Pruned as Karmada prunes, and no last-applied annotation.
    assert_eq!(
        plan.template["metadata"],
        json!({"name": "web", "namespace": "shop", "labels": {"app": "web"}})
    );
    assert!(plan.template.get("status").is_none());
    // The patched template records the adoption as the webhook's patch does.
    let annotations = &plan.patched_template["metadata"]["annotations"];
    assert_eq!(annotations["karmada-takeover.io/clusters"], "member1");
    assert_eq!(annotations["karmada-takeover.io/policy"], plan.policy.name());
    assert_eq!(
        plan.patched_template["metadata"]["labels"]["resourcetemplate.karmada.io/retain-replicas"],
        "true"
    );
}

#[test]
fn a_source_cluster_accepts_the_rollout_and_the_plan_says_where() {
    let web = deployment("web", "web:1", json!({"app": "web"}), None);
    let web2 = deployment("web", "web:2", json!({"app": "web"}), None);
    let f = fleet(&[("member1", &web), ("member2", &web2)]);
    let c = candidate(&web, &[("member1", &web), ("member2", &web2)]);
    let plan = plan(&c, Some("member1"), &f, &Config::default()).unwrap();
    assert_eq!(plan.rollout_in, vec!["member2".to_owned()]);
    assert_eq!(
        plan.template["metadata"]["annotations"]["karmada-takeover.io/allow-rollout"],
        "true"
    );
    assert_eq!(plan.clusters, vec!["member1".to_owned(), "member2".to_owned()]);
}

#[test]
fn equal_copies_in_two_clusters_are_adopted_together() {
    let web = deployment("web", "web:1", json!({"app": "web"}), None);
    let f = fleet(&[("member1", &web), ("member2", &web)]);
    let plan = plan(
        &candidate(&web, &[("member1", &web), ("member2", &web)]),
        None,
        &f,
        &Config::default(),
    )
    .unwrap();
    assert_eq!(plan.clusters, vec!["member1".to_owned(), "member2".to_owned()]);
    assert!(plan.rollout_in.is_empty());
}

#[test]
fn a_service_template_keeps_its_node_ports_and_drops_its_cluster_ip() {
    let svc = json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "web", "namespace": "shop", "uid": "u"},
        "spec": {"type": "NodePort", "clusterIP": "10.0.0.7", "clusterIPs": ["10.0.0.7"], "selector": {"app": "web"},
                 "ports": [{"port": 80, "targetPort": 8080, "nodePort": 30080, "protocol": "TCP"}]}});
    let t = template_of(&svc).unwrap();
    assert!(t["spec"].get("clusterIP").is_none() && t["spec"].get("clusterIPs").is_none());
    assert_eq!(t["spec"]["ports"][0]["nodePort"], 30080);
    let f = fleet(&[("member1", &svc)]);
    let plan = plan(
        &candidate(&svc, &[("member1", &svc)]),
        None,
        &f,
        &Config::default(),
    )
    .unwrap();
    assert_eq!(plan.patched_template["spec"]["ports"][0]["nodePort"], 30080);
}

#[rstest]
#[case::matching(json!({"app": "web"}), &[("app", "web"), ("tier", "front")], true)]
#[case::other_value(json!({"app": "db"}), &[("app", "web")], false)]
#[case::missing_key(json!({"app": "web", "tier": "x"}), &[("app", "web")], false)]
#[case::no_selector(json!(null), &[("app", "web")], false)]
fn which_services_select_the_pods(
    #[case] selector: Value,
    #[case] pods: &[(&str, &str)],
    #[case] selects: bool,
) {
    let svc = json!({"spec": {"selector": selector}});
    assert_eq!(selects_pods(&svc, &map(pods)), selects);
}

#[test]
fn pod_labels_of_a_cronjob_come_from_its_job_template() {
    let cj = json!({"spec": {"jobTemplate": {"spec": {"template": {"metadata": {"labels": {"app": "nightly"}}}}}}});
    assert_eq!(pod_labels(&cj), map(&[("app", "nightly")]));
}

/// `adopt --dry-run -o json` prints the plan: a Secret's data values never appear in it, while
/// the plan keeps them for what it creates.
#[test]
fn a_planned_secret_is_shown_without_its_data() {
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "db", "namespace": "shop"},
        "data": {"password": "c2VjcmV0LXZhbHVl"}, "stringData": {"user": "admin-user"}});
    let f = fleet(&[("member1", &secret)]);
    let plan = plan(
        &candidate(&secret, &[("member1", &secret)]),
        None,
        &f,
        &Config::default(),
    )
    .unwrap();
    assert_eq!(plan.template["data"]["password"], "c2VjcmV0LXZhbHVl");
    let shown = serde_json::to_string(&plan).unwrap();
    assert!(
        !shown.contains("c2VjcmV0LXZhbHVl") && !shown.contains("admin-user"),
        "{shown}"
    );
    assert!(shown.contains(r#""password":"(not shown)""#), "{shown}");
}
