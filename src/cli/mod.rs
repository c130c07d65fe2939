//! The command line: `serve`, `demo`, `explain`, `check`, `placement`, `deps`, `adopt`.

use clap::{Parser, Subcommand, ValueEnum};

pub mod adopt;
pub mod check;
pub mod demo;
pub mod deps;
pub mod explain;
pub mod output;
pub mod placement;
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
    /// Show where Karmada's scheduler would place a template under a policy, and why not elsewhere.
    Placement(placement::PlacementArgs),
    /// List the dependencies Karmada's default resource interpreter finds (what propagateDeps carries).
    Deps(deps::DepsArgs),
    /// Adopt workloads running in member clusters into Karmada, with nothing restarted (`adopt list`: the candidates).
    Adopt(Box<adopt::AdoptArgs>),
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
            Command::Placement(args) => placement::run(args),
            Command::Deps(args) => deps::run(args),
            Command::Adopt(args) => adopt::run(*args),
        }
    }
}

/// What `main` prints for a failed command: the error and each of its causes, `: `-separated,
/// every message once.
///
/// Errors in this crate (and in the libraries under it: io, rustls, kube) often put their cause in
/// their own message, so that a log line with just the error is complete, *and* return it from
/// `source()`. Printing the whole chain would then repeat it ("Address already in use (os error
/// 98): Address already in use (os error 98)"). A cause whose message is already in the text is
/// skipped; a context whose message the next cause repeats gives way to that cause.
pub fn error_report(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let message = cause.to_string();
        if message.is_empty() || parts.iter().any(|p| p.contains(&message)) {
            continue;
        }
        if parts.last().is_some_and(|last| message.contains(last.as_str())) {
            parts.pop();
        }
        parts.push(message);
    }
    parts.join(": ")
}

/// How `main` ends a failed command: the exit code, and the message for stderr (none when the
/// reader of stdout went away: see [`output`]).
pub fn failure(error: &anyhow::Error) -> (std::process::ExitCode, Option<String>) {
    if output::is_broken_pipe(error) {
        return (std::process::ExitCode::from(output::BROKEN_PIPE_EXIT), None);
    }
    (
        std::process::ExitCode::from(2),
        Some(format!("error: {}", error_report(error))),
    )
}

#[cfg(test)]
mod tests {
    use anyhow::Context as _;

    use super::*;

    /// An error that, like `thiserror`'s `{source}` pattern, says its cause and returns it.
    #[derive(Debug, thiserror::Error)]
    #[error("--listen 127.0.0.1:8443: cannot listen: {source}")]
    struct Bind {
        source: std::io::Error,
    }

    #[test]
    fn every_cause_is_printed_once() {
        let in_use = || std::io::Error::from(std::io::ErrorKind::AddrInUse);
        let bind = anyhow::Error::new(Bind { source: in_use() });
        let shown = error_report(&bind);
        assert_eq!(
            shown,
            format!("--listen 127.0.0.1:8443: cannot listen: {}", in_use())
        );

        let missing = std::io::Error::from(std::io::ErrorKind::NotFound);
        let context = Err::<(), _>(anyhow::anyhow!("--fleet /nope: {missing}"))
            .context("--fleet /nope")
            .unwrap_err();
        assert_eq!(error_report(&context), format!("--fleet /nope: {missing}"));

        // Distinct messages are all kept, outermost first.
        let chained = Err::<(), _>(std::io::Error::other("disk on fire"))
            .context("reading fleet.yaml")
            .context("--fleet dir")
            .unwrap_err();
        assert_eq!(
            error_report(&chained),
            "--fleet dir: reading fleet.yaml: disk on fire"
        );
    }
}
