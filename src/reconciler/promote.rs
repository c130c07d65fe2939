//! Dependency promotion: a ConfigMap or Secret an adopted workload uses, present in its source
//! member cluster but not in Karmada, is copied into Karmada so `propagateDeps` can carry it —
//! what `karmadactl promote -d` does (semantics.md §5, step 4–5).

use serde_json::{Map, Value};

use kube::{Api, core::DynamicObject};

use super::{Adopted, PassReport, Reconciler};
use crate::{
    config::{Config, KindRef, RestartGuardMode},
    fleet::watch::resources,
    karmada::{keys, markers},
    rules::{
        dependencies::{self, DependencyKind},
        restart,
        view::TemplateMeta,
    },
};

impl Reconciler {
    pub(super) async fn promote(&mut self, config: &Config, adopted: &[Adopted], report: &mut PassReport) {
        for a in adopted {
            let t = &a.meta;
            let done_key = format!(
                "{}\0{}\0{}\0{}\0{}",
                t.api_version,
                t.kind,
                t.namespace,
                t.name,
                a.clusters.join(",")
            );
            if !a.policy_exists || a.left_alone.is_some() || self.deps_done.contains(&done_key) {
                continue;
            }
            let Some(ar) = resources::known(&t.api_version, &t.kind) else {
                continue;
            };
            let api: Api<DynamicObject> = Api::namespaced_with(self.client().clone(), &t.namespace, &ar);
            let body = match tokio::time::timeout(self.options.request_timeout, api.get_opt(&t.name)).await {
                Ok(Ok(Some(obj))) => obj.data,
                Ok(Ok(None)) => continue,
                Ok(Err(e)) => {
                    let object = format!("{} {}/{}", t.kind, t.namespace, t.name);
                    self.record(report, "promote", "error", &object, Some(&e.to_string()));
                    continue;
                }
                Err(_) => {
                    let object = format!("{} {}/{}", t.kind, t.namespace, t.name);
                    self.record(
                        report,
                        "promote",
                        "timeout",
                        &object,
                        Some("reading the template"),
                    );
                    continue;
                }
            };
            let object = dependencies::Object {
                api_version: &t.api_version,
                kind: &t.kind,
                namespace: &t.namespace,
                name: &t.name,
                body: (&body).into(),
            };
            let mut found = match dependencies::dependencies(&object) {
                Ok(found) => found,
                Err(e) => {
                    let object = format!("{} {}/{}", t.kind, t.namespace, t.name);
                    self.record(report, "promote", "error", &object, Some(&e.to_string()));
                    continue;
                }
            };
            // An Ingress may name one Secret twice (sorted: the copies are neighbours).
            found.dedup();
            let mut all_there = true;
            for dep in found {
                // Only ConfigMaps and Secrets are copied: the module doc of `rules::dependencies`
                // says why.
                if !matches!(dep.kind, DependencyKind::ConfigMap | DependencyKind::Secret) {
                    continue;
                }
                match self
                    .promote_one(config, t, &a.clusters, dep.kind.as_str(), &dep.name)
                    .await
                {
                    Ok(None) => {}
                    Ok(Some(result)) => {
                        let object = format!("{} {}/{}", dep.kind.as_str(), t.namespace, dep.name);
                        if result != "created" {
                            all_there = false;
                        }
                        self.record(report, "promote", result, &object, None);
                    }
                    Err(e) => {
                        all_there = false;
                        let object = format!("{} {}/{}", dep.kind.as_str(), t.namespace, dep.name);
                        self.record(report, "promote", "error", &object, Some(&e));
                    }
                }
            }
            if all_there {
                self.deps_done.insert(done_key);
            }
        }
    }

