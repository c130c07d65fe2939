//! One webhook connection, from TLS handshake to close, with a timer on every state it can be in.
//!
//! | state | bounded by |
//! |---|---|
//! | TLS handshake | `--header-read-timeout` |
//! | handshake done, first request not complete (the HTTP/1-or-HTTP/2 detection, the HTTP/2 preface, the first headers) | `--header-read-timeout` after the handshake |
//! | a request in flight | `--request-timeout` (the route's deadline) |
//! | no request in flight, HTTP/1.1 or HTTP/2 (HTTP/2 pings do not count) | `--idle-timeout` after the last request ended; `--header-read-timeout` while the listener is at `--max-connections` |
//! | HTTP/1.1: the next request's first bytes arrived, its headers not complete | `--header-read-timeout` after those bytes |
//!
//! hyper's own HTTP/1.1 header timer is off: it starts as soon as hyper waits for the next
//! request, which would close every idle keep-alive connection after `--header-read-timeout`.
//! Instead [`Tracked`] notes when bytes arrive while no request is in flight.
//!
//! A connection whose timer runs out is asked to close (HTTP/2 GOAWAY, so a request the client
//! sent meanwhile is still answered or safely retried; HTTP/1.1 closes when idle), and dropped if
//! it has not closed `--header-read-timeout` later. The timer is checked lazily, at least every
//! `--header-read-timeout`: the request path only stores a few atomics.
//!
//! On shutdown (after the shutdown delay), HTTP/2 connections get GOAWAY, HTTP/1.1 connections
//! close after their current request; one that has not sent a request yet is left to send it (it
//! is answered with `Connection: close`) rather than closed under a request already on its way.

use std::{
    io,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::conn::auto,
};
use prometheus::{IntCounter, IntGauge};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::TcpStream,
    sync::{OwnedSemaphorePermit, watch},
    time::Instant,
};

use super::{Limits, routes::App};
use crate::metrics::Metrics;

/// How often an idle HTTP/2 connection is pinged, and how long the answer may take: finds peers
/// that vanished without closing.
const H2_KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(20);
/// Concurrent HTTP/2 streams per connection. karmada-apiserver (Go) opens another connection
/// when it needs more; bounded so that headers of open streams stay small (README,
/// "Security and limits").
pub const H2_MAX_CONCURRENT_STREAMS: u32 = 32;
/// Largest HTTP/2 header list of one request (the decoded headers). Admission requests carry a
/// handful of short headers.
pub const H2_MAX_HEADER_LIST_SIZE: u32 = 16 * 1024;
/// Body bytes an HTTP/2 client may send on one connection before the server has read them
/// (flow-control window); bounds what a connection buffers beyond the memory budget.
pub const H2_CONNECTION_WINDOW: u32 = 256 * 1024;
/// The same per stream.
pub const H2_STREAM_WINDOW: u32 = 128 * 1024;
/// Largest HTTP/1.1 read buffer of one connection (bounds a request's header section).
pub const H1_MAX_BUF_SIZE: usize = 64 * 1024;

/// What every connection of the webhook listener shares.
pub(super) struct Shared {
    builder: auto::Builder<TokioExecutor>,
    app: Arc<App>,
    header_read_timeout: Duration,
    idle_timeout: Duration,
    pressure: watch::Receiver<bool>,
    stopped: watch::Receiver<bool>,
    open: IntGauge,
    timed_out: [IntCounter; 4],
}

