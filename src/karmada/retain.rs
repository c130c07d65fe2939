//! What Karmada keeps of a member's copy when it updates it from a Work manifest: the execution
//! controller's `objectwatcher.Update` calls `retainClusterFields`
//! (`pkg/util/objectwatcher/objectwatcher.go`) and then the resource interpreter's `Retain`, whose
//! default implementation is `pkg/resourceinterpreter/default/native/retain.go` (with
//! `pkg/util/lifted/retain.go` for Service and ServiceAccount), at `f8fdd02df`. It skips the
//! Update when the result equals the member copy (`resourceDeepEqual`).
//!
//! Why: a takeover disrupts nothing only if, after these rules, the manifest equals what runs.
//! Whatever is retained (a member's clusterIP, a Job's generated selector, member-only labels) is
//! not a difference; everything else in the manifest replaces the member's (`semantics.md` §4.6).
//!
//! Not modelled: a `ResourceInterpreterCustomization` (or interpreter webhook) that overrides
//! Retain for a kind; and `retainPodFields`' round trip through the typed Pod, which also drops
//! fields the Go type does not know.

use serde_json::{Map, Value};

use super::keys;

/// Why Karmada's `Retain` fails, and the member copy is not updated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RetainError {
    /// `retainWorkloadReplicas`: the Deployment asks to keep the member's replicas and the member
    /// copy has no integer `spec.replicas`.
    #[error("failed to get spec.replicas from {kind} {namespace}/{name}")]
    NoObservedReplicas {
        /// The member copy's kind.
        kind: String,
        /// The member copy's namespace.
        namespace: String,
        /// The member copy's name.
        name: String,
    },
}

/// The member-copy fields [`retain`] keeps on update whatever the template says, by kind, as dotted
/// paths: what the restart guard never counts as a difference (`rules::restart`). Deployment
/// replicas are not listed: whether Karmada keeps them depends on the template's
/// `retain-replicas` label; ServiceAccount secrets are merged, not kept. A test checks each entry
/// against `retain`.
pub fn retained_fields(api_version: &str, kind: &str) -> &'static [&'static str] {
    match (api_version, kind) {
        ("v1", "Service") => &["spec.clusterIP", "spec.healthCheckNodePort"],
        ("batch/v1", "Job") => &["spec.selector.matchLabels", "spec.template.metadata.labels"],
        ("v1", "PersistentVolumeClaim") => &["spec.volumeName"],
        ("v1", "PersistentVolume") => &["spec.claimRef"],
        ("v1", "Pod") => &["spec.nodeName", "spec.serviceAccountName", "spec.volumes"],
        _ => &[],
    }
}

/// Applies to `desired` (the manifest Karmada is about to send) what it keeps of `observed` (the
/// member's copy): first `retainClusterFields` (resourceVersion, finalizers, ownerReferences,
/// member-only labels and annotations), then the kind's `Retain` (by API version and kind, as
/// Karmada registers them):
///
/// | kind | kept from the member |
/// |---|---|
/// | `apps/v1` Deployment | `spec.replicas`, only with label `resourcetemplate.karmada.io/retain-replicas: "true"` (read after the member's labels were merged in) |
/// | `v1` Service | `spec.clusterIP` (not `clusterIPs`), `spec.healthCheckNodePort` (not `nodePort`s) |
/// | `v1` ServiceAccount | `secrets`, `imagePullSecrets`: the manifest's, then the member's other names |
/// | `v1` PersistentVolumeClaim / PersistentVolume | `spec.volumeName` / `spec.claimRef` |
/// | `batch/v1` Job | `spec.selector.matchLabels`, `spec.template.metadata.labels` |
/// | `v1` Pod | `nodeName`, `serviceAccountName`, `volumes`, each container's `volumeMounts` |
/// | `v1` Secret of type service-account-token | `data` |
///
/// StatefulSet, DaemonSet, ReplicaSet, CronJob and everything else: only `retainClusterFields`.
pub fn retain(
    api_version: &str,
    kind: &str,
    desired: &mut Value,
    observed: &Value,
) -> Result<(), RetainError> {
    if !desired.is_object() {
        return Ok(());
    }
    retain_cluster_fields(desired, observed);
    match (api_version, kind) {
        ("apps/v1", "Deployment") => return workload_replicas(desired, observed),
        ("v1", "Pod") => pod(desired, observed),
        ("v1", "Service") => service(desired, observed),
        ("v1", "ServiceAccount") => {
            secrets_field(desired, observed, "secrets");
            secrets_field(desired, observed, "imagePullSecrets");
        }
        ("v1", "PersistentVolumeClaim") => {
            if let Some(name) = observed
                .pointer("/spec/volumeName")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty())
            {
                set(desired, &["spec", "volumeName"], Value::from(name));
            }
        }
        ("v1", "PersistentVolume") => {
            if let Some(claim_ref) = observed.get("spec").and_then(|s| s.get("claimRef")) {
                set(desired, &["spec", "claimRef"], claim_ref.clone());
            }
        }
        ("batch/v1", "Job") => job_selector(desired, observed),
        ("v1", "Secret") => service_account_token(desired, observed),
        _ => {}
    }
    Ok(())
}

