//! The ceiling row of `scripts/loadbench.sh`: the webhook server of `karmada-takeover serve`
//! (the same `server` code: rustls, hyper, connection timers and limits, memory budget, permits,
//! metrics, one log event per review, actions handed to the writer) answering every review with
//! one fixed AdmissionReview response, without decoding the request or asking the engine.
//! What it serves per second on a core is what the TLS/HTTP stack alone allows; the load script
//! quotes the real server's rate as a fraction of it.
//!
//! An example binary rather than a flag of `serve`, so that no deployment can switch its webhook
//! to a constant answer by accident: this program is built only by `cargo build --example`.
//!
//! ```sh
//! cargo run --profile production --example loadbench_ceiling -- --listen 127.0.0.1:18443 \
//!   --admin-listen 127.0.0.1:18080 --tls-cert tls.crt --tls-key tls.key \
//!   --fleet examples/fleet --answer /mutate/workload=scripts/loadbench/deployment-review.json
//! ```
//!
//! Each fixed answer is the engine's real answer to that review at that path, computed once at
//! start; a path given no `--answer` gets 400.

use std::{net::SocketAddr, path::PathBuf, sync::Arc};

use anyhow::Context as _;
use arc_swap::ArcSwap;
use clap::Parser;
use karmada_takeover::{
    admission::{self, BadReview, Reviewed},
    cli::serve::EVENT_INTERVAL,
    config::Config,
    fleet::{self, SharedFleet},
    metrics::Metrics,
    rules::{Decision, Webhook},
    server::{Limits, Server, Settings, State},
    telemetry::{self, LogFormat},
    tls::{self, TlsFiles},
    writer::MemoryStore,
};

/// Same allocator as the `karmada-takeover` binary.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The flags `scripts/loadbench.sh` passes.
#[derive(Debug, Parser)]
struct Args {
    /// HTTPS webhook listener.
    #[arg(long)]
    listen: SocketAddr,
    /// Plain-HTTP admin listener (`/readyz`).
    #[arg(long)]
    admin_listen: SocketAddr,
    /// Serving certificate (PEM).
    #[arg(long)]
    tls_cert: PathBuf,
    /// Its key (PEM).
    #[arg(long)]
    tls_key: PathBuf,
    /// Fleet directory (the one `serve --fleet` gets).
    #[arg(long)]
    fleet: PathBuf,
    /// `PATH=FILE`: every request to webhook `PATH` gets the answer to the AdmissionReview in
    /// `FILE` (repeatable).
    #[arg(long, required = true)]
    answer: Vec<String>,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    telemetry::init(LogFormat::Plain)?;
    tls::install_crypto_provider();
    let fleet =
        fleet::files::load_dir(&args.fleet).with_context(|| format!("--fleet {}", args.fleet.display()))?;
    let config = Config::default();
    let mut answers: Vec<(Webhook, Reviewed)> = Vec::new();
    for answer in &args.answer {
        let (path, file) = answer
            .split_once('=')
            .with_context(|| format!("--answer {answer}: expected PATH=FILE"))?;
        let webhook =
            Webhook::from_path(path).with_context(|| format!("--answer {answer}: no webhook at {path}"))?;
        let body = std::fs::read(file).with_context(|| format!("--answer {answer}"))?;
        let answered = admission::review(webhook, &body, &fleet, &config)
            .with_context(|| format!("--answer {answer}: not a review"))?;
        // The server reads only `body` and `summary` of a review; the decision is not copied
        // per request.
        answers.push((
            webhook,
            Reviewed {
                decision: Decision::allow(),
                ..answered
            },
        ));
    }
    let reviewer = move |_: &State, webhook: Webhook, _: &[u8]| {
        answers
            .iter()
            .find(|(w, _)| *w == webhook)
            .map(|(_, fixed)| fixed.clone())
            .ok_or(BadReview::NoRequest)
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .event_interval(EVENT_INTERVAL)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let metrics = Arc::new(Metrics::new()?);
        let state = State {
            fleet: SharedFleet::new(fleet),
            config: Arc::new(ArcSwap::from_pointee(config)),
            writer: Arc::new(MemoryStore::new(metrics.clone())),
            metrics,
        };
        let settings = Settings {
            listen: args.listen,
            admin_listen: args.admin_listen,
            tls: TlsFiles {
                cert: args.tls_cert,
                key: args.tls_key,
                client_ca: None,
            },
            tls_reload_interval: std::time::Duration::from_secs(10),
            limits: Limits::default(),
        };
        let server = Server::start_with(settings, state, Arc::new(reviewer)).await?;
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        drop(server);
        anyhow::Ok(())
    })?;
    telemetry::flush();
    Ok(())
}
