//! The digests the guard compares by: of one JSON value ([`digest`]) and of a set of parts
//! ([`FieldsDigest`]), with one hasher for both.

use std::hash::{BuildHasher, Hash, Hasher};

use crate::rules::json::{Json, Number, View};

/// The hasher of every digest the guard compares: foldhash's quality variant with a fixed seed,
/// so equal values digest equally in every process. Digests only ever compare values within one
/// process (they are never stored or sent), so what matters is speed and a well-mixed 64-bit
/// result, not a stable algorithm: with SipHash (`DefaultHasher`) the many small writes of a
/// pod template's walk were half of the guard's time.
pub(super) fn hasher() -> foldhash::quality::FoldHasher<'static> {
    /// Any constant: the seed only has to be the same for both sides of a comparison.
    const SEED: u64 = 0x6b61_726d_6164_6121;
    foldhash::quality::FixedState::with_seed(SEED).build_hasher()
}

/// A stable digest of a JSON value from either parser ([`Json`]): equal for equal JSON, whatever
/// the order of object keys.
pub fn digest<'a>(v: impl Into<Json<'a>>) -> u64 {
    let mut h = hasher();
    hash_value(v.into(), &mut h);
    h.finish()
}

fn hash_value(v: Json<'_>, h: &mut impl Hasher) {
    match v.view() {
        View::Null => 0u8.hash(h),
        View::Bool(b) => (1u8, b).hash(h),
        // Equal exactly when their JSON text is (`1` and `1.0` differ), without writing it.
        View::Number(Number::U64(u)) => (2u8, 0u8, u).hash(h),
        View::Number(Number::I64(i)) => (2u8, 1u8, i).hash(h),
        View::Number(Number::F64(f)) => (2u8, 2u8, f.to_bits()).hash(h),
        View::String(s) => (3u8, s).hash(h),
        View::Array(items) => {
            (4u8, items.len()).hash(h);
            for x in items {
                hash_value(x, h);
            }
        }
        // Order-free, as [`FieldsDigest`] is: the wrapping sum of one hash per field, so neither
        // tree has to sort its keys (serde_json's map is sorted, sonic-rs's is as written).
        View::Object(object) => {
            let mut sum = 0u64;
            for (k, x) in object.iter() {
                let mut field = hasher();
                k.hash(&mut field);
                hash_value(x, &mut field);
                sum = sum.wrapping_add(field.finish());
            }
            (5u8, object.len(), sum).hash(h);
        }
    }
}

/// The digest of a set of parts, whatever the order they are found in: the wrapping sum of one
/// hash per part (its path and the [`digest`] of its value), then the count. Order-free, so
/// the walk needs no sorting to compute it, and a template is compared without building its
/// parts at all ([`super::Template`]).
#[derive(Debug, Default)]
pub(super) struct FieldsDigest {
    sum: u64,
    count: u64,
}

impl FieldsDigest {
    pub(super) fn add(&mut self, path: &str, value_digest: u64) {
        let mut h = hasher();
        path.hash(&mut h);
        value_digest.hash(&mut h);
        self.sum = self.sum.wrapping_add(h.finish());
        self.count += 1;
    }

    pub(super) fn finish(&self) -> u64 {
        let mut h = hasher();
        (self.count, self.sum).hash(&mut h);
        h.finish()
    }
}
