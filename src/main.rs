//! `karmada-takeover`: wiring only. See the library crate for everything else.

// `print!`/`eprint!` panic when the stream cannot be written: see `cli::output`.
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::{io::Write as _, process::ExitCode};

use clap::Parser;
use karmada_takeover::cli::Cli;

/// mimalloc instead of glibc malloc: the webhook allocates and frees many small JSON nodes per
/// review, and glibc's malloc/free took about a fifth of the server's CPU under load
/// (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.run() {
        Ok(code) => code,
        Err(error) => {
            let (code, message) = karmada_takeover::cli::failure(&error);
            if let Some(message) = message {
                // Not `eprintln!`: it panics when stderr cannot be written either.
                let _ = writeln!(std::io::stderr(), "{message}");
            }
            code
        }
    }
}
