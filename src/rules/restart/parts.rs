//! Flattening a workload into the [`Part`]s a takeover could change, per kind.
//!
//! Both sides of the comparison go through the same walk: the template as the API server admitted
//! it and each member copy as its member API server returns it. [`parts_of`] builds the parts
//! (every member copy; a template only when a copy's digest differs from it), [`digest_of`] only
//! their digest, which does not depend on the order the parts are found in. What Karmada keeps from the
//! member copy on update ([`karmada::retain::retained_fields`]: Service `clusterIP` and
//! `healthCheckNodePort`, Job `selector.matchLabels` and `template.metadata.labels`) is left out
//! on both sides, so it never counts as a difference; Deployment replicas are kept apart
//! ([`super::RunningCopy::replicas`]) because whether Karmada retains them depends on the
//! template's labels.
//!
//! Granularity: one part per field of `spec` outside the pod template; inside it, one part per
//! label and annotation, per container field (the image and each environment variable apart),
//! and per pod spec field. Keyed lists (containers, env, Service ports) also get an `(order)`
//! part, since the pod-template hash changes with their order.

use std::{borrow::Cow, sync::Arc};

use serde_json::Value;

use super::{
    Effect, Part, PartValue,
    digest::{FieldsDigest, digest},
};
use crate::{
    karmada,
    rules::json::{Items, Json, Kind},
};

/// Shares equal strings between copies (paths and shown values repeat across a fleet): the
/// fleet index interns, one-off callers need not.
pub trait Intern {
    /// The shared copy of `s`.
    fn intern(&mut self, s: &str) -> Arc<str>;
}

/// No sharing: every string is its own allocation.
#[derive(Debug, Default)]
pub struct NoIntern;

impl Intern for NoIntern {
    fn intern(&mut self, s: &str) -> Arc<str> {
        Arc::from(s)
    }
}

/// Values up to this length (compact JSON) are shown in messages; longer ones only by digest.
const SHOWN_MAX: usize = 96;

/// The kinds the guard knows, and what their `spec` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// A workload with a pod template at `spec.template` (Deployment, StatefulSet, DaemonSet,
    /// ReplicaSet, Job).
    Workload(WorkloadKind),
    /// A CronJob: the pod template is at `spec.jobTemplate.spec.template`.
    CronJob,
    /// A Service.
    Service,
    /// A ConfigMap.
    ConfigMap,
    /// A Secret.
    Secret,
}

/// Which workload: decides the immutable fields and whether replicas exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Job,
}

impl Shape {
    /// The shape of `(apiVersion, kind)`, by exact API version as Karmada's interpreter matches.
    pub(super) fn of(api_version: &str, kind: &str) -> Option<Shape> {
        Some(match (api_version, kind) {
            ("apps/v1", "Deployment") => Shape::Workload(WorkloadKind::Deployment),
            ("apps/v1", "StatefulSet") => Shape::Workload(WorkloadKind::StatefulSet),
            ("apps/v1", "DaemonSet") => Shape::Workload(WorkloadKind::DaemonSet),
            ("apps/v1", "ReplicaSet") => Shape::Workload(WorkloadKind::ReplicaSet),
            ("batch/v1", "Job") => Shape::Workload(WorkloadKind::Job),
            ("batch/v1", "CronJob") => Shape::CronJob,
            ("v1", "Service") => Shape::Service,
            ("v1", "ConfigMap") => Shape::ConfigMap,
            ("v1", "Secret") => Shape::Secret,
            _ => return None,
        })
    }

    /// Whether `spec.replicas` is a field of this kind.
    pub(super) fn has_replicas(self) -> bool {
        matches!(
            self,
            Shape::Workload(WorkloadKind::Deployment | WorkloadKind::StatefulSet | WorkloadKind::ReplicaSet)
        )
    }
}

/// Receives each part as the walk finds it, with the digest of its value.
pub(super) trait Emit {
    /// One part: its path, what a change there does, its value, whether messages may show it,
    /// and [`digest`] of the value.
    fn part(&mut self, path: &str, effect: Effect, value: Json<'_>, hidden: bool, value_digest: u64);
}

/// Builds the [`Part`]s, their paths and shown values interned.
struct Collect<'i, I: Intern> {
    parts: Vec<Part>,
    intern: &'i mut I,
}

