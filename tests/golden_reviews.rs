//! Golden AdmissionReview fixtures over real TLS: every demo case's request
//! (`tests/fixtures/reviews/<case>.request.json`) is POSTed to a running server on loopback with a
//! real hyper client, and the response must equal `<case>.response.json`.
//!
//! Regenerate after an intended change with `UPDATE_GOLDENS=1 cargo test --test golden_reviews`,
//! then review the diff.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is a failing test

use std::{path::PathBuf, sync::Arc};

use arc_swap::ArcSwap;
use karmada_takeover::{
    cli::demo::{
        self, Expect,
        client::{Client, ClientOptions, HttpVersion},
    },
    config::Config,
    fleet::{SharedFleet, files},
    metrics::Metrics,
    server::State,
    tls,
    writer::{MemoryWriter, Writer},
};
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/reviews")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_case_answers_its_golden_response_over_tls() {
    tls::install_crypto_provider();
    let update = std::env::var_os("UPDATE_GOLDENS").is_some();
    let config = Arc::new(ArcSwap::from_pointee(Config::default()));
    let writer = Arc::new(MemoryWriter::default());
    let state = State {
        fleet: SharedFleet::new(files::embedded()),
        config: Arc::clone(&config),
        writer: Arc::clone(&writer) as Arc<dyn Writer>,
        metrics: Arc::new(Metrics::new().unwrap()),
    };
    let demo::LocalServer { server, ca_pem, _dir } = demo::start_local(state).await.unwrap();
    let mut client = Client::connect(
        server.local_addr(),
        &ClientOptions::new(ca_pem.as_bytes()).http(HttpVersion::Http1),
    )
    .await
    .unwrap();

    let cases = demo::cases();
    let mut names: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .filter_map(|e| {
            e.unwrap()
                .file_name()
                .to_str()?
                .strip_suffix(".request.json")
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    let mut expected: Vec<String> = cases.iter().map(|c| c.name.to_owned()).collect();
    expected.sort();
    if !update {
        assert_eq!(
            names, expected,
            "every demo case has a golden fixture and vice versa (UPDATE_GOLDENS=1 regenerates)"
        );
    }

    let mut mismatches = Vec::new();
    for case in &cases {
        config.store(Arc::new(case.config()));
        let request_file = fixtures().join(format!("{}.request.json", case.name));
        let response_file = fixtures().join(format!("{}.response.json", case.name));
        if update {
            std::fs::write(
                &request_file,
                serde_json::to_string_pretty(&case.review).unwrap() + "\n",
            )
            .unwrap();
        }
        let request: Value = serde_json::from_slice(&std::fs::read(&request_file).unwrap()).unwrap();
        assert_eq!(
            request, case.review,
            "{}: the request fixture is stale (UPDATE_GOLDENS=1 regenerates)",
            case.name
        );
        let before = writer.recorded().len();
        let (status, body) = client
            .post_json(case.webhook.path(), serde_json::to_vec(&request).unwrap())
            .await
            .unwrap();
        assert_eq!(status, 200, "{}", case.name);
        let response: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            response["response"]["uid"], request["request"]["uid"],
            "{}",
            case.name
        );
        let (allowed, patched) = demo::outcome(&response);
        match case.expect {
            Expect::Patched => assert!(allowed && patched, "{}: {response}", case.name),
            Expect::Allowed => assert!(allowed && !patched, "{}: {response}", case.name),
            Expect::Denied(_) => assert!(
                !allowed && response["response"]["status"]["code"] == 403,
                "{}: {response}",
                case.name
            ),
        }
        if request["request"]["dryRun"] == true {
            assert_eq!(
                writer.recorded().len(),
                before,
                "{}: a dryRun must not write",
                case.name
            );
        }
        if update {
            std::fs::write(
                &response_file,
                serde_json::to_string_pretty(&response).unwrap() + "\n",
            )
            .unwrap();
            continue;
        }
        let golden: Value = serde_json::from_slice(&std::fs::read(&response_file).unwrap()).unwrap();
        if golden != response {
            mismatches.push(format!(
                "{}:\n  golden: {golden}\n  actual: {response}",
                case.name
            ));
        }
    }
    server.shutdown().await;
    assert!(
        mismatches.is_empty(),
        "responses differ from the goldens (UPDATE_GOLDENS=1 regenerates):\n{}",
        mismatches.join("\n")
    );
}