/// `objectWatcherImpl.retainClusterFields`.
fn retain_cluster_fields(desired: &mut Value, observed: &Value) {
    let observed_meta = observed.get("metadata");
    // The setters create `metadata` only to put something in it.
    let had_metadata = desired.get("metadata").is_some();
    let Some(metadata) = object_at(desired, &["metadata"]) else {
        return;
    };
    // SetResourceVersion / SetFinalizers / SetOwnerReferences with the member's values: an empty
    // resourceVersion or a missing list removes the field.
    let resource_version = observed_meta
        .and_then(|m| m.get("resourceVersion"))
        .and_then(Value::as_str)
        .unwrap_or("");
    if resource_version.is_empty() {
        metadata.remove("resourceVersion");
    } else {
        metadata.insert("resourceVersion".to_owned(), Value::from(resource_version));
    }
    for field in ["finalizers", "ownerReferences"] {
        match observed_meta.and_then(|m| m.get(field)).filter(|v| v.is_array()) {
            Some(list) => metadata.insert(field.to_owned(), list.clone()),
            None => metadata.remove(field),
        };
    }
    let observed_annotations = observed_meta.and_then(|m| m.get("annotations"));
    // RetainAnnotations, then RetainLabels; both read the managed-keys records from the member's
    // annotations.
    merge_member_keys(
        metadata,
        "annotations",
        observed_meta,
        observed_annotations,
        keys::MANAGED_ANNOTATIONS,
    );
    merge_member_keys(
        metadata,
        "labels",
        observed_meta,
        observed_annotations,
        keys::MANAGED_LABELS,
    );
    if !had_metadata
        && metadata.is_empty()
        && let Some(root) = desired.as_object_mut()
    {
        root.remove("metadata");
    }
}

/// `RetainAnnotations` / `RetainLabels`: every key of the member's map that the manifest lacks,
/// unless the member's record of managed keys names it (Karmada put it there, and the template
/// has dropped it since). A manifest key wins over the member's value.
fn merge_member_keys(
    metadata: &mut Map<String, Value>,
    field: &str,
    observed_meta: Option<&Value>,
    observed_annotations: Option<&Value>,
    record: &str,
) {
    let mut merged = metadata
        .get(field)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let recorded = observed_annotations
        .and_then(|a| a.get(record))
        .and_then(Value::as_str)
        .unwrap_or("");
    let deleted: Vec<&str> = recorded.split(',').filter(|k| !merged.contains_key(*k)).collect();
    if let Some(member) = observed_meta
        .and_then(|m| m.get(field))
        .and_then(Value::as_object)
    {
        for (key, value) in member {
            if !deleted.contains(&key.as_str()) && !merged.contains_key(key) {
                merged.insert(key.clone(), value.clone());
            }
        }
    }
    if !merged.is_empty() {
        metadata.insert(field.to_owned(), Value::Object(merged));
    }
}

