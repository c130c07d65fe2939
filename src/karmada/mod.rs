//! The domain, at the bottom of every layer: Karmada API types the engine reads and writes,
//! Karmada's and our well-known keys, and the rules that read them (what marks a managed member
//! object, an opted-out template, one of our policies; reserved namespaces; API coordinates), and
//! what Karmada does to a manifest on its way into a member ([`prune`], [`retain`]), each written
//! once. Nothing here performs I/O or imports another module of this crate.
//!
//! Types follow Karmada v1.19 (`f8fdd02df`): `policy.karmada.io/v1alpha1` PropagationPolicy and
//! ClusterPropagationPolicy, `work.karmada.io/v1alpha2` ResourceBinding, `cluster.karmada.io/v1alpha1`
//! Cluster.

pub mod api;
pub mod binding;
pub mod cluster;
pub mod keys;
pub mod labels;
pub mod markers;
pub mod names;
pub mod namespaces;
pub mod policy;
pub mod prune;
pub mod retain;

pub use binding::ResourceBinding;
pub use cluster::Cluster;
pub use labels::{Labels, LabelsRef, StoredLabels};
pub use policy::{Policy, PolicyKind, PropagationSpec, ResourceSelector};
