//! The placement guard (config `placementGuard: warn | enforce | off`, default `warn`): placements
//! Karmada's scheduler cannot satisfy are caught at admission instead of leaving a binding
//! unscheduled or a member copy unmanaged without a word.
//!
//! Two checks, both with the fleet's clusters and this module's scheduler port (one definition
//! of each rule: [`super::schedule`] and [`filter::run_filters`]):
//!
//! - **Application policies** ([`check_policy`], on `/validate/policy`): for each distinct
//!   `apiVersion`/`kind` of the policy's resource selectors, [`super::schedule`] runs with a bare
//!   template of that kind. The templates a policy will select, and their replicas, are not known
//!   when the policy is written, so the replicas are taken as unknown (0, no resource requests):
//!   what is checked is the filters (API enablement, taint toleration, cluster affinity, spread
//!   constraint fields) and the spread constraints' cluster and region selection; replica
//!   assignment and available resources are not. A kind placed in no cluster is a problem,
//!   with the reason per cluster; so is every name in a `clusterNames` list (cluster affinity,
//!   each `clusterAffinities` term and overflow term, static weight targets) that no member
//!   cluster has.
//! - **Takeover policies** ([`check_takeover`], on `/mutate/workload`): each source cluster goes
//!   through the filters with the takeover policy's placement. A source cluster the scheduler
//!   would filter out (not Ready, an untolerated `NoSchedule`/`NoExecute` taint, the kind missing
//!   from its API enablements) is a problem naming the cluster, why, and what to do.
//!
//! Policies being deleted are not checked (the update that removes their finalizer must pass).
//! Under `enforce` an UPDATE is judged like a CREATE: while a policy's clusters are not Ready,
//! any change to it is denied.
//!
//! `warn` adds one admission warning per problem; `enforce` denies with the problems' messages
//! (reason `placement` in `karmada_takeover_denials_total`, unless the tier guardrails deny the
//! same review: their reason stays and the messages are joined); `off` checks nothing.
//!
//! **A fleet that knows no clusters gets no verdict.** With no member cluster at all (a
//! karmada-apiserver connection whose Cluster list is empty or not listed yet, an empty fleet
//! directory), every placement would look infeasible and `enforce` would deny every policy: the
//! guard says nothing instead. Likewise the feasibility of an application policy is judged only
//! when the fleet has every cluster's Cluster object (a source that reports only names and
//! readiness cannot say what the scheduler would filter); unknown cluster names are still
//! reported. A takeover source cluster without its object is judged on readiness alone.

use serde::Serialize;

use super::{Excluded, Outcome, Pass, Workload, defaulted, filter, schedule_refs};
use crate::{
    config::PlacementGuard,
    karmada::{
        Cluster, Policy, PolicyKind,
        cluster::ApiStatus,
        policy::{ClusterAffinity, Placement},
    },
    rules::{Decision, DenyReason, Verdict, claim::display_policy, view::FleetView},
};

/// What the guard found for one review: shown by `check`, folded into the decision by [`apply`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlacementVerdict {
    /// `warn` or `enforce`: what the problems do to the review.
    pub mode: PlacementGuard,
    /// Where Karmada would place each kind the policy selects (a takeover: the template's kind
    /// over its source clusters).
    pub checks: Vec<Check>,
    /// What cannot work, each in one sentence with the reason per cluster.
    pub problems: Vec<Problem>,
}

impl PlacementVerdict {
    /// Whether nothing is wrong.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Where Karmada's scheduler would place one kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// `apps/v1`...
    pub api_version: String,
    /// `Deployment`...
    pub kind: String,
    /// Whether Karmada would place it in at least one cluster.
    pub feasible: bool,
    /// The clusters it would go to, sorted.
    pub clusters: Vec<String>,
    /// The clusters it would not go to, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub excluded: Vec<Excluded>,
    /// Karmada's error when it is placed nowhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One placement that cannot work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// What was found, where and what to do: the warning or denial text.
    pub message: String,
    /// The clusters concerned, each with the reason.
    pub clusters: Vec<Excluded>,
}

