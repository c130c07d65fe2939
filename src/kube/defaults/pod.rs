//! Pod templates and pod specs: what `zz_generated.defaults.go` runs on every `PodSpec` (the same
//! list for Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob and Pod, checked by
//! diffing the generated functions of v1.36.3), restated from `pkg/apis/core/v1/defaults.go`.

use serde_json::Value;

use super::{
    Obj, child, child_or_new, default_nil, default_str, default_zero, image, is_empty_str, items, str_of,
};
use crate::kube::quantity;

/// A `PodTemplateSpec` (`spec.template` of the workloads): `metadata` is a struct Go always
/// writes (`metadata: {}`), the legacy init-container annotations are dropped by the conversion
/// (`Convert_v1_PodTemplateSpec_To_core_PodTemplateSpec`, `dropInitContainerAnnotations`), and the
/// spec is defaulted.
pub(super) fn template(template: &mut Obj) {
    if let Some(metadata) = child_or_new(template, "metadata") {
        drop_init_container_annotations(metadata);
    }
    if let Some(spec) = child(template, "spec") {
        pod_spec(spec);
    }
}

/// `initContainerAnnotations` of `pkg/apis/core/v1/conversion.go`.
pub(super) fn drop_init_container_annotations(metadata: &mut Obj) {
    if let Some(annotations) = child(metadata, "annotations") {
        for key in [
            "pod.beta.kubernetes.io/init-containers",
            "pod.alpha.kubernetes.io/init-containers",
            "pod.beta.kubernetes.io/init-container-statuses",
            "pod.alpha.kubernetes.io/init-container-statuses",
        ] {
            annotations.remove(key);
        }
    }
}

/// `SetDefaults_PodSpec` and what the generated code runs on the spec's parts.
pub(super) fn pod_spec(spec: &mut Obj) {
    // SetDefaults_PodSpec
    default_str(spec, "dnsPolicy", "ClusterFirst");
    default_str(spec, "restartPolicy", "Always");
    default_nil(spec, "securityContext", Value::Object(Obj::new()));
    default_nil(spec, "terminationGracePeriodSeconds", Value::from(30));
    default_str(spec, "schedulerName", "default-scheduler");
    service_account_alias(spec);
    for volume in items(spec, "volumes") {
        self::volume(volume);
    }
    for key in ["initContainers", "containers", "ephemeralContainers"] {
        for c in items(spec, key) {
            container(c);
        }
    }
    resource_list(spec, "overhead");
    if let Some(resources) = child(spec, "resources") {
        resource_list(resources, "limits");
        resource_list(resources, "requests");
    }
}

/// `DeprecatedServiceAccount` is an alias of `ServiceAccountName`: the v1 → internal conversion
/// takes `serviceAccount` when `serviceAccountName` is empty, and internal → v1 writes the name
/// into both (`Convert_v1_PodSpec_To_core_PodSpec`, `Convert_core_PodSpec_To_v1_PodSpec`).
fn service_account_alias(spec: &mut Obj) {
    let name = match str_of(spec, "serviceAccountName") {
        "" => str_of(spec, "serviceAccount").to_owned(),
        name => name.to_owned(),
    };
    if name.is_empty() {
        spec.remove("serviceAccountName");
        spec.remove("serviceAccount");
    } else {
        spec.insert("serviceAccountName".to_owned(), Value::from(name.clone()));
        spec.insert("serviceAccount".to_owned(), Value::from(name));
    }
}

/// `SetDefaults_Volume` and the defaults of each volume source.
fn volume(volume: &mut Obj) {
    // SetDefaults_Volume: a volume that names no source is an emptyDir.
    let has_source = volume
        .iter()
        .any(|(key, value)| key != "name" && !value.is_null());
    if !has_source {
        volume.insert("emptyDir".to_owned(), Value::Object(Obj::new()));
    }
    if let Some(image) = child(volume, "image") {
        // SetDefaults_Volume, gate ImageVolume (GA in v1.36): as for a container's image.
        if is_empty_str(image, "pullPolicy") {
            let policy = image::pull_policy(str_of(image, "reference"));
            image.insert("pullPolicy".to_owned(), Value::from(policy));
        }
    }
    if let Some(host_path) = child(volume, "hostPath") {
        // SetDefaults_HostPathVolumeSource: HostPathUnset.
        default_nil(host_path, "type", Value::from(""));
    }
    for source in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(source) = child(volume, source) {
            // SetDefaults_{Secret,ConfigMap,DownwardAPI,Projected}VolumeSource: 0644.
            default_nil(source, "defaultMode", Value::from(420));
        }
    }
    if let Some(iscsi) = child(volume, "iscsi") {
        default_str(iscsi, "iscsiInterface", "default");
    }
    if let Some(rbd) = child(volume, "rbd") {
        default_str(rbd, "pool", "rbd");
        default_str(rbd, "user", "admin");
        default_str(rbd, "keyring", "/etc/ceph/keyring");
    }
    if let Some(disk) = child(volume, "azureDisk") {
        default_nil(disk, "cachingMode", Value::from("ReadWrite"));
        default_nil(disk, "fsType", Value::from("ext4"));
        default_nil(disk, "readOnly", Value::from(false));
        default_nil(disk, "kind", Value::from("Shared"));
    }
    if let Some(scale_io) = child(volume, "scaleIO") {
        default_str(scale_io, "storageMode", "ThinProvisioned");
        default_str(scale_io, "fsType", "xfs");
    }
    if let Some(empty_dir) = child(volume, "emptyDir") {
        quantity_field(empty_dir, "sizeLimit");
    }
    if let Some(downward) = child(volume, "downwardAPI") {
        downward_items(downward);
    }
    if let Some(projected) = child(volume, "projected") {
        for source in items(projected, "sources") {
            if let Some(downward) = child(source, "downwardAPI") {
                downward_items(downward);
            }
            if let Some(token) = child(source, "serviceAccountToken") {
                // SetDefaults_ServiceAccountTokenProjection: one hour.
                default_nil(token, "expirationSeconds", Value::from(3600));
            }
        }
    }
    if let Some(claim) = child(volume, "ephemeral").and_then(|e| child(e, "volumeClaimTemplate")) {
        claim_template(claim);
    }
}