impl Shared {
    pub(super) fn new(
        app: Arc<App>,
        limits: &Limits,
        pressure: watch::Receiver<bool>,
        stopped: watch::Receiver<bool>,
        metrics: &Metrics,
    ) -> Self {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(None)
            .max_buf_size(H1_MAX_BUF_SIZE)
            .keep_alive(true);
        builder
            .http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(Some(H2_KEEP_ALIVE_INTERVAL))
            .keep_alive_timeout(H2_KEEP_ALIVE_INTERVAL)
            .max_concurrent_streams(H2_MAX_CONCURRENT_STREAMS)
            .max_header_list_size(H2_MAX_HEADER_LIST_SIZE)
            .initial_connection_window_size(H2_CONNECTION_WINDOW)
            .initial_stream_window_size(H2_STREAM_WINDOW);
        let timed_out = State::ALL.map(|state| {
            metrics
                .connections_timed_out_total
                .with_label_values(&[state.label()])
        });
        Self {
            builder,
            app,
            header_read_timeout: limits.header_read_timeout,
            idle_timeout: limits.idle_timeout,
            pressure,
            stopped,
            open: metrics.connections.clone(),
            timed_out,
        }
    }

    fn timed_out(&self, state: State) {
        self.timed_out[state as usize].inc();
        tracing::debug!(state = state.label(), "closing a connection: its timer ran out");
    }
}

/// The state a connection's timer ran out in (label of `connections_timed_out_total`).
#[derive(Debug, Clone, Copy)]
enum State {
    Handshake,
    FirstRequest,
    RequestHeaders,
    Idle,
}

impl State {
    const ALL: [State; 4] = [
        State::Handshake,
        State::FirstRequest,
        State::RequestHeaders,
        State::Idle,
    ];

    fn label(self) -> &'static str {
        match self {
            State::Handshake => "handshake",
            State::FirstRequest => "first-request",
            State::RequestHeaders => "request-headers",
            State::Idle => "idle",
        }
    }
}

/// Serves one accepted connection; `_slot` (one of `--max-connections`) is released when it ends.
pub(super) async fn serve(
    stream: TcpStream,
    acceptor: crate::tls::Acceptor,
    shared: Arc<Shared>,
    _slot: OwnedSemaphorePermit,
) {
    shared.open.inc();
    let _open = scopeguard(&shared.open);
    let header_timeout = shared.header_read_timeout;
    let tls = match tokio::time::timeout(header_timeout, acceptor.accept(stream)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(error)) => {
            acceptor.handshake_failed(&error);
            return;
        }
        Err(_) => {
            acceptor.handshake_timed_out();
            shared.timed_out(State::Handshake);
            return;
        }
    };
    let handshake_done = Instant::now();
    let activity = Arc::new(Activity::new(handshake_done));
    if tls.get_ref().1.alpn_protocol() == Some(b"h2") {
        activity.protocol_known(true);
    }
    let io = Tracked {
        inner: tls,
        activity: activity.clone(),
    };
    let service = {
        let activity = activity.clone();
        let app = shared.app.clone();
        hyper::service::service_fn(move |request| {
            let request_guard = activity.begin();
            let app = app.clone();
            async move {
                let response = App::handle(app, request).await;
                drop(request_guard);
                response
            }
        })
    };
    let connection = shared.builder.serve_connection(TokioIo::new(io), service);
    tokio::pin!(connection);

    let timeouts = Timeouts {
        header: header_timeout,
        idle: shared.idle_timeout,
    };
    let mut pressure = shared.pressure.clone();
    let mut stopped = shared.stopped.clone();
    let mut draining = *stopped.borrow();
    // `Some(deadline)`: asked to close; dropped at the deadline if still open (`None`: the
    // shutdown grace period decides).
    let mut closing: Option<Option<Instant>> = None;
    let timer = tokio::time::sleep_until(if draining {
        Instant::now()
    } else {
        handshake_done + header_timeout
    });
    tokio::pin!(timer);
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                break;
            }
            () = &mut timer => {
                let now = Instant::now();
                match closing {
                    Some(Some(deadline)) if now >= deadline => {
                        tracing::debug!("connection did not close when asked to: dropping it");
                        break;
                    }
                    Some(Some(deadline)) => timer.as_mut().reset(deadline),
                    Some(None) => timer.as_mut().reset(now + timeouts.period()),
                    None => match activity.check(now, timeouts, *pressure.borrow()) {
                        Check::Expired(state) => {
                            shared.timed_out(state);
                            connection.as_mut().graceful_shutdown();
                            let deadline = now + header_timeout;
                            closing = Some(Some(deadline));
                            timer.as_mut().reset(deadline);
                        }
                        Check::Next(at) => timer.as_mut().reset(at),
                    },
                }
                if draining && closing.is_none() && activity.drainable() {
                    // Shutdown: the grace period bounds the rest, not the idle-close deadline.
                    connection.as_mut().graceful_shutdown();
                    closing = Some(None);
                }
            }
            Ok(()) = pressure.changed() => timer.as_mut().reset(Instant::now()),
            _ = stopped.changed(), if !draining => {
                draining = true;
                timer.as_mut().reset(Instant::now());
            }
        }
    }
}

