//! HTTPS serving of the admission webhooks, and the plain-HTTP admin listener.
//!
//! ```text
//!  TCP accept ─► TLS handshake (rustls, current cert) ─► hyper-util auto (h2 | http/1.1)
//!      │              ≤ --header-read-timeout                 │
//!      │                                                      ▼
//!      │                                  routes: path → Webhook, POST only, body ≤ cap,
//!      │                                  concurrency permit, deadline (--request-timeout)
//!      │                                                      │
//!      │                                                      ▼
//!      │                              admission::review(webhook, body, fleet, config)
//!      │                                                      │
//!      ▼                                                      ▼
//!  GracefulShutdown (drain within --shutdown-grace-period)   200 AdmissionReview + one log event,
//!                                                             metrics, actions → Writer
//! ```
//!
//! [`Server::start`] binds both listeners (port 0 allowed) and returns a [`RunningServer`] once
//! connections can be accepted; [`RunningServer::shutdown`] stops accepting, drains in-flight
//! requests and returns within the grace period.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use arc_swap::ArcSwap;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
};
use tokio::{net::TcpListener, sync::watch, task::JoinSet};

use crate::{
    config::Config,
    fleet::SharedFleet,
    metrics::Metrics,
    tls::{self, ServingTls, TlsFiles},
    writer::Writer,
};

mod admin;
mod routes;

/// How often an idle HTTP/2 connection is pinged, and how long the answer may take.
const H2_KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(20);

/// Request limits (the hardening flags of `serve`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted request body (`--max-body-bytes`); larger bodies get 413.
    pub max_body_bytes: usize,
    /// Time a client has to finish the TLS handshake and each request's headers
    /// (`--header-read-timeout`). For HTTP/1.1 this also bounds how long an idle keep-alive
    /// connection stays open, since hyper starts the header timer when it waits for a request.
    pub header_read_timeout: Duration,
    /// Deadline for one review: queueing for a permit, reading the body, deciding
    /// (`--request-timeout`); must stay below the webhook's `timeoutSeconds`.
    pub request_timeout: Duration,
    /// Reviews processed at once (`--max-concurrent-requests`); more wait for a permit until
    /// their deadline, then get 503.
    pub max_concurrent_requests: usize,
    /// Time to drain in-flight requests on shutdown (`--shutdown-grace-period`).
    pub shutdown_grace_period: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 8 * 1024 * 1024,
            header_read_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_millis(2500),
            max_concurrent_requests: 1024,
            shutdown_grace_period: Duration::from_secs(25),
        }
    }
}

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct Settings {
    /// HTTPS webhook listener (`--listen`).
    pub listen: SocketAddr,
    /// Plain-HTTP admin listener (`--admin-listen`).
    pub admin_listen: SocketAddr,
    /// Serving certificate, key and optional client CA.
    pub tls: TlsFiles,
    /// How often the TLS files are polled for changes (`--tls-reload-interval`).
    pub tls_reload_interval: Duration,
    /// Request limits.
    pub limits: Limits,
}

impl Settings {
    /// Loopback on ephemeral ports with default limits (tests, demo).
    pub fn loopback(tls: TlsFiles) -> Self {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            listen: any,
            admin_listen: any,
            tls,
            tls_reload_interval: Duration::from_secs(10),
            limits: Limits::default(),
        }
    }
}

/// What the request path reads and writes, shared by every connection.
#[derive(Clone)]
pub struct State {
    /// The fleet view the engine decides against (the adapter keeps it current).
    pub fleet: SharedFleet,
    /// The engine configuration (hot reloaded).
    pub config: Arc<ArcSwap<Config>>,
    /// Where admitted actions go (never called for dryRun or denied requests).
    pub writer: Arc<dyn Writer>,
    /// Metrics.
    pub metrics: Arc<Metrics>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("fleet", &self.fleet)
            .finish_non_exhaustive()
    }
}

