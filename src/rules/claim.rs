//! Which policy Karmada lets claim a resource template, and why — Karmada's detector rules
//! reproduced exactly (`pkg/detector/{policy,compare,preemption,claim}.go`, `pkg/util/selector.go`;
//! semantics.md §3):
//!
//! 1. Reserved (`karmada-system`, `karmada-cluster`, `karmada-es-*`) and default-skipped (`kube-*`)
//!    namespaces are never matched; a template labelled `resourcetemplate.karmada.io/claimed-by`
//!    is skipped entirely.
//! 2. A claim written on the template (PP: permanent-id label + namespace/name annotations; else CPP:
//!    permanent-id label + name annotation) is sticky: that policy keeps the template while it
//!    exists and still selects it. A claim to a missing policy is cleaned up and the template re-matched.
//! 3. Unclaimed: PropagationPolicies of the template's namespace first; ClusterPropagationPolicies
//!    only when no PP matches. Ranking: explicit priority (nil = 0), then implicit priority
//!    (name 3 > labelSelector 2 > kind-only 1), then the smaller name in Go byte order.
//! 4. Preemption (gate `PropagationPolicyPreemption` on, `preemption: Always`, a selector naming
//!    the template): PP over a PP claim needs strictly higher explicit priority; PP over a CPP claim
//!    always; CPP over a CPP claim strictly higher; CPP never over a PP claim.

use std::cmp::Ordering;

use serde::Serialize;

use super::selector;
use crate::karmada::{
    Labels, LabelsRef, Policy, PolicyKind, ResourceSelector,
    keys::{self, CPP_NAME, CPP_PERMANENT_ID, PP_NAME, PP_NAMESPACE, PP_PERMANENT_ID},
    namespaces,
};

/// The parts of a resource template that claim resolution reads.
#[derive(Debug, Clone, Copy)]
pub struct Template<'a> {
    /// `apps/v1`...
    pub api_version: &'a str,
    /// `Deployment`...
    pub kind: &'a str,
    /// Empty for cluster-scoped templates.
    pub namespace: &'a str,
    /// Template name.
    pub name: &'a str,
    /// `metadata.labels`.
    pub labels: LabelsRef<'a>,
    /// `metadata.annotations`.
    pub annotations: LabelsRef<'a>,
}

impl<'a> Template<'a> {
    /// A template from its parts; `None` maps become empty.
    pub fn new(
        api_version: &'a str,
        kind: &'a str,
        namespace: &'a str,
        name: &'a str,
        labels: Option<&'a Labels>,
        annotations: Option<&'a Labels>,
    ) -> Self {
        Self {
            api_version,
            kind,
            namespace,
            name,
            labels: labels.into(),
            annotations: annotations.into(),
        }
    }

    /// The claim metadata on the template, if complete (PP claim checked first, like the detector).
    pub fn claim(&self) -> Option<Claim<'a>> {
        let non_empty = |m: LabelsRef<'a>, k: &str| m.get(k).filter(|v| !v.is_empty());
        if let (Some(_), Some(namespace), Some(name)) = (
            non_empty(self.labels, PP_PERMANENT_ID),
            non_empty(self.annotations, PP_NAMESPACE),
            non_empty(self.annotations, PP_NAME),
        ) {
            return Some(Claim {
                kind: PolicyKind::PropagationPolicy,
                namespace,
                name,
            });
        }
        if let (Some(_), Some(name)) = (
            non_empty(self.labels, CPP_PERMANENT_ID),
            non_empty(self.annotations, CPP_NAME),
        ) {
            return Some(Claim {
                kind: PolicyKind::ClusterPropagationPolicy,
                namespace: "",
                name,
            });
        }
        None
    }
}

/// A claim recorded on a template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim<'a> {
    /// PP or CPP.
    pub kind: PolicyKind,
    /// Empty for a CPP.
    pub namespace: &'a str,
    /// Policy name.
    pub name: &'a str,
}

/// How precisely a selector matches (`ImplicitPriority` in `pkg/util/selector.go`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Implicit {
    /// No match.
    Mismatch = 0,
    /// Kind-wide selector (no name, nil label selector).
    MatchAll = 1,
    /// Label selector match.
    LabelSelector = 2,
    /// Name match.
    Name = 3,
}

impl Implicit {
    /// The numeric value Karmada uses.
    pub fn value(self) -> u8 {
        self as u8
    }
}

