//! Takeover on apply: from a template of a selected kind and where it runs, the takeover policy
//! that adopts the running copies, the patch that records it on the template, and the plan shown
//! to the user. `takeover` runs the steps in order; each step is its own function:
//!
//! 1. `declined`: the template opted out, Karmada skips it, or it asks Karmada never to
//!    overwrite member copies;
//! 2. [`application_winner`]: an application policy claims it, or would: leave it to that policy;
//! 3. `source_clusters`: the `karmada-takeover.io/clusters` annotation, or where it runs
//!    unmanaged;
//! 4. [`takeover_policy`], and `would_not_claim`: the policy must really win the template by
//!    Karmada's rules, or nothing is created;
//! 5. `template_patch` and `dependency_statuses`: what the template records, what
//!    `propagateDeps` carries;
//! 6. the placement guard ([`guard::check_takeover`]): a source cluster Karmada's scheduler would
//!    filter out for the takeover policy is a warning (`placementGuard: warn`) or a denial
//!    (`enforce`), never a silently unmanaged copy.

use json_patch::PatchOperation;
use serde::Serialize;

use super::{
    Action, Decision, DenyReason,
    claim::{self, Candidate, PolicySource, Template, display_policy},
    dependencies::{self, DependencyKind},
    patch,
    placement::{Workload, guard},
    tier::{Tier, tier_of},
    view::{FleetView, TemplateMeta},
    workload::{Subject, parse_clusters},
};
use crate::{
    config::{Config, PlacementGuard, TakeoverPolicyKind},
    karmada::{
        Policy, PolicyKind, PropagationSpec, ResourceSelector, keys,
        markers::{self, TemplateRef},
        names,
        policy::{API_VERSION, ClusterAffinity, ConflictResolution, Placement, Preemption},
    },
};

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

    // An application policy takes precedence: never compete with it.
    if let Some(w) = application_winner(&template, fleet, gate) {
        decision.warnings.extend(defer_to_application(s, &w, &unmanaged));
        return decision;
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
    if let Some(warning) = would_not_claim(s, &template, &policy, fleet, gate) {
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
    decision.patch = template_patch(s, &clusters, &policy, is_update);
    decision.patch.extend(deletion_protection(s, config));
    let dependencies = dependency_statuses(s, &clusters, fleet, config, &mut decision.warnings);
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

/// The warnings when an application policy takes the template: that karmada-takeover leaves it
/// to that policy, and that the policy cannot manage the running copies without Overwrite.
fn defer_to_application(s: &Subject<'_>, w: &Candidate<'_>, unmanaged: &[&str]) -> Vec<String> {
    let mut warnings = vec![format!(
        "application policy {} selects {}: karmada-takeover leaves it to that policy",
        w.display(),
        s.shown()
    )];
    let overwrites = w.policy.spec.conflict_resolution == Some(ConflictResolution::Overwrite)
        || s.annotations
            .get(keys::CONFLICT_RESOLUTION)
            .is_some_and(|v| v == keys::CONFLICT_RESOLUTION_OVERWRITE);
    if !overwrites && !unmanaged.is_empty() {
        warnings.push(format!(
            "{} has conflictResolution Abort but {} already runs in {}: Karmada will refuse to manage those copies; \
             set conflictResolution: Overwrite on the policy or annotate the template with {}: overwrite",
            w.display(),
            s.shown(),
            unmanaged.join(", "),
            keys::CONFLICT_RESOLUTION
        ));
    }
    warnings
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

/// `None` when `policy` would claim the template by Karmada's rules once it exists; otherwise
/// the warning that says which policy keeps it and why.
fn would_not_claim(
    s: &Subject<'_>,
    template: &Template<'_>,
    policy: &Policy,
    fleet: &impl FleetView,
    gate: bool,
) -> Option<String> {
    let with_ours = WithPolicy { fleet, extra: policy };
    let ours_wins = claim::resolve_with(template, &with_ours, gate, false)
        .winner()
        .is_some_and(|w| std::ptr::eq(w.policy, policy));
    if ours_wins {
        return None;
    }
    let after = claim::resolve(template, &with_ours, gate);
    let (holder, why) = after
        .winner()
        .map_or(("no policy".to_owned(), String::new()), |w| {
            (w.display(), w.verdict.clone())
        });
    Some(format!(
        "takeover policy {} would not claim {}: {holder} keeps it ({why}); no takeover policy was created",
        display_policy(
            policy.policy_kind().unwrap_or(PolicyKind::PropagationPolicy),
            policy.namespace(),
            policy.name()
        ),
        s.shown()
    ))
}

/// The annotations the template records: Overwrite (unless it says otherwise), the source
/// clusters and the takeover policy's name.
fn template_patch(
    s: &Subject<'_>,
    clusters: &[String],
    policy: &Policy,
    is_update: bool,
) -> Vec<PatchOperation> {
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
    patch::set_annotations(existing, &pairs)
}

/// With `takeover.deletionProtection`, the label that makes Karmada's webhook refuse to delete
/// the template — only when the template is first adopted (no `karmada-takeover.io/policy` yet),
/// so that removing the label later lifts the protection for good.
fn deletion_protection(s: &Subject<'_>, config: &Config) -> Vec<PatchOperation> {
    if !config.takeover.deletion_protection || s.annotations.contains_key(keys::POLICY) {
        return Vec::new();
    }
    if s.labels.get(keys::DELETION_PROTECTED).map(String::as_str) == Some(keys::DELETION_PROTECTED_ALWAYS) {
        return Vec::new();
    }
    // Adding an empty map over an existing empty one is harmless, so only a non-empty label set
    // counts as existing.
    patch::set_labels(
        !s.labels.is_empty(),
        &[(
            keys::DELETION_PROTECTED,
            keys::DELETION_PROTECTED_ALWAYS.to_owned(),
        )],
    )
}

/// The dependencies `propagateDeps` will carry, whether each is in Karmada and in which source
/// clusters; warns about each one that is not in Karmada yet.
fn dependency_statuses(
    s: &Subject<'_>,
    clusters: &[String],
    fleet: &impl FleetView,
    config: &Config,
    warnings: &mut Vec<String>,
) -> Vec<DependencyStatus> {
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
            warnings.push(match (dep.kind, held.first()) {
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
    deps
}

/// The application policy that claims the template, or would claim it now, by Karmada's rules
/// (claim resolution without our takeover policy): karmada-takeover leaves such a template to it,
/// never competing on admission and never re-creating a takeover policy released for it.
pub fn application_winner<'f>(
    template: &Template<'f>,
    fleet: &'f impl FleetView,
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
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::{
        fleet::Fleet,
        karmada::keys,
        rules::testing::{PolicyExt, SelectorExt, cpp, deploy, pp},
    };

    fn fleet_with(policies: Vec<Policy>) -> Fleet {
        let mut f = Fleet::synced_empty();
        for p in policies {
            f.upsert_policy(p);
        }
        f
    }

    #[rstest]
    #[case::no_policy(vec![], None)]
    #[case::only_a_batch_policy(vec![pp("shop", "batch", Some(0), vec![deploy()])], None)]
    #[case::a_named_application_policy(vec![pp("shop", "app", Some(1), vec![deploy().named("web")])], Some("app"))]
    #[case::application_beats_batch(
        vec![pp("shop", "batch", Some(0), vec![deploy()]), pp("shop", "app", Some(1), vec![deploy().named("web")])],
        Some("app")
    )]
    #[case::batch_outranks_a_weak_application_policy(
        vec![pp("shop", "batch", Some(5), vec![deploy()]), pp("shop", "app", Some(1), vec![deploy().named("web")])],
        None
    )]
    #[case::a_labelled_application_cpp(
        vec![cpp("app", Some(0), vec![deploy()]).label(keys::TIER, "application")],
        Some("app")
    )]
    #[case::another_namespaces_policy(vec![pp("other", "app", Some(1), vec![deploy().named("web")])], None)]
    fn the_application_winner_is_the_application_policy_karmada_lets_claim(
        #[case] policies: Vec<Policy>,
        #[case] want: Option<&str>,
    ) {
        let fleet = fleet_with(policies);
        let t = Template::new("apps/v1", "Deployment", "shop", "web", None, None);
        assert_eq!(application_winner(&t, &fleet, false).map(|w| w.name), want);
    }
}
