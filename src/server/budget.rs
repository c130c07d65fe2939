//! The memory budget for request bodies in flight (`--memory-budget`).
//!
//! A review costs memory twice: its body, and the JSON tree decoding builds from it. The tree can
//! be far larger than the text: measured on 7 MiB bodies, a ConfigMap of short keys decodes to
//! 6× its size, an array of `0`s to 35× (every two bytes become a 32-byte `serde_json::Value`),
//! one long string to about 1×. The budget is split in three shares:
//!
//! - **a quarter for small reviews** (a declared length up to `INLINE_DECIDE_LIMIT`, 256 KiB),
//!   charged their length. They are decided on the connection's worker thread without yielding,
//!   so at most one per runtime worker is being decoded at any moment: their decoding is bounded
//!   by the number of workers, not by the budget.
//! - **a quarter for the bodies of large reviews**, charged their length (a body of unknown length,
//!   chunked, is charged the largest accepted length until it has ended).
//! - **half for decoding large reviews**, charged once the body is complete: its length (the
//!   strings decoding copies out) plus [`BYTES_PER_JSON_TOKEN`] per `{`, `[`, `:` and `,`, an
//!   upper bound of what the measured shapes allocate. A review whose decoding alone would exceed
//!   this share is refused (413).
//!
//! Each charge is reserved all at once: a body's when its first bytes arrive (a stream that sends
//! headers and no body holds nothing), never piece by piece (bodies holding part of the budget
//! while waiting for the rest would block each other until their deadlines). A large review that
//! holds its body's share waits for the decoding share, whose holders wait for nothing: no cycle.
//! The shares are separate so that large reviews, legitimate or not, never delay small ones.
//! Reservations queue in arrival order until the request's deadline (then 503, counted as
//! `admission_bad_requests_total{reason="memory-budget"}`); `body_memory_bytes` shows what is
//! reserved.

use std::sync::Arc;

use prometheus::IntGauge;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::routes::INLINE_DECIDE_LIMIT;

/// Bytes charged per JSON structural character (`{`, `[`, `:`, `,`) of a large review: the most
/// any measured shape allocated per such character while decoding was 70 bytes (an array of `0`s).
pub const BYTES_PER_JSON_TOKEN: usize = 80;

/// Budget accounting unit: permits are KiB, so a `u32` permit count covers any body.
const UNIT: usize = 1024;

/// Which share a review's body draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Share {
    /// Declared length up to `INLINE_DECIDE_LIMIT`.
    Small,
    /// Everything else (including bodies of unknown length).
    Large,
}

/// What decoding a large body costs at most, in bytes: the strings it copies out, and the nodes
/// it builds.
pub(crate) fn decode_estimate(body: &[u8]) -> usize {
    let tokens = body
        .iter()
        .filter(|&&b| matches!(b, b'{' | b'[' | b':' | b','))
        .count();
    body.len()
        .saturating_add(tokens.saturating_mul(BYTES_PER_JSON_TOKEN))
}

/// The three shares of the budget and the gauge of what is reserved.
#[derive(Debug)]
pub(crate) struct Budget {
    small: Arc<Semaphore>,
    large: Arc<Semaphore>,
    decoding: Arc<Semaphore>,
    decoding_units: usize,
    reserved: IntGauge,
}

impl Budget {
    /// A budget of `bytes` (see the module docs for the shares).
    pub(crate) fn new(bytes: usize, reserved: IntGauge) -> Self {
        let units = (bytes / UNIT).min(Semaphore::MAX_PERMITS);
        let small = units / 4;
        let large = units / 4;
        let decoding = units - small - large;
        Self {
            small: Arc::new(Semaphore::new(small)),
            large: Arc::new(Semaphore::new(large)),
            decoding: Arc::new(Semaphore::new(decoding)),
            decoding_units: decoding,
            reserved,
        }
    }

    /// The share a body of `declared` length (`None`: unknown) draws from, and what it is charged
    /// while it arrives.
    pub(crate) fn charge(declared: Option<usize>, max_body_bytes: usize) -> (Share, usize) {
        let length = declared.unwrap_or(max_body_bytes);
        let share = if length <= INLINE_DECIDE_LIMIT {
            Share::Small
        } else {
            Share::Large
        };
        (share, length)
    }

    /// The most decoding one large review may be charged.
    pub(crate) fn decoding_capacity(&self) -> usize {
        self.decoding_units.saturating_mul(UNIT)
    }

    /// Waits (in arrival order) until `bytes` of `share` are free and reserves them for a body.
    /// The startup check (`--memory-budget` >= 4 × `--max-body-bytes`) makes every body fit.
    pub(crate) async fn reserve(&self, share: Share, bytes: usize) -> Reservation {
        let semaphore = match share {
            Share::Small => &self.small,
            Share::Large => &self.large,
        };
        let body = acquire(semaphore, bytes).await;
        self.reserved.add(gauge_bytes(held(body.as_ref())));
        Reservation {
            body,
            decoding: None,
            reserved: self.reserved.clone(),
        }
    }

    /// Waits (in arrival order) until `bytes` of the decoding share are free and adds them to
    /// `reservation`. Callers check [`Budget::decoding_capacity`] first.
    pub(crate) async fn reserve_decoding(&self, reservation: &mut Reservation, bytes: usize) {
        let permit = acquire(&self.decoding, bytes).await;
        self.reserved.add(gauge_bytes(held(permit.as_ref())));
        if let Some(old) = std::mem::replace(&mut reservation.decoding, permit) {
            self.reserved.sub(gauge_bytes(old.num_permits()));
        }
    }