impl<I: Intern> Emit for Collect<'_, I> {
    fn part(&mut self, path: &str, effect: Effect, value: Json<'_>, hidden: bool, value_digest: u64) {
        let value = match shown(value) {
            Some(text) if !hidden && matches!(value.kind(), Kind::Array | Kind::Object) => {
                PartValue::Json(self.intern.intern(&text))
            }
            Some(text) if !hidden => PartValue::Shown(self.intern.intern(&text)),
            _ => PartValue::Hidden(value_digest),
        };
        let path = self.intern.intern(path);
        self.parts.push(Part { path, effect, value });
    }
}

/// Keeps nothing: the walk's digest is all that is wanted ([`digest_of`]).
struct DigestOnly;

impl Emit for DigestOnly {
    fn part(&mut self, _: &str, _: Effect, _: Json<'_>, _: bool, _: u64) {}
}

/// Walks an object's comparable fields, leaving out what Karmada retains.
struct Walk<'e, E: Emit> {
    emit: &'e mut E,
    digest: FieldsDigest,
    /// Where each part's path is written (one buffer for all parts).
    path: String,
    /// [`karmada::retain::retained_fields`] of the kind.
    retained: &'static [&'static str],
}

impl<E: Emit> Walk<'_, E> {
    /// One part at the path made of `pieces`, written into the walk's one path buffer (plain
    /// appends: `format_args!` cost more than the part's digest on a pod template's many small
    /// fields).
    fn push(&mut self, pieces: &[&str], effect: Effect, value: Json<'_>, hidden: bool) {
        let mut buffer = std::mem::take(&mut self.path);
        buffer.clear();
        for piece in pieces {
            buffer.push_str(piece);
        }
        self.push_at(&buffer, effect, value, hidden);
        self.path = buffer;
    }

    fn push_at(&mut self, path: &str, effect: Effect, value: Json<'_>, hidden: bool) {
        let under = |r: &str| {
            path == r
                || path
                    .strip_prefix(r)
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
        };
        if self.retained.iter().any(|r| under(r)) {
            return;
        }
        // A retained field below this one: compare the others field by field.
        if value.kind() == Kind::Object
            && self
                .retained
                .iter()
                .any(|r| r.strip_prefix(path).is_some_and(|rest| rest.starts_with('.')))
        {
            for (k, v) in value.fields() {
                self.push(&[path, ".", k], effect, v, hidden);
            }
            return;
        }
        let value_digest = digest(value);
        self.digest.add(path, value_digest);
        self.emit.part(path, effect, value, hidden, value_digest);
    }

    fn push_order(&mut self, path: &str, effect: Effect, keys: &[Cow<'_, str>]) {
        if keys.len() > 1 {
            let keys = Value::from(keys.iter().map(|k| Value::from(k.as_ref())).collect::<Vec<_>>());
            self.push(&[path, " (order)"], effect, Json::Serde(&keys), false);
        }
    }
}

/// A value as messages show it: a string as is, anything else as compact JSON; `None` past
/// [`SHOWN_MAX`]. Writing stops at the limit: most pod spec fields (volumes, probes, resources)
/// are far longer and only their digest is kept.
fn shown(v: Json<'_>) -> Option<String> {
    if let Some(s) = v.as_str() {
        return (s.len() <= SHOWN_MAX).then(|| s.to_owned());
    }
    // serde_json writes a map's keys in order; sonic-rs's tree (an admitted template, shown only
    // on a denial) is copied first, so that a value reads the same from both trees.
    let copy;
    let value = match v {
        Json::Serde(value) => value,
        Json::Sonic(_) => {
            copy = v.to_value();
            &copy
        }
    };
    let mut text = Bounded(Vec::with_capacity(32));
    serde_json::to_writer(&mut text, value).ok()?;
    String::from_utf8(text.0).ok()
}

