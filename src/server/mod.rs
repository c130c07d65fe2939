//! HTTPS serving of the admission webhooks, and the plain-HTTP admin listener.
//!
//! ```text
//!  slot (≤ --max-connections, else wait) ─► TCP accept ─► TLS handshake ─► hyper-util auto (h2 | http/1.1)
//!      │                                                  ≤ --header-read-timeout      │
//!      │   conn: first request ≤ --header-read-timeout after the handshake;           │
//!      │         no request in flight ≤ --idle-timeout (both protocols)               ▼
//!      │                                  routes: path → Webhook, POST only, body ≤ cap,
//!      │                                  memory (--memory-budget) once the body starts,
//!      │                                  concurrency permit once it is read,
//!      │                                  deadline (--request-timeout)
//!      │                                                      │
//!      │                                                      ▼
//!      │                              admission::review(webhook, body, fleet, config)
//!      │                                                      │
//!      ▼                                                      ▼
//!  shutdown: not ready, serve on for --shutdown-delay,      200 AdmissionReview + one log event,
//!  then stop accepting and drain (--shutdown-grace-period)   metrics, actions → Writer
//! ```
//!
//! [`Server::start`] binds both listeners (port 0 allowed) and returns a [`RunningServer`] once
//! connections can be accepted; [`RunningServer::shutdown`] turns `/readyz` to 503 at once, keeps
//! serving for the shutdown delay, then stops accepting, drains in-flight requests and returns
//! within the grace period.

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use arc_swap::ArcSwap;
use tokio::{
    net::TcpListener,
    sync::{Semaphore, watch},
    task::JoinSet,
};

use crate::{
    admission::{BadReview, Reviewed},
    config::Config,
    fleet::SharedFleet,
    metrics::Metrics,
    rules::Webhook,
    tls::{self, ServingTls, TlsFiles},
    writer::Writer,
};

mod admin;
mod budget;
mod conn;
mod routes;

/// Request and connection limits (the hardening flags of `serve`; README, "Security and limits").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted request body (`--max-body-bytes`); larger bodies get 413.
    pub max_body_bytes: usize,
    /// Bytes that request bodies in flight and their decoding may take together
    /// (`--memory-budget`); a review waits for its share until its deadline, then gets 503. At
    /// least 4 × `max_body_bytes`. What a review is charged: README, "Security and limits".
    pub memory_budget: usize,
    /// Time a client has to finish the TLS handshake, to send its first request's headers after
    /// the handshake (this covers the HTTP/1-or-HTTP/2 detection), and to finish each later
    /// HTTP/1.1 request's headers once it has started them (`--header-read-timeout`).
    pub header_read_timeout: Duration,
    /// A connection with no request in flight is closed after this long (`--idle-timeout`):
    /// HTTP/1.1 keep-alive and HTTP/2 alike (HTTP/2 pings do not count as activity). While the
    /// listener is at `max_connections`, `header_read_timeout` applies instead.
    pub idle_timeout: Duration,
    /// Open webhook connections (`--max-connections`); at the limit the listener stops accepting
    /// (new clients wait in the kernel's backlog) and idle connections are closed sooner.
    pub max_connections: usize,
    /// Deadline for one review: reading the body, queueing for memory and a permit, deciding
    /// (`--request-timeout`); must stay below the webhook's `timeoutSeconds`.
    pub request_timeout: Duration,
    /// Reviews decided at once (`--max-concurrent-requests`); a permit is taken once the body has
    /// been read, and more wait for one until their deadline, then get 503.
    pub max_concurrent_requests: usize,
    /// After shutdown starts, `/readyz` answers 503 at once but the listener keeps accepting and
    /// serving this long, so endpoints stop routing here before it closes (`--shutdown-delay`).
    pub shutdown_delay: Duration,
    /// Then, time to drain in-flight requests (`--shutdown-grace-period`).
    pub shutdown_grace_period: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 8 * 1024 * 1024,
            memory_budget: 64 * 1024 * 1024,
            header_read_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(120),
            max_connections: 128,
            request_timeout: Duration::from_millis(2500),
            max_concurrent_requests: 1024,
            shutdown_delay: Duration::from_secs(5),
            shutdown_grace_period: Duration::from_secs(25),
        }
    }
}

impl Limits {
    /// Checks the limits against each other (the message names the flags).
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |message: &str| Err(Error::InvalidLimit(message.to_owned()));
        if self.max_concurrent_requests == 0 {
            return invalid("--max-concurrent-requests must be at least 1");
        }
        if self.max_connections == 0 {
            return invalid("--max-connections must be at least 1");
        }
        if self.max_body_bytes == 0 {
            return invalid("--max-body-bytes must be at least 1");
        }
        let needed = self.max_body_bytes.next_multiple_of(1024).saturating_mul(4);
        if self.memory_budget < needed {
            return Err(Error::InvalidLimit(format!(
                "--memory-budget ({}) must be at least 4 × --max-body-bytes ({needed}): a quarter \
                 of it holds small reviews, the rest large ones at twice their size",
                self.memory_budget
            )));
        }
        if self.request_timeout.is_zero() || self.header_read_timeout.is_zero() || self.idle_timeout.is_zero()
        {
            return invalid("--request-timeout, --header-read-timeout and --idle-timeout must be positive");
        }
        Ok(())
    }
}

