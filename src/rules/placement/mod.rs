//! Where Karmada's scheduler would place a resource template under a policy's `placement`, and
//! why every other cluster is left out: a pure port of `pkg/scheduler` (Karmada v1.19).
//!
//! One scheduling pass is [`schedule`], mirroring `genericScheduler.Schedule`
//! (`pkg/scheduler/core/generic_scheduler.go`): the filter plugins ([`filter`]), scoring (every
//! in-tree score is 0 on a first schedule, see [`filter::score`]), cluster selection with spread
//! constraints ([`spread`]) and replica assignment ([`assign`]), the last two fed by the general
//! estimator's available replicas ([`estimate`]). With `clusterAffinities`, the terms are tried in
//! order and the first that schedules wins (`scheduleResourceBindingWithClusterAffinities` in
//! `pkg/scheduler/scheduler.go`).
//!
//! The preview is of a **first** schedule: no previous result (`spec.clusters` of the binding is
//! empty), no graceful eviction tasks, no in-flight bindings. What Karmada decides from things we
//! cannot see (the resource's UID for ties, karmada-scheduler-estimator) comes back as notes.
//!
//! Admission uses it through the placement guard ([`guard`], config `placementGuard`): application
//! policies whose placement Karmada cannot satisfy, and takeover policies whose source clusters
//! the filters would reject, are warned about or denied.

use serde::Serialize;

use crate::karmada::{
    Cluster,
    policy::{ClusterAffinity, Placement, SpreadConstraint},
};

pub mod assign;
pub mod estimate;
pub mod filter;
pub mod guard;
pub mod spread;
pub mod workload;

pub use workload::Workload;

/// A cluster the scheduler picked, with its replicas.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// Cluster name.
    pub name: String,
    /// Replicas Karmada gives it (for a non-workload, or Duplicated, the template's own count).
    pub replicas: i32,
}

/// A cluster not picked, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Excluded {
    /// Cluster name.
    pub name: String,
    /// Why, in Karmada's words where Karmada has words for it.
    pub reason: String,
}

/// The scheduler's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Outcome {
    /// Whether Karmada would schedule the template at all.
    pub feasible: bool,
    /// The clusters picked, sorted by name.
    pub clusters: Vec<Target>,
    /// Every other cluster, sorted by name.
    pub excluded: Vec<Excluded>,
    /// The `clusterAffinities` term that scheduled (absent without `clusterAffinities`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub affinity_name: Option<String>,
    /// Why scheduling failed (infeasible only), in Karmada's words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// What the preview cannot know or had to assume.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Outcome {
    /// Scheduled onto `clusters`; the others `excluded`.
    fn scheduled(clusters: Vec<Target>, excluded: Vec<Excluded>) -> Self {
        Self {
            feasible: true,
            clusters,
            excluded,
            affinity_name: None,
            error: None,
            notes: Vec::new(),
        }
    }

    /// Not scheduled, for `error`; every cluster `excluded`.
    fn unschedulable(error: String, excluded: Vec<Excluded>) -> Self {
        Self {
            feasible: false,
            clusters: Vec::new(),
            excluded,
            affinity_name: None,
            error: Some(error),
            notes: Vec::new(),
        }
    }
}

/// One scheduling pass over one affinity (or none): what `genericScheduler.Schedule` sees.
#[derive(Debug, Clone, Copy)]
pub struct Pass<'a> {
    /// The placement (defaulted, see [`defaulted`]).
    pub placement: &'a Placement,
    /// The affinities the ClusterAffinity filter tries (the term's own first, then its overflow
    /// affinities for a workload); empty means "every cluster".
    pub affinities: &'a [&'a ClusterAffinity],
    /// The workload.
    pub workload: &'a Workload,
}

/// The placement as Karmada stores it after its API defaults (`replicaSchedulingType: Divided`
/// when `replicaScheduling` is set) and its policy webhook (`SetDefaultSpreadConstraints` and
/// `SetReplicaDivisionPreferenceWeighted` in `pkg/util/helper/policy.go`).
pub fn defaulted(placement: &Placement) -> Placement {
    let mut p = placement.clone();
    if let Some(rs) = p.replica_scheduling.as_mut() {
        if rs.replica_scheduling_type.as_deref().is_none_or(str::is_empty) {
            rs.replica_scheduling_type = Some(DIVIDED.into());
        }
        if rs.replica_scheduling_type.as_deref() == Some(DIVIDED)
            && rs
                .replica_division_preference
                .as_deref()
                .is_none_or(str::is_empty)
        {
            rs.replica_division_preference = Some(WEIGHTED.into());
        }
    }
    for sc in p.spread_constraints.iter_mut().flatten() {
        if sc.spread_by_label.as_deref().is_none_or(str::is_empty)
            && sc.spread_by_field.as_deref().is_none_or(str::is_empty)
        {
            sc.spread_by_field = Some(FIELD_CLUSTER.into());
        }
        if sc.min_groups.unwrap_or(0) == 0 {
            sc.min_groups = Some(1);
        }
    }
    p
}

