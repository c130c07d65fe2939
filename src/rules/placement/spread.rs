//! Cluster selection with spread constraints: a port of `pkg/scheduler/core/spreadconstraint`
//! (`group_clusters.go`, `select_clusters.go`, `select_clusters_by_cluster.go`,
//! `select_clusters_by_region.go`, `select_groups.go`).

use std::collections::BTreeMap;

use super::{
    DIVIDED, DUPLICATED, FIELD_CLUSTER, FIELD_PROVIDER, FIELD_REGION, FIELD_ZONE, WEIGHTED, Workload,
    scheduling_type, spread_constraints,
};
use crate::karmada::{
    Cluster,
    policy::{Placement, SpreadConstraint},
};

/// `ClusterDetailInfo`: a feasible cluster with its score and available replicas.
#[derive(Debug, Clone)]
pub struct ClusterDetail<'a> {
    /// Cluster name.
    pub name: String,
    /// Sum of the score plugins.
    pub score: i64,
    /// 0 for the affinity term itself, `i + 1` for its `i`-th overflow affinity.
    pub overflow_order: i32,
    /// Allocatable plus already assigned replicas (none on a first schedule).
    pub available_replicas: i64,
    /// What the estimator says the cluster can still take.
    pub allocatable_replicas: i32,
    /// The cluster.
    pub cluster: &'a Cluster,
}

/// A provider, region or zone: its clusters and group score.
#[derive(Debug, Clone, Default)]
pub struct Group<'a> {
    /// Group name.
    pub name: String,
    /// `calcGroupScore`.
    pub score: i64,
    /// Its clusters, in the global order.
    pub clusters: Vec<ClusterDetail<'a>>,
}

/// `GroupClustersInfo`: the clusters in scheduling order, and the topology groups the spread
/// constraints ask for.
#[derive(Debug, Clone, Default)]
pub struct GroupClustersInfo<'a> {
    /// Sorted by overflow order, score (desc), available replicas (desc), name.
    pub clusters: Vec<ClusterDetail<'a>>,
    /// By region (only with a region constraint).
    pub regions: BTreeMap<String, Group<'a>>,
    /// By zone (only with a zone constraint).
    pub zones: BTreeMap<String, Group<'a>>,
    /// By provider (only with a provider constraint).
    pub providers: BTreeMap<String, Group<'a>>,
}

/// `sortClusters` with the available-replicas comparison `generateClustersInfo` passes.
pub fn sort_clusters(clusters: &mut [ClusterDetail<'_>]) {
    clusters.sort_by(|a, b| {
        a.overflow_order
            .cmp(&b.overflow_order)
            .then(b.score.cmp(&a.score))
            .then(b.available_replicas.cmp(&a.available_replicas))
            .then(a.name.cmp(&b.name))
    });
}

fn has_field(constraints: &[SpreadConstraint], field: &str) -> bool {
    constraints
        .iter()
        .any(|sc| sc.spread_by_field.as_deref() == Some(field))
}

fn min_groups_of(constraints: &[SpreadConstraint], field: &str) -> i64 {
    // The last constraint for the field wins, as in the Go loops.
    constraints
        .iter()
        .rev()
        .find(|sc| sc.spread_by_field.as_deref() == Some(field))
        .map_or(0, |sc| i64::from(sc.min_groups.unwrap_or(0)))
}

/// `shouldIgnoreSpreadConstraint`: static weights ignore spread constraints.
pub fn should_ignore_spread_constraint(placement: &Placement) -> bool {
    let Some(rs) = &placement.replica_scheduling else {
        return false;
    };
    rs.replica_scheduling_type.as_deref() == Some(DIVIDED)
        && rs.replica_division_preference.as_deref() == Some(WEIGHTED)
        && rs.weight_preference.as_ref().is_none_or(|wp| {
            !wp.static_weight_list.as_deref().unwrap_or_default().is_empty()
                && wp.dynamic_weight.as_deref().unwrap_or_default().is_empty()
        })
}

/// `isTopologyIgnored`.
fn is_topology_ignored(placement: &Placement) -> bool {
    let sc = spread_constraints(placement);
    sc.is_empty()
        || (sc.len() == 1 && sc[0].spread_by_field.as_deref() == Some(FIELD_CLUSTER))
        || should_ignore_spread_constraint(placement)
}

/// `GroupClustersWithScore`: sorts the clusters and, unless topology is ignored, builds the
/// zone, region and provider groups with their scores.
pub fn group_clusters_with_score<'a>(
    mut clusters: Vec<ClusterDetail<'a>>,
    placement: &Placement,
    workload: &Workload,
) -> GroupClustersInfo<'a> {
    sort_clusters(&mut clusters);
    let mut info = GroupClustersInfo {
        clusters,
        ..Default::default()
    };
    if is_topology_ignored(placement) {
        return info;
    }
    let constraints = spread_constraints(placement);
    let build = |field: &str, keys: &dyn Fn(&Cluster) -> Vec<String>| {
        let mut groups: BTreeMap<String, Group<'a>> = BTreeMap::new();
        if !has_field(constraints, field) {
            return groups;
        }
        for c in &info.clusters {
            for key in keys(c.cluster) {
                let g = groups.entry(key.clone()).or_insert_with(|| Group {
                    name: key,
                    ..Default::default()
                });
                g.clusters.push(c.clone());
            }
        }
        let min_groups = min_groups_of(constraints, field);
        for g in groups.values_mut() {
            g.score = calc_group_score(&g.clusters, placement, workload, min_groups);
        }
        groups
    };
    let zones = build(FIELD_ZONE, &|c| {
        c.zones().into_iter().map(str::to_owned).collect()
    });
    let regions = build(FIELD_REGION, &|c| {
        Some(c.region())
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .into_iter()
            .collect()
    });
    let providers = build(FIELD_PROVIDER, &|c| {
        Some(c.provider())
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .into_iter()
            .collect()
    });
    info.zones = zones;
    info.regions = regions;
    info.providers = providers;
    info
}

