//! Well-known label and annotation keys: Karmada's (with the file that defines them) and ours.

// --- Karmada: policy claims on resource templates (pkg/apis/policy/v1alpha1/well_known_constants.go) ---

/// Label: permanent id of the PropagationPolicy that claimed the template.
pub const PP_PERMANENT_ID: &str = "propagationpolicy.karmada.io/permanent-id";
/// Annotation: namespace of the claiming PropagationPolicy.
pub const PP_NAMESPACE: &str = "propagationpolicy.karmada.io/namespace";
/// Annotation: name of the claiming PropagationPolicy.
pub const PP_NAME: &str = "propagationpolicy.karmada.io/name";
/// Label: permanent id of the ClusterPropagationPolicy that claimed the template.
pub const CPP_PERMANENT_ID: &str = "clusterpropagationpolicy.karmada.io/permanent-id";
/// Annotation: name of the claiming ClusterPropagationPolicy.
pub const CPP_NAME: &str = "clusterpropagationpolicy.karmada.io/name";
/// Label on a template that keeps every policy away from it (e.g. a Service owned by an MCS).
pub const CLAIMED_BY: &str = "resourcetemplate.karmada.io/claimed-by";
/// Label on a template: `Always` makes Karmada's webhook deny its deletion
/// (`DeletionProtectionLabelKey` in `pkg/apis/work/v1alpha2/well_known_constants.go`).
pub const DELETION_PROTECTED: &str = "resourcetemplate.karmada.io/deletion-protected";
/// The value of [`DELETION_PROTECTED`] that protects.
pub const DELETION_PROTECTED_ALWAYS: &str = "Always";
/// Namespace label: do not propagate this namespace automatically.
pub const SKIP_AUTO_PROPAGATION: &str = "namespace.karmada.io/skip-auto-propagation";

// --- Karmada: markers on member-cluster objects (pkg/util/constants.go, §4.2 of semantics.md) ---

/// Label: `"true"` on every object Karmada manages in a member cluster (the authoritative marker).
pub const MANAGED: &str = "karmada.io/managed";
/// The value of [`MANAGED`] on managed objects.
pub const MANAGED_VALUE: &str = "true";
/// Annotation: the Work that produced a member object.
pub const WORK_NAME: &str = "work.karmada.io/name";
/// Annotation: the Work's namespace (`karmada-es-<cluster>`).
pub const WORK_NAMESPACE: &str = "work.karmada.io/namespace";
/// Label: permanent id of the Work.
pub const WORK_PERMANENT_ID: &str = "work.karmada.io/permanent-id";
/// Label: permanent id of the ResourceBinding.
pub const RB_PERMANENT_ID: &str = "resourcebinding.karmada.io/permanent-id";
/// Label: permanent id of the ClusterResourceBinding.
pub const CRB_PERMANENT_ID: &str = "clusterresourcebinding.karmada.io/permanent-id";
/// Annotation: UID of the template in Karmada.
pub const TEMPLATE_UID: &str = "resourcetemplate.karmada.io/uid";
/// Annotation on templates and Works: `overwrite` or `abort` (wins over the policy's conflictResolution).
pub const CONFLICT_RESOLUTION: &str = "work.karmada.io/conflict-resolution";
/// The value that lets Karmada take an existing member object over.
pub const CONFLICT_RESOLUTION_OVERWRITE: &str = "overwrite";
/// The value that makes Karmada refuse to touch an existing member object.
pub const CONFLICT_RESOLUTION_ABORT: &str = "abort";
/// Label on a Deployment template: `"true"` makes Karmada keep each member's `spec.replicas` on
/// update (`retainWorkloadReplicas` in `retain.go`).
pub const RETAIN_REPLICAS: &str = "resourcetemplate.karmada.io/retain-replicas";
/// The value of [`RETAIN_REPLICAS`] that retains.
pub const RETAIN_REPLICAS_TRUE: &str = "true";
/// Annotation on member objects: the sorted, comma-separated label keys Karmada manages
/// (`workv1alpha2.ManagedLabels`); `retainClusterFields` drops those that left the template.
pub const MANAGED_LABELS: &str = "resourcetemplate.karmada.io/managed-labels";
/// Annotation on member objects: the annotation keys Karmada manages (`workv1alpha2.ManagedAnnotation`).
pub const MANAGED_ANNOTATIONS: &str = "resourcetemplate.karmada.io/managed-annotations";

// --- ours (prefix karmada-takeover.io/) ---

/// Annotation on a template: comma-separated source clusters (explicit, or the record of the ones found).
pub const CLUSTERS: &str = "karmada-takeover.io/clusters";
/// Annotation on a template: the takeover policy that adopted it.
pub const POLICY: &str = "karmada-takeover.io/policy";
/// Annotation on a template: `"true"` accepts that the takeover changes what runs (rolls pods,
/// rescales, changes config or Service ports); the restart guard then warns instead of denying.
pub const ALLOW_ROLLOUT: &str = "karmada-takeover.io/allow-rollout";
/// Annotation or label on a template: `"true"` opts it out of takeover.
pub const SKIP: &str = "karmada-takeover.io/skip";
/// Label on a policy: `batch` or `application` (without it: batch if every selector is kind-wide).
pub const TIER: &str = "karmada-takeover.io/tier";
/// Namespace label: `disabled` keeps the webhook away from the namespace.
pub const ADMISSION: &str = "karmada-takeover.io/admission";
/// Annotation on our takeover policies: the template they were created for (`apiVersion/kind/ns/name`).
pub const TEMPLATE: &str = "karmada-takeover.io/template";
/// Standard label on the policies the engine creates.
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY`] on our policies.
pub const MANAGED_BY_VALUE: &str = "karmada-takeover";
