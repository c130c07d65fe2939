//! What the member copies run ([`RunningCopy`]), kept compactly: the store shares one
//! [`Layout`] (paths, effects and reference values) between the copies with the same paths, and
//! interns the paths, so a copy holds only its own values where they differ from its layout's
//! reference (`rules::restart::kept`).
//!
//! The store sits behind its own lock, apart from the fleet's: the member watches reduce each
//! object to its kept form as it arrives, before the fleet is locked, so a re-list of 100,000
//! objects never holds them flattened at once. Layouts no copy uses any more are dropped by
//! [`RunningStore::collect`], which runs when the store has doubled since the last time.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
};

use parking_lot::Mutex;

use crate::rules::restart::{Flattened, Intern, Layout, RunningCopy};

/// Shared layouts and interned paths, one per fleet view; clones share it.
#[derive(Debug, Clone, Default)]
pub struct RunningStore(Arc<Mutex<Store>>);

#[derive(Debug, Default)]
struct Store {
    layouts: HashMap<u64, Arc<Layout>>,
    strings: Strings,
    /// Size of `layouts` after the last collection.
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
    /// What the index keeps of `object` (a whole object as its API server returns it), or
    /// `None` for kinds the restart guard does not compare. Flattens without holding the lock.
    pub fn keep(&self, api_version: &str, kind: &str, object: &serde_json::Value) -> Option<RunningCopy> {
        Flattened::of(api_version, kind, object).map(|flat| self.keep_flattened(&flat))
    }

    /// The kept form of `flat`, on the shared layout of its paths (stored first if new).
    pub fn keep_flattened(&self, flat: &Flattened) -> RunningCopy {
        let key = Layout::key_of(&flat.fields);
        let mut store = self.0.lock();
        let layout = match store.layouts.get(&key) {
            Some(shared) if shared.fits(&flat.fields) => shared.clone(),
            // A key collision between different paths keeps the first in the table; this copy
            // gets its own layout.
            Some(_) => Arc::new(Layout::new(&flat.fields, &mut store.strings)),
            None => {
                let layout = Arc::new(Layout::new(&flat.fields, &mut store.strings));
                store.layouts.insert(key, layout.clone());
                if store.layouts.len() > 2 * store.collected_at.max(1024) {
                    store.collect();
                }
                layout
            }
        };
        drop(store);
        RunningCopy::new(flat, layout)
    }

    /// Drops the layouts no copy uses and the paths no layout uses.
    pub(crate) fn collect(&self) {
        self.0.lock().collect();
    }

    /// Distinct layouts stored.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.lock().layouts.len()
    }
}

impl Store {
    fn collect(&mut self) {
        self.layouts.retain(|_, l| Arc::strong_count(l) > 1);
        self.strings.0.retain(|s| Arc::strong_count(s) > 1);
        self.collected_at = self.layouts.len();
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn deployment(image: &str, replicas: i64) -> serde_json::Value {
        json!({"spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": "web", "image": image,
            "resources": {"limits": {"memory": "1Gi"}}}]}}}})
    }

    fn keep(store: &RunningStore, image: &str, replicas: i64) -> RunningCopy {
        store
            .keep("apps/v1", "Deployment", &deployment(image, replicas))
            .unwrap()
    }

    #[test]
    fn copies_with_the_same_paths_share_one_layout_and_keep_only_what_differs() {
        let store = RunningStore::default();
        let a = keep(&store, "nginx:1.25", 3);
        let b = keep(&store, "nginx:1.26", 5);
        assert!(Arc::ptr_eq(a.layout(), b.layout()));
        assert_eq!((a.replicas(), b.replicas()), (Some(3), Some(5)));
        // digest (8) + replicas (9), then the image: index (2), tag, length, "nginx:1.26".
        assert_eq!(a.own_bytes(), 17);
        assert_eq!(b.own_bytes(), 17 + 2 + 2 + "nginx:1.26".len());
        assert_eq!(store.len(), 1);
    }

    #[test]
    fn config_data_is_kept_by_digest_only_where_it_differs() {
        let store = RunningStore::default();
        let cm = |flags: &str, props: &str| json!({"data": {"LOG_LEVEL": "info", "FEATURE_FLAGS": flags, "app.properties": props}});
        let first = store.keep("v1", "ConfigMap", &cm("a", "x=1")).unwrap();
        let second = store.keep("v1", "ConfigMap", &cm("b", "x=2")).unwrap();
        assert!(Arc::ptr_eq(first.layout(), second.layout()));
        // digest (8) + no replicas (1); then two keys: index (2), tag, 8-byte digest each.
        assert_eq!((first.own_bytes(), second.own_bytes()), (9, 9 + 2 * 11));
        assert_eq!(
            crate::rules::restart::compare_copies(&first, &second)
                .iter()
                .map(|d| d.describe())
                .collect::<Vec<_>>(),
            ["data[FEATURE_FLAGS] differs", "data[app.properties] differs"]
        );
    }

    #[test]
    fn a_kept_copy_compares_like_the_flattened_object() {
        let store = RunningStore::default();
        let first = keep(&store, "nginx:1.25", 3);
        let second = keep(&store, "nginx:1.26", 3);
        let template = Flattened::of("apps/v1", "Deployment", &deployment("nginx:1.25", 3)).unwrap();
        assert!(crate::rules::restart::compare(&template.fields, &first).is_empty());
        let d = crate::rules::restart::compare(&template.fields, &second);
        assert_eq!(d.len(), 1);
        assert_eq!(
            d[0].describe(),
            r#"spec.template.spec.containers[web].image: template "nginx:1.25", running "nginx:1.26""#
        );
        assert_eq!(
            second,
            RunningCopy::standalone(
                &Flattened::of("apps/v1", "Deployment", &deployment("nginx:1.26", 3)).unwrap()
            )
        );
    }

    #[test]
    fn other_paths_get_another_layout() {
        let store = RunningStore::default();
        let a = keep(&store, "nginx:1.25", 3);
        let other =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "api", "image": "api:1"}]}}}});
        let c = store.keep("apps/v1", "Deployment", &other).unwrap();
        assert!(!Arc::ptr_eq(a.layout(), c.layout()));
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn unused_layouts_are_collected() {
        let store = RunningStore::default();
        let a = keep(&store, "nginx:1.25", 3);
        drop(store.keep(
            "apps/v1",
            "Deployment",
            &json!({"spec": {"template": {"spec": {"containers": [{"name": "api", "image": "api:1"}]}}}}),
        ));
        store.collect();
        assert_eq!(store.len(), 1);
        drop(a);
        store.collect();
        assert_eq!(store.len(), 0);
    }
}
