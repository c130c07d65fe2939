//! What the labels and annotations on an object say, each rule written once: whether Karmada
//! manages a member object, the member-side markers a template exported from a member carries,
//! whether a template opted out of takeover, whether a policy is one of ours, and the template
//! reference our takeover policies record.

use std::fmt;

use super::{LabelsRef, keys};

/// Whether Karmada manages this member-cluster object: the label `karmada.io/managed=true`, the
/// only test Karmada itself uses. Mirrors `objectWatcherImpl.isManagedResource`
/// (`pkg/util/objectwatcher/objectwatcher.go`: `util.GetLabelValue(obj.GetLabels(),
/// util.ManagedByKarmadaLabel) == util.ManagedByKarmadaLabelValue`), also what the execution
/// controller and `karmadactl get`'s ADOPTION column read (semantics.md §4.3). The Work
/// annotations corroborate but do not decide: Karmada removes the label on release and leaves
/// some annotations behind.
pub fn is_managed<'a>(labels: impl Into<LabelsRef<'a>>) -> bool {
    labels
        .into()
        .get(keys::MANAGED)
        .is_some_and(|v| v == keys::MANAGED_VALUE)
}

/// Karmada's member-side markers found on an object, as `label k=v` / `annotation k=v` strings:
/// the evidence that a template was exported from a member cluster where Karmada manages it (the
/// managed label, or either Work annotation, which only Karmada's execution controller writes).
pub fn member_markers<'a>(
    labels: impl Into<LabelsRef<'a>>,
    annotations: impl Into<LabelsRef<'a>>,
) -> Vec<String> {
    let annotations = annotations.into();
    let mut found = Vec::new();
    if is_managed(labels) {
        found.push(format!("label {}={}", keys::MANAGED, keys::MANAGED_VALUE));
    }
    for key in [keys::WORK_NAME, keys::WORK_NAMESPACE] {
        if let Some(v) = annotations.get(key) {
            found.push(format!("annotation {key}={v}"));
        }
    }
    found
}

/// Whether a template opted out of takeover: `karmada-takeover.io/skip: "true"` as a label or an
/// annotation.
pub fn opted_out<'a>(labels: impl Into<LabelsRef<'a>>, annotations: impl Into<LabelsRef<'a>>) -> bool {
    [labels.into(), annotations.into()]
        .iter()
        .any(|m| m.get(keys::SKIP).is_some_and(|v| v == "true"))
}

/// Whether a template accepts a takeover that changes what runs
/// (`karmada-takeover.io/allow-rollout: "true"`): the restart guard then warns instead of denying.
pub fn allows_rollout<'a>(annotations: impl Into<LabelsRef<'a>>) -> bool {
    annotations
        .into()
        .get(keys::ALLOW_ROLLOUT)
        .is_some_and(|v| v == "true")
}

/// Whether a policy was created by karmada-takeover (`app.kubernetes.io/managed-by:
/// karmada-takeover`): the only policies the engine ever updates or deletes.
pub fn is_ours<'a>(labels: impl Into<LabelsRef<'a>>) -> bool {
    labels
        .into()
        .get(keys::MANAGED_BY)
        .is_some_and(|v| v == keys::MANAGED_BY_VALUE)
}

/// The template a takeover policy was created for, as its `karmada-takeover.io/template`
/// annotation records it: `apiVersion/kind/namespace/name`, or `apiVersion/kind/name` for a
/// cluster-scoped template.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TemplateRef {
    /// `apps/v1`, `v1`...
    pub api_version: String,
    /// `Deployment`...
    pub kind: String,
    /// Empty for a cluster-scoped template.
    pub namespace: String,
    /// Template name.
    pub name: String,
}

impl TemplateRef {
    /// A reference from its parts.
    pub fn new(api_version: &str, kind: &str, namespace: &str, name: &str) -> Self {
        Self {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        }
    }

