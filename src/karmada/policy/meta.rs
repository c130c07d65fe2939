//! [`PolicyMeta`]: a policy's `metadata`, compact where the fleet view keeps it.
//!
//! The fleet view holds every PropagationPolicy and ClusterPropagationPolicy of the control plane
//! (10,000 in issue 11's scale check). Kube's `ObjectMeta` takes about 350 bytes inline, and its
//! `BTreeMap` labels allocate a leaf node of about 540 bytes for even one label. Decisions read
//! only the name, namespace, labels, annotations and `deletionTimestamp`, so those are held
//! inline, the labels and annotations in the compact [`StoredLabels`] form the fleet's templates
//! use (read through [`LabelsRef`](crate::karmada::LabelsRef), so a selector or marker has one
//! definition for both). The server's bookkeeping (uid, resourceVersion, finalizers,
//! managedFields...) goes into one optional box, [`ServerMeta`], that the fleet view drops.
//!
//! On the wire it is `ObjectMeta`, unchanged: it decodes through kube's `ObjectMeta` (the same
//! fields accepted, the same errors, unknown fields ignored) and serialises as `ObjectMeta` does
//! (the same fields in the same order, absent ones left out, an empty map kept as `{}`), so a
//! manifest round-trips and the policies the writer sends are byte-for-byte what they were.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ManagedFieldsEntry, ObjectMeta, OwnerReference, Time};
use serde::{Deserialize, Deserializer, Serialize, Serializer, ser::SerializeStruct};

use crate::karmada::StoredLabels;

/// A policy's `metadata`: what decisions read, inline; the server's bookkeeping, boxed and
/// optional (see the module docs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyMeta {
    /// `name`.
    pub name: Option<Box<str>>,
    /// `namespace` (none for a ClusterPropagationPolicy).
    pub namespace: Option<Box<str>>,
    /// `labels` (`Some` of an empty map is kept: it serialises as `{}`).
    pub labels: Option<StoredLabels>,
    /// `annotations`.
    pub annotations: Option<StoredLabels>,
    /// `deletionTimestamp`: a policy being deleted claims nothing.
    pub deletion_timestamp: Option<Time>,
    /// Every other field of `ObjectMeta`; `None` when none is set, and in the fleet view, which
    /// never reads them.
    pub server: Option<Box<ServerMeta>>,
}

/// The fields of `ObjectMeta` that no decision reads: the API server's bookkeeping. Kept so that
/// a manifest read by the CLI or a test round-trips whole.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ServerMeta {
    /// `creationTimestamp`.
    pub creation_timestamp: Option<Time>,
    /// `deletionGracePeriodSeconds`.
    pub deletion_grace_period_seconds: Option<i64>,
    /// `finalizers`.
    pub finalizers: Option<Vec<String>>,
    /// `generateName`.
    pub generate_name: Option<String>,
    /// `generation`.
    pub generation: Option<i64>,
    /// `managedFields`.
    pub managed_fields: Option<Vec<ManagedFieldsEntry>>,
    /// `ownerReferences`.
    pub owner_references: Option<Vec<OwnerReference>>,
    /// `resourceVersion`.
    pub resource_version: Option<String>,
    /// `selfLink`.
    pub self_link: Option<String>,
    /// `uid`.
    pub uid: Option<String>,
}

