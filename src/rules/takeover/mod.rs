//! Takeover on apply: from a template of a selected kind and where it runs, the takeover policy
//! that adopts the running copies, the patch that records it on the template, and the plan shown
//! to the user. `takeover` runs the steps in order; each step is its own function:
//!
//! 1. `declined`: the template opted out, Karmada skips it, or it asks Karmada never to
//!    overwrite member copies;
//! 2. [`application_winner`] and `existing_claimant` (in `claimants.rs`): an application policy
//!    claims it, or would, or another policy already selects it: leave it to that policy;
//! 3. `source_clusters`: the `karmada-takeover.io/clusters` annotation, or where it runs
//!    unmanaged;
//! 4. [`takeover_policy`], and `would_not_claim`: the policy must really win the template by
//!    Karmada's rules, or nothing is created;
//! 5. the restart guard ([`super::restart`]): would the takeover roll pods, rescale, change
//!    config or fail in a source cluster?
//! 6. `template_patch`, `template_labels` and `dependency_statuses`: what the template records
//!    (and `retain-replicas` on a Deployment), what `propagateDeps` carries;
//! 7. the placement guard ([`guard::check_takeover`]): a source cluster Karmada's scheduler would
//!    filter out for the takeover policy is a warning (`placementGuard: warn`) or a denial
//!    (`enforce`), never a silently unmanaged copy.

use json_patch::PatchOperation;
use serde::Serialize;

use super::{
    Action, Decision, DenyReason,
    claim::{self, Template},
    dependencies::{self, DependencyKind},
    patch,
    placement::{Workload, guard},
    restart::{self, RunningCopy, admit},
    tier::Tier,
    view::{FleetView, TemplateMeta},
    workload::{Subject, parse_clusters},
};
use crate::{
    config::{Config, PlacementGuard, RestartGuardMode, TakeoverPolicyKind},
    karmada::{
        Policy, PolicyKind, PropagationSpec, ResourceSelector,
        api::group_of,
        keys,
        markers::{self, TemplateRef},
        names,
        policy::{API_VERSION, ClusterAffinity, ConflictResolution, Placement, PolicyMeta, Preemption},
    },
};

mod claimants;

use claimants::{LookedUp, application_claimant, defer_to_application, existing_claimant, would_not_claim};
pub use claimants::{WithPolicy, application_winner};

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
    /// ConfigMap, Secret, ServiceAccount, PersistentVolumeClaim, Service.
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