/// Decrements `gauge` when dropped.
fn scopeguard(gauge: &IntGauge) -> impl Drop + '_ {
    struct Dec<'a>(&'a IntGauge);
    impl Drop for Dec<'_> {
        fn drop(&mut self) {
            self.0.dec();
        }
    }
    Dec(gauge)
}

#[derive(Debug, Clone, Copy)]
struct Timeouts {
    header: Duration,
    idle: Duration,
}

impl Timeouts {
    /// How often the timer looks at a connection whose deadline it cannot know yet.
    fn period(self) -> Duration {
        self.header.min(self.idle)
    }
}

enum Check {
    Expired(State),
    Next(Instant),
}

/// Microseconds since the handshake; `NONE`: not set.
const NONE: u64 = u64::MAX;

/// What the request path and the reads tell the connection's timer.
struct Activity {
    handshake_done: Instant,
    /// HTTP/2 (from ALPN, or from the client preface when ALPN was not used).
    h2: AtomicBool,
    protocol_known: AtomicBool,
    requests: AtomicU64,
    in_flight: AtomicUsize,
    /// When the last request ended.
    idle_since: AtomicU64,
    /// HTTP/1.1: when the first bytes of the next request arrived (no request in flight).
    head_started: AtomicU64,
}

impl Activity {
    fn new(handshake_done: Instant) -> Self {
        Self {
            handshake_done,
            h2: AtomicBool::new(false),
            protocol_known: AtomicBool::new(false),
            requests: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            head_started: AtomicU64::new(NONE),
        }
    }

    fn now(&self) -> u64 {
        u64::try_from(self.handshake_done.elapsed().as_micros()).unwrap_or(NONE - 1)
    }

    fn at(&self, micros: u64) -> Instant {
        self.handshake_done + Duration::from_micros(micros)
    }

    fn protocol_known(&self, h2: bool) {
        self.h2.store(h2, Ordering::Relaxed);
        self.protocol_known.store(true, Ordering::Release);
    }

    /// hyper calls the service: a request's headers are complete.
    fn begin(self: &Arc<Self>) -> RequestGuard {
        self.head_started.store(NONE, Ordering::Relaxed);
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        RequestGuard(self.clone())
    }

    /// Plaintext bytes arrived.
    fn on_read(&self, bytes: &[u8]) {
        if !self.protocol_known.load(Ordering::Acquire) {
            self.protocol_known(bytes.starts_with(b"PRI "));
        }
        if self.in_flight.load(Ordering::Acquire) == 0
            && self.requests.load(Ordering::Relaxed) > 0
            && !self.h2.load(Ordering::Relaxed)
            && self.head_started.load(Ordering::Relaxed) == NONE
        {
            let _ =
                self.head_started
                    .compare_exchange(NONE, self.now(), Ordering::Relaxed, Ordering::Relaxed);
        }
    }

    /// Whether a shutdown may ask this connection to close now: not an HTTP/1.1 (or not yet
    /// identified) connection that has not sent its first request, which may be on its way.
    fn drainable(&self) -> bool {
        self.h2.load(Ordering::Relaxed) || self.requests.load(Ordering::Relaxed) > 0
    }