/// `ResourceSelectorPriority`: how one selector matches a template.
pub fn selector_priority(rs: &ResourceSelector, t: &Template<'_>) -> Implicit {
    if rs.api_version != t.api_version || rs.kind != t.kind {
        return Implicit::Mismatch;
    }
    let ns = rs.namespace();
    if !ns.is_empty() && ns != t.namespace {
        return Implicit::Mismatch;
    }
    let name = rs.name();
    if !name.is_empty() {
        return if name == t.name {
            Implicit::Name
        } else {
            Implicit::Mismatch
        };
    }
    match &rs.label_selector {
        None => Implicit::MatchAll,
        Some(s) => match selector::matches(s, t.labels) {
            Some(true) => Implicit::LabelSelector,
            _ => Implicit::Mismatch,
        },
    }
}

/// How a whole policy matches a template: the best of its selectors, and which one.
pub fn policy_priority(policy: &Policy, t: &Template<'_>) -> (Implicit, Option<usize>) {
    let mut best = (Implicit::Mismatch, None);
    for (i, rs) in policy.spec.resource_selectors.iter().enumerate() {
        let p = selector_priority(rs, t);
        if p > best.0 {
            best = (p, Some(i));
        }
    }
    best
}

/// Whether a policy may be considered for the template at all: a PP only for templates in its
/// own namespace; a CPP for any template (reserved namespaces are excluded before this).
pub fn in_scope(kind: PolicyKind, policy: &Policy, t: &Template<'_>) -> bool {
    match kind {
        PolicyKind::PropagationPolicy => !t.namespace.is_empty() && policy.namespace() == t.namespace,
        PolicyKind::ClusterPropagationPolicy => true,
    }
}

/// Whether `policy` names exactly this template in some selector — the only way preemption finds
/// a template (`fetchResourceTemplate(rs)` gets apiVersion/kind/namespace/name; a PP selector's
/// empty namespace is defaulted to the PP's own by Karmada's webhook).
pub fn names_template(kind: PolicyKind, policy: &Policy, t: &Template<'_>) -> bool {
    policy.spec.resource_selectors.iter().any(|rs| {
        rs.api_version == t.api_version
            && rs.kind == t.kind
            && rs.effective_namespace(kind, policy.namespace()) == Some(t.namespace)
            && rs.name() == t.name
    }) && in_scope(kind, policy, t)
}

/// Karmada's ranking of two matching policies of the same kind: `Less` means `a` wins.
/// Explicit priority first, then implicit, then the smaller name (Go byte order).
pub fn rank(a: (i32, Implicit, &str), b: (i32, Implicit, &str)) -> Ordering {
    b.0.cmp(&a.0)
        .then(b.1.cmp(&a.1))
        .then(a.2.as_bytes().cmp(b.2.as_bytes()))
}

/// One policy as evaluated against the template.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Candidate<'p> {
    /// The policy.
    #[serde(skip)]
    pub policy: &'p Policy,
    /// PP or CPP.
    pub kind: PolicyKind,
    /// Empty for a CPP.
    pub namespace: &'p str,
    /// Policy name.
    pub name: &'p str,
    /// `spec.priority` (nil = 0).
    pub explicit_priority: i32,
    /// Best selector match.
    pub implicit_priority: Implicit,
    /// Index of the selector that gave the implicit priority.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selector: Option<usize>,
    /// `preemption: Always`.
    pub preemption_always: bool,
    /// Why it wins or loses, in one sentence.
    pub verdict: String,
}

impl<'p> Candidate<'p> {
    fn key(&self) -> (i32, Implicit, &'p str) {
        (self.explicit_priority, self.implicit_priority, self.name)
    }

    /// `kind/namespace/name` or `kind/name`.
    pub fn display(&self) -> String {
        display_policy(self.kind, self.namespace, self.name)
    }
}

/// `PropagationPolicy default/web` or `ClusterPropagationPolicy web`.
pub fn display_policy(kind: PolicyKind, namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        format!("{kind} {name}")
    } else {
        format!("{kind} {namespace}/{name}")
    }
}

/// How the winner got the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WonBy {
    /// It already claims the template (sticky claim).
    ExistingClaim,
    /// It preempts the policy that claimed the template.
    Preemption,
    /// Best-ranked matching PropagationPolicy.
    FirstMatchPropagationPolicy,
    /// Best-ranked matching ClusterPropagationPolicy (no PP matched).
    FirstMatchClusterPropagationPolicy,
}

