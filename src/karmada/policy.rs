//! `policy.karmada.io/v1alpha1` PropagationPolicy and ClusterPropagationPolicy: the whole spec as
//! in Karmada's CRDs (`charts/karmada/_crds/bases/policy/`, Karmada v1.19.0-rc.0-18-gf8fdd02df).
//!
//! Hand-written rather than generated so that the names read like Karmada's Go types. Every
//! optional field stays `None` when absent, so a manifest round-trips without gaining defaults;
//! the engine applies Karmada's defaults (priority 0, preemption Never, conflictResolution Abort)
//! through accessors. Patches are always computed on the original JSON, never by re-serialising
//! these types, so a field Karmada adds later is never dropped by the webhook.
//!
//! The fleet view keeps every policy, so what each one holds is kept small: the metadata
//! ([`PolicyMeta`]) and label selectors ([`LabelSelector`]) are our own compact types with kube's
//! wire format, and the rarely set parts of a [`Placement`] are boxed.

use k8s_openapi::api::core::v1::{NodeSelectorRequirement, Toleration};
use serde::{Deserialize, Serialize};

use super::{LabelsRef, StoredLabels, markers};

mod meta;
#[cfg(test)]
mod same_as_kube;
mod selector;

pub use meta::{PolicyMeta, ServerMeta};
pub use selector::LabelSelector;

/// API group/version of both policy kinds.
pub const API_VERSION: &str = "policy.karmada.io/v1alpha1";
/// Kind name of the namespaced policy.
pub const PROPAGATION_POLICY: &str = "PropagationPolicy";
/// Kind name of the cluster-scoped policy.
pub const CLUSTER_PROPAGATION_POLICY: &str = "ClusterPropagationPolicy";

/// A PropagationPolicy (namespaced) or ClusterPropagationPolicy (cluster-scoped). Both share
/// `spec: PropagationSpec`; the engine keeps them in one type and tells them apart by `kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Policy {
    /// `policy.karmada.io/v1alpha1`.
    pub api_version: String,
    /// `PropagationPolicy` or `ClusterPropagationPolicy`.
    pub kind: String,
    /// Object metadata, compact ([`PolicyMeta`]: the fleet view holds thousands of policies).
    #[serde(default)]
    pub metadata: PolicyMeta,
    /// The propagation spec.
    pub spec: PropagationSpec,
}

/// Which of the two policy kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum PolicyKind {
    /// Namespaced: only reaches templates in its own namespace; always consulted first.
    PropagationPolicy,
    /// Cluster-scoped: reaches every non-reserved namespace; consulted only when no PP matches.
    ClusterPropagationPolicy,
}

impl PolicyKind {
    /// The Kubernetes kind string.
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyKind::PropagationPolicy => PROPAGATION_POLICY,
            PolicyKind::ClusterPropagationPolicy => CLUSTER_PROPAGATION_POLICY,
        }
    }

    /// Parses a kind string.
    pub fn from_kind(kind: &str) -> Option<Self> {
        match kind {
            PROPAGATION_POLICY => Some(PolicyKind::PropagationPolicy),
            CLUSTER_PROPAGATION_POLICY => Some(PolicyKind::ClusterPropagationPolicy),
            _ => None,
        }
    }

    /// `PP` or `CPP`, for compact human output.
    pub fn short(self) -> &'static str {
        match self {
            PolicyKind::PropagationPolicy => "PP",
            PolicyKind::ClusterPropagationPolicy => "CPP",
        }
    }
}

impl std::fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Policy {
    /// The policy kind, if `kind` is one of the two.
    pub fn policy_kind(&self) -> Option<PolicyKind> {
        PolicyKind::from_kind(&self.kind)
    }

    /// `metadata.name` (empty when unset).
    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or_default()
    }

    /// `metadata.namespace` (empty for a CPP).
    pub fn namespace(&self) -> &str {
        self.metadata.namespace.as_deref().unwrap_or_default()
    }

    /// `metadata.labels` (empty when unset).
    pub fn labels(&self) -> LabelsRef<'_> {
        self.metadata.labels.as_ref().into()
    }

    /// `metadata.annotations` (empty when unset).
    pub fn annotations(&self) -> LabelsRef<'_> {
        self.metadata.annotations.as_ref().into()
    }

    /// A label value.
    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels().get(key)
    }

    /// Whether karmada-takeover created this policy ([`markers::is_ours`]).
    pub fn is_ours(&self) -> bool {
        markers::is_ours(self.labels())
    }
}