/// `retainWorkloadReplicas`.
fn workload_replicas(desired: &mut Value, observed: &Value) -> Result<(), RetainError> {
    let label = desired
        .pointer("/metadata/labels")
        .and_then(|l| l.get(keys::RETAIN_REPLICAS))
        .and_then(Value::as_str);
    if label != Some(keys::RETAIN_REPLICAS_TRUE) {
        return Ok(());
    }
    let Some(replicas) = observed.pointer("/spec/replicas").and_then(Value::as_i64) else {
        let meta = |f: &str| {
            observed
                .pointer(&format!("/metadata/{f}"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        return Err(RetainError::NoObservedReplicas {
            kind: observed
                .get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            namespace: meta("namespace"),
            name: meta("name"),
        });
    };
    set(desired, &["spec", "replicas"], Value::from(replicas));
    Ok(())
}

/// `retainPodFields`: the member's node, service account name and volumes, and the volume mounts
/// of each (init) container the manifest has by the same name. An empty value on the member
/// clears the manifest's (Go assigns the typed field, and `omitempty` drops it).
fn pod(desired: &mut Value, observed: &Value) {
    let observed_spec = observed.get("spec");
    let Some(spec) = object_at(desired, &["spec"]) else {
        return;
    };
    for field in ["nodeName", "serviceAccountName"] {
        match observed_spec
            .and_then(|s| s.get(field))
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
        {
            Some(v) => spec.insert(field.to_owned(), Value::from(v)),
            None => spec.remove(field),
        };
    }
    set_or_remove(spec, "volumes", observed_spec.and_then(|s| s.get("volumes")));
    for key in ["containers", "initContainers"] {
        let Some(member_containers) = observed_spec.and_then(|s| s.get(key)).and_then(Value::as_array) else {
            continue;
        };
        let Some(containers) = spec.get_mut(key).and_then(Value::as_array_mut) else {
            continue;
        };
        for member in member_containers {
            let name = member.get("name");
            if let Some(c) = containers
                .iter_mut()
                .filter_map(Value::as_object_mut)
                .find(|c| c.get("name") == name)
            {
                set_or_remove(c, "volumeMounts", member.get("volumeMounts"));
            }
        }
    }
}

/// `RetainServiceFields` (lifted from kubefed): the member's `healthCheckNodePort` when positive
/// and `clusterIP` when set.
fn service(desired: &mut Value, observed: &Value) {
    if let Some(port) = observed
        .pointer("/spec/healthCheckNodePort")
        .and_then(Value::as_i64)
        .filter(|p| *p > 0)
    {
        set(desired, &["spec", "healthCheckNodePort"], Value::from(port));
    }
    if let Some(ip) = observed
        .pointer("/spec/clusterIP")
        .and_then(Value::as_str)
        .filter(|ip| !ip.is_empty())
    {
        set(desired, &["spec", "clusterIP"], Value::from(ip));
    }
}

/// `retainSecretsField`: the manifest's entries, then the member's entries with other names.
/// With neither, the field is set to `null`, as `SetNestedField` of a nil slice does.
fn secrets_field(desired: &mut Value, observed: &Value, field: &str) {
    let name = |v: &Value| v.get("name").and_then(Value::as_str).unwrap_or("").to_owned();
    let mut merged: Vec<Value> = desired
        .get(field)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut seen: Vec<String> = merged.iter().map(name).collect();
    for secret in observed
        .get(field)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let n = name(secret);
        if !seen.contains(&n) {
            merged.push(secret.clone());
            seen.push(n);
        }
    }
    let value = if merged.is_empty() {
        Value::Null
    } else {
        Value::Array(merged)
    };
    set(desired, &[field], value);
}

/// `retainJobSelectorFields`: the member's generated selector and template labels.
fn job_selector(desired: &mut Value, observed: &Value) {
    if let Some(labels) = observed
        .pointer("/spec/selector/matchLabels")
        .filter(|l| l.is_object())
    {
        set(desired, &["spec", "selector", "matchLabels"], labels.clone());
    }
    if let Some(labels) = observed
        .pointer("/spec/template/metadata/labels")
        .filter(|l| l.is_object())
    {
        set(
            desired,
            &["spec", "template", "metadata", "labels"],
            labels.clone(),
        );
    }
}

/// `retainSecretServiceAccountToken`: a token Secret keeps the token data the member's
/// controller generated.
fn service_account_token(desired: &mut Value, observed: &Value) {
    if desired.get("type").and_then(Value::as_str) != Some("kubernetes.io/service-account-token") {
        return;
    }
    if let Some(data) = observed.get("data").filter(|d| d.is_object()) {
        set(desired, &["data"], data.clone());
    }
}

/// The object at `path`, created (as `SetNestedField` does) where missing.
fn object_at<'a>(value: &'a mut Value, path: &[&str]) -> Option<&'a mut Map<String, Value>> {
    let mut current = value;
    for key in path {
        let map = current.as_object_mut()?;
        let next = map
            .entry((*key).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if !next.is_object() {
            *next = Value::Object(Map::new());
        }
        current = next;
    }
    current.as_object_mut()
}

/// `unstructured.SetNestedField`: sets the value at `path`, creating objects on the way.
fn set(desired: &mut Value, path: &[&str], value: Value) {
    if let Some((last, parents)) = path.split_last()
        && let Some(parent) = object_at(desired, parents)
    {
        parent.insert((*last).to_owned(), value);
    }
}

/// Copies the member's list, or removes the manifest's when the member has none (a typed
/// assignment of a nil or empty slice, written with `omitempty`).
fn set_or_remove(target: &mut Map<String, Value>, field: &str, member: Option<&Value>) {
    match member.filter(|v| v.as_array().is_some_and(|a| !a.is_empty())) {
        Some(v) => target.insert(field.to_owned(), v.clone()),
        None => target.remove(field),
    };
}

#[cfg(test)]
mod tests;
