//! What kube-apiserver v1.36 sets on an object it admits, so that a hand-written manifest
//! compares like one the API server returned.
//!
//! The restart guard compares the template, as Karmada will write it into a member, with the copy
//! running there (`semantics.md` §4.6). Both sides come out of an API server: defaulted on decode
//! and written back by Go's `encoding/json` from typed structs. A manifest read from a file has
//! neither step behind it: without this, a missing `imagePullPolicy` or a `cpu: 0.5` (stored as
//! `500m`) would read as a difference, and the guard would cry restart where nothing changes.
//!
//! [`apply_defaults`] restates, in our own code, three things the API server does on create:
//!
//! 1. **Defaulting** (`k8s.io/kubernetes` v1.36.3, `pkg/apis/{apps,batch,core}/v1/defaults.go`,
//!    and the generated `zz_generated.defaults.go`, which decides which `SetDefaults_*` runs on
//!    which nested struct and holds the declarative `+default` values such as a container port's
//!    `protocol: TCP`). Every rule cites its Go function.
//! 2. **Conversion round trip** (v1 → internal → v1, `pkg/apis/{core,apps}/v1/conversion.go`):
//!    `serviceAccount` mirrors `serviceAccountName`; a StatefulSet's `volumeClaimTemplates` get
//!    `apiVersion: v1` / `kind: PersistentVolumeClaim`; the legacy init-container annotations are
//!    dropped from pod templates.
//! 3. **Serialisation shape** (`encoding/json` over the `k8s.io/api` v0.36.3 types): quantities in
//!    canonical text ([`super::quantity`]); struct fields Go always writes (`resources: {}`
//!    on a container, `metadata: {}` on a pod template, `divisor: "0"` on a `resourceFieldRef`);
//!    and what it never writes (a `null`, an empty `labels`/`args`/... behind `omitempty`).
//!
//! Not reproduced, because they are not defaulting and no mutating webhook sees them (they happen
//! in the registry after admission, or depend on the cluster or the object's UID):
//! - Service `clusterIP`/`clusterIPs`, `ipFamilies`, `ipFamilyPolicy` (SingleStack, or
//!   RequireDualStack for headless selector-less Services, with families from the cluster's service
//!   CIDRs), `nodePort`s and `healthCheckNodePort` (`pkg/registry/core/service/storage/alloc.go`).
//!   Karmada prunes `clusterIP(s)` and retains `clusterIP` (`karmada::prune`, `karmada::retain`)
//!   but leaves `ipFamilies`/`ipFamilyPolicy` as the template has them.
//! - Job `spec.selector` and the `controller-uid`/`job-name` labels on its pod template
//!   (`pkg/registry/batch/job/strategy.go` `PrepareForCreate`); Karmada prunes and retains them.
//!   A Job created without labels of its own shows them in `metadata.labels` too: `SetDefaults_Job`
//!   hands the Job the template's label map itself, which the registry then extends (seen on a
//!   running v1.35.3 API server). Karmada prunes them from the selector and template only.
//! - DaemonSet annotation `deprecated.daemonset.template.generation` (from the registry's
//!   `TemplateGeneration`), `metadata.generation`, and all of `status`.
//! - Admission plugins' changes to bare Pods (ServiceAccount token volume, default tolerations,
//!   priority, LimitRanger) and PodLevelResources' pod-level request defaulting
//!   (`defaultPodRequests`, `defaultHugePagePodLimits`, beta and on by default in v1.36; only for
//!   a bare Pod whose `spec.resources` is set).
//!
//! Outside the contract: a manifest the API server would reject. Unknown fields (refused under
//! kubectl's default strict field validation) are kept here where Go's typed decode would drop
//! them; an empty string in an `omitempty` field that validation requires (`image: ""`) is kept
//! where Go would not write it.
//!
//! Checked against kube-apiserver's own decode → default → convert path of v1.36.3: the fixtures
//! in `tests/fixtures/defaults/` come from it, and so did a one-off comparison of 5,000 generated
//! manifests of all eight kinds (identical apart from `status` and the DaemonSet annotation
//! above).
//!
//! Version- and gate-dependent behaviour, as v1.36 has it by default: `JobPodReplacementPolicy` is
//! GA (Job `podReplacementPolicy` is set); `MaxUnavailableStatefulSet` is beta and off (no
//! `maxUnavailable` on a StatefulSet's rolling update), while in v1.35 it was beta and **on**: a
//! StatefulSet admitted by a v1.35 API server carries `rollingUpdate.maxUnavailable: 1`, one
//! admitted by v1.36 does not; `ImageVolume` is GA (an `image` volume's
//! `pullPolicy` is set). Job `manualSelector: false` is new in the defaulting of recent releases;
//! the `omitzero` on `creationTimestamp` (no `creationTimestamp: null` in templates) arrived with
//! apimachinery v0.33. Objects stored by an older API server and never rewritten can differ.