/// At most one "connection limit reached" warning this often (the counter counts every time).
const LIMIT_WARNING_INTERVAL: Duration = Duration::from_secs(10);

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
    /// Loopback on ephemeral ports with default limits (tests, demo), but no shutdown delay: no
    /// endpoints route to a loopback server.
    pub fn loopback(tls: TlsFiles) -> Self {
        let any = SocketAddr::from(([127, 0, 0, 1], 0));
        Self {
            listen: any,
            admin_listen: any,
            tls,
            tls_reload_interval: Duration::from_secs(10),
            limits: Limits {
                shutdown_delay: Duration::ZERO,
                ..Limits::default()
            },
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

/// Turns a request body read by the server into the answered review: [`Server::start`] decodes
/// it and asks the engine ([`crate::admission::review`] against the [`State`]'s fleet and
/// config). [`Server::start_with`] takes another one so that a load benchmark can measure the
/// server alone (TLS, HTTP, limits, metrics, log event) with a fixed answer
/// (`examples/loadbench_ceiling.rs`); `serve` has no way to choose it.
pub type Reviewer = Arc<dyn Fn(&State, Webhook, &[u8]) -> Result<Reviewed, BadReview> + Send + Sync>;

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
    /// A limit is zero or does not fit the others (the message names the flags).
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
    serving: Arc<AtomicBool>,
    shutdown_delay: Duration,
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Server {
    /// Loads TLS (failing on bad files), binds both listeners and starts serving.
    pub async fn start(settings: Settings, state: State) -> Result<RunningServer, Error> {
        Self::start_with(settings, state, Arc::new(routes::decide)).await
    }

    /// [`Server::start`] with another [`Reviewer`] than the engine: for load benchmarks only.
    pub async fn start_with(
        settings: Settings,
        state: State,
        reviewer: Reviewer,
    ) -> Result<RunningServer, Error> {
        let limits = settings.limits.clone();
        limits.validate()?;
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
        let app = Arc::new(routes::App::new(
            state.clone(),
            reviewer,
            limits.clone(),
            serving.clone(),
        ));
        tasks.spawn(accept_loop(
            listener,
            tls.clone(),
            app,
            limits.clone(),
            stopped.clone(),
            state.metrics.clone(),
        ));
        tasks.spawn(admin::serve(
            admin_listener,
            state,
            serving.clone(),
            stopped.clone(),
        ));
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
            serving,
            shutdown_delay: limits.shutdown_delay,
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

    /// Shuts down in three steps. At once (before the returned future is first polled), `/readyz`
    /// answers 503, so endpoints stop routing here, and HTTP/1.1 responses carry
    /// `Connection: close`, so keep-alive clients move to new connections. For the shutdown
    /// delay the listener still accepts and serves: requests routed here before the endpoints
    /// caught up are answered, not refused. Then it stops accepting, asks every connection to
    /// close (HTTP/2 GOAWAY; HTTP/1.1 after its current request, or after its first one for a
    /// connection that has not sent one yet), drains in-flight requests for at most the grace
    /// period, and the future resolves.
    pub fn shutdown(self) -> impl Future<Output = ()> + Send + 'static {
        self.serving.store(false, Ordering::SeqCst);
        tracing::info!(
            delay = ?self.shutdown_delay,
            "shutting down: not ready any more; still serving until the delay is over"
        );
        let Self {
            stop,
            mut tasks,
            shutdown_delay,
            ..
        } = self;
        async move {
            tokio::time::sleep(shutdown_delay).await;
            let _ = stop.send(true);
            while let Some(result) = tasks.join_next().await {
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

/// The webhook listener: one connection slot per accepted connection, at most
/// `--max-connections`. When every slot is taken the loop stops accepting (clients wait in the
/// kernel's backlog, their connection attempt intact) and raises `pressure`, which makes idle
/// connections close after `--header-read-timeout` instead of `--idle-timeout`; the first slot
/// that frees up goes to the longest-waiting client. Accepting and closing instead would fail that
/// client's review outright.
async fn accept_loop(
    listener: TcpListener,
    tls: Arc<ServingTls>,
    app: Arc<routes::App>,
    limits: Limits,
    stopped: watch::Receiver<bool>,
    metrics: Arc<crate::metrics::Metrics>,
) {
    let (pressure_tx, pressure) = watch::channel(false);
    let shared = Arc::new(conn::Shared::new(
        app,
        &limits,
        pressure,
        stopped.clone(),
        &metrics,
    ));
    let slots = Arc::new(Semaphore::new(limits.max_connections.min(Semaphore::MAX_PERMITS)));
    let mut connections = JoinSet::new();
    let mut last_warning: Option<tokio::time::Instant> = None;
    let stop = until_stopped(stopped);
    tokio::pin!(stop);
    'accept: loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                metrics.connection_limit_reached_total.inc();
                if last_warning.is_none_or(|at| at.elapsed() >= LIMIT_WARNING_INTERVAL) {
                    last_warning = Some(tokio::time::Instant::now());
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "connection limit reached: not accepting until a connection closes; idle ones close sooner"
                    );
                }
                pressure_tx.send_replace(true);
                loop {
                    tokio::select! {
                        biased;
                        () = &mut stop => break 'accept,
                        Some(_) = connections.join_next(), if !connections.is_empty() => {}
                        slot = slots.clone().acquire_owned() => match slot {
                            Ok(slot) => break slot,
                            Err(_) => break 'accept,
                        },
                    }
                }
            }
        };
        pressure_tx.send_if_modified(|pressure| std::mem::replace(pressure, false));
        tokio::select! {
            biased;
            () = &mut stop => break,
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    let _ = stream.set_nodelay(true);
                    connections.spawn(conn::serve(stream, tls.acceptor(), shared.clone(), slot));
                }
                Err(error) => {
                    tracing::warn!(%error, listener = "webhook", "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
        }
    }
    drop(listener);
    let open = connections.len();
    tracing::info!(open_connections = open, grace_period = ?limits.shutdown_grace_period, "stopped accepting: draining connections");
    let drain = async { while connections.join_next().await.is_some() {} };
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