/// Decides the takeover of an admitted template (mutating webhook, CREATE or takeover request).
/// `copies` are the member copies of the template, `decision` carries the re-promotion checks'
/// warnings.
pub(super) fn takeover(
    mut decision: Decision,
    s: &Subject<'_>,
    copies: &[(&str, bool)],
    is_update: bool,
    fleet: &impl FleetView,
    config: &Config,
) -> Decision {
    if let Some(why) = declined(s) {
        return match why {
            Some(warning) => decision.warn(warning),
            None => decision,
        };
    }
    let template = s.template();
    let gate = config.preemption_gate;
    let unmanaged: Vec<&str> = copies.iter().filter(|(_, m)| !*m).map(|(c, _)| *c).collect();

    // The template's candidate policies, looked up once for both claim resolutions below.
    let looked_up = LookedUp::new(fleet, &template);
    let resolved = claim::resolve_with(&template, &looked_up, gate, false);
    // An application policy takes precedence: never compete with it.
    if let Some(w) = application_claimant(&resolved) {
        decision.warnings.extend(defer_to_application(s, w, &unmanaged));
        return decision;
    }
    // No race: a policy that selects the template now claims it the moment Karmada's detector
    // sees it, before a takeover policy written after this review could.
    if let Some(warning) = existing_claimant(s, &resolved, &unmanaged) {
        return decision.warn(warning);
    }

    let (clusters, source) = match source_clusters(s, copies, &unmanaged, fleet, &mut decision.warnings) {
        Ok(found) => found,
        Err(denial) => return *denial,
    };
    if clusters.is_empty() {
        return decision.warn(format!(
            "{} runs in no member cluster: nothing to take over, no takeover policy was created; Karmada propagates \
             it only if a policy selects it",
            s.shown()
        ));
    }
    if config.placement_guard == PlacementGuard::Off {
        // With the guard on, its verdict below says this and more.
        for c in &clusters {
            if fleet.cluster(c).is_some_and(|c| !c.ready) {
                decision = decision.warn(format!(
                    "member cluster {c} is not Ready: Karmada cannot schedule to it until it is"
                ));
            }
        }
    }

    let policy = takeover_policy(s, &clusters, config);
    if let Some(warning) = would_not_claim(s, &template, &policy, looked_up, gate) {
        return decision.warn(warning);
    }
    let workload = Workload {
        api_version: s.api_version.to_owned(),
        kind: s.kind.to_owned(),
        ..Workload::default()
    };
    let verdict = guard::check_takeover(
        &policy,
        &s.shown(),
        &workload,
        &clusters,
        fleet,
        config.placement_guard,
    );
    let (retain_replicas, add_retain_label) = admit::retains_replicas(s);
    let guarded = admit::guard(s, &clusters, retain_replicas, fleet, config);
    let mut conflicts = admit::ConfigConflicts::default();
    let mut warnings = guarded.warnings;
    let dependencies = dependency_statuses(s, &clusters, fleet, config, &mut warnings, &mut conflicts);
    let denial = guarded
        .denial
        .or_else(|| admit::conflicts_denial(s, &conflicts, config));
    if let Some(message) = denial {
        let mut denied = Decision::deny(DenyReason::RestartGuard, message);
        denied.warnings = decision.warnings;
        denied.restart = guarded.check;
        return denied;
    }
    decision.warnings.extend(
        conflicts
            .messages
            .into_iter()
            .map(|c| format!("restart guard: {c}")),
    );
    decision.warnings.extend(warnings);
    decision.restart = guarded.check;
    decision.patch = template_patch(s, &clusters, &policy, is_update);
    decision
        .patch
        .extend(template_labels(s, config, add_retain_label));
    decision.takeover = Some(TakeoverPlan {
        policy_kind: policy.policy_kind().unwrap_or(PolicyKind::PropagationPolicy),
        policy_namespace: policy.namespace().to_owned(),
        policy_name: policy.name().to_owned(),
        clusters,
        cluster_source: source,
        dependencies,
    });
    decision.actions.push(Action::EnsurePolicy {
        policy: Box::new(policy),
    });
    guard::apply(decision, verdict)
}

/// Why no takeover is attempted at all: `Some(None)` silently (opted out, or Karmada itself skips
/// the template), `Some(Some(warning))` with a word to the user, `None` to go on.
fn declined(s: &Subject<'_>) -> Option<Option<String>> {
    if markers::opted_out(s.labels, s.annotations) {
        return Some(None);
    }
    if s.labels.get(keys::CLAIMED_BY).is_some_and(|v| !v.is_empty()) {
        return Some(None); // Karmada itself skips such templates
    }
    if s.annotations
        .get(keys::CONFLICT_RESOLUTION)
        .is_some_and(|v| v == keys::CONFLICT_RESOLUTION_ABORT)
    {
        return Some(Some(format!(
            "{} asks Karmada not to overwrite member copies ({}: abort): no takeover; remove that annotation to let \
             karmada-takeover adopt it",
            s.shown(),
            keys::CONFLICT_RESOLUTION
        )));
    }
    None
}

/// The clusters to pin the takeover policy to, and where they came from: the clusters the
/// annotation names (each must be a member cluster; a denial says which are not), or the
/// clusters where the workload runs unmanaged. Warns about named clusters it does not run in.
fn source_clusters(
    s: &Subject<'_>,
    copies: &[(&str, bool)],
    unmanaged: &[&str],
    fleet: &impl FleetView,
    warnings: &mut Vec<String>,
) -> Result<(Vec<String>, ClusterSource), Box<Decision>> {
    let Some(value) = s.annotations.get(keys::CLUSTERS) else {
        return Ok((
            unmanaged.iter().map(|c| (*c).to_owned()).collect(),
            ClusterSource::MemberIndex,
        ));
    };
    let named = parse_clusters(value);
    let unknown: Vec<&str> = named
        .iter()
        .map(String::as_str)
        .filter(|c| fleet.cluster(c).is_none())
        .collect();
    if named.is_empty() || !unknown.is_empty() {
        let known = fleet.cluster_names();
        return Err(Box::new(Decision::deny(
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
        )));
    }
    for c in &named {
        if !copies.iter().any(|(held, _)| held == c) {
            warnings.push(format!(
                "{} does not run in {c} yet: Karmada will create it there (propagation, not takeover)",
                s.shown()
            ));
        }
    }
    Ok((named, ClusterSource::Annotation))
}