    fn check(&self, now: Instant, timeouts: Timeouts, pressure: bool) -> Check {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Check::Next(now + timeouts.period());
        }
        let (deadline, state) = if self.requests.load(Ordering::Relaxed) == 0 {
            (self.handshake_done + timeouts.header, State::FirstRequest)
        } else {
            let idle_for = if pressure { timeouts.header } else { timeouts.idle };
            let idle = (
                self.at(self.idle_since.load(Ordering::Relaxed)) + idle_for,
                State::Idle,
            );
            match self.head_started.load(Ordering::Relaxed) {
                NONE => idle,
                started => {
                    let headers = self.at(started) + timeouts.header;
                    if headers < idle.0 {
                        (headers, State::RequestHeaders)
                    } else {
                        idle
                    }
                }
            }
        };
        if deadline <= now {
            Check::Expired(state)
        } else {
            Check::Next(deadline.min(now + timeouts.period()))
        }
    }
}

/// One request in flight on the connection.
struct RequestGuard(Arc<Activity>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let activity = &self.0;
        activity.idle_since.store(activity.now(), Ordering::Relaxed);
        activity.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The TLS stream, noting reads in the connection's [`Activity`].
struct Tracked<T> {
    inner: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Tracked<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let result = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = result
            && buf.filled().len() > before
        {
            self.activity.on_read(&buf.filled()[before..]);
        }
        result
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Tracked<T> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Timeouts = Timeouts {
        header: Duration::from_secs(5),
        idle: Duration::from_secs(120),
    };

    fn expired(check: Check) -> Option<&'static str> {
        match check {
            Check::Expired(state) => Some(state.label()),
            Check::Next(_) => None,
        }
    }

    #[test]
    fn every_state_has_a_deadline() {
        let start = Instant::now();
        let activity = Arc::new(Activity::new(start));
        // Handshake done, nothing sent: the first request's deadline.
        assert_eq!(
            expired(activity.check(start + Duration::from_secs(4), T, false)),
            None
        );
        assert_eq!(
            expired(activity.check(start + Duration::from_secs(5), T, false)),
            Some("first-request")
        );
        // A request in flight: no connection deadline (the request has its own).
        let guard = activity.begin();
        assert_eq!(
            expired(activity.check(start + Duration::from_secs(60), T, false)),
            None
        );
        drop(guard);
        // Idle after a request: --idle-timeout, or --header-read-timeout under pressure.
        let ended = activity.at(activity.idle_since.load(Ordering::Relaxed));
        assert_eq!(
            expired(activity.check(ended + Duration::from_secs(119), T, false)),
            None
        );
        assert_eq!(
            expired(activity.check(ended + Duration::from_secs(120), T, false)),
            Some("idle")
        );
        assert_eq!(
            expired(activity.check(ended + Duration::from_secs(5), T, true)),
            Some("idle")
        );
        // HTTP/1.1: the next request started arriving: --header-read-timeout from its first bytes.
        activity.protocol_known(false);
        activity.on_read(b"POST /validate/policy HTTP/1.1\r\n");
        let started = activity.at(activity.head_started.load(Ordering::Relaxed));
        assert_eq!(
            expired(activity.check(started + Duration::from_secs(5), T, false)),
            Some("request-headers")
        );
        // HTTP/2 frames between requests (pings, settings) are not a request starting.
        let h2 = Arc::new(Activity::new(start));
        h2.protocol_known(true);
        drop(h2.begin());
        h2.on_read(b"\x00\x00\x08\x06\x00\x00\x00\x00\x00ping....");
        assert_eq!(h2.head_started.load(Ordering::Relaxed), NONE);
    }

    #[test]
    fn the_protocol_comes_from_alpn_or_the_client_preface() {
        let activity = Activity::new(Instant::now());
        activity.on_read(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        assert!(activity.h2.load(Ordering::Relaxed));
        assert!(activity.drainable());
        let activity = Activity::new(Instant::now());
        activity.on_read(b"POST / HTTP/1.1\r\n");
        assert!(!activity.h2.load(Ordering::Relaxed));
        // HTTP/1.1 with no request yet: a shutdown waits for its first request.
        assert!(!activity.drainable());
    }
}
