//! The engine's [`FleetView`] over a [`Fleet`]: each query is the fleet's own index lookup.

use super::Fleet;
use crate::{
    karmada::{Policy, PolicyKind, ResourceSelector},
    rules::{
        claim::Template,
        view::{ClusterInfo, FleetView, TemplateMeta},
    },
};

impl FleetView for Fleet {
    fn policy(&self, kind: PolicyKind, namespace: &str, name: &str) -> Option<&Policy> {
        Fleet::policy(self, kind, namespace, name)
    }

    fn policies_for(&self, kind: PolicyKind, t: &Template<'_>) -> Vec<&Policy> {
        Fleet::policies_for(self, kind, t)
    }

    fn batch_competitors(&self, rs: &ResourceSelector, namespace: &str) -> Vec<&Policy> {
        Fleet::batch_competitors(self, rs, namespace)
    }

    fn template(&self, api_version: &str, kind: &str, namespace: &str, name: &str) -> Option<&TemplateMeta> {
        Fleet::template(self, api_version, kind, namespace, name)
    }

    fn claimed_by(&self, kind: PolicyKind, namespace: &str, name: &str) -> Vec<&TemplateMeta> {
        Fleet::claimed_by(self, kind, namespace, name)
    }

    fn cluster(&self, name: &str) -> Option<&ClusterInfo> {
        Fleet::cluster(self, name)
    }

    fn cluster_names(&self) -> Vec<&str> {
        self.clusters().map(|c| c.name.as_str()).collect()
    }

    fn namespace_disabled(&self, name: &str) -> bool {
        Fleet::namespace_disabled(self, name)
    }

    fn member_copies(&self, group: &str, kind: &str, namespace: &str, name: &str) -> Vec<(&str, bool)> {
        Fleet::member_copies(self, group, kind, namespace, name)
    }

    fn running_copies(
        &self,
        group: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Vec<(&str, &crate::rules::restart::RunningCopy)> {
        Fleet::running_copies(self, group, kind, namespace, name)
    }

    fn karmada_copy(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<&crate::rules::restart::RunningCopy> {
        Fleet::karmada_copy(self, api_version, kind, namespace, name)
    }
}
