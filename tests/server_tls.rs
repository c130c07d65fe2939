//! Certificate rotation through a kubelet `..data` symlink swap, and mTLS.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use http::StatusCode;
use karmada_takeover::{
    cli::demo::client::{Client, ClientOptions},
    tls::dev,
};
use support::{
    init,
    server::{Setup, TestServer, policy_review, response_uid, secret_volume, swap_secret_volume},
    wait::{WAIT, eventually, within},
};

#[tokio::test]
async fn new_handshakes_see_a_rotated_certificate_and_a_broken_pair_keeps_the_old_one() {
    init();
    let dir = tempfile::tempdir().unwrap();
    let certs = dev::throwaway_ca_and_cert(&["localhost"]).unwrap();
    let files = secret_volume(dir.path(), "2026_a", &certs.cert_pem, &certs.key_pem);
    let setup = Setup {
        files: Some(files),
        tls_reload_interval: Duration::from_millis(50),
        ..Setup::default()
    };
    let first_serial = certs.serial.clone();
    let next = certs.serving_cert(&["localhost"]).unwrap();
    let unrelated = dev::throwaway_ca_and_cert(&["localhost"]).unwrap();
    let server = TestServer::start_with(setup, tempfile::tempdir().unwrap(), certs)
        .await
        .unwrap();
    let addr = server.addr();
    let options = server.options();

    // A client that keeps opening new connections and records the serial it was served.
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(parking_lot::Mutex::new(Vec::<String>::new()));
    let failures = Arc::new(AtomicUsize::new(0));
    let prober = {
        let (stop, served, failures, options) =
            (stop.clone(), served.clone(), failures.clone(), options.clone());
        tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                match Client::connect(addr, &options).await {
                    Ok(mut client) => {
                        let serial = client.tls().unwrap().peer_serial().unwrap();
                        let uid = format!("probe-{i}");
                        let (status, body) = client
                            .post_json("/validate/policy", policy_review(&uid))
                            .await
                            .unwrap();
                        assert_eq!(status, StatusCode::OK);
                        assert_eq!(response_uid(&body), uid);
                        served.lock().push(serial);
                    }
                    Err(_) => {
                        failures.fetch_add(1, Ordering::SeqCst);
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    eventually(WAIT, "probe served by the first cert", || {
        served.lock().contains(&first_serial)
    })
    .await;

    swap_secret_volume(dir.path(), "2026_b", &next.cert_pem, &next.key_pem);
    eventually(WAIT, "a new handshake sees the rotated cert", || {
        served.lock().last() == Some(&next.serial)
    })
    .await;
    assert_eq!(
        server.server.as_ref().unwrap().tls().current().serial,
        next.serial
    );
    assert!(
        server
            .metrics_text()
            .contains("tls_reloads_total{result=\"ok\"} 1")
    );

    // A broken pair (certificate and key that do not match) is refused; the old cert keeps serving.
    swap_secret_volume(dir.path(), "2026_c", &next.cert_pem, &unrelated.key_pem);
    eventually(WAIT, "the broken pair is counted", || {
        server
            .metrics_text()
            .contains("tls_reloads_total{result=\"error\"} 1")
    })
    .await;
    let seen = served.lock().len();
    eventually(WAIT, "more probes after the broken swap", || {
        served.lock().len() > seen + 3
    })
    .await;
    assert!(served.lock()[seen..].iter().all(|s| *s == next.serial));

    stop.store(true, Ordering::SeqCst);
    within(WAIT, "prober stops", prober).await.unwrap();
    assert_eq!(
        failures.load(Ordering::SeqCst),
        0,
        "no handshake failed during rotation"
    );
    server.shutdown().await;
}

/// A client presenting the certificate karmada-apiserver would, issued by the server's CA.
async fn mtls_client(server: &TestServer) -> Client {
    let identity = server.certs.client_cert("karmada-apiserver").unwrap();
    let options = server
        .options()
        .identity(identity.cert_pem.as_bytes(), identity.key_pem.as_bytes());
    within(WAIT, "mTLS connect", Client::connect(server.addr(), &options))
        .await
        .unwrap()
}

#[tokio::test]
async fn with_a_client_ca_only_clients_with_a_certificate_from_that_ca_are_served() {
    let server = TestServer::start(Setup {
        client_ca: true,
        ..Setup::default()
    })
    .await;

    let mut client = mtls_client(&server).await;
    let (status, body) = client
        .post_json("/validate/policy", policy_review("mtls"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(response_uid(&body), "mtls");

    // No certificate: TLS 1.3 finishes the client side of the handshake before the server checks,
    // so the refusal shows on the first exchange.
    let anonymous = async {
        let mut client = Client::connect(server.addr(), &server.options()).await?;
        client.post_json("/validate/policy", policy_review("anon")).await
    };
    assert!(within(WAIT, "anonymous", anonymous).await.is_err());

    let stranger = dev::throwaway_ca_and_cert(&["localhost"])
        .unwrap()
        .client_cert("mallory")
        .unwrap();
    let foreign = async {
        let options = ClientOptions::new(server.certs.ca_pem.as_bytes())
            .identity(stranger.cert_pem.as_bytes(), stranger.key_pem.as_bytes());
        let mut client = Client::connect(server.addr(), &options).await?;
        client
            .post_json("/validate/policy", policy_review("foreign"))
            .await
    };
    assert!(within(WAIT, "foreign CA", foreign).await.is_err());
    server.shutdown().await;
}

#[tokio::test]
async fn rejected_handshakes_are_counted_by_reason() {
    let server = TestServer::start(Setup {
        client_ca: true,
        limits: karmada_takeover::server::Limits {
            header_read_timeout: Duration::from_millis(300),
            shutdown_grace_period: Duration::from_secs(5),
            ..karmada_takeover::server::Limits::default()
        },
        ..Setup::default()
    })
    .await;
    let failures = |reason: &str| {
        server
            .metrics
            .tls_handshake_failures_total
            .with_label_values(&[reason])
            .get()
    };
    let counted = |reason: &'static str| {
        let failures = &failures;
        async move {
            eventually(WAIT, reason, || failures(reason) == 1).await;
        }
    };

    // No client certificate.
    let anonymous = async {
        let mut client = Client::connect(server.addr(), &server.options()).await?;
        client.post_json("/validate/policy", policy_review("anon")).await
    };
    assert!(within(WAIT, "anonymous", anonymous).await.is_err());
    counted("no-client-cert").await;

    // A client certificate from another CA.
    let stranger = dev::throwaway_ca_and_cert(&["localhost"]).unwrap();
    let mallory = stranger.client_cert("mallory").unwrap();
    let foreign = async {
        let options = server
            .options()
            .identity(mallory.cert_pem.as_bytes(), mallory.key_pem.as_bytes());
        let mut client = Client::connect(server.addr(), &options).await?;
        client
            .post_json("/validate/policy", policy_review("foreign"))
            .await
    };
    assert!(within(WAIT, "foreign CA", foreign).await.is_err());
    counted("bad-client-cert").await;

    // A client that does not trust our certificate says so with an alert.
    let identity = server.certs.client_cert("karmada-apiserver").unwrap();
    let distrustful = ClientOptions::new(stranger.ca_pem.as_bytes())
        .identity(identity.cert_pem.as_bytes(), identity.key_pem.as_bytes());
    assert!(
        within(WAIT, "distrustful", Client::connect(server.addr(), &distrustful))
            .await
            .is_err()
    );
    counted("server-cert-rejected").await;

    // Plain HTTP on the HTTPS port.
    let mut plain = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    tokio::io::AsyncWriteExt::write_all(&mut plain, b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    counted("protocol").await;

    // Connected, then silent past --header-read-timeout.
    let _silent = tokio::net::TcpStream::connect(server.addr()).await.unwrap();
    counted("timeout").await;

    // Connected, then closed before a ClientHello.
    drop(tokio::net::TcpStream::connect(server.addr()).await.unwrap());
    counted("other").await;

    // A client with a good certificate is served, and nothing else was counted.
    let mut client = mtls_client(&server).await;
    let (status, _) = client
        .post_json("/validate/policy", policy_review("ok"))
        .await
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    let text = server.metrics_text();
    let total: u64 = karmada_takeover::tls::HandshakeFailure::ALL
        .iter()
        .map(|r| failures(r.label()))
        .sum();
    assert_eq!(total, 6, "{text}");
    server.shutdown().await;
}