/// A `PersistentVolumeClaimTemplate` (ephemeral volume) or a StatefulSet's claim template:
/// `SetDefaults_PersistentVolumeClaimSpec` (volumeMode Filesystem) and the resource lists;
/// `metadata` and `spec.resources` are structs Go always writes.
pub(super) fn claim_template(claim: &mut Obj) {
    child_or_new(claim, "metadata");
    if let Some(spec) = child_or_new(claim, "spec") {
        default_nil(spec, "volumeMode", Value::from("Filesystem"));
        if let Some(resources) = child_or_new(spec, "resources") {
            resource_list(resources, "limits");
            resource_list(resources, "requests");
        }
    }
}

/// `items[].fieldRef` (SetDefaults_ObjectFieldSelector) and `items[].resourceFieldRef.divisor`.
fn downward_items(downward: &mut Obj) {
    for item in items(downward, "items") {
        field_refs(item);
    }
}

/// `fieldRef.apiVersion` defaults to `v1` (`SetDefaults_ObjectFieldSelector`);
/// `resourceFieldRef.divisor` is a non-pointer quantity, written `"0"` when unset.
fn field_refs(holder: &mut Obj) {
    if let Some(field_ref) = child(holder, "fieldRef") {
        default_str(field_ref, "apiVersion", "v1");
    }
    if let Some(resource_ref) = child(holder, "resourceFieldRef") {
        default_nil(resource_ref, "divisor", Value::from("0"));
        quantity_field(resource_ref, "divisor");
    }
}

/// `SetDefaults_Container` and the generated defaults of a container's parts (the same for init
/// and ephemeral containers).
fn container(c: &mut Obj) {
    // SetDefaults_Container
    if is_empty_str(c, "imagePullPolicy") {
        let policy = image::pull_policy(str_of(c, "image"));
        c.insert("imagePullPolicy".to_owned(), Value::from(policy));
    }
    default_str(c, "terminationMessagePath", "/dev/termination-log");
    default_str(c, "terminationMessagePolicy", "File");
    for port in items(c, "ports") {
        // +default="TCP" on ContainerPort.Protocol
        default_str(port, "protocol", "TCP");
    }
    for env in items(c, "env") {
        if let Some(from) = child(env, "valueFrom") {
            field_refs(from);
            if let Some(file_key) = child(from, "fileKeyRef") {
                // +default=false on FileKeySelector.Optional
                default_nil(file_key, "optional", Value::from(false));
            }
        }
    }
    // `resources` is a struct Go always writes.
    if let Some(resources) = child_or_new(c, "resources") {
        resource_list(resources, "limits");
        resource_list(resources, "requests");
    }
    for key in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(p) = child(c, key) {
            probe(p);
        }
    }
    if let Some(lifecycle) = child(c, "lifecycle") {
        for key in ["postStart", "preStop"] {
            if let Some(http) = child(lifecycle, key).and_then(|h| child(h, "httpGet")) {
                http_get(http);
            }
        }
    }
}

/// `SetDefaults_Probe`, `SetDefaults_HTTPGetAction` on its handler, `grpc.service` `""`.
fn probe(p: &mut Obj) {
    default_zero(p, "timeoutSeconds", 1);
    default_zero(p, "periodSeconds", 10);
    default_zero(p, "successThreshold", 1);
    default_zero(p, "failureThreshold", 3);
    if let Some(http) = child(p, "httpGet") {
        http_get(http);
    }
    if let Some(grpc) = child(p, "grpc") {
        // +default="" on GRPCAction.Service
        default_nil(grpc, "service", Value::from(""));
    }
}

/// `SetDefaults_HTTPGetAction`.
fn http_get(http: &mut Obj) {
    default_str(http, "path", "/");
    default_str(http, "scheme", "HTTP");
}

/// `SetDefaults_ResourceList` (rounded up to milli) and the canonical text of each value.
pub(super) fn resource_list(holder: &mut Obj, key: &str) {
    if let Some(list) = child(holder, key) {
        for value in list.values_mut() {
            rewrite_quantity(value, quantity::canonical_resource);
        }
    }
}

/// A quantity field outside a resource list: its canonical text.
fn quantity_field(holder: &mut Obj, key: &str) {
    if let Some(value) = holder.get_mut(key) {
        rewrite_quantity(value, quantity::canonical);
    }
}

/// Rewrites a quantity given as text or as a JSON number (both are accepted by
/// `Quantity.UnmarshalJSON`); a value that is not a quantity is left for the API server to reject.
fn rewrite_quantity(value: &mut Value, canonical: fn(&str) -> Option<String>) {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return,
    };
    if let Some(written) = canonical(&text) {
        *value = Value::String(written);
    }
}
