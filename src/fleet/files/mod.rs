//! The file adapter: a fleet directory (this file), and the manifest readers the offline CLI
//! shares ([`parse_objects`], [`read_paths`], [`Located`]: the `manifest` module, re-exported).
//!
//! ```text
//! clusters.yaml              clusters: [{name, labels, ready, provider, region, zones, taints,
//!                            apiEnablements, resourceSummary}]
//! karmada/*.yaml             objects in karmada-apiserver: PropagationPolicy, ClusterPropagationPolicy,
//!                            Namespace (labels), and resource templates (any other kind), with their claims
//! members/<cluster>/*.yaml   objects in each member cluster, with their labels and annotations
//! ```
//!
//! Files may hold several YAML documents (`---`), a JSON object, or a `kind: List`. Every error
//! names the file and the line of the document it is about.

use std::{borrow::Cow, path::Path};

use serde::Deserialize;

mod manifest;
pub mod reload;

pub use manifest::{
    LoadError, Located, documents, is_manifest, manifest_files, parse_objects, read_file, read_paths,
};

use super::{Fleet, RunningStore};
use crate::{
    karmada::{
        Cluster, Labels, Policy, PolicyKind,
        api::group_of,
        cluster::{self, ApiEnablement, Condition, ResourceSummary, Taint},
        markers,
    },
    rules::{
        restart::RunningCopy,
        view::{ClusterInfo, TemplateMeta},
    },
    yaml,
};

/// The shape of `clusters.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ClustersFile {
    #[serde(deserialize_with = "yaml::null_as_default")]
    clusters: Vec<ClusterEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ClusterEntry {
    name: String,
    #[serde(default, deserialize_with = "yaml::null_as_default")]
    labels: Labels,
    #[serde(default = "yes")]
    ready: bool,
    /// `spec.provider`, `spec.region`, `spec.zones`, `spec.taints` of the Cluster.
    #[serde(default)]
    provider: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    zones: Option<Vec<String>>,
    #[serde(default)]
    taints: Option<Vec<Taint>>,
    /// `status.apiEnablements`; when given, the list counts as complete
    /// (`CompleteAPIEnablements=True`).
    #[serde(default)]
    api_enablements: Option<Vec<ApiEnablement>>,
    /// `status.resourceSummary`.
    #[serde(default)]
    resource_summary: Option<ResourceSummary>,
}

impl ClusterEntry {
    /// The Cluster object the entry stands for.
    fn into_info(self) -> ClusterInfo {
        let condition = |type_: &str, true_: bool| Condition {
            type_: type_.into(),
            status: if true_ { "True" } else { "False" }.into(),
            ..Default::default()
        };
        let mut conditions = vec![condition("Ready", self.ready)];
        // Karmada's cluster controller taints a not-ready cluster for the scheduler.
        let mut taints = self.taints;
        if !self.ready && !taints.iter().flatten().any(|t| t.key == cluster::TAINT_NOT_READY) {
            taints
                .get_or_insert_with(Vec::new)
                .push(cluster::not_ready_taint());
        }
        if self.api_enablements.is_some() {
            conditions.push(condition("CompleteAPIEnablements", true));
        }
        let object = Cluster {
            api_version: cluster::API_VERSION.into(),
            kind: "Cluster".into(),
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some(self.name.clone()),
                labels: Some(self.labels.clone()),
                ..Default::default()
            },
            spec: cluster::ClusterSpec {
                provider: self.provider,
                region: self.region,
                zones: self.zones,
                taints,
                ..Default::default()
            },
            status: Some(cluster::ClusterStatus {
                api_enablements: self.api_enablements,
                conditions: Some(conditions),
                resource_summary: self.resource_summary,
                ..Default::default()
            }),
        };
        ClusterInfo {
            name: self.name,
            labels: self.labels,
            ready: self.ready,
            object: Some(Box::new(object)),
        }
    }
}

fn yes() -> bool {
    true
}

/// One file of a fleet directory: its path relative to the fleet root, and its text.
#[derive(Debug, Clone)]
pub struct Source<'a> {
    /// Relative path with `/` separators (`karmada/policies.yaml`).
    pub path: Cow<'a, str>,
    /// File content.
    pub text: Cow<'a, str>,
    /// How errors name the file.
    pub shown: String,
}

