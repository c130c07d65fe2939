//! The scheduler's filter plugins (`pkg/scheduler/framework/plugins/*`) and the cluster affinity
//! match they share with static weights (`util.ClusterMatches` in `pkg/util/selector.go`).
//!
//! Karmada's framework stops at the first failing plugin, in the order of a Go map (so any of
//! them); here every failing plugin is reported.

use k8s_openapi::api::core::v1::{NodeSelectorRequirement, Toleration};

use super::{FIELD_PROVIDER, FIELD_REGION, FIELD_ZONE, Pass, spread_constraints};
use crate::{
    karmada::{
        Cluster,
        cluster::{ApiStatus, Taint},
        policy::ClusterAffinity,
    },
    rules::selector,
};

/// Runs every filter plugin on `cluster`; the reasons of those that fail.
pub fn run_filters(pass: &Pass<'_>, cluster: &Cluster) -> Result<(), Vec<String>> {
    let reasons: Vec<String> = [
        api_enablement(pass, cluster),
        taint_toleration(pass, cluster),
        cluster_affinity(pass, cluster),
        spread_constraint(pass, cluster),
    ]
    .into_iter()
    .flatten()
    .collect();
    if reasons.is_empty() { Ok(()) } else { Err(reasons) }
}

/// `APIEnablement.Filter` (`plugins/apienablement/api_enablement.go`): the member must list the
/// template's kind in `status.apiEnablements`. (The bypass for clusters already in the binding's
/// result does not apply to a first schedule.)
pub fn api_enablement(pass: &Pass<'_>, cluster: &Cluster) -> Option<String> {
    let w = pass.workload;
    match cluster.api_enablement(&w.api_version, &w.kind) {
        ApiStatus::Enabled => None,
        ApiStatus::Disabled => Some(format!(
            "cluster(s) did not have the API resource ({} {} is not in status.apiEnablements)",
            w.api_version, w.kind
        )),
        ApiStatus::Unknown => Some(format!(
            "cluster(s) did not have the API resource ({} {} is not in status.apiEnablements, which may be partial: CompleteAPIEnablements is not True)",
            w.api_version, w.kind
        )),
    }
}

/// `Taint.ToString()`: `key=value:effect`, or `key:effect` without a value.
fn taint_string(t: &Taint) -> String {
    match t.value.as_deref() {
        None | Some("") => format!("{}:{}", t.key, t.effect),
        Some(v) => format!("{}={v}:{}", t.key, t.effect),
    }
}

/// `Toleration.ToleratesTaint` (`k8s.io/api/core/v1/toleration.go`) without the comparison
/// operators (Karmada passes `enableComparisonOperators=false`).
pub fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let effect = toleration.effect.as_deref().unwrap_or_default();
    if !effect.is_empty() && effect != taint.effect {
        return false;
    }
    let key = toleration.key.as_deref().unwrap_or_default();
    if !key.is_empty() && key != taint.key {
        return false;
    }
    match toleration.operator.as_deref().unwrap_or_default() {
        "" | "Equal" => {
            toleration.value.as_deref().unwrap_or_default() == taint.value.as_deref().unwrap_or_default()
        }
        "Exists" => true,
        _ => false,
    }
}

/// `TaintToleration.Filter` (`plugins/tainttoleration/taint_toleration.go`): the first
/// `NoSchedule`/`NoExecute` taint no `clusterTolerations` entry tolerates
/// (`v1helper.FindMatchingUntoleratedTaint`).
pub fn taint_toleration(pass: &Pass<'_>, cluster: &Cluster) -> Option<String> {
    let tolerations = pass.placement.cluster_tolerations.as_deref().unwrap_or_default();
    cluster
        .taints()
        .iter()
        .filter(|t| t.effect == "NoSchedule" || t.effect == "NoExecute")
        .find(|t| !tolerations.iter().any(|tol| tolerates(tol, t)))
        .map(|t| format!("cluster(s) had untolerated taint {{{}}}", taint_string(t)))
}

/// `ClusterAffinity.Filter` (`plugins/clusteraffinity/cluster_affinity.go`): the cluster must
/// match one of the pass's affinities (the term's, then its overflow affinities).
pub fn cluster_affinity(pass: &Pass<'_>, cluster: &Cluster) -> Option<String> {
    if pass.affinities.is_empty() || pass.affinities.iter().any(|a| cluster_matches(cluster, a)) {
        return None;
    }
    let why: Vec<String> = pass.affinities.iter().map(|a| mismatch(cluster, a)).collect();
    Some(format!(
        "cluster(s) did not match the placement cluster affinity constraint ({})",
        why.join("; ")
    ))
}

/// Which part of an affinity a cluster fails, for people.
fn mismatch(cluster: &Cluster, affinity: &ClusterAffinity) -> String {
    let name = cluster.name().to_owned();
    if affinity.exclude.iter().flatten().any(|n| *n == name) {
        return "listed in exclude".into();
    }
    if let Some(ls) = &affinity.label_selector
        && selector::matches(ls, &cluster.labels()) != Some(true)
    {
        return "labels do not match labelSelector".into();
    }
    if let Some(fs) = &affinity.field_selector
        && !field_selector_matches(cluster, fs.match_expressions.as_deref().unwrap_or_default())
    {
        return "provider/region/zone do not match fieldSelector".into();
    }
    "not in clusterNames".into()
}