    /// `Ok(None)`: already in Karmada. `Ok(Some(result))`: what happened.
    pub(super) async fn promote_one(
        &self,
        config: &Config,
        t: &TemplateMeta,
        clusters: &[String],
        kind: &str,
        name: &str,
    ) -> Result<Option<&'static str>, String> {
        let kind_ref = KindRef::new("v1", kind);
        let ar = resources::known("v1", kind).ok_or_else(|| format!("no resource for {kind}"))?;
        let timeout = self.options.request_timeout;
        let karmada: Api<DynamicObject> = Api::namespaced_with(self.client().clone(), &t.namespace, &ar);
        let in_karmada = if config.selects("v1", kind) {
            self.fleet
                .read()
                .template("v1", kind, &t.namespace, name)
                .is_some()
        } else {
            tokio::time::timeout(timeout, karmada.get_metadata_opt(name))
                .await
                .map_err(|_| "timeout".to_owned())?
                .map_err(|e| e.to_string())?
                .is_some()
        };
        if in_karmada {
            return Ok(None);
        }
        // Source: a listed cluster that holds an unmanaged copy (member index when the kind is
        // indexed, else ask each source cluster).
        let candidates: Vec<String> = if config.selects(&kind_ref.api_version, kind) {
            self.fleet
                .read()
                .member_copies("", kind, &t.namespace, name)
                .into_iter()
                .filter(|(c, managed)| !managed && clusters.iter().any(|s| s == c))
                .map(|(c, _)| c.to_owned())
                .collect()
        } else {
            clusters.to_vec()
        };
        if let Some(differ) = self.copies_differ(config, t, clusters, kind, name) {
            tracing::warn!(kind, namespace = %t.namespace, name, workload = %t.name, differ = %differ,
                "dependency not promoted: its copies in the source clusters differ (restartGuard: enforce)");
            return Ok(Some("copies-differ"));
        }
        for cluster in candidates {
            match super::adopt::copy_dependency(&self.connection, &cluster, kind, &t.namespace, name, timeout)
                .await
            {
                Ok(super::adopt::Copied::Created) => {
                    tracing::info!(%cluster, kind, namespace = %t.namespace, name, workload = %t.name,
                        "dependency promoted from the member cluster into Karmada");
                    return Ok(Some("created"));
                }
                Ok(super::adopt::Copied::Existed) => return Ok(None),
                Ok(super::adopt::Copied::NotFound) => continue,
                Ok(super::adopt::Copied::Skipped(why)) => {
                    tracing::info!(%cluster, kind, namespace = %t.namespace, name, reason = %why, "dependency not promoted");
                    return Ok(Some("skipped"));
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(Some("not-found"))
    }

    /// How the source clusters' copies of a dependency differ, when the restart guard enforces
    /// and the workload does not accept the change (`karmada-takeover.io/allow-rollout`):
    /// promoting one copy would change the others' mounted files. `None` to go on.
    fn copies_differ(
        &self,
        config: &Config,
        t: &TemplateMeta,
        clusters: &[String],
        kind: &str,
        name: &str,
    ) -> Option<String> {
        if config.restart_guard != RestartGuardMode::Enforce || markers::allows_rollout(&t.annotations) {
            return None;
        }
        let fleet = self.fleet.read();
        let running: Vec<_> = fleet
            .running_copies("", kind, &t.namespace, name)
            .into_iter()
            .filter(|(c, _)| clusters.iter().any(|s| s == c))
            .collect();
        let differ = restart::dependency_disagreements(&running);
        (!differ.is_empty()).then(|| differ.join("; "))
    }
}

/// Why a member object is not promoted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotPromoted {
    /// Karmada already manages the member copy: promoting it would be a re-promotion.
    #[error("the member copy is managed by Karmada (karmada.io/managed or Work annotations)")]
    Managed,
    /// A service-account token Secret is minted per cluster; copying it would be wrong.
    #[error("service-account token Secrets are cluster-specific")]
    ServiceAccountToken,
}

/// The template to create in Karmada from a member object: server fields pruned as Karmada
/// prunes them and `karmada-takeover.io/skip: "true"` so that the
/// dependency rides on the workload's `propagateDeps` instead of getting a takeover policy of its
/// own (`karmadactl promote` gives dependencies no policy either).
pub fn prune_for_karmada(obj: Value) -> Result<Value, NotPromoted> {
    let mut pruned = crate::rules::adopt::template_of(&obj).ok_or(NotPromoted::Managed)?;
    if obj["kind"] == "Secret" && obj["type"] == "kubernetes.io/service-account-token" {
        return Err(NotPromoted::ServiceAccountToken);
    }
    if let Some(meta) = pruned["metadata"].as_object_mut() {
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(Map::new()));
        if !annotations.is_object() {
            *annotations = Value::Object(Map::new());
        }
        if let Some(a) = annotations.as_object_mut() {
            // No `work.karmada.io/conflict-resolution`: the dependency's attached binding takes
            // the workload binding's conflictResolution (Overwrite from the takeover policy,
            // `buildAttachedBinding` in Karmada's dependencies distributor), and an annotation
            // would outlive the takeover. One the member copy carries is kept.
            a.insert(keys::SKIP.to_owned(), Value::String("true".to_owned()));
        }
    }
    Ok(pruned)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn server_fields_are_pruned_and_no_conflict_resolution_is_added() {
        let member = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "cfg", "namespace": "shop", "uid": "u", "resourceVersion": "7",
                         "creationTimestamp": "2026-01-01T00:00:00Z", "managedFields": [{}], "generation": 1,
                         "ownerReferences": [{}], "finalizers": ["x"], "selfLink": "/x",
                         "labels": {"app": "web"}},
            "data": {"k": "v"}, "status": {}});
        let out = prune_for_karmada(member).unwrap();
        assert_eq!(
            out,
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "cfg", "namespace": "shop", "labels": {"app": "web"},
                             "annotations": {"karmada-takeover.io/skip": "true"}},
                "data": {"k": "v"}})
        );
    }

    #[test]
    fn managed_copies_and_token_secrets_are_not_promoted() {
        let managed = json!({"kind": "ConfigMap", "metadata": {"labels": {"karmada.io/managed": "true"}}});
        assert_eq!(prune_for_karmada(managed), Err(NotPromoted::Managed));
        let token = json!({"kind": "Secret", "type": "kubernetes.io/service-account-token", "metadata": {}});
        assert_eq!(prune_for_karmada(token), Err(NotPromoted::ServiceAccountToken));
    }

    #[test]
    fn an_explicit_conflict_resolution_is_kept() {
        let member = json!({"kind": "Secret", "metadata": {"annotations": {"work.karmada.io/conflict-resolution": "abort"}}});
        let out = prune_for_karmada(member).unwrap();
        assert_eq!(
            out["metadata"]["annotations"]["work.karmada.io/conflict-resolution"],
            "abort"
        );
    }
}
