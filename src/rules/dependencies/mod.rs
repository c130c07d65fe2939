//! The dependencies of an object exactly as Karmada's default resource interpreter reports them
//! (`DefaultInterpreter.GetDependencies`, `pkg/resourceinterpreter/default/native/dependencies.go`
//! at Karmada f8fdd02): the objects `propagateDeps: true` carries along with it (semantics.md §6).
//! [`dependencies`] is the one function the takeover, the reconciler's promote pass and the `deps`
//! command use.
//!
//! **Which objects.** Karmada picks a handler by the exact group, version and kind
//! (`getAllDefaultDependenciesInterpreter`): `apps/v1` Deployment, ReplicaSet, DaemonSet and
//! StatefulSet, `batch/v1` Job and CronJob, `v1` Pod, `networking.k8s.io/v1` Ingress and
//! `multicluster.x-k8s.io/v1alpha1` ServiceImport ([`HANDLED`]). Anything else (another version
//! such as `batch/v1beta1` CronJob included) has no default handler: no dependencies.
//!
//! **Workloads** (`getDeploymentDependencies` and its siblings, then
//! `helper.GetDependenciesFromPodTemplate` on the pod template; a Pod uses its own spec, a CronJob
//! `spec.jobTemplate.spec.template`), through every reference of `lifted.VisitPodSecretNames` and
//! `VisitPodConfigmapNames` (see `pod.rs`):
//!
//! - ConfigMaps: `envFrom[].configMapRef`, `env[].valueFrom.configMapKeyRef` of init, regular and
//!   ephemeral containers; volumes `configMap`, `projected.sources[].configMap`;
//! - Secrets: `imagePullSecrets`, `envFrom[].secretRef`, `env[].valueFrom.secretKeyRef`; volumes
//!   `secret.secretName`, `projected.sources[].secret`, `azureFile.secretName`, the `secretRef`
//!   of cephfs, cinder, flexVolume, rbd, scaleIO, iscsi and storageos, `csi.nodePublishSecretRef`
//!   (a volume counts through its first source in Karmada's `switch` order);
//! - ServiceAccount: `serviceAccountName` unless empty or `default` (`serviceAccount` is not read);
//! - PersistentVolumeClaims: volumes `persistentVolumeClaim.claimName`; for a StatefulSet, not
//!   the claims named like one of its `volumeClaimTemplates[].metadata.name`
//!   (`getStatefulSetDependencies`: the StatefulSet creates those in each member itself).
//!
//! Empty names are skipped and each name is reported once per kind (Go sets). Transitive
//! references (pod → PVC → PV → Secret) are not followed.
//!
//! **Ingress** (`getIngressDependencies`): one Secret per `spec.tls[]` entry, in order, neither
//! de-duplicated nor filtered: two entries naming one Secret give it twice, and an entry without
//! `secretName` gives a reference without a name, which `validation.VerifyDependencies` rejects,
//! so the whole call fails ([`DependencyError::NoName`]).
//!
//! **ServiceImport** (`getServiceImportDependencies`): the Service `derived-<name>` and the
//! EndpointSlices (`discovery.k8s.io/v1`) selected by the label `kubernetes.io/service-name:
//! derived-<name>`; `VerifyDependencies` rejects that selector when the value is no valid label
//! value (over 63 characters: a ServiceImport name over 55).
//!
//! **Namespace**: the object's own `metadata.namespace`, as given (empty stays empty: Karmada does
//! not default it).
//!
//! **Errors**: Karmada first converts the object to its typed API struct; a field of the wrong
//! JSON type fails the call (see [`decode`] for the rules, and which fields are checked here).
//!
//! **Order**: Karmada lists ConfigMaps, Secrets, ServiceAccounts, then PVCs, each group in Go map
//! order (random); Ingress and ServiceImport in their own order. Ours is sorted by apiVersion,
//! kind, namespace, name (then label selector), the order a comparison needs.
//!
//! **Checked** against Karmada's own interpreter on random objects by `scripts/deps-oracle/run.sh`
//! (a Go program calling `native.NewDefaultInterpreter().GetDependencies`).
//!
//! **Promotion** keeps to ConfigMaps and Secrets (`reconciler::promote`), though `propagateDeps`
//! carries every kind above once its template is in Karmada: a PersistentVolumeClaim copied from a
//! member names that member's PersistentVolume and is immutable once bound, a ServiceAccount's
//! tokens are minted by each member, and the Service and EndpointSlices of a ServiceImport are made
//! by Karmada's own controllers. The takeover plan lists them all and says which are missing.

