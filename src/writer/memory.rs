//! The in-memory writers: [`MemoryStore`], which `serve --fleet` uses (takeover policies kept in
//! memory, keyed like Karmada would key them, and logged when they appear, change or go), and
//! [`MemoryWriter`], a transcript of every action for the demo and tests.
//!
//! Unlike [`MemoryWriter`], the store is bounded by the number of distinct policies: admission decides the same
//! deterministic policy again for every re-applied template, and a long-running webhook must not
//! grow with its request count. It applies the actions the way server-side apply would: the same
//! policy again is a no-op, a changed one replaces the old one.

use std::{collections::BTreeMap, sync::Arc};

use parking_lot::Mutex;

use super::Writer;
use crate::{
    karmada::{Policy, PolicyKind},
    metrics::Metrics,
    rules::Action,
};

/// Records actions in memory and logs each one; the file-backed `serve` and the demo use it.
#[derive(Debug, Default)]
pub struct MemoryWriter {
    recorded: Mutex<Vec<Action>>,
}

impl MemoryWriter {
    /// Everything submitted so far, oldest first.
    pub fn recorded(&self) -> Vec<Action> {
        self.recorded.lock().clone()
    }
}

impl Writer for MemoryWriter {
    fn submit(&self, actions: &[Action]) {
        for action in actions {
            match action {
                Action::EnsurePolicy { policy } => tracing::info!(
                    kind = policy.kind,
                    namespace = policy.namespace(),
                    name = policy.name(),
                    "takeover policy recorded (file-backed fleet: not written anywhere)"
                ),
                Action::ReleasePolicy {
                    kind,
                    namespace,
                    name,
                } => {
                    tracing::info!(%kind, %namespace, %name, "policy release recorded (file-backed fleet)")
                }
            }
        }
        self.recorded.lock().extend_from_slice(actions);
    }
}

/// `(kind, namespace, name)` of a policy.
pub type PolicyKey = (PolicyKind, String, String);

/// Takeover policies "written" by a file-backed webhook.
#[derive(Debug)]
pub struct MemoryStore {
    policies: Mutex<BTreeMap<PolicyKey, Policy>>,
    metrics: Arc<Metrics>,
}

impl MemoryStore {
    /// An empty store counting into `metrics` (`policies_created_total`, `policies_released_total`).
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self {
            policies: Mutex::new(BTreeMap::new()),
            metrics,
        }
    }

    /// The policies currently held, by key.
    pub fn policies(&self) -> BTreeMap<PolicyKey, Policy> {
        self.policies.lock().clone()
    }
}

impl Writer for MemoryStore {
    fn submit(&self, actions: &[Action]) {
        let mut policies = self.policies.lock();
        for action in actions {
            match action {
                Action::EnsurePolicy { policy } => {
                    let Some(kind) = policy.policy_kind() else {
                        continue; // the engine only decides PP/CPP
                    };
                    let key = (kind, policy.namespace().to_owned(), policy.name().to_owned());
                    if policies.get(&key) == Some(&**policy) {
                        continue;
                    }
                    let created = policies.insert(key.clone(), (**policy).clone()).is_none();
                    self.metrics.policies_created_total.inc();
                    let (kind, namespace, name) = key;
                    tracing::info!(
                        %kind,
                        %namespace,
                        %name,
                        change = if created { "created" } else { "updated" },
                        "takeover policy recorded (file-backed fleet: kept in memory, not written to Karmada)"
                    );
                }
                Action::ReleasePolicy {
                    kind,
                    namespace,
                    name,
                } => {
                    let key = (*kind, namespace.clone(), name.clone());
                    if policies.remove(&key).is_some() {
                        self.metrics.policies_released_total.inc();
                    }
                    tracing::info!(%kind, %namespace, %name, "takeover policy released (file-backed fleet)");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(name: &str, priority: i32) -> Action {
        Action::EnsurePolicy {
            policy: Box::new(Policy {
                api_version: crate::karmada::policy::API_VERSION.into(),
                kind: PolicyKind::PropagationPolicy.as_str().into(),
                metadata: crate::karmada::policy::PolicyMeta {
                    namespace: Some("shop".into()),
                    name: Some(name.into()),
                    ..Default::default()
                },
                spec: crate::karmada::PropagationSpec {
                    priority: Some(priority),
                    ..Default::default()
                },
            }),
        }
    }

    #[test]
    fn the_same_policy_again_is_a_no_op_and_the_store_stays_bounded() {
        let metrics = Arc::new(Metrics::new().unwrap());
        let store = MemoryStore::new(metrics.clone());
        for _ in 0..1000 {
            store.submit(&[policy("takeover-web", 0)]);
        }
        assert_eq!(store.policies().len(), 1);
        assert_eq!(metrics.policies_created_total.get(), 1);
        store.submit(&[policy("takeover-web", 1)]);
        assert_eq!(metrics.policies_created_total.get(), 2);
        store.submit(&[Action::ReleasePolicy {
            kind: PolicyKind::PropagationPolicy,
            namespace: "shop".into(),
            name: "takeover-web".into(),
        }]);
        assert!(store.policies().is_empty());
        assert_eq!(metrics.policies_released_total.get(), 1);
    }
}