/// Every member cluster as the scheduler sees it, or `None` when the fleet lacks any cluster's
/// Cluster object (see the module docs).
fn scheduler_clusters<F: FleetView>(fleet: &F) -> Option<Vec<&Cluster>> {
    fleet
        .cluster_names()
        .into_iter()
        .map(|name| fleet.cluster(name)?.object.as_deref())
        .collect()
}

/// The placement guard on an application PropagationPolicy / ClusterPropagationPolicy: `None`
/// when the guard is off, the fleet knows no cluster, or the policy is being deleted (its
/// placement no longer matters, and the update that removes its finalizer must not be denied).
pub fn check_policy(
    policy: &Policy,
    kind: PolicyKind,
    fleet: &impl FleetView,
    mode: PlacementGuard,
) -> Option<PlacementVerdict> {
    let known = fleet.cluster_names();
    if mode == PlacementGuard::Off || known.is_empty() || policy.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let shown = display_policy(kind, policy.namespace(), policy.name());
    let placement = policy.spec.placement.as_deref().cloned().unwrap_or_default();
    let mut verdict = PlacementVerdict {
        mode,
        checks: Vec::new(),
        problems: Vec::new(),
    };
    for (field, names) in named_clusters(&placement) {
        let unknown: Vec<&str> = names
            .iter()
            .map(String::as_str)
            .filter(|n| fleet.cluster(n).is_none())
            .collect();
        if unknown.is_empty() {
            continue;
        }
        verdict.problems.push(Problem {
            message: format!(
                "{shown} names {} in {field}, but no member cluster has {}; member clusters are: {}; Karmada \
                 places nothing there: correct the name, or join the cluster to Karmada first",
                plural("cluster", &unknown),
                if unknown.len() == 1 {
                    "that name"
                } else {
                    "those names"
                },
                known.join(", ")
            ),
            clusters: unknown
                .iter()
                .map(|n| Excluded {
                    name: (*n).to_owned(),
                    reason: "no member cluster has this name".into(),
                })
                .collect(),
        });
    }
    let Some(clusters) = scheduler_clusters(fleet) else {
        return Some(verdict);
    };
    let mut kinds: Vec<(&str, &str)> = Vec::new();
    for rs in &policy.spec.resource_selectors {
        let pair = (rs.api_version.as_str(), rs.kind.as_str());
        if !kinds.contains(&pair) {
            kinds.push(pair);
        }
    }
    // Kinds differ only in the API enablement filter: every kind served by every cluster gets the
    // same outcome, so it is scheduled once (a policy commonly selects a Deployment, its Service,
    // ConfigMap and Secret).
    let mut served_everywhere: Option<Outcome> = None;
    for (api_version, kind) in kinds {
        let workload = Workload {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            ..Workload::default()
        };
        let everywhere = clusters
            .iter()
            .all(|c| c.api_enablement(api_version, kind) == ApiStatus::Enabled);
        let outcome = match (&served_everywhere, everywhere) {
            (Some(same), true) => same.clone(),
            _ => {
                let outcome = schedule_refs(&placement, &clusters, &workload);
                if everywhere {
                    served_everywhere = Some(outcome.clone());
                }
                outcome
            }
        };
        if !outcome.feasible {
            let error = outcome.error.clone().unwrap_or_default();
            verdict.problems.push(Problem {
                message: format!(
                    "{shown} places {api_version} {kind} in no cluster: Karmada's scheduler would answer \"{error}\" \
                     ({}); change spec.placement (clusterAffinity, clusterTolerations, spreadConstraints) or the \
                     clusters so that at least one fits",
                    per_cluster(&outcome.excluded)
                ),
                clusters: outcome.excluded.clone(),
            });
        }
        verdict.checks.push(Check {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            feasible: outcome.feasible,
            clusters: outcome.clusters.into_iter().map(|t| t.name).collect(),
            excluded: outcome.excluded,
            error: outcome.error,
        });
    }
    Some(verdict)
}

