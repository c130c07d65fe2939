//! The dependencies Karmada's default resource interpreter finds for a workload — the objects
//! `propagateDeps: true` carries along (semantics.md §6; Karmada
//! `pkg/resourceinterpreter/default/native/dependencies.go`, `pkg/util/helper/pod.go`,
//! `pkg/util/lifted/visitpod.go`):
//!
//! - ConfigMaps: `envFrom[].configMapRef`, `env[].valueFrom.configMapKeyRef` of every container,
//!   init container and ephemeral container; volumes `configMap` and `projected.sources[].configMap`.
//! - Secrets: `imagePullSecrets`, `envFrom[].secretRef`, `env[].valueFrom.secretKeyRef`; volumes
//!   `secret`, `projected.sources[].secret`, and the secret references of azureFile, cephfs, cinder,
//!   flexVolume, rbd, scaleIO, iscsi, storageos and csi (`nodePublishSecretRef`).
//! - ServiceAccount: `serviceAccountName` unless empty or `default` (the deprecated
//!   `serviceAccount` field is not read).
//! - PersistentVolumeClaims: volumes `persistentVolumeClaim.claimName`, except, for a StatefulSet,
//!   claims named like one of its `volumeClaimTemplates`.
//!
//! All in the workload's namespace; empty names skipped; duplicates removed; not transitive.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

/// A dependency kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum DependencyKind {
    /// `v1` ConfigMap.
    ConfigMap,
    /// `v1` Secret.
    Secret,
    /// `v1` ServiceAccount.
    ServiceAccount,
    /// `v1` PersistentVolumeClaim.
    PersistentVolumeClaim,
}

impl DependencyKind {
    /// The kind string.
    pub fn as_str(self) -> &'static str {
        match self {
            DependencyKind::ConfigMap => "ConfigMap",
            DependencyKind::Secret => "Secret",
            DependencyKind::ServiceAccount => "ServiceAccount",
            DependencyKind::PersistentVolumeClaim => "PersistentVolumeClaim",
        }
    }
}

/// One dependency (always `v1`, in the workload's namespace).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Dependency {
    /// Its kind.
    pub kind: DependencyKind,
    /// Its name.
    pub name: String,
}

/// The pod spec of a workload Karmada's default interpreter knows, by exact apiVersion and kind.
pub fn pod_spec<'a>(api_version: &str, kind: &str, body: &'a Value) -> Option<&'a Value> {
    let path: &[&str] = match (api_version, kind) {
        ("apps/v1", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet") | ("batch/v1", "Job") => {
            &["spec", "template", "spec"]
        }
        ("batch/v1", "CronJob") => &["spec", "jobTemplate", "spec", "template", "spec"],
        ("v1", "Pod") => &["spec"],
        _ => return None,
    };
    path.iter().try_fold(body, |v, k| v.get(k))
}