/// A writer that refuses to grow past [`SHOWN_MAX`] bytes.
struct Bounded(Vec<u8>);

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > SHOWN_MAX {
            return Err(std::io::ErrorKind::FileTooLarge.into());
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The parts of `object` (a whole object as the API server returns it, or its body without
/// `metadata`), sorted by path, `spec.replicas`, and the digest of the parts (as [`digest_of`]
/// computes it). `None` for kinds the guard does not know.
pub fn parts_of<'a>(
    api_version: &str,
    kind: &str,
    object: impl Into<Json<'a>>,
    intern: &mut impl Intern,
) -> Option<(Vec<Part>, Option<i64>, u64)> {
    let mut collect = Collect {
        parts: Vec::new(),
        intern,
    };
    let (replicas, digest) = walk(api_version, kind, object.into(), &mut collect)?;
    let mut parts = collect.parts;
    parts.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    Some((parts, replicas, digest))
}

/// `spec.replicas` and the digest of the parts of `object`, without building them: what a
/// template needs to be compared with member copies whose digests are known. Equal to the
/// digest [`parts_of`] returns for the same object.
pub fn digest_of<'a>(
    api_version: &str,
    kind: &str,
    object: impl Into<Json<'a>>,
) -> Option<(Option<i64>, u64)> {
    walk(api_version, kind, object.into(), &mut DigestOnly)
}

/// Walks the parts of `object` into `emit`; returns `spec.replicas` and the parts' digest.
fn walk<E: Emit>(
    api_version: &str,
    kind: &str,
    object: Json<'_>,
    emit: &mut E,
) -> Option<(Option<i64>, u64)> {
    let shape = Shape::of(api_version, kind)?;
    let mut sink = Walk {
        emit,
        digest: FieldsDigest::default(),
        path: String::new(),
        retained: karmada::retain::retained_fields(api_version, kind),
    };
    let mut replicas = None;
    match shape {
        Shape::Workload(w) => {
            for (field, value) in fields_at(object, "spec") {
                match field {
                    "replicas" if shape.has_replicas() => replicas = value.as_i64(),
                    "template" => {
                        let effect = if w == WorkloadKind::Job {
                            Effect::Immutable
                        } else {
                            Effect::Rollout
                        };
                        pod_template(&mut sink, "spec.template", value, effect);
                    }
                    _ => sink.push(&["spec.", field], workload_effect(w, field), value, false),
                }
            }
        }
        Shape::CronJob => {
            for (field, value) in fields_at(object, "spec") {
                if field == "jobTemplate" {
                    job_template(&mut sink, value);
                } else {
                    sink.push(&["spec.", field], Effect::Overwritten, value, false);
                }
            }
        }
        Shape::Service => service(&mut sink, object),
        Shape::ConfigMap => {
            data(&mut sink, object, "data", Effect::Config);
            data(&mut sink, object, "binaryData", Effect::Config);
            if let Some(v) = object.get("immutable") {
                sink.push(&["immutable"], Effect::Immutable, v, false);
            }
        }
        Shape::Secret => {
            secret_data(&mut sink, object);
            data(&mut sink, object, "binaryData", Effect::Config);
            if let Some(v) = object.get("type") {
                sink.push(&["type"], Effect::Immutable, v, false);
            }
            if let Some(v) = object.get("immutable") {
                sink.push(&["immutable"], Effect::Immutable, v, false);
            }
        }
    }
    Some((replicas, sink.digest.finish()))
}

/// Fields outside the pod template whose change the API server refuses for an existing object
/// (`ValidateDeploymentUpdate`, `ValidateStatefulSetUpdate`, `ValidateDaemonSetUpdate`,
/// `ValidateReplicaSetUpdate`, `ValidateJobUpdate` in `k8s.io/kubernetes/pkg/apis/*/validation`).
fn workload_effect(w: WorkloadKind, field: &str) -> Effect {
    let immutable = match w {
        WorkloadKind::Deployment | WorkloadKind::DaemonSet | WorkloadKind::ReplicaSet => field == "selector",
        // Only these may change: replicas, ordinals, template, updateStrategy,
        // revisionHistoryLimit, persistentVolumeClaimRetentionPolicy, minReadySeconds.
        WorkloadKind::StatefulSet => !matches!(
            field,
            "ordinals"
                | "updateStrategy"
                | "revisionHistoryLimit"
                | "persistentVolumeClaimRetentionPolicy"
                | "minReadySeconds"
        ),
        WorkloadKind::Job => matches!(
            field,
            "completionMode" | "podFailurePolicy" | "podReplacementPolicy"
        ),
    };
    if immutable {
        Effect::Immutable
    } else {
        Effect::Overwritten
    }
}