/// Every `clusterNames` list of a placement, with its field path.
fn named_clusters<'p>(p: &'p Placement) -> Vec<(String, &'p [String])> {
    let mut out = Vec::new();
    let mut add = |field: String, a: &'p ClusterAffinity| {
        if let Some(names) = a.cluster_names.as_deref().filter(|n| !n.is_empty()) {
            out.push((field, names));
        }
    };
    if let Some(a) = &p.cluster_affinity {
        add("spec.placement.clusterAffinity.clusterNames".into(), a);
    }
    for (i, term) in p.cluster_affinities.iter().flatten().enumerate() {
        add(
            format!("spec.placement.clusterAffinities[{i}].clusterNames"),
            &term.affinity,
        );
        for (j, o) in term.overflow_affinities.iter().flatten().enumerate() {
            add(
                format!("spec.placement.clusterAffinities[{i}].overflowAffinities[{j}].clusterNames"),
                &o.affinity,
            );
        }
    }
    let weights = p
        .replica_scheduling
        .as_ref()
        .and_then(|r| r.weight_preference.as_ref())
        .and_then(|w| w.static_weight_list.as_deref())
        .unwrap_or_default();
    for (i, w) in weights.iter().enumerate() {
        add(
            format!(
                "spec.placement.replicaScheduling.weightPreference.staticWeightList[{i}].targetCluster.clusterNames"
            ),
            &w.target_cluster,
        );
    }
    out
}

/// The placement guard on the takeover policy `policy` for `template` (shown as in messages):
/// each source cluster in `clusters` through the scheduler's filters. `None` when the guard is
/// off.
///
/// **Why the takeover policy does not tolerate the taints it meets.** Karmada's `TaintToleration`
/// filter (`pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go`) rejects a
/// cluster with a `NoSchedule` or `NoExecute` taint that `placement.clusterTolerations` does not
/// tolerate, unless the cluster is already in the binding's result — never the case for a
/// takeover, a first schedule. Copying the source clusters' taints into the takeover policy's
/// tolerations would adopt the copy anyway, but karmada-takeover does not, for three reasons:
/// a taint is the cluster administrator's explicit decision (a `NoExecute` taint asks Karmada's
/// taint manager to evict, which a toleration would defeat), and the person applying a workload
/// is usually not that administrator; the taints Karmada sets itself
/// (`cluster.karmada.io/not-ready`, `…/unreachable`) mark clusters it cannot reach, where the
/// takeover succeeds on its own once they clear, because the scheduler retries the binding; and a
/// policy whose tolerations mirror the clusters' current taints would have to be rewritten
/// whenever a taint changes. So the review names the cluster, the taint and the two ways on:
/// remove the taint, or let an application policy that tolerates it select the template
/// (karmada-takeover then leaves the template to that policy).
pub fn check_takeover(
    policy: &Policy,
    template: &str,
    workload: &Workload,
    clusters: &[String],
    fleet: &impl FleetView,
    mode: PlacementGuard,
) -> Option<PlacementVerdict> {
    if mode == PlacementGuard::Off {
        return None;
    }
    let shown = display_policy(
        policy.policy_kind().unwrap_or(PolicyKind::PropagationPolicy),
        policy.namespace(),
        policy.name(),
    );
    let placement = defaulted(policy.spec.placement.as_deref().unwrap_or(&Placement::default()));
    let affinities: Vec<&ClusterAffinity> = placement.cluster_affinity.iter().collect();
    let pass = Pass {
        placement: &placement,
        affinities: &affinities,
        workload,
    };
    let mut check = Check {
        api_version: workload.api_version.clone(),
        kind: workload.kind.clone(),
        feasible: false,
        clusters: Vec::new(),
        excluded: Vec::new(),
        error: None,
    };
    let mut problems = Vec::new();
    for name in clusters {
        let Some(info) = fleet.cluster(name) else {
            continue; // not a member cluster: the annotation check denies such names
        };
        let (reasons, advice) = match info.object.as_deref() {
            None if info.ready => (Vec::new(), Vec::new()),
            None => (
                vec!["cluster is not Ready".to_owned()],
                vec![not_ready_advice(name)],
            ),
            Some(cluster) => match filter::run_filters(&pass, cluster) {
                Ok(()) => (Vec::new(), Vec::new()),
                Err(reasons) => (reasons, takeover_advice(&pass, cluster, info.ready, template)),
            },
        };
        if reasons.is_empty() {
            check.clusters.push(name.clone());
            continue;
        }
        let reason = reasons.join("; ");
        problems.push(Problem {
            message: format!(
                "takeover policy {shown} pins {template} to {name}, but Karmada's scheduler would filter {name} out \
                 ({reason}): Karmada would neither adopt nor create {template} there while this holds; {}",
                advice.join("; ")
            ),
            clusters: vec![Excluded {
                name: name.clone(),
                reason: reason.clone(),
            }],
        });
        check.excluded.push(Excluded {
            name: name.clone(),
            reason,
        });
    }
    check.feasible = !check.clusters.is_empty();
    if !check.feasible {
        check.error = Some(format!("0/{} clusters are available", clusters.len()));
    }
    Some(PlacementVerdict {
        mode,
        checks: vec![check],
        problems,
    })
}

