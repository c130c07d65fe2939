//! Available replicas per cluster, as the scheduler computes them with the general estimator
//! (`pkg/estimator/client/general.go`) from each member's `status.resourceSummary`, then bounded
//! as `calAvailableReplicas` does (`pkg/scheduler/core/util.go`).
//!
//! karmada-scheduler-estimator (the accurate estimator, optional) is not modelled: with it,
//! Karmada takes the minimum of both, so it can only lower these numbers. Resource models
//! (`allocatableModelings`, gate `CustomizedClusterResourceModeling`) are not modelled either.

use super::Workload;
use crate::{
    karmada::{Cluster, cluster::ResourceSummary},
    kube::quantity,
};

/// `calAvailableReplicas`: with 0 replicas (a non-workload, or a workload scaled to zero; the
/// components of `MultiplePodTemplatesScheduling` are not modelled) every cluster gets
/// `MaxInt32`; otherwise the general estimator's answer, with `MaxInt32` replaced by the
/// template's replicas.
pub fn cal_available_replicas(clusters: &[&Cluster], workload: &Workload) -> Vec<i32> {
    if workload.replicas == 0 {
        return vec![i32::MAX; clusters.len()];
    }
    clusters
        .iter()
        .map(|c| {
            let n = max_available_replicas(c, workload);
            if n == i32::MAX { workload.replicas } else { n }
        })
        .collect()
}

/// `GeneralEstimator.maxAvailableReplicas`: 0 without a resource summary; otherwise the pods the
/// member can still take, bounded by each requested resource.
pub fn max_available_replicas(cluster: &Cluster, workload: &Workload) -> i32 {
    let Some(summary) = cluster.resource_summary() else {
        return 0;
    };
    let mut maximum = allowed_pod_number(summary);
    if maximum <= 0 {
        return 0;
    }
    if let Some(requests) = &workload.requests {
        maximum = maximum.min(max_replicas_by_summary(summary, requests));
    }
    i32::try_from(maximum).unwrap_or(i32::MAX)
}

fn amount(list: Option<&crate::karmada::cluster::ResourceList>, name: &str) -> Option<quantity::Parsed> {
    list.and_then(|l| l.get(name)).and_then(|q| quantity::parse(&q.0))
}

/// `getAllowedPodNumber`: allocatable − allocated − allocating pods, at least 0.
pub fn allowed_pod_number(summary: &ResourceSummary) -> i64 {
    let pods = |list| amount(list, "pods").map_or(0, quantity::Parsed::value);
    let allowed = pods(summary.allocatable.as_ref())
        - pods(summary.allocated.as_ref())
        - pods(summary.allocating.as_ref());
    allowed.max(0)
}

/// `getMaximumReplicasBasedOnClusterSummary`: for each requested resource, available
/// (allocatable − allocated − allocating) ÷ request, CPU in millicores; 0 when the member lacks
/// a requested resource or has none left.
pub fn max_replicas_by_summary(
    summary: &ResourceSummary,
    requests: &std::collections::BTreeMap<String, i64>,
) -> i64 {
    let mut maximum = i64::MAX;
    for (name, &request) in requests {
        if request <= 0 {
            continue;
        }
        let Some(allocatable) = amount(summary.allocatable.as_ref(), name) else {
            return 0;
        };
        let mut available = allocatable;
        for used in [summary.allocated.as_ref(), summary.allocating.as_ref()] {
            if let Some(q) = amount(used, name) {
                available = available.minus(q);
            }
        }
        if available.value() <= 0 {
            return 0;
        }
        let available = if name == "cpu" {
            available.milli_value()
        } else {
            available.value()
        };
        maximum = maximum.min(available / request);
    }
    maximum
}