/// `Divided`.
pub const DIVIDED: &str = "Divided";
/// `Duplicated`.
pub const DUPLICATED: &str = "Duplicated";
/// `Weighted`.
pub const WEIGHTED: &str = "Weighted";
/// `Aggregated`.
pub const AGGREGATED: &str = "Aggregated";
/// `spreadByField: cluster`.
pub const FIELD_CLUSTER: &str = "cluster";
/// `spreadByField: region`.
pub const FIELD_REGION: &str = "region";
/// `spreadByField: zone`.
pub const FIELD_ZONE: &str = "zone";
/// `spreadByField: provider`.
pub const FIELD_PROVIDER: &str = "provider";

/// `Placement.ReplicaSchedulingType()` (`propagation_helper.go`): Duplicated without
/// `replicaScheduling`.
pub fn scheduling_type(placement: &Placement) -> &str {
    placement.replica_scheduling.as_ref().map_or(DUPLICATED, |rs| {
        rs.replica_scheduling_type.as_deref().unwrap_or_default()
    })
}

/// The spread constraints of a placement.
pub fn spread_constraints(placement: &Placement) -> &[SpreadConstraint] {
    placement.spread_constraints.as_deref().unwrap_or_default()
}

/// The result of one pass: the targets, or Karmada's error.
type PassResult = Result<(Vec<Target>, Vec<Excluded>), (String, Vec<Excluded>)>;

/// One pass of `genericScheduler.Schedule`: filter, select, assign.
fn run_pass(pass: &Pass<'_>, clusters: &[&Cluster], notes: &mut Vec<String>) -> PassResult {
    let mut excluded = Vec::new();
    let mut feasible = Vec::new();
    for cluster in clusters {
        match filter::run_filters(pass, cluster) {
            Ok(()) => feasible.push(*cluster),
            Err(reasons) => excluded.push(Excluded {
                name: cluster.name().to_owned(),
                reason: reasons.join("; "),
            }),
        }
    }
    if feasible.is_empty() {
        // `framework.FitError`.
        return Err((format!("0/{} clusters are available", clusters.len()), excluded));
    }
    let available = estimate::cal_available_replicas(&feasible, pass.workload);
    let scored: Vec<spread::ClusterDetail<'_>> = feasible
        .iter()
        .zip(&available)
        .map(|(c, avail)| spread::ClusterDetail {
            name: c.name().to_owned(),
            score: filter::score(c),
            overflow_order: filter::overflow_order(pass, c),
            available_replicas: i64::from(*avail),
            allocatable_replicas: *avail,
            cluster: c,
        })
        .collect();
    let groups = spread::group_clusters_with_score(scored, pass.placement, pass.workload);
    let selected = match spread::select_best_clusters(pass.placement, &groups, pass.workload.replicas) {
        Ok(selected) => selected,
        Err(e) => {
            for c in &groups.clusters {
                excluded.push(Excluded {
                    name: c.name.clone(),
                    reason: format!("feasible, but the spread constraints cannot be met: {e}"),
                });
            }
            return Err((e, excluded));
        }
    };
    for c in &groups.clusters {
        if !selected.iter().any(|s| s.name == c.name) {
            excluded.push(Excluded {
                name: c.name.clone(),
                reason: "feasible, but not selected by the spread constraints (other clusters or groups rank higher)"
                    .into(),
            });
        }
    }
    let targets = match assign::assign_replicas(&selected, pass, notes) {
        Ok(targets) => targets,
        Err(e) => {
            for c in &selected {
                excluded.push(Excluded {
                    name: c.name.clone(),
                    reason: format!("selected, but replicas cannot be assigned: {e}"),
                });
            }
            return Err((e, excluded));
        }
    };
    for c in &selected {
        if !targets.iter().any(|t| t.name == c.name) {
            excluded.push(Excluded {
                name: c.name.clone(),
                reason: "selected, but assigned 0 replicas (Karmada drops it from the result)".into(),
            });
        }
    }
    Ok((targets, excluded))
}

