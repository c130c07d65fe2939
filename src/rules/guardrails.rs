//! Priority guardrails for PropagationPolicy / ClusterPropagationPolicy admission.
//!
//! Batch (takeover) policies must stay at or below `tiers.batchMaxPriority` and never preempt.
//! An application policy that competes with batch policies — their selectors can select the same
//! template — must be able to win by Karmada's rules:
//! - against a batch PP (application PP): strictly higher explicit priority (ties would fall to
//!   selector precision and names on unclaimed templates, and never preempt claimed ones);
//! - against a batch CPP (application PP): always wins unclaimed templates; claimed ones need
//!   `preemption: Always` with named selectors and the preemption gate;
//! - against a batch CPP (application CPP): strictly higher priority, and the same for claims;
//! - against a batch PP (application CPP): impossible — a CPP is only consulted when no PP
//!   matches and never preempts a PP; the message says so;
//! - templates a batch policy already claims: with the gate on, `preemption: Always` + named
//!   selectors; with the gate off, karmada-takeover releases its own takeover policy (Karmada then
//!   re-matches the template) and denies when the claimant is someone else's batch policy.
//!
//! `enforce` denies, `warn` admits with warnings, `fix` patches the smallest sufficient
//! priority/preemption (at least `tiers.applicationMinPriority`) and denies what no patch fixes.
//!
//! The validating webhook also runs the placement guard on application policies
//! ([`super::placement::guard`], its own mode `placementGuard`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use serde_json::{json, value::RawValue};

use super::{
    Action, Decision, DenyReason, Operation, Review, Webhook,
    claim::{self, display_policy},
    patch,
    placement::guard,
    selector,
    tier::{Tier, classify, tier_of},
    view::FleetView,
};
use crate::{
    config::{Config, GuardrailMode},
    karmada::{
        Policy, PolicyKind, PropagationSpec, ResourceSelector, StoredLabels, keys, policy::PolicyMeta,
    },
};

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Violation {
    /// What is wrong and what to do, in one sentence.
    pub message: String,
    /// The change that fixes it, when one exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
}

/// A fix the `fix` mode can apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Fix {
    /// Set `spec.priority`.
    Priority(i32),
    /// Set `spec.preemption` (`true` = Always).
    PreemptionAlways(bool),
}

/// The outcome of checking one policy against the tier rules and the fleet.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Assessment {
    /// Broken rules.
    pub violations: Vec<Violation>,
    /// Takeover policies to release so the application policy can claim (gate off).
    pub releases: Vec<(PolicyKind, String, String)>,
    /// Facts worth telling the user even when nothing is wrong.
    pub notes: Vec<String>,
}

/// A PropagationPolicy / ClusterPropagationPolicy review as the guardrails read it: the request's
/// coordinates, the object's metadata and its `spec` as raw JSON.
///
/// Why raw: `spec` is decoded once, straight into the typed [`PropagationSpec`]. Building a
/// `serde_json::Value` tree first and converting it cost more than the rest of the decision
/// (BENCHMARKS.md); the admission layer hands the raw text over without parsing it twice.
#[derive(Debug, Clone)]
pub struct PolicyReview<'a> {
    /// CREATE, UPDATE, DELETE or CONNECT.
    pub operation: &'a Operation,
    /// `policy.karmada.io/v1alpha1` (from the request's `kind`).
    pub api_version: &'a str,
    /// `PropagationPolicy` or `ClusterPropagationPolicy`; anything else is admitted unchecked.
    pub kind: &'a str,
    /// The request's namespace; empty for a ClusterPropagationPolicy.
    pub namespace: &'a str,
    /// The request's name.
    pub name: &'a str,
    /// The object's metadata; `None` when the request has no object (DELETE).
    pub metadata: Option<&'a ObjectMeta>,
    /// The object's `spec`; `None` when it has none (denied as malformed).
    pub spec: Option<&'a RawValue>,
}

