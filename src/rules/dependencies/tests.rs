//! Karmada's own cases (`pkg/resourceinterpreter/default/native/dependencies_test.go` at f8fdd02,
//! restated: the three `testPairs` pod specs through every workload kind, the StatefulSet claim
//! template case, Ingress and ServiceImport), then the rules of `visitpod.go` and of the typed
//! conversion that those cases do not pin.

use rstest::rstest;
use serde_json::{Value, json};

use super::*;

const NS: &str = "karmada-test";

/// `kind namespace/name` of each dependency, in our order.
fn shown(deps: &[Dependency]) -> Vec<String> {
    deps.iter()
        .map(|d| format!("{} {}/{}", d.kind.as_str(), d.namespace, d.name))
        .collect()
}

fn deps_of(object: &Value) -> Result<Vec<Dependency>, DependencyError> {
    dependencies(&Object::from_manifest(object).unwrap())
}

/// The expected references, in our order (apiVersion, kind, namespace, name; all are `v1` here).
fn want(refs: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = refs.iter().map(|r| (*r).to_owned()).collect();
    out.sort();
    out
}

/// `testPairs[0]`: serviceAccountName, a configMap, a secret and a PVC volume.
fn pair0() -> (Value, Vec<String>) {
    (
        json!({"serviceAccountName": "test-serviceaccount", "volumes": [
            {"name": "initcontainer-volume-mount", "configMap": {"name": "test-configmap"}},
            {"name": "cloud-secret-volume", "secret": {"secretName": "cloud-secret"}},
            {"name": "container-volume-mount", "persistentVolumeClaim": {"claimName": "test-pvc"}}]}),
        want(&[
            "ConfigMap karmada-test/test-configmap",
            "Secret karmada-test/cloud-secret",
            "ServiceAccount karmada-test/test-serviceaccount",
            "PersistentVolumeClaim karmada-test/test-pvc",
        ]),
    )
}

/// `testPairs[1]`: imagePullSecrets and an init container's envFrom and env, one Secret thrice.
fn pair1() -> (Value, Vec<String>) {
    (
        json!({"serviceAccountName": "test-serviceaccount",
            "imagePullSecrets": [{"name": "test-secret"}],
            "initContainers": [{
                "envFrom": [{"configMapRef": {"name": "initcontainer-envfrom-configmap"}, "secretRef": {"name": "test-secret"}}],
                "env": [{"valueFrom": {"secretKeyRef": {"name": "test-secret"}}}]}]}),
        want(&[
            "ConfigMap karmada-test/initcontainer-envfrom-configmap",
            "Secret karmada-test/test-secret",
            "ServiceAccount karmada-test/test-serviceaccount",
        ]),
    )
}

/// `testPairs[2]`: one ConfigMap twice; a volume with both a PVC and an azureFile secret.
fn pair2() -> (Value, Vec<String>) {
    (
        json!({"containers": [{
                "envFrom": [{"configMapRef": {"name": "test-configmap"}}],
                "env": [{"valueFrom": {"configMapKeyRef": {"name": "test-configmap"}}}]}],
            "volumes": [{"name": "container-volume-mount",
                "persistentVolumeClaim": {"claimName": "test-pvc"}, "azureFile": {"secretName": "test-secret"}}]}),
        want(&[
            "ConfigMap karmada-test/test-configmap",
            "Secret karmada-test/test-secret",
            "PersistentVolumeClaim karmada-test/test-pvc",
        ]),
    )
}

/// A workload of `api_version`/`kind` with `pod_spec` where that kind keeps it.
fn workload(api_version: &str, kind: &str, pod_spec: Option<Value>) -> Value {
    let mut spec = json!({"replicas": 3});
    if let Some(pod_spec) = pod_spec {
        spec = match kind {
            "Pod" => pod_spec,
            "CronJob" => {
                json!({"schedule": "*/1 * * * *", "jobTemplate": {"spec": {"template": {"spec": pod_spec}}}})
            }
            _ => json!({"replicas": 3, "template": {"spec": pod_spec}}),
        };
    }
    json!({"apiVersion": api_version, "kind": kind,
        "metadata": {"name": format!("fake-{}", kind.to_lowercase()), "namespace": NS, "generation": 1},
        "spec": spec})
}

