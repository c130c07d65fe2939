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
                    std::hint::black_box(admission::decode::workload_request(&body).unwrap());
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

/// The plain log line of one review, as the server writes it (`telemetry::plain_layer`, whose
/// fields escape control characters), against tracing-subscriber's default field formatter, into
/// a sink: what the escaping costs per review. Ignored by default; run as above.
#[test]
#[ignore = "measurement, run in release mode"]
fn plain_review_log_line_cost() {
    use tracing_subscriber::{fmt, layer::SubscriberExt as _};

    fn review_event(i: u64) {
        tracing::info!(
            uid = %"7a3c1e52-0d4b-4f6a-9c2e-000000000001",
            kind = %"PropagationPolicy",
            namespace = %"shop",
            name = %"shop-web",
            operation = "CREATE",
            dry_run = false,
            outcome = "allowed",
            deny_reason = Option::<&str>::None,
            warnings = 0,
            latency_us = i,
            webhook = "validate-policy",
            "review"
        );
    }
    fn per_event(subscriber: impl tracing::Subscriber + Send + Sync) -> std::time::Duration {
        tracing::subscriber::with_default(subscriber, || {
            for i in 0..20_000 {
                review_event(i);
            }
            let rounds = 200_000;
            let start = Instant::now();
            for i in 0..rounds {
                review_event(i);
            }
            start.elapsed() / u32::try_from(rounds).unwrap()
        })
    }
    for _ in 0..2 {
        let escaped = per_event(
            tracing_subscriber::registry()
                .with(karmada_takeover::telemetry::plain_layer(std::io::sink, false)),
        );
        let default = per_event(
            tracing_subscriber::registry().with(
                fmt::layer()
                    .with_target(false)
                    .with_ansi(false)
                    .with_writer(std::io::sink),
            ),
        );
        println!(
            "plain review log line: {escaped:?} with escaped fields, {default:?} with tracing-subscriber's default fields"
        );
    }
}
