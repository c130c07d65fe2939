//! Where the time of one webhook review goes, outside the server: the load benchmark's
//! AdmissionReview bodies (`scripts/loadbench/`) through decode, decide and render against the
//! fleet `scripts/loadbench.sh` serves (`scripts/loadbench/fleet`: the Deployment review is a
//! takeover the restart guard admits), each stage timed on its own; and the same Deployment
//! review against `examples/fleet`, where the member copies run another pod template and the
//! guard denies it, listing every difference.
//!
//! `cargo bench --bench review` prints p50/p99 per stage over 20,000 reviews of each.

#![allow(clippy::expect_used)] // a benchmark that cannot build its input must stop

mod support;

use support::{SAMPLES, percentiles};

/// The allocator of the `karmada-takeover` binary (`src/main.rs`), so the stage timings are the
/// server's: decode and render are allocation-heavy, and glibc malloc is slower at it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::{
    hint::black_box,
    path::Path,
    time::{Duration, Instant},
};

use karmada_takeover::{
    admission::{self, decode},
    config::Config,
    fleet::files,
    rules::Webhook,
};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fleet = files::load_dir(&root.join("scripts/loadbench/fleet")).expect("scripts/loadbench/fleet");
    let stale = files::load_dir(&root.join("examples/fleet")).expect("examples/fleet");
    let config = Config::default();
    let read = |file: &str| std::fs::read(root.join("scripts/loadbench").join(file)).expect(file);
    let deployment = read("deployment-review.json");
    let policy = read("policy-review.json");

    let reviewed = admission::review(Webhook::MutateWorkload, &deployment, &fleet, &config).expect("review");
    assert!(
        reviewed.decision.allowed()
            && reviewed.decision.takeover.is_some()
            && reviewed.decision.restart.is_some(),
        "the benchmark must measure a real takeover with the restart guard: {:?}",
        reviewed.decision
    );
    let denied = admission::review(Webhook::MutateWorkload, &deployment, &stale, &config).expect("review");
    assert!(!denied.decision.allowed() && denied.decision.restart.is_some());
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --benches`: the smoke check above is enough
    }
    let request = decode::workload_request(&deployment).expect("decode");
    let serde_request = decode::request(&deployment).expect("decode");
    let decision = admission::decide_request(Webhook::MutateWorkload, &request, &fleet, &config);
    // PROFILE_LOOP=seconds: only loop the whole Deployment review (for `perf record`), or with
    // PROFILE_STAGE=decode|render only that stage (for `perf stat`: instructions per review
    // are steadier than times on a shared machine).
    if let Some(secs) = std::env::var("PROFILE_LOOP")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
    {
        let stage = std::env::var("PROFILE_STAGE").unwrap_or_default();
        let end = Instant::now() + Duration::from_secs(secs);
        let mut n = 0u64;
        while Instant::now() < end {
            for _ in 0..100 {
                match stage.as_str() {
                    "decode" => drop(black_box(decode::workload_request(black_box(&deployment)).ok())),
                    "render" => drop(black_box(
                        admission::render(black_box(&request), decision.clone()).ok(),
                    )),
                    _ => drop(black_box(
                        admission::review(Webhook::MutateWorkload, black_box(&deployment), &fleet, &config)
                            .ok(),
                    )),
                }
            }
            n += 100;
        }
        println!("{n} reviews");
        return;
    }

    // Render consumes its decision: clones made beforehand keep the clone out of the timing.
    let mut decisions = vec![decision; SAMPLES + 2_000];
    let rows: Vec<(&str, (Duration, Duration))> = vec![
        (
            "deployment: whole review",
            percentiles(|| {
                black_box(
                    admission::review(Webhook::MutateWorkload, black_box(&deployment), &fleet, &config).ok(),
                );
            }),
        ),
        (
            "deployment: decode",
            percentiles(|| {
                black_box(decode::workload_request(black_box(&deployment)).ok());
            }),
        ),
        (
            "deployment: decode, serde_json body",
            percentiles(|| {
                black_box(decode::request(black_box(&deployment)).ok());
            }),
        ),
        (
            "deployment: decide",
            percentiles(|| {
                black_box(admission::decide_request(
                    Webhook::MutateWorkload,
                    black_box(&request),
                    &fleet,
                    &config,
                ));
            }),
        ),
        (
            "deployment: decide, serde_json body",
            percentiles(|| {
                black_box(admission::decide_request(
                    Webhook::MutateWorkload,
                    black_box(&serde_request),
                    &fleet,
                    &config,
                ));
            }),
        ),
        (
            "deployment: render",
            percentiles(|| {
                let decision = decisions.pop().expect("one decision per call");
                black_box(admission::render(black_box(&request), decision).ok());
            }),
        ),
        (
            "deployment, guard denies",
            percentiles(|| {
                black_box(
                    admission::review(Webhook::MutateWorkload, black_box(&deployment), &stale, &config).ok(),
                );
            }),
        ),
        (
            "policy: whole review",
            percentiles(|| {
                black_box(
                    admission::review(Webhook::ValidatePolicy, black_box(&policy), &fleet, &config).ok(),
                );
            }),
        ),
    ];
    println!(
        "\n{SAMPLES} reviews each, fleet scripts/loadbench/fleet (denied: examples/fleet), default config:"
    );
    println!("{:<28} {:>10} {:>10}", "stage", "p50", "p99");
    for (name, (p50, p99)) in rows {
        println!("{name:<28} {p50:>10.1?} {p99:>10.1?}");
    }
}
