//! Carries out the [`Action`]s the engine decides (takeover policies to apply, policies to
//! release) outside the admission path. Admission only *submits*; it never waits for a write.
//!
//! `serve --fleet` uses [`MemoryWriter`]: the actions are recorded and logged, so the whole flow
//! is observable without Karmada. `serve --kubeconfig` uses [`kube::KubeWriter`] (server-side
//! apply into karmada-apiserver) behind the same trait.

use parking_lot::Mutex;

pub mod kube;

use crate::rules::Action;

/// Somewhere to send the engine's actions. Implementations must not block.
pub trait Writer: Send + Sync + 'static {
    /// Queues actions decided for one admitted (non-dryRun) request.
    fn submit(&self, actions: &[Action]);
}

/// Records actions in memory and logs each one; the file-backed `serve` and the demo use it.
#[derive(Debug, Default)]
pub struct MemoryWriter {
    recorded: Mutex<Vec<Action>>,
}

impl MemoryWriter {
    /// Everything submitted so far, oldest first.
    pub fn recorded(&self) -> Vec<Action> {
        self.recorded.lock().clone()
    }
}

impl Writer for MemoryWriter {
    fn submit(&self, actions: &[Action]) {
        for action in actions {
            match action {
                Action::EnsurePolicy { policy } => tracing::info!(
                    kind = policy["kind"].as_str().unwrap_or_default(),
                    namespace = policy["metadata"]["namespace"].as_str().unwrap_or_default(),
                    name = policy["metadata"]["name"].as_str().unwrap_or_default(),
                    "takeover policy recorded (file-backed fleet: not written anywhere)"
                ),
                Action::ReleasePolicy {
                    kind,
                    namespace,
                    name,
                } => {
                    tracing::info!(%kind, %namespace, %name, "policy release recorded (file-backed fleet)")
                }
            }
        }
        self.recorded.lock().extend_from_slice(actions);
    }
}
