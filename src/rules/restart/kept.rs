//! What the member index keeps of a member copy ([`RunningCopy`]): compact, because it is kept
//! for every copy (100,000 and more) while the template side is flattened once per review.
//!
//! A copy is split in two:
//! - its [`Layout`]: the sorted paths and effects of its parts, plus the values of the first copy
//!   stored with that layout (the *reference*). Copies with the same paths share one layout: the
//!   copies of one workload in several clusters, and workloads whose containers and environment
//!   variables have the same names;
//! - its own bytes: the digest of all its fields, its replica count, and only the values that
//!   differ from the layout's reference.
//!
//! Values are kept as the guard's messages need them: a scalar (an image, an environment value,
//! a label, a node port) as its text, so a denial can show both sides; a list or object only by
//! a digest of its compact JSON text (messages then name the path, and show the template's side
//! only); hidden values (Secret and config data, long values) by their digest, as before.
//!
//! Encoding of one value: a tag byte, then the text's length (one byte) and its UTF-8 bytes
//! ([`TAG_TEXT`]), or eight bytes of digest ([`TAG_TEXT_DIGEST`], [`TAG_HIDDEN`]). A copy's own
//! bytes: its fields digest (8), its replicas (a tag byte, then 8 bytes when set), then per
//! differing value its index in the layout (2 bytes) and the value. Everything little-endian.

use std::{
    hash::{Hash, Hasher},
    sync::Arc,
};

use super::{Effect, Fields, Flattened, Intern, NoIntern, PartValue};

const TAG_TEXT: u8 = 0;
const TAG_TEXT_DIGEST: u8 = 1;
const TAG_HIDDEN: u8 = 2;

/// Where a copy's replica tag is in its own bytes (after the 8-byte fields digest).
const REPLICAS_AT: usize = 8;

/// A value as the comparison sees it, on either side.
#[derive(Debug, Clone, Copy)]
pub(super) enum ValueRef<'a> {
    /// Shown text: a scalar, or a list or object as compact JSON (template side).
    Text(&'a str),
    /// A digest of the compact JSON text of a list or object whose text is not kept.
    TextDigest(u64),
    /// A digest of a hidden value.
    Hidden(u64),
}

/// The digest under which a text not kept is compared.
fn text_digest(text: &str) -> u64 {
    let mut h = super::digest::hasher();
    text.hash(&mut h);
    h.finish()
}

impl ValueRef<'_> {
    /// Equal values: texts by text (or a kept digest of it), hidden values by digest.
    pub(super) fn same(self, other: ValueRef<'_>) -> bool {
        match (self, other) {
            (ValueRef::Text(a), ValueRef::Text(b)) => a == b,
            (ValueRef::Text(t), ValueRef::TextDigest(d)) | (ValueRef::TextDigest(d), ValueRef::Text(t)) => {
                text_digest(t) == d
            }
            (ValueRef::TextDigest(a), ValueRef::TextDigest(b))
            | (ValueRef::Hidden(a), ValueRef::Hidden(b)) => a == b,
            _ => false,
        }
    }

    /// The value as a [`super::Difference`] carries it.
    pub(super) fn to_part_value(self) -> PartValue {
        match self {
            ValueRef::Text(t) => PartValue::Shown(Arc::from(t)),
            ValueRef::TextDigest(d) | ValueRef::Hidden(d) => PartValue::Hidden(d),
        }
    }
}

impl<'a> From<&'a PartValue> for ValueRef<'a> {
    fn from(v: &'a PartValue) -> Self {
        match v {
            PartValue::Shown(t) | PartValue::Json(t) => ValueRef::Text(t),
            PartValue::Hidden(d) => ValueRef::Hidden(*d),
        }
    }
}

/// Appends the kept form of `v`.
fn encode(v: &PartValue, out: &mut Vec<u8>) {
    let digest = |out: &mut Vec<u8>, tag: u8, d: u64| {
        out.push(tag);
        out.extend_from_slice(&d.to_le_bytes());
    };
    match v {
        PartValue::Shown(t) => match u8::try_from(t.len()) {
            Ok(len) => {
                out.push(TAG_TEXT);
                out.push(len);
                out.extend_from_slice(t.as_bytes());
            }
            Err(_) => digest(out, TAG_TEXT_DIGEST, text_digest(t)),
        },
        PartValue::Json(t) => digest(out, TAG_TEXT_DIGEST, text_digest(t)),
        PartValue::Hidden(d) => digest(out, TAG_HIDDEN, *d),
    }
}

fn read_u64(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let bytes: [u8; 8] = buf.get(*pos..*pos + 8)?.try_into().ok()?;
    *pos += 8;
    Some(u64::from_le_bytes(bytes))
}

/// Reads one value written by [`encode`]; `None` past the end.
fn decode<'b>(buf: &'b [u8], pos: &mut usize) -> Option<ValueRef<'b>> {
    let tag = *buf.get(*pos)?;
    *pos += 1;
    match tag {
        TAG_TEXT => {
            let len = usize::from(*buf.get(*pos)?);
            let text = std::str::from_utf8(buf.get(*pos + 1..*pos + 1 + len)?).ok()?;
            *pos += 1 + len;
            Some(ValueRef::Text(text))
        }
        TAG_TEXT_DIGEST => read_u64(buf, pos).map(ValueRef::TextDigest),
        _ => read_u64(buf, pos).map(ValueRef::Hidden),
    }
}

/// The paths and effects of a set of fields, with the values of the first copy stored with them.
#[derive(Debug, PartialEq, Eq)]
pub struct Layout {
    key: u64,
    paths: Box<[(Arc<str>, Effect)]>,
    reference: Box<[u8]>,
}