/// `spec` of both policy kinds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PropagationSpec {
    /// Which resource templates the policy claims; OR-ed; required, at least one.
    pub resource_selectors: Vec<ResourceSelector>,
    /// Deprecated in favour of `propagateDeps`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub association: Option<bool>,
    /// Propagate dependencies (ConfigMaps, Secrets, ServiceAccounts, PVCs) along with the workload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagate_deps: Option<bool>,
    /// Cluster selection rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<Box<Placement>>,
    /// Explicit priority; nil is 0. Higher wins.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i32>,
    /// `Always` or `Never` (default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preemption: Option<Preemption>,
    /// OverridePolicies that must exist before the policy is applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dependent_overrides: Option<Vec<String>>,
    /// Scheduler name (immutable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduler_name: Option<String>,
    /// Application / cluster failover behaviour.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<Box<FailoverBehavior>>,
    /// `Abort` (default) or `Overwrite`: what to do with a resource that already exists in a member.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict_resolution: Option<ConflictResolution>,
    /// Empty or `Lazy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_preference: Option<String>,
    /// Stop dispatching to all or some clusters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspension: Option<Suspension>,
    /// Keep member objects when the template is deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_resources_on_deletion: Option<bool>,
    /// Scheduling priority class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_priority: Option<SchedulePriority>,
}

impl PropagationSpec {
    /// `spec.priority` with Karmada's nil = 0 (`ExplicitPriority()` in `propagation_helper.go`).
    pub fn explicit_priority(&self) -> i32 {
        self.priority.unwrap_or(0)
    }

    /// Whether `spec.preemption` is `Always`.
    pub fn preempts(&self) -> bool {
        self.preemption == Some(Preemption::Always)
    }
}

/// `spec.preemption`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Preemption {
    /// May preempt templates claimed by lower-priority policies (gate `PropagationPolicyPreemption`).
    Always,
    /// Never preempts (default).
    Never,
}

/// `spec.conflictResolution`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConflictResolution {
    /// Refuse to manage a resource that already exists in a member cluster (default).
    Abort,
    /// Take the existing member resource over.
    Overwrite,
}

/// One resource selector.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceSelector {
    /// Compared with the template's apiVersion by exact string.
    pub api_version: String,
    /// Compared with the template's kind by exact string.
    pub kind: String,
    /// Empty: inherit (PP: its own namespace; CPP: any namespace).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Non-empty: match by name only, the label selector is ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Used only when `name` is empty; nil matches every object of the kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<LabelSelector>,
}

impl ResourceSelector {
    /// `namespace`, empty when unset.
    pub fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or_default()
    }

    /// `name`, empty when unset.
    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or_default()
    }

    /// The namespace this selector reaches in a policy of `kind` living in `policy_namespace`.
    /// A PP selector's empty namespace means the PP's own (Karmada's webhook fills it in), and a PP
    /// selector naming another namespace can never match (a PP only sees its own): `None`. A CPP
    /// selector reaches its own namespace, empty meaning every namespace.
    pub fn effective_namespace<'a>(&'a self, kind: PolicyKind, policy_namespace: &'a str) -> Option<&'a str> {
        match kind {
            PolicyKind::PropagationPolicy => match self.namespace() {
                "" => Some(policy_namespace),
                ns if ns == policy_namespace => Some(ns),
                _ => None,
            },
            PolicyKind::ClusterPropagationPolicy => Some(self.namespace()),
        }
    }

    /// Whether the selector takes every object of its kind (no name, no or an empty label selector).
    pub fn is_kind_wide(&self) -> bool {
        self.name().is_empty()
            && self.label_selector.as_ref().is_none_or(|s| {
                s.match_labels.as_ref().is_none_or(StoredLabels::is_empty)
                    && s.match_expressions.as_ref().is_none_or(Vec::is_empty)
            })
    }
}

/// `spec.placement`.
///
/// The rarely set parts (replica scheduling, workload affinity) are boxed: every policy has a
/// placement, usually only cluster names or an affinity, and the fleet view keeps 10,000 of them
/// (inline, the two took 144 of the struct's 344 bytes). Serde sees through the boxes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Placement {
    /// Single cluster affinity; cannot co-exist with `clusterAffinities`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_affinity: Option<ClusterAffinity>,
    /// Ordered affinity groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_affinities: Option<Vec<ClusterAffinityTerm>>,
    /// Tolerations of cluster taints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_tolerations: Option<Vec<Toleration>>,
    /// Spread constraints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread_constraints: Option<Vec<SpreadConstraint>>,
    /// Replica scheduling strategy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_scheduling: Option<Box<ReplicaSchedulingStrategy>>,
    /// Workload affinity groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_affinity: Option<Box<WorkloadAffinity>>,
}

/// A cluster affinity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterAffinity {
    /// Clusters by label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<LabelSelector>,
    /// Clusters by provider/region/zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_selector: Option<FieldSelector>,
    /// Clusters by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_names: Option<Vec<String>>,
    /// Clusters never selected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exclude: Option<Vec<String>>,
}