fn not_ready_advice(cluster: &str) -> String {
    format!(
        "Karmada adopts it there once {cluster} is Ready again (the scheduler retries): check the cluster's Ready \
         condition with kubectl get cluster {cluster}"
    )
}

/// What to do about a source cluster the filters reject, by the filter that rejects it.
fn takeover_advice(pass: &Pass<'_>, cluster: &Cluster, ready: bool, template: &str) -> Vec<String> {
    let name = cluster.name();
    let mut advice = Vec::new();
    if !ready {
        advice.push(not_ready_advice(name));
    } else if filter::taint_toleration(pass, cluster).is_some() {
        advice.push(format!(
            "remove the taint from Cluster {name} (spec.taints), or select {template} with an application \
             PropagationPolicy that tolerates it in spec.placement.clusterTolerations (karmada-takeover never adds \
             tolerations to its takeover policies)"
        ));
    }
    if filter::api_enablement(pass, cluster).is_some() {
        let w = pass.workload;
        advice.push(format!(
            "make sure {name} serves {} {} and that Cluster {name} lists it in status.apiEnablements",
            w.api_version, w.kind
        ));
    }
    if advice.is_empty() {
        advice.push(format!(
            "check Cluster {name} and the placement of the takeover policy"
        ));
    }
    advice
}

/// Folds a verdict into a decision: warnings under `warn`, a denial under `enforce`; the verdict
/// itself is kept on the decision for `check`.
pub fn apply(decision: Decision, verdict: Option<PlacementVerdict>) -> Decision {
    let Some(verdict) = verdict else {
        return decision;
    };
    let mut decision = decision;
    if !verdict.ok() {
        let messages = verdict.problems.iter().map(|p| p.message.as_str());
        decision = match (verdict.mode, &decision.verdict) {
            (PlacementGuard::Enforce, Verdict::Deny { reason, message }) => Decision::deny(
                *reason,
                std::iter::once(message.as_str())
                    .chain(messages)
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
            (PlacementGuard::Enforce, Verdict::Allow) => {
                Decision::deny(DenyReason::Placement, messages.collect::<Vec<_>>().join("; "))
            }
            (PlacementGuard::Warn | PlacementGuard::Off, _) => {
                decision.warnings.extend(messages.map(str::to_owned));
                decision
            }
        };
    }
    decision.placement = Some(verdict);
    decision
}

/// `cluster a` or `clusters a, b`.
fn plural(what: &str, names: &[&str]) -> String {
    format!(
        "{what}{} {}",
        if names.len() == 1 { "" } else { "s" },
        names.join(", ")
    )
}

/// `a: why; b: why`.
fn per_cluster(excluded: &[Excluded]) -> String {
    excluded
        .iter()
        .map(|e| format!("{}: {}", e.name, e.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests;
