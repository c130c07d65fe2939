//! `memory::release_freed` after a re-list, on the binary's allocator: the watch driver calls it
//! after applying each complete list, so it must leave the view it follows intact.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use karmada_takeover::{
    fleet::{
        SharedFleet,
        watch::{Change, apply_policies, decode_policy},
    },
    karmada::{Policy, PolicyKind},
    memory,
    rules::DynamicObject,
};
use serde_json::json;

/// As `src/main.rs`: the call must find mimalloc's pages to collect.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn policy(i: usize, generation: usize) -> Policy {
    let obj: DynamicObject = serde_json::from_value(json!({
        "apiVersion": "policy.karmada.io/v1alpha1", "kind": "PropagationPolicy",
        "metadata": {"name": format!("p-{i}"), "namespace": format!("ns-{}", i % 10),
            "labels": {"propagationpolicy.karmada.io/permanent-id": format!("id-{i}"), "karmada-takeover.io/tier": "batch"},
            "uid": format!("u-{i}"), "resourceVersion": format!("{generation}"), "finalizers": ["karmada.io/propagation-policy-controller"]},
        "spec": {"resourceSelectors": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": format!("wl-{i}")}],
                 "placement": {"clusterAffinity": {"clusterNames": ["member1"]}}, "priority": generation}}))
    .unwrap();
    decode_policy(obj).expect("policy decodes")
}

/// Every policy of the view, serialised, in key order.
fn snapshot(fleet: &SharedFleet) -> Vec<String> {
    let f = fleet.read();
    let mut out: Vec<String> = f.policies().map(|p| serde_json::to_string(p).unwrap()).collect();
    out.sort();
    out
}

#[test]
fn release_after_a_relist_leaves_the_fleet_intact() {
    let fleet = SharedFleet::default();
    let list: Vec<Policy> = (0..2_000).map(|i| policy(i, 1)).collect();
    apply_policies(&fleet, PolicyKind::PropagationPolicy, Change::Relist(list), 500);
    let before = snapshot(&fleet);
    memory::release_freed();
    assert_eq!(snapshot(&fleet), before);
    assert_eq!(fleet.read().counts().policies, 2_000);

    // A re-list that drops half and changes the rest, released again.
    let list: Vec<Policy> = (0..1_000).map(|i| policy(i, 2)).collect();
    apply_policies(&fleet, PolicyKind::PropagationPolicy, Change::Relist(list), 500);
    let before = snapshot(&fleet);
    memory::release_freed();
    assert_eq!(snapshot(&fleet), before);
    let f = fleet.read();
    assert_eq!(f.counts().policies, 1_000);
    let p = f.policy(PolicyKind::PropagationPolicy, "ns-7", "p-7").unwrap();
    assert_eq!(p.spec.priority, Some(2));
    assert_eq!(p.label("karmada-takeover.io/tier"), Some("batch"));
    // The fleet drops the bookkeeping on the way in.
    assert!(p.metadata.server.is_none());
    assert!(
        f.policy(PolicyKind::PropagationPolicy, "ns-1", "p-1001")
            .is_none()
    );
}
