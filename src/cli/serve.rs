//! `karmada-takeover serve`.

/// Options of `serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {}

/// Runs the webhook until SIGTERM/SIGINT.
pub fn run(args: ServeArgs) -> anyhow::Result<std::process::ExitCode> {
    let _ = args;
    anyhow::bail!("serve is not implemented yet")
}