use std::{cmp::Ordering, collections::BTreeMap};

use super::json::Json;
use serde::{Serialize, Serializer, ser::SerializeStruct};

pub mod decode;
mod pod;

use decode::{At, ShapeError, child, field, list, object, string};

/// The kinds Karmada's default interpreter reports dependencies for: (apiVersion, kind).
pub const HANDLED: [(&str, &str); 9] = [
    ("apps/v1", "Deployment"),
    ("apps/v1", "ReplicaSet"),
    ("apps/v1", "DaemonSet"),
    ("apps/v1", "StatefulSet"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
    ("v1", "Pod"),
    ("networking.k8s.io/v1", "Ingress"),
    ("multicluster.x-k8s.io/v1alpha1", "ServiceImport"),
];

/// Whether Karmada's default interpreter has a dependencies handler for this exact apiVersion
/// and kind.
pub fn handles(api_version: &str, kind: &str) -> bool {
    HANDLED.contains(&(api_version, kind))
}

/// A dependency kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum DependencyKind {
    /// `v1` ConfigMap.
    ConfigMap,
    /// `v1` Secret.
    Secret,
    /// `v1` ServiceAccount.
    ServiceAccount,
    /// `v1` PersistentVolumeClaim.
    PersistentVolumeClaim,
    /// `v1` Service (the derived Service of a ServiceImport).
    Service,
    /// `discovery.k8s.io/v1` EndpointSlice (of a ServiceImport, by label).
    EndpointSlice,
}

impl DependencyKind {
    /// The kind string.
    pub fn as_str(self) -> &'static str {
        match self {
            DependencyKind::ConfigMap => "ConfigMap",
            DependencyKind::Secret => "Secret",
            DependencyKind::ServiceAccount => "ServiceAccount",
            DependencyKind::PersistentVolumeClaim => "PersistentVolumeClaim",
            DependencyKind::Service => "Service",
            DependencyKind::EndpointSlice => "EndpointSlice",
        }
    }

    /// Its apiVersion.
    pub fn api_version(self) -> &'static str {
        match self {
            DependencyKind::EndpointSlice => "discovery.k8s.io/v1",
            _ => "v1",
        }
    }
}

/// By apiVersion, then kind.
impl Ord for DependencyKind {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.api_version(), self.as_str()).cmp(&(other.api_version(), other.as_str()))
    }
}

impl PartialOrd for DependencyKind {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// One dependency: Karmada's `DependentObjectReference`. Ordered by apiVersion, kind, namespace,
/// name, label selector.
///
/// Serialised as Karmada serialises it: `{"apiVersion", "kind", "namespace", "name",
/// "labelSelector": {"matchLabels": {...}}}`, leaving out an empty namespace, an empty name and a
/// missing selector (`omitempty`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dependency {
    /// Its kind (and apiVersion).
    pub kind: DependencyKind,
    /// The depending object's namespace.
    pub namespace: String,
    /// Its name; empty for a dependency chosen by label.
    pub name: String,
    /// `labelSelector.matchLabels`, for a dependency chosen by label (EndpointSlices).
    pub match_labels: Option<BTreeMap<String, String>>,
}

impl Dependency {
    fn named(kind: DependencyKind, namespace: &str, name: &str) -> Dependency {
        Dependency {
            kind,
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            match_labels: None,
        }
    }
}

impl Serialize for Dependency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Selector<'a> {
            match_labels: &'a BTreeMap<String, String>,
        }
        let mut out = s.serialize_struct("DependentObjectReference", 5)?;
        out.serialize_field("apiVersion", self.kind.api_version())?;
        out.serialize_field("kind", self.kind.as_str())?;
        if !self.namespace.is_empty() {
            out.serialize_field("namespace", &self.namespace)?;
        }
        if !self.name.is_empty() {
            out.serialize_field("name", &self.name)?;
        }
        if let Some(labels) = &self.match_labels {
            out.serialize_field("labelSelector", &Selector { match_labels: labels })?;
        }
        out.end()
    }
}