/// The answer: who claims the template, how, and every candidate considered.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Resolution<'p> {
    /// Index into `candidates` of the winner.
    #[serde(skip)]
    pub winner: Option<usize>,
    /// How the winner got it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub won_by: Option<WonBy>,
    /// The claim found on the template, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<Claim<'p>>,
    /// The policy holding the claim before preemption (when preemption moved it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preempted: Option<String>,
    /// Every policy that matches the template (and the claimant, even if it no longer matches).
    pub candidates: Vec<Candidate<'p>>,
    /// Facts that explain the outcome (skipped namespace, stale claim, preemption gate...).
    pub notes: Vec<String>,
}

impl<'p> Resolution<'p> {
    /// The winning candidate.
    pub fn winner(&self) -> Option<&Candidate<'p>> {
        self.winner.map(|i| &self.candidates[i])
    }
}

/// Where the resolver finds policies: a plain list (explain) or the fleet's indexes (admission).
pub trait PolicySource<'p> {
    /// Every policy that might match templates of this apiVersion/kind in this namespace
    /// (a superset is fine: each one is checked).
    fn candidates(&self, t: &Template<'_>) -> Vec<&'p Policy>;
    /// A policy by kind, namespace (empty for CPP) and name.
    fn get(&self, kind: PolicyKind, namespace: &str, name: &str) -> Option<&'p Policy>;
}

impl<'p> PolicySource<'p> for &'p [Policy] {
    fn candidates(&self, _: &Template<'_>) -> Vec<&'p Policy> {
        self.iter().collect()
    }

    fn get(&self, kind: PolicyKind, namespace: &str, name: &str) -> Option<&'p Policy> {
        self.iter()
            .find(|p| p.policy_kind() == Some(kind) && p.namespace() == namespace && p.name() == name)
    }
}

/// Resolves which policy claims `t`, with a one-sentence verdict for every candidate (explain).
pub fn resolve<'p>(
    t: &Template<'p>,
    source: &impl PolicySource<'p>,
    preemption_gate: bool,
) -> Resolution<'p> {
    resolve_with(t, source, preemption_gate, true)
}

/// Resolves which policy claims `t`; `explain: false` skips the per-candidate verdict strings
/// (the admission hot path only needs the winner).
pub fn resolve_with<'p>(
    t: &Template<'p>,
    source: &impl PolicySource<'p>,
    preemption_gate: bool,
    explain: bool,
) -> Resolution<'p> {
    let mut r = Resolution {
        winner: None,
        won_by: None,
        claim: t.claim(),
        preempted: None,
        candidates: Vec::new(),
        notes: Vec::new(),
    };
    // 1. Templates no policy ever claims.
    if let Some(note) = never_claimed(t) {
        r.notes.push(note);
        return r;
    }
    r.candidates = candidates(t, source, r.claim);
    // 2. Sticky claim, and 4. preemption of it.
    if let Some(ci) = sticky_claimant(&mut r, source) {
        r.winner = Some(ci);
        r.won_by = Some(WonBy::ExistingClaim);
        r.candidates[ci].verdict =
            "claims the template (claims are sticky: priority is not re-evaluated)".into();
        preempt(&mut r, ci, t, preemption_gate);
        return r;
    }
    // 3. First match: PPs, then CPPs.
    let (winner, won_by) = first_match(&r.candidates);
    r.winner = winner;
    r.won_by = won_by;
    if explain {
        explain_first_match(&mut r);
    }
    r
}

/// Why Karmada's detector never matches the template to any policy (reserved or skipped
/// namespace, `claimed-by` label), as a note; `None` when policies are considered.
fn never_claimed(t: &Template<'_>) -> Option<String> {
    if namespaces::is_reserved(t.namespace) {
        return Some(format!(
            "namespace {} is reserved by Karmada: no policy ever claims templates in it",
            t.namespace
        ));
    }
    if namespaces::is_default_skipped(t.namespace) {
        return Some(format!(
            "namespace {} is skipped by karmada-controller-manager's default --skipped-propagating-namespaces=kube-.*",
            t.namespace
        ));
    }
    t.labels
        .get(keys::CLAIMED_BY)
        .filter(|v| !v.is_empty())
        .map(|owner| {
            format!(
                "the template carries {}={owner}: Karmada's detector skips it, no policy claims it",
                keys::CLAIMED_BY
            )
        })
}

