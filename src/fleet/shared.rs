//! The fleet view shared between the admission path (readers) and the adapters (writers).

use std::sync::Arc;

use parking_lot::RwLock;

use super::Fleet;

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

    /// Write access, for adapters applying watch events.
    pub fn write(&self) -> parking_lot::RwLockWriteGuard<'_, Fleet> {
        self.0.write()
    }

    /// Replaces the whole view (file adapter reload).
    pub fn replace(&self, fleet: Fleet) {
        *self.0.write() = fleet;
    }
}