/// Decides a policy review given as a [`Review`] (a dynamic object): `spec` is re-encoded to raw
/// JSON first. For callers off the hot path (`check`, tests); the webhook decodes straight into a
/// [`PolicyReview`].
pub fn decide_dynamic(webhook: Webhook, r: &Review<'_>, fleet: &impl FleetView, config: &Config) -> Decision {
    let raw = r
        .object
        .and_then(|o| o.body.get("spec"))
        .map(|spec| serde_json::value::to_raw_value(&spec.to_value()))
        .transpose();
    let raw = match raw {
        Ok(raw) => raw,
        // A `Value` always encodes; kept as a denial rather than a panic.
        Err(error) => {
            return Decision::deny(
                DenyReason::MalformedObject,
                format!("{} {}: spec could not be read: {error}", r.kind, r.name),
            );
        }
    };
    let review = PolicyReview {
        operation: &r.operation,
        api_version: &r.api_version,
        kind: r.kind,
        namespace: r.namespace,
        name: r.name,
        metadata: r.object.map(|o| o.metadata),
        spec: raw.as_deref(),
    };
    decide(webhook, &review, fleet, config)
}

/// Decides a PropagationPolicy / ClusterPropagationPolicy review.
pub fn decide(webhook: Webhook, r: &PolicyReview<'_>, fleet: &impl FleetView, config: &Config) -> Decision {
    let Some(kind) = PolicyKind::from_kind(r.kind) else {
        return Decision::allow();
    };
    if !matches!(r.operation, Operation::Create | Operation::Update)
        || !r.api_version.starts_with("policy.karmada.io/")
    {
        return Decision::allow();
    }
    let Some(metadata) = r.metadata else {
        return Decision::allow();
    };
    let spec_json = r.spec.map_or("null", RawValue::get);
    let spec = match serde_json::from_str::<PropagationSpec>(spec_json) {
        Ok(spec) => spec,
        Err(error) => {
            // Only a failure is decoded again, with path tracking, for the message.
            let at = serde_path_to_error::deserialize::<_, PropagationSpec>(
                &mut serde_json::Deserializer::from_str(spec_json),
            )
            .err()
            .map(|e| e.path().to_string())
            .filter(|p| p != ".")
            .map_or_else(|| "spec".to_owned(), |p| format!("spec.{p}"));
            return Decision::deny(
                DenyReason::MalformedObject,
                format!(
                    "{} {} is not a valid {}: {} at {at}",
                    r.kind,
                    r.name,
                    r.kind,
                    super::echo::quoted_values(&error.to_string())
                ),
            );
        }
    };
    let mut policy = Policy {
        api_version: r.api_version.to_owned(),
        kind: r.kind.to_owned(),
        // Only what decisions read: cloning managedFields would cost more than the decision.
        metadata: PolicyMeta {
            name: metadata.name.as_deref().map(Box::from),
            namespace: metadata.namespace.as_deref().map(Box::from),
            labels: metadata.labels.as_ref().map(StoredLabels::copied),
            deletion_timestamp: metadata.deletion_timestamp.clone(),
            ..Default::default()
        },
        spec,
    };
    if policy
        .metadata
        .namespace
        .as_deref()
        .unwrap_or_default()
        .is_empty()
        && kind == PolicyKind::PropagationPolicy
    {
        policy.metadata.namespace = Some(r.namespace.into());
    }
    let namespace = policy.namespace().to_owned();
    if kind == PolicyKind::PropagationPolicy
        && (!config.namespace_allowed(&namespace) || fleet.namespace_disabled(&namespace))
    {
        return Decision::allow();
    }
    let tier = classify(&policy);
    let assessment = match &tier {
        Err(message) => Assessment {
            violations: vec![Violation {
                message: message.clone(),
                fix: None,
            }],
            ..Default::default()
        },
        Ok(tier) => assess(&policy, kind, *tier, fleet, config),
    };
    // The placement guard judges where an application policy sends its templates; batch
    // policies (takeover policies included) are checked when a takeover decides them.
    let placement = match (webhook, tier) {
        (Webhook::ValidatePolicy, Ok(Tier::Application)) => {
            guard::check_policy(&policy, kind, fleet, config.placement_guard)
        }
        _ => None,
    };
    guard::apply(render(webhook, &policy, kind, assessment, config), placement)
}