/// Why Karmada's default interpreter fails for an object (the dependencies distributor then
/// records a `GetDependenciesFailed` event, retries, and carries nothing for it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DependencyError {
    /// `helper.ConvertToTypedObject` fails: a field does not fit the typed API.
    #[error(
        "Karmada cannot read it as {api_version} {kind}: {shape}; its resource interpreter fails instead of \
         reporting dependencies, so propagateDeps carries none: fix that field"
    )]
    Shape {
        /// The object's apiVersion.
        api_version: String,
        /// The object's kind.
        kind: String,
        /// The field.
        shape: ShapeError,
    },
    /// `VerifyDependencies`: a reference with neither name nor label selector.
    #[error(
        "{path} is empty: Karmada's resource interpreter rejects a dependency without a name, so \
         propagateDeps carries none of this object's dependencies: name a Secret there or remove the entry"
    )]
    NoName {
        /// The field that gave the empty name (`spec.tls[1].secretName`).
        path: String,
    },
    /// `VerifyDependencies`: the label selector of a dependency is invalid.
    #[error(
        "the label value {value:?} Karmada selects the EndpointSlices of this ServiceImport by is not a valid \
         label value ({why}), so its resource interpreter rejects the dependencies and propagateDeps carries \
         none: use a name of at most 55 characters"
    )]
    Selector {
        /// The label value.
        value: String,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// An object to find the dependencies of.
#[derive(Debug, Clone, Copy)]
pub struct Object<'a> {
    /// `apiVersion`.
    pub api_version: &'a str,
    /// `kind`.
    pub kind: &'a str,
    /// `metadata.namespace` (empty for none).
    pub namespace: &'a str,
    /// `metadata.name`.
    pub name: &'a str,
    /// The object's JSON; only `spec` is read, so `metadata` may be left out
    /// (`DynamicObject::data`).
    pub body: Json<'a>,
}

