//! How much of a review's CPU time is decode + decide + encode (`admission::review`), measured
//! without the network, so the load benchmark's CPU per request can be split into the engine's
//! share and the server's (TLS, HTTP, logging, metrics, kernel). Ignored by default; run with
//! `cargo test --release --test server_cost -- --ignored --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::time::Instant;

use karmada_takeover::{admission, config::Config, fleet, rules::Webhook};

/// The server's allocator, so that the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[test]
#[ignore = "measurement, run in release mode"]
fn admission_review_cost_per_payload() {
    let fleet = fleet::files::load_dir(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/fleet"
    )))
    .unwrap();
    let config = Config::default();
    for (webhook, file) in [
        (Webhook::ValidatePolicy, "policy-review.json"),
        (Webhook::MutateWorkload, "deployment-review.json"),
    ] {
        let body = std::fs::read(format!("{}/scripts/loadbench/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        for _ in 0..2_000 {
            admission::review(webhook, &body, &fleet, &config).unwrap();
        }
        let rounds = 20_000;
        let start = Instant::now();
        for _ in 0..rounds {
            std::hint::black_box(admission::review(webhook, &body, &fleet, &config).unwrap());
        }
        let per_call = start.elapsed() / rounds;
        let decode_start = Instant::now();
        for _ in 0..rounds {
            let review: kube::core::admission::AdmissionReview<kube::core::DynamicObject> =
                serde_json::from_slice(&body).unwrap();
            std::hint::black_box(review);
        }
        let derived = decode_start.elapsed() / rounds;
        let decode_start = Instant::now();
        for _ in 0..rounds {
            match webhook {
                Webhook::ValidatePolicy => {
                    std::hint::black_box(admission::decode::policy_request(&body).unwrap());
                }
                _ => {
                    std::hint::black_box(admission::decode::request(&body).unwrap());
                }
            }
        }
        let decode = decode_start.elapsed() / rounds;
        println!(
            "{file}: admission::review {per_call:?} per call, of which JSON decode of the review {decode:?} \
             (kube-core's derived AdmissionReview<DynamicObject> decoder: {derived:?})"
        );
    }
}
