//! What Karmada strips from an object before it becomes (or is compared with) a Work manifest:
//! `RemoveIrrelevantFields` of `pkg/resourceinterpreter/default/native/prune/prune.go` with the
//! `RemoveJobTTLSeconds` hook, the call `pkg/controllers/ctrlutil/work.go` `CreateOrUpdateWork`,
//! the Work webhook and `objectwatcher.resourceDeepEqual` all make (`f8fdd02df`).
//!
//! Why: the restart guard must compare what Karmada will send a member with what runs there,
//! after the same pruning on both sides, as `resourceDeepEqual` does: server-set metadata, the
//! Deployment revision annotations or a Job's generated selector differ between any two clusters
//! and say nothing about a restart.
//!
//! Karmada does **not** prune `kubectl.kubernetes.io/last-applied-configuration` (no code under
//! `pkg/` names it): a template applied with `kubectl apply` carries its own into every member.
//! Nor `metadata.name`/`namespace`/`labels`/`annotations` otherwise, nor `spec`.
//!
//! The pruners are chosen by kind alone (`kindIrrelevantFieldPruners` is keyed by
//! `GetKind()`), so a custom resource whose kind is `Deployment` or `Job` is pruned like one.
//! `karmadactl promote` calls `RemoveIrrelevantFields` without the TTL hook.

use serde_json::Value;

/// `RemoveIrrelevantFields(obj, RemoveJobTTLSeconds)`: removes the server-set metadata and
/// `status`, then the kind's irrelevant fields. `_api_version` is not read: Karmada dispatches on
/// the kind alone (see the module documentation); the parameter keeps the signature of
/// [`super::retain::retain`] and `kube::defaults::apply_defaults`.
pub fn prune(_api_version: &str, kind: &str, obj: &mut Value) {
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    if let Some(metadata) = root.get_mut("metadata").and_then(Value::as_object_mut) {
        for field in [
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "managedFields",
            "resourceVersion",
            "selfLink",
            "uid",
            "ownerReferences",
            "finalizers",
        ] {
            metadata.remove(field);
        }
    }
    root.remove("status");
    match kind {
        "Deployment" => deployment(obj),
        "Job" => {
            job(obj);
            // RemoveJobTTLSeconds: the member's ttl-after-finished controller would delete the
            // Job, and Karmada would create it again (karmada-io/karmada#2197).
            if let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) {
                spec.remove("ttlSecondsAfterFinished");
            }
        }
        "Secret" => secret(obj),
        "ServiceAccount" => service_account(obj),
        "Service" => service(obj),
        "PersistentVolumeClaim" => persistent_volume_claim(obj),
        _ => {}
    }
}

/// The annotations of an object, if it has any.
fn annotations(obj: &mut Value) -> Option<&mut serde_json::Map<String, Value>> {
    obj.get_mut("metadata")?.get_mut("annotations")?.as_object_mut()
}

/// `removeDeploymentIrrelevantField`: the revision annotations the member's deployment
/// controller writes (`deployment.kubernetes.io/revision`, `.../revision-history`). An
/// `annotations` map left empty stays, as `unstructured.RemoveNestedField` leaves it.
fn deployment(obj: &mut Value) {
    if let Some(annotations) = annotations(obj) {
        annotations.remove("deployment.kubernetes.io/revision");
        annotations.remove("deployment.kubernetes.io/revision-history");
    }
}

/// The labels the Job registry generates, removed from `spec.selector.matchLabels`.
const GENERATED_SELECTOR_LABELS: &[&str] = &["controller-uid", "batch.kubernetes.io/controller-uid"];

/// The labels the Job registry generates, removed from `spec.template.metadata.labels`.
const GENERATED_TEMPLATE_LABELS: &[&str] = &[
    "controller-uid",
    "job-name",
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-name",
];

/// `removeJobIrrelevantField` → `removeGenerateSelectorOfJob`, unless `spec.manualSelector` is
/// true (then the selector is the user's).
fn job(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec") else {
        return;
    };
    if spec.get("manualSelector").and_then(Value::as_bool) == Some(true) {
        return;
    }
    if let Some(match_labels) = spec
        .pointer_mut("/selector/matchLabels")
        .and_then(Value::as_object_mut)
    {
        for key in GENERATED_SELECTOR_LABELS {
            match_labels.remove(*key);
        }
    }
    if let Some(labels) = spec
        .pointer_mut("/template/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        for key in GENERATED_TEMPLATE_LABELS {
            labels.remove(*key);
        }
    }
}

/// `removeServiceAccountIrrelevantField`: the token secrets the member's controller generated
/// (`<name>-token-*`). Restates Go's loop exactly, including that it steps past the entry after
/// each one it removes: of two adjacent token secrets, the second stays.
fn service_account(obj: &mut Value) {
    let prefix = format!(
        "{}-token-",
        obj.pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("")
    );
    let Some(secrets) = obj.get_mut("secrets").and_then(Value::as_array_mut) else {
        return;
    };
    let mut idx = 0;
    while idx < secrets.len() {
        let name = secrets[idx].get("name").and_then(Value::as_str).unwrap_or("");
        if name.starts_with(&prefix) {
            secrets.remove(idx);
        }
        idx += 1;
    }
}

/// `removeServiceIrrelevantField`: `clusterIP` and `clusterIPs`, allocated per cluster, unless
/// the Service is headless (`clusterIP: None`).
fn service(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    if spec
        .get("clusterIP")
        .and_then(Value::as_str)
        .is_some_and(|ip| ip != "None")
    {
        spec.remove("clusterIP");
        spec.remove("clusterIPs");
    }
}

/// `removeSecretIrrelevantField`: a service-account token Secret loses its
/// `kubernetes.io/service-account.uid` annotation and its data (set to `null`, as
/// `SetNestedField(nil)` does).
fn secret(obj: &mut Value) {
    if obj.get("type").and_then(Value::as_str) != Some("kubernetes.io/service-account-token") {
        return;
    }
    if let Some(annotations) = annotations(obj) {
        annotations.remove("kubernetes.io/service-account.uid");
    }
    if let Some(root) = obj.as_object_mut() {
        root.insert("data".to_owned(), Value::Null);
    }
}

/// `removePersistentVolumeClaimIrrelevantField`: the scheduler's
/// `volume.kubernetes.io/selected-node` annotation, when set.
fn persistent_volume_claim(obj: &mut Value) {
    if let Some(annotations) = annotations(obj) {
        let key = "volume.kubernetes.io/selected-node";
        if annotations
            .get(key)
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty())
        {
            annotations.remove(key);
        }
    }
}

#[cfg(test)]
mod tests;