    /// Parses the annotation value. The kind is the first segment that starts with an upper-case
    /// letter (an apiVersion never does, and has one or two segments); `None` when the value has
    /// no such segment or the wrong number of segments after it.
    pub fn parse(value: &str) -> Option<Self> {
        let segs: Vec<&str> = value.split('/').collect();
        let k = segs
            .iter()
            .position(|s| s.chars().next().is_some_and(char::is_uppercase))?;
        if k == 0 || k > 2 {
            return None;
        }
        let (namespace, name) = match &segs[k + 1..] {
            [ns, name] => (*ns, *name),
            [name] => ("", *name),
            _ => return None,
        };
        Some(Self::new(&segs[..k].join("/"), segs[k], namespace, name))
    }
}

impl fmt::Display for TemplateRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{}/{}/{}", self.api_version, self.kind, self.name)
        } else {
            write!(
                f,
                "{}/{}/{}/{}",
                self.api_version, self.kind, self.namespace, self.name
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::karmada::Labels;

    fn map(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[rstest]
    #[case::managed_label(map(&[(keys::MANAGED, "true")]), true)]
    #[case::managed_label_false(map(&[(keys::MANAGED, "false")]), false)]
    #[case::no_labels(map(&[]), false)]
    #[case::work_permanent_id_alone(map(&[(keys::WORK_PERMANENT_ID, "x")]), false)]
    fn managed_follows_karmadas_label_test(#[case] labels: Labels, #[case] want: bool) {
        assert_eq!(is_managed(&labels), want);
    }

    #[test]
    fn work_annotations_alone_do_not_make_an_object_managed_but_are_markers() {
        let annotations = map(&[(keys::WORK_NAME, "w"), (keys::WORK_NAMESPACE, "karmada-es-m1")]);
        assert!(!is_managed(&Labels::new()));
        assert_eq!(
            member_markers(&Labels::new(), &annotations),
            [
                "annotation work.karmada.io/name=w",
                "annotation work.karmada.io/namespace=karmada-es-m1"
            ]
        );
        assert_eq!(
            member_markers(&map(&[(keys::MANAGED, "true")]), &Labels::new()),
            ["label karmada.io/managed=true"]
        );
        assert!(member_markers(&Labels::new(), &Labels::new()).is_empty());
    }

    #[rstest]
    #[case::label(map(&[(keys::SKIP, "true")]), map(&[]), true)]
    #[case::annotation(map(&[]), map(&[(keys::SKIP, "true")]), true)]
    #[case::other_value(map(&[(keys::SKIP, "yes")]), map(&[]), false)]
    #[case::absent(map(&[]), map(&[]), false)]
    fn opt_out(#[case] labels: Labels, #[case] annotations: Labels, #[case] want: bool) {
        assert_eq!(opted_out(&labels, &annotations), want);
    }

    #[rstest]
    #[case::ours(Some(map(&[(keys::MANAGED_BY, keys::MANAGED_BY_VALUE)])), true)]
    #[case::someone_elses(Some(map(&[(keys::MANAGED_BY, "helm")])), false)]
    #[case::no_labels(None, false)]
    fn ours(#[case] labels: Option<Labels>, #[case] want: bool) {
        assert_eq!(is_ours(labels.as_ref()), want);
    }

    #[rstest]
    #[case::grouped_namespaced(
        TemplateRef::new("apps/v1", "Deployment", "shop", "web"),
        "apps/v1/Deployment/shop/web"
    )]
    #[case::core_namespaced(TemplateRef::new("v1", "Service", "shop", "web"), "v1/Service/shop/web")]
    #[case::cluster_scoped(
        TemplateRef::new("rbac.authorization.k8s.io/v1", "ClusterRole", "", "view"),
        "rbac.authorization.k8s.io/v1/ClusterRole/view"
    )]
    #[case::core_cluster_scoped(TemplateRef::new("v1", "Namespace", "", "shop"), "v1/Namespace/shop")]
    fn template_refs_round_trip(#[case] r: TemplateRef, #[case] text: &str) {
        assert_eq!(r.to_string(), text);
        assert_eq!(TemplateRef::parse(text), Some(r));
    }

    #[rstest]
    #[case::no_kind("apps/v1/shop/web")]
    #[case::too_many_parts("apps/v1/Deployment/a/b/c")]
    #[case::nothing_after_kind("apps/v1/Deployment")]
    #[case::no_api_version("Deployment/shop/web")]
    fn bad_template_refs_are_refused(#[case] text: &str) {
        assert_eq!(TemplateRef::parse(text), None);
    }
}