/// The annotations the template records: the source clusters and the takeover policy's name.
/// No `work.karmada.io/conflict-resolution`: the takeover policy's `conflictResolution:
/// Overwrite` is enough, and an annotation would outlive the takeover (it beats a later
/// application policy's Abort, `mergeConflictResolution`).
fn template_patch(
    s: &Subject<'_>,
    clusters: &[String],
    policy: &Policy,
    is_update: bool,
) -> Vec<PatchOperation> {
    let pairs = [
        (keys::CLUSTERS, clusters.join(",")),
        (keys::POLICY, policy.name().to_owned()),
    ];
    let existing = !s.annotations.is_empty() || is_update;
    patch::set_annotations(existing, &pairs)
}

/// The labels the template gets: `resourcetemplate.karmada.io/retain-replicas: "true"` on a
/// Deployment that does not set it (Karmada then keeps each member's count, so the takeover
/// rescales nothing), and with `takeover.deletionProtection` the label that makes Karmada's
/// webhook refuse to delete the template — only when the template is first adopted (no
/// `karmada-takeover.io/policy` yet), so that removing it later lifts the protection for good.
fn template_labels(s: &Subject<'_>, config: &Config, retain_replicas: bool) -> Vec<PatchOperation> {
    let mut pairs = Vec::new();
    if retain_replicas {
        pairs.push((keys::RETAIN_REPLICAS, keys::RETAIN_REPLICAS_TRUE.to_owned()));
    }
    if config.takeover.deletion_protection
        && !s.annotations.contains_key(keys::POLICY)
        && s.labels.get(keys::DELETION_PROTECTED).map(String::as_str) != Some(keys::DELETION_PROTECTED_ALWAYS)
    {
        pairs.push((
            keys::DELETION_PROTECTED,
            keys::DELETION_PROTECTED_ALWAYS.to_owned(),
        ));
    }
    if pairs.is_empty() {
        return Vec::new();
    }
    // Adding an empty map over an existing empty one is harmless, so only a non-empty label set
    // counts as existing.
    patch::set_labels(!s.labels.is_empty(), &pairs)
}

