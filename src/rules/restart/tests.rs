//! The restart guard's table tests: what each kind compares, and the verdict per source cluster.

use rstest::rstest;
use serde_json::{Value, json};

use super::*;

fn deployment(image: &str, replicas: i64) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "shop", "uid": "u-1", "resourceVersion": "7"},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {"metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image, "imagePullPolicy": "IfNotPresent",
                    "env": [{"name": "MODE", "value": "prod"}, {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}]}],
                    "restartPolicy": "Always"}}},
        "status": {"replicas": replicas, "readyReplicas": replicas}})
}

/// An object flattened, as a member copy is before the index keeps it.
fn flat(v: &Value) -> Flattened {
    let api = v["apiVersion"].as_str().unwrap();
    let kind = v["kind"].as_str().unwrap();
    Flattened::of(api, kind, v).unwrap()
}

thread_local! {
    /// Layouts shared between the copies of one test, as the fleet's store shares them, so the
    /// tests compare copies that keep only their own values.
    static LAYOUTS: std::cell::RefCell<std::collections::HashMap<u64, Arc<Layout>>> = Default::default();
}

/// The template side as the guard compares it: digest first, parts when a copy differs.
fn tpl(v: &Value) -> Template<'_> {
    let api = v["apiVersion"].as_str().unwrap();
    let kind = v["kind"].as_str().unwrap();
    Template::of(api, kind, v).unwrap()
}

/// A member copy as the index keeps it.
fn copy(v: &Value) -> RunningCopy {
    let f = flat(v);
    let layout = LAYOUTS.with(|l| {
        l.borrow_mut()
            .entry(Layout::key_of(&f.fields))
            .or_insert_with(|| Arc::new(Layout::new(&f.fields, &mut NoIntern)))
            .clone()
    });
    RunningCopy::new(&f, layout)
}

/// `v` with the field at `pointer` set (created in its parent object when missing).
fn set(mut v: Value, pointer: &str, value: Value) -> Value {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let target = v.pointer_mut(parent).unwrap();
    match target {
        Value::Array(items) => items[key.parse::<usize>().unwrap()] = value,
        other => {
            other[key] = value;
        }
    }
    v
}

fn paths(d: &[Difference]) -> Vec<String> {
    d.iter().map(|d| d.path.to_string()).collect()
}

#[rstest]
#[case::same_object("", Value::Null, &[])]
#[case::status_and_server_metadata_never_count("/status/replicas", json!(9), &[])]
#[case::resource_version_never_counts("/metadata/resourceVersion", json!("8"), &[])]
#[case::image_patched_in_the_member(
    "/spec/template/spec/containers/0/image", json!("nginx:1.26"),
    &["spec.template.spec.containers[web].image"]
)]
#[case::plain_env_value(
    "/spec/template/spec/containers/0/env/0/value", json!("staging"),
    &["spec.template.spec.containers[web].env[MODE]"]
)]
#[case::env_order_changes_the_pod_template_hash(
    "/spec/template/spec/containers/0/env",
    json!([{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}, {"name": "MODE", "value": "prod"}]),
    &["spec.template.spec.containers[web].env (order)"]
)]
#[case::rollout_restart_annotation(
    "/spec/template/metadata/annotations", json!({"kubectl.kubernetes.io/restartedAt": "2026-11-30T10:00:00Z"}),
    &["spec.template.metadata.annotations[kubectl.kubernetes.io/restartedAt]"]
)]
#[case::strategy_outside_the_pod_template("/spec/strategy/type", json!("Recreate"), &["spec.strategy"])]
#[case::selector_is_immutable("/spec/selector/matchLabels/app", json!("web2"), &["spec.selector"])]
#[case::replicas_are_kept_apart("/spec/replicas", json!(7), &[])]
fn what_differs_in_a_deployment(#[case] pointer: &str, #[case] value: Value, #[case] want: &[&str]) {
    let template = deployment("nginx:1.25", 3);
    let member = if pointer.is_empty() {
        template.clone()
    } else {
        set(template.clone(), pointer, value)
    };
    let got = compare(&flat(&template).fields, &copy(&member));
    assert_eq!(paths(&got), want);
}

