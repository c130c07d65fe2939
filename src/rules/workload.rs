//! Resource templates of the selected kinds: takeover on apply, and no re-promotion.
//!
//! Order of checks for CREATE/UPDATE of a selected kind in an allowed namespace:
//! 1. an UPDATE that only changes Karmada's claim metadata (the detector writing its claim) passes
//!    untouched;
//! 2. re-promotion (both webhooks): member-side Karmada markers on the template; on CREATE, a
//!    member copy that Karmada manages; a takeover request (new or changed
//!    `karmada-takeover.io/clusters`) on a template an application policy claims;
//! 3. takeover (mutating webhook, on CREATE or a takeover request): find the source clusters,
//!    make sure no application policy takes the template, check that the takeover policy would
//!    really claim it, then patch the template and ask for the policy.

use std::collections::BTreeMap;

use json_patch::PatchOperation;
use serde::Serialize;
use serde_json::Value;

use super::{
    Action, Decision, DenyReason, Operation, Review, Webhook,
    claim::{self, PolicySource, Template, display_policy},
    dependencies::{self, DependencyKind},
    patch,
    tier::{Tier, tier_of},
    view::{FleetView, TemplateMeta},
};
use crate::{
    config::{Config, TakeoverPolicyKind},
    karmada::{
        Labels, Policy, PolicyKind, PropagationSpec, ResourceSelector,
        api::group_of,
        keys,
        markers::{self, TemplateRef, member_markers},
        names,
        policy::{API_VERSION, ClusterAffinity, ConflictResolution, Placement, Preemption},
    },
};

static NO_LABELS: Labels = BTreeMap::new();

/// Where the source clusters of a takeover came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClusterSource {
    /// The `karmada-takeover.io/clusters` annotation.
    Annotation,
    /// The member index (where the workload runs).
    MemberIndex,
}

/// A dependency of the adopted workload and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DependencyStatus {
    /// ConfigMap, Secret, ServiceAccount, PersistentVolumeClaim.
    pub kind: DependencyKind,
    /// Name (in the workload's namespace).
    pub name: String,
    /// Whether a template exists in Karmada (propagateDeps only carries existing templates).
    pub in_karmada: bool,
    /// Source clusters holding it.
    pub in_clusters: Vec<String>,
}

/// The takeover the engine decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TakeoverPlan {
    /// PropagationPolicy or ClusterPropagationPolicy.
    pub policy_kind: PolicyKind,
    /// Empty for a ClusterPropagationPolicy.
    pub policy_namespace: String,
    /// The deterministic policy name.
    pub policy_name: String,
    /// The clusters the policy is pinned to, sorted.
    pub clusters: Vec<String>,
    /// Where they came from.
    pub cluster_source: ClusterSource,
    /// Dependencies `propagateDeps` should carry.
    pub dependencies: Vec<DependencyStatus>,
}

/// The admitted object's metadata and identity.
struct Subject<'a> {
    api_version: &'a str,
    kind: &'a str,
    namespace: &'a str,
    name: &'a str,
    labels: &'a Labels,
    annotations: &'a Labels,
    body: &'a Value,
}

