//! `work.karmada.io/v1alpha2` ResourceBinding: the fields the engine reads.
//!
//! The detector creates one binding per claimed template, named `<lower(name)>-<lower(kind)>`
//! (`names::binding_name`), in the template's namespace; `spec.clusters` is the scheduling result.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// API group/version of ResourceBinding (the storage version).
pub const API_VERSION: &str = "work.karmada.io/v1alpha2";

/// A ResourceBinding, reduced to what decisions need. Unknown fields are ignored on read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceBinding {
    /// `work.karmada.io/v1alpha2`.
    pub api_version: String,
    /// `ResourceBinding`.
    pub kind: String,
    /// Standard metadata (claim labels/annotations are copied here from the template).
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The binding spec.
    pub spec: ResourceBindingSpec,
}

/// `spec` of a ResourceBinding (subset).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceBindingSpec {
    /// The template this binding is for.
    pub resource: ObjectReference,
    /// Scheduling result: target clusters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clusters: Option<Vec<TargetCluster>>,
    /// Copied from the policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict_resolution: Option<String>,
    /// Copied from the policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagate_deps: Option<bool>,
    /// Copied from the policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_resources_on_deletion: Option<bool>,
    /// Bindings that depend on this one (attached bindings of dependencies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_by: Option<Vec<BindingSnapshot>>,
}

/// `spec.resource`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    /// Template apiVersion.
    pub api_version: String,
    /// Template kind.
    pub kind: String,
    /// Template namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Template name.
    pub name: String,
    /// Template UID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Template resourceVersion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

/// One entry of `spec.clusters`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetCluster {
    /// Cluster name.
    pub name: String,
    /// Replicas assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,
}

/// One entry of `spec.requiredBy`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingSnapshot {
    /// Namespace of the referencing binding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Name of the referencing binding.
    pub name: String,
    /// Its clusters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clusters: Option<Vec<TargetCluster>>,
}