/// A CronJob's `spec.jobTemplate`: its pod template counts like a workload's (the next Jobs run
/// it), the rest of the Job spec is overwritten.
fn job_template<E: Emit>(sink: &mut Walk<'_, E>, jt: Json<'_>) {
    for (field, value) in jt.fields() {
        if field != "spec" {
            sink.push(&["spec.jobTemplate.", field], Effect::Overwritten, value, false);
            continue;
        }
        for (f, v) in value.fields() {
            if f == "template" {
                pod_template(sink, "spec.jobTemplate.spec.template", v, Effect::Rollout);
            } else {
                sink.push(&["spec.jobTemplate.spec.", f], Effect::Overwritten, v, false);
            }
        }
    }
}

/// A pod template at `base`: labels and annotations one by one, containers field by field,
/// other pod spec fields one by one.
fn pod_template<E: Emit>(sink: &mut Walk<'_, E>, base: &str, template: Json<'_>, effect: Effect) {
    for (field, value) in fields_at(template, "metadata") {
        match field {
            // Always null in a pod template; kubectl prints it, the API server ignores it.
            "creationTimestamp" => {}
            "labels" | "annotations" => {
                for (k, v) in value.fields() {
                    sink.push(&[base, ".metadata.", field, "[", k, "]"], effect, v, false);
                }
            }
            _ => sink.push(&[base, ".metadata.", field], effect, value, false),
        }
    }
    for (field, value) in fields_at(template, "spec") {
        match field {
            "containers" | "initContainers" | "ephemeralContainers" => {
                containers(sink, &concat(&[base, ".spec.", field]), value, effect);
            }
            _ => sink.push(&[base, ".spec.", field], effect, value, false),
        }
    }
}

/// The fields of the object at `key` of `v`; none when it is missing or not an object.
fn fields_at<'a>(v: Json<'a>, key: &str) -> impl Iterator<Item = (&'a str, Json<'a>)> {
    v.get(key).into_iter().flat_map(Json::fields)
}

/// The pieces joined into one string: `format!` costs several times more on the guard's hot path
/// (one path per container and per environment variable).
fn concat(pieces: &[&str]) -> String {
    let mut out = String::with_capacity(pieces.iter().map(|p| p.len()).sum());
    for piece in pieces {
        out.push_str(piece);
    }
    out
}

/// The name of a keyed list item (`name`), or its position.
fn item_key(item: Json<'_>, index: usize) -> Cow<'_, str> {
    key_or_index(item.get("name").and_then(Json::as_str), index)
}

/// An item's key: its name when it has one, else its position.
fn key_or_index(name: Option<&str>, index: usize) -> Cow<'_, str> {
    name.map_or_else(|| Cow::Owned(index.to_string()), Cow::Borrowed)
}