/// `weightUnit`.
const WEIGHT_UNIT: i64 = 1000;

/// `calcGroupScore` (and `calcGroupScoreForDuplicate`).
pub fn calc_group_score(
    clusters: &[ClusterDetail<'_>],
    placement: &Placement,
    workload: &Workload,
    min_groups: i64,
) -> i64 {
    let replicas = i64::from(workload.replicas);
    if scheduling_type(placement) == DUPLICATED {
        let valid: Vec<&ClusterDetail<'_>> = clusters
            .iter()
            .filter(|c| c.available_replicas >= replicas)
            .collect();
        if valid.is_empty() {
            return 0;
        }
        let n = i64::try_from(valid.len()).unwrap_or(i64::MAX);
        let sum: i64 = valid.iter().map(|c| c.score).sum();
        return n * WEIGHT_UNIT + sum / n;
    }
    // Go: int64(math.Ceil(float64(replicas) / float64(minGroups))); minGroups 0 gives +Inf,
    // which converts to the minimum int64 on amd64.
    let target = if min_groups == 0 {
        i64::MIN
    } else {
        (replicas + min_groups - 1).div_euclid(min_groups)
    };
    let cluster_min = min_groups_of(spread_constraints(placement), FIELD_CLUSTER).max(min_groups);
    let (mut sum_available, mut sum_score, mut valid) = (0i64, 0i64, 0i64);
    for c in clusters {
        sum_available += c.available_replicas;
        sum_score += c.score;
        valid += 1;
        if valid >= cluster_min && sum_available >= target {
            break;
        }
    }
    let len = i64::try_from(clusters.len()).unwrap_or(i64::MAX).max(1);
    if sum_available < target {
        return sum_available.wrapping_mul(WEIGHT_UNIT) + sum_score / len;
    }
    // Go's int64 arithmetic wraps.
    target.wrapping_mul(WEIGHT_UNIT) + sum_score / valid.max(1)
}

/// `SelectBestClusters`: all clusters without (effective) spread constraints; otherwise by
/// region or by cluster.
pub fn select_best_clusters<'a>(
    placement: &Placement,
    info: &GroupClustersInfo<'a>,
    need_replicas: i32,
) -> Result<Vec<ClusterDetail<'a>>, String> {
    let constraints = spread_constraints(placement);
    if constraints.is_empty() || should_ignore_spread_constraint(placement) {
        return Ok(info.clusters.clone());
    }
    // `shouldIgnoreAvailableResource`: Duplicated does not look at resources.
    let need = if placement.replica_scheduling.is_none() || scheduling_type(placement) == DUPLICATED {
        None
    } else {
        Some(need_replicas)
    };
    let by_field = |field: &str| {
        constraints
            .iter()
            .rev()
            .find(|sc| sc.spread_by_field.as_deref() == Some(field))
    };
    if by_field(FIELD_REGION).is_some() {
        select_by_region(by_field(FIELD_REGION), by_field(FIELD_CLUSTER), info)
    } else if let Some(sc) = by_field(FIELD_CLUSTER) {
        select_by_cluster(sc, info, need)
    } else {
        Err("just support cluster and region spread constraint".into())
    }
}

