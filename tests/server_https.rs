//! The webhook over real TLS on loopback: handshakes, routes, bad inputs, limits, admin
//! endpoints and startup failures.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, StatusCode};
use karmada_takeover::{
    cli::demo::client::{Client, ClientOptions, HttpVersion},
    fleet::Fleet,
    server::Limits,
    tls::dev,
};
use support::{
    init,
    server::{
        Setup, TestServer, connect_raw, deployment_review, policy_review, response_uid, status_message,
        write_certs,
    },
    wait::{WAIT, within},
    write,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn handshakes_with_tls12_and_tls13_over_h2_and_http11_and_answers_each_review_with_its_uid() {
    let server = TestServer::start(Setup::default()).await;
    let cases = [
        (
            "tls12-h1",
            server.options().tls12_only().http(HttpVersion::Http1),
            rustls::ProtocolVersion::TLSv1_2,
            &b"http/1.1"[..],
        ),
        (
            "tls12-h2",
            server.options().tls12_only().http(HttpVersion::Http2),
            rustls::ProtocolVersion::TLSv1_2,
            b"h2",
        ),
        (
            "tls13-h1",
            server.options().tls13_only().http(HttpVersion::Http1),
            rustls::ProtocolVersion::TLSv1_3,
            b"http/1.1",
        ),
        (
            "tls13-h2",
            server.options().tls13_only().http(HttpVersion::Http2),
            rustls::ProtocolVersion::TLSv1_3,
            b"h2",
        ),
    ];
    for (name, options, version, alpn) in cases {
        let mut client = within(WAIT, name, Client::connect(server.addr(), &options))
            .await
            .unwrap();
        let tls = client.tls().unwrap().clone();
        assert_eq!(tls.version, Some(version), "{name}");
        assert_eq!(tls.alpn.as_deref(), Some(alpn), "{name}");
        assert_eq!(
            tls.peer_serial().as_deref(),
            Some(server.certs.serial.as_str()),
            "{name}"
        );
        // Keep-alive: several reviews on the same connection.
        for i in 0..3 {
            let uid = format!("{name}-{i}");
            let (status, body) = within(
                WAIT,
                name,
                client.post_json("/validate/policy", policy_review(&uid)),
            )
            .await
            .unwrap();
            assert_eq!(
                status,
                StatusCode::OK,
                "{name}: {}",
                String::from_utf8_lossy(&body)
            );
            assert_eq!(response_uid(&body), uid);
        }
    }
    server.shutdown().await;
}

#[tokio::test]
async fn every_webhook_path_answers_with_an_admission_review_in_json() {
    let server = TestServer::start(Setup::default()).await;
    let mut client = server.client().await;
    for (path, body) in [
        ("/mutate/workload", deployment_review("u-mw", false)),
        ("/validate/workload", deployment_review("u-vw", false)),
        ("/mutate/policy", policy_review("u-mp")),
        ("/validate/policy", policy_review("u-vp")),
    ] {
        let response = within(WAIT, path, client.request(Method::POST, path, body.into()))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(response.headers()["content-type"], "application/json");
        let review: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(review["kind"], "AdmissionReview");
        assert_eq!(review["apiVersion"], "admission.k8s.io/v1");
        assert!(review["response"]["allowed"].is_boolean(), "{review}");
    }
    server.shutdown().await;
}

#[tokio::test]
async fn bad_inputs_get_404_405_400_and_413_with_messages_that_say_what_is_wrong() {
    let limits = Limits {
        max_body_bytes: 64 * 1024,
        ..Setup::default().limits
    };
    let server = TestServer::start(Setup {
        limits,
        ..Setup::default()
    })
    .await;
    let mut client = server.client().await;

    let (status, body) = client.post_json("/mutate", policy_review("x")).await.unwrap();
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        status_message(&body).contains("/validate/policy"),
        "{}",
        status_message(&body)
    );

    let response = client
        .request(Method::GET, "/validate/policy", Default::default())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(response.headers()["allow"], "POST");

    let cases = [
        (
            "not json",
            "{\"apiVersion\": ",
            "not a valid admission.k8s.io/v1 AdmissionReview",
        ),
        ("empty object", "{}", "missing field `apiVersion`"),
        (
            "no request",
            r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#,
            "has no request",
        ),
        (
            "wrong types",
            r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":42}}"#,
            "invalid type",
        ),
    ];
    let bogus_type = policy_review("x")
        .replace("admission.k8s.io/v1", "bogus/v9")
        .replace("\"AdmissionReview\"", "\"Foo\"");
    let v1beta1 = policy_review("x").replace("admission.k8s.io/v1", "admission.k8s.io/v1beta1");
    let long_value = policy_review("x").replace("\"CREATE\"", &format!("\"{}\"", "C".repeat(50_000)));
    let cases = cases.into_iter().chain([
        (
            "another review type",
            bogus_type.as_str(),
            r#"apiVersion "bogus/v9" and kind "Foo": only admission.k8s.io/v1 AdmissionReview is served"#,
        ),
        (
            "v1beta1",
            v1beta1.as_str(),
            r#"apiVersion "admission.k8s.io/v1beta1" and kind "AdmissionReview""#,
        ),
        (
            "a long value",
            long_value.as_str(),
            "…(50000 bytes)`, expected one of",
        ),
    ]);
    let not_utf8 = b"{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"\xff\"}".as_slice();
    let cases = cases
        .into_iter()
        .map(|(name, body, expected)| (name, body.as_bytes(), expected))
        .chain([("not UTF-8", not_utf8, "not UTF-8")]);
    for (name, body, expected) in cases {
        for path in ["/validate/policy", "/mutate/workload"] {
            let (status, response) = client
                .post_json(path, Bytes::copy_from_slice(body))
                .await
                .unwrap();
            assert_eq!(status, StatusCode::BAD_REQUEST, "{name} {path}");
            let message = status_message(&response);
            assert!(message.contains(expected), "{name} {path}: {message}");
            assert!(message.len() < 1024, "{name} {path}: {} bytes", message.len());
        }
    }

    let huge = format!("{{\"padding\": \"{}\"}}", "x".repeat(100 * 1024));
    let (status, response) = client.post_json("/validate/policy", huge).await.unwrap();
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(status_message(&response).contains("--max-body-bytes"));

    // An oversized body is not read, so the server closes that connection; new ones are served.
    let mut client = server.client().await;
    let (status, body) = client
        .post_json("/validate/policy", policy_review("after"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response_uid(&body), "after");

    let metrics = server.metrics_text();
    for reason in [
        "not-found",
        "method-not-allowed",
        "bad-review",
        "payload-too-large",
    ] {
        assert!(
            metrics.contains(&format!("admission_bad_requests_total{{reason=\"{reason}\"}} ")),
            "{reason}"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_body_streamed_without_content_length_is_capped_too() {
    let limits = Limits {
        max_body_bytes: 4096,
        ..Setup::default().limits
    };
    let server = TestServer::start(Setup {
        limits,
        ..Setup::default()
    })
    .await;
    let mut tls = connect_raw(server.addr(), &server.certs.ca_pem).await.unwrap();
    let chunk = "x".repeat(8192);
    let request = format!(
        "POST /validate/policy HTTP/1.1\r\nhost: localhost\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{chunk}\r\n0\r\n\r\n",
        chunk.len()
    );
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut response = vec![0u8; 4096];
    let n = within(WAIT, "413", tls.read(&mut response)).await.unwrap();
    let text = String::from_utf8_lossy(&response[..n]);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_cut_off_while_others_are_served() {
    let header_read_timeout = Duration::from_millis(300);
    let limits = Limits {
        header_read_timeout,
        ..Setup::default().limits
    };
    let server = TestServer::start(Setup {
        limits,
        ..Setup::default()
    })
    .await;

    let mut slow = connect_raw(server.addr(), &server.certs.ca_pem).await.unwrap();
    let started = Instant::now();
    slow.write_all(b"POST /validate/policy HTTP/1.1\r\nhost: localhost\r\n")
        .await
        .unwrap();

    let mut client = server.client().await;
    let (status, body) = client
        .post_json("/validate/policy", policy_review("fast"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response_uid(&body), "fast");

    let mut buf = Vec::new();
    let _ = within(WAIT, "slow client cut off", slow.read_to_end(&mut buf)).await;
    let elapsed = started.elapsed();
    assert!(elapsed >= header_read_timeout, "closed too early: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(3), "closed too late: {elapsed:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_body_that_arrives_slower_than_the_request_timeout_gets_504() {
    let limits = Limits {
        request_timeout: Duration::from_millis(300),
        ..Setup::default().limits
    };
    let server = TestServer::start(Setup {
        limits,
        ..Setup::default()
    })
    .await;
    let mut tls = connect_raw(server.addr(), &server.certs.ca_pem).await.unwrap();
    let body = policy_review("slow-body");
    let head = format!(
        "POST /validate/policy HTTP/1.1\r\nhost: localhost\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    tls.write_all(head.as_bytes()).await.unwrap();
    tls.write_all(&body.as_bytes()[..10]).await.unwrap();
    let mut response = vec![0u8; 4096];
    let n = within(WAIT, "504", tls.read(&mut response)).await.unwrap();
    let text = String::from_utf8_lossy(&response[..n]);
    assert!(text.starts_with("HTTP/1.1 504"), "{text}");
    assert!(text.contains("--request-timeout"), "{text}");
    assert!(
        server
            .metrics_text()
            .contains("admission_bad_requests_total{reason=\"timeout\"} 1")
    );
    server.shutdown().await;
}

#[tokio::test]
async fn dry_run_reviews_never_reach_the_writer() {
    let server = TestServer::start(Setup::default()).await;
    let mut client = server.client().await;
    let (status, body) = client
        .post_json("/mutate/workload", deployment_review("dry", true))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response_uid(&body), "dry");
    assert!(server.writer.recorded().is_empty());
    server.shutdown().await;
}

#[tokio::test]
async fn admin_endpoints_serve_metrics_health_and_readiness_that_follows_the_fleet_sync() {
    let server = TestServer::start(Setup {
        fleet: Fleet::default(),
        ..Setup::default()
    })
    .await;
    let mut admin = server.admin().await;
    assert_eq!(admin.get("/healthz").await.unwrap().0, StatusCode::OK);
    let (status, body) = admin.get("/readyz").await.unwrap();
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(String::from_utf8_lossy(&body).contains("fleet"));

    // Unsynced fleet: reviews are still answered (fail-safe), never hang.
    let mut client = server.client().await;
    let (status, body) = client
        .post_json("/mutate/workload", deployment_review("early", false))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response_uid(&body), "early");

    server.state.fleet.replace(Fleet::synced_empty());
    assert_eq!(admin.get("/readyz").await.unwrap().0, StatusCode::OK);

    for i in 0..5 {
        client
            .post_json("/validate/policy", policy_review(&format!("m{i}")))
            .await
            .unwrap();
    }
    let (status, body) = admin.get("/metrics").await.unwrap();
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8(body.to_vec()).unwrap();
    for family in [
        "karmada_takeover_admission_requests_total{",
        "karmada_takeover_admission_request_duration_seconds_bucket{webhook=\"validate-policy\",le=\"0.00005\"}",
        "karmada_takeover_tls_certificate_expiry_timestamp_seconds ",
        "karmada_takeover_inflight_requests 0",
        "karmada_takeover_fleet_synced",
        "karmada_takeover_takeovers_total",
    ] {
        assert!(text.contains(family), "{family} missing:\n{text}");
    }
    assert!(text.contains(
        "karmada_takeover_admission_requests_total{kind=\"PropagationPolicy\",operation=\"CREATE\",outcome=\"allowed\",webhook=\"validate-policy\"} 5"
    ));
    assert_eq!(admin.get("/nope").await.unwrap().0, StatusCode::NOT_FOUND);
    server.shutdown().await;
}

#[tokio::test]
async fn startup_fails_with_a_message_naming_the_flag() {
    init();
    let certs = dev::throwaway_ca_and_cert(&["localhost"]).unwrap();
    let other = dev::throwaway_ca_and_cert(&["localhost"]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let files = write_certs(dir.path(), &certs);
    write(&dir.path().join("other.key"), &other.key_pem);
    let now = std::time::SystemTime::now();
    let day = Duration::from_secs(86_400);
    let expired = certs
        .serving_cert_valid(&["localhost"], now - 30 * day, now - day)
        .unwrap();
    write(&dir.path().join("expired.crt"), &expired.cert_pem);
    write(&dir.path().join("expired.key"), &expired.key_pem);
    write(
        &dir.path().join("garbage"),
        "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n",
    );

    let cases = [
        (
            "missing cert",
            files.clone().with_cert(dir.path().join("absent.crt")),
            "--tls-cert",
        ),
        (
            "missing key",
            files.clone().with_key(dir.path().join("absent.key")),
            "--tls-key",
        ),
        (
            "mismatch",
            files.clone().with_key(dir.path().join("other.key")),
            "--tls-key",
        ),
        (
            "garbage cert",
            files.clone().with_cert(dir.path().join("garbage")),
            "--tls-cert",
        ),
        (
            "garbage key",
            files.clone().with_key(dir.path().join("garbage")),
            "--tls-key",
        ),
        (
            "expired cert",
            files
                .clone()
                .with_cert(dir.path().join("expired.crt"))
                .with_key(dir.path().join("expired.key")),
            "--tls-cert",
        ),
    ];
    for (name, files, flag) in cases {
        let setup = Setup {
            files: Some(files),
            ..Setup::default()
        };
        let certs = dev::throwaway_ca_and_cert(&["localhost"]).unwrap();
        let error = TestServer::start_with(setup, tempfile::tempdir().unwrap(), certs)
            .await
            .err()
            .unwrap()
            .to_string();
        assert!(error.starts_with(flag), "{name}: {error}");
    }
}

trait FilesExt {
    fn with_cert(self, path: std::path::PathBuf) -> Self;
    fn with_key(self, path: std::path::PathBuf) -> Self;
}

impl FilesExt for karmada_takeover::tls::TlsFiles {
    fn with_cert(mut self, path: std::path::PathBuf) -> Self {
        self.cert = path;
        self
    }
    fn with_key(mut self, path: std::path::PathBuf) -> Self {
        self.key = path;
        self
    }
}

#[tokio::test]
async fn the_client_refuses_a_server_certificate_from_another_ca() {
    let server = TestServer::start(Setup::default()).await;
    let stranger = dev::throwaway_ca_and_cert(&["localhost"]).unwrap();
    let result = Client::connect(server.addr(), &ClientOptions::new(stranger.ca_pem.as_bytes())).await;
    assert!(result.is_err());
    server.shutdown().await;
}