impl ServerMeta {
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

impl From<ObjectMeta> for PolicyMeta {
    fn from(m: ObjectMeta) -> Self {
        // Destructured whole: a field kube adds to `ObjectMeta` fails to compile here instead of
        // being dropped.
        let ObjectMeta {
            annotations,
            creation_timestamp,
            deletion_grace_period_seconds,
            deletion_timestamp,
            finalizers,
            generate_name,
            generation,
            labels,
            managed_fields,
            name,
            namespace,
            owner_references,
            resource_version,
            self_link,
            uid,
        } = m;
        let server = ServerMeta {
            creation_timestamp,
            deletion_grace_period_seconds,
            finalizers,
            generate_name,
            generation,
            managed_fields,
            owner_references,
            resource_version,
            self_link,
            uid,
        };
        Self {
            name: name.map(String::into_boxed_str),
            namespace: namespace.map(String::into_boxed_str),
            labels: labels.map(StoredLabels::from),
            annotations: annotations.map(StoredLabels::from),
            deletion_timestamp,
            server: (!server.is_empty()).then(|| Box::new(server)),
        }
    }
}

impl From<PolicyMeta> for ObjectMeta {
    fn from(m: PolicyMeta) -> Self {
        let s = m.server.map(|s| *s).unwrap_or_default();
        ObjectMeta {
            annotations: m.annotations.as_ref().map(StoredLabels::to_labels),
            creation_timestamp: s.creation_timestamp,
            deletion_grace_period_seconds: s.deletion_grace_period_seconds,
            deletion_timestamp: m.deletion_timestamp,
            finalizers: s.finalizers,
            generate_name: s.generate_name,
            generation: s.generation,
            labels: m.labels.as_ref().map(StoredLabels::to_labels),
            managed_fields: s.managed_fields,
            name: m.name.map(String::from),
            namespace: m.namespace.map(String::from),
            owner_references: s.owner_references,
            resource_version: s.resource_version,
            self_link: s.self_link,
            uid: s.uid,
        }
    }
}

/// Decoded as kube's `ObjectMeta`, then kept compact: the same input accepted, the same errors.
impl<'de> Deserialize<'de> for PolicyMeta {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        ObjectMeta::deserialize(deserializer).map(Self::from)
    }
}

/// One field of a struct, left out when `None` (as kube's generated serialisers do).
pub(super) fn field<T: Serialize + ?Sized, S: SerializeStruct>(
    state: &mut S,
    key: &'static str,
    value: Option<&T>,
) -> Result<(), S::Error> {
    value.map_or(Ok(()), |v| state.serialize_field(key, v))
}

/// Serialised as kube's `ObjectMeta` is: a struct named `ObjectMeta`, the set fields in its
/// (alphabetical) order.
impl Serialize for PolicyMeta {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let none = ServerMeta::default();
        let s = self.server.as_deref().unwrap_or(&none);
        let set = [
            self.annotations.is_some(),
            s.creation_timestamp.is_some(),
            s.deletion_grace_period_seconds.is_some(),
            self.deletion_timestamp.is_some(),
            s.finalizers.is_some(),
            s.generate_name.is_some(),
            s.generation.is_some(),
            self.labels.is_some(),
            s.managed_fields.is_some(),
            self.name.is_some(),
            self.namespace.is_some(),
            s.owner_references.is_some(),
            s.resource_version.is_some(),
            s.self_link.is_some(),
            s.uid.is_some(),
        ];
        let mut state = serializer.serialize_struct("ObjectMeta", set.iter().filter(|s| **s).count())?;
        field(&mut state, "annotations", self.annotations.as_ref())?;
        field(&mut state, "creationTimestamp", s.creation_timestamp.as_ref())?;
        field(
            &mut state,
            "deletionGracePeriodSeconds",
            s.deletion_grace_period_seconds.as_ref(),
        )?;
        field(&mut state, "deletionTimestamp", self.deletion_timestamp.as_ref())?;
        field(&mut state, "finalizers", s.finalizers.as_ref())?;
        field(&mut state, "generateName", s.generate_name.as_ref())?;
        field(&mut state, "generation", s.generation.as_ref())?;
        field(&mut state, "labels", self.labels.as_ref())?;
        field(&mut state, "managedFields", s.managed_fields.as_ref())?;
        field(&mut state, "name", self.name.as_ref())?;
        field(&mut state, "namespace", self.namespace.as_ref())?;
        field(&mut state, "ownerReferences", s.owner_references.as_ref())?;
        field(&mut state, "resourceVersion", s.resource_version.as_ref())?;
        field(&mut state, "selfLink", s.self_link.as_ref())?;
        field(&mut state, "uid", s.uid.as_ref())?;
        state.end()
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;
    use serde_json::{Value, json};

    use super::*;
    use crate::karmada::{
        Policy,
        policy::same_as_kube::{assert_fails_alike, assert_same_bytes},
    };

