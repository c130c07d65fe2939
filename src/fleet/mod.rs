//! The fleet view: the read-only state the engine queries, and the adapters that fill it.
//!
//! One [`Fleet`] holds what decisions need and nothing more:
//! - policies (PP and CPP), indexed by the selectors they carry: `(apiVersion, kind, namespace, name)`
//!   buckets, so finding the candidates for a template costs a few hash lookups whatever the
//!   number of policies;
//! - resource templates in Karmada (metadata only: labels and annotations carry claims and markers),
//!   and which templates each policy claims;
//! - clusters (name, labels, readiness), namespaces (labels, for the opt-out label);
//! - the member index: `(group, kind, namespace, name)` → the member clusters that hold the object,
//!   and whether Karmada manages it there.
//!
//! Adapters ([`files`], and the Karmada [`watch`]es) call the `upsert_*` / `remove_*` methods; the
//! engine only reads, through the [`FleetView`](crate::rules::view::FleetView) trait it defines.
//! Keys are plain strings joined by NUL, which cannot occur in Kubernetes names.
//!
//! | file | holds |
//! |---|---|
//! | `index.rs` | the [`Fleet`] and its object counts, clusters and namespaces |
//! | `policies.rs` | policies and their selector buckets |
//! | `templates.rs` | template metadata, its scope/label indexes, claims |
//! | `members.rs` | the member index |
//! | `running.rs` | what member copies run, kept compactly (restart guard) |
//! | `keys.rs` | the key scheme |
//! | `view.rs` | the engine's `FleetView` over a [`Fleet`] |
//! | `shared.rs` | [`SharedFleet`], the lock readers and writers share |

pub mod files;
mod index;
mod keys;
mod members;
mod policies;
mod running;
mod shared;
mod templates;
mod view;
pub mod watch;

pub use index::{Counts, Fleet};
pub use members::MemberCopy;
pub use running::RunningStore;
pub use shared::SharedFleet;

/// Whether the fleet keeps the content of a template of this kind in Karmada, not only its
/// metadata: ConfigMaps and Secrets, whose data a takeover's `propagateDeps` writes over the
/// members' copies (issue "Restart-safe takeover", dependencies). Their data is kept as digests,
/// like the members' copies.
pub fn karmada_keeps_content(api_version: &str, kind: &str) -> bool {
    api_version == "v1" && matches!(kind, "ConfigMap" | "Secret")
}

#[cfg(test)]
mod tests;
