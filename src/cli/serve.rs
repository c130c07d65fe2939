//! `karmada-takeover serve`: flags → [`Settings`] + [`State`], then run until SIGTERM/SIGINT.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode, sync::Arc, time::Duration};

use anyhow::Context as _;
use arc_swap::ArcSwap;

use crate::{
    config::{self, Config},
    fleet::{self, SharedFleet},
    metrics::Metrics,
    server::{Limits, Server, Settings, State},
    tls::{self, TlsFiles},
    writer::MemoryStore,
};

/// Options of `serve`. Every flag has an environment variable.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// HTTPS address of the admission webhooks.
    #[arg(long, env = "KARMADA_TAKEOVER_LISTEN", default_value = "0.0.0.0:8443")]
    pub listen: SocketAddr,
    /// Plain-HTTP address of /metrics, /healthz and /readyz.
    #[arg(long, env = "KARMADA_TAKEOVER_ADMIN_LISTEN", default_value = "0.0.0.0:8080")]
    pub admin_listen: SocketAddr,
    /// Serving certificate chain (PEM, leaf first); reloaded when it changes.
    #[arg(long, env = "KARMADA_TAKEOVER_TLS_CERT")]
    pub tls_cert: PathBuf,
    /// Serving private key (PEM); reloaded when it changes.
    #[arg(long, env = "KARMADA_TAKEOVER_TLS_KEY")]
    pub tls_key: PathBuf,
    /// CA bundle (PEM): when set, only clients presenting a certificate from it are served.
    #[arg(long, env = "KARMADA_TAKEOVER_CLIENT_CA")]
    pub client_ca: Option<PathBuf>,
    /// Engine configuration (YAML); reloaded when it changes, a bad new file keeps the old one.
    #[arg(long, env = "KARMADA_TAKEOVER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Fleet directory for the file adapter (default: the embedded sample fleet).
    #[arg(long, env = "KARMADA_TAKEOVER_FLEET", conflicts_with = "kubeconfig")]
    pub fleet: Option<PathBuf>,
    /// kubeconfig of karmada-apiserver: watch Karmada and its member clusters, write takeover
    /// policies, run the reconciler (README, "Connect to a real Karmada").
    #[arg(long, env = "KARMADA_TAKEOVER_KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// Largest accepted request body in bytes; larger bodies get 413.
    #[arg(long, env = "KARMADA_TAKEOVER_MAX_BODY_BYTES", default_value_t = 8 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Bytes that request bodies in flight and their decoding may take together; a review waits
    /// for its share until its deadline, then gets 503. At least 4 × --max-body-bytes (README,
    /// "Security and limits").
    #[arg(long, env = "KARMADA_TAKEOVER_MEMORY_BUDGET", default_value_t = 64 * 1024 * 1024)]
    pub memory_budget: usize,
    /// Time a client has for the TLS handshake, for its first request's headers after it, and for
    /// each later request's headers once they started arriving.
    #[arg(long, env = "KARMADA_TAKEOVER_HEADER_READ_TIMEOUT", default_value = "5s", value_parser = humantime::parse_duration)]
    pub header_read_timeout: Duration,
    /// A connection with no request in flight is closed after this long (HTTP/1.1 and HTTP/2);
    /// longer than karmada-apiserver's own 90 s, so the client closes idle connections first.
    #[arg(long, env = "KARMADA_TAKEOVER_IDLE_TIMEOUT", default_value = "120s", value_parser = humantime::parse_duration)]
    pub idle_timeout: Duration,
    /// Open webhook connections; at the limit the listener waits for one to close (idle ones then
    /// close after --header-read-timeout).
    #[arg(long, env = "KARMADA_TAKEOVER_MAX_CONNECTIONS", default_value_t = 128)]
    pub max_connections: usize,
    /// Deadline for one review; keep it below the webhook's timeoutSeconds.
    #[arg(long, env = "KARMADA_TAKEOVER_REQUEST_TIMEOUT", default_value = "2500ms", value_parser = humantime::parse_duration)]
    pub request_timeout: Duration,
    /// Reviews decided at once (a permit is taken once the body is read); more wait for one until
    /// their deadline, then get 503.
    #[arg(
        long,
        env = "KARMADA_TAKEOVER_MAX_CONCURRENT_REQUESTS",
        default_value_t = 1024
    )]
    pub max_concurrent_requests: usize,
    /// After SIGTERM, /readyz answers 503 at once but the webhook keeps accepting and serving this
    /// long, so endpoints stop routing to the pod before its listener closes.
    #[arg(long, env = "KARMADA_TAKEOVER_SHUTDOWN_DELAY", default_value = "5s", value_parser = humantime::parse_duration)]
    pub shutdown_delay: Duration,
    /// Then, time to drain in-flight requests. Keep delay + grace period below the pod's
    /// terminationGracePeriodSeconds.
    #[arg(long, env = "KARMADA_TAKEOVER_SHUTDOWN_GRACE_PERIOD", default_value = "25s", value_parser = humantime::parse_duration)]
    pub shutdown_grace_period: Duration,
    /// How often the TLS files are checked for changes.
    #[arg(long, env = "KARMADA_TAKEOVER_TLS_RELOAD_INTERVAL", default_value = "10s", value_parser = humantime::parse_duration)]
    pub tls_reload_interval: Duration,
    /// How often the fleet directory and the config file are checked for changes.
    #[arg(long, env = "KARMADA_TAKEOVER_FLEET_RELOAD_INTERVAL", default_value = "5s", value_parser = humantime::parse_duration)]
    pub fleet_reload_interval: Duration,
    /// With --kubeconfig: let the reconciler adopt templates that existed before the webhook was
    /// installed (unclaimed, running unmanaged in member clusters).
    #[arg(
        long,
        env = "KARMADA_TAKEOVER_SWEEP_EXISTING_TEMPLATES",
        default_value_t = false
    )]
    pub sweep_existing_templates: bool,
    /// With --kubeconfig: namespace in karmada-apiserver of the reconciler's leader-election Lease
    /// (the chart passes its `karmada.leaseNamespace`, default the release namespace).
    #[arg(
        long,
        env = "KARMADA_TAKEOVER_LEASE_NAMESPACE",
        default_value = "karmada-system"
    )]
    pub lease_namespace: String,
}

