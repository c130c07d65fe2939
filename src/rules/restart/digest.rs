//! The digests the guard compares by: of one JSON value ([`digest`]) and of a set of parts
//! ([`FieldsDigest`]), with one hasher for both.

use std::hash::{BuildHasher, Hash, Hasher};

use serde_json::Value;

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

/// A stable digest of a JSON value: object keys in sorted order, so key order never matters.
pub fn digest(v: &Value) -> u64 {
    let mut h = hasher();
    hash_value(v, &mut h);
    h.finish()
}

fn hash_value(v: &Value, h: &mut impl Hasher) {
    match v {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => (1u8, b).hash(h),
        // Equal exactly when their JSON text is (`1` and `1.0` differ), without writing it.
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => (2u8, 0u8, u).hash(h),
            (None, Some(i), _) => (2u8, 1u8, i).hash(h),
            (None, None, f) => (2u8, 2u8, f.map(f64::to_bits)).hash(h),
        },
        Value::String(s) => (3u8, s).hash(h),
        Value::Array(a) => {
            (4u8, a.len()).hash(h);
            for x in a {
                hash_value(x, h);
            }
        }
        Value::Object(m) => {
            (5u8, m.len()).hash(h);
            if maps_are_sorted() {
                for (k, v) in m {
                    k.hash(h);
                    hash_value(v, h);
                }
            } else {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort_unstable();
                for k in keys {
                    k.hash(h);
                    hash_value(&m[k], h);
                }
            }
        }
    }
}

/// Whether serde_json's `Map` iterates in key order: it is a `BTreeMap` unless a crate in the
/// build turns on serde_json's `preserve_order` feature (then an insertion-ordered map, whose keys
/// [`hash_value`] sorts itself). Found out once, rather than checking every object's keys.
fn maps_are_sorted() -> bool {
    static SORTED: std::sync::LazyLock<bool> = std::sync::LazyLock::new(|| {
        let mut m = serde_json::Map::new();
        m.insert("b".to_owned(), Value::Null);
        m.insert("a".to_owned(), Value::Null);
        m.keys().is_sorted()
    });
    *SORTED
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
