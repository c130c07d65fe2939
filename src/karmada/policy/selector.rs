//! [`LabelSelector`]: a policy's label selector, its `matchLabels` kept compact.
//!
//! Kube's `LabelSelector` holds `matchLabels` in a `BTreeMap`, which allocates a leaf node of
//! about 540 bytes for even one pair; an application policy's resource selectors and cluster
//! affinities usually carry one or two pairs, and the fleet view keeps thousands of policies. Here
//! `matchLabels` is a [`StoredLabels`], like the templates' labels. On the wire it is kube's
//! `LabelSelector`, unchanged: decoded through it (same input accepted, same errors) and
//! serialised as it serialises (`matchExpressions`, then `matchLabels`, absent ones left out).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{self as meta, LabelSelectorRequirement};
use serde::{Deserialize, Deserializer, Serialize, Serializer, ser::SerializeStruct};

use super::meta::field;
use crate::karmada::StoredLabels;

/// `metav1.LabelSelector`, with `matchLabels` stored compactly (see the module docs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector {
    /// `matchExpressions`: requirements, AND-ed.
    pub match_expressions: Option<Vec<LabelSelectorRequirement>>,
    /// `matchLabels`: pairs, AND-ed (`Some` of an empty map is kept: it serialises as `{}`).
    pub match_labels: Option<StoredLabels>,
}

impl From<meta::LabelSelector> for LabelSelector {
    fn from(s: meta::LabelSelector) -> Self {
        let meta::LabelSelector {
            match_expressions,
            match_labels,
        } = s;
        Self {
            match_expressions,
            match_labels: match_labels.map(StoredLabels::from),
        }
    }
}

impl From<LabelSelector> for meta::LabelSelector {
    fn from(s: LabelSelector) -> Self {
        Self {
            match_expressions: s.match_expressions,
            match_labels: s.match_labels.as_ref().map(StoredLabels::to_labels),
        }
    }
}

/// Decoded as kube's `LabelSelector`, then kept compact: the same input accepted, the same errors.
impl<'de> Deserialize<'de> for LabelSelector {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        meta::LabelSelector::deserialize(deserializer).map(Self::from)
    }
}

/// Serialised as kube's `LabelSelector` is.
impl Serialize for LabelSelector {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let len = usize::from(self.match_expressions.is_some()) + usize::from(self.match_labels.is_some());
        let mut state = serializer.serialize_struct("LabelSelector", len)?;
        field(&mut state, "matchExpressions", self.match_expressions.as_ref())?;
        field(&mut state, "matchLabels", self.match_labels.as_ref())?;
        state.end()
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;
    use serde_json::{Value, json};

    use super::*;
    use crate::karmada::policy::same_as_kube::{assert_fails_alike, assert_same_bytes};

    /// Decoded as kube's `LabelSelector` (what policies held before) and as ours, both serialise
    /// to the same bytes and convert into each other.
    #[rstest]
    #[case::match_labels(json!({"matchLabels": {"tier": "web", "app": "nginx"}}))]
    #[case::expressions(json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "edge"]},
                                                    {"key": "gpu", "operator": "Exists"}]}))]
    #[case::both(json!({"matchLabels": {"app": "nginx"}, "matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}))]
    #[case::empty_maps_stay(json!({"matchLabels": {}, "matchExpressions": []}))]
    #[case::empty(json!({}))]
    #[case::unknown_fields_ignored(json!({"matchLabels": {"a": "b"}, "somethingNew": 1}))]
    fn serialises_as_kubes_did(#[case] input: Value) {
        let kube: meta::LabelSelector = serde_json::from_value(input.clone()).unwrap();
        let ours: LabelSelector = serde_json::from_value(input).unwrap();
        assert_same_bytes(&ours, &kube);
        assert_eq!(meta::LabelSelector::from(ours.clone()), kube);
        assert_eq!(LabelSelector::from(kube), ours);
    }

    /// Bad input fails as kube's `LabelSelector` fails: same message, same path.
    #[rstest]
    #[case::not_an_object(json!("app=web"))]
    #[case::label_not_a_string(json!({"matchLabels": {"app": 1}}))]
    #[case::labels_not_a_map(json!({"matchLabels": ["app"]}))]
    #[case::requirement_key_not_a_string(json!({"matchExpressions": [{"key": 1, "operator": "Exists"}]}))]
    fn fails_as_kubes_did(#[case] input: Value) {
        assert_fails_alike::<LabelSelector, meta::LabelSelector>(&input);
    }
}