/// `Test_getDeploymentDependencies`, `Test_getReplicaSetDependencies`, `Test_getJobDependencies`,
/// `Test_getCronJobDependencies`, `Test_getPodDependencies`, `Test_getDaemonSetDependencies`,
/// `Test_getStatefulSetDependencies` (cases "without dependencies" and "with dependencies 1–3").
#[rstest]
fn karmada_workload_cases(
    #[values(
        ("apps/v1", "Deployment"),
        ("apps/v1", "ReplicaSet"),
        ("batch/v1", "Job"),
        ("batch/v1", "CronJob"),
        ("v1", "Pod"),
        ("apps/v1", "DaemonSet"),
        ("apps/v1", "StatefulSet")
    )]
    gvk: (&str, &str),
) {
    let (api_version, kind) = gvk;
    // "without dependencies" (the Pod's has a container without references).
    let none = match kind {
        "Pod" => workload(
            api_version,
            kind,
            Some(
                json!({"containers": [{"name": "example-container", "image": "busybox", "command": ["echo", "Hello, World!"]}]}),
            ),
        ),
        _ => workload(api_version, kind, None),
    };
    assert_eq!(deps_of(&none), Ok(vec![]), "{kind} without dependencies");
    for (i, (pod_spec, expected)) in [pair0(), pair1(), pair2()].into_iter().enumerate() {
        let got = deps_of(&workload(api_version, kind, Some(pod_spec))).unwrap();
        assert_eq!(shown(&got), expected, "{kind} with dependencies {}", i + 1);
    }
}

/// `Test_getStatefulSetDependencies` "statefulset with partial dependencies 4".
#[test]
fn karmada_statefulset_claim_templates_are_not_dependencies() {
    let (pod_spec, expected) = pair0();
    let mut sts = workload("apps/v1", "StatefulSet", Some(pod_spec.clone()));
    sts["spec"]["volumeClaimTemplates"] = json!([{"metadata": {"name": "test-pvc"}}]);
    let got = deps_of(&sts).unwrap();
    // Karmada's `testPairs[0].dependentObjectReference[:3]`: all but the PVC.
    let without_pvc: Vec<&String> = expected
        .iter()
        .filter(|d| !d.starts_with("PersistentVolumeClaim "))
        .collect();
    assert_eq!(without_pvc.len(), 3);
    assert_eq!(shown(&got).iter().collect::<Vec<_>>(), without_pvc);
    // Only a StatefulSet: the same field on a Deployment is an unknown field.
    let mut deploy = workload("apps/v1", "Deployment", Some(pod_spec));
    deploy["spec"]["volumeClaimTemplates"] = json!([{"metadata": {"name": "test-pvc"}}]);
    assert_eq!(deps_of(&deploy).unwrap().len(), 4);
}

/// `Test_getIngressDependencies` "ingress with dependencies 2".
#[test]
fn karmada_ingress_tls_secrets() {
    let ingress = json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "test-ingress", "namespace": NS},
        "spec": {"tls": [{"hosts": ["foo1.*.bar.com"], "secretName": "cloud-secret"},
                         {"hosts": ["foo2.*.bar.com"], "secretName": "test-secret"}]}});
    assert_eq!(
        shown(&deps_of(&ingress).unwrap()),
        [
            "Secret karmada-test/cloud-secret",
            "Secret karmada-test/test-secret"
        ]
    );
}

/// `Test_getServiceImportDependencies`: the derived Service and its EndpointSlices by label.
#[test]
fn karmada_service_import() {
    let si = json!({"apiVersion": "multicluster.x-k8s.io/v1alpha1", "kind": "ServiceImport",
        "metadata": {"name": "fake-serviceImport", "namespace": NS},
        "spec": {"type": "ClusterSetIP", "ports": [{"port": 80, "protocol": "TCP"}]}});
    let got = deps_of(&si).unwrap();
    assert_eq!(
        serde_json::to_value(&got).unwrap(),
        json!([
            {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "namespace": NS,
             "labelSelector": {"matchLabels": {"kubernetes.io/service-name": "derived-fake-serviceImport"}}},
            {"apiVersion": "v1", "kind": "Service", "namespace": NS, "name": "derived-fake-serviceImport"},
        ])
    );
}