/// Checks a policy against the tier rules and the current fleet.
pub fn assess(
    policy: &Policy,
    kind: PolicyKind,
    tier: Tier,
    fleet: &impl FleetView,
    config: &Config,
) -> Assessment {
    let mut out = Assessment::default();
    let shown = display_policy(kind, policy.namespace(), policy.name());
    let priority = policy.spec.explicit_priority();
    match tier {
        Tier::Batch => {
            let max = config.tiers.batch_max_priority;
            if priority > max {
                out.violations.push(Violation {
                    message: format!(
                        "batch policy {shown} has priority {priority}, above the batch maximum {max}: application \
                         policies could no longer be sure to win; set spec.priority to {max} or lower (or label it \
                         {}: application if it says where an application should run)",
                        keys::TIER
                    ),
                    fix: Some(Fix::Priority(max)),
                });
            }
            if policy.spec.preempts() {
                out.violations.push(Violation {
                    message: format!(
                        "batch policy {shown} has preemption: Always: it could take templates from application \
                         policies; set spec.preemption: Never"
                    ),
                    fix: Some(Fix::PreemptionAlways(false)),
                });
            }
        }
        Tier::Application => assess_application(policy, kind, &shown, fleet, config, &mut out),
    }
    out
}

fn assess_application(
    a: &Policy,
    a_kind: PolicyKind,
    shown: &str,
    fleet: &impl FleetView,
    config: &Config,
    out: &mut Assessment,
) {
    let gate = config.preemption_gate;
    let a_priority = a.spec.explicit_priority();
    let all_named = a.spec.resource_selectors.iter().all(|s| !s.name().is_empty());
    let mut required: Option<(i32, String)> = None;
    let mut needs_always: Vec<String> = Vec::new();
    for b in competitors(a, a_kind, fleet) {
        let Some(b_kind) = b.policy_kind() else { continue };
        let b_shown = display_policy(b_kind, b.namespace(), b.name());
        let b_priority = b.spec.explicit_priority();
        let claimed: Vec<String> = fleet
            .claimed_by(b_kind, b.namespace(), b.name())
            .into_iter()
            .filter(|t| {
                let t = t.as_template();
                claim::in_scope(a_kind, a, &t) && claim::policy_priority(a, &t).0 != claim::Implicit::Mismatch
            })
            .map(|t| format!("{} {}/{}", t.kind, t.namespace, t.name))
            .collect();
        if a_kind == PolicyKind::ClusterPropagationPolicy && b_kind == PolicyKind::PropagationPolicy {
            out.violations.push(Violation {
                message: format!(
                    "{shown} can never win over batch policy {b_shown}: Karmada consults PropagationPolicies before \
                     ClusterPropagationPolicies and a ClusterPropagationPolicy never preempts a PropagationPolicy; \
                     express this placement as a PropagationPolicy in namespace {}",
                    b.namespace()
                ),
                fix: None,
            });
            continue;
        }
        if !claimed.is_empty() && !gate {
            if b.is_ours() {
                out.releases
                    .push((b_kind, b.namespace().to_owned(), b.name().to_owned()));
                out.notes.push(format!(
                    "Karmada's preemption gate is off: karmada-takeover releases takeover policy {b_shown} so that \
                     {shown} claims {}",
                    list(&claimed)
                ));
                continue; // once released, it no longer competes
            }
            out.violations.push(Violation {
                message: format!(
                    "batch policy {b_shown} already claims {} and Karmada's PropagationPolicyPreemption gate is off, so \
                     {shown} cannot take {}; delete or narrow {b_shown} first, or enable the gate and set \
                     spec.preemption: Always",
                    list(&claimed),
                    if claimed.len() == 1 { "it" } else { "them" }
                ),
                fix: None,
            });
            continue;
        }
        if !claimed.is_empty() {
            needs_always.push(format!("{} (claimed by {b_shown})", list(&claimed)));
        }
        let same_kind = a_kind == b_kind;
        if same_kind && a_priority <= b_priority && required.as_ref().is_none_or(|(p, _)| b_priority + 1 > *p)
        {
            required = Some((b_priority + 1, b_shown));
        }
    }
    if let Some((need, against)) = required
        && a_priority < need
    {
        let fix = need.max(config.tiers.application_min_priority);
        out.violations.push(Violation {
            message: format!(
                "application policy {shown} has priority {a_priority} but competes with batch policy {against} \
                 (priority {}) for the same templates: it needs a strictly higher priority to win by Karmada's rules; \
                 set spec.priority to {fix}",
                need - 1
            ),
            fix: Some(Fix::Priority(fix)),
        });
    }
    let already_preempts = a.spec.preempts() && all_named;
    if !needs_always.is_empty() && !already_preempts {
        let what = needs_always.join("; ");
        out.violations.push(if all_named {
            Violation {
                message: format!(
                    "{shown} selects templates a batch policy already claims ({what}): claims are sticky, so it takes \
                     them only with spec.preemption: Always"
                ),
                fix: Some(Fix::PreemptionAlways(true)),
            }
        } else {
            Violation {
                message: format!(
                    "{shown} selects templates a batch policy already claims ({what}): claims are sticky and Karmada \
                     only lets policies whose every resource selector has a name preempt; name the resources in \
                     spec.resourceSelectors and set spec.preemption: Always"
                ),
                fix: None,
            }
        });
    }
}

