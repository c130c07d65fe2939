//! The fleet view: the read-only state the engine queries, and the adapters that fill it.

use std::sync::Arc;

use parking_lot::RwLock;

pub mod files;

/// Everything the engine knows about the Karmada control plane and its member clusters.
#[derive(Debug, Default)]
pub struct Fleet {
    synced: bool,
}

impl Fleet {
    /// Whether the initial state has been loaded (file) or listed (Karmada).
    pub fn is_synced(&self) -> bool {
        self.synced
    }

    /// An empty view that counts as synced (placeholder until the adapters fill it).
    pub fn synced_empty() -> Self {
        Self { synced: true }
    }
}

/// The fleet view shared between the admission path (readers) and the adapters (writers).
#[derive(Debug, Clone, Default)]
pub struct SharedFleet(Arc<RwLock<Fleet>>);

impl SharedFleet {
    /// Wraps a fleet view.
    pub fn new(fleet: Fleet) -> Self {
        Self(Arc::new(RwLock::new(fleet)))
    }

    /// Read access; held only for the duration of one decision.
    pub fn read(&self) -> parking_lot::RwLockReadGuard<'_, Fleet> {
        self.0.read()
    }

    /// Replaces the whole view (file adapter reload).
    pub fn replace(&self, fleet: Fleet) {
        *self.0.write() = fleet;
    }
}