/// `Test_getAllDefaultDependenciesInterpreter`: exactly nine GVKs have a handler.
#[test]
fn karmada_handled_kinds() {
    assert_eq!(HANDLED.len(), 9);
    assert!(handles("apps/v1", "Deployment") && handles("multicluster.x-k8s.io/v1alpha1", "ServiceImport"));
    // Karmada's tests call `getCronJobDependencies` directly with `batch/v1beta1`; through
    // `GetDependencies` that version has no handler, and neither does `extensions/v1beta1` Ingress.
    let (pod_spec, _) = pair0();
    for (api_version, kind) in [
        ("batch/v1beta1", "CronJob"),
        ("extensions/v1beta1", "Ingress"),
        ("apps/v1beta2", "Deployment"),
        ("v1", "pod"),
        ("v1", "Service"),
    ] {
        assert!(!handles(api_version, kind));
        let object = workload(api_version, kind, Some(pod_spec.clone()));
        assert_eq!(deps_of(&object), Ok(vec![]), "{api_version} {kind}");
    }
}

fn pod_deps(pod_spec: Value) -> Vec<String> {
    shown(&deps_of(&workload("v1", "Pod", Some(pod_spec))).unwrap())
}

#[rstest]
#[case::ephemeral_containers(json!({"ephemeralContainers": [{"envFrom": [{"secretRef": {"name": "e"}}]}]}), &["Secret karmada-test/e"])]
#[case::empty_names_are_skipped(json!({"imagePullSecrets": [{"name": ""}, {}], "volumes": [{"secret": {}}, {"persistentVolumeClaim": {"claimName": ""}}], "serviceAccountName": ""}), &[])]
#[case::default_service_account(json!({"serviceAccountName": "default", "serviceAccount": "legacy"}), &[])]
#[case::every_secret_volume_plugin(json!({"volumes": [
        {"azureFile": {"secretName": "az"}}, {"cephfs": {"secretRef": {"name": "ceph"}}}, {"cinder": {"secretRef": {"name": "cin"}}},
        {"flexVolume": {"secretRef": {"name": "flex"}}}, {"rbd": {"secretRef": {"name": "rbd"}}}, {"scaleIO": {"secretRef": {"name": "sio"}}},
        {"iscsi": {"secretRef": {"name": "isc"}}}, {"storageos": {"secretRef": {"name": "sos"}}}, {"csi": {"nodePublishSecretRef": {"name": "csi"}}},
        {"projected": {"sources": [{"secret": {"name": "ps"}}, {"configMap": {"name": "pc"}}, {"serviceAccountToken": {"path": "t"}}]}}]}),
    &["ConfigMap karmada-test/pc", "Secret karmada-test/az", "Secret karmada-test/ceph", "Secret karmada-test/cin",
      "Secret karmada-test/csi", "Secret karmada-test/flex", "Secret karmada-test/isc", "Secret karmada-test/ps",
      "Secret karmada-test/rbd", "Secret karmada-test/sio", "Secret karmada-test/sos"])]
#[case::other_volume_secret_refs_are_not_visited(json!({"volumes": [{"glusterfs": {"endpoints": "e"}}, {"nfs": {"server": "s"}},
        {"csi": {"controllerPublishSecretRef": {"name": "x"}}}, {"ephemeral": {"volumeClaimTemplate": {"metadata": {"name": "eph"}}}}]}), &[])]
#[case::first_source_in_switch_order_wins(json!({"volumes": [
        {"azureFile": {"secretName": "az"}, "secret": {"secretName": "shadowed"}},
        {"projected": {"sources": [{"secret": {"name": "p"}}]}, "csi": {"nodePublishSecretRef": {"name": "shadowed-too"}}},
        {"cephfs": {}, "secret": {"secretName": "shadowed-by-an-empty-cephfs"}}]}),
    &["Secret karmada-test/az", "Secret karmada-test/p"])]
#[case::projected_before_config_map(json!({"volumes": [{"projected": {"sources": []}, "configMap": {"name": "shadowed"}}, {"configMap": {"name": "c"}, "secret": {"secretName": "s"}}]}),
    &["ConfigMap karmada-test/c", "Secret karmada-test/s"])]
#[case::pvc_beside_another_source(json!({"volumes": [{"persistentVolumeClaim": {"claimName": "data"}, "secret": {"secretName": "s"}}]}),
    &["Secret karmada-test/s", "PersistentVolumeClaim karmada-test/data"])]
#[case::null_is_the_zero_value(json!({"containers": [null, {"env": null, "envFrom": [{"configMapRef": null, "secretRef": {"name": null}}]}], "volumes": [null, {"secret": null, "configMap": {"name": "c"}}]}),
    &["ConfigMap karmada-test/c"])]
