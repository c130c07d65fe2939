//! Everything the subcommands print goes through [`print()`], which returns write errors instead of
//! panicking as `print!` does. `main` turns them into exit codes:
//!
//! - stdout closed by the reader (`EPIPE`: `karmada-takeover demo | head -1`): exit quietly with
//!   [`BROKEN_PIPE_EXIT`] (141, the status a shell reports for a process killed by `SIGPIPE`, as
//!   `cat` or `yes` would be), so `set -o pipefail` still sees that the output was cut short;
//! - any other write error (`ENOSPC` from `> /dev/full`, `EIO`): `error: cannot write to
//!   standard output: …` on stderr and exit code 2, the code of every input/output error.

use std::io::{self, Write};

/// Exit code when stdout was closed before everything was written: 128 + `SIGPIPE` (13).
pub const BROKEN_PIPE_EXIT: u8 = 141;

/// Standard output could not be written.
#[derive(Debug, thiserror::Error)]
#[error("cannot write to standard output: {0}")]
pub struct OutputError(io::Error);

impl OutputError {
    /// The reader went away (`EPIPE`): nothing to report, nobody to report it to.
    pub fn is_broken_pipe(&self) -> bool {
        self.0.kind() == io::ErrorKind::BrokenPipe
    }
}

/// Writes `text` to stdout and flushes it.
pub fn print(text: impl AsRef<str>) -> Result<(), OutputError> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(text.as_ref().as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(OutputError)
}

/// Whether `error` (or one of its causes) is stdout closed by the reader.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|e| {
        e.downcast_ref::<OutputError>()
            .is_some_and(OutputError::is_broken_pipe)
    })
}
