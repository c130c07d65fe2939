//! `cluster.karmada.io/v1alpha1` Cluster: a hand-written subset (the kind is served by
//! karmada-aggregated-apiserver, so there is no CRD to generate from), with what Karmada's
//! scheduler reads (`pkg/apis/cluster/v1alpha1/types.go`): provider, region, zones, taints,
//! resource models; API enablements, resource summary and conditions.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::{api::resource::Quantity, apis::meta::v1::ObjectMeta};
use serde::{Deserialize, Serialize};

use super::Labels;

/// API group/version of Cluster.
pub const API_VERSION: &str = "cluster.karmada.io/v1alpha1";
/// The taint Karmada's cluster controller puts on a cluster whose `Ready` condition is `False`
/// (`NotReadyTaintTemplateForSched` in `pkg/controllers/cluster/cluster_controller.go`).
pub const TAINT_NOT_READY: &str = "cluster.karmada.io/not-ready";

/// `{key: cluster.karmada.io/not-ready, effect: NoSchedule}`.
pub fn not_ready_taint() -> Taint {
    Taint {
        key: TAINT_NOT_READY.into(),
        value: None,
        effect: "NoSchedule".into(),
    }
}

/// A member cluster joined to Karmada.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    /// `cluster.karmada.io/v1alpha1`.
    #[serde(default)]
    pub api_version: String,
    /// `Cluster`.
    #[serde(default)]
    pub kind: String,
    /// Name and labels.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Taints and placement facts.
    #[serde(default)]
    pub spec: ClusterSpec,
    /// Conditions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ClusterStatus>,
}

/// `spec` of a Cluster (subset).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    /// Cluster taints (`cluster.karmada.io/not-ready` and the like).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taints: Option<Vec<Taint>>,
    /// Provider name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Zone (deprecated by Karmada in favour of `zones`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Zones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zones: Option<Vec<String>>,
    /// Resource models (grades of node capacity) for the model-based estimation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_models: Option<Vec<ResourceModel>>,
    /// `Push` or `Pull`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_mode: Option<String>,
}

/// A cluster taint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Taint {
    /// Taint key.
    pub key: String,
    /// Taint value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// NoSchedule or NoExecute.
    pub effect: String,
}

/// One resource model: a grade of node and the resource ranges it covers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceModel {
    /// The grade (index).
    #[serde(default)]
    pub grade: u32,
    /// Resource ranges `[min, max)`.
    #[serde(default)]
    pub ranges: Vec<ResourceModelRange>,
}

/// One resource range of a model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceModelRange {
    /// Resource name (`cpu`, `memory`...).
    pub name: String,
    /// Lower bound (inclusive).
    pub min: Quantity,
    /// Upper bound (exclusive).
    pub max: Quantity,
}

/// `status` of a Cluster (subset).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterStatus {
    /// Kubernetes version of the member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    /// The APIs the member serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_enablements: Option<Vec<ApiEnablement>>,
    /// Conditions; `Ready` and `CompleteAPIEnablements` are the ones the engine reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conditions: Option<Vec<Condition>>,
    /// Resources of the member's nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_summary: Option<ResourceSummary>,
}

/// The resources one group/version of a member serves.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiEnablement {
    /// `apps/v1`, `v1`...
    pub group_version: String,
    /// The resources of that group/version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Vec<ApiResource>>,
}

/// One served resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiResource {
    /// Plural resource name.
    #[serde(default)]
    pub name: String,
    /// Kind.
    pub kind: String,
}

/// A list of resource quantities by resource name (`cpu`, `memory`, `pods`...).
pub type ResourceList = BTreeMap<String, Quantity>;

/// `status.resourceSummary`: the member's node resources.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSummary {
    /// Allocatable resources of the ready nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocatable: Option<ResourceList>,
    /// Requested by pods waiting for scheduling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocating: Option<ResourceList>,
    /// Requested by scheduled pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocated: Option<ResourceList>,
    /// Nodes per resource-model grade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocatable_modelings: Option<Vec<AllocatableModeling>>,
}

/// Number of nodes of one grade.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AllocatableModeling {
    /// The grade.
    #[serde(default)]
    pub grade: u32,
    /// How many nodes.
    #[serde(default)]
    pub count: i64,
}

/// Whether a member serves an API (`APIEnablementStatus` in `cluster_helper.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ApiStatus {
    /// Listed in `status.apiEnablements`.
    Enabled,
    /// Not listed, and the list is complete (`CompleteAPIEnablements=True`).
    Disabled,
    /// Not listed, and the list may be partial.
    Unknown,
}

/// A status condition.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// `Ready`...
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// Machine-readable reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Human-readable message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Cluster {
    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or_default()
    }

    /// Whether the `Ready` condition is `True`.
    pub fn is_ready(&self) -> bool {
        self.condition_is_true("Ready")
    }

    /// Whether condition `type_` is present and `True` (`meta.IsStatusConditionPresentAndEqual`).
    pub fn condition_is_true(&self, type_: &str) -> bool {
        self.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == type_))
            .is_some_and(|c| c.status == "True")
    }

    /// `spec.provider`, empty when unset.
    pub fn provider(&self) -> &str {
        self.spec.provider.as_deref().unwrap_or_default()
    }

    /// `spec.region`, empty when unset.
    pub fn region(&self) -> &str {
        self.spec.region.as_deref().unwrap_or_default()
    }

    /// `spec.zone`, empty when unset.
    pub fn zone(&self) -> &str {
        self.spec.zone.as_deref().unwrap_or_default()
    }

    /// `spec.zones`, or the deprecated `spec.zone` as a one-element list when `zones` is empty:
    /// what Karmada's Cluster mutation stores (`MutateCluster` in `pkg/apis/cluster/mutation`),
    /// so what the scheduler reads.
    pub fn zones(&self) -> Vec<&str> {
        match self.spec.zones.as_deref() {
            Some(zones) if !zones.is_empty() => zones.iter().map(String::as_str).collect(),
            _ if !self.zone().is_empty() => vec![self.zone()],
            _ => Vec::new(),
        }
    }

    /// Cluster labels (empty when unset).
    pub fn labels(&self) -> Labels {
        self.metadata.labels.clone().unwrap_or_default()
    }

    /// Whether the member serves `kind` of `api_version`: mirrors `(*Cluster).APIEnablement` in
    /// `pkg/apis/cluster/v1alpha1/cluster_helper.go`.
    pub fn api_enablement(&self, api_version: &str, kind: &str) -> ApiStatus {
        let listed = self
            .status
            .as_ref()
            .and_then(|s| s.api_enablements.as_ref())
            .into_iter()
            .flatten()
            .filter(|e| e.group_version == api_version)
            .flat_map(|e| e.resources.iter().flatten())
            .any(|r| r.kind == kind);
        if listed {
            ApiStatus::Enabled
        } else if self.condition_is_true("CompleteAPIEnablements") {
            ApiStatus::Disabled
        } else {
            ApiStatus::Unknown
        }
    }

    /// `status.resourceSummary`, if reported.
    pub fn resource_summary(&self) -> Option<&ResourceSummary> {
        self.status.as_ref()?.resource_summary.as_ref()
    }

    /// `spec.taints` (empty when unset).
    pub fn taints(&self) -> &[Taint] {
        self.spec.taints.as_deref().unwrap_or_default()
    }
}
