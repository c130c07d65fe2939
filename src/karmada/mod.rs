//! Karmada API types the engine reads and writes, Karmada's well-known keys, and its name algorithms.
//!
//! Types follow Karmada v1.19 (`f8fdd02df`): `policy.karmada.io/v1alpha1` PropagationPolicy and
//! ClusterPropagationPolicy, `work.karmada.io/v1alpha2` ResourceBinding, `cluster.karmada.io/v1alpha1`
//! Cluster.

pub mod binding;
pub mod cluster;
pub mod keys;
pub mod names;
pub mod policy;

pub use binding::ResourceBinding;
pub use cluster::Cluster;
pub use policy::{Policy, PolicyKind, PropagationSpec, ResourceSelector};