#[rstest]
#[case::image(
    "/spec/template/spec/containers/0/image", json!("nginx:1.26"), Outcome::PodTemplateDiffers
)]
#[case::strategy("/spec/strategy/type", json!("Recreate"), Outcome::SpecDiffers)]
#[case::selector("/spec/selector/matchLabels/app", json!("web2"), Outcome::ImmutableFieldDiffers)]
#[case::replicas_not_retained("/spec/replicas", json!(5), Outcome::ReplicasDiffer)]
fn the_outcome_is_the_worst_difference(#[case] pointer: &str, #[case] value: Value, #[case] want: Outcome) {
    let object = deployment("nginx:1.25", 3);
    let template = tpl(&object);
    let member = copy(&set(deployment("nginx:1.25", 3), pointer, value));
    let found = check(&template, false, &[("member1", Some(&member))]);
    assert_eq!(found.verdicts[0].outcome, want);
    assert_eq!(found.worst(), want);
}

#[test]
fn retained_replicas_never_differ() {
    let object = deployment("nginx:1.25", 1);
    let template = tpl(&object);
    let (m1, m2) = (
        copy(&deployment("nginx:1.25", 3)),
        copy(&deployment("nginx:1.25", 5)),
    );
    let found = check(&template, true, &[("member1", Some(&m1)), ("member2", Some(&m2))]);
    assert!(
        found.verdicts.iter().all(|v| v.outcome == Outcome::Equal),
        "{found:?}"
    );
    assert!(found.disagreements.is_empty(), "{:?}", found.disagreements);
    assert!(!found.blocks(false));
}

#[test]
fn a_stale_image_names_both_values_and_the_cluster() {
    let object = deployment("nginx:1.25", 3);
    let template = tpl(&object);
    let member = copy(&deployment("nginx:1.26", 3));
    let found = check(&template, true, &[("member1", Some(&member))]);
    let text = found.verdicts[0].describe();
    assert!(text.starts_with("member1: the pod template differs"), "{text}");
    assert!(
        text.contains(
            r#"spec.template.spec.containers[web].image: template "nginx:1.25", running "nginx:1.26""#
        ),
        "{text}"
    );
    assert!(found.blocks(false));
    assert!(!found.blocks(true), "allow-rollout accepts a rollout");
}

#[test]
fn copies_that_differ_from_each_other_say_which_cluster_runs_what() {
    let object = deployment("nginx:1.25", 3);
    let template = tpl(&object);
    let (m1, m2) = (
        copy(&deployment("nginx:1.25", 3)),
        copy(&deployment("nginx:1.26", 3)),
    );
    let found = check(&template, true, &[("member1", Some(&m1)), ("member2", Some(&m2))]);
    assert_eq!(
        found.disagreements,
        [r#"spec.template.spec.containers[web].image: member1 runs "nginx:1.25", member2 runs "nginx:1.26""#]
    );
    assert_eq!(found.verdicts[0].outcome, Outcome::Equal);
    assert_eq!(found.verdicts[1].outcome, Outcome::PodTemplateDiffers);
    assert!(found.blocks(false));
}

#[test]
fn an_immutable_difference_blocks_even_with_allow_rollout() {
    let object = deployment("nginx:1.25", 3);
    let template = tpl(&object);
    let member = copy(&set(
        deployment("nginx:1.25", 3),
        "/spec/selector/matchLabels/app",
        json!("x"),
    ));
    let found = check(&template, true, &[("member1", Some(&member))]);
    assert!(found.blocks(true));
}

#[test]
fn a_copy_whose_spec_was_not_seen_is_reported_not_blocked() {
    let object = deployment("nginx:1.25", 3);
    let template = tpl(&object);
    let found = check(&template, true, &[("member1", None)]);
    assert_eq!(found.verdicts[0].outcome, Outcome::NotSeen);
    assert!(!found.blocks(false));
}

fn service(node_port: Option<i64>) -> Value {
    let mut port = json!({"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080});
    if let Some(n) = node_port {
        port["nodePort"] = json!(n);
    }
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"type": "NodePort", "ports": [port], "selector": {"app": "web"}, "sessionAffinity": "None",
                 "clusterIP": "10.96.0.12", "clusterIPs": ["10.96.0.12"], "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                 "externalTrafficPolicy": "Cluster", "internalTrafficPolicy": "Cluster"}})
}

#[test]
fn a_node_port_service_template_without_the_members_node_port_changes_the_port() {
    let mut template = service(None);
    // What the mutating webhook sees: karmada-apiserver has not allocated anything yet.
    for f in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
        template["spec"].as_object_mut().unwrap().remove(f);
    }
    let found = check(
        &tpl(&template),
        false,
        &[("member1", Some(&copy(&service(Some(30080)))))],
    );
    let v = &found.verdicts[0];
    assert_eq!(v.outcome, Outcome::NodePortsDiffer);
    assert_eq!(paths(&v.differences), ["spec.ports[http].nodePort"]);
    assert!(
        v.describe().contains(r#"template (not set), running "30080""#),
        "{}",
        v.describe()
    );
    let same = check(
        &tpl(&service(Some(30080))),
        false,
        &[("member1", Some(&copy(&service(Some(30080)))))],
    );
    assert_eq!(
        same.verdicts[0].outcome,
        Outcome::Equal,
        "cluster IPs are retained by Karmada"
    );
}

#[test]
fn secret_data_is_compared_by_digest_and_never_shown() {
    let secret = |password: &str| {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db", "namespace": "shop"},
            "type": "Opaque", "data": {"password": password}})
    };
    let found = check(
        &tpl(&secret("c2VjcmV0")),
        false,
        &[("member1", Some(&copy(&secret("b3RoZXI="))))],
    );
    let v = &found.verdicts[0];
    assert_eq!(v.outcome, Outcome::ConfigDiffers);
    let text = v.describe();
    assert!(text.contains("data[password] differs"), "{text}");
    assert!(!text.contains("c2VjcmV0") && !text.contains("b3RoZXI="), "{text}");
    let json = serde_json::to_string(&found).unwrap();
    assert!(!json.contains("c2VjcmV0") && !json.contains("b3RoZXI="), "{json}");
}

#[test]
fn secret_string_data_compares_like_the_stored_base64() {
    let stored = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "type": "Opaque", "data": {"password": "c2VjcmV0"}});
    let written = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "type": "Opaque", "stringData": {"password": "secret"}});
    assert_eq!(flat(&stored).fields.digest, flat(&written).fields.digest);
}