#[case::keys_are_case_sensitive(json!({"volumes": [{"ConfigMap": {"name": "c"}}], "ImagePullSecrets": [{"name": "s"}]}), &[])]
fn visitpod_rules(#[case] pod_spec: Value, #[case] expected: &[&str]) {
    assert_eq!(pod_deps(pod_spec), want(expected));
}

#[test]
fn dependencies_are_in_the_objects_namespace_as_given() {
    let mut pod = workload(
        "v1",
        "Pod",
        Some(json!({"volumes": [{"configMap": {"name": "c"}}]})),
    );
    pod["metadata"]["namespace"] = json!(null);
    let got = deps_of(&pod).unwrap();
    assert_eq!(got[0].namespace, "");
    assert_eq!(
        serde_json::to_value(&got).unwrap(),
        json!([{"apiVersion": "v1", "kind": "ConfigMap", "name": "c"}])
    );
}

#[test]
fn sorted_by_api_version_kind_namespace_name() {
    let got = pod_deps(
        json!({"serviceAccountName": "sa", "imagePullSecrets": [{"name": "b"}, {"name": "a"}],
        "volumes": [{"persistentVolumeClaim": {"claimName": "pvc"}}, {"configMap": {"name": "z"}}]}),
    );
    assert_eq!(
        got,
        [
            "ConfigMap karmada-test/z",
            "PersistentVolumeClaim karmada-test/pvc",
            "Secret karmada-test/a",
            "Secret karmada-test/b",
            "ServiceAccount karmada-test/sa"
        ]
    );
}

#[test]
fn ingress_keeps_duplicates_and_rejects_an_entry_without_a_secret() {
    let mut ingress = json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "web", "namespace": "shop"},
        "spec": {"tls": [{"secretName": "b"}, {"secretName": "a"}, {"secretName": "b"}]}});
    assert_eq!(
        shown(&deps_of(&ingress).unwrap()),
        ["Secret shop/a", "Secret shop/b", "Secret shop/b"]
    );
    ingress["spec"]["tls"][1] = json!({"hosts": ["x.example"]});
    let err = deps_of(&ingress).unwrap_err();
    assert_eq!(
        err,
        DependencyError::NoName {
            path: "spec.tls[1].secretName".to_owned()
        }
    );
    assert!(
        err.to_string().starts_with("spec.tls[1].secretName is empty: "),
        "{err}"
    );
}

#[test]
fn a_service_import_name_over_55_characters_is_rejected() {
    let si = |name: &str| json!({"apiVersion": "multicluster.x-k8s.io/v1alpha1", "kind": "ServiceImport", "metadata": {"name": name, "namespace": "ns"}});
    assert_eq!(deps_of(&si(&"a".repeat(55))).unwrap().len(), 2);
    let err = deps_of(&si(&"a".repeat(56))).unwrap_err();
    assert!(
        matches!(
            err,
            DependencyError::Selector {
                why: "longer than 63 characters",
                ..
            }
        ),
        "{err}"
    );
}

#[rstest]
#[case::name_is_a_number(json!({"volumes": [{"secret": {"secretName": 5}}]}), "spec.volumes[0].secret.secretName is a number, not a string")]
#[case::ref_is_a_string(json!({"containers": [{"envFrom": [{"configMapRef": "c"}]}]}), "spec.containers[0].envFrom[0].configMapRef is a string, not an object")]
#[case::list_is_an_object(json!({"volumes": {"a": {}}}), "spec.volumes is an object, not a list")]
#[case::shadowed_source_is_still_checked(json!({"volumes": [{"azureFile": {"secretName": "a"}, "csi": {"nodePublishSecretRef": {"name": []}}}]}),
    "spec.volumes[0].csi.nodePublishSecretRef.name is a list, not a string")]
fn a_field_of_the_wrong_type_fails_as_karmadas_conversion_does(#[case] pod_spec: Value, #[case] shape: &str) {
    let err = deps_of(&workload("v1", "Pod", Some(pod_spec))).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("Karmada cannot read it as v1 Pod: {shape};")),
        "{err}"
    );
}

