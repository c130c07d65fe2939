//! Karmada's own cases (`retain_test.go`, `lifted/retain_test.go`), restated by their test and
//! case names, then `retainClusterFields`, which Karmada tests only through the object watcher.

use pretty_assertions::assert_eq;
use serde_json::{Value, json};

use super::{RetainError, retain, retained_fields};

fn retained(api_version: &str, kind: &str, mut desired: Value, observed: &Value) -> Value {
    retain(api_version, kind, &mut desired, observed).unwrap_or_else(|e| panic!("retain failed: {e}"));
    desired
}

const RETAIN: &str = "resourcetemplate.karmada.io/retain-replicas";

#[test]
fn retain_k8s_workload_replicas_deployment_is_control_by_hpa() {
    let desired = json!({"metadata": {"name": "nginx", "labels": {RETAIN: "true"}}, "spec": {"replicas": 2}});
    let observed = json!({"metadata": {"name": "nginx"}, "spec": {"replicas": 4}});
    assert_eq!(
        retained("apps/v1", "Deployment", desired, &observed),
        json!({"metadata": {"name": "nginx", "labels": {RETAIN: "true"}}, "spec": {"replicas": 4}})
    );
}

#[test]
fn retain_k8s_workload_replicas_deployment_is_not_control_by_hpa() {
    let desired = json!({"metadata": {"name": "nginx"}, "spec": {"replicas": 2}});
    let observed = json!({"metadata": {"name": "nginx"}, "spec": {"replicas": 4}});
    assert_eq!(
        retained("apps/v1", "Deployment", desired.clone(), &observed),
        desired
    );
}

#[test]
fn retain_k8s_workload_replicas_empty_observed_replicas() {
    let mut desired =
        json!({"metadata": {"name": "nginx", "labels": {RETAIN: "true"}}, "spec": {"replicas": 2}});
    let observed =
        json!({"kind": "Deployment", "metadata": {"name": "nginx", "namespace": "shop"}, "spec": {}});
    let err = retain("apps/v1", "Deployment", &mut desired, &observed).err();
    assert_eq!(
        err,
        Some(RetainError::NoObservedReplicas {
            kind: "Deployment".into(),
            namespace: "shop".into(),
            name: "nginx".into()
        })
    );
    assert_eq!(
        err.map(|e| e.to_string()).as_deref(),
        Some("failed to get spec.replicas from Deployment shop/nginx")
    );
}

#[test]
fn retain_replicas_label_on_the_member_only_is_merged_first_and_then_counts() {
    // retainClusterFields runs before Retain: a member-only label joins the manifest's labels.
    let desired = json!({"metadata": {"name": "nginx"}, "spec": {"replicas": 2}});
    let observed =
        json!({"metadata": {"name": "nginx", "labels": {RETAIN: "true"}}, "spec": {"replicas": 4}});
    assert_eq!(
        retained("apps/v1", "Deployment", desired, &observed)["spec"]["replicas"],
        4
    );
}

#[test]
fn stateful_set_replicas_are_not_retained() {
    let desired = json!({"metadata": {"labels": {RETAIN: "true"}}, "spec": {"replicas": 2}});
    let observed = json!({"spec": {"replicas": 4}});
    assert_eq!(
        retained("apps/v1", "StatefulSet", desired, &observed)["spec"]["replicas"],
        2
    );
}

#[test]
fn retain_secret_service_account_token_secret_data_and_uid_are_retained() {
    let desired = json!({"type": "kubernetes.io/service-account-token", "data": null});
    let observed = json!({"type": "kubernetes.io/service-account-token", "data": {"token": "dG9rZW4="}});
    assert_eq!(
        retained("v1", "Secret", desired, &observed)["data"],
        json!({"token": "dG9rZW4="})
    );
}

#[test]
fn retain_secret_service_account_token_ignores_missing_uid_and_data() {
    let desired = json!({"type": "kubernetes.io/service-account-token", "data": null});
    let observed = json!({"type": "kubernetes.io/service-account-token"});
    assert_eq!(retained("v1", "Secret", desired.clone(), &observed), desired);
}

#[test]
fn retain_secret_service_account_token_does_not_retain_for_type_tls() {
    let desired = json!({"type": "kubernetes.io/tls", "data": {"tls.crt": "bmV3"}});
    let observed = json!({"type": "kubernetes.io/tls", "data": {"tls.crt": "b2xk"}});
    assert_eq!(retained("v1", "Secret", desired.clone(), &observed), desired);
}