fn max_groups(sc: Option<&SpreadConstraint>) -> usize {
    sc.and_then(|s| s.max_groups)
        .map_or(0, |n| usize::try_from(n).unwrap_or(0))
}

fn min_groups(sc: Option<&SpreadConstraint>) -> usize {
    sc.and_then(|s| s.min_groups)
        .map_or(0, |n| usize::try_from(n).unwrap_or(0))
}

/// `selectBestClustersByCluster`.
fn select_by_cluster<'a>(
    sc: &SpreadConstraint,
    info: &GroupClustersInfo<'a>,
    need_replicas: Option<i32>,
) -> Result<Vec<ClusterDetail<'a>>, String> {
    let total = info.clusters.len();
    if total < min_groups(Some(sc)) {
        return Err("the number of feasible clusters is less than spreadConstraint.MinGroups".into());
    }
    let need = total.min(max_groups(Some(sc)));
    match need_replicas {
        None => Ok(info.clusters[..need].to_vec()),
        Some(replicas) => {
            let selected = select_clusters_by_available_resource(&info.clusters, need, replicas);
            if selected.is_empty() {
                return Err(format!("no enough resource when selecting {need} clusters"));
            }
            Ok(selected)
        }
    }
}

/// `selectClustersByAvailableResource`: the best `need` clusters, swapping the lowest-ranked for
/// the one with the most available replicas among the rest until the replicas fit.
fn select_clusters_by_available_resource<'a>(
    candidates: &[ClusterDetail<'a>],
    need: usize,
    replicas: i32,
) -> Vec<ClusterDetail<'a>> {
    let mut ret = candidates[..need].to_vec();
    let mut rest = candidates[need..].to_vec();
    let fits = |cs: &[ClusterDetail<'_>]| {
        cs.iter().map(|c| c.available_replicas).sum::<i64>() >= i64::from(replicas)
    };
    let mut update = ret.len();
    while !fits(&ret) && update > 0 {
        let at = update - 1;
        if let Some(id) = cluster_with_max_available(&rest, ret[at].available_replicas) {
            std::mem::swap(&mut ret[at], &mut rest[id]);
        }
        update -= 1;
    }
    if fits(&ret) { ret } else { Vec::new() }
}

/// `GetClusterWithMaxAvailableResource`: the first cluster with strictly more than `origin`
/// available replicas and the most of them.
fn cluster_with_max_available(candidates: &[ClusterDetail<'_>], origin: i64) -> Option<usize> {
    let mut max = origin;
    let mut id = None;
    for (i, c) in candidates.iter().enumerate() {
        if max < c.available_replicas {
            id = Some(i);
            max = c.available_replicas;
        }
    }
    id
}

/// `selectBestClustersByRegion`.
fn select_by_region<'a>(
    region: Option<&SpreadConstraint>,
    cluster: Option<&SpreadConstraint>,
    info: &GroupClustersInfo<'a>,
) -> Result<Vec<ClusterDetail<'a>>, String> {
    if info.regions.len() < min_groups(region) {
        return Err("the number of feasible region is less than spreadConstraint.MinGroups".into());
    }
    let groups: Vec<GroupInfo> = info
        .regions
        .values()
        .map(|r| GroupInfo {
            name: r.name.clone(),
            value: r.clusters.len(),
            weight: r.score,
        })
        .collect();
    let chosen = select_groups(
        groups,
        min_groups(region),
        max_groups(region),
        min_groups(cluster),
    );
    if chosen.is_empty() {
        return Err("the number of clusters is less than the cluster spreadConstraint.MinGroups".into());
    }
    let mut selected = Vec::new();
    let mut candidates = Vec::new();
    for g in &chosen {
        let r = &info.regions[&g.name];
        selected.push(r.clusters[0].clone());
        candidates.extend(r.clusters[1..].iter().cloned());
    }
    let need = (candidates.len() + selected.len()).min(max_groups(cluster));
    if need > selected.len() {
        sort_clusters(&mut candidates);
        selected.extend(candidates.into_iter().take(need - selected.len()));
    }
    Ok(selected)
}

