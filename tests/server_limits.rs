//! The server's limits under hostile or careless clients (README, "Security and limits"): a timer
//! on every connection state, the connection cap, the memory budget, concurrency permits taken
//! after the body, an in-flight gauge that cannot leak, and a shutdown that keeps serving while
//! endpoints catch up.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{SinkExt, StreamExt, channel::mpsc};
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use karmada_takeover::{cli::demo::client::Client, server::Limits};
use support::{
    server::{
        H2, Setup, TestBody, TestServer, connect_alpn, connect_raw, full, metric, policy_review,
        response_uid, stalled, status_message,
    },
    wait::{WAIT, eventually, within},
};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

async fn start(limits: Limits) -> TestServer {
    TestServer::start(Setup {
        limits,
        ..Setup::default()
    })
    .await
}

fn value(server: &TestServer, name: &str) -> f64 {
    metric(&server.metrics_text(), name).unwrap_or(0.0)
}

/// Reads until the peer closes (or resets) the connection.
async fn until_closed(stream: &mut (impl AsyncRead + Unpin), what: &str) {
    let mut sink = Vec::new();
    let _ = within(WAIT, what, stream.read_to_end(&mut sink)).await;
}

/// Reads one HTTP/1.1 response (headers and a `content-length` body); returns the head and body.
async fn read_response(stream: &mut (impl AsyncRead + Unpin)) -> (String, Vec<u8>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .map_or(0, |v| v.trim().parse().unwrap());
            while buf.len() < end + 4 + length {
                let n = within(WAIT, "response body", stream.read(&mut chunk))
                    .await
                    .unwrap();
                assert!(n > 0, "connection closed in the middle of a response");
                buf.extend_from_slice(&chunk[..n]);
            }
            return (head, buf[end + 4..end + 4 + length].to_vec());
        }
        let n = within(WAIT, "response head", stream.read(&mut chunk))
            .await
            .unwrap();
        assert!(n > 0, "connection closed before a response");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn http1_post(uid: &str) -> Vec<u8> {
    let body = policy_review(uid);
    format!(
        "POST /validate/policy HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// A body the test feeds by hand.
fn channel_body() -> (mpsc::UnboundedSender<Bytes>, TestBody) {
    let (tx, rx) = mpsc::unbounded::<Bytes>();
    let stream = rx.map(|data| Ok(hyper::body::Frame::data(data)));
    (tx, BodyExt::boxed(http_body_util::StreamBody::new(stream)))
}

/// A policy review padded to about `size` bytes with a string (cheap to decode) or with an
/// array of numbers (expensive to decode).
fn padded_review(uid: &str, size: usize, dense: bool) -> String {
    let mut review: serde_json::Value = serde_json::from_str(&policy_review(uid)).unwrap();
    review["padding"] = if dense {
        serde_json::Value::Array(vec![serde_json::Value::from(0); size / 2])
    } else {
        serde_json::Value::String("x".repeat(size))
    };
    review.to_string()
}

async fn status_of(
    response: impl Future<Output = hyper::Result<http::Response<hyper::body::Incoming>>>,
) -> (StatusCode, Bytes) {
    let response = within(WAIT, "response", response).await.unwrap();
    let status = response.status();
    let body = within(WAIT, "response body", response.into_body().collect())
        .await
        .unwrap()
        .to_bytes();
    (status, body)
}

// ------------------------------------------------------------------------------------------------
// A timer on every connection state

#[tokio::test]
async fn a_client_that_completes_the_handshake_and_sends_nothing_is_closed_after_the_header_read_timeout() {
    let header_read_timeout = Duration::from_millis(300);
    let server = start(Limits {
        header_read_timeout,
        ..Setup::default().limits
    })
    .await;
    // With ALPN, and without: then the server must read the first bytes to tell HTTP/1.1 from
    // HTTP/2, a step that had no timer.
    for alpn in [&[&b"http/1.1"[..]][..], &[b"h2"], &[]] {
        let mut tls = connect_alpn(server.addr(), &server.certs.ca_pem, alpn)
            .await
            .unwrap();
        let started = Instant::now();
        until_closed(&mut tls, "idle client closed").await;
        assert!(
            started.elapsed() >= header_read_timeout,
            "{alpn:?}: closed too early"
        );
    }
    assert_eq!(
        value(
            &server,
            "karmada_takeover_connections_timed_out_total{state=\"first-request\"}"
        ),
        3.0
    );
    // Others are served meanwhile and after.
    let (status, _) = server
        .client()
        .await
        .post_json("/validate/policy", policy_review("after"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    server.shutdown().await;
}

#[tokio::test]
async fn an_idle_http2_connection_is_closed_after_the_idle_timeout_although_it_answers_pings() {
    let idle_timeout = Duration::from_millis(800);
    let server = start(Limits {
        header_read_timeout: Duration::from_millis(300),
        idle_timeout,
        ..Setup::default().limits
    })
    .await;
    let mut h2 = H2::connect(server.addr(), &server.certs.ca_pem).await;
    let (status, body) = h2.review("/validate/policy", policy_review("h2-idle")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response_uid(&body), "h2-idle");
    let idle_from = Instant::now();
    within(WAIT, "idle HTTP/2 connection closed", &mut h2.closed)
        .await
        .unwrap();
    let idle_for = idle_from.elapsed();
    assert!(
        idle_for >= idle_timeout - Duration::from_millis(100),
        "closed after {idle_for:?}"
    );
    assert_eq!(
        value(
            &server,
            "karmada_takeover_connections_timed_out_total{state=\"idle\"}"
        ),
        1.0
    );
    eventually(WAIT, "no connection open", || {
        value(&server, "karmada_takeover_connections") == 0.0
    })
    .await;
    server.shutdown().await;
}

#[tokio::test]
async fn an_http1_keep_alive_connection_lives_until_the_idle_timeout_but_a_started_request_must_finish_its_headers()
 {
    let header_read_timeout = Duration::from_millis(300);
    let idle_timeout = Duration::from_millis(1500);
    let server = start(Limits {
        header_read_timeout,
        idle_timeout,
        ..Setup::default().limits
    })
    .await;

    // Keep-alive between requests: the idle timeout, not the header timeout.
    let mut tls = connect_raw(server.addr(), &server.certs.ca_pem).await.unwrap();
    tls.write_all(&http1_post("keep-alive")).await.unwrap();
    let (head, body) = read_response(&mut tls).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(response_uid(&body), "keep-alive");
    let idle_from = Instant::now();
    until_closed(&mut tls, "idle keep-alive connection closed").await;
    let idle_for = idle_from.elapsed();
    assert!(
        idle_for >= idle_timeout - Duration::from_millis(100),
        "an idle keep-alive connection was closed after {idle_for:?}, before --idle-timeout"
    );
    assert_eq!(
        value(
            &server,
            "karmada_takeover_connections_timed_out_total{state=\"idle\"}"
        ),
        1.0
    );

    // A second request whose headers never finish: cut off by the header timeout.
    let mut tls = connect_raw(server.addr(), &server.certs.ca_pem).await.unwrap();
    tls.write_all(&http1_post("first")).await.unwrap();
    let (head, _) = read_response(&mut tls).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    tls.write_all(b"POST /validate/policy HTTP/1.1\r\nhost: localhost\r\n")
        .await
        .unwrap();
    until_closed(&mut tls, "slow headers cut off").await;
    assert_eq!(
        value(
            &server,
            "karmada_takeover_connections_timed_out_total{state=\"request-headers\"}"
        ),
        1.0
    );
    server.shutdown().await;
}

// ------------------------------------------------------------------------------------------------
// Connection cap

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_max_connections_a_new_client_waits_until_an_idle_connection_is_closed_for_it() {
    let server = start(Limits {
        max_connections: 2,
        header_read_timeout: Duration::from_millis(300),
        idle_timeout: Duration::from_secs(60),
        request_timeout: Duration::from_secs(30),
        ..Setup::default().limits
    })
    .await;
    let addr = server.addr();
    let ca = server.certs.ca_pem.clone();

    // Two connections, each with a review in flight (half of its body sent).
    let mut busy = Vec::new();
    for name in ["a", "b"] {
        let mut h2 = H2::connect(addr, &ca).await;
        let body = policy_review(name);
        let (mut tx, stream) = channel_body();
        tx.send(Bytes::copy_from_slice(&body.as_bytes()[..body.len() / 2]))
            .await
            .unwrap();
        let response = h2.post("/validate/policy", body.len(), stream);
        busy.push((h2, body, tx, response));
    }
    eventually(WAIT, "two reviews in flight", || {
        value(&server, "karmada_takeover_inflight_requests") == 2.0
    })
    .await;

    // A third client: the listener is at its cap, so it waits in the backlog.
    let metrics = server.metrics.clone();
    let third = tokio::spawn(async move {
        let mut h2 = H2::connect(addr, &ca).await;
        let text = support::metrics_text(&metrics);
        let at_connect = (
            metric(&text, "karmada_takeover_connections").unwrap(),
            metric(
                &text,
                "karmada_takeover_connections_timed_out_total{state=\"idle\"}",
            )
            .unwrap_or(0.0),
        );
        (
            at_connect,
            h2.review("/validate/policy", policy_review("c")).await,
        )
    });

    // The first review completes; its connection is now idle, and with the listener at its cap it
    // is closed after --header-read-timeout (not the 60 s --idle-timeout) to let the client in.
    let (mut a, a_body, mut a_tx, a_response) = busy.remove(0);
    a_tx.send(Bytes::copy_from_slice(&a_body.as_bytes()[a_body.len() / 2..]))
        .await
        .unwrap();
    drop(a_tx);
    let (status, body) = status_of(a_response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response_uid(&body), "a");
    within(
        WAIT,
        "the idle connection closed for the waiting client",
        &mut a.closed,
    )
    .await
    .unwrap();

    let ((open_at_connect, idle_closed_at_connect), (status, body)) =
        within(WAIT, "third client served", third).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response_uid(&body), "c");
    assert!(open_at_connect <= 2.0, "{open_at_connect} connections open");
    assert_eq!(
        idle_closed_at_connect, 1.0,
        "the third client was accepted before an idle connection made room for it"
    );

    // The busy connection was left alone.
    let (_b, b_body, mut b_tx, b_response) = busy.remove(0);
    b_tx.send(Bytes::copy_from_slice(&b_body.as_bytes()[b_body.len() / 2..]))
        .await
        .unwrap();
    drop(b_tx);
    let (status, body) = status_of(b_response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response_uid(&body), "b");
    assert!(value(&server, "karmada_takeover_connection_limit_reached_total") >= 1.0);
    server.shutdown().await;
}

// ------------------------------------------------------------------------------------------------
// Permits after the body

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streams_that_send_headers_and_no_body_do_not_delay_a_valid_review() {
    let request_timeout = Duration::from_secs(4);
    let server = start(Limits {
        max_concurrent_requests: 2,
        request_timeout,
        ..Setup::default().limits
    })
    .await;
    let mut flood = H2::connect(server.addr(), &server.certs.ca_pem).await;
    let mut silent = Vec::new();
    for _ in 0..20 {
        within(WAIT, "stream capacity", flood.sender.ready())
            .await
            .unwrap();
        silent.push(flood.post("/validate/policy", 1000, stalled(Bytes::new())));
    }
    eventually(WAIT, "twenty silent streams in flight", || {
        value(&server, "karmada_takeover_inflight_requests") == 20.0
    })
    .await;

    let started = Instant::now();
    let mut client = server.client().await;
    let (status, body) = within(
        WAIT,
        "valid review",
        client.post_json("/validate/policy", policy_review("valid")),
    )
    .await
    .unwrap();
    let took = started.elapsed();
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(response_uid(&body), "valid");
    assert!(took < request_timeout / 2, "the valid review took {took:?}");
    drop(silent);
    server.shutdown().await;
}

// ------------------------------------------------------------------------------------------------
// Memory budget

fn budget_limits() -> Limits {
    Limits {
        // Every body is small (≤ 64 KiB): the small share is a quarter of 256 KiB = 64 KiB.
        max_body_bytes: 64 * 1024,
        memory_budget: 256 * 1024,
        request_timeout: Duration::from_secs(1),
        ..Setup::default().limits
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_finds_the_memory_budget_taken_waits_until_its_deadline_then_gets_503() {
    let server = start(budget_limits()).await;
    let mut h2 = H2::connect(server.addr(), &server.certs.ca_pem).await;

    // The victim sends its headers first (its deadline runs out first), its body later.
    let victim_body = policy_review("victim");
    let (mut victim_tx, stream) = channel_body();
    let victim = h2.post("/validate/policy", victim_body.len(), stream);
    eventually(WAIT, "victim in flight", || {
        value(&server, "karmada_takeover_inflight_requests") == 1.0
    })
    .await;
    // A slow client declares 64 KiB, sends 1 KiB and stalls: the whole 64 KiB share is reserved.
    within(WAIT, "ready", h2.sender.ready()).await.unwrap();
    let hog = h2.post("/validate/policy", 64 * 1024, stalled(vec![b' '; 1024]));
    eventually(WAIT, "the slow body holds its reservation", || {
        value(&server, "karmada_takeover_body_memory_bytes") == 64.0 * 1024.0
    })
    .await;
    victim_tx.send(Bytes::from(victim_body)).await.unwrap();
    drop(victim_tx);

    let (status, body) = status_of(victim).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        status_message(&body).contains("--memory-budget"),
        "{}",
        status_message(&body)
    );
    assert_eq!(
        value(
            &server,
            "karmada_takeover_admission_bad_requests_total{reason=\"memory-budget\"}"
        ),
        1.0
    );
    let (status, _) = status_of(hog).await;
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT);
    eventually(WAIT, "budget released", || {
        value(&server, "karmada_takeover_body_memory_bytes") == 0.0
    })
    .await;
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_beyond_the_memory_budget_queue_and_are_all_answered() {
    let server = start(Limits {
        request_timeout: Duration::from_secs(5),
        ..budget_limits()
    })
    .await;
    // Six 30 KiB reviews at once: two fit the 64 KiB share at a time.
    let mut h2 = H2::connect(server.addr(), &server.certs.ca_pem).await;
    let mut responses = Vec::new();
    for i in 0..6 {
        let body = padded_review(&format!("q{i}"), 30 * 1024, false);
        within(WAIT, "ready", h2.sender.ready()).await.unwrap();
        responses.push(h2.post("/validate/policy", body.len(), full(body)));
    }
    for (i, response) in responses.into_iter().enumerate() {
        let (status, body) = status_of(response).await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        assert_eq!(response_uid(&body), format!("q{i}"));
    }
    assert_eq!(value(&server, "karmada_takeover_body_memory_bytes"), 0.0);
    server.shutdown().await;
}

#[tokio::test]
async fn a_review_that_would_take_more_memory_to_decode_than_the_budget_holds_is_refused() {
    let server = start(Limits {
        max_body_bytes: 1024 * 1024,
        memory_budget: 4 * 1024 * 1024,
        ..Setup::default().limits
    })
    .await;
    let mut client = server.client().await;
    // 600 KB of `0,`: about 19 MB once decoded, more than the 2 MiB decoding share.
    let (status, body) = client
        .post_json("/validate/policy", padded_review("dense", 600 * 1024, true))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        status_message(&body).contains("--memory-budget"),
        "{}",
        status_message(&body)
    );
    // The same size as one string decodes to about its size: answered.
    let mut client = server.client().await;
    let (status, body) = client
        .post_json("/validate/policy", padded_review("sparse", 600 * 1024, false))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    assert_eq!(value(&server, "karmada_takeover_body_memory_bytes"), 0.0);
    server.shutdown().await;
}

#[tokio::test]
async fn a_budget_below_four_bodies_is_refused_at_startup_naming_the_flags() {
    let error = TestServer::start_with(
        Setup {
            limits: Limits {
                max_body_bytes: 1024 * 1024,
                memory_budget: 3 * 1024 * 1024,
                ..Setup::default().limits
            },
            ..Setup::default()
        },
        tempfile::tempdir().unwrap(),
        karmada_takeover::tls::dev::throwaway_ca_and_cert(&["localhost"]).unwrap(),
    )
    .await
    .err()
    .unwrap()
    .to_string();
    assert!(
        error.contains("--memory-budget") && error.contains("--max-body-bytes"),
        "{error}"
    );
}

// ------------------------------------------------------------------------------------------------
// The in-flight gauge

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_inflight_gauge_returns_to_zero_when_waiting_requests_are_dropped() {
    let server = start(Limits {
        request_timeout: Duration::from_secs(30),
        max_concurrent_requests: 1,
        ..budget_limits()
    })
    .await;
    let mut h2 = H2::connect(server.addr(), &server.certs.ca_pem).await;

    // Dropped while waiting for the rest of its body.
    let waiting_for_body = h2.post("/validate/policy", 1000, stalled(vec![b' '; 10]));
    eventually(WAIT, "one request in flight", || {
        value(&server, "karmada_takeover_inflight_requests") == 1.0
    })
    .await;
    drop(waiting_for_body); // RST_STREAM(CANCEL): hyper drops the request's future
    eventually(WAIT, "in-flight gauge back to 0", || {
        value(&server, "karmada_takeover_inflight_requests") == 0.0
    })
    .await;

    // Dropped while waiting for memory (before the fix: for the concurrency permit, which the
    // slow body had taken before reading its body).
    within(WAIT, "ready", h2.sender.ready()).await.unwrap();
    let hog = h2.post("/validate/policy", 64 * 1024, stalled(vec![b' '; 1024]));
    eventually(WAIT, "the slow body in flight", || {
        value(&server, "karmada_takeover_inflight_requests") == 1.0
    })
    .await;
    let body = policy_review("queued");
    within(WAIT, "ready", h2.sender.ready()).await.unwrap();
    let queued = h2.post("/validate/policy", body.len(), full(body));
    eventually(WAIT, "two requests in flight", || {
        value(&server, "karmada_takeover_inflight_requests") == 2.0
    })
    .await;
    drop(queued);
    drop(hog);
    eventually(WAIT, "in-flight gauge and budget back to 0", || {
        value(&server, "karmada_takeover_inflight_requests") == 0.0
            && value(&server, "karmada_takeover_body_memory_bytes") == 0.0
    })
    .await;
    server.shutdown().await;
}

// ------------------------------------------------------------------------------------------------
// Shutdown

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_turns_readiness_off_at_once_but_keeps_serving_for_the_delay_then_drains() {
    let shutdown_delay = Duration::from_secs(3);
    let mut server = start(Limits {
        shutdown_delay,
        shutdown_grace_period: Duration::from_secs(5),
        // Longer than the delay: one review stays in flight across its end.
        request_timeout: Duration::from_secs(10),
        ..Setup::default().limits
    })
    .await;
    let addr = server.addr();
    let mut admin = server.admin().await;
    assert_eq!(admin.get("/readyz").await.unwrap().0, StatusCode::OK);
    let mut keep_alive = server.client().await;
    let (status, _) = keep_alive
        .post_json("/validate/policy", policy_review("before"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);

    let started = Instant::now();
    let shutdown = tokio::spawn(server.server.take().unwrap().shutdown());

    // At once: not ready, so the endpoints stop routing here.
    let (status, body) = admin.get("/readyz").await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(String::from_utf8_lossy(&body).contains("shutting down"));
    // But a client the endpoints still sent here is accepted and answered.
    let mut late = within(
        WAIT,
        "connect during the delay",
        Client::connect(addr, &server.options()),
    )
    .await
    .unwrap();
    let (status, body) = late
        .post_json("/validate/policy", policy_review("late"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response_uid(&body), "late");
    // A keep-alive HTTP/1.1 connection is answered and told to close, so its client reconnects
    // (elsewhere, once the endpoints have caught up).
    let response = keep_alive
        .request(Method::POST, "/validate/policy", policy_review("during").into())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["connection"], "close");
    // A connection accepted during the delay that has not sent its request yet.
    let mut quiet = connect_raw(addr, &server.certs.ca_pem).await.unwrap();
    // An HTTP/2 review still in flight when the delay ends (half of its body sent).
    let mut h2 = H2::connect(addr, &server.certs.ca_pem).await;
    let h2_body = policy_review("h2-in-flight");
    let (mut h2_tx, stream) = channel_body();
    h2_tx
        .send(Bytes::copy_from_slice(&h2_body.as_bytes()[..h2_body.len() / 2]))
        .await
        .unwrap();
    let h2_response = h2.post("/validate/policy", h2_body.len(), stream);
    assert!(
        started.elapsed() < shutdown_delay,
        "the checks above took longer than the shutdown delay"
    );

    // After the delay: no new connections.
    eventually(WAIT, "listener closed", || {
        std::net::TcpStream::connect(addr).is_err()
    })
    .await;
    assert!(started.elapsed() >= shutdown_delay);
    // The quiet connection's request, sent after the listener closed, is still answered.
    quiet.write_all(&http1_post("quiet")).await.unwrap();
    let (head, body) = read_response(&mut quiet).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.to_ascii_lowercase().contains("connection: close"), "{head}");
    assert_eq!(response_uid(&body), "quiet");
    // The HTTP/2 review is finished and answered; then its connection closes (GOAWAY).
    h2_tx
        .send(Bytes::copy_from_slice(&h2_body.as_bytes()[h2_body.len() / 2..]))
        .await
        .unwrap();
    drop(h2_tx);
    let (status, body) = status_of(h2_response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response_uid(&body), "h2-in-flight");
    within(WAIT, "HTTP/2 connection closed", &mut h2.closed)
        .await
        .unwrap();
    within(WAIT, "shutdown finished", shutdown).await.unwrap();
}
