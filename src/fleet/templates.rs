//! Template metadata, indexed by scope (apiVersion, kind, namespace) and label pair, and the
//! claims it records (policy → the templates it claims).

use std::sync::Arc;

use super::{
    Fleet,
    keys::{KeySet, join, label_slot, policy_key},
};
use crate::{
    karmada::{PolicyKind, ResourceSelector},
    rules::{claim, restart::RunningCopy, view::TemplateMeta},
};

/// Annotation prefixes the engine reads on stored templates.
pub(super) fn is_decision_annotation(key: &str) -> bool {
    [
        "propagationpolicy.karmada.io/",
        "clusterpropagationpolicy.karmada.io/",
        "karmada-takeover.io/",
        "work.karmada.io/",
        "resourcetemplate.karmada.io/",
    ]
    .iter()
    .any(|p| key.starts_with(p))
}

/// The index key of a template.
pub(super) fn template_key(t: &TemplateMeta) -> String {
    join(&[&t.api_version, &t.kind, &t.namespace, &t.name])
}

impl Fleet {
    /// Adds or replaces a template's metadata. Only the annotations decisions read are kept
    /// (claims, ours, Karmada's work/conflict-resolution keys): a template's
    /// `kubectl.kubernetes.io/last-applied-configuration` alone can be larger than everything else
    /// the view stores for it.
    pub fn upsert_template(&mut self, mut template: TemplateMeta) {
        template.annotations.retain(is_decision_annotation);
        let key: Arc<str> = template_key(&template).into();
        self.remove_template_by_key(&key);
        if let Some(claim) = template.as_template().claim() {
            let pk = policy_key(claim.kind, claim.namespace, claim.name);
            KeySet::add(&mut self.claims, &pk, &key);
        }
        let scope = join(&[&template.api_version, &template.kind, &template.namespace]);
        for (k, v) in template.labels.iter() {
            KeySet::add(
                &mut self.templates_by_label,
                &join(&[&scope, &label_slot(k, v)]),
                &key,
            );
        }
        self.templates_by_scope
            .entry(scope)
            .or_default()
            .insert(key.clone());
        self.templates.insert(key, template);
    }

    /// Removes a template.
    pub fn remove_template(&mut self, api_version: &str, kind: &str, namespace: &str, name: &str) {
        self.remove_template_by_key(&join(&[api_version, kind, namespace, name]));
    }

    /// Records what a template in Karmada holds (a ConfigMap's or Secret's data, kept like a
    /// member copy), or forgets it (`None`). Kept only while the template itself is stored.
    pub fn set_karmada_copy(
        &mut self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
        copy: Option<RunningCopy>,
    ) {
        let key = join(&[api_version, kind, namespace, name]);
        let Some((shared, _)) = self.templates.get_key_value(key.as_str()) else {
            return;
        };
        match copy {
            Some(copy) => {
                let shared = shared.clone();
                self.karmada_copies.insert(shared, copy);
            }
            None => {
                self.karmada_copies.remove(key.as_str());
            }
        }
    }

    /// What a template in Karmada holds, when it was read whole (ConfigMaps and Secrets).
    pub fn karmada_copy(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<&RunningCopy> {
        self.karmada_copies
            .get(join(&[api_version, kind, namespace, name]).as_str())
    }

    fn remove_template_by_key(&mut self, key: &str) {
        self.karmada_copies.remove(key);
        let Some(old) = self.templates.remove(key) else {
            return;
        };
        let scope = join(&[&old.api_version, &old.kind, &old.namespace]);
        for (k, v) in old.labels.iter() {
            KeySet::remove(
                &mut self.templates_by_label,
                &join(&[&scope, &label_slot(k, v)]),
                key,
            );
        }
        if let Some(set) = self.templates_by_scope.get_mut(&scope) {
            set.remove(key);
            if set.is_empty() {
                self.templates_by_scope.remove(&scope);
            }
        }
        if let Some(claim) = old.as_template().claim() {
            let pk = policy_key(claim.kind, claim.namespace, claim.name);
            KeySet::remove(&mut self.claims, &pk, key);
        }
    }

    /// A template by identity.
    pub fn template(
        &self,
        api_version: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Option<&TemplateMeta> {
        self.templates
            .get(join(&[api_version, kind, namespace, name]).as_str())
    }

    /// Every template of a kind, in every namespace (walks the namespace index).
    pub fn templates_of_kind(&self, api_version: &str, kind: &str) -> Vec<&TemplateMeta> {
        let prefix = join(&[api_version, kind, ""]);
        self.templates_by_scope
            .iter()
            .filter(|(scope, _)| scope.starts_with(&prefix))
            .flat_map(|(_, keys)| keys.iter().filter_map(|k| self.templates.get(&**k)))
            .collect()
    }

    /// The existing templates an unnamed selector selects in `namespace` (empty: every namespace),
    /// through the label index when the selector has `matchLabels`.
    pub fn templates_selected_by(&self, rs: &ResourceSelector, namespace: &str) -> Vec<&TemplateMeta> {
        let (av, k) = (rs.api_version.as_str(), rs.kind.as_str());
        let first_pair = rs
            .label_selector
            .as_ref()
            .and_then(|s| s.match_labels.as_ref())
            .and_then(|m| m.iter().next());
        let candidates: Vec<&TemplateMeta> = match (first_pair, namespace) {
            (Some((lk, lv)), ns) if !ns.is_empty() => self
                .templates_by_label
                .get(join(&[av, k, ns, &label_slot(lk, lv)]).as_str())
                .map(|keys| keys.iter().filter_map(|key| self.templates.get(&**key)).collect())
                .unwrap_or_default(),
            (_, "") => self.templates_of_kind(av, k),
            (_, ns) => self
                .templates_by_scope
                .get(&join(&[av, k, ns]))
                .map(|keys| keys.iter().filter_map(|key| self.templates.get(&**key)).collect())
                .unwrap_or_default(),
        };
        candidates
            .into_iter()
            .filter(|t| claim::selector_priority(rs, &t.as_template()) != claim::Implicit::Mismatch)
            .collect()
    }

    /// The templates whose claim names this policy.
    pub fn claimed_by(&self, kind: PolicyKind, namespace: &str, name: &str) -> Vec<&TemplateMeta> {
        self.claims
            .get(policy_key(kind, namespace, name).as_str())
            .map(|keys| keys.iter().filter_map(|k| self.templates.get(&**k)).collect())
            .unwrap_or_default()
    }
}