#[test]
fn job_selector_labels_are_retained_by_karmada() {
    let job = |uid: &str| {
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
            "spec": {"selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}},
                "template": {"metadata": {"labels": {"batch.kubernetes.io/controller-uid": uid, "job-name": "migrate"}},
                    "spec": {"containers": [{"name": "m", "image": "migrate:1"}], "restartPolicy": "Never"}}}})
    };
    let found = check(&tpl(&job("a")), false, &[("member1", Some(&copy(&job("b"))))]);
    assert_eq!(found.verdicts[0].outcome, Outcome::Equal, "{found:?}");
}

#[test]
fn a_stateful_set_count_that_differs_is_a_rescale() {
    let sts = |replicas: i64| {
        json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
            "spec": {"replicas": replicas, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "pg:16"}]}}}})
    };
    let found = check(&tpl(&sts(1)), false, &[("member1", Some(&copy(&sts(3))))]);
    assert_eq!(found.verdicts[0].outcome, Outcome::ReplicasDiffer);
    assert!(
        found.verdicts[0]
            .describe()
            .contains("spec.replicas: template 1, running 3")
    );
    let name = check(
        &tpl(&sts(3)),
        false,
        &[(
            "member1",
            Some(&copy(&set(sts(3), "/spec/serviceName", json!("db-headless")))),
        )],
    );
    assert_eq!(name.verdicts[0].outcome, Outcome::ImmutableFieldDiffers);
}

#[test]
fn a_list_or_object_is_kept_by_digest_and_still_compares() {
    let template = deployment("nginx:1.25", 3);
    let member = set(template.clone(), "/spec/strategy/type", json!("Recreate"));
    assert!(compare(&flat(&template).fields, &copy(&template)).is_empty());
    // The member's strategy is its own value (not its layout's reference), kept by digest only.
    assert!(compare(&flat(&member).fields, &copy(&member)).is_empty());
    let d = compare(&flat(&template).fields, &copy(&member));
    assert_eq!(paths(&d), ["spec.strategy"]);
    let text = d[0].describe();
    assert!(
        text.starts_with(r#"spec.strategy: template "{\"rollingUpdate\""#)
            && text.ends_with("running (not shown)"),
        "{text}"
    );
}

#[test]
fn a_copy_on_a_layout_that_does_not_fit_gets_its_own() {
    let web = flat(&deployment("nginx:1.25", 3));
    let job = json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "m"},
        "spec": {"template": {"spec": {"containers": [{"name": "m", "image": "migrate:1"}]}}}});
    let other = Arc::new(Layout::new(&flat(&job).fields, &mut NoIntern));
    let kept = RunningCopy::new(&web, other.clone());
    assert!(!Arc::ptr_eq(kept.layout(), &other));
    assert!(compare(&web.fields, &kept).is_empty());
    assert_eq!(kept.replicas(), Some(3));
    assert_eq!(kept.digest(), web.fields.digest);
    assert_eq!(kept, RunningCopy::standalone(&web));
}