/// `util.ClusterMatches` (`pkg/util/selector.go`): not excluded, and the label selector, field
/// selector and cluster names all match (each only when set).
pub fn cluster_matches(cluster: &Cluster, affinity: &ClusterAffinity) -> bool {
    let name = cluster.name();
    if affinity.exclude.iter().flatten().any(|n| n == name) {
        return false;
    }
    if let Some(ls) = &affinity.label_selector
        && selector::matches(ls, &cluster.labels()) != Some(true)
    {
        return false;
    }
    if let Some(fs) = &affinity.field_selector
        && !field_selector_matches(cluster, fs.match_expressions.as_deref().unwrap_or_default())
    {
        return false;
    }
    // `ClusterNamesMatches`.
    match affinity.cluster_names.as_deref() {
        None | Some([]) => true,
        Some(names) => names.iter().any(|n| n == name),
    }
}

/// The field selector part of `ClusterMatches`: `zone` requirements against the cluster's zones
/// (`matchZones`), the others as a node selector over `{provider, region}`
/// (`lifted.NodeSelectorRequirementsAsSelector` + `extractClusterFields`).
fn field_selector_matches(cluster: &Cluster, expressions: &[NodeSelectorRequirement]) -> bool {
    let zones = cluster.zones();
    let mut others = Vec::new();
    for e in expressions {
        if e.key == FIELD_ZONE {
            if !match_zones(e, &zones) {
                return false;
            }
        } else {
            others.push(e);
        }
    }
    if others.is_empty() {
        return true;
    }
    let field = |key: &str| match key {
        FIELD_PROVIDER if !cluster.provider().is_empty() => Some(cluster.provider()),
        FIELD_REGION if !cluster.region().is_empty() => Some(cluster.region()),
        _ => None,
    };
    for e in others {
        let values = e.values.as_deref().unwrap_or_default();
        if !selector::valid_key(&e.key) {
            return false;
        }
        let present = field(&e.key);
        let ok = match e.operator.as_str() {
            "In" | "NotIn" => {
                if values.is_empty() || !values.iter().all(|v| selector::valid_value(v)) {
                    return false;
                }
                let hit = present.is_some_and(|p| values.iter().any(|v| v == p));
                if e.operator == "In" { hit } else { !hit }
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    return false;
                }
                present.is_some() == (e.operator == "Exists")
            }
            "Gt" | "Lt" => {
                let [bound] = values else { return false };
                let Ok(bound) = bound.parse::<i64>() else {
                    return false;
                };
                match present.map(str::parse::<i64>) {
                    Some(Ok(v)) => {
                        if e.operator == "Gt" {
                            v > bound
                        } else {
                            v < bound
                        }
                    }
                    _ => false,
                }
            }
            _ => return false,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// `matchZones` (`pkg/util/selector.go`).
fn match_zones(e: &NodeSelectorRequirement, zones: &[&str]) -> bool {
    let values = e.values.as_deref().unwrap_or_default();
    let listed = |z: &&str| values.iter().any(|v| v == z);
    match e.operator.as_str() {
        "In" => zones.iter().any(listed),
        "NotIn" => !zones.iter().any(listed),
        "Exists" => !zones.is_empty(),
        "DoesNotExist" => zones.is_empty(),
        _ => false,
    }
}

/// `SpreadConstraint.Filter` (`plugins/spreadconstraint/spread_constraint.go`): a cluster must
/// carry the field every spread constraint spreads by.
pub fn spread_constraint(pass: &Pass<'_>, cluster: &Cluster) -> Option<String> {
    for sc in spread_constraints(pass.placement) {
        match sc.spread_by_field.as_deref().unwrap_or_default() {
            FIELD_PROVIDER if cluster.provider().is_empty() => {
                return Some("cluster(s) did not have provider property".into());
            }
            FIELD_REGION if cluster.region().is_empty() => {
                return Some("cluster(s) did not have region property".into());
            }
            FIELD_ZONE if cluster.zones().is_empty() => {
                return Some("cluster(s) did not have zones property".into());
            }
            _ => {}
        }
    }
    None
}

/// The sum of the score plugins on a first schedule: ClusterAffinity scores every cluster
/// `MinClusterScore` (0), and ClusterLocality scores 0 while the binding has no previous result
/// (`plugins/clusterlocality/cluster_locality.go`).
pub fn score(_cluster: &Cluster) -> i64 {
    0
}

/// `getClusterOverflowOrder` (`core/spreadconstraint/group_clusters.go`): 0 for a cluster of the
/// term's own affinity, `i + 1` for one matched by its `i`-th overflow affinity.
pub fn overflow_order(pass: &Pass<'_>, cluster: &Cluster) -> i32 {
    if pass.placement.cluster_affinity.is_some() || pass.affinities.is_empty() {
        return 0;
    }
    pass.affinities
        .iter()
        .position(|a| cluster_matches(cluster, a))
        .map_or(1000, |i| i32::try_from(i).unwrap_or(1000))
}