impl<'a> Object<'a> {
    /// A whole object (`apiVersion`, `kind`, `metadata`, `spec`). `metadata.namespace` and
    /// `metadata.name` must be strings when present (Karmada's conversion fails otherwise); a
    /// missing `apiVersion` or `kind` reads as empty (no handler).
    pub fn from_manifest(value: impl Into<Json<'a>>) -> Result<Object<'a>, DependencyError> {
        let value = value.into();
        let api_version = value.get("apiVersion").and_then(Json::as_str).unwrap_or_default();
        let kind = value.get("kind").and_then(Json::as_str).unwrap_or_default();
        let read = || -> Result<(&'a str, &'a str), ShapeError> {
            let meta_at = At::ROOT.key("metadata");
            let meta = object(value.get("metadata"), &meta_at)?;
            Ok((
                string(field(meta, "namespace"), &meta_at.key("namespace"))?,
                string(field(meta, "name"), &meta_at.key("name"))?,
            ))
        };
        let (namespace, name) = read().map_err(|shape| DependencyError::Shape {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            shape,
        })?;
        Ok(Object {
            api_version,
            kind,
            namespace,
            name,
            body: value,
        })
    }
}

/// The dependencies Karmada's default interpreter reports for `o`, sorted (see the module doc):
/// empty for a kind it has no handler for, an error where Karmada's interpreter fails.
pub fn dependencies(o: &Object<'_>) -> Result<Vec<Dependency>, DependencyError> {
    let shape = |shape: ShapeError| DependencyError::Shape {
        api_version: o.api_version.to_owned(),
        kind: o.kind.to_owned(),
        shape,
    };
    let root = object(Some(o.body), &At::ROOT).map_err(shape)?;
    let mut found = match (o.api_version, o.kind) {
        ("networking.k8s.io/v1", "Ingress") => ingress(o, root).map_err(shape)??,
        ("multicluster.x-k8s.io/v1alpha1", "ServiceImport") => service_import(o)?,
        (api_version, kind) if handles(api_version, kind) => workload(o, root).map_err(shape)?,
        _ => Vec::new(),
    };
    found.sort();
    Ok(found)
}

/// The pod template's dependencies (`GetDependenciesFromPodTemplate`), less a StatefulSet's
/// claim templates.
fn workload(o: &Object<'_>, root: Option<Json<'_>>) -> Result<Vec<Dependency>, ShapeError> {
    let spec_at = At::ROOT.key("spec");
    let spec = child(root, "spec", &At::ROOT)?;
    let mut deps = match o.kind {
        "Pod" => pod_dependencies(o, spec, &spec_at)?,
        "CronJob" => {
            let job_at = spec_at.key("jobTemplate");
            let job = child(spec, "jobTemplate", &spec_at)?;
            let job_spec_at = job_at.key("spec");
            let job_spec = child(job, "spec", &job_at)?;
            let template_at = job_spec_at.key("template");
            let template = child(job_spec, "template", &job_spec_at)?;
            pod_dependencies(
                o,
                child(template, "spec", &template_at)?,
                &template_at.key("spec"),
            )?
        }
        _ => {
            let template_at = spec_at.key("template");
            let template = child(spec, "template", &spec_at)?;
            pod_dependencies(
                o,
                child(template, "spec", &template_at)?,
                &template_at.key("spec"),
            )?
        }
    };
    if o.kind == "StatefulSet" {
        let claims_at = spec_at.key("volumeClaimTemplates");
        let mut templates = Vec::new();
        for (i, t) in list(field(spec, "volumeClaimTemplates"), &claims_at)?.enumerate() {
            let t_at = claims_at.index(i);
            let meta = child(object(Some(t), &t_at)?, "metadata", &t_at)?;
            templates.push(string(field(meta, "name"), &t_at.key("metadata").key("name"))?);
        }
        deps.retain(|d| {
            d.kind != DependencyKind::PersistentVolumeClaim || !templates.contains(&d.name.as_str())
        });
    }
    Ok(deps)
}

fn pod_dependencies(
    o: &Object<'_>,
    spec: Option<Json<'_>>,
    at: &At<'_>,
) -> Result<Vec<Dependency>, ShapeError> {
    let r = pod::references(spec, at)?;
    let groups = [
        (DependencyKind::ConfigMap, r.config_maps),
        (DependencyKind::Secret, r.secrets),
        (DependencyKind::ServiceAccount, r.service_accounts),
        (DependencyKind::PersistentVolumeClaim, r.claims),
    ];
    Ok(groups
        .into_iter()
        .flat_map(|(kind, names)| {
            names
                .into_iter()
                .map(move |name| Dependency::named(kind, o.namespace, &name))
        })
        .collect())
}

/// `getIngressDependencies`: a Secret per `spec.tls[]`, then `VerifyDependencies`.
fn ingress(
    o: &Object<'_>,
    root: Option<Json<'_>>,
) -> Result<Result<Vec<Dependency>, DependencyError>, ShapeError> {
    let spec_at = At::ROOT.key("spec");
    let tls_at = spec_at.key("tls");
    let spec = child(root, "spec", &At::ROOT)?;
    let mut deps = Vec::new();
    let mut unnamed = None;
    for (i, t) in list(field(spec, "tls"), &tls_at)?.enumerate() {
        let t_at = tls_at.index(i);
        let name_at = t_at.key("secretName");
        let name = string(field(object(Some(t), &t_at)?, "secretName"), &name_at)?;
        if name.is_empty() && unnamed.is_none() {
            unnamed = Some(name_at.to_string());
        }
        deps.push(Dependency::named(DependencyKind::Secret, o.namespace, name));
    }
    Ok(match unnamed {
        Some(path) => Err(DependencyError::NoName { path }),
        None => Ok(deps),
    })
}

/// `getServiceImportDependencies` (`names.GenerateDerivedServiceName`), then
/// `VerifyDependencies`'s label-selector check.
fn service_import(o: &Object<'_>) -> Result<Vec<Dependency>, DependencyError> {
    let derived = format!("derived-{}", o.name);
    if let Some(why) = invalid_label_value(&derived) {
        return Err(DependencyError::Selector { value: derived, why });
    }
    Ok(vec![
        Dependency::named(DependencyKind::Service, o.namespace, &derived),
        Dependency {
            kind: DependencyKind::EndpointSlice,
            namespace: o.namespace.to_owned(),
            name: String::new(),
            match_labels: Some([("kubernetes.io/service-name".to_owned(), derived)].into()),
        },
    ])
}

/// Kubernetes `validation.IsValidLabelValue`: at most 63 characters, empty or alphanumeric at
/// both ends with `-`, `_`, `.` and alphanumerics between.
fn invalid_label_value(v: &str) -> Option<&'static str> {
    let alnum = |c: char| c.is_ascii_alphanumeric();
    if v.len() > 63 {
        Some("longer than 63 characters")
    } else if !v.is_empty()
        && (!v.starts_with(alnum)
            || !v.ends_with(alnum)
            || !v.chars().all(|c| alnum(c) || matches!(c, '-' | '_' | '.')))
    {
        Some(
            "a label value must begin and end with a letter or digit and hold only letters, digits, '-', '_' and '.'",
        )
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