/// Every policy in scope that selects the template, plus the claimant even if it no longer
/// selects it (its verdicts are filled in later).
fn candidates<'p>(
    t: &Template<'p>,
    source: &impl PolicySource<'p>,
    claim: Option<Claim<'_>>,
) -> Vec<Candidate<'p>> {
    let mut out = Vec::new();
    for policy in source.candidates(t) {
        let Some(kind) = policy.policy_kind() else {
            continue;
        };
        if !in_scope(kind, policy, t) {
            continue;
        }
        let (implicit, selector) = policy_priority(policy, t);
        let is_claimant = claim
            .is_some_and(|c| c.kind == kind && c.namespace == policy.namespace() && c.name == policy.name());
        if implicit == Implicit::Mismatch && !is_claimant {
            continue;
        }
        out.push(Candidate {
            policy,
            kind,
            namespace: policy.namespace(),
            name: policy.name(),
            explicit_priority: policy.spec.explicit_priority(),
            implicit_priority: implicit,
            selector,
            preemption_always: policy.spec.preempts(),
            verdict: String::new(),
        });
    }
    out
}

fn deleting(c: &Candidate<'_>) -> bool {
    c.policy.metadata.deletion_timestamp.is_some()
}

/// The candidate whose claim is written on the template and still holds (the policy exists, is
/// not being deleted and still selects it); a note says why a written claim does not hold.
fn sticky_claimant<'p>(r: &mut Resolution<'p>, source: &impl PolicySource<'p>) -> Option<usize> {
    let claim = r.claim?;
    let shown = display_policy(claim.kind, claim.namespace, claim.name);
    let found = r
        .candidates
        .iter()
        .position(|c| c.kind == claim.kind && c.namespace == claim.namespace && c.name == claim.name);
    let note = match found {
        None if source.get(claim.kind, claim.namespace, claim.name).is_none() => format!(
            "the template claims {shown}, which does not exist: Karmada removes the stale claim and re-matches the template"
        ),
        None => return None,
        Some(i) if deleting(&r.candidates[i]) => format!(
            "the template claims {shown}, which is being deleted: Karmada retries until the deletion finishes, then re-matches"
        ),
        Some(i) if r.candidates[i].implicit_priority == Implicit::Mismatch => format!(
            "the template claims {shown}, whose selectors no longer select it: Karmada removes the claim and re-matches the template"
        ),
        Some(i) => return Some(i),
    };
    r.notes.push(note);
    None
}

/// Preemption of the claim held by candidate `ci`: the best eligible preemptor wins when the
/// gate is on; every other candidate's verdict says why it cannot.
fn preempt(r: &mut Resolution<'_>, ci: usize, t: &Template<'_>, preemption_gate: bool) {
    let (held_kind, held_priority) = (r.candidates[ci].kind, r.candidates[ci].explicit_priority);
    let eligible = |c: &Candidate<'_>| -> Result<(), String> {
        if !c.preemption_always {
            return Err("preemption is Never, so it cannot take a claimed template".into());
        }
        if !names_template(c.kind, c.policy, t) {
            return Err("preemption: Always only reaches templates a selector names (apiVersion, kind, namespace, name)".into());
        }
        match (c.kind, held_kind) {
            (PolicyKind::ClusterPropagationPolicy, PolicyKind::PropagationPolicy) => {
                Err("a ClusterPropagationPolicy never preempts a PropagationPolicy".into())
            }
            (PolicyKind::PropagationPolicy, PolicyKind::ClusterPropagationPolicy) => Ok(()),
            _ if c.explicit_priority > held_priority => Ok(()),
            _ => Err(format!(
                "priority {} is not strictly higher than the claiming policy's {held_priority}",
                c.explicit_priority
            )),
        }
    };
    let mut best: Option<usize> = None;
    for i in 0..r.candidates.len() {
        if i == ci || deleting(&r.candidates[i]) {
            continue;
        }
        match eligible(&r.candidates[i]) {
            Ok(()) if !preemption_gate => {
                r.candidates[i].verdict =
                    "would preempt the claim, but Karmada's PropagationPolicyPreemption feature gate is off"
                        .into();
            }
            Ok(()) => {
                best = match best {
                    Some(b) if preempt_order(&r.candidates[i], &r.candidates[b]) != Ordering::Less => Some(b),
                    _ => Some(i),
                }
            }
            Err(why) => r.candidates[i].verdict = format!("loses: {why}"),
        }
    }
    let Some(b) = best else {
        if !preemption_gate {
            r.notes.push(
                "Karmada's PropagationPolicyPreemption feature gate is off: no policy can take this claimed template".into(),
            );
        }
        return;
    };
    r.preempted = Some(r.candidates[ci].display());
    r.candidates[ci].verdict = format!("claimed the template, preempted by {}", r.candidates[b].display());
    for i in 0..r.candidates.len() {
        if i != b && i != ci && r.candidates[i].verdict.is_empty() {
            r.candidates[i].verdict = format!(
                "could preempt too, but {} ranks higher",
                r.candidates[b].display()
            );
        }
    }
    r.candidates[b].verdict = "preempts the claiming policy (preemption: Always, names the template)".into();
    r.winner = Some(b);
    r.won_by = Some(WonBy::Preemption);
    r.notes.push(
        "preemption runs when the preempting policy is created or updated, not on template events".into(),
    );
}

