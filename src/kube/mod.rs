//! Kubernetes API server behaviour the engine must reproduce, in the domain layer: what
//! kube-apiserver sets by default on the objects it admits ([`defaults`]) and how it writes
//! quantities back ([`quantity`]). Pure functions on JSON values: no I/O, and nothing of this
//! crate above the domain.
//!
//! Why: the restart guard compares the template as Karmada will write it into each member with
//! the copy running there. Both come out of an API server, defaulted and re-serialised; a
//! hand-written manifest (the offline `check`, a fleet directory) must be brought to the same
//! shape first, or every omitted default reads as a difference.
//!
//! Follows Kubernetes v1.36 (`k8s.io/kubernetes` v1.36.3, `k8s.io/apimachinery` v0.36.3).

pub mod defaults;
pub mod quantity;
