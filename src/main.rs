//! `karmada-takeover`: wiring only. See the library crate for everything else.

use std::process::ExitCode;

use clap::Parser;
use karmada_takeover::cli::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.run() {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
