//! Labels and annotations in the two forms the crate holds them: [`Labels`], the `BTreeMap` of
//! kube's `ObjectMeta` (an admitted object), and [`StoredLabels`], the compact form the fleet
//! view keeps for each of its thousands of templates and policies; and [`LabelsRef`], the
//! read-only view both provide, so that what reads labels (selectors, claims, markers) is written
//! once.

use litemap::LiteMap;
use serde::{Serialize, Serializer};

/// Labels (or annotations) of an object.
pub type Labels = std::collections::BTreeMap<String, String>;

/// Labels or annotations as the fleet view stores them (on its templates, and on its policies
/// through [`PolicyMeta`](crate::karmada::policy::PolicyMeta)): one sorted vector of boxed pairs
/// (`litemap`, binary search on lookup), sized to what it holds.
///
/// Why not [`Labels`]: a `BTreeMap` with even one entry allocates a whole leaf node (11 key and
/// 11 value slots, about 540 bytes), and each `String` carries a capacity word. A template's two
/// maps took about 1.1 KB before their strings; here they take 32 bytes per pair plus one
/// allocation each (issue 11: the fleet view's memory at 10,000 policies). The maps are small and
/// never edited in place (an update replaces the template), so sorted-vector lookups cost no more
/// than the tree's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoredLabels(LiteMap<Box<str>, Box<str>>);

impl StoredLabels {
    /// The pairs of `labels` that `keep` accepts.
    pub fn kept(labels: Labels, mut keep: impl FnMut(&str) -> bool) -> Self {
        let map: LiteMap<Box<str>, Box<str>> = labels
            .into_iter()
            .filter(|(k, _)| keep(k))
            .map(|(k, v)| (k.into_boxed_str(), v.into_boxed_str()))
            .collect();
        // Collecting a filtered iterator leaves spare capacity; the map is never grown again.
        let mut pairs = map.into_tuple_vec();
        pairs.shrink_to_fit();
        Self(LiteMap::from_sorted_store_unchecked(pairs))
    }

    /// A copy of `labels` (no intermediate `BTreeMap` clone).
    pub fn copied(labels: &Labels) -> Self {
        // A `BTreeMap<String, _>` iterates in `str` order, the order the map keeps.
        let pairs: Vec<(Box<str>, Box<str>)> = labels
            .iter()
            .map(|(k, v)| (k.as_str().into(), v.as_str().into()))
            .collect();
        Self(LiteMap::from_sorted_store_unchecked(pairs))
    }

    /// Keeps only the pairs whose key `keep` accepts (the storage shrinks when one goes).
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        if self.iter().all(|(k, _)| keep(k)) {
            return;
        }
        let mut pairs = std::mem::take(&mut self.0).into_tuple_vec();
        pairs.retain(|(k, _)| keep(k));
        pairs.shrink_to_fit();
        self.0 = LiteMap::from_sorted_store_unchecked(pairs);
    }

    /// A value by key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(AsRef::as_ref)
    }

    /// Whether `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Whether there is no pair.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The pairs, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (&**k, &**v))
    }

    /// A copy as a `BTreeMap`, for code that builds an `ObjectMeta`.
    pub fn to_labels(&self) -> Labels {
        self.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect()
    }
}

impl From<Labels> for StoredLabels {
    fn from(labels: Labels) -> Self {
        Self::kept(labels, |_| true)
    }
}

impl<K: Into<String>, V: Into<String>, const N: usize> From<[(K, V); N]> for StoredLabels {
    fn from(pairs: [(K, V); N]) -> Self {
        pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect::<Labels>()
            .into()
    }
}

/// Serialized as a map, like [`Labels`], even when empty (`litemap` writes an empty map as `[]`
/// to human-readable formats).
impl Serialize for StoredLabels {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

/// Read-only labels or annotations, whichever map holds them: what selectors, claims and markers
/// read, so each rule has one definition for an admitted object's `ObjectMeta` and for the fleet
/// view's stored templates.
#[derive(Debug, Clone, Copy)]
pub enum LabelsRef<'a> {
    /// Kube's `BTreeMap`.
    Tree(&'a Labels),
    /// The fleet view's compact form.
    Stored(&'a StoredLabels),
}

impl<'a> LabelsRef<'a> {
    /// No labels.
    pub const EMPTY: LabelsRef<'static> = LabelsRef::Tree(&Labels::new());

    /// A value by key.
    pub fn get(self, key: &str) -> Option<&'a str> {
        match self {
            Self::Tree(m) => m.get(key).map(String::as_str),
            Self::Stored(m) => m.get(key),
        }
    }

    /// Whether `key` is present.
    pub fn contains_key(self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Whether there is no pair.
    pub fn is_empty(self) -> bool {
        match self {
            Self::Tree(m) => m.is_empty(),
            Self::Stored(m) => m.is_empty(),
        }
    }

    /// The pairs, sorted by key.
    pub fn iter(self) -> impl Iterator<Item = (&'a str, &'a str)> {
        let (tree, stored) = match self {
            Self::Tree(m) => (Some(m.iter().map(|(k, v)| (k.as_str(), v.as_str()))), None),
            Self::Stored(m) => (None, Some(m.iter())),
        };
        tree.into_iter().flatten().chain(stored.into_iter().flatten())
    }
}

impl<'a> From<&'a Labels> for LabelsRef<'a> {
    fn from(m: &'a Labels) -> Self {
        Self::Tree(m)
    }
}

impl<'a> From<&'a StoredLabels> for LabelsRef<'a> {
    fn from(m: &'a StoredLabels) -> Self {
        Self::Stored(m)
    }
}

impl<'a> From<Option<&'a Labels>> for LabelsRef<'a> {
    fn from(m: Option<&'a Labels>) -> Self {
        m.map_or(LabelsRef::EMPTY, Self::Tree)
    }
}

impl<'a> From<Option<&'a StoredLabels>> for LabelsRef<'a> {
    fn from(m: Option<&'a StoredLabels>) -> Self {
        m.map_or(LabelsRef::EMPTY, Self::Stored)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_read_alike() {
        let tree: Labels = [("b", "2"), ("a", "1")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let stored = StoredLabels::from(tree.clone());
        for view in [LabelsRef::from(&tree), LabelsRef::from(&stored)] {
            assert_eq!(view.get("a"), Some("1"));
            assert_eq!(view.get("c"), None);
            assert!(view.contains_key("b"));
            assert!(!view.is_empty());
            assert_eq!(view.iter().collect::<Vec<_>>(), [("a", "1"), ("b", "2")]);
        }
        assert!(LabelsRef::EMPTY.is_empty());
        assert_eq!(stored.to_labels(), tree);
    }

    #[test]
    fn kept_filters_and_serializes_as_a_map() {
        let stored = StoredLabels::kept(
            [("keep/a", "1"), ("drop", "2")]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            |k| k.starts_with("keep/"),
        );
        assert_eq!(stored.len(), 1);
        assert_eq!(
            serde_json::to_string(&stored).ok().as_deref(),
            Some(r#"{"keep/a":"1"}"#)
        );
        assert_eq!(
            serde_json::to_string(&StoredLabels::default()).ok().as_deref(),
            Some("{}")
        );
    }
}