    /// A reservation of nothing (an empty body).
    pub(crate) fn nothing(&self) -> Reservation {
        Reservation {
            body: None,
            decoding: None,
            reserved: self.reserved.clone(),
        }
    }
}

async fn acquire(semaphore: &Arc<Semaphore>, bytes: usize) -> Option<OwnedSemaphorePermit> {
    match units(bytes) {
        0 => None,
        // The semaphores are never closed.
        units => semaphore.clone().acquire_many_owned(units).await.ok(),
    }
}

fn held(permit: Option<&OwnedSemaphorePermit>) -> usize {
    permit.map_or(0, OwnedSemaphorePermit::num_permits)
}

/// Bytes of the budget held by one review; released when dropped.
#[derive(Debug)]
pub(crate) struct Reservation {
    body: Option<OwnedSemaphorePermit>,
    decoding: Option<OwnedSemaphorePermit>,
    reserved: IntGauge,
}

impl Reservation {
    /// Bytes held.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.units().saturating_mul(UNIT)
    }

    fn units(&self) -> usize {
        held(self.body.as_ref()) + held(self.decoding.as_ref())
    }

    /// Gives back the part of the body's reservation beyond `bytes` (a body of unknown length
    /// that turned out shorter than charged).
    pub(crate) fn shrink_body(&mut self, bytes: usize) {
        let keep = units(bytes) as usize;
        if let Some(permit) = self.body.as_mut() {
            let have = permit.num_permits();
            if keep < have
                && let Some(surplus) = permit.split(have - keep)
            {
                drop(surplus);
                self.reserved.sub(gauge_bytes(have - keep));
            }
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.reserved.sub(gauge_bytes(self.units()));
    }
}

/// Budget units for `bytes`, rounded up (capped at what one acquisition can ask for).
fn units(bytes: usize) -> u32 {
    u32::try_from(bytes.div_ceil(UNIT)).unwrap_or(u32::MAX)
}

fn gauge_bytes(units: usize) -> i64 {
    i64::try_from(units.saturating_mul(UNIT)).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(bytes: usize) -> (Budget, IntGauge) {
        let gauge = IntGauge::new("test_reserved", "reserved").unwrap();
        (Budget::new(bytes, gauge.clone()), gauge)
    }

    #[test]
    fn small_and_large_bodies_are_charged_from_their_share() {
        let max = 8 * 1024 * 1024;
        assert_eq!(Budget::charge(Some(10_000), max), (Share::Small, 10_000));
        assert_eq!(
            Budget::charge(Some(INLINE_DECIDE_LIMIT), max),
            (Share::Small, INLINE_DECIDE_LIMIT)
        );
        assert_eq!(
            Budget::charge(Some(INLINE_DECIDE_LIMIT + 1), max),
            (Share::Large, INLINE_DECIDE_LIMIT + 1)
        );
        // Unknown length: charged as the largest accepted body.
        assert_eq!(Budget::charge(None, max), (Share::Large, max));
        assert_eq!(Budget::charge(None, 4096), (Share::Small, 4096));
    }

    #[test]
    fn the_estimate_counts_json_structure_not_string_content() {
        assert_eq!(decode_estimate(br#""aaaaaaaa""#), 10);
        assert_eq!(decode_estimate(b"[0,0]"), 5 + 2 * BYTES_PER_JSON_TOKEN);
        assert_eq!(decode_estimate(br#"{"a":1}"#), 7 + 2 * BYTES_PER_JSON_TOKEN);
    }

    #[tokio::test]
    async fn reservations_queue_shrink_and_release_and_the_gauge_follows() {
        let (budget, gauge) = budget(4 * 64 * 1024); // small 64 KiB, large 64 KiB, decoding 128 KiB
        assert_eq!(budget.decoding_capacity(), 128 * 1024);
        let first = budget.reserve(Share::Small, 40 * 1024).await;
        assert_eq!(gauge.get(), 40 * 1024);
        // A second 40 KiB body waits until the first is released.
        let second = budget.reserve(Share::Small, 40 * 1024);
        tokio::pin!(second);
        assert!(futures::poll!(second.as_mut()).is_pending());
        drop(first);
        let second = second.await;
        assert_eq!(second.bytes(), 40 * 1024);
        assert_eq!(gauge.get(), 40 * 1024);
        drop(second);
        assert_eq!(gauge.get(), 0);

        // A large body of unknown length: charged the cap, shrunk to its length, then decoding.
        let mut large = budget.reserve(Share::Large, 64 * 1024).await;
        large.shrink_body(30 * 1024);
        assert_eq!((large.bytes(), gauge.get()), (30 * 1024, 30 * 1024));
        budget.reserve_decoding(&mut large, 100 * 1024).await;
        assert_eq!((large.bytes(), gauge.get()), (130 * 1024, 130 * 1024));
        // Another large body can arrive meanwhile; its decoding waits for the first to finish.
        let mut next = budget.reserve(Share::Large, 30 * 1024).await;
        {
            let decoding = budget.reserve_decoding(&mut next, 100 * 1024);
            tokio::pin!(decoding);
            assert!(futures::poll!(decoding.as_mut()).is_pending());
            drop(large);
            decoding.await;
        }
        assert_eq!(gauge.get(), 130 * 1024);
        drop(next);
        assert_eq!(gauge.get(), 0);
        assert_eq!(budget.nothing().bytes(), 0);
    }
}