impl Subject<'_> {
    fn template(&self) -> Template<'_> {
        Template::new(
            self.api_version,
            self.kind,
            self.namespace,
            self.name,
            Some(self.labels),
            Some(self.annotations),
        )
    }

    fn shown(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

fn labels_of(o: &super::DynamicObject) -> &Labels {
    o.metadata.labels.as_ref().unwrap_or(&NO_LABELS)
}

fn annotations_of(o: &super::DynamicObject) -> &Labels {
    o.metadata.annotations.as_ref().unwrap_or(&NO_LABELS)
}

/// Decides a review of a selected kind.
pub fn decide(
    webhook: Webhook,
    r: &Review<'_>,
    fleet: &(impl FleetView + ?Sized),
    config: &Config,
) -> Decision {
    if !matches!(r.operation, Operation::Create | Operation::Update)
        || !config.selects(&r.api_version, r.kind)
    {
        return Decision::allow();
    }
    let Some(object) = r.object else {
        return Decision::allow();
    };
    let namespace = object
        .metadata
        .namespace
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or(r.namespace);
    if !namespace.is_empty() && (!config.namespace_allowed(namespace) || fleet.namespace_disabled(namespace))
    {
        return Decision::allow();
    }
    let name = object
        .metadata
        .name
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or(r.name);
    if name.is_empty() {
        return Decision::allow(); // generateName: nothing to look up in member clusters
    }
    let subject = Subject {
        api_version: &r.api_version,
        kind: r.kind,
        namespace,
        name,
        labels: labels_of(object),
        annotations: annotations_of(object),
        body: &object.data,
    };
    let old = r.old_object.filter(|_| r.operation == Operation::Update);
    if let Some(old) = old
        && only_claims_changed(old, object)
    {
        return Decision::allow();
    }

    // --- re-promotion ---
    let old_labels = old.map(labels_of);
    let old_annotations = old.map(annotations_of);
    let markers = member_markers(subject.labels, subject.annotations);
    if !markers.is_empty() {
        let had = old_labels
            .zip(old_annotations)
            .is_some_and(|(l, a)| !member_markers(l, a).is_empty());
        if !had {
            return Decision::deny(
                DenyReason::MemberMarkers,
                format!(
                    "{} carries Karmada's member-cluster markers ({}): it was exported from a member cluster where \
                     Karmada already manages it, so it is already a multicloud workload; edit its template in Karmada \
                     instead of re-applying the member copy, or remove those markers if this really is a new workload",
                    subject.shown(),
                    markers.join(", ")
                ),
            );
        }
    }
    let group = group_of(subject.api_version);
    let copies = fleet.member_copies(group, subject.kind, subject.namespace, subject.name);
    if r.operation == Operation::Create {
        let managed: Vec<&str> = copies.iter().filter(|(_, m)| *m).map(|(c, _)| *c).collect();
        if !managed.is_empty() {
            return Decision::deny(
                DenyReason::ManagedInMember,
                format!(
                    "{} is already managed by Karmada in member cluster{} {} (label {}=true on the member copy) but has \
                     no template here: another control plane or a deleted template still owns it; release it there \
                     first (delete that template with preserveResourcesOnDeletion: true) or use another name",
                    subject.shown(),
                    if managed.len() == 1 { "" } else { "s" },
                    managed.join(", "),
                    keys::MANAGED
                ),
            );
        }
    }
    let requested = subject.annotations.get(keys::CLUSTERS);
    let takeover_requested =
        requested.is_some() && requested != old_annotations.and_then(|a| a.get(keys::CLUSTERS));
    let stored_claim = match old {
        Some(o) => Template::new(
            subject.api_version,
            subject.kind,
            namespace,
            name,
            Some(labels_of(o)),
            Some(annotations_of(o)),
        )
        .claim(),
        None => subject.template().claim(),
    };
    if takeover_requested
        && let Some(c) = stored_claim
        && let Some(p) = fleet.policy(c.kind, c.namespace, c.name)
        && tier_of(p) == Tier::Application
    {
        return Decision::deny(
            DenyReason::ClaimedByApplication,
            format!(
                "{} is already claimed by application policy {}, so {}={} cannot take it over again; change the \
                 placement in that policy instead, or remove the {} annotation",
                subject.shown(),
                display_policy(c.kind, c.namespace, c.name),
                keys::CLUSTERS,
                requested.map(String::as_str).unwrap_or_default(),
                keys::CLUSTERS
            ),
        );
    }
    let mut decision = Decision::allow();
    if !markers.is_empty() {
        decision = decision.warn(format!(
            "{} still carries Karmada member-cluster markers ({}) from before this update",
            subject.shown(),
            markers.join(", ")
        ));
    }
    if webhook != Webhook::MutateWorkload {
        return decision;
    }
    if r.operation == Operation::Update && !takeover_requested {
        return decision;
    }
    takeover(decision, &subject, &copies, old.is_some(), fleet, config)
}

fn is_claim_key(key: &str) -> bool {
    key.starts_with("propagationpolicy.karmada.io/")
        || key.starts_with("clusterpropagationpolicy.karmada.io/")
}

/// Whether an UPDATE only adds/changes/removes Karmada's claim labels and annotations (plus
/// server-managed fields and status): what karmada-controller-manager's detector does.
pub fn only_claims_changed(old: &super::DynamicObject, new: &super::DynamicObject) -> bool {
    let without_claims = |m: &Labels| -> Vec<(String, String)> {
        m.iter()
            .filter(|(k, _)| !is_claim_key(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let same_body = match (&old.data, &new.data) {
        (Value::Object(a), Value::Object(b)) => a
            .iter()
            .filter(|(k, _)| *k != "status")
            .eq(b.iter().filter(|(k, _)| *k != "status")),
        (a, b) => a == b,
    };
    same_body
        && without_claims(labels_of(old)) == without_claims(labels_of(new))
        && without_claims(annotations_of(old)) == without_claims(annotations_of(new))
        && (labels_of(old) != labels_of(new) || annotations_of(old) != annotations_of(new))
}

/// Parses the clusters annotation: comma-separated names, trimmed, de-duplicated, sorted.
pub fn parse_clusters(value: &str) -> Vec<String> {
    let mut out: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

fn takeover(
    mut decision: Decision,
    s: &Subject<'_>,
    copies: &[(&str, bool)],
    is_update: bool,
    fleet: &(impl FleetView + ?Sized),
    config: &Config,
) -> Decision {
    if markers::opted_out(s.labels, s.annotations) {
        return decision;
    }
    if s.labels.get(keys::CLAIMED_BY).is_some_and(|v| !v.is_empty()) {
        return decision; // Karmada itself skips such templates
    }
    if s.annotations
        .get(keys::CONFLICT_RESOLUTION)
        .is_some_and(|v| v == keys::CONFLICT_RESOLUTION_ABORT)
    {
        return decision.warn(format!(
            "{} asks Karmada not to overwrite member copies ({}: abort): no takeover; remove that annotation to let \
             karmada-takeover adopt it",
            s.shown(),
            keys::CONFLICT_RESOLUTION
        ));
    }
    let template = s.template();
    let gate = config.preemption_gate;
    let unmanaged: Vec<&str> = copies.iter().filter(|(_, m)| !*m).map(|(c, _)| *c).collect();

    // An application policy takes precedence: never compete with it.
    if let Some(w) = application_winner(&template, fleet, gate) {
        decision = decision.warn(format!(
            "application policy {} selects {}: karmada-takeover leaves it to that policy",
            w.display(),
            s.shown()
        ));
        let overwrites = w.policy.spec.conflict_resolution == Some(ConflictResolution::Overwrite)
            || s.annotations
                .get(keys::CONFLICT_RESOLUTION)
                .is_some_and(|v| v == keys::CONFLICT_RESOLUTION_OVERWRITE);
        if !overwrites && !unmanaged.is_empty() {
            decision = decision.warn(format!(
                "{} has conflictResolution Abort but {} already runs in {}: Karmada will refuse to manage those copies; \
                 set conflictResolution: Overwrite on the policy or annotate the template with {}: overwrite",
                w.display(),
                s.shown(),
                unmanaged.join(", "),
                keys::CONFLICT_RESOLUTION
            ));
        }
        return decision;
    }

    // Source clusters.
    let (clusters, source) = match s.annotations.get(keys::CLUSTERS) {
        Some(value) => {
            let named = parse_clusters(value);
            let unknown: Vec<&str> = named
                .iter()
                .map(String::as_str)
                .filter(|c| fleet.cluster(c).is_none())
                .collect();
            if named.is_empty() || !unknown.is_empty() {
                let known = fleet.cluster_names();
                return Decision::deny(
                    DenyReason::InvalidClusters,
                    format!(
                        "{}={value:?} on {} {}; member clusters are: {}; fix the annotation, or remove it to let \
                         karmada-takeover find where the workload runs",
                        keys::CLUSTERS,
                        s.shown(),
                        if named.is_empty() {
                            "names no cluster".to_owned()
                        } else {
                            format!(
                                "names unknown cluster{} {}",
                                if unknown.len() == 1 { "" } else { "s" },
                                unknown.join(", ")
                            )
                        },
                        if known.is_empty() {
                            "(none)".to_owned()
                        } else {
                            known.join(", ")
                        }
                    ),
                );
            }
            for c in &named {
                if !copies.iter().any(|(held, _)| held == c) {
                    decision = decision.warn(format!(
                        "{} does not run in {c} yet: Karmada will create it there (propagation, not takeover)",
                        s.shown()
                    ));
                }
            }
            (named, ClusterSource::Annotation)
        }
        None => (
            unmanaged.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>(),
            ClusterSource::MemberIndex,
        ),
    };
    if clusters.is_empty() {
        return decision.warn(format!(
            "{} runs in no member cluster: nothing to take over, no takeover policy was created; Karmada propagates \
             it only if a policy selects it",
            s.shown()
        ));
    }
    for c in &clusters {
        if fleet.cluster(c).is_some_and(|c| !c.ready) {
            decision = decision.warn(format!(
                "member cluster {c} is not Ready: Karmada cannot schedule to it until it is"
            ));
        }
    }

    // The takeover policy, and whether it would really claim the template.
    let policy = takeover_policy(s, &clusters, config);
    let with_ours = WithPolicy {
        fleet,
        extra: &policy,
    };
    let ours_wins = claim::resolve_with(&template, &with_ours, gate, false)
        .winner()
        .is_some_and(|w| std::ptr::eq(w.policy, &policy));
    if !ours_wins {
        let after = claim::resolve(&template, &with_ours, gate);
        let (holder, why) = after
            .winner()
            .map_or(("no policy".to_owned(), String::new()), |w| {
                (w.display(), w.verdict.clone())
            });
        return decision.warn(format!(
            "takeover policy {} would not claim {}: {holder} keeps it ({why}); no takeover policy was created",
            display_policy(policy.policy_kind().unwrap_or(PolicyKind::PropagationPolicy), policy.namespace(), policy.name()),
            s.shown()
        ));
    }

    // Patch, policy, dependencies.
    let mut pairs = Vec::new();
    if !s.annotations.contains_key(keys::CONFLICT_RESOLUTION) {
        pairs.push((
            keys::CONFLICT_RESOLUTION,
            keys::CONFLICT_RESOLUTION_OVERWRITE.to_owned(),
        ));
    }
    pairs.push((keys::CLUSTERS, clusters.join(",")));
    pairs.push((keys::POLICY, policy.name().to_owned()));
    let existing = !s.annotations.is_empty() || is_update;
    let ops: Vec<PatchOperation> = patch::set_annotations(existing, &pairs);
    decision.patch = ops;

    let mut deps = Vec::new();
    for dep in dependencies::dependencies(s.api_version, s.kind, s.body) {
        let in_karmada = fleet
            .template("v1", dep.kind.as_str(), s.namespace, &dep.name)
            .is_some();
        let held: Vec<String> = fleet
            .member_copies("", dep.kind.as_str(), s.namespace, &dep.name)
            .into_iter()
            .map(|(c, _)| c.to_owned())
            .filter(|c| clusters.contains(c))
            .collect();
        if !in_karmada && config.takeover.propagate_deps {
            let shown = format!("{} {}/{}", dep.kind.as_str(), s.namespace, dep.name);
            decision = decision.warn(match (dep.kind, held.first()) {
                (DependencyKind::ConfigMap | DependencyKind::Secret, Some(first)) => format!(
                    "{shown} is not in Karmada yet: propagateDeps carries it once it is; karmada-takeover's reconciler \
                     copies it from {first}"
                ),
                (_, Some(_)) => format!("{shown} is not in Karmada yet: create it there so propagateDeps can carry it"),
                (_, None) => format!("{shown} is in neither Karmada nor the source clusters: the workload may not start"),
            });
        }
        deps.push(DependencyStatus {
            kind: dep.kind,
            name: dep.name,
            in_karmada,
            in_clusters: held,
        });
    }
    decision.takeover = Some(TakeoverPlan {
        policy_kind: policy.policy_kind().unwrap_or(PolicyKind::PropagationPolicy),
        policy_namespace: policy.namespace().to_owned(),
        policy_name: policy.name().to_owned(),
        clusters,
        cluster_source: source,
        dependencies: deps,
    });
    decision.actions.push(Action::EnsurePolicy {
        policy: Box::new(policy),
    });
    decision
}

/// The application policy that claims the template, or would claim it now, by Karmada's rules
/// (claim resolution without our takeover policy): karmada-takeover leaves such a template to it,
/// never competing on admission and never re-creating a takeover policy released for it.
pub fn application_winner<'f>(
    template: &Template<'f>,
    fleet: &'f (impl FleetView + ?Sized),
    preemption_gate: bool,
) -> Option<claim::Candidate<'f>> {
    claim::resolve_with(template, &fleet, preemption_gate, false)
        .winner()
        .filter(|w| tier_of(w.policy) == Tier::Application)
        .cloned()
}

/// The takeover policy for a template: one named selector, pinned to the source clusters,
/// Overwrite, preserve on deletion, propagateDeps, batch priority, never preempting; labelled as
/// ours and batch; no permanent-id label (Karmada's webhook sets it).
pub fn takeover_policy(s: &impl TemplateIdentity, clusters: &[String], config: &Config) -> Policy {
    let (api_version, kind, namespace, name) = s.identity();
    let policy_kind = match config.takeover.policy_kind {
        TakeoverPolicyKind::PropagationPolicy if !namespace.is_empty() => PolicyKind::PropagationPolicy,
        _ => PolicyKind::ClusterPropagationPolicy,
    };
    let mut sorted = clusters.to_vec();
    sorted.sort_unstable();
    let labels = [
        (keys::MANAGED_BY.to_owned(), keys::MANAGED_BY_VALUE.to_owned()),
        (keys::TIER.to_owned(), Tier::Batch.as_str().to_owned()),
    ];
    let template_ref = TemplateRef::new(api_version, kind, namespace, name).to_string();
    Policy {
        api_version: API_VERSION.to_owned(),
        kind: policy_kind.as_str().to_owned(),
        metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
            name: Some(names::takeover_policy_name(namespace, name, api_version, kind)),
            namespace: (policy_kind == PolicyKind::PropagationPolicy).then(|| namespace.to_owned()),
            labels: Some(labels.into_iter().collect()),
            annotations: Some([(keys::TEMPLATE.to_owned(), template_ref)].into_iter().collect()),
            ..Default::default()
        },
        spec: PropagationSpec {
            resource_selectors: vec![ResourceSelector {
                api_version: api_version.to_owned(),
                kind: kind.to_owned(),
                namespace: (!namespace.is_empty()).then(|| namespace.to_owned()),
                name: Some(name.to_owned()),
                label_selector: None,
            }],
            propagate_deps: Some(config.takeover.propagate_deps),
            placement: Some(Box::new(Placement {
                cluster_affinity: Some(ClusterAffinity {
                    cluster_names: Some(sorted),
                    ..Default::default()
                }),
                ..Default::default()
            })),
            priority: Some(config.takeover.priority),
            preemption: Some(Preemption::Never),
            conflict_resolution: Some(ConflictResolution::Overwrite),
            preserve_resources_on_deletion: Some(config.takeover.preserve_resources_on_deletion),
            ..Default::default()
        },
    }
}

/// apiVersion, kind, namespace and name of a template.
pub trait TemplateIdentity {
    /// `(apiVersion, kind, namespace, name)`.
    fn identity(&self) -> (&str, &str, &str, &str);
}

impl TemplateIdentity for Subject<'_> {
    fn identity(&self) -> (&str, &str, &str, &str) {
        (self.api_version, self.kind, self.namespace, self.name)
    }
}

impl TemplateIdentity for TemplateMeta {
    fn identity(&self) -> (&str, &str, &str, &str) {
        (&self.api_version, &self.kind, &self.namespace, &self.name)
    }
}

/// The fleet's policies plus one more (replacing any policy of the same identity): "what if
/// this policy existed?"
pub struct WithPolicy<'f, F: ?Sized> {
    /// The fleet.
    pub fleet: &'f F,
    /// The extra policy.
    pub extra: &'f Policy,
}

impl<F: ?Sized> WithPolicy<'_, F> {
    fn is_extra(&self, kind: PolicyKind, namespace: &str, name: &str) -> bool {
        self.extra.policy_kind() == Some(kind)
            && self.extra.namespace() == namespace
            && self.extra.name() == name
    }
}

impl<'f, F: FleetView + ?Sized> PolicySource<'f> for WithPolicy<'f, F> {
    fn candidates(&self, t: &Template<'_>) -> Vec<&'f Policy> {
        let mut out = (&self.fleet).candidates(t);
        out.retain(|p| {
            !p.policy_kind()
                .is_some_and(|k| self.is_extra(k, p.namespace(), p.name()))
        });
        out.push(self.extra);
        out
    }

    fn get(&self, kind: PolicyKind, namespace: &str, name: &str) -> Option<&'f Policy> {
        if self.is_extra(kind, namespace, name) {
            Some(self.extra)
        } else {
            self.fleet.policy(kind, namespace, name)
        }
    }
}

#[cfg(test)]
mod tests;
