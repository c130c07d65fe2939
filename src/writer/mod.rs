//! Carries out the [`Action`]s the engine decides (takeover policies to apply, policies to
//! release) outside the admission path. Admission only *submits*; it never waits for a write.
//!
//! `serve --fleet` uses [`MemoryStore`] (the policies, kept as server-side apply would keep them)
//! and the demo [`MemoryWriter`] (a transcript of every action), so the whole flow is observable
//! without Karmada. `serve --kubeconfig` uses [`kube::KubeWriter`] (server-side
//! apply into karmada-apiserver) behind the same trait.

pub mod kube;
pub mod memory;

pub use memory::{MemoryStore, MemoryWriter};

use crate::rules::Action;

/// Somewhere to send the engine's actions. Implementations must not block.
pub trait Writer: Send + Sync + 'static {
    /// Queues actions decided for one admitted (non-dryRun) request.
    fn submit(&self, actions: &[Action]);
}
