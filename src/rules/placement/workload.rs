//! What the scheduler knows of a resource template: its API, replicas and per-replica resource
//! request, as Karmada's default resource interpreter extracts them
//! (`pkg/resourceinterpreter/default/native/replica.go`, `helper.GenerateReplicaRequirements`).

use std::collections::BTreeMap;

use serde_json::Value;

use crate::kube::quantity;

/// The resource template as the scheduler sees it (`ResourceBindingSpec.Resource`, `Replicas`,
/// `ReplicaRequirements`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Workload {
    /// `apps/v1`...
    pub api_version: String,
    /// `Deployment`...
    pub kind: String,
    /// Replicas (0 for a kind Karmada does not count replicas of).
    pub replicas: i32,
    /// Per-replica resource request: `cpu` in millicores, everything else in units
    /// (`util.Resource.ResourceList()`); `None` when the pod template requests nothing.
    pub requests: Option<BTreeMap<String, i64>>,
    /// `metadata.uid`, which breaks Karmada's replica ties (`tieBreakerByUID`).
    pub uid: Option<String>,
    /// What the preview had to assume about the template.
    pub notes: Vec<String>,
}

impl Workload {
    /// `ResourceBindingSpec.IsWorkload()` (`binding_types_helper.go`).
    pub fn is_workload(&self) -> bool {
        self.replicas > 0 || self.requests.is_some()
    }

    /// Reads a template the way the default interpreter's `GetReplicas` does: Deployment,
    /// ReplicaSet and StatefulSet `spec.replicas`; Job `min(parallelism, completions)`; Pod 1;
    /// any other kind 0 (not a workload: propagated whole to every selected cluster).
    pub fn from_template(template: &Value) -> Self {
        let api_version = template["apiVersion"].as_str().unwrap_or_default().to_owned();
        let kind = template["kind"].as_str().unwrap_or_default().to_owned();
        let uid = template["metadata"]["uid"].as_str().map(str::to_owned);
        let spec = &template["spec"];
        let int = |v: &Value| v.as_i64().and_then(|n| i32::try_from(n).ok());
        let mut notes = Vec::new();
        let (replicas, pod_spec) = match (api_version.as_str(), kind.as_str()) {
            ("apps/v1", "Deployment" | "ReplicaSet" | "StatefulSet") => {
                let replicas = match int(&spec["replicas"]) {
                    Some(n) => n,
                    None => {
                        // The API server defaults it to 1 before Karmada reads it.
                        notes.push(format!(
                            "{kind} without spec.replicas: assumed 1 (the API server's default)"
                        ));
                        1
                    }
                };
                (replicas, Some(&spec["template"]["spec"]))
            }
            ("batch/v1", "Job") => {
                let parallelism = int(&spec["parallelism"]).unwrap_or(1);
                let completions = int(&spec["completions"]).unwrap_or(parallelism);
                (parallelism.min(completions), Some(&spec["template"]["spec"]))
            }
            ("v1", "Pod") => (1, Some(spec)),
            _ => (0, None),
        };
        Self {
            api_version,
            kind,
            replicas,
            requests: pod_spec.and_then(pod_requests),
            uid,
            notes,
        }
    }
}

/// Whether `name` is counted as a scalar resource (`lifted.IsScalarResourceName`: extended
/// resources, hugepages, attachable volumes).
fn is_scalar(name: &str) -> bool {
    name.starts_with("hugepages-")
        || name.starts_with("attachable-volumes-")
        || (name.contains('/') && !name.contains("kubernetes.io/") && !name.starts_with("requests."))
}

/// The request of one container (`requests`, with `limits` standing in for unset requests as in
/// `Resource.AddPodTemplateRequest`), in the units of `Resource.Add`.
fn container_request(container: &Value) -> BTreeMap<String, i64> {
    let resources = &container["resources"];
    let mut list: BTreeMap<String, String> = BTreeMap::new();
    for part in ["limits", "requests"] {
        if let Some(map) = resources[part].as_object() {
            for (k, v) in map {
                let text = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                list.insert(k.clone(), text);
            }
        }
    }
    list.into_iter()
        .filter_map(|(name, text)| {
            let amount = match name.as_str() {
                "cpu" => quantity::milli_value(&text),
                "memory" | "ephemeral-storage" | "pods" => quantity::value(&text),
                n if is_scalar(n) => quantity::value(&text),
                _ => return None,
            };
            Some((name, amount))
        })
        .collect()
}

/// `util.EmptyResource().AddPodTemplateRequest(podSpec).ResourceList()`: containers summed, the
/// largest init container taken where larger, overhead added; positive amounts only.
fn pod_requests(pod_spec: &Value) -> Option<BTreeMap<String, i64>> {
    let mut total: BTreeMap<String, i64> = BTreeMap::new();
    for c in pod_spec["containers"].as_array().into_iter().flatten() {
        for (k, v) in container_request(c) {
            *total.entry(k).or_default() += v;
        }
    }
    for c in pod_spec["initContainers"].as_array().into_iter().flatten() {
        for (k, v) in container_request(c) {
            let slot = total.entry(k).or_default();
            *slot = (*slot).max(v);
        }
    }
    if let Some(overhead) = pod_spec["overhead"].as_object() {
        let c = serde_json::json!({"resources": {"requests": overhead}});
        for (k, v) in container_request(&c) {
            *total.entry(k).or_default() += v;
        }
    }
    total.retain(|_, v| *v > 0);
    (!total.is_empty()).then_some(total)
}

#[cfg(test)]
mod tests {
    use rstest::rstest;
    use serde_json::json;

    use super::*;

    #[rstest]
    #[case::deployment(json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 3}}), 3)]
    #[case::deployment_defaults_to_one(json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {}}), 1)]
    #[case::job_parallelism_capped_by_completions(json!({"apiVersion": "batch/v1", "kind": "Job", "spec": {"parallelism": 5, "completions": 2}}), 2)]
    #[case::pod(json!({"apiVersion": "v1", "kind": "Pod", "spec": {}}), 1)]
    #[case::configmap_is_no_workload(json!({"apiVersion": "v1", "kind": "ConfigMap"}), 0)]
    fn replicas(#[case] template: Value, #[case] want: i32) {
        assert_eq!(Workload::from_template(&template).replicas, want);
    }

    #[test]
    fn requests_sum_containers_take_the_larger_init_container_and_fall_back_to_limits() {
        let t = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 1, "template": {"spec": {
            "containers": [
                {"resources": {"requests": {"cpu": "250m", "memory": "64Mi"}}},
                {"resources": {"limits": {"cpu": "500m", "nvidia.com/gpu": 1}}}
            ],
            "initContainers": [{"resources": {"requests": {"cpu": "2", "memory": "1Mi"}}}],
            "overhead": {"memory": "1Mi"}
        }}}});
        let w = Workload::from_template(&t);
        let want: BTreeMap<String, i64> = [
            ("cpu".to_owned(), 2000),
            ("memory".to_owned(), 65 << 20),
            ("nvidia.com/gpu".to_owned(), 1),
        ]
        .into();
        assert_eq!(w.requests, Some(want));
    }
}
