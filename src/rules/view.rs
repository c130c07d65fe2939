//! The fleet as the engine reads it: a read-only view the engine defines and the fleet adapters
//! implement (the fleet module's `Fleet`, which both the file and the Karmada adapters fill). The engine never
//! names an adapter; a test or a benchmark can hand it any implementation.
//!
//! Every query returns data borrowed from the view: a decision holds the view's read lock for its
//! whole duration and copies nothing it does not keep.

use serde::Serialize;

use super::claim::{PolicySource, Template};
use crate::karmada::{Cluster, Labels, Policy, PolicyKind, ResourceSelector, StoredLabels};

/// Metadata of a resource template stored in Karmada: what claims and markers live in. The fleet
/// keeps thousands: the maps are in their compact form ([`StoredLabels`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateMeta {
    /// `apps/v1`...
    pub api_version: String,
    /// `Deployment`...
    pub kind: String,
    /// Empty for cluster-scoped templates.
    pub namespace: String,
    /// Template name.
    pub name: String,
    /// `metadata.labels`.
    pub labels: StoredLabels,
    /// `metadata.annotations`.
    pub annotations: StoredLabels,
}

impl TemplateMeta {
    /// The claim-resolution view of this template.
    pub fn as_template(&self) -> Template<'_> {
        Template {
            api_version: &self.api_version,
            kind: &self.kind,
            namespace: &self.namespace,
            name: &self.name,
            labels: (&self.labels).into(),
            annotations: (&self.annotations).into(),
        }
    }
}

/// A member cluster as decisions see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterInfo {
    /// Cluster name.
    pub name: String,
    /// Cluster labels.
    pub labels: Labels,
    /// `Ready` condition is `True`.
    pub ready: bool,
    /// The Cluster object with what Karmada's scheduler reads (provider, region, zones, taints,
    /// API enablements, resource summary), when the source knows it.
    #[serde(skip)]
    pub object: Option<Box<Cluster>>,
}

impl From<&Cluster> for ClusterInfo {
    fn from(c: &Cluster) -> Self {
        Self {
            name: c.name().to_owned(),
            labels: c.metadata.labels.clone().unwrap_or_default(),
            ready: c.is_ready(),
            object: Some(Box::new(c.clone())),
        }
    }
}

impl ClusterInfo {
    /// The cluster as the scheduler sees it: the object when known, otherwise one with only the
    /// name, labels, `Ready` condition and, when not ready, Karmada's not-ready taint (it lists
    /// no API, so the scheduler's APIEnablement filter rejects it).
    pub fn to_cluster(&self) -> Cluster {
        if let Some(object) = &self.object {
            return (**object).clone();
        }
        Cluster {
            api_version: crate::karmada::cluster::API_VERSION.into(),
            kind: "Cluster".into(),
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(self.name.clone()),
                labels: Some(self.labels.clone()),
                ..Default::default()
            },
            spec: crate::karmada::cluster::ClusterSpec {
                taints: (!self.ready).then(|| vec![crate::karmada::cluster::not_ready_taint()]),
                ..Default::default()
            },
            status: Some(crate::karmada::cluster::ClusterStatus {
                conditions: Some(vec![crate::karmada::cluster::Condition {
                    type_: "Ready".into(),
                    status: if self.ready { "True" } else { "False" }.into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
        }
    }
}

/// Everything the engine may ask about the Karmada control plane and its member clusters.
///
/// Queries that return candidates may return a superset (the engine checks each one); the
/// others are exact.
pub trait FleetView {
    /// A policy by kind, namespace (empty for a CPP) and name.
    fn policy(&self, kind: PolicyKind, namespace: &str, name: &str) -> Option<&Policy>;

    /// Policies of `kind` with a selector that could select the template `t` (a superset of the
    /// matches).
    fn policies_for(&self, kind: PolicyKind, t: &Template<'_>) -> Vec<&Policy>;

    /// Batch-tier policies that may compete for templates selected by `rs` in `namespace` (empty:
    /// every namespace): the guardrails' competitor search (a superset).
    fn batch_competitors(&self, rs: &ResourceSelector, namespace: &str) -> Vec<&Policy>;

    /// A template by identity.
    fn template(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Option<&TemplateMeta>;

    /// The templates whose claim names this policy.
    fn claimed_by(&self, kind: PolicyKind, namespace: &str, name: &str) -> Vec<&TemplateMeta>;

    /// A member cluster by name.
    fn cluster(&self, name: &str) -> Option<&ClusterInfo>;

    /// The names of every member cluster, sorted.
    fn cluster_names(&self) -> Vec<&str>;

    /// Whether the namespace carries `karmada-takeover.io/admission: disabled`.
    fn namespace_disabled(&self, name: &str) -> bool;

    /// The member clusters holding the object `(group, kind, namespace, name)`, sorted by cluster
    /// name, each with whether Karmada manages the copy there.
    fn member_copies(&self, group: &str, kind: &str, namespace: &str, name: &str) -> Vec<(&str, bool)>;

    /// What runs in each member cluster holding the object, for the restart guard: only the
    /// copies whose spec the fleet has seen, sorted by cluster name.
    fn running_copies(
        &self,
        group: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Vec<(&str, &crate::rules::restart::RunningCopy)>;

    /// What the template `api_version/kind namespace/name` holds in Karmada, when the view keeps
    /// its content (ConfigMaps and Secrets): compared with the members' copies before
    /// `propagateDeps` overwrites them.
    fn karmada_copy(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<&crate::rules::restart::RunningCopy>;
}

/// Any fleet view is a [`PolicySource`] for claim resolution: candidates come from its index.
impl<'f, F: FleetView + ?Sized> PolicySource<'f> for &'f F {
    fn candidates(&self, t: &Template<'_>) -> Vec<&'f Policy> {
        let mut out = self.policies_for(PolicyKind::PropagationPolicy, t);
        out.extend(self.policies_for(PolicyKind::ClusterPropagationPolicy, t));
        out
    }

    fn get(&self, kind: PolicyKind, namespace: &str, name: &str) -> Option<&'f Policy> {
        self.policy(kind, namespace, name)
    }
}