/// The best-ranked matching PropagationPolicy, else the best-ranked matching
/// ClusterPropagationPolicy (Karmada's `getPolicyAndClusterPolicyForTemplate` order).
fn first_match(candidates: &[Candidate<'_>]) -> (Option<usize>, Option<WonBy>) {
    let mut best: [Option<usize>; 2] = [None, None];
    for (i, c) in candidates.iter().enumerate() {
        if c.implicit_priority == Implicit::Mismatch || deleting(c) {
            continue;
        }
        let slot = &mut best[usize::from(c.kind == PolicyKind::ClusterPropagationPolicy)];
        *slot = match *slot {
            Some(b) if rank(candidates[b].key(), c.key()) != Ordering::Greater => Some(b),
            _ => Some(i),
        };
    }
    match best {
        [Some(w), _] => (Some(w), Some(WonBy::FirstMatchPropagationPolicy)),
        [None, Some(w)] => (Some(w), Some(WonBy::FirstMatchClusterPropagationPolicy)),
        [None, None] => (None, None),
    }
}

/// One sentence per candidate saying why it wins or loses an unclaimed template.
fn explain_first_match(r: &mut Resolution<'_>) {
    let winner = r.winner;
    let winner_key = winner.map(|w| {
        (
            r.candidates[w].kind,
            r.candidates[w].key(),
            r.candidates[w].display(),
        )
    });
    for (i, c) in r.candidates.iter_mut().enumerate() {
        c.verdict = if Some(i) == winner {
            match c.kind {
                PolicyKind::PropagationPolicy => "wins: best-ranked matching PropagationPolicy".into(),
                PolicyKind::ClusterPropagationPolicy => {
                    "wins: best-ranked matching ClusterPropagationPolicy (no PropagationPolicy matches)"
                        .into()
                }
            }
        } else if deleting(c) {
            "not considered: being deleted".into()
        } else if c.implicit_priority == Implicit::Mismatch {
            "does not select the template".into()
        } else if let Some((wkind, wkey, wshown)) = &winner_key {
            if *wkind != c.kind {
                format!(
                    "not considered: {wshown} matches, and PropagationPolicies are consulted before ClusterPropagationPolicies"
                )
            } else {
                format!("loses to {wshown}: {}", why_loses(c.key(), *wkey))
            }
        } else {
            String::new()
        };
    }
    if winner.is_none() {
        r.notes
            .push("no policy selects the template: Karmada leaves it unpropagated".into());
    }
}

/// Among eligible preemptors: PPs before CPPs, then Karmada's ranking. Between equal explicit
/// priorities the real outcome depends on which policy event the detector handles first.
fn preempt_order(a: &Candidate<'_>, b: &Candidate<'_>) -> Ordering {
    (a.kind as u8).cmp(&(b.kind as u8)).then(rank(a.key(), b.key()))
}

fn why_loses(c: (i32, Implicit, &str), w: (i32, Implicit, &str)) -> String {
    if c.0 != w.0 {
        format!("explicit priority {} < {}", c.0, w.0)
    } else if c.1 != w.1 {
        format!(
            "same priority {}, less precise selector ({} < {})",
            c.0,
            c.1.value(),
            w.1.value()
        )
    } else {
        format!("full tie, and {:?} sorts after {:?} in byte order", c.2, w.2)
    }
}

#[cfg(test)]
mod tests;
