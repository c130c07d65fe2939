//! Karmada's own `TestRemoveIrrelevantField` cases (`prune_test.go`), restated by name, then the
//! cases it leaves out.

use pretty_assertions::assert_eq;
use serde_json::{Value, json};

use super::prune;

fn pruned(kind: &str, mut obj: Value) -> Value {
    prune("", kind, &mut obj);
    obj
}

#[test]
fn remove_common_object_irrelevant_fields() {
    let obj = json!({
        "metadata": {
            "name": "keep",
            "creationTimestamp": "2023-03-13T05:00:41Z",
            "deletionTimestamp": "2023-03-13T06:00:41Z",
            "deletionGracePeriodSeconds": 10,
            "generation": 2,
            "managedFields": [{"apiVersion": "v1", "fieldsType": "FieldsV1", "manager": "name", "operation": "Apply"}],
            "resourceVersion": "22222",
            "selfLink": "http://example.com",
            "uid": "db56a4a6-0dff-465a-b046-2c1dea42a42b",
            "ownerReferences": [{"apiVersion": "v1", "kind": "Pod", "name": "foo", "uid": "fb11a9a6-1daa-265b-c046-1c1dea42a42c"}],
            "finalizers": ["foregroundDeletion"],
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}
        },
        "status": {}
    });
    assert_eq!(
        pruned("ConfigMap", obj),
        json!({"metadata": {"name": "keep", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}}}),
        "last-applied-configuration is not pruned by Karmada"
    );
}

#[test]
fn remove_service_irrelevant_fields() {
    let obj = json!({"kind": "Service", "spec": {"clusterIP": "10.10.10.10", "clusterIPs": ["10.10.10.10"], "ports": [{"port": 80}]}});
    assert_eq!(
        pruned("Service", obj),
        json!({"kind": "Service", "spec": {"ports": [{"port": 80}]}})
    );
}

#[test]
fn headless_service_keeps_cluster_ip_none() {
    let obj = json!({"spec": {"clusterIP": "None", "clusterIPs": ["None"]}});
    assert_eq!(pruned("Service", obj.clone()), obj);
}

#[test]
fn remove_job_irrelevant_fields() {
    let obj = json!({"kind": "Job", "spec": {
        "selector": {"matchLabels": {"foo": "bar", "controller-uid": "ab11a9a6-1daa-265b-c046-1c1dea42a42c"}},
        "template": {"metadata": {"labels": {"controller-uid": "ab11a9a6-1daa-265b-c046-1c1dea42a42c", "job-name": "test-job", "foo": "bar"}}},
        "ttlSecondsAfterFinished": 10
    }});
    assert_eq!(
        pruned("Job", obj),
        json!({"kind": "Job", "spec": {"selector": {"matchLabels": {"foo": "bar"}}, "template": {"metadata": {"labels": {"foo": "bar"}}}}})
    );
}

#[test]
fn job_generated_labels_of_kubernetes_1_27_are_removed_and_an_empty_selector_stays() {
    let uid = "batch.kubernetes.io/controller-uid";
    let obj = json!({"spec": {
        "selector": {"matchLabels": {uid: "u"}},
        "template": {"metadata": {"labels": {uid: "u", "batch.kubernetes.io/job-name": "j"}}}
    }});
    assert_eq!(
        pruned("Job", obj),
        json!({"spec": {"selector": {"matchLabels": {}}, "template": {"metadata": {"labels": {}}}}})
    );
}

#[test]
fn job_with_manual_selector_keeps_its_labels_but_not_its_ttl() {
    let obj = json!({"spec": {"manualSelector": true, "selector": {"matchLabels": {"controller-uid": "mine"}}, "ttlSecondsAfterFinished": 5}});
    assert_eq!(
        pruned("Job", obj),
        json!({"spec": {"manualSelector": true, "selector": {"matchLabels": {"controller-uid": "mine"}}}})
    );
}

#[test]
fn remove_serviceaccount_irrelevant_fields() {
    let obj = json!({"metadata": {"name": "foo"}, "secrets": [{"name": "foo-token-6pgxf"}, {"name": "foo-dockercfg-zdr2j"}]});
    assert_eq!(
        pruned("ServiceAccount", obj),
        json!({"metadata": {"name": "foo"}, "secrets": [{"name": "foo-dockercfg-zdr2j"}]})
    );
}

#[test]
fn serviceaccount_loop_skips_the_entry_after_a_removed_one_as_go_does() {
    let obj = json!({"metadata": {"name": "foo"}, "secrets": [{"name": "foo-token-a"}, {"name": "foo-token-b"}, {"name": "foo-token-c"}]});
    assert_eq!(
        pruned("ServiceAccount", obj)["secrets"],
        json!([{"name": "foo-token-b"}])
    );
}

#[test]
fn remove_service_account_token_secret_irrelevant_fields() {
    let obj = json!({
        "metadata": {"annotations": {"kubernetes.io/service-account.uid": "123", "kubernetes.io/service-account.name": "sa"}},
        "type": "kubernetes.io/service-account-token",
        "data": {"token": "abc"}
    });
    assert_eq!(
        pruned("Secret", obj),
        json!({
            "metadata": {"annotations": {"kubernetes.io/service-account.name": "sa"}},
            "type": "kubernetes.io/service-account-token",
            "data": null
        })
    );
}

#[test]
fn retains_secret_basic_auth_fields() {
    let obj = json!({"metadata": {"foo": "bar"}, "type": "kubernetes.io/basic-auth", "data": {"username": "foo", "password": "bar"}});
    assert_eq!(pruned("Secret", obj.clone()), obj);
}

#[test]
fn remove_selected_node_pvc_annotation() {
    let obj =
        json!({"metadata": {"annotations": {"volume.kubernetes.io/selected-node": "node1", "keep": "x"}}});
    assert_eq!(
        pruned("PersistentVolumeClaim", obj),
        json!({"metadata": {"annotations": {"keep": "x"}}})
    );
}

#[test]
fn removes_deployment_revision_annotation() {
    let obj = json!({"metadata": {"annotations": {"deployment.kubernetes.io/revision": "1"}}});
    assert_eq!(
        pruned("Deployment", obj),
        json!({"metadata": {"annotations": {}}}),
        "the emptied map stays, as unstructured.RemoveNestedField leaves it"
    );
}

#[test]
fn removes_deployment_revision_history_annotation() {
    let obj = json!({"metadata": {"annotations": {"deployment.kubernetes.io/revision-history": "1,2", "app": "x"}}});
    assert_eq!(
        pruned("Deployment", obj),
        json!({"metadata": {"annotations": {"app": "x"}}})
    );
}

#[test]
fn other_kinds_keep_their_spec() {
    let obj = json!({"spec": {"replicas": 3, "clusterIP": "10.0.0.1", "ttlSecondsAfterFinished": 1}});
    assert_eq!(pruned("StatefulSet", obj.clone()), obj);
}
