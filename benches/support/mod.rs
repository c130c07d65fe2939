//! What the benchmarks share.

use std::time::{Duration, Instant};

/// Timed calls per percentile pass (after 2,000 untimed ones).
pub const SAMPLES: usize = 20_000;

/// p50 and p99 of `SAMPLES` timed calls of `f`, after a warm-up.
pub fn percentiles(mut f: impl FnMut()) -> (Duration, Duration) {
    for _ in 0..2_000 {
        f();
    }
    let mut samples: Vec<Duration> = (0..SAMPLES)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort_unstable();
    (samples[samples.len() / 2], samples[samples.len() * 99 / 100])
}