#[test]
fn an_equal_copy_is_compared_by_digest_alone() {
    let object = deployment("nginx:1.25", 3);
    let template = tpl(&object);
    let found = check(&template, true, &[("member1", Some(&copy(&object)))]);
    assert_eq!(found.verdicts[0].outcome, Outcome::Equal);
    assert!(
        template.fields.get().is_none(),
        "no parts built for an equal copy"
    );
    let stale = copy(&deployment("nginx:1.26", 3));
    let found = check(&template, true, &[("member1", Some(&stale))]);
    assert_eq!(found.verdicts[0].outcome, Outcome::PodTemplateDiffers);
    assert!(template.fields.get().is_some());
}

#[rstest]
#[case::deployment(deployment("nginx:1.25", 3))]
#[case::service(service(Some(30080)))]
#[case::secret(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"}, "type": "Opaque",
    "data": {"password": "c2VjcmV0"}, "stringData": {"user": "app"}}))]
#[case::config_map(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}}))]
#[case::job(json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"},
    "spec": {"selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "a"}},
        "template": {"metadata": {"labels": {"batch.kubernetes.io/controller-uid": "a", "job-name": "migrate"}},
            "spec": {"containers": [{"name": "m", "image": "migrate:1"}], "restartPolicy": "Never"}}}}))]
#[case::stateful_set(json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
    "spec": {"replicas": 2, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
        "template": {"metadata": {"labels": {"app": "db"}}, "spec": {"containers": [{"name": "db", "image": "pg:16"}]}}}}))]
#[case::cron_job(json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"},
    "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"backoffLimit": 2,
        "template": {"spec": {"containers": [{"name": "c", "image": "busybox", "env": [{"name": "A"}, {"name": "B", "value": "x"}]}]}}}}}}))]
fn a_template_digest_equals_its_parts_digest(#[case] object: Value) {
    assert_eq!(tpl(&object).digest, flat(&object).fields.digest);
    assert_eq!(tpl(&object).replicas, flat(&object).replicas);
}

#[test]
fn unknown_kinds_are_not_compared() {
    assert!(Flattened::of("v1", "Pod", &json!({"spec": {}})).is_none());
    assert!(Flattened::of("apps/v1beta1", "Deployment", &json!({"spec": {}})).is_none());
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn image() -> impl Strategy<Value = String> {
        "[a-z]{1,8}:[0-9]\\.[0-9]{1,2}"
    }

    proptest! {
        /// Comparing a copy with itself finds nothing; with another image, exactly the image.
        #[test]
        fn only_what_changed_differs(a in image(), b in image(), replicas in 0i64..50) {
            let x = flat(&deployment(&a, replicas));
            prop_assert!(compare(&x.fields, &copy(&deployment(&a, replicas))).is_empty());
            let y = copy(&deployment(&b, replicas));
            let d = compare(&x.fields, &y);
            if a == b {
                prop_assert!(d.is_empty());
            } else {
                prop_assert_eq!(paths(&d), vec!["spec.template.spec.containers[web].image".to_owned()]);
            }
        }

        /// Key order in the JSON never matters.
        #[test]
        fn key_order_never_matters(a in image()) {
            let x = deployment(&a, 2);
            let text = serde_json::to_string(&x).unwrap();
            let reordered: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(flat(&x).fields.digest, flat(&reordered).fields.digest);
        }

        /// The template's digest (no parts built) is the digest of its parts, whatever the
        /// values, and an equal copy compares equal by it.
        #[test]
        fn the_digest_alone_decides_equal_copies(a in image(), replicas in 0i64..50, mode in "[a-z]{0,12}") {
            let object = set(deployment(&a, replicas), "/spec/template/spec/containers/0/env/0/value", json!(mode));
            let template = tpl(&object);
            prop_assert_eq!(template.digest, flat(&object).fields.digest);
            let found = check(&template, false, &[("member1", Some(&copy(&object)))]);
            prop_assert_eq!(found.verdicts[0].outcome, Outcome::Equal);
        }
    }
}