    fn every_field() -> Value {
        json!({
            "annotations": {"karmada-takeover.io/template": "apps/v1/Deployment/shop/web", "team": "shop"},
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "deletionGracePeriodSeconds": 30,
            "deletionTimestamp": "2026-01-02T03:04:05Z",
            "finalizers": ["karmada.io/propagation-policy-controller"],
            "generateName": "web-",
            "generation": 4,
            "labels": {"propagationpolicy.karmada.io/permanent-id": "4a2f", "app.kubernetes.io/managed-by": "karmada-takeover"},
            "managedFields": [{"apiVersion": "policy.karmada.io/v1alpha1", "fieldsType": "FieldsV1",
                               "fieldsV1": {"f:spec": {"f:priority": {}}}, "manager": "kubectl", "operation": "Apply",
                               "time": "2026-01-01T00:00:00Z"}],
            "name": "web",
            "namespace": "shop",
            "ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": "o-1"}],
            "resourceVersion": "1234",
            "selfLink": "/apis/policy.karmada.io/v1alpha1/namespaces/shop/propagationpolicies/web",
            "uid": "00000000-0000-0000-0000-000000000001"
        })
    }

    /// Each case: decoded as kube's `ObjectMeta` (what `Policy` held before) and as
    /// [`PolicyMeta`], both serialise to the same bytes, in JSON and YAML, and convert into each
    /// other; `server` is boxed only when a bookkeeping field is set.
    #[rstest]
    #[case::every_field(every_field(), true)]
    #[case::decision_fields_only(json!({"name": "p", "namespace": "shop", "labels": {"a": "1"},
        "annotations": {"b": "2"}, "deletionTimestamp": "2026-01-02T03:04:05Z"}), false)]
    #[case::cluster_policy(json!({"name": "cpp", "labels": {"clusterpropagationpolicy.karmada.io/permanent-id": "x"}}), false)]
    #[case::empty_maps_stay(json!({"name": "p", "labels": {}, "annotations": {}}), false)]
    #[case::empty_name_stays(json!({"name": ""}), false)]
    #[case::nothing(json!({}), false)]
    #[case::one_bookkeeping_field(json!({"name": "p", "uid": "u"}), true)]
    #[case::unknown_fields_ignored(json!({"name": "p", "somethingNew": {"x": 1}}), false)]
    fn serialises_as_object_meta_did(#[case] input: Value, #[case] boxed: bool) {
        let kube: ObjectMeta = serde_json::from_value(input.clone()).unwrap();
        let ours: PolicyMeta = serde_json::from_value(input.clone()).unwrap();
        assert_eq!(ours.server.is_some(), boxed);
        assert_same_bytes(&ours, &kube);
        assert_eq!(ObjectMeta::from(ours.clone()), kube);
        assert_eq!(PolicyMeta::from(kube), ours);
        let again: PolicyMeta = serde_json::from_str(&serde_json::to_string(&ours).unwrap()).unwrap();
        assert_eq!(again, ours);
    }

    #[test]
    fn a_policy_with_every_metadata_field_round_trips() {
        let manifest = json!({"apiVersion": "policy.karmada.io/v1alpha1", "kind": "PropagationPolicy",
            "metadata": every_field(),
            "spec": {"resourceSelectors": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}]}});
        let policy: Policy = serde_json::from_value(manifest.clone()).unwrap();
        assert_eq!((policy.namespace(), policy.name()), ("shop", "web"));
        assert_eq!(
            policy.label("propagationpolicy.karmada.io/permanent-id"),
            Some("4a2f")
        );
        assert_eq!(policy.annotations().get("team"), Some("shop"));
        assert!(policy.is_ours());
        assert!(policy.metadata.deletion_timestamp.is_some());
        let server = policy.metadata.server.as_deref().unwrap();
        assert_eq!(
            server.uid.as_deref(),
            Some("00000000-0000-0000-0000-000000000001")
        );
        assert_eq!(server.resource_version.as_deref(), Some("1234"));
        assert_eq!(serde_json::to_value(&policy).unwrap(), manifest);
    }

    /// Bad input fails as kube's `ObjectMeta` fails: same message, same path.
    #[rstest]
    #[case::not_an_object(json!(3))]
    #[case::label_not_a_string(json!({"name": "p", "labels": {"a": 1}}))]
    #[case::name_not_a_string(json!({"name": 5}))]
    #[case::bad_timestamp(json!({"name": "p", "creationTimestamp": "yesterday"}))]
    #[case::bad_deletion_timestamp(json!({"name": "p", "deletionTimestamp": 7}))]
    #[case::finalizers_not_a_list(json!({"finalizers": "f"}))]
    fn fails_as_object_meta_did(#[case] input: Value) {
        assert_fails_alike::<PolicyMeta, ObjectMeta>(&input);
    }
}