/// The dependencies `propagateDeps` will carry, whether each is in Karmada and in which source
/// clusters; warns about each one that is not in Karmada yet, and when Karmada's interpreter fails
/// on the template. Dependencies chosen by label (the EndpointSlices of a ServiceImport) are left
/// out: Karmada's distributor lists them itself, and they have no name to look up.
fn dependency_statuses(
    s: &Subject<'_>,
    clusters: &[String],
    fleet: &impl FleetView,
    config: &Config,
    warnings: &mut Vec<String>,
    conflicts: &mut admit::ConfigConflicts,
) -> Vec<DependencyStatus> {
    let object = dependencies::Object {
        api_version: s.api_version,
        kind: s.kind,
        namespace: s.namespace,
        name: s.name,
        body: s.body,
    };
    let mut found = match dependencies::dependencies(&object) {
        Ok(found) => found,
        Err(e) => {
            if config.takeover.propagate_deps {
                warnings.push(format!("{}: {e}", s.shown()));
            }
            return Vec::new();
        }
    };
    // An Ingress may name one TLS Secret twice; the plan lists it once.
    found.dedup();
    let mut deps = Vec::new();
    for dep in found.into_iter().filter(|d| !d.name.is_empty()) {
        let (api_version, kind) = (dep.kind.api_version(), dep.kind.as_str());
        let in_karmada = fleet
            .template(api_version, kind, &dep.namespace, &dep.name)
            .is_some();
        let held: Vec<String> = fleet
            .member_copies(group_of(api_version), kind, &dep.namespace, &dep.name)
            .into_iter()
            .filter(|(c, _)| clusters.iter().any(|x| x == c))
            .map(|(c, _)| c.to_owned())
            .collect();
        // Only messages show it: formatted when one is written.
        let shown = || format!("{kind} {}/{}", dep.namespace, dep.name);
        if !in_karmada && config.takeover.propagate_deps && config.restart_guard != RestartGuardMode::Off {
            let running: Vec<(&str, &RunningCopy)> = fleet
                .running_copies(group_of(api_version), kind, &dep.namespace, &dep.name)
                .into_iter()
                .filter(|(c, _)| clusters.iter().any(|x| x == c))
                .collect();
            let differ = admit::dependency_disagreements(&running);
            if !differ.is_empty() {
                conflicts.members_differ = true;
                conflicts.messages.push(format!(
                    "{} is not in Karmada and its copies in the source clusters differ ({}): propagateDeps can \
                     carry only one, so the others' mounted files would change",
                    shown(),
                    differ.join("; ")
                ));
            }
        }
        if in_karmada
            && config.takeover.propagate_deps
            && config.restart_guard != RestartGuardMode::Off
            && let Some(differ) =
                karmada_copy_differs(fleet, api_version, kind, &dep.namespace, &dep.name, clusters)
        {
            conflicts.karmada_differs = true;
            conflicts.messages.push(format!(
                "{} in Karmada differs from its copies in the source clusters ({differ}): propagateDeps would \
                 write Karmada's copy there, so the mounted files change under running pods",
                shown()
            ));
        }
        if !in_karmada && config.takeover.propagate_deps {
            warnings.push(match (dep.kind, held.first()) {
                (DependencyKind::ConfigMap | DependencyKind::Secret, Some(first)) => format!(
                    "{} is not in Karmada yet: propagateDeps carries it once it is; karmada-takeover's reconciler \
                     copies it from {first}",
                    shown()
                ),
                (_, Some(_)) => format!(
                    "{} is not in Karmada yet: create it there so propagateDeps can carry it",
                    shown()
                ),
                (_, None) => format!(
                    "{} is in neither Karmada nor the source clusters: the workload may not start",
                    shown()
                ),
            });
        }
        deps.push(DependencyStatus {
            kind: dep.kind,
            name: dep.name,
            in_karmada,
            in_clusters: held,
        });
    }
    deps
}

/// The source clusters whose copy of a dependency differs from the one in Karmada, with the
/// differing paths (`member1: data.mode`), or `None` when they agree or Karmada's content is not
/// known (the view keeps it for ConfigMaps and Secrets only).
fn karmada_copy_differs(
    fleet: &impl FleetView,
    api_version: &str,
    kind: &str,
    namespace: &str,
    name: &str,
    clusters: &[String],
) -> Option<String> {
    let in_karmada = fleet.karmada_copy(api_version, kind, namespace, name)?;
    let differ: Vec<String> = fleet
        .running_copies(group_of(api_version), kind, namespace, name)
        .into_iter()
        .filter(|(c, _)| clusters.iter().any(|x| x == c))
        .filter_map(|(cluster, copy)| {
            let paths: Vec<String> = restart::compare_copies(in_karmada, copy)
                .iter()
                .map(|d| d.path.to_string())
                .collect();
            (!paths.is_empty()).then(|| format!("{cluster}: {}", paths.join(", ")))
        })
        .collect();
    (!differ.is_empty()).then(|| differ.join("; "))
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
        (keys::MANAGED_BY, keys::MANAGED_BY_VALUE),
        (keys::TIER, Tier::Batch.as_str()),
    ];
    let template_ref = TemplateRef::new(api_version, kind, namespace, name).to_string();
    Policy {
        api_version: API_VERSION.to_owned(),
        kind: policy_kind.as_str().to_owned(),
        metadata: PolicyMeta {
            name: Some(names::takeover_policy_name(namespace, name, api_version, kind).into()),
            namespace: (policy_kind == PolicyKind::PropagationPolicy).then(|| namespace.into()),
            labels: Some(labels.into()),
            annotations: Some([(keys::TEMPLATE, template_ref)].into()),
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