/// The server could not start.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Certificate, key or client CA unusable (the message names the flag).
    #[error(transparent)]
    Tls(#[from] tls::Error),
    /// A listener could not be bound.
    #[error("{flag} {addr}: cannot listen: {source}")]
    Bind {
        /// `--listen` or `--admin-listen`.
        flag: &'static str,
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// `--max-concurrent-requests` or `--max-body-bytes` is zero, or the deadline is zero.
    #[error("{0}")]
    InvalidLimit(String),
}

/// The webhook server (see the module docs).
#[derive(Debug)]
pub struct Server;

/// A started server: addresses, TLS state and the handle to stop it.
#[derive(Debug)]
pub struct RunningServer {
    local_addr: SocketAddr,
    admin_addr: SocketAddr,
    tls: Arc<ServingTls>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Server {
    /// Loads TLS (failing on bad files), binds both listeners and starts serving.
    pub async fn start(settings: Settings, state: State) -> Result<RunningServer, Error> {
        let limits = settings.limits.clone();
        if limits.max_concurrent_requests == 0 {
            return Err(Error::InvalidLimit(
                "--max-concurrent-requests must be at least 1".into(),
            ));
        }
        if limits.max_body_bytes == 0 {
            return Err(Error::InvalidLimit("--max-body-bytes must be at least 1".into()));
        }
        if limits.request_timeout.is_zero() || limits.header_read_timeout.is_zero() {
            return Err(Error::InvalidLimit(
                "--request-timeout and --header-read-timeout must be positive".into(),
            ));
        }
        let tls = ServingTls::load(settings.tls.clone(), state.metrics.clone())?;
        let listener = TcpListener::bind(settings.listen)
            .await
            .map_err(|source| Error::Bind {
                flag: "--listen",
                addr: settings.listen,
                source,
            })?;
        let admin_listener =
            TcpListener::bind(settings.admin_listen)
                .await
                .map_err(|source| Error::Bind {
                    flag: "--admin-listen",
                    addr: settings.admin_listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| Error::Bind {
            flag: "--listen",
            addr: settings.listen,
            source,
        })?;
        let admin_addr = admin_listener.local_addr().map_err(|source| Error::Bind {
            flag: "--admin-listen",
            addr: settings.admin_listen,
            source,
        })?;

        state.fleet.read().observe(&state.metrics);
        let serving = Arc::new(AtomicBool::new(true));
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let app = Arc::new(routes::App::new(state.clone(), limits.clone()));
        tasks.spawn(accept_loop(
            listener,
            tls.clone(),
            app,
            limits,
            stopped.clone(),
            serving.clone(),
        ));
        tasks.spawn(admin::serve(admin_listener, state, serving, stopped.clone()));
        tasks.spawn(tls::watch(
            tls.clone(),
            settings.tls_reload_interval,
            until_stopped(stopped),
        ));
        tracing::info!(listen = %local_addr, admin = %admin_addr, "serving admission webhooks");
        Ok(RunningServer {
            local_addr,
            admin_addr,
            tls,
            stop,
            tasks,
        })
    }
}

impl RunningServer {
    /// The HTTPS webhook address (the real port when `listen` had port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The admin HTTP address.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// The TLS state (current certificate, reload on demand).
    pub fn tls(&self) -> &Arc<ServingTls> {
        &self.tls
    }

    /// Stops accepting, drains in-flight requests (at most the grace period), then returns.
    pub fn shutdown(mut self) -> impl Future<Output = ()> + Send + 'static {
        let _ = self.stop.send(true);
        async move {
            while let Some(result) = self.tasks.join_next().await {
                if let Err(error) = result
                    && error.is_panic()
                {
                    tracing::error!(%error, "server task panicked");
                }
            }
        }
    }
}

/// Resolves when `stopped` turns true or its sender is dropped.
pub(crate) async fn until_stopped(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}

/// Accepts connections until `stopped`, spawning `serve(stream)` for each into `connections` and
/// reaping finished ones as it goes. Accept errors (EMFILE and friends) back off instead of spinning.
pub(crate) async fn accept_until_stopped<F>(
    listener: &TcpListener,
    stopped: watch::Receiver<bool>,
    connections: &mut JoinSet<()>,
    listener_name: &'static str,
    mut serve: impl FnMut(tokio::net::TcpStream) -> F,
) where
    F: Future<Output = ()> + Send + 'static,
{
    let stop = until_stopped(stopped);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            biased;
            () = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    connections.spawn(serve(stream));
                }
                Err(error) => {
                    tracing::warn!(%error, listener = listener_name, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
}

async fn accept_loop(
    listener: TcpListener,
    tls: Arc<ServingTls>,
    app: Arc<routes::App>,
    limits: Limits,
    stopped: watch::Receiver<bool>,
    serving: Arc<AtomicBool>,
) {
    let graceful = GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    // HTTP/2 has no header-read timeout; pings find peers that vanished without closing.
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(H2_KEEP_ALIVE_INTERVAL))
        .keep_alive_timeout(H2_KEEP_ALIVE_INTERVAL);
    let builder = Arc::new(builder);
    let mut connections = JoinSet::new();
    accept_until_stopped(&listener, stopped, &mut connections, "webhook", |stream| {
        let _ = stream.set_nodelay(true);
        serve_connection(
            stream,
            tls.acceptor(),
            builder.clone(),
            app.clone(),
            graceful.watcher(),
            limits.header_read_timeout,
        )
    })
    .await;
    serving.store(false, Ordering::SeqCst);
    drop(listener);
    let open = connections.len();
    tracing::info!(open_connections = open, grace_period = ?limits.shutdown_grace_period, "shutting down: draining connections");
    let drain = async {
        graceful.shutdown().await;
        while connections.join_next().await.is_some() {}
    };
    if tokio::time::timeout(limits.shutdown_grace_period, drain)
        .await
        .is_err()
    {
        tracing::warn!(
            remaining = connections.len(),
            "shutdown grace period over: closing the remaining connections"
        );
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    }
    tracing::info!("webhook listener stopped");
}

async fn serve_connection(
    stream: tokio::net::TcpStream,
    acceptor: tls::Acceptor,
    builder: Arc<auto::Builder<TokioExecutor>>,
    app: Arc<routes::App>,
    watcher: hyper_util::server::graceful::Watcher,
    handshake_timeout: Duration,
) {
    let tls = match tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            acceptor.handshake_failed(&error);
            return;
        }
        Err(_) => {
            acceptor.handshake_timed_out();
            return;
        }
    };
    let service = hyper::service::service_fn(move |request| routes::App::handle(app.clone(), request));
    let connection = builder.serve_connection(TokioIo::new(tls), service);
    if let Err(error) = watcher.watch(connection).await {
        tracing::debug!(%error, "connection ended with an error");
    }
}