/// Where the fleet view comes from.
#[derive(Debug, Clone)]
enum FleetSource {
    /// The sample fleet compiled into the binary.
    Embedded,
    /// A fleet directory, polled for changes.
    Dir(PathBuf),
    /// karmada-apiserver (and its members through the cluster proxy), watched.
    Karmada(PathBuf),
}

/// How many tasks a runtime worker polls between two checks for socket readiness (tokio's
/// default is 61). Checking after every task serves reviews in arrival order: with the default, a
/// request that arrives while a worker is busy with a batch of connections waits for the whole
/// batch before it is even seen, then for its place in the next one, which stretches the tail at
/// the same throughput. Measured on one core with 16 connections: p99 0.84 ms instead of
/// 1.06 ms (median of four runs each), with no loss of requests per second (BENCHMARKS.md).
pub const EVENT_INTERVAL: u32 = 1;

/// Runs the webhook until SIGTERM/SIGINT.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    tls::install_crypto_provider();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .event_interval(EVENT_INTERVAL)
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    let result = runtime.block_on(serve(args));
    crate::telemetry::flush();
    result
}

async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    // Destructured so that a flag added to `ServeArgs` and not handled here fails to compile.
    let ServeArgs {
        listen,
        admin_listen,
        tls_cert,
        tls_key,
        client_ca,
        config: config_path,
        fleet: fleet_dir,
        kubeconfig,
        max_body_bytes,
        memory_budget,
        header_read_timeout,
        idle_timeout,
        max_connections,
        request_timeout,
        max_concurrent_requests,
        shutdown_delay,
        shutdown_grace_period,
        tls_reload_interval,
        fleet_reload_interval,
        sweep_existing_templates,
        lease_namespace,
    } = args;
    let started = std::time::Instant::now();

    let source = match (fleet_dir, kubeconfig) {
        (_, Some(path)) => FleetSource::Karmada(path),
        (Some(dir), None) => FleetSource::Dir(dir),
        (None, None) => FleetSource::Embedded,
    };
    let config = match &config_path {
        Some(path) => Config::load(path).with_context(|| format!("--config {}", path.display()))?,
        None => Config::default(),
    };
    let initial = match &source {
        FleetSource::Embedded => fleet::files::embedded(),
        FleetSource::Dir(dir) => {
            fleet::files::load_dir(dir).with_context(|| format!("--fleet {}", dir.display()))?
        }
        // Unsynced until the adapter has listed everything: /readyz stays false until then.
        FleetSource::Karmada(_) => fleet::Fleet::new(),
    };

    let metrics = Arc::new(Metrics::new()?);
    let fleet_view = SharedFleet::new(initial);
    let config = Arc::new(ArcSwap::from_pointee(config));
    let (writer, _karmada): (
        Arc<dyn crate::writer::Writer>,
        Option<super::serve_karmada::Karmada>,
    ) = match &source {
        FleetSource::Karmada(path) => {
            let k = super::serve_karmada::start(
                path,
                fleet_view.clone(),
                config.clone(),
                &metrics,
                crate::reconciler::Options {
                    sweep_existing: sweep_existing_templates,
                    lease_namespace,
                    ..crate::reconciler::Options::default()
                },
            )
            .await?;
            (Arc::new(k.writer.clone()), Some(k))
        }
        _ => (Arc::new(MemoryStore::new(metrics.clone())), None),
    };
    let state = State {
        fleet: fleet_view,
        config,
        writer,
        metrics: metrics.clone(),
    };
    let settings = Settings {
        listen,
        admin_listen,
        tls: TlsFiles {
            cert: tls_cert,
            key: tls_key,
            client_ca,
        },
        tls_reload_interval,
        limits: Limits {
            max_body_bytes,
            memory_budget,
            header_read_timeout,
            idle_timeout,
            max_connections,
            request_timeout,
            max_concurrent_requests,
            shutdown_delay,
            shutdown_grace_period,
        },
    };
    let server = Server::start(settings, state.clone()).await?;
    tracing::info!(
        fleet = ?source,
        startup_ms = started.elapsed().as_millis() as u64,
        "ready"
    );

    let (stop_watchers, watchers_stopped) = tokio::sync::watch::channel(false);
    let mut watchers = tokio::task::JoinSet::new();
    if let FleetSource::Dir(dir) = &source {
        watchers.spawn(fleet::files::reload::watch_fleet_dir(
            dir.clone(),
            fleet_reload_interval,
            state.fleet.clone(),
            metrics.clone(),
            stopped(watchers_stopped.clone()),
        ));
    }
    if let Some(path) = config_path {
        watchers.spawn(config::reload::watch_config(
            path,
            fleet_reload_interval,
            state.config.clone(),
            metrics.config_reloads_total.clone(),
            stopped(watchers_stopped.clone()),
        ));
    }

    let signal = shutdown_signal().await?;
    tracing::info!(
        signal,
        delay = ?shutdown_delay,
        "shutdown requested: not ready any more, serving on for the delay, then draining"
    );
    let _ = stop_watchers.send(true);
    tokio::select! {
        () = server.shutdown() => {}
        second = shutdown_signal() => {
            tracing::warn!(signal = second.unwrap_or("?"), "second signal: stopping without waiting for the drain");
        }
    }
    while watchers.join_next().await.is_some() {}
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn stopped(mut rx: tokio::sync::watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Waits for SIGTERM (kubelet) or SIGINT (Ctrl-C); returns its name.
async fn shutdown_signal() -> anyhow::Result<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}
