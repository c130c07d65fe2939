//! The file adapter: a fleet directory (`clusters.yaml`, `karmada/`, `members/<cluster>/`).

use std::path::Path;

use super::Fleet;

/// A fleet directory that could not be loaded; the message names the file (and line).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct LoadError(pub String);

/// Loads a fleet directory.
pub fn load_dir(dir: &Path) -> Result<Fleet, LoadError> {
    let _ = dir;
    Ok(Fleet::synced_empty())
}

/// The sample fleet of `examples/fleet`, embedded in the binary (demo, `serve` without `--fleet`).
pub fn embedded() -> Fleet {
    Fleet::synced_empty()
}
