//! What the member copies run ([`RunningCopy`]), stored once per distinct set of fields.
//!
//! The copies of one workload in several clusters usually run the same fields, and field paths
//! and shown values (images, label values) repeat across a fleet: the store shares equal
//! [`Fields`] by digest and interns their strings, so the index grows by a pointer and a count
//! per copy once the fields of a workload are known. Entries no copy uses any more are dropped
//! by [`RunningStore::collect`], which runs when the store has doubled since the last time.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use crate::rules::restart::{Fields, Intern, Part, PartValue, RunningCopy};

/// Shared fields and interned strings.
#[derive(Debug, Default)]
pub(crate) struct RunningStore {
    fields: HashMap<u64, Arc<Fields>>,
    strings: Strings,
    /// Size of `fields` after the last collection.
    collected_at: usize,
}

/// An interner of strings.
#[derive(Debug, Default)]
struct Strings(HashSet<Arc<str>>);

impl Intern for Strings {
    fn intern(&mut self, s: &str) -> Arc<str> {
        if let Some(shared) = self.0.get(s) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(s);
        self.0.insert(shared.clone());
        shared
    }
}

impl RunningStore {
    /// `copy` with its fields replaced by the shared equal ones (stored first if new).
    pub(crate) fn share(&mut self, copy: RunningCopy) -> RunningCopy {
        let digest = copy.fields.digest;
        if let Some(shared) = self.fields.get(&digest)
            && **shared == *copy.fields
        {
            return RunningCopy {
                replicas: copy.replicas,
                fields: shared.clone(),
            };
        }
        let parts: Vec<Part> = copy
            .fields
            .parts
            .iter()
            .map(|p| Part {
                path: self.strings.intern(&p.path),
                effect: p.effect,
                value: match &p.value {
                    PartValue::Shown(s) => PartValue::Shown(self.strings.intern(s)),
                    PartValue::Hidden(d) => PartValue::Hidden(*d),
                },
            })
            .collect();
        let fields = Arc::new(Fields {
            digest,
            parts: parts.into_boxed_slice(),
        });
        // A digest collision between different fields keeps the first in the table; the second
        // copy keeps its own (unshared) fields.
        self.fields.entry(digest).or_insert_with(|| fields.clone());
        if self.fields.len() > 2 * self.collected_at.max(1024) {
            self.collect();
        }
        RunningCopy {
            replicas: copy.replicas,
            fields,
        }
    }

    /// Drops the fields no copy uses and the strings no field uses.
    pub(crate) fn collect(&mut self) {
        self.fields.retain(|_, f| Arc::strong_count(f) > 1);
        self.strings.0.retain(|s| Arc::strong_count(s) > 1);
        self.collected_at = self.fields.len();
    }

    /// Distinct field sets stored.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.fields.len()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::rules::restart::NoIntern;

    fn copy(image: &str, replicas: i64) -> RunningCopy {
        let d = json!({"spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "web", "image": image}]}}}});
        RunningCopy::of("apps/v1", "Deployment", &d, &mut NoIntern).unwrap()
    }

    #[test]
    fn equal_fields_are_stored_once_whatever_the_replicas() {
        let mut store = RunningStore::default();
        let a = store.share(copy("nginx:1.25", 3));
        let b = store.share(copy("nginx:1.25", 5));
        assert!(Arc::ptr_eq(&a.fields, &b.fields));
        assert_eq!((a.replicas, b.replicas), (Some(3), Some(5)));
        let c = store.share(copy("nginx:1.26", 3));
        assert!(!Arc::ptr_eq(&a.fields, &c.fields));
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn paths_are_interned_across_different_fields() {
        let mut store = RunningStore::default();
        let a = store.share(copy("nginx:1.25", 3));
        let c = store.share(copy("nginx:1.26", 3));
        assert!(Arc::ptr_eq(&a.fields.parts[0].path, &c.fields.parts[0].path));
    }

    #[test]
    fn unused_fields_are_collected() {
        let mut store = RunningStore::default();
        let a = store.share(copy("nginx:1.25", 3));
        drop(store.share(copy("nginx:1.26", 3)));
        store.collect();
        assert_eq!(store.len(), 1);
        drop(a);
        store.collect();
        assert_eq!(store.len(), 0);
    }
}