/// The keys of a keyed list's items ([`item_key`]).
fn item_keys(items: Items<'_>) -> Vec<Cow<'_, str>> {
    items.enumerate().map(|(i, item)| item_key(item, i)).collect()
}

fn containers<E: Emit>(sink: &mut Walk<'_, E>, base: &str, list: Json<'_>, effect: Effect) {
    let Some(items) = list.items() else {
        sink.push(&[base], effect, list, false);
        return;
    };
    let keys = item_keys(items.clone());
    sink.push_order(base, effect, &keys);
    for (c, key) in items.zip(&keys) {
        let path = concat(&[base, "[", key, "]"]);
        for (field, value) in c.fields() {
            match field {
                "name" => {}
                "env" => env(sink, &concat(&[&path, ".env"]), value, effect),
                _ => sink.push(&[&path, ".", field], effect, value, false),
            }
        }
    }
}

/// An unset environment value: the empty string to the kubelet.
static EMPTY_STRING: Value = Value::String(String::new());

/// Environment variables one by one: a plain `value` is shown (an unset value is the empty
/// string to the kubelet), a `valueFrom` reference is shown as the reference (it names a Secret
/// key, never holds its data).
fn env<E: Emit>(sink: &mut Walk<'_, E>, base: &str, list: Json<'_>, effect: Effect) {
    let Some(items) = list.items() else {
        sink.push(&[base], effect, list, false);
        return;
    };
    // One pass over each variable's fields: looking `name`, `value` and `valueFrom` up one by one
    // cost three times as much in sonic-rs's tree (a list of fields).
    let vars: Vec<(Cow<'_, str>, Option<Json<'_>>, Option<Json<'_>>)> = items
        .enumerate()
        .map(|(i, e)| {
            let (mut name, mut value, mut from) = (None, None, None);
            for (field, v) in e.fields() {
                match field {
                    "name" => name = v.as_str(),
                    "value" => value = Some(v),
                    "valueFrom" => from = Some(v),
                    _ => {}
                }
            }
            (key_or_index(name, i), value, from)
        })
        .collect();
    let keys: Vec<Cow<'_, str>> = vars.iter().map(|(key, ..)| key.clone()).collect();
    sink.push_order(base, effect, &keys);
    for (key, value, from) in &vars {
        match (value, from) {
            (_, Some(from)) => sink.push(&[base, "[", key, "].valueFrom"], effect, *from, false),
            (Some(v), None) => sink.push(&[base, "[", key, "]"], effect, *v, false),
            (None, None) => sink.push(&[base, "[", key, "]"], effect, Json::Serde(&EMPTY_STRING), false),
        }
    }
}

/// A Service's spec. Left out besides what Karmada retains (`clusterIP`, `healthCheckNodePort`):
/// what karmada-apiserver's Service registry allocates after admission from its own settings
/// (`clusterIPs`, which Karmada also prunes from the manifest; `ipFamilies`, `ipFamilyPolicy`),
/// which the template does not carry yet when the mutating webhook sees it. Node ports are
/// compared: Karmada does not retain them.
fn service<E: Emit>(sink: &mut Walk<'_, E>, object: Json<'_>) {
    for (field, value) in fields_at(object, "spec") {
        match field {
            "clusterIPs" | "ipFamilies" | "ipFamilyPolicy" => {}
            "ports" => service_ports(sink, value),
            "type" => sink.push(&["spec.type"], Effect::NodePorts, value, false),
            "selector" => {
                for (k, v) in value.fields() {
                    sink.push(&["spec.selector[", k, "]"], Effect::Service, v, false);
                }
            }
            _ => sink.push(&["spec.", field], Effect::Service, value, false),
        }
    }
}

/// Service ports by name (by `port/protocol` when unnamed, as a single unnamed port is).
fn service_ports<E: Emit>(sink: &mut Walk<'_, E>, list: Json<'_>) {
    let Some(items) = list.items() else {
        sink.push(&["spec.ports"], Effect::Service, list, false);
        return;
    };
    for (i, p) in items.enumerate() {
        let key = match p.get("name").and_then(Json::as_str).filter(|n| !n.is_empty()) {
            Some(name) => name.to_owned(),
            None => match p.get("port") {
                Some(port) => format!(
                    "{}/{}",
                    port.to_value(),
                    p.get("protocol").and_then(Json::as_str).unwrap_or("TCP")
                ),
                None => i.to_string(),
            },
        };
        for (field, value) in p.fields() {
            let effect = if field == "nodePort" {
                Effect::NodePorts
            } else {
                Effect::Service
            };
            if field != "name" {
                sink.push(&["spec.ports[", &key, "].", field], effect, value, false);
            }
        }
    }
}

/// ConfigMap `data`/`binaryData` key by key, by digest only: config may hold anything.
fn data<E: Emit>(sink: &mut Walk<'_, E>, object: Json<'_>, field: &str, effect: Effect) {
    for (k, v) in fields_at(object, field) {
        sink.push(&[field, "[", k, "]"], effect, v, true);
    }
}

/// Secret `data` key by key, by digest only (never shown). `stringData` (write-only: the API
/// server folds it into `data` as base64) is folded the same way, so a hand-written manifest
/// compares like the stored object.
fn secret_data<E: Emit>(sink: &mut Walk<'_, E>, object: Json<'_>) {
    use base64::Engine as _;
    let mut merged: std::collections::BTreeMap<&str, Result<Json<'_>, Value>> =
        fields_at(object, "data").map(|(k, v)| (k, Ok(v))).collect();
    for (k, v) in fields_at(object, "stringData") {
        if let Some(text) = v.as_str() {
            merged.insert(
                k,
                Err(Value::String(
                    base64::engine::general_purpose::STANDARD.encode(text),
                )),
            );
        }
    }
    for (k, v) in &merged {
        let value = match v {
            Ok(given) => *given,
            Err(encoded) => Json::Serde(encoded),
        };
        sink.push(&["data[", k, "]"], Effect::Config, value, true);
    }
}
