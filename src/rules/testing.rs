//! Builders for tests: policies, selectors and templates in a line each.

use std::collections::BTreeMap;

use crate::karmada::{
    Policy, PolicyKind, PropagationSpec, ResourceSelector, StoredLabels,
    policy::{API_VERSION, ConflictResolution, LabelSelector, PolicyMeta, Preemption},
};

/// `apps/v1 Deployment` selector builder.
pub fn deploy() -> ResourceSelector {
    sel("apps/v1", "Deployment")
}

/// A kind-wide selector.
pub fn sel(api_version: &str, kind: &str) -> ResourceSelector {
    ResourceSelector {
        api_version: api_version.into(),
        kind: kind.into(),
        ..Default::default()
    }
}

/// Selector refinements.
pub trait SelectorExt {
    /// Sets `name`.
    fn named(self, name: &str) -> Self;
    /// Sets `namespace`.
    fn in_ns(self, ns: &str) -> Self;
    /// Sets `labelSelector.matchLabels`.
    fn labels(self, pairs: &[(&str, &str)]) -> Self;
}

impl SelectorExt for ResourceSelector {
    fn named(mut self, name: &str) -> Self {
        self.name = Some(name.into());
        self
    }
    fn in_ns(mut self, ns: &str) -> Self {
        self.namespace = Some(ns.into());
        self
    }
    fn labels(mut self, pairs: &[(&str, &str)]) -> Self {
        self.label_selector = Some(LabelSelector {
            match_labels: Some(map(pairs).into()),
            match_expressions: None,
        });
        self
    }
}

/// A string map.
pub fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// A PropagationPolicy.
pub fn pp(ns: &str, name: &str, priority: Option<i32>, selectors: Vec<ResourceSelector>) -> Policy {
    policy(PolicyKind::PropagationPolicy, ns, name, priority, selectors)
}

/// A ClusterPropagationPolicy.
pub fn cpp(name: &str, priority: Option<i32>, selectors: Vec<ResourceSelector>) -> Policy {
    policy(
        PolicyKind::ClusterPropagationPolicy,
        "",
        name,
        priority,
        selectors,
    )
}

fn policy(
    kind: PolicyKind,
    ns: &str,
    name: &str,
    priority: Option<i32>,
    selectors: Vec<ResourceSelector>,
) -> Policy {
    Policy {
        api_version: API_VERSION.into(),
        kind: kind.as_str().into(),
        metadata: PolicyMeta {
            name: Some(name.into()),
            namespace: (!ns.is_empty()).then(|| ns.into()),
            ..Default::default()
        },
        spec: PropagationSpec {
            resource_selectors: selectors,
            priority,
            ..Default::default()
        },
    }
}

/// Policy refinements.
pub trait PolicyExt {
    /// `preemption: Always`.
    fn always(self) -> Self;
    /// `conflictResolution: Overwrite`.
    fn overwrite(self) -> Self;
    /// Adds a label.
    fn label(self, key: &str, value: &str) -> Self;
}

impl PolicyExt for Policy {
    fn always(mut self) -> Self {
        self.spec.preemption = Some(Preemption::Always);
        self
    }
    fn overwrite(mut self) -> Self {
        self.spec.conflict_resolution = Some(ConflictResolution::Overwrite);
        self
    }
    fn label(mut self, key: &str, value: &str) -> Self {
        let mut labels = self
            .metadata
            .labels
            .as_ref()
            .map(StoredLabels::to_labels)
            .unwrap_or_default();
        labels.insert(key.into(), value.into());
        self.metadata.labels = Some(labels.into());
        self
    }
}

/// Runs one webhook on objects given as JSON (CREATE when `old` is `None`, UPDATE otherwise).
pub fn run(
    webhook: crate::rules::Webhook,
    obj: &serde_json::Value,
    old: Option<&serde_json::Value>,
    fleet: &crate::fleet::Fleet,
    config: &crate::config::Config,
) -> crate::rules::Decision {
    use crate::rules::{DynamicObject, Operation, Review, decide};
    let object: DynamicObject = serde_json::from_value(obj.clone()).expect("object");
    let old_object: Option<DynamicObject> =
        old.map(|o| serde_json::from_value(o.clone()).expect("old object"));
    let review = Review {
        operation: if old.is_some() {
            Operation::Update
        } else {
            Operation::Create
        },
        api_version: obj["apiVersion"].as_str().unwrap_or_default().to_owned(),
        kind: obj["kind"].as_str().unwrap_or_default(),
        namespace: obj["metadata"]["namespace"].as_str().unwrap_or_default(),
        name: obj["metadata"]["name"].as_str().unwrap_or_default(),
        object: Some((&object).into()),
        old_object: old_object.as_ref().map(Into::into),
        dry_run: false,
    };
    decide(webhook, &review, fleet, config)
}

/// The example fleet (`examples/fleet`).
pub fn example_fleet() -> crate::fleet::Fleet {
    crate::fleet::files::embedded()
}

/// The message of a denied decision (panics when allowed).
pub fn denial(d: &crate::rules::Decision) -> (crate::rules::DenyReason, &str) {
    match &d.verdict {
        crate::rules::Verdict::Deny { reason, message } => (*reason, message.as_str()),
        crate::rules::Verdict::Allow => panic!("expected a denial, got {d:?}"),
    }
}