/// The dependencies of a workload, sorted; empty for kinds without a pod template.
///
/// `body` is the object JSON without `metadata` (e.g. `DynamicObject::data`).
pub fn dependencies(api_version: &str, kind: &str, body: &Value) -> Vec<Dependency> {
    let Some(spec) = pod_spec(api_version, kind, body) else {
        return Vec::new();
    };
    let mut found: BTreeSet<Dependency> = BTreeSet::new();
    let mut add = |kind: DependencyKind, name: Option<&Value>| {
        if let Some(name) = name.and_then(Value::as_str).filter(|n| !n.is_empty()) {
            found.insert(Dependency {
                kind,
                name: name.to_owned(),
            });
        }
    };
    fn list<'v>(v: &'v Value, key: &str) -> &'v [Value] {
        v.get(key).and_then(Value::as_array).map_or(&[], Vec::as_slice)
    }
    fn at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v Value> {
        path.iter().try_fold(v, |v, k| v.get(k))
    }

    for group in ["containers", "initContainers", "ephemeralContainers"] {
        for container in list(spec, group) {
            for from in list(container, "envFrom") {
                add(DependencyKind::ConfigMap, at(from, &["configMapRef", "name"]));
                add(DependencyKind::Secret, at(from, &["secretRef", "name"]));
            }
            for env in list(container, "env") {
                add(
                    DependencyKind::ConfigMap,
                    at(env, &["valueFrom", "configMapKeyRef", "name"]),
                );
                add(
                    DependencyKind::Secret,
                    at(env, &["valueFrom", "secretKeyRef", "name"]),
                );
            }
        }
    }
    for secret in list(spec, "imagePullSecrets") {
        add(DependencyKind::Secret, secret.get("name"));
    }
    let claim_templates: BTreeSet<String> = if kind == "StatefulSet" {
        list(body.get("spec").unwrap_or(&Value::Null), "volumeClaimTemplates")
            .iter()
            .filter_map(|t| t.get("metadata")?.get("name")?.as_str().map(str::to_owned))
            .collect()
    } else {
        BTreeSet::new()
    };
    for volume in list(spec, "volumes") {
        add(DependencyKind::ConfigMap, at(volume, &["configMap", "name"]));
        add(DependencyKind::Secret, at(volume, &["secret", "secretName"]));
        for source in volume.get("projected").map_or(&[][..], |p| list(p, "sources")) {
            add(DependencyKind::ConfigMap, at(source, &["configMap", "name"]));
            add(DependencyKind::Secret, at(source, &["secret", "name"]));
        }
        add(DependencyKind::Secret, at(volume, &["azureFile", "secretName"]));
        for plugin in [
            "cephfs",
            "cinder",
            "flexVolume",
            "rbd",
            "scaleIO",
            "iscsi",
            "storageos",
        ] {
            add(DependencyKind::Secret, at(volume, &[plugin, "secretRef", "name"]));
        }
        add(
            DependencyKind::Secret,
            at(volume, &["csi", "nodePublishSecretRef", "name"]),
        );
        if let Some(claim) = at(volume, &["persistentVolumeClaim", "claimName"])
            && !claim.as_str().is_some_and(|c| claim_templates.contains(c))
        {
            add(DependencyKind::PersistentVolumeClaim, Some(claim));
        }
    }
    if let Some(sa) = spec
        .get("serviceAccountName")
        .filter(|s| s.as_str() != Some("default"))
    {
        add(DependencyKind::ServiceAccount, Some(sa));
    }
    found.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use rstest::rstest;
    use serde_json::json;

    use super::{DependencyKind::*, *};

    fn names(deps: &[Dependency]) -> Vec<String> {
        deps.iter()
            .map(|d| format!("{}/{}", d.kind.as_str(), d.name))
            .collect()
    }

    fn pod(spec: Value) -> Value {
        json!({"spec": {"template": {"spec": spec}}})
    }

    #[rstest]
    #[case::env_from(pod(json!({"containers": [{"envFrom": [{"configMapRef": {"name": "c"}}, {"secretRef": {"name": "s"}}]}]})), &["ConfigMap/c", "Secret/s"])]
    #[case::env_value_from(pod(json!({"initContainers": [{"env": [{"valueFrom": {"configMapKeyRef": {"name": "c", "key": "k"}}}, {"valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}]})), &["ConfigMap/c", "Secret/s"])]
    #[case::ephemeral_containers(pod(json!({"ephemeralContainers": [{"envFrom": [{"secretRef": {"name": "e"}}]}]})), &["Secret/e"])]
    #[case::image_pull_secrets(pod(json!({"imagePullSecrets": [{"name": "regcred"}, {"name": ""}]})), &["Secret/regcred"])]
    #[case::volumes(pod(json!({"volumes": [
        {"configMap": {"name": "c"}}, {"secret": {"secretName": "s"}},
        {"projected": {"sources": [{"configMap": {"name": "pc"}}, {"secret": {"name": "ps"}}, {"serviceAccountToken": {}}]}},
        {"azureFile": {"secretName": "az"}}, {"cephfs": {"secretRef": {"name": "ceph"}}}, {"cinder": {"secretRef": {"name": "cin"}}},
        {"flexVolume": {"secretRef": {"name": "flex"}}}, {"rbd": {"secretRef": {"name": "rbd"}}}, {"scaleIO": {"secretRef": {"name": "sio"}}},
        {"iscsi": {"secretRef": {"name": "isc"}}}, {"storageos": {"secretRef": {"name": "sos"}}}, {"csi": {"nodePublishSecretRef": {"name": "csi"}}},
        {"persistentVolumeClaim": {"claimName": "data"}}]})),
        &["ConfigMap/c", "ConfigMap/pc", "Secret/az", "Secret/ceph", "Secret/cin", "Secret/csi", "Secret/flex", "Secret/isc", "Secret/ps", "Secret/rbd", "Secret/s", "Secret/sio", "Secret/sos", "PersistentVolumeClaim/data"])]
    #[case::service_account(pod(json!({"serviceAccountName": "app"})), &["ServiceAccount/app"])]
    #[case::default_service_account_is_not_a_dependency(pod(json!({"serviceAccountName": "default", "serviceAccount": "legacy"})), &[])]
    #[case::duplicates_are_removed(pod(json!({"containers": [{"envFrom": [{"configMapRef": {"name": "c"}}]}, {"envFrom": [{"configMapRef": {"name": "c"}}]}], "volumes": [{"configMap": {"name": "c"}}]})), &["ConfigMap/c"])]
    fn deployment_dependencies(#[case] body: Value, #[case] want: &[&str]) {
        let mut want: Vec<String> = want.iter().map(|s| (*s).to_owned()).collect();
        want.sort_by_key(|w| {
            (
                ["ConfigMap", "Secret", "ServiceAccount", "PersistentVolumeClaim"]
                    .iter()
                    .position(|k| w.starts_with(&format!("{k}/"))),
                w.clone(),
            )
        });
        assert_eq!(names(&dependencies("apps/v1", "Deployment", &body)), want);
    }

    #[test]
    fn cronjob_uses_the_job_template() {
        let body = json!({"spec": {"jobTemplate": {"spec": {"template": {"spec": {"volumes": [{"secret": {"secretName": "s"}}]}}}}}});
        assert_eq!(names(&dependencies("batch/v1", "CronJob", &body)), ["Secret/s"]);
    }

    #[test]
    fn pods_use_their_own_spec() {
        let body = json!({"spec": {"volumes": [{"configMap": {"name": "c"}}]}});
        assert_eq!(names(&dependencies("v1", "Pod", &body)), ["ConfigMap/c"]);
    }

    #[test]
    fn statefulset_claim_templates_are_not_dependencies() {
        let body = json!({"spec": {
            "volumeClaimTemplates": [{"metadata": {"name": "data"}}],
            "template": {"spec": {"volumes": [{"persistentVolumeClaim": {"claimName": "data"}}, {"persistentVolumeClaim": {"claimName": "shared"}}]}}}});
        assert_eq!(
            names(&dependencies("apps/v1", "StatefulSet", &body)),
            ["PersistentVolumeClaim/shared"]
        );
        assert_eq!(dependencies("apps/v1", "Deployment", &body).len(), 2);
    }

    #[test]
    fn other_kinds_and_versions_have_none() {
        let body = pod(json!({"volumes": [{"configMap": {"name": "c"}}]}));
        assert!(dependencies("apps/v1beta1", "Deployment", &body).is_empty());
        assert!(dependencies("v1", "Service", &body).is_empty());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_json_never_panics(s in "\\PC{0,200}") {
            if let Ok(v) = serde_json::from_str::<Value>(&s) {
                let _ = dependencies("apps/v1", "Deployment", &v);
                let _ = dependencies("batch/v1", "CronJob", &v);
            }
        }
    }

    #[test]
    fn kinds_order() {
        assert!(ConfigMap < Secret && Secret < ServiceAccount && ServiceAccount < PersistentVolumeClaim);
    }
}
