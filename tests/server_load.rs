//! Graceful shutdown with requests in flight, and a concurrent smoke run.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::time::{Duration, Instant};

use http::StatusCode;
use karmada_takeover::{cli::demo::client::HttpVersion, server::Limits};
use support::{
    server::{Setup, TestServer, connect_raw, deployment_review, policy_review, response_uid},
    wait::{WAIT, eventually, within},
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The value of the `karmada_takeover_inflight_requests` gauge.
fn inflight_gauge(server: &TestServer) -> String {
    server
        .metrics_text()
        .lines()
        .find_map(|l| l.strip_prefix("karmada_takeover_inflight_requests "))
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_lets_in_flight_requests_finish_refuses_new_connections_and_ends_within_the_grace_period() {
    let grace = Duration::from_secs(3);
    let limits = Limits {
        shutdown_grace_period: grace,
        ..Setup::default().limits
    };
    let mut server = TestServer::start(Setup {
        limits,
        ..Setup::default()
    })
    .await;
    let addr = server.addr();

    // Two requests in flight: headers and half of the body sent.
    let mut in_flight = Vec::new();
    for i in 0..2 {
        let uid = format!("in-flight-{i}");
        let body = policy_review(&uid);
        let mut tls = connect_raw(addr, &server.certs.ca_pem).await.unwrap();
        let head = format!(
            "POST /validate/policy HTTP/1.1\r\nhost: localhost\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        tls.write_all(head.as_bytes()).await.unwrap();
        tls.write_all(&body.as_bytes()[..body.len() / 2]).await.unwrap();
        tls.flush().await.unwrap();
        in_flight.push((uid, body, tls));
    }
    // An idle keep-alive connection: it is closed by the drain, not waited for.
    let _idle = server.client().await;
    eventually(WAIT, "two requests in flight", || inflight_gauge(&server) == "2").await;
    assert_eq!(
        server
            .metrics_text()
            .lines()
            .find(|l| l.starts_with("karmada_takeover_inflight_requests ")),
        Some("karmada_takeover_inflight_requests 2")
    );

    let started = Instant::now();
    let shutdown = tokio::spawn(server.server.take().unwrap().shutdown());

    // New connections are refused once the listener is closed.
    eventually(WAIT, "listener closed", || {
        std::net::TcpStream::connect(addr).is_err()
    })
    .await;

    for (uid, body, mut tls) in in_flight {
        tls.write_all(&body.as_bytes()[body.len() / 2..]).await.unwrap();
        let mut response = Vec::new();
        within(WAIT, "in-flight response", tls.read_to_end(&mut response))
            .await
            .unwrap();
        let text = String::from_utf8_lossy(&response);
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        let body_start = text.find("\r\n\r\n").unwrap() + 4;
        assert_eq!(response_uid(&response[body_start..]), uid);
    }
    within(
        grace + Duration::from_secs(2),
        "shutdown within the grace period",
        shutdown,
    )
    .await
    .unwrap();
    assert!(
        started.elapsed() < grace + Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_gives_up_on_a_stuck_request_after_the_grace_period() {
    let grace = Duration::from_millis(500);
    let limits = Limits {
        shutdown_grace_period: grace,
        request_timeout: Duration::from_secs(30),
        ..Setup::default().limits
    };
    let mut server = TestServer::start(Setup {
        limits,
        ..Setup::default()
    })
    .await;
    let mut tls = connect_raw(server.addr(), &server.certs.ca_pem).await.unwrap();
    tls.write_all(b"POST /validate/policy HTTP/1.1\r\nhost: localhost\r\ncontent-length: 1000\r\n\r\n{")
        .await
        .unwrap();
    eventually(WAIT, "the stuck request in flight", || {
        inflight_gauge(&server) == "1"
    })
    .await;
    let started = Instant::now();
    within(WAIT, "shutdown", server.server.take().unwrap().shutdown()).await;
    let elapsed = started.elapsed();
    assert!(
        elapsed >= grace && elapsed < grace + Duration::from_secs(1),
        "took {elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_connections_get_thousands_of_reviews_each_answered_with_its_own_uid() {
    let server = TestServer::start(Setup::default()).await;
    const CONNECTIONS: usize = 16;
    const PER_CONNECTION: usize = 250;
    let mut tasks = Vec::new();
    for c in 0..CONNECTIONS {
        let http = if c % 2 == 0 {
            HttpVersion::Http1
        } else {
            HttpVersion::Http2
        };
        let options = server.options().http(http);
        let addr = server.addr();
        tasks.push(tokio::spawn(async move {
            let mut client = karmada_takeover::cli::demo::client::Client::connect(addr, &options)
                .await
                .unwrap();
            for i in 0..PER_CONNECTION {
                let uid = format!("c{c}-r{i}");
                let (path, body) = if i % 2 == 0 {
                    ("/validate/policy", policy_review(&uid))
                } else {
                    ("/mutate/workload", deployment_review(&uid, false))
                };
                let (status, response) = client.post_json(path, body).await.unwrap();
                assert_eq!(status, StatusCode::OK);
                assert_eq!(response_uid(&response), uid);
            }
            PER_CONNECTION
        }));
    }
    let mut answered = 0;
    for task in tasks {
        answered += within(Duration::from_secs(60), "smoke run", task).await.unwrap();
    }
    assert_eq!(answered, CONNECTIONS * PER_CONNECTION);
    let text = server.metrics_text();
    let count: u64 = text
        .lines()
        .filter(|l| l.starts_with("karmada_takeover_admission_requests_total{"))
        .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert_eq!(count, (CONNECTIONS * PER_CONNECTION) as u64);
    server.shutdown().await;
}