impl Layout {
    /// The key under which layouts are shared: a digest of the paths and effects of `fields`.
    pub fn key_of(fields: &Fields) -> u64 {
        let mut h = super::digest::hasher();
        for p in &fields.parts {
            (&*p.path, p.effect).hash(&mut h);
        }
        h.finish()
    }

    /// The layout of `fields`, with their values as the reference and the paths interned.
    pub fn new(fields: &Fields, intern: &mut impl Intern) -> Self {
        let mut reference = Vec::new();
        for p in &fields.parts {
            encode(&p.value, &mut reference);
        }
        Self {
            key: Self::key_of(fields),
            paths: fields
                .parts
                .iter()
                .map(|p| (intern.intern(&p.path), p.effect))
                .collect(),
            reference: reference.into_boxed_slice(),
        }
    }

    /// [`Layout::key_of`] the fields it was made from.
    pub fn key(&self) -> u64 {
        self.key
    }

    /// Whether `fields` have exactly these paths and effects.
    pub fn fits(&self, fields: &Fields) -> bool {
        self.paths.len() == fields.parts.len()
            && self
                .paths
                .iter()
                .zip(&fields.parts)
                .all(|((path, effect), p)| **path == *p.path && *effect == p.effect)
    }
}

/// What runs in one member cluster, as far as a takeover could change it, as the member index
/// keeps it (see the module documentation).
#[derive(Debug, Clone)]
pub struct RunningCopy {
    layout: Arc<Layout>,
    /// Fields digest, replicas, then the values that differ from the layout's reference.
    own: Box<[u8]>,
}

impl RunningCopy {
    /// The kept form of `flat` on `layout` (which should [`Layout::fits`] it; when it does not,
    /// the copy gets a layout of its own).
    pub fn new(flat: &Flattened, layout: Arc<Layout>) -> Self {
        let fields = &flat.fields;
        // More parts than a two-byte index can name: a layout of its own, nothing differs.
        let layout = if layout.fits(fields) && fields.parts.len() <= usize::from(u16::MAX) {
            layout
        } else {
            Arc::new(Layout::new(fields, &mut NoIntern))
        };
        let mut own = Vec::with_capacity(32);
        own.extend_from_slice(&fields.digest.to_le_bytes());
        match flat.replicas {
            Some(n) => {
                own.push(1);
                own.extend_from_slice(&n.to_le_bytes());
            }
            None => own.push(0),
        }
        let (mut pos, mut value) = (0, Vec::with_capacity(128));
        for (i, p) in fields.parts.iter().enumerate() {
            let start = pos;
            if decode(&layout.reference, &mut pos).is_none() {
                break;
            }
            value.clear();
            encode(&p.value, &mut value);
            if layout.reference.get(start..pos) != Some(value.as_slice())
                && let Ok(i) = u16::try_from(i)
            {
                own.extend_from_slice(&i.to_le_bytes());
                own.extend_from_slice(&value);
            }
        }
        Self {
            layout,
            own: own.into_boxed_slice(),
        }
    }

    /// A copy on a layout of its own (tests and one-off callers).
    pub fn standalone(flat: &Flattened) -> Self {
        Self::new(flat, Arc::new(Layout::new(&flat.fields, &mut NoIntern)))
    }

    /// Its layout (shared with the copies of the same paths).
    pub fn layout(&self) -> &Arc<Layout> {
        &self.layout
    }

    /// The digest of all its fields ([`Fields::digest`]).
    pub fn digest(&self) -> u64 {
        let mut pos = 0;
        read_u64(&self.own, &mut pos).unwrap_or_default()
    }

    /// `spec.replicas` (Deployment, StatefulSet, ReplicaSet).
    pub fn replicas(&self) -> Option<i64> {
        if self.own.get(REPLICAS_AT) != Some(&1) {
            return None;
        }
        let bytes = self.own.get(REPLICAS_AT + 1..REPLICAS_AT + 9)?;
        bytes.try_into().ok().map(i64::from_le_bytes)
    }

    /// Where the differing values start in its own bytes.
    fn values_at(&self) -> usize {
        if self.own.get(REPLICAS_AT) == Some(&1) {
            REPLICAS_AT + 9
        } else {
            REPLICAS_AT + 1
        }
    }

    /// Its parts in path order: path, effect and value.
    pub(super) fn values(&self) -> impl Iterator<Item = (&Arc<str>, Effect, ValueRef<'_>)> {
        let start = self.values_at();
        let (mut at_ref, mut at_own) = (0, start);
        let own = &self.own;
        let reference = &self.layout.reference;
        let next_own = move |at_own: usize| {
            own.get(at_own..at_own + 2)
                .and_then(|b| <[u8; 2]>::try_from(b).ok())
                .map(u16::from_le_bytes)
        };
        self.layout
            .paths
            .iter()
            .enumerate()
            .map_while(move |(i, (path, effect))| {
                let base = decode(reference, &mut at_ref)?;
                let value = if next_own(at_own).map(usize::from) == Some(i) {
                    at_own += 2;
                    decode(own, &mut at_own)?
                } else {
                    base
                };
                Some((path, *effect, value))
            })
    }

    /// Bytes it holds besides the shared layout (benchmarks and tests).
    pub fn own_bytes(&self) -> usize {
        self.own.len()
    }
}

impl PartialEq for RunningCopy {
    fn eq(&self, other: &Self) -> bool {
        self.replicas() == other.replicas()
            && self.values().count() == other.values().count()
            && self
                .values()
                .zip(other.values())
                .all(|(a, b)| a.0 == b.0 && a.1 == b.1 && a.2.same(b.2))
    }
}

impl Eq for RunningCopy {}