/// Where Karmada's scheduler would place `workload` under `placement` across `clusters`, and why
/// every other cluster is left out. With `clusterAffinities` the terms are tried in order
/// (`scheduleResourceBindingWithClusterAffinities`); the first that schedules wins.
pub fn schedule(placement: &Placement, clusters: &[Cluster], workload: &Workload) -> Outcome {
    let clusters: Vec<&Cluster> = clusters.iter().collect();
    schedule_refs(placement, &clusters, workload)
}

/// [`schedule`] over borrowed clusters (the fleet's own objects, not copies of them).
pub fn schedule_refs(placement: &Placement, clusters: &[&Cluster], workload: &Workload) -> Outcome {
    let placement = defaulted(placement);
    let mut notes = Vec::new();
    // `findClustersThatFit` skips deleting clusters before any plugin.
    let mut deleting = Vec::new();
    let mut live: Vec<&Cluster> = Vec::new();
    for &c in clusters {
        if c.metadata.deletion_timestamp.is_some() {
            deleting.push(Excluded {
                name: c.name().to_owned(),
                reason: "cluster is being deleted".into(),
            });
        } else {
            live.push(c);
        }
    }
    let mut outcome = match (&placement.cluster_affinity, &placement.cluster_affinities) {
        (None, Some(terms)) => {
            let mut first_error: Option<(String, Vec<Excluded>)> = None;
            let mut done = None;
            for term in terms {
                let mut affinities = vec![&term.affinity];
                if workload.is_workload() {
                    affinities.extend(term.overflow_affinities.iter().flatten().map(|o| &o.affinity));
                }
                let pass = Pass {
                    placement: &placement,
                    affinities: &affinities,
                    workload,
                };
                let mut pass_notes = Vec::new();
                match run_pass(&pass, &live, &mut pass_notes) {
                    Ok((targets, excluded)) => {
                        notes.extend(pass_notes);
                        done = Some((term.affinity_name.clone(), targets, excluded));
                        break;
                    }
                    Err((e, excluded)) => {
                        notes.push(format!(
                            "clusterAffinities term {:?} did not schedule: {e}",
                            term.affinity_name
                        ));
                        first_error.get_or_insert((e, excluded));
                    }
                }
            }
            match (done, first_error) {
                (Some((name, targets, excluded)), _) => Outcome {
                    affinity_name: Some(name),
                    ..Outcome::scheduled(targets, excluded)
                },
                (None, first) => {
                    let (e, excluded) = first.unwrap_or_else(|| {
                        (
                            "no clusterAffinities term".into(),
                            live.iter()
                                .map(|c| Excluded {
                                    name: c.name().to_owned(),
                                    reason: "no clusterAffinities term".into(),
                                })
                                .collect(),
                        )
                    });
                    Outcome::unschedulable(e, excluded)
                }
            }
        }
        (affinity, _) => {
            let affinities: Vec<&ClusterAffinity> = affinity.iter().collect();
            let pass = Pass {
                placement: &placement,
                affinities: &affinities,
                workload,
            };
            match run_pass(&pass, &live, &mut notes) {
                Ok((targets, excluded)) => Outcome::scheduled(targets, excluded),
                Err((e, excluded)) => Outcome::unschedulable(e, excluded),
            }
        }
    };
    outcome.excluded.extend(deleting);
    if outcome.feasible {
        // Clusters picked at no point of the pass (none: every cluster is filtered, selected or
        // assigned), kept for safety: every cluster is accounted for.
        outcome
            .excluded
            .retain(|e| !outcome.clusters.iter().any(|t| t.name == e.name));
    }
    outcome.clusters.sort_by(|a, b| a.name.cmp(&b.name));
    outcome.excluded.sort_by(|a, b| a.name.cmp(&b.name));
    outcome.excluded.dedup_by(|a, b| a.name == b.name);
    if workload.replicas == 0 && workload.is_workload() {
        notes.push(
            "the workload has 0 replicas: Karmada assigns every cluster 0 and drops them from the result (unless karmada-scheduler runs with --enable-empty-workload-propagation)"
                .into(),
        );
    }
    notes.extend(workload.notes.iter().cloned());
    outcome.notes = notes;
    outcome
}

#[cfg(test)]
mod tests;
