//! The restart guard: would taking over a running workload roll its pods, rescale it, change its
//! config or fail? (`semantics.md` §4.6.)
//!
//! After a takeover, Karmada's execution controller sends the template's whole `spec` to each
//! member cluster as an Update (`objectwatcher.Update`), keeping only what its interpreter
//! retains (`retain.go`). Pods keep running only when the pod template Karmada writes equals the
//! running one; replica counts stay only when they are equal or retained; an update that touches
//! an immutable field fails and nothing is adopted. So the guard compares, per source cluster,
//! the template as the API server admitted it (defaulted: `check` applies the API server's
//! defaults itself) with the member copy, both reduced by [`parts_of`] to the fields a takeover
//! could change.
//!
//! A member copy is [`Flattened`], then kept in the fleet index in the compact form of
//! [`RunningCopy`] (its paths shared with the copies of the same shape, only its own values
//! stored: `kept.rs`). The template of a review is a [`Template`]: its digest first, its parts
//! only when a copy's digest differs.

pub(super) mod admit;

pub use admit::dependency_disagreements;
mod compare;
mod digest;
mod guard;
mod kept;
mod parts;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use serde::Serialize;

use super::json::Json;

pub use self::{
    compare::{Difference, compare, compare_copies},
    digest::digest,
    guard::{CopyVerdict, Outcome, RestartCheck, check},
    kept::{Layout, RunningCopy},
    parts::{Intern, NoIntern, digest_of, parts_of},
};

/// What changing a field does to what runs. Ordered from the least to the most disruptive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// Overwritten with no restart (a Deployment's `strategy`, `minReadySeconds`...).
    Overwritten,
    /// ConfigMap or Secret data: mounted files change under running pods.
    Config,
    /// A Service field other than its node ports: selector, ports, traffic policy.
    Service,
    /// A Service's node ports or type: the ports clients use change.
    NodePorts,
    /// The pod template: the update rolls every pod.
    Rollout,
    /// A field the API server refuses to change: Karmada's update fails, nothing is adopted.
    Immutable,
}

/// A part's value: shown in messages, or only its digest (Secret and config data, long values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartValue {
    /// A scalar (string, number, boolean) as messages show it. Member copies keep it, so a
    /// message can show both sides (images, environment values, labels, node ports).
    Shown(Arc<str>),
    /// A list or object as compact JSON. Member copies keep only a digest of it: a message
    /// names the path and shows the template's side.
    Json(Arc<str>),
    /// A digest of the value.
    Hidden(u64),
}

impl PartValue {
    /// How a message shows it.
    pub fn display(&self) -> String {
        match self {
            PartValue::Shown(s) | PartValue::Json(s) => format!("{s:?}"),
            PartValue::Hidden(_) => "(not shown)".to_owned(),
        }
    }
}

/// One field a takeover could change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// Where, e.g. `spec.template.spec.containers[web].image`.
    pub path: Arc<str>,
    /// What a change there does.
    pub effect: Effect,
    /// Its value.
    pub value: PartValue,
}

/// The comparable fields of one object, sorted by path, with a digest of them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    /// A digest of every part ([`digest_of`]): equal digests, equal fields.
    pub digest: u64,
    /// The parts, sorted by path.
    pub parts: Box<[Part]>,
}

/// An object reduced to what a takeover could change: a member copy before the index keeps it
/// as a [`RunningCopy`] (the template of a review is a [`Template`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flattened {
    /// `spec.replicas` (Deployment, StatefulSet, ReplicaSet).
    pub replicas: Option<i64>,
    /// Every other comparable field.
    pub fields: Fields,
}

impl Flattened {
    /// The flattened `object`, or `None` for kinds the guard does not compare.
    pub fn of<'a>(api_version: &str, kind: &str, object: impl Into<Json<'a>>) -> Option<Self> {
        let (parts, replicas, digest) = parts_of(api_version, kind, object, &mut NoIntern)?;
        Some(Self {
            replicas,
            fields: Fields {
                digest,
                parts: parts.into_boxed_slice(),
            },
        })
    }
}

/// The template of a takeover, as the guard compares it: its digest and replica count at once,
/// its parts only when a member copy's digest differs. Most takeovers adopt copies that run
/// exactly the template, and building the parts (a path, a shown value or digest per field)
/// was about a quarter of a whole Deployment review's CPU under load (BENCHMARKS.md).
#[derive(Debug)]
pub struct Template<'a> {
    api_version: &'a str,
    kind: &'a str,
    object: Json<'a>,
    /// `spec.replicas` (Deployment, StatefulSet, ReplicaSet).
    pub replicas: Option<i64>,
    /// [`Fields::digest`] of its parts.
    pub digest: u64,
    fields: std::cell::OnceCell<Fields>,
}

impl<'a> Template<'a> {
    /// The template `object`, or `None` for kinds the guard does not compare.
    pub fn of(api_version: &'a str, kind: &'a str, object: impl Into<Json<'a>>) -> Option<Self> {
        let object = object.into();
        let (replicas, digest) = digest_of(api_version, kind, object)?;
        Some(Self {
            api_version,
            kind,
            object,
            replicas,
            digest,
            fields: std::cell::OnceCell::new(),
        })
    }

    /// Its parts, flattened on first use.
    pub fn fields(&self) -> &Fields {
        self.fields.get_or_init(|| {
            // `of` found the kind comparable, so the walk cannot come back empty.
            Flattened::of(self.api_version, self.kind, self.object)
                .map(|f| f.fields)
                .unwrap_or(Fields {
                    digest: self.digest,
                    parts: Box::default(),
                })
        })
    }
}
