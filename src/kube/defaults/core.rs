//! `v1` Pod and Service (`pkg/apis/core/v1/defaults.go`).

use serde_json::Value;

use super::{Obj, child, child_or_new, default_nil, default_str, is_nil, is_zero, items, pod, str_of};

/// `SetObjectDefaults_Pod`: `SetDefaults_Pod`, then the spec as in every pod template.
///
/// Not modelled: PodLevelResources' pod-level defaults (`defaultHugePagePodLimits`,
/// `defaultPodRequests`), which apply only when `spec.resources` is set; and what admission plugins
/// add to a Pod (service-account token volume, tolerations, priority).
pub(super) fn pod(root: &mut Obj) {
    if let Some(metadata) = child(root, "metadata") {
        pod::drop_init_container_annotations(metadata);
    }
    let Some(spec) = child_or_new(root, "spec") else {
        return;
    };
    // SetDefaults_Pod: a container with limits but no request for a resource requests its limit.
    for key in ["containers", "initContainers"] {
        for c in items(spec, key) {
            requests_from_limits(c);
        }
    }
    default_nil(spec, "enableServiceLinks", Value::from(true));
    if spec.get("hostNetwork").and_then(Value::as_bool) == Some(true) {
        // defaultHostNetworkPorts: with host networking a container port is also the host port.
        for key in ["containers", "initContainers"] {
            for c in items(spec, key) {
                for port in items(c, "ports") {
                    if is_zero(port, "hostPort")
                        && let Some(container_port) = port.get("containerPort").cloned()
                    {
                        port.insert("hostPort".to_owned(), container_port);
                    }
                }
            }
        }
    }
    pod::pod_spec(spec);
}

/// The request-from-limit part of `SetDefaults_Pod`, for one container.
fn requests_from_limits(c: &mut Obj) {
    let Some(resources) = child(c, "resources") else {
        return;
    };
    let Some(limits) = resources.get("limits").and_then(Value::as_object).cloned() else {
        return;
    };
    if let Some(requests) = child_or_new(resources, "requests") {
        for (name, limit) in limits {
            requests.entry(name).or_insert(limit);
        }
    }
}

/// `SetObjectDefaults_Service`: `SetDefaults_Service` and each port's protocol.
///
/// The registry allocates `clusterIP(s)`, `ipFamilies`, `ipFamilyPolicy` and node ports after
/// admission; they are not defaults and are not set here (see the module documentation). The
/// load balancer's `status.loadBalancer.ingress[].ipMode` default is status and left alone.
pub(super) fn service(root: &mut Obj) {
    let Some(spec) = child_or_new(root, "spec") else {
        return;
    };
    default_str(spec, "sessionAffinity", "None");
    match str_of(spec, "sessionAffinity") {
        "None" => {
            spec.remove("sessionAffinityConfig");
        }
        "ClientIP" => {
            let has_timeout = spec
                .get("sessionAffinityConfig")
                .and_then(|c| c.get("clientIP"))
                .and_then(|c| c.get("timeoutSeconds"))
                .is_some_and(|t| !t.is_null());
            if !has_timeout {
                let config = serde_json::json!({ "clientIP": { "timeoutSeconds": 10800 } });
                spec.insert("sessionAffinityConfig".to_owned(), config);
            }
        }
        _ => {}
    }
    default_str(spec, "type", "ClusterIP");
    for port in items(spec, "ports") {
        default_str(port, "protocol", "TCP");
        let unset = match port.get("targetPort") {
            None | Some(Value::Null) => true,
            Some(Value::Number(n)) => n.as_f64() == Some(0.0),
            Some(Value::String(s)) => s.is_empty(),
            Some(_) => false,
        };
        if unset && let Some(number) = port.get("port").cloned() {
            port.insert("targetPort".to_owned(), number);
        }
    }
    let service_type = str_of(spec, "type").to_owned();
    let has_external_ips = spec
        .get("externalIPs")
        .and_then(Value::as_array)
        .is_some_and(|ips| !ips.is_empty());
    // service.ExternallyAccessible
    let externally_accessible = matches!(service_type.as_str(), "LoadBalancer" | "NodePort")
        || (service_type == "ClusterIP" && has_external_ips);
    if externally_accessible {
        default_str(spec, "externalTrafficPolicy", "Cluster");
    }
    if is_nil(spec, "internalTrafficPolicy")
        && matches!(service_type.as_str(), "NodePort" | "LoadBalancer" | "ClusterIP")
    {
        spec.insert("internalTrafficPolicy".to_owned(), Value::from("Cluster"));
    }
    if service_type == "LoadBalancer" {
        default_nil(spec, "allocateLoadBalancerNodePorts", Value::from(true));
    }
    // `spec.selector` is a map: empty, `omitempty` drops it.
    if spec
        .get("selector")
        .and_then(Value::as_object)
        .is_some_and(Obj::is_empty)
    {
        spec.remove("selector");
    }
}