fn list(items: &[String]) -> String {
    const SHOWN: usize = 3;
    if items.len() <= SHOWN {
        items.join(", ")
    } else {
        format!("{} and {} more", items[..SHOWN].join(", "), items.len() - SHOWN)
    }
}

/// Batch policies whose selectors can select some template that `a` selects.
fn competitors<'f, F: FleetView>(a: &Policy, a_kind: PolicyKind, fleet: &'f F) -> Vec<&'f Policy> {
    let mut out: Vec<&'f Policy> = Vec::new();
    for rs in &a.spec.resource_selectors {
        let Some(a_ns) = rs.effective_namespace(a_kind, a.namespace()) else {
            continue;
        };
        for b in fleet.batch_competitors(rs, a_ns) {
            let Some(b_kind) = b.policy_kind() else { continue };
            let same = b_kind == a_kind && b.namespace() == a.namespace() && b.name() == a.name();
            if same || tier_of(b) != Tier::Batch || out.iter().any(|q| std::ptr::eq(*q, b)) {
                continue;
            }
            if b.spec.resource_selectors.iter().any(|bs| {
                bs.effective_namespace(b_kind, b.namespace())
                    .is_some_and(|b_ns| may_overlap(rs, a_ns, bs, b_ns, fleet))
            }) {
                out.push(b);
            }
        }
    }
    out
}

/// Whether two selectors can select a common template. Exact when a named template exists in
/// the fleet; otherwise conservative, except for label selectors that demand different values
/// for the same key.
fn may_overlap(
    a: &ResourceSelector,
    a_ns: &str,
    b: &ResourceSelector,
    b_ns: &str,
    fleet: &impl FleetView,
) -> bool {
    if a.api_version != b.api_version || a.kind != b.kind {
        return false;
    }
    if !a_ns.is_empty() && !b_ns.is_empty() && a_ns != b_ns {
        return false;
    }
    let ns = if a_ns.is_empty() { b_ns } else { a_ns };
    for s in [a, b] {
        if s.name().is_empty() && s.label_selector.as_ref().is_some_and(|l| !selector::is_valid(l)) {
            return false; // an invalid selector never matches
        }
    }
    match (a.name(), b.name()) {
        ("", "") => labels_compatible(a, b),
        (x, y) if !x.is_empty() && !y.is_empty() => x == y,
        (named, _) => {
            let other = if a.name().is_empty() { a } else { b };
            match (ns, other.label_selector.as_ref()) {
                (_, None) => true,
                ("", Some(_)) => true,
                (ns, Some(l)) => match fleet.template(&a.api_version, &a.kind, ns, named) {
                    Some(t) => selector::matches(l, &t.labels) == Some(true),
                    None => true,
                },
            }
        }
    }
}

