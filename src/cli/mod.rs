//! The command line: `serve`, `demo`, `explain`, `check`.

use clap::{Parser, Subcommand, ValueEnum};

pub mod check;
pub mod demo;
pub mod explain;
pub mod output;
pub mod serve;
pub mod serve_karmada;

/// Global options and the subcommand.
#[derive(Debug, Parser)]
#[command(
    name = "karmada-takeover",
    version,
    about = "Takeover-on-apply admission webhook and policy engine for Karmada"
)]
pub struct Cli {
    /// Log format: `plain` for humans, `json` for log pipelines.
    #[arg(
        long,
        env = "KARMADA_TAKEOVER_LOG_FORMAT",
        default_value = "plain",
        global = true
    )]
    pub log_format: String,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the admission webhooks over TLS.
    Serve(Box<serve::ServeArgs>),
    /// Run the main job end to end on this machine: a local webhook over TLS, real reviews, a transcript.
    Demo(demo::DemoArgs),
    /// Explain which policy Karmada lets claim a resource template, and why.
    Explain(explain::ExplainArgs),
    /// Show what admission would do to manifests, offline (exit code 1 on any denial).
    Check(check::CheckArgs),
}

/// `on` / `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    /// Enabled.
    On,
    /// Disabled.
    Off,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people.
    Text,
    /// For programs.
    Json,
}

impl Cli {
    /// Runs the selected subcommand; returns the process exit code.
    pub fn run(self) -> anyhow::Result<std::process::ExitCode> {
        match self.command {
            Command::Serve(args) => {
                crate::telemetry::init(self.log_format.parse()?)?;
                serve::run(*args)
            }
            Command::Demo(args) => demo::run(args),
            Command::Explain(args) => explain::run(args),
            Command::Check(args) => check::run(args),
        }
    }
}

/// How `main` ends a failed command: the exit code, and the message for stderr (none when the
/// reader of stdout went away: see [`output`]).
pub fn failure(error: &anyhow::Error) -> (std::process::ExitCode, Option<String>) {
    if output::is_broken_pipe(error) {
        return (std::process::ExitCode::from(output::BROKEN_PIPE_EXIT), None);
    }
    (std::process::ExitCode::from(2), Some(format!("error: {error:#}")))
}
