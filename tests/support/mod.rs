//! Test support shared by the integration tests; each test binary declares `mod support;` and
//! uses the part it needs:
//! - [`wait`]: bounded waits ([`wait::WAIT`], [`wait::within`], [`wait::eventually`]);
//! - [`server`]: the webhook server on loopback with throwaway certificates, raw TLS connections,
//!   AdmissionReview bodies (`tests/server_*.rs`);
//! - [`apiserver`]: the fake Kubernetes API server (`tests/karmada_*.rs`);
//! - here: logging and crypto set-up, small file helpers, resource paths ([`res`]) and the
//!   Kubernetes and Karmada objects the fake API server stores.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

pub mod apiserver;
pub mod server;
pub mod wait;

use std::{path::Path, sync::Once};

use karmada_takeover::metrics::Metrics;
use serde_json::{Value, json};

/// Installs the crypto provider once and, with `TEST_LOG` set, a debug log to the test output.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        karmada_takeover::tls::install_crypto_provider();
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt()
                .with_env_filter("debug")
                .with_test_writer()
                .try_init();
        }
    });
}

/// The text of `/metrics` for `metrics`.
pub fn metrics_text(metrics: &Metrics) -> String {
    String::from_utf8(metrics.encode().unwrap()).unwrap()
}

/// Writes `text` to `path`.
pub fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

/// Resource paths used by the tests.
pub mod res {
    /// PropagationPolicies.
    pub const PP: &str = "policy.karmada.io/v1alpha1/propagationpolicies";
    /// ClusterPropagationPolicies.
    pub const CPP: &str = "policy.karmada.io/v1alpha1/clusterpropagationpolicies";
    /// Clusters.
    pub const CLUSTERS: &str = "cluster.karmada.io/v1alpha1/clusters";
    /// Deployments.
    pub const DEPLOY: &str = "apps/v1/deployments";
    /// ConfigMaps.
    pub const CM: &str = "/v1/configmaps";
    /// Secrets.
    pub const SECRET: &str = "/v1/secrets";
    /// Namespaces.
    pub const NS: &str = "/v1/namespaces";
    /// Leases.
    pub const LEASE: &str = "coordination.k8s.io/v1/leases";
}

/// A Cluster object.
pub fn cluster(name: &str, ready: bool) -> Value {
    json!({"apiVersion": "cluster.karmada.io/v1alpha1", "kind": "Cluster",
           "metadata": {"name": name, "labels": {"name": name}},
           "spec": {"syncMode": "Push"},
           "status": {"conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"}}]}})
}

/// A Deployment with optional labels/annotations and a pod spec that uses ConfigMap `cm` (if set).
pub fn deployment(ns: &str, name: &str, labels: Value, annotations: Value, cm: Option<&str>) -> Value {
    let mut d = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns, "labels": labels, "annotations": annotations},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}},
                              "spec": {"containers": [{"name": "app", "image": "nginx:1.27"}]}}}});
    if let Some(cm) = cm {
        d["spec"]["template"]["spec"]["volumes"] = json!([{"name": "cfg", "configMap": {"name": cm}}]);
    }
    d
}

/// A ConfigMap.
pub fn configmap(ns: &str, name: &str, labels: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": name, "namespace": ns, "labels": labels},
           "data": {"key": "value"}})
}

/// A Namespace.
pub fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

/// A PropagationPolicy.
pub fn pp(ns: &str, name: &str, labels: Value, spec: Value) -> Value {
    json!({"apiVersion": "policy.karmada.io/v1alpha1", "kind": "PropagationPolicy",
           "metadata": {"name": name, "namespace": ns, "labels": labels}, "spec": spec})
}

/// An AdmissionReview request for `object`.
pub fn review(kind: (&str, &str, &str), resource: &str, op: &str, object: &Value, dry_run: bool) -> Vec<u8> {
    let (group, version, k) = kind;
    serde_json::to_vec(&json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": "0b5e7d4c-1111-2222-3333-444455556666",
            "kind": {"group": group, "version": version, "kind": k},
            "resource": {"group": group, "version": version, "resource": resource},
            "requestKind": {"group": group, "version": version, "kind": k},
            "requestResource": {"group": group, "version": version, "resource": resource},
            "name": object["metadata"]["name"], "namespace": object["metadata"]["namespace"],
            "operation": op,
            "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters"]},
            "object": object, "oldObject": null, "dryRun": dry_run,
            "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
        }
    }))
    .unwrap()
}