fn labels_compatible(a: &ResourceSelector, b: &ResourceSelector) -> bool {
    let (Some(la), Some(lb)) = (&a.label_selector, &b.label_selector) else {
        return true;
    };
    let (Some(ma), Some(mb)) = (&la.match_labels, &lb.match_labels) else {
        return true;
    };
    ma.iter().all(|(k, v)| mb.get(k).is_none_or(|w| w == v))
}

/// Turns an assessment into the webhook's answer according to the mode.
fn render(webhook: Webhook, policy: &Policy, kind: PolicyKind, a: Assessment, config: &Config) -> Decision {
    let mode = config.guardrails.mode;
    let mut decision = Decision::allow();
    if webhook == Webhook::ValidatePolicy {
        for note in &a.notes {
            decision = decision.warn(note.clone());
        }
        for (kind, namespace, name) in &a.releases {
            decision.actions.push(Action::ReleasePolicy {
                kind: *kind,
                namespace: namespace.clone(),
                name: name.clone(),
            });
        }
    }
    if a.violations.is_empty() {
        return decision;
    }
    let shown = display_policy(kind, policy.namespace(), policy.name());
    let joined = |vs: &[&Violation]| {
        vs.iter()
            .map(|v| v.message.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let all: Vec<&Violation> = a.violations.iter().collect();
    match (mode, webhook) {
        (GuardrailMode::Enforce, Webhook::ValidatePolicy) | (GuardrailMode::Fix, Webhook::ValidatePolicy) => {
            Decision::deny(DenyReason::Guardrail, joined(&all))
        }
        (GuardrailMode::Warn, Webhook::ValidatePolicy) => {
            for v in &a.violations {
                decision = decision.warn(v.message.clone());
            }
            decision
        }
        (GuardrailMode::Fix, Webhook::MutatePolicy) => {
            let unfixable: Vec<&Violation> = a.violations.iter().filter(|v| v.fix.is_none()).collect();
            if !unfixable.is_empty() {
                return Decision::deny(
                    DenyReason::Guardrail,
                    format!("no automatic fix exists: {}", joined(&unfixable)),
                );
            }
            let mut priority = None;
            let mut preemption = None;
            for v in &a.violations {
                match v.fix {
                    Some(Fix::Priority(p)) => priority = Some(priority.map_or(p, |q: i32| q.max(p))),
                    Some(Fix::PreemptionAlways(on)) => preemption = Some(on),
                    None => {}
                }
            }
            if let Some(p) = priority {
                let was = policy.spec.explicit_priority();
                decision.patch.push(patch::set_spec_field(
                    policy.spec.priority.is_some(),
                    "priority",
                    json!(p),
                ));
                decision = decision.warn(format!(
                    "karmada-takeover set spec.priority of {shown} to {p} (was {was})"
                ));
            }
            if let Some(on) = preemption {
                let v = if on { "Always" } else { "Never" };
                decision.patch.push(patch::set_spec_field(
                    policy.spec.preemption.is_some(),
                    "preemption",
                    json!(v),
                ));
                decision = decision.warn(format!("karmada-takeover set spec.preemption of {shown} to {v}"));
            }
            decision
        }
        _ => decision, // mutating webhook outside fix mode: nothing to do
    }
}

#[cfg(test)]
mod tests;