/// Loads a fleet directory.
pub fn load_dir(dir: &Path) -> Result<Fleet, LoadError> {
    let meta = std::fs::metadata(dir).map_err(|e| LoadError(format!("--fleet {}: {e}", dir.display())))?;
    if !meta.is_dir() {
        return Err(LoadError(format!("--fleet {}: not a directory", dir.display())));
    }
    let mut sources = Vec::new();
    for file in manifest_files(dir)? {
        let rel = file
            .strip_prefix(dir)
            .unwrap_or(&file)
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&file)
            .map_err(|e| LoadError(format!("{}: cannot read: {e}", file.display())))?;
        sources.push(Source {
            path: rel.into(),
            text: text.into(),
            shown: file.display().to_string(),
        });
    }
    load_sources(&sources)
}

/// Builds a fleet from its files.
pub fn load_sources(sources: &[Source<'_>]) -> Result<Fleet, LoadError> {
    let mut fleet = Fleet::new();
    let mut clusters_seen = false;
    let mut member_objects = Vec::new();
    for source in sources {
        let path = source.path.as_ref();
        if path == "clusters.yaml" || path == "clusters.yml" {
            let parsed: ClustersFile = yaml::from_str(&source.text).map_err(|e| {
                let line = e.line.map_or(String::new(), |l| format!(":{l}"));
                LoadError(format!(
                    "{}{line}: {e} (expected `clusters: [{{name, labels, ready, provider, region, zones, taints, apiEnablements, resourceSummary}}]`)",
                    source.shown
                ))
            })?;
            for c in parsed.clusters {
                if fleet.cluster(&c.name).is_some() {
                    return Err(LoadError(format!(
                        "{}: cluster {} is listed twice",
                        source.shown, c.name
                    )));
                }
                fleet.upsert_cluster(c.into_info());
            }
            clusters_seen = true;
        } else if let Some(rest) = path.strip_prefix("karmada/") {
            let _ = rest;
            for obj in parse_objects(&source.text, &source.shown)? {
                load_karmada_object(&mut fleet, &obj)?;
            }
        } else if let Some(rest) = path.strip_prefix("members/") {
            let Some((cluster, _)) = rest.split_once('/') else {
                return Err(LoadError(format!(
                    "{}: member objects go in members/<cluster>/, not directly in members/",
                    source.shown
                )));
            };
            for obj in parse_objects(&source.text, &source.shown)? {
                member_objects.push((cluster.to_owned(), obj));
            }
        } else {
            return Err(LoadError(format!(
                "{}: unexpected file in a fleet directory (expected clusters.yaml, karmada/*.yaml or members/<cluster>/*.yaml)",
                source.shown
            )));
        }
    }
    if !clusters_seen {
        return Err(LoadError("fleet directory has no clusters.yaml".into()));
    }
    for (cluster, obj) in member_objects {
        if fleet.cluster(&cluster).is_none() {
            return Err(LoadError(format!(
                "{}: cluster {cluster} (from the members/{cluster}/ directory) is not listed in clusters.yaml",
                obj.origin()
            )));
        }
        let WithMeta { metadata: meta } = obj.parse()?;
        let running = running_copy(&fleet.running_store(), &obj);
        fleet.set_member_copy(
            &cluster,
            group_of(obj.api_version()),
            obj.kind(),
            meta.namespace.as_deref().unwrap_or_default(),
            &meta.name,
            markers::is_managed(&meta.labels),
            running,
        );
    }
    fleet.mark_synced();
    Ok(fleet)
}

/// What a member manifest runs, for the restart guard: only a manifest that carries more than
/// metadata (and status) counts as the whole copy; a metadata-only one says where the object is,
/// not what it runs.
fn running_copy(store: &RunningStore, obj: &Located) -> Option<RunningCopy> {
    let whole = obj.value.as_object().is_some_and(|m| {
        m.keys()
            .any(|k| !matches!(k.as_str(), "apiVersion" | "kind" | "metadata" | "status"))
    });
    if !whole {
        return None;
    }
    store.keep(obj.api_version(), obj.kind(), &obj.value)
}

/// The metadata fields the fleet keeps.
#[derive(Debug, Default, Deserialize)]
struct ObjectMetaLite {
    name: String,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    labels: Labels,
    #[serde(default)]
    annotations: Labels,
}

#[derive(Debug, Deserialize)]
struct WithMeta {
    metadata: ObjectMetaLite,
}

fn load_karmada_object(fleet: &mut Fleet, obj: &Located) -> Result<(), LoadError> {
    let api_version = obj.api_version();
    let group = group_of(api_version);
    if group == "policy.karmada.io" && PolicyKind::from_kind(obj.kind()).is_some() {
        let policy: Policy = obj.parse()?;
        if policy.spec.resource_selectors.is_empty() {
            return Err(LoadError(format!(
                "{}: {} has no resourceSelectors (Karmada requires at least one)",
                obj.origin(),
                obj.describe()
            )));
        }
        if policy.policy_kind() == Some(PolicyKind::PropagationPolicy) && policy.namespace().is_empty() {
            return Err(LoadError(format!(
                "{}: {} needs metadata.namespace",
                obj.origin(),
                obj.describe()
            )));
        }
        fleet.upsert_policy(policy);
        return Ok(());
    }
    if group == "work.karmada.io" || group == "config.karmada.io" {
        return Ok(()); // bindings, works: Karmada's own bookkeeping, not templates
    }
    let WithMeta { metadata } = obj.parse()?;
    if api_version == "v1" && obj.kind() == "Namespace" {
        fleet.upsert_namespace(&metadata.name, metadata.labels);
        return Ok(());
    }
    if group == "cluster.karmada.io" && obj.kind() == "Cluster" {
        let cluster: crate::karmada::Cluster = obj.parse()?;
        fleet.upsert_cluster(ClusterInfo::from(&cluster));
        return Ok(());
    }
    let namespace = metadata.namespace.unwrap_or_default();
    let name = metadata.name;
    fleet.upsert_template(TemplateMeta {
        api_version: api_version.to_owned(),
        kind: obj.kind().to_owned(),
        namespace: namespace.clone(),
        name: name.clone(),
        labels: metadata.labels.into(),
        annotations: metadata.annotations.into(),
    });
    if super::karmada_keeps_content(api_version, obj.kind()) {
        let copy = running_copy(&fleet.running_store(), obj);
        fleet.set_karmada_copy(api_version, obj.kind(), &namespace, &name, copy);
    }
    Ok(())
}

/// The files of `examples/fleet`, compiled into the binary.
pub const EMBEDDED: &[(&str, &str)] = &[
    (
        "clusters.yaml",
        include_str!("../../../examples/fleet/clusters.yaml"),
    ),
    (
        "karmada/namespaces.yaml",
        include_str!("../../../examples/fleet/karmada/namespaces.yaml"),
    ),
    (
        "karmada/policies.yaml",
        include_str!("../../../examples/fleet/karmada/policies.yaml"),
    ),
    (
        "karmada/templates.yaml",
        include_str!("../../../examples/fleet/karmada/templates.yaml"),
    ),
    (
        "members/member1/workloads.yaml",
        include_str!("../../../examples/fleet/members/member1/workloads.yaml"),
    ),
    (
        "members/member2/workloads.yaml",
        include_str!("../../../examples/fleet/members/member2/workloads.yaml"),
    ),
    (
        "members/member3/workloads.yaml",
        include_str!("../../../examples/fleet/members/member3/workloads.yaml"),
    ),
];

/// The sample fleet of `examples/fleet`, embedded in the binary (demo, `serve` without `--fleet`).
pub fn embedded() -> Fleet {
    let sources: Vec<Source<'_>> = EMBEDDED
        .iter()
        .map(|(path, text)| Source {
            path: Cow::Borrowed(*path),
            text: Cow::Borrowed(*text),
            shown: format!("(embedded) examples/fleet/{path}"),
        })
        .collect();
    // The embedded files are checked by the test suite, so this cannot fail in a released binary;
    // if it ever did, an empty unsynced fleet keeps every decision fail-safe.
    load_sources(&sources).unwrap_or_else(|e| {
        tracing::error!(error = %e, "embedded example fleet is invalid");
        Fleet::new()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_fleet_loads_and_covers_every_example_file() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet");
        let on_disk: Vec<String> = manifest_files(&dir)
            .unwrap()
            .iter()
            .map(|p| p.strip_prefix(&dir).unwrap().to_string_lossy().replace('\\', "/"))
            .collect();
        let embedded: Vec<&str> = EMBEDDED.iter().map(|(p, _)| *p).collect();
        assert_eq!(
            on_disk, embedded,
            "EMBEDDED must list exactly the files of examples/fleet"
        );
        let sources: Vec<Source<'_>> = EMBEDDED
            .iter()
            .map(|(p, t)| Source {
                path: (*p).into(),
                text: (*t).into(),
                shown: (*p).into(),
            })
            .collect();
        let fleet = load_sources(&sources).unwrap();
        assert!(fleet.is_synced());
        assert_eq!(fleet.counts().clusters, 3);
        assert_eq!(fleet.counts(), load_dir(&dir).unwrap().counts());
    }

    fn clusters(text: &str) -> Result<Fleet, LoadError> {
        load_sources(&[Source {
            path: "clusters.yaml".into(),
            text: text.into(),
            shown: "fleet/clusters.yaml".into(),
        }])
    }

    #[rstest::rstest]
    #[case::unknown_field(
        "clusters:\n- name: m1\n- nam: m2\n",
        3,
        "clusters[1].nam: unknown field `nam`"
    )]
    #[case::not_a_boolean(
        "clusters:\n- name: m1\n  ready: yes\n",
        3,
        "clusters[0].ready: invalid boolean"
    )]
    #[case::syntax(
        "# joined clusters\nclusters:\n- name: m1\n  labels: {a: b\n",
        4,
        "clusters[0].labels: unclosed"
    )]
    #[case::null_label_value(
        "clusters:\n- name: m1\n\n  labels:\n    env:\n",
        5,
        "clusters[0].labels.env: null is not allowed"
    )]
    fn clusters_yaml_errors_name_their_line(#[case] text: &str, #[case] line: u32, #[case] what: &str) {
        let err = clusters(text).unwrap_err().to_string();
        assert!(
            err.starts_with(&format!("fleet/clusters.yaml:{line}: {what}")),
            "{err}"
        );
        assert!(err.contains(&format!("at line {line}, column ")), "{err}");
        assert!(
            err.ends_with("(expected `clusters: [{name, labels, ready, provider, region, zones, taints, apiEnablements, resourceSummary}]`)"),
            "{err}"
        );
    }

    #[test]
    fn cluster_entries_carry_what_the_scheduler_reads() {
        let fleet = clusters(
            "clusters:\n  - name: m1\n    provider: aws\n    region: r1\n    zones: [z1]\n    taints: [{key: k, effect: NoSchedule}]\n    apiEnablements: [{groupVersion: apps/v1, resources: [{name: deployments, kind: Deployment}]}]\n    resourceSummary: {allocatable: {pods: \"10\"}}\n  - name: m2\n",
        )
        .unwrap();
        let m1 = fleet.cluster("m1").unwrap().to_cluster();
        assert_eq!(
            (m1.provider(), m1.region(), m1.zones()),
            ("aws", "r1", vec!["z1"])
        );
        assert_eq!(m1.taints().len(), 1);
        assert!(m1.is_ready());
        assert_eq!(
            m1.api_enablement("apps/v1", "Deployment"),
            cluster::ApiStatus::Enabled
        );
        // A listed set of APIs is complete: an unlisted kind is disabled, not unknown.
        assert_eq!(
            m1.api_enablement("apps/v1", "StatefulSet"),
            cluster::ApiStatus::Disabled
        );
        assert!(m1.resource_summary().is_some());
        let m2 = fleet.cluster("m2").unwrap().to_cluster();
        assert_eq!(
            m2.api_enablement("apps/v1", "Deployment"),
            cluster::ApiStatus::Unknown
        );
    }

    #[test]
    fn a_not_ready_cluster_carries_karmadas_not_ready_taint() {
        let fleet = clusters("clusters:\n  - name: m1\n    ready: false\n").unwrap();
        let m1 = fleet.cluster("m1").unwrap().to_cluster();
        assert_eq!(m1.taints(), [cluster::not_ready_taint()]);
    }

    #[test]
    fn unknown_cluster_fields_are_errors() {
        let err = clusters("clusters:\n  - name: m1\n    zone: z1\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("fleet/clusters.yaml:3"), "{err}");
        assert!(err.contains("zone"), "{err}");
    }

    #[test]
    fn clusters_yaml_reads_labels_as_strings_and_empty_values_as_empty() {
        let fleet = clusters("clusters:\n- name: m1\n  labels: {gpu: yes, zone: 0755, spot: \"true\"}\n  ready: True\n- name: m2\n  labels:\n").unwrap();
        let m1 = fleet.cluster("m1").unwrap();
        let labels: Vec<(&str, &str)> = m1.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        assert_eq!(labels, [("gpu", "yes"), ("spot", "true"), ("zone", "0755")]);
        assert!(m1.ready);
        assert!(fleet.cluster("m2").unwrap().labels.is_empty());
        assert_eq!(
            clusters("clusters:\n# - name: m1\n").unwrap().counts().clusters,
            0
        );
    }

    #[test]
    fn member_directories_must_be_known_clusters() {
        let sources = [
            Source {
                path: "clusters.yaml".into(),
                text: "clusters: [{name: m1}]".into(),
                shown: "clusters.yaml".into(),
            },
            Source {
                path: "members/m9/a.yaml".into(),
                text: "apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: d}\n".into(),
                shown: "members/m9/a.yaml".into(),
            },
        ];
        let err = load_sources(&sources).unwrap_err().to_string();
        assert!(err.contains("m9") && err.contains("clusters.yaml"), "{err}");
    }
}
