//! One named case per defaulting rule (the Go function it restates in the name), then the two
//! properties: idempotence, and no change to an object as the API server returns it.

#![allow(clippy::unwrap_used)]

use pretty_assertions::assert_eq;
use proptest::prelude::*;
use rstest::rstest;
use serde_json::{Value, json};

use super::apply_defaults;

fn defaulted(api_version: &str, kind: &str, mut obj: Value) -> Value {
    apply_defaults(api_version, kind, &mut obj);
    obj
}

/// A Deployment around one pod spec, defaulted; returns the pod spec.
fn defaulted_pod_spec(spec: Value) -> Value {
    let deployment = json!({"spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"spec": spec}}});
    defaulted("apps/v1", "Deployment", deployment)["spec"]["template"]["spec"].take()
}

/// A pod spec with one container, defaulted; returns the container.
fn defaulted_container(container: Value) -> Value {
    defaulted_pod_spec(json!({"containers": [container]}))["containers"][0].take()
}

#[test]
fn set_defaults_deployment() {
    let d = defaulted("apps/v1", "Deployment", json!({"spec": {}}));
    assert_eq!(d["spec"]["replicas"], 1);
    assert_eq!(
        d["spec"]["strategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
    );
    assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
    assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
}

#[test]
fn set_defaults_deployment_recreate_has_no_rolling_update() {
    let d = defaulted(
        "apps/v1",
        "Deployment",
        json!({"spec": {"strategy": {"type": "Recreate"}}}),
    );
    assert_eq!(d["spec"]["strategy"], json!({"type": "Recreate"}));
}

#[test]
fn set_defaults_deployment_keeps_given_values() {
    let spec =
        json!({"replicas": 0, "strategy": {"rollingUpdate": {"maxSurge": 2}}, "revisionHistoryLimit": 0});
    let d = defaulted("apps/v1", "Deployment", json!({"spec": spec}));
    assert_eq!(d["spec"]["replicas"], 0);
    assert_eq!(d["spec"]["revisionHistoryLimit"], 0);
    assert_eq!(
        d["spec"]["strategy"]["rollingUpdate"],
        json!({"maxSurge": 2, "maxUnavailable": "25%"})
    );
}

#[test]
fn set_defaults_daemon_set() {
    let d = defaulted("apps/v1", "DaemonSet", json!({"spec": {}}));
    assert_eq!(
        d["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    );
    assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
    assert_eq!(d["spec"].get("replicas"), None);
}

#[test]
fn set_defaults_stateful_set() {
    let claim = json!({"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1024Mi"}}}});
    let d = defaulted(
        "apps/v1",
        "StatefulSet",
        json!({"spec": {"volumeClaimTemplates": [claim]}}),
    );
    let spec = &d["spec"];
    assert_eq!(spec["podManagementPolicy"], "OrderedReady");
    // MaxUnavailableStatefulSet is off by default in v1.36: no maxUnavailable.
    assert_eq!(
        spec["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    );
    assert_eq!(
        spec["persistentVolumeClaimRetentionPolicy"],
        json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
    );
    assert_eq!(spec["replicas"], 1);
    assert_eq!(spec["revisionHistoryLimit"], 10);
    assert_eq!(
        spec["volumeClaimTemplates"][0],
        json!({
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": "data"},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "volumeMode": "Filesystem"},
            "status": {"phase": "Pending"}
        })
    );
}

#[test]
fn set_defaults_stateful_set_explicit_rolling_update_gets_no_partition() {
    // Go adds rollingUpdate only when it also defaulted the type.
    let d = defaulted(
        "apps/v1",
        "StatefulSet",
        json!({"spec": {"updateStrategy": {"type": "RollingUpdate"}}}),
    );
    assert_eq!(d["spec"]["updateStrategy"], json!({"type": "RollingUpdate"}));
}

#[test]
fn set_defaults_replica_set() {
    let d = defaulted("apps/v1", "ReplicaSet", json!({"spec": {}}));
    assert_eq!(d["spec"]["replicas"], 1);
}

#[test]
fn set_defaults_job() {
    let template = json!({"metadata": {"labels": {"app": "batch"}}, "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}], "restartPolicy": "Never"}});
    let d = defaulted(
        "batch/v1",
        "Job",
        json!({"metadata": {"name": "j"}, "spec": {"template": template}}),
    );
    let spec = &d["spec"];
    assert_eq!(
        (spec["completions"].clone(), spec["parallelism"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(spec["backoffLimit"], 6);
    assert_eq!(spec["completionMode"], "NonIndexed");
    assert_eq!(spec["suspend"], false);
    assert_eq!(spec["podReplacementPolicy"], "TerminatingOrFailed");
    assert_eq!(spec["manualSelector"], false);
    assert_eq!(
        d["metadata"]["labels"],
        json!({"app": "batch"}),
        "labels copied from the template"
    );
    assert_eq!(spec["template"]["spec"]["restartPolicy"], "Never");
}

#[test]
fn set_defaults_job_parallel_and_per_index() {
    let spec = json!({"parallelism": 3, "backoffLimitPerIndex": 1, "podFailurePolicy": {"rules": [{"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}});
    let d = defaulted(
        "batch/v1",
        "Job",
        json!({"metadata": {"labels": {"own": "x"}}, "spec": spec}),
    );
    let spec = &d["spec"];
    assert_eq!(
        spec.get("completions"),
        None,
        "only both unset default completions"
    );
    assert_eq!(spec["parallelism"], 3);
    assert_eq!(spec["backoffLimit"], i64::from(i32::MAX));
    assert_eq!(spec["podReplacementPolicy"], "Failed");
    assert_eq!(
        spec["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"],
        "True"
    );
    assert_eq!(d["metadata"]["labels"], json!({"own": "x"}));
}

#[test]
fn set_defaults_cron_job_leaves_the_job_template_undefaulted() {
    let job_template =
        json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}}}});
    let d = defaulted(
        "batch/v1",
        "CronJob",
        json!({"spec": {"schedule": "* * * * *", "jobTemplate": job_template}}),
    );
    let spec = &d["spec"];
    assert_eq!(spec["concurrencyPolicy"], "Allow");
    assert_eq!(spec["suspend"], false);
    assert_eq!(spec["successfulJobsHistoryLimit"], 3);
    assert_eq!(spec["failedJobsHistoryLimit"], 1);
    assert_eq!(spec["jobTemplate"]["metadata"], json!({}));
    assert_eq!(spec["jobTemplate"]["spec"].get("backoffLimit"), None);
    assert_eq!(
        spec["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
        "Always"
    );
}

#[test]
fn set_defaults_pod_spec() {
    let spec = defaulted_pod_spec(json!({"containers": []}));
    assert_eq!(spec["dnsPolicy"], "ClusterFirst");
    assert_eq!(spec["restartPolicy"], "Always");
    assert_eq!(spec["securityContext"], json!({}));
    assert_eq!(spec["terminationGracePeriodSeconds"], 30);
    assert_eq!(spec["schedulerName"], "default-scheduler");
    assert_eq!(
        spec.get("enableServiceLinks"),
        None,
        "SetDefaults_Pod only, not templates"
    );
}

#[rstest]
#[case::name_only(json!({"serviceAccountName": "app"}))]
#[case::deprecated_only(json!({"serviceAccount": "app"}))]
#[case::both(json!({"serviceAccountName": "app", "serviceAccount": "old"}))]
fn convert_pod_spec_service_account_alias(#[case] accounts: Value) {
    let mut spec = accounts;
    spec["containers"] = json!([]);
    let spec = defaulted_pod_spec(spec);
    assert_eq!(
        (spec["serviceAccountName"].clone(), spec["serviceAccount"].clone()),
        (json!("app"), json!("app"))
    );
}

#[test]
fn set_defaults_container() {
    let c =
        defaulted_container(json!({"name": "c", "image": "nginx:1.27", "ports": [{"containerPort": 80}]}));
    assert_eq!(c["imagePullPolicy"], "IfNotPresent");
    assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(c["terminationMessagePolicy"], "File");
    assert_eq!(c["ports"][0]["protocol"], "TCP");
    assert_eq!(c["resources"], json!({}), "a struct Go always writes");
    let latest = defaulted_container(json!({"name": "c", "image": "nginx"}));
    assert_eq!(latest["imagePullPolicy"], "Always");
}

#[test]
fn set_defaults_probe_and_http_get_action() {
    let probe = json!({"httpGet": {"port": 8080}});
    let grpc = json!({"grpc": {"port": 9000}, "periodSeconds": 5});
    let hook = json!({"preStop": {"httpGet": {"port": 80}}});
    let c = defaulted_container(
        json!({"name": "c", "image": "x:1", "livenessProbe": probe, "readinessProbe": grpc, "lifecycle": hook}),
    );
    assert_eq!(
        c["livenessProbe"],
        json!({"httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
    );
    assert_eq!(c["readinessProbe"]["grpc"]["service"], "");
    assert_eq!(c["readinessProbe"]["periodSeconds"], 5);
    assert_eq!(c["lifecycle"]["preStop"]["httpGet"]["scheme"], "HTTP");
}

#[test]
fn set_defaults_object_field_selector_and_divisor() {
    let env = json!([
        {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
        {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1024Ki"}}}
    ]);
    let c = defaulted_container(json!({"name": "c", "image": "x:1", "env": env}));
    assert_eq!(c["env"][0]["valueFrom"]["fieldRef"]["apiVersion"], "v1");
    assert_eq!(c["env"][1]["valueFrom"]["resourceFieldRef"]["divisor"], "0");
    assert_eq!(c["env"][2]["valueFrom"]["resourceFieldRef"]["divisor"], "1Mi");
}

#[test]
fn set_defaults_resource_list() {
    let resources = json!({"requests": {"cpu": 0.5, "memory": "1024Mi"}, "limits": {"cpu": "1000m", "nvidia.com/gpu": 1, "memory": "1e9"}});
    let c = defaulted_container(json!({"name": "c", "image": "x:1", "resources": resources}));
    assert_eq!(
        c["resources"],
        json!({"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "1", "nvidia.com/gpu": "1", "memory": "1e9"}})
    );
}

#[test]
fn set_defaults_volume_sources() {
    let volumes = json!([
        {"name": "scratch"},
        {"name": "cache", "emptyDir": {"sizeLimit": "0.5Gi"}},
        {"name": "config", "configMap": {"name": "cfg"}},
        {"name": "tls", "secret": {"secretName": "tls", "defaultMode": 256}},
        {"name": "host", "hostPath": {"path": "/var/log"}},
        {"name": "info", "downwardAPI": {"items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
        {"name": "token", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
        {"name": "scratch2", "ephemeral": {"volumeClaimTemplate": {"spec": {"accessModes": ["ReadWriteOnce"]}}}},
        {"name": "model", "image": {"reference": "registry.example.com/model:latest"}}
    ]);
    let spec = defaulted_pod_spec(json!({"containers": [], "volumes": volumes}));
    let v = &spec["volumes"];
    assert_eq!(
        v[0]["emptyDir"],
        json!({}),
        "SetDefaults_Volume: no source is an emptyDir"
    );
    assert_eq!(v[1]["emptyDir"]["sizeLimit"], "512Mi");
    assert_eq!(v[2]["configMap"]["defaultMode"], 420);
    assert_eq!(v[3]["secret"]["defaultMode"], 256);
    assert_eq!(v[4]["hostPath"]["type"], "");
    assert_eq!(v[5]["downwardAPI"]["defaultMode"], 420);
    assert_eq!(v[5]["downwardAPI"]["items"][0]["fieldRef"]["apiVersion"], "v1");
    assert_eq!(v[6]["projected"]["defaultMode"], 420);
    assert_eq!(
        v[6]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"],
        3600
    );
    assert_eq!(
        v[7]["ephemeral"]["volumeClaimTemplate"],
        json!({"metadata": {}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {}, "volumeMode": "Filesystem"}})
    );
    assert_eq!(v[8]["image"]["pullPolicy"], "Always");
}

#[test]
fn set_defaults_pod() {
    let container = json!({"name": "c", "image": "x:1", "ports": [{"containerPort": 8080}], "resources": {"limits": {"cpu": "2", "memory": "1Gi"}, "requests": {"cpu": "1"}}});
    let pod = json!({"spec": {"hostNetwork": true, "containers": [container]}});
    let d = defaulted("v1", "Pod", pod);
    let c = &d["spec"]["containers"][0];
    assert_eq!(c["resources"]["requests"], json!({"cpu": "1", "memory": "1Gi"}));
    assert_eq!(c["ports"][0]["hostPort"], 8080, "defaultHostNetworkPorts");
    assert_eq!(d["spec"]["enableServiceLinks"], true);
    assert_eq!(d["spec"]["dnsPolicy"], "ClusterFirst");
}

#[test]
fn set_defaults_service_cluster_ip() {
    let d = defaulted(
        "v1",
        "Service",
        json!({"spec": {"selector": {"app": "x"}, "ports": [{"port": 80}, {"port": 443, "targetPort": "https"}]}}),
    );
    let spec = &d["spec"];
    assert_eq!(spec["type"], "ClusterIP");
    assert_eq!(spec["sessionAffinity"], "None");
    assert_eq!(spec["internalTrafficPolicy"], "Cluster");
    assert_eq!(spec.get("externalTrafficPolicy"), None);
    assert_eq!(
        spec["ports"][0],
        json!({"port": 80, "protocol": "TCP", "targetPort": 80})
    );
    assert_eq!(spec["ports"][1]["targetPort"], "https");
    assert_eq!(
        spec.get("clusterIP"),
        None,
        "allocated by the registry, not defaulted"
    );
    assert_eq!(
        spec.get("ipFamilyPolicy"),
        None,
        "allocated by the registry, not defaulted"
    );
}

#[test]
fn set_defaults_service_load_balancer_and_client_ip() {
    let spec = json!({"type": "LoadBalancer", "sessionAffinity": "ClientIP", "ports": [{"port": 53, "protocol": "UDP"}]});
    let d = defaulted("v1", "Service", json!({"spec": spec}));
    let spec = &d["spec"];
    assert_eq!(spec["externalTrafficPolicy"], "Cluster");
    assert_eq!(spec["allocateLoadBalancerNodePorts"], true);
    assert_eq!(
        spec["sessionAffinityConfig"],
        json!({"clientIP": {"timeoutSeconds": 10800}})
    );
    assert_eq!(spec["ports"][0]["protocol"], "UDP");
}

#[test]
fn set_defaults_service_external_ips_and_external_name() {
    let with_ips = defaulted(
        "v1",
        "Service",
        json!({"spec": {"externalIPs": ["192.0.2.1"], "ports": [{"port": 80}]}}),
    );
    assert_eq!(with_ips["spec"]["externalTrafficPolicy"], "Cluster");
    let external = defaulted(
        "v1",
        "Service",
        json!({"spec": {"type": "ExternalName", "externalName": "db.example.com"}}),
    );
    assert_eq!(external["spec"].get("internalTrafficPolicy"), None);
    let none = defaulted(
        "v1",
        "Service",
        json!({"spec": {"sessionAffinity": "None", "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 5}}}}),
    );
    assert_eq!(none["spec"].get("sessionAffinityConfig"), None);
}

#[test]
fn go_writes_no_nulls_and_no_empty_maps_or_slices() {
    let c = defaulted_container(
        json!({"name": "c", "image": "x:1", "args": [], "env": null, "resources": {"limits": {}}}),
    );
    assert_eq!(c.get("args"), None);
    assert_eq!(c.get("env"), None);
    assert_eq!(c["resources"], json!({}));
    let d = defaulted(
        "apps/v1",
        "Deployment",
        json!({"metadata": {"labels": {}}, "spec": {"template": {"spec": {"containers": []}}}}),
    );
    assert_eq!(d["metadata"].get("labels"), None);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"],
        json!([]),
        "containers has no omitempty"
    );
    assert_eq!(
        d["spec"]["template"]["metadata"],
        json!({}),
        "a struct Go always writes"
    );
}

#[test]
fn drops_legacy_init_container_annotations() {
    let annotations = json!({"pod.beta.kubernetes.io/init-containers": "[]", "keep": "me"});
    let d = defaulted(
        "apps/v1",
        "Deployment",
        json!({"spec": {"template": {"metadata": {"annotations": annotations}, "spec": {"containers": []}}}}),
    );
    assert_eq!(
        d["spec"]["template"]["metadata"]["annotations"],
        json!({"keep": "me"})
    );
}

#[test]
fn other_kinds_are_left_alone() {
    let obj = json!({"data": {}, "metadata": {"labels": {}}});
    assert_eq!(defaulted("v1", "ConfigMap", obj.clone()), obj);
    let deployment = json!({"spec": {}});
    assert_eq!(
        defaulted("apps/v1beta2", "Deployment", deployment.clone()),
        deployment,
        "only apps/v1"
    );
}

/// The kinds the property test draws from.
fn kinds() -> [(&'static str, &'static str); 8] {
    [
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("apps/v1", "DaemonSet"),
        ("apps/v1", "ReplicaSet"),
        ("batch/v1", "Job"),
        ("batch/v1", "CronJob"),
        ("v1", "Pod"),
        ("v1", "Service"),
    ]
}

fn arb_quantity() -> impl Strategy<Value = Value> {
    prop_oneof![
        "(0|[1-9][0-9]{0,4})(\\.[0-9]{1,4})?(m|Ki|Mi|Gi|k|M|G|e3|)".prop_map(Value::from),
        (0u32..5000).prop_map(Value::from),
    ]
}

fn arb_container() -> impl Strategy<Value = Value> {
    (
        prop_oneof![
            Just("nginx"),
            Just("nginx:1.27"),
            Just("nginx:latest"),
            Just("Bad/Image")
        ],
        proptest::option::of(prop_oneof![Just("Always"), Just("Never")]),
        proptest::option::of(arb_quantity()),
        proptest::option::of(arb_quantity()),
        any::<bool>(),
        proptest::option::of(prop_oneof![
            Just(json!({"httpGet": {"port": 80}})),
            Just(json!({"grpc": {"port": 1}, "timeoutSeconds": 3}))
        ]),
    )
        .prop_map(|(image, pull, cpu, memory, port, probe)| {
            let mut c = json!({"name": "c", "image": image});
            if let Some(pull) = pull {
                c["imagePullPolicy"] = json!(pull);
            }
            if let Some(cpu) = cpu {
                c["resources"]["requests"]["cpu"] = cpu;
            }
            if let Some(memory) = memory {
                c["resources"]["limits"]["memory"] = memory;
            }
            if port {
                c["ports"] = json!([{"containerPort": 80}]);
            }
            if let Some(probe) = probe {
                c["livenessProbe"] = probe;
            }
            c
        })
}

fn arb_manifest() -> impl Strategy<Value = (usize, Value)> {
    let volume = prop_oneof![
        Just(json!({"name": "v"})),
        Just(json!({"name": "v", "configMap": {"name": "c"}})),
        Just(json!({"name": "v", "emptyDir": {"sizeLimit": "1.5Gi"}})),
    ];
    (
        0..kinds().len(),
        proptest::collection::vec(arb_container(), 1..3),
        proptest::collection::vec(volume, 0..2),
        proptest::option::of(0u32..5),
        proptest::option::of(prop_oneof![
            Just("NodePort"),
            Just("LoadBalancer"),
            Just("ClusterIP")
        ]),
        any::<bool>(),
    )
        .prop_map(|(kind, containers, volumes, replicas, service_type, labels)| {
            let mut pod_spec = json!({"containers": containers});
            if !volumes.is_empty() {
                pod_spec["volumes"] = json!(volumes);
            }
            let template = json!({"metadata": {"labels": {"app": "x"}}, "spec": pod_spec.clone()});
            let mut obj = match kinds()[kind].1 {
                "Pod" => json!({"spec": pod_spec}),
                "Service" => json!({"spec": {"ports": [{"port": 80}], "selector": {"app": "x"}}}),
                "CronJob" => {
                    json!({"spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": template}}}})
                }
                _ => json!({"spec": {"selector": {"matchLabels": {"app": "x"}}, "template": template}}),
            };
            if let Some(replicas) = replicas {
                obj["spec"]["replicas"] = json!(replicas);
            }
            if let Some(t) = service_type
                && kinds()[kind].1 == "Service"
            {
                obj["spec"]["type"] = json!(t);
            }
            if labels {
                obj["metadata"]["labels"] = json!({"team": "a"});
            }
            (kind, obj)
        })
}

proptest! {
    /// Applying the defaults twice is applying them once: a defaulted object is already as the
    /// API server returns it, so defaulting it again must not change it.
    #[test]
    fn apply_defaults_is_idempotent((kind, manifest) in arb_manifest()) {
        let (api_version, kind) = kinds()[kind];
        let once = defaulted(api_version, kind, manifest);
        let twice = defaulted(api_version, kind, once.clone());
        prop_assert_eq!(once, twice);
    }
}
