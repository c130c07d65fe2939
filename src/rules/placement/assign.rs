//! Replica assignment: a port of `pkg/scheduler/core/assignment.go`, `division_algorithm.go`,
//! `common.go` (`AssignReplicas`, `assignWorkloadReplicas`) and the Webster dispenser of
//! `pkg/util/helper` (`binding.go`, `webstermethod.go`), for a first schedule (no previous
//! result, so the Steady mode's scale-up from zero).

use std::{cmp::Ordering, collections::BTreeMap};

use super::{
    AGGREGATED, DUPLICATED, Pass, Target, WEIGHTED, filter::cluster_matches, scheduling_type,
    spread::ClusterDetail,
};

/// `AssignReplicas`: a workload's replicas are divided; anything else goes whole to every
/// selected cluster.
pub fn assign_replicas(
    clusters: &[ClusterDetail<'_>],
    pass: &Pass<'_>,
    notes: &mut Vec<String>,
) -> Result<Vec<Target>, String> {
    if clusters.is_empty() {
        return Err("no clusters available to schedule".into());
    }
    let w = pass.workload;
    if w.replicas > 0 || w.requests.is_some() {
        return assign_workload_replicas(clusters, pass, notes);
    }
    Ok(clusters
        .iter()
        .map(|c| Target {
            name: c.name.clone(),
            replicas: 0,
        })
        .collect())
}

/// `assignWorkloadReplicas`: with overflow affinities, tier by tier (each tier gets what it can
/// take); otherwise all at once.
fn assign_workload_replicas(
    clusters: &[ClusterDetail<'_>],
    pass: &Pass<'_>,
    notes: &mut Vec<String>,
) -> Result<Vec<Target>, String> {
    if pass.affinities.len() <= 1 || pass.placement.cluster_affinity.is_some() {
        return assign_to_clusters(clusters, pass, pass.workload.replicas, notes);
    }
    let mut tiers: BTreeMap<i32, Vec<ClusterDetail<'_>>> = BTreeMap::new();
    for c in clusters {
        tiers.entry(c.overflow_order).or_default().push(c.clone());
    }
    let mut remaining = pass.workload.replicas;
    let mut result = Vec::new();
    for tier in tiers.values() {
        let available: i64 = tier.iter().map(|c| c.available_replicas).sum();
        let take = i32::try_from(i64::from(remaining).min(available)).unwrap_or(remaining);
        result.extend(assign_to_clusters(tier, pass, take, notes)?);
        remaining -= take;
        if remaining <= 0 {
            break;
        }
    }
    if remaining > 0 {
        return Err("Clusters available replicas are not enough to schedule.".into());
    }
    Ok(result)
}

/// `assignReplicasToClusters`: the strategy's assignment, clusters with 0 replicas removed
/// (`removeZeroReplicasCluster`).
fn assign_to_clusters(
    clusters: &[ClusterDetail<'_>],
    pass: &Pass<'_>,
    replicas: i32,
    notes: &mut Vec<String>,
) -> Result<Vec<Target>, String> {
    let placement = pass.placement;
    let rs = placement.replica_scheduling.as_ref();
    let preference = rs
        .and_then(|r| r.replica_division_preference.as_deref())
        .unwrap_or_default();
    let dynamic = rs
        .and_then(|r| r.weight_preference.as_ref())
        .is_some_and(|wp| !wp.dynamic_weight.as_deref().unwrap_or_default().is_empty());
    let targets = match (scheduling_type(placement), preference) {
        (DUPLICATED, _) => clusters
            .iter()
            .map(|c| Target {
                name: c.name.clone(),
                replicas,
            })
            .collect(),
        (_, AGGREGATED) => dynamic_scale_up(clusters, replicas, true, pass, notes)?,
        (_, WEIGHTED) if dynamic => dynamic_scale_up(clusters, replicas, false, pass, notes)?,
        (_, WEIGHTED) => static_weight(clusters, replicas, pass, notes),
        (t, p) => {
            return Err(format!(
                "unsupported replica scheduling strategy, replicaSchedulingType: {t}, replicaDivisionPreference: {p}"
            ));
        }
    };
    Ok(targets.into_iter().filter(|t| t.replicas > 0).collect())
}

/// `assignByStaticWeightStrategy` + `getStaticWeightInfoList`: each cluster weighs the largest
/// static weight whose target it matches; clusters matching none are left out, and if no cluster
/// has a weight all weigh 1. Without a weight preference every cluster weighs 1.
fn static_weight(
    clusters: &[ClusterDetail<'_>],
    replicas: i32,
    pass: &Pass<'_>,
    notes: &mut Vec<String>,
) -> Vec<Target> {
    let list = pass
        .placement
        .replica_scheduling
        .as_ref()
        .and_then(|r| r.weight_preference.as_ref())
        .map(|wp| wp.static_weight_list.clone().unwrap_or_default());
    let mut weights: Vec<(String, i64)> = match &list {
        None => clusters.iter().map(|c| (c.name.clone(), 1)).collect(),
        Some(list) => clusters
            .iter()
            .filter_map(|c| {
                let w = list
                    .iter()
                    .filter(|rule| cluster_matches(c.cluster, &rule.target_cluster))
                    .map(|rule| rule.weight)
                    .fold(0, i64::max);
                (w > 0).then(|| (c.name.clone(), w))
            })
            .collect(),
    };
    if weights.iter().map(|(_, w)| w).sum::<i64>() == 0 {
        weights = clusters.iter().map(|c| (c.name.clone(), 1)).collect();
    }
    dispense(replicas, &weights, pass, notes)
}

/// `dynamicScaleUp` then `dynamicDivideReplicas` from nothing: the clusters' allocatable replicas
/// sorted descending are the weights; Aggregated keeps only as many of the largest as the
/// replicas need.
fn dynamic_scale_up(
    clusters: &[ClusterDetail<'_>],
    replicas: i32,
    aggregated: bool,
    pass: &Pass<'_>,
    notes: &mut Vec<String>,
) -> Result<Vec<Target>, String> {
    let mut available: Vec<(String, i64)> = clusters
        .iter()
        .map(|c| (c.name.clone(), i64::from(c.allocatable_replicas)))
        .collect();
    // `sort.Sort(TargetClustersList)`: descending replicas. Go's sort is not stable; it behaves
    // stably on the short lists (≤ 12) it insertion-sorts.
    available.sort_by_key(|a| std::cmp::Reverse(a.1));
    if available.len() > 12 && available.windows(2).any(|w| w[0].1 == w[1].1) {
        notes.push(
            "more than 12 candidate clusters with equal available replicas: Go's unstable sort may order them differently"
                .into(),
        );
    }
    let total: i64 = available.iter().map(|(_, n)| n).sum();
    if total < i64::from(replicas) {
        return Err(format!(
            "Clusters available replicas {total} are not enough to schedule."
        ));
    }
    if aggregated {
        let mut sum = 0;
        if let Some(cut) = available.iter().position(|(_, n)| {
            sum += n;
            sum >= i64::from(replicas)
        }) {
            available.truncate(cut + 1);
        }
    }
    notes.push(
        "available replicas are the general estimator's, from each cluster's status.resourceSummary; with karmada-scheduler-estimator enabled Karmada uses the smaller of both"
            .into(),
    );
    Ok(dispense(replicas, &available, pass, notes))
}

/// `Dispenser.AllocateByWeight`: Webster's method (`AllocateWebsterSeats`) with the tie-breaker
/// `tieBreakerByUID` derives from the template's UID. Without a UID both tie-breakers are tried;
/// when they disagree the ascending one is returned and a note says the result depends on it.
fn dispense(
    replicas: i32,
    weights: &[(String, i64)],
    pass: &Pass<'_>,
    notes: &mut Vec<String>,
) -> Vec<Target> {
    match &pass.workload.uid {
        Some(uid) => webster(replicas, weights, name_descending_wins(uid)),
        None => {
            let ascending = webster(replicas, weights, false);
            if webster(replicas, weights, true) != ascending {
                notes.push(
                    "a replica tie between clusters is broken by a hash of the template's UID (tieBreakerByUID); the template has no metadata.uid, so this shows the tie going to the alphabetically first cluster"
                        .into(),
                );
            }
            ascending
        }
    }
}

/// Whether `tieBreakerByUID(uid)` is `sortNameDescending`: FNV-1a 32 of the UID is odd.
pub fn name_descending_wins(uid: &str) -> bool {
    if uid.is_empty() {
        return false;
    }
    let mut h: u32 = 0x811c_9dc5;
    for b in uid.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h & 1 == 1
}

/// `AllocateWebsterSeats` from no seats: each seat goes to the party with the highest
/// `votes / (2·seats + 1)`; ties to fewer seats, then by name (descending when `descending`).
/// Returns every party, sorted by name.
pub fn webster(seats: i32, votes: &[(String, i64)], descending: bool) -> Vec<Target> {
    let mut parties: Vec<(String, i64, i32)> = votes.iter().map(|(n, v)| (n.clone(), *v, 0)).collect();
    parties.sort_by(|a, b| a.0.cmp(&b.0));
    parties.dedup_by(|a, b| a.0 == b.0);
    if parties.is_empty() {
        return Vec::new();
    }
    // `WebsterPriorityQueue.Less` with the tie-breaker: whether `a` gets the next seat before `b`.
    let before = |a: &(String, i64, i32), b: &(String, i64, i32)| -> Ordering {
        #[allow(clippy::cast_precision_loss)]
        let prio = |p: &(String, i64, i32)| p.1 as f64 / f64::from(2 * p.2 + 1);
        let (pa, pb) = (prio(a), prio(b));
        if pa == pb {
            if a.2 != b.2 {
                return a.2.cmp(&b.2);
            }
            return if descending { b.0.cmp(&a.0) } else { a.0.cmp(&b.0) };
        }
        pb.partial_cmp(&pa).unwrap_or(Ordering::Equal)
    };
    for _ in 0..seats.max(0) {
        let mut best = 0;
        for i in 1..parties.len() {
            if before(&parties[i], &parties[best]) == Ordering::Less {
                best = i;
            }
        }
        parties[best].2 += 1;
    }
    parties
        .into_iter()
        .map(|(name, _, replicas)| Target { name, replicas })
        .collect()
}