mod core;
mod image;
mod pod;
mod shape;
mod workloads;

use serde_json::{Map, Value};

/// A JSON object.
type Obj = Map<String, Value>;

/// Applies to `obj` what kube-apiserver v1.36 sets on create, for `apps/v1` Deployment,
/// StatefulSet, DaemonSet and ReplicaSet, `batch/v1` Job and CronJob, and `v1` Pod and Service;
/// any other kind is left unchanged. Idempotent, and a no-op on an object as the API server
/// returns it. Server-allocated fields (cluster IPs, node ports, a Job's generated selector) are
/// not invented: see the module documentation.
pub fn apply_defaults(api_version: &str, kind: &str, obj: &mut Value) {
    let Some(root) = obj.as_object_mut() else {
        return;
    };
    match (api_version, kind) {
        ("apps/v1", "Deployment") => workloads::deployment(root),
        ("apps/v1", "StatefulSet") => workloads::stateful_set(root),
        ("apps/v1", "DaemonSet") => workloads::daemon_set(root),
        ("apps/v1", "ReplicaSet") => workloads::replica_set(root),
        ("batch/v1", "Job") => workloads::job(root),
        ("batch/v1", "CronJob") => workloads::cron_job(root),
        ("v1", "Pod") => core::pod(root),
        ("v1", "Service") => core::service(root),
        _ => return,
    }
    shape::drop_empty(root);
}

/// Whether a field is unset the way Go sees a nil pointer, map or slice: absent or `null`.
fn is_nil(m: &Obj, key: &str) -> bool {
    m.get(key).is_none_or(Value::is_null)
}

/// Whether a string field holds Go's zero value: absent, `null` or `""`.
fn is_empty_str(m: &Obj, key: &str) -> bool {
    match m.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(_) => false,
    }
}

/// Whether a number field holds Go's zero value: absent, `null` or `0`.
fn is_zero(m: &Obj, key: &str) -> bool {
    match m.get(key) {
        None | Some(Value::Null) => true,
        Some(Value::Number(n)) => n.as_f64() == Some(0.0),
        Some(_) => false,
    }
}

/// Sets a pointer (or map/slice) field when it is nil.
fn default_nil(m: &mut Obj, key: &str, value: Value) {
    if is_nil(m, key) {
        m.insert(key.to_owned(), value);
    }
}

/// Sets a string field when it is `""`.
fn default_str(m: &mut Obj, key: &str, value: &str) {
    if is_empty_str(m, key) {
        m.insert(key.to_owned(), Value::from(value));
    }
}

/// Sets a non-pointer number field when it is `0`.
fn default_zero(m: &mut Obj, key: &str, value: i64) {
    if is_zero(m, key) {
        m.insert(key.to_owned(), Value::from(value));
    }
}

/// The object under `key`, if there is one.
fn child<'a>(m: &'a mut Obj, key: &str) -> Option<&'a mut Obj> {
    m.get_mut(key).and_then(Value::as_object_mut)
}

/// The object under `key`, created empty when the field is nil (Go's `&T{}` or a non-pointer
/// struct); `None` when the field holds something other than an object (the API server would
/// have rejected it; it is left alone).
fn child_or_new<'a>(m: &'a mut Obj, key: &str) -> Option<&'a mut Obj> {
    if is_nil(m, key) {
        m.insert(key.to_owned(), Value::Object(Obj::new()));
    }
    m.get_mut(key).and_then(Value::as_object_mut)
}

/// The objects in the array under `key`.
fn items<'a>(m: &'a mut Obj, key: &str) -> impl Iterator<Item = &'a mut Obj> {
    m.get_mut(key)
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
        .filter_map(Value::as_object_mut)
}

/// The string under `key`, `""` when absent.
fn str_of<'a>(m: &'a Obj, key: &str) -> &'a str {
    m.get(key).and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests;