#[test]
fn the_metadata_and_the_spec_path_are_checked_too() {
    let mut sts = workload("apps/v1", "StatefulSet", Some(json!({})));
    sts["spec"]["volumeClaimTemplates"] = json!([{"metadata": {"name": 1}}]);
    assert!(
        deps_of(&sts)
            .unwrap_err()
            .to_string()
            .contains("spec.volumeClaimTemplates[0].metadata.name is a number")
    );
    let cron = json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "c"}, "spec": {"jobTemplate": "x"}});
    assert!(
        deps_of(&cron)
            .unwrap_err()
            .to_string()
            .contains("spec.jobTemplate is a string")
    );
    let bad_ns = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": 3}});
    assert!(
        Object::from_manifest(&bad_ns)
            .unwrap_err()
            .to_string()
            .contains("metadata.namespace is a number")
    );
}

#[test]
fn callers_may_leave_the_metadata_out() {
    let body = json!({"spec": {"template": {"spec": {"volumes": [{"secret": {"secretName": "s"}}]}}}});
    let o = Object {
        api_version: "apps/v1",
        kind: "Deployment",
        namespace: "shop",
        name: "web",
        body: (&body).into(),
    };
    assert_eq!(shown(&dependencies(&o).unwrap()), ["Secret shop/s"]);
}

#[test]
fn kinds_order_by_api_version_then_kind() {
    use DependencyKind::*;
    let mut kinds = vec![
        ServiceAccount,
        Secret,
        Service,
        PersistentVolumeClaim,
        EndpointSlice,
        ConfigMap,
    ];
    kinds.sort();
    assert_eq!(
        kinds,
        [
            EndpointSlice,
            ConfigMap,
            PersistentVolumeClaim,
            Secret,
            Service,
            ServiceAccount
        ]
    );
}

/// Any name a reference may hold, empty included.
fn name() -> impl proptest::strategy::Strategy<Value = String> {
    proptest::prop_oneof![proptest::strategy::Just(String::new()), "[a-c]{1,2}"]
}

/// A pod spec of random references from every place Karmada visits.
fn pod_spec() -> impl proptest::strategy::Strategy<Value = Value> {
    use proptest::{collection::vec, prelude::*};
    let reference = (0..8usize, name()).prop_map(|(at, n)| match at {
        0 => json!({"envFrom": [{"configMapRef": {"name": n}}]}),
        1 => json!({"envFrom": [{"secretRef": {"name": n}}]}),
        2 => json!({"env": [{"valueFrom": {"secretKeyRef": {"name": n}}}]}),
        3 => json!({"volume": {"secret": {"secretName": n}}}),
        4 => json!({"volume": {"projected": {"sources": [{"configMap": {"name": n}}, {"secret": {"name": n}}]}}}),
        5 => json!({"volume": {"persistentVolumeClaim": {"claimName": n}}}),
        6 => json!({"volume": {"csi": {"nodePublishSecretRef": {"name": n}}, "configMap": {"name": n}}}),
        _ => json!({"pull": n}),
    });
    (vec(reference, 0..12), name()).prop_map(|(refs, sa)| {
        let mut containers = Vec::new();
        let mut volumes = Vec::new();
        let mut pulls = Vec::new();
        for r in refs {
            if let Some(v) = r.get("volume") {
                volumes.push(v.clone());
            } else if let Some(p) = r.get("pull") {
                pulls.push(json!({"name": p}));
            } else {
                containers.push(r);
            }
        }
        json!({"containers": containers, "initContainers": containers.iter().rev().cloned().collect::<Vec<_>>(),
            "volumes": volumes, "imagePullSecrets": pulls, "serviceAccountName": sa})
    })
}

proptest::proptest! {
    #[test]
    fn pod_template_dependencies_are_sorted_unique_and_named(spec in pod_spec()) {
        for kind in ["Deployment", "StatefulSet"] {
            let got = deps_of(&workload("apps/v1", kind, Some(spec.clone()))).unwrap();
            proptest::prop_assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
            proptest::prop_assert!(got.iter().all(|d| !d.name.is_empty() && d.namespace == NS));
        }
    }

    #[test]
    fn arbitrary_json_never_panics(s in "\\PC{0,200}") {
        if let Ok(v) = serde_json::from_str::<Value>(&s) {
            for (api_version, kind) in HANDLED {
                let o = Object { api_version, kind, namespace: "ns", name: "n", body: (&v).into() };
                let _ = dependencies(&o);
                let wrapped = workload(api_version, kind, Some(v.clone()));
                let _ = deps_of(&wrapped);
            }
        }
    }
}