#[test]
fn retain_persistent_volume_fields_retain_claim_ref() {
    let claim_ref = json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "name": "data", "namespace": "shop", "uid": "u"});
    let observed = json!({"spec": {"claimRef": claim_ref}});
    assert_eq!(
        retained(
            "v1",
            "PersistentVolume",
            json!({"spec": {"capacity": {"storage": "1Gi"}}}),
            &observed
        )["spec"]["claimRef"],
        claim_ref
    );
}

#[test]
fn retain_persistent_volume_claim_fields_retain_observed_volume_name() {
    let observed = json!({"spec": {"volumeName": "pv-1"}});
    assert_eq!(
        retained("v1", "PersistentVolumeClaim", json!({"spec": {}}), &observed)["spec"]["volumeName"],
        "pv-1"
    );
}

#[test]
fn retain_job_selector_fields_match_labels_and_template_labels_exists() {
    let desired = json!({"spec": {"selector": {"matchLabels": {}}, "template": {"metadata": {"labels": {"app": "j"}}}}});
    let observed = json!({"spec": {
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "u"}},
        "template": {"metadata": {"labels": {"app": "j", "batch.kubernetes.io/controller-uid": "u", "job-name": "j"}}}
    }});
    assert_eq!(
        retained("batch/v1", "Job", desired, &observed)["spec"],
        observed["spec"]
    );
}

#[test]
fn retain_job_selector_fields_match_labels_does_not_exists() {
    let desired = json!({"spec": {"template": {"metadata": {"labels": {"app": "j"}}}}});
    let observed = json!({"spec": {"template": {"metadata": {"labels": {"app": "j", "job-name": "j"}}}}});
    assert_eq!(
        retained("batch/v1", "Job", desired, &observed)["spec"],
        json!({"template": {"metadata": {"labels": {"app": "j", "job-name": "j"}}}})
    );
}

#[test]
fn retain_job_selector_fields_template_labels_does_not_exists() {
    let desired = json!({"spec": {"selector": {"matchLabels": {"a": "b"}}}});
    let observed = json!({"spec": {"selector": {"matchLabels": {"controller-uid": "u"}}}});
    assert_eq!(
        retained("batch/v1", "Job", desired, &observed)["spec"],
        json!({"selector": {"matchLabels": {"controller-uid": "u"}}})
    );
}

#[test]
fn retain_pod_fields_retain_observed_pod_fields() {
    let desired = json!({"spec": {
        "nodeName": "", "serviceAccountName": "desired",
        "volumes": [{"name": "desired-volume"}],
        "containers": [{"name": "app", "image": "x:2", "volumeMounts": [{"name": "desired-volume", "mountPath": "/d"}]}, {"name": "other"}],
        "initContainers": [{"name": "init", "volumeMounts": [{"name": "desired-volume", "mountPath": "/d"}]}]
    }});
    let observed = json!({"spec": {
        "nodeName": "node-1", "serviceAccountName": "default",
        "volumes": [{"name": "kube-api-access", "projected": {"sources": []}}],
        "containers": [{"name": "app", "image": "x:1", "volumeMounts": [{"name": "kube-api-access", "mountPath": "/var/run/secrets"}]}],
        "initContainers": [{"name": "init"}]
    }});
    assert_eq!(
        retained("v1", "Pod", desired, &observed)["spec"],
        json!({
            "nodeName": "node-1", "serviceAccountName": "default",
            "volumes": [{"name": "kube-api-access", "projected": {"sources": []}}],
            "containers": [{"name": "app", "image": "x:2", "volumeMounts": [{"name": "kube-api-access", "mountPath": "/var/run/secrets"}]}, {"name": "other"}],
            "initContainers": [{"name": "init"}]
        })
    );
}

#[test]
fn retain_health_check_node_port_in_service_fields() {
    let desired = json!({"spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local"}});
    let observed = json!({"spec": {"type": "LoadBalancer", "healthCheckNodePort": 32000, "clusterIP": "10.0.0.7", "clusterIPs": ["10.0.0.7"], "ports": [{"port": 80, "nodePort": 30080}]}});
    assert_eq!(
        retained("v1", "Service", desired, &observed)["spec"],
        json!({"type": "LoadBalancer", "externalTrafficPolicy": "Local", "healthCheckNodePort": 32000, "clusterIP": "10.0.0.7"}),
        "clusterIPs and nodePorts are not retained"
    );
}