/// One term of `clusterAffinities`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterAffinityTerm {
    /// Unique term name.
    pub affinity_name: String,
    /// Inline affinity.
    #[serde(flatten)]
    pub affinity: ClusterAffinity,
    /// Overflow groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overflow_affinities: Option<Vec<OverflowAffinityTerm>>,
}

/// One overflow affinity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OverflowAffinityTerm {
    /// Unique term name.
    pub affinity_name: String,
    /// Inline affinity.
    #[serde(flatten)]
    pub affinity: ClusterAffinity,
}

/// `fieldSelector` of a cluster affinity.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldSelector {
    /// Requirements on provider/region/zone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_expressions: Option<Vec<NodeSelectorRequirement>>,
}

/// A spread constraint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpreadConstraint {
    /// cluster, region, zone or provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread_by_field: Option<String>,
    /// A cluster label key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread_by_label: Option<String>,
    /// Maximum groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_groups: Option<i32>,
    /// Minimum groups.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_groups: Option<i32>,
}

/// `placement.replicaScheduling`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaSchedulingStrategy {
    /// Duplicated or Divided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_scheduling_type: Option<String>,
    /// Aggregated or Weighted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replica_division_preference: Option<String>,
    /// Weights.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_preference: Option<ClusterPreferences>,
}

/// Static or dynamic weights.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterPreferences {
    /// Static weights per cluster group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub static_weight_list: Option<Vec<StaticClusterWeight>>,
    /// `AvailableReplicas`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dynamic_weight: Option<String>,
}

/// One static weight.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StaticClusterWeight {
    /// The clusters this weight applies to.
    pub target_cluster: ClusterAffinity,
    /// The weight (≥ 1).
    pub weight: i64,
}

/// `placement.workloadAffinity`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadAffinity {
    /// Co-locate by label key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<WorkloadAffinityTerm>,
    /// Separate by label key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anti_affinity: Option<WorkloadAffinityTerm>,
}

/// One workload affinity term.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadAffinityTerm {
    /// The grouping label key.
    pub group_by_label_key: String,
}

/// `spec.failover`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailoverBehavior {
    /// Application failover.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<ApplicationFailoverBehavior>,
    /// Cluster failover.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<ClusterFailoverBehavior>,
}

/// `spec.failover.application`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationFailoverBehavior {
    /// When to fail over.
    pub decision_conditions: DecisionConditions,
    /// Grace period (Gracefully only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grace_period_seconds: Option<i32>,
    /// Directly, Gracefully or Never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purge_mode: Option<String>,
    /// State carried to the new cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_preservation: Option<StatePreservation>,
}

/// `decisionConditions`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DecisionConditions {
    /// Seconds of unhealthiness tolerated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toleration_seconds: Option<i32>,
}

/// `spec.failover.cluster`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterFailoverBehavior {
    /// Directly or Gracefully.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purge_mode: Option<String>,
    /// State carried to the new cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_preservation: Option<StatePreservation>,
}

/// State preservation rules.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatePreservation {
    /// The rules.
    pub rules: Vec<StatePreservationRule>,
}

/// One state preservation rule.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatePreservationRule {
    /// Label name that carries the value.
    pub alias_label_name: String,
    /// JSONPath into the status.
    pub json_path: String,
}

/// `spec.suspension`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Suspension {
    /// Stop dispatching to every cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatching: Option<bool>,
    /// Stop dispatching to these clusters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispatching_on_clusters: Option<SuspendClusters>,
}

/// `suspension.dispatchingOnClusters`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuspendClusters {
    /// Cluster names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_names: Option<Vec<String>>,
}

/// `spec.schedulePriority`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchedulePriority {
    /// `KubePriorityClass`.
    pub priority_class_source: String,
    /// The PriorityClass name.
    pub priority_class_name: String,
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case::pp_inherits_its_namespace(PolicyKind::PropagationPolicy, None, Some("shop"))]
    #[case::pp_its_own_namespace(PolicyKind::PropagationPolicy, Some("shop"), Some("shop"))]
    #[case::pp_another_namespace_never_matches(PolicyKind::PropagationPolicy, Some("other"), None)]
    #[case::cpp_every_namespace(PolicyKind::ClusterPropagationPolicy, None, Some(""))]
    #[case::cpp_one_namespace(PolicyKind::ClusterPropagationPolicy, Some("other"), Some("other"))]
    fn effective_namespaces(#[case] kind: PolicyKind, #[case] ns: Option<&str>, #[case] want: Option<&str>) {
        let rs = ResourceSelector {
            api_version: "apps/v1".into(),
            kind: "Deployment".into(),
            namespace: ns.map(str::to_owned),
            ..Default::default()
        };
        let policy_ns = if kind == PolicyKind::PropagationPolicy {
            "shop"
        } else {
            ""
        };
        assert_eq!(rs.effective_namespace(kind, policy_ns), want);
    }
}