/// `GroupInfo` of `select_groups.go`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    /// Group name.
    pub name: String,
    /// Clusters in the group.
    pub value: usize,
    /// Group score.
    pub weight: i64,
}

/// A feasible path of the search (`dfsPath`).
#[derive(Debug, Clone)]
struct Path {
    id: usize,
    groups: Vec<GroupInfo>,
    weight: i64,
    value: usize,
}

/// `selectGroups`: the best combination of `min..=max` groups holding at least `target` clusters.
pub fn select_groups(mut groups: Vec<GroupInfo>, min: usize, max: usize, target: usize) -> Vec<GroupInfo> {
    if groups.is_empty() {
        return Vec::new();
    }
    let paths = find_feasible_paths(&mut groups, min, max, target);
    prioritize_paths(paths).map(|p| p.groups).unwrap_or_default()
}

/// `findFeasiblePaths`: depth-first over groups sorted by value (asc), weight (desc), name.
fn find_feasible_paths(groups: &mut [GroupInfo], min: usize, max: usize, target: usize) -> Vec<Path> {
    groups.sort_by(|a, b| {
        a.value
            .cmp(&b.value)
            .then(b.weight.cmp(&a.weight))
            .then(a.name.cmp(&b.name))
    });
    struct Search<'g> {
        groups: &'g [GroupInfo],
        min: usize,
        max: usize,
        target: usize,
        stack: Vec<GroupInfo>,
        next_id: usize,
        paths: Vec<Path>,
    }
    impl Search<'_> {
        fn dfs(&mut self, mut sum: usize, begin: usize) {
            if sum >= self.target && self.stack.len() >= self.min && self.stack.len() <= self.max {
                // `dfsPath.next`: a copy with its id, total weight and value, groups sorted by
                // weight (desc) then name.
                self.next_id += 1;
                let mut groups = self.stack.clone();
                groups.sort_by(|a, b| b.weight.cmp(&a.weight).then(a.name.cmp(&b.name)));
                self.paths.push(Path {
                    id: self.next_id,
                    weight: groups.iter().map(|g| g.weight).sum(),
                    value: groups.iter().map(|g| g.value).sum(),
                    groups,
                });
                return;
            }
            if self.stack.len() >= self.max {
                return;
            }
            for i in begin..self.groups.len() {
                sum += self.groups[i].value;
                self.stack.push(self.groups[i].clone());
                self.dfs(sum, i + 1);
                if self.groups.len() == self.min {
                    break;
                }
                sum -= self.groups[i].value;
                self.stack.pop();
            }
        }
    }
    let mut search = Search {
        groups,
        min,
        max,
        target,
        stack: Vec::new(),
        next_id: 0,
        paths: Vec::new(),
    };
    search.dfs(0, 0);
    search.paths
}

/// `prioritizePaths`: by weight, value, id; then the shortest prefix of the best path that is
/// itself feasible.
fn prioritize_paths(mut paths: Vec<Path>) -> Option<Path> {
    if paths.len() <= 1 {
        return paths.pop();
    }
    paths.sort_by(|a, b| {
        b.weight
            .cmp(&a.weight)
            .then(b.value.cmp(&a.value))
            .then(a.id.cmp(&b.id))
    });
    let mut best = paths[0].clone();
    for p in &paths[1..] {
        let is_prefix = p.groups.len() < best.groups.len()
            && p.groups.iter().zip(&best.groups).all(|(a, b)| a.name == b.name);
        if is_prefix {
            best = p.clone();
        }
    }
    Some(best)
}