#[test]
fn retain_cluster_ip_in_service_fields_keeps_the_manifest_without_a_member_ip() {
    let desired = json!({"spec": {"clusterIP": "None"}});
    assert_eq!(
        retained(
            "v1",
            "Service",
            desired.clone(),
            &json!({"spec": {"clusterIP": ""}})
        ),
        desired
    );
}

#[test]
fn retain_service_account_fields_neither_has_the_secrets_field() {
    let got = retained(
        "v1",
        "ServiceAccount",
        json!({"metadata": {"name": "sa"}}),
        &json!({"metadata": {"name": "sa"}}),
    );
    assert_eq!(
        got,
        json!({"metadata": {"name": "sa"}, "secrets": null, "imagePullSecrets": null})
    );
}

#[test]
fn retain_service_account_fields_different_secrets_are_merged() {
    let desired = json!({"secrets": [{"name": "a"}], "imagePullSecrets": [{"name": "pull"}]});
    let observed =
        json!({"secrets": [{"name": "b"}, {"name": "a"}], "imagePullSecrets": [{"name": "member-pull"}]});
    let got = retained("v1", "ServiceAccount", desired, &observed);
    assert_eq!(got["secrets"], json!([{"name": "a"}, {"name": "b"}]));
    assert_eq!(
        got["imagePullSecrets"],
        json!([{"name": "pull"}, {"name": "member-pull"}])
    );
}

#[test]
fn retain_cluster_fields_keeps_member_metadata() {
    let desired = json!({
        "metadata": {"name": "web", "labels": {"app": "web", "team": "template"}, "annotations": {"note": "template"}, "finalizers": ["template"]}
    });
    let observed = json!({"metadata": {
        "name": "web",
        "resourceVersion": "42",
        "finalizers": ["member.example.com/guard"],
        "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": "o"}],
        "labels": {"team": "member", "member-only": "x", "was-managed": "y"},
        "annotations": {
            "note": "member", "member-note": "z", "gone": "old",
            "resourcetemplate.karmada.io/managed-labels": "app,team,was-managed",
            "resourcetemplate.karmada.io/managed-annotations": "gone,note,resourcetemplate.karmada.io/managed-annotations,resourcetemplate.karmada.io/managed-labels"
        }
    }});
    let got = retained("apps/v1", "StatefulSet", desired, &observed);
    assert_eq!(
        got["metadata"],
        json!({
            "name": "web",
            "resourceVersion": "42",
            "finalizers": ["member.example.com/guard"],
            "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": "o"}],
            "labels": {"app": "web", "team": "template", "member-only": "x"},
            // The records name themselves and the manifest carries none here: dropped too.
            "annotations": {"note": "template", "member-note": "z"}
        })
    );
}

#[test]
fn retain_cluster_fields_removes_what_the_member_lacks() {
    let desired = json!({"metadata": {"resourceVersion": "7", "finalizers": ["f"], "ownerReferences": []}});
    assert_eq!(
        retained("v1", "ConfigMap", desired, &json!({"metadata": {}})),
        json!({"metadata": {}})
    );
}

/// Every field [`retained_fields`] lists is one `retain` takes from the member copy.
#[test]
fn retained_fields_are_what_retain_keeps() {
    for (api_version, kind) in [
        ("v1", "Service"),
        ("batch/v1", "Job"),
        ("v1", "PersistentVolumeClaim"),
        ("v1", "PersistentVolume"),
        ("v1", "Pod"),
    ] {
        for path in retained_fields(api_version, kind) {
            let pointer = format!("/{}", path.replace('.', "/"));
            let member_value = match *path {
                "spec.healthCheckNodePort" => serde_json::json!(31999),
                "spec.selector.matchLabels" | "spec.template.metadata.labels" => {
                    serde_json::json!({"controller-uid": "member"})
                }
                "spec.claimRef" => serde_json::json!({"name": "member"}),
                "spec.volumes" => serde_json::json!([{"name": "member", "emptyDir": {}}]),
                _ => serde_json::json!("member"),
            };
            let mut observed = serde_json::json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}, "spec": {}});
            let mut desired = observed.clone();
            let parts: Vec<&str> = path.split('.').collect();
            let mut at = &mut observed;
            for p in &parts[..parts.len() - 1] {
                at = at
                    .as_object_mut()
                    .unwrap()
                    .entry(p.to_string())
                    .or_insert(serde_json::json!({}));
            }
            at[parts[parts.len() - 1]] = member_value.clone();
            retain(api_version, kind, &mut desired, &observed).unwrap();
            assert_eq!(desired.pointer(&pointer), Some(&member_value), "{kind} {path}");
        }
    }
}
