//! Round-trip tests of the Karmada types on real manifests.

#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers of tests: a panic is a failing test

use std::path::Path;

use karmada_takeover::{
    fleet::files,
    karmada::{Cluster, Policy, PolicyKind, ResourceBinding},
};
use pretty_assertions::assert_eq;
use serde_json::Value;

fn object(name: &str) -> files::Located {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/karmada-objects")
        .join(name);
    files::read_file(&path).unwrap().remove(0)
}

#[test]
fn every_propagation_policy_field_round_trips_unchanged() {
    for file in ["propagationpolicy-full.yaml", "clusterpropagationpolicy.yaml"] {
        let obj = object(file);
        let policy: Policy = obj.parse().unwrap();
        let back = serde_json::to_value(&policy).unwrap();
        assert_eq!(back, obj.value, "{file}");
    }
}

#[test]
fn policy_accessors_apply_karmadas_defaults() {
    let p: Policy = object("propagationpolicy-full.yaml").parse().unwrap();
    assert_eq!(p.policy_kind(), Some(PolicyKind::PropagationPolicy));
    assert_eq!(p.spec.explicit_priority(), 10);
    assert!(p.spec.preempts());
    assert_eq!(
        p.spec.resource_selectors[1]
            .label_selector
            .as_ref()
            .unwrap()
            .match_expressions
            .as_ref()
            .unwrap()[0]
            .values,
        Some(vec!["web".into(), "edge".into()])
    );
    let mut bare = p.clone();
    bare.spec.priority = None;
    bare.spec.preemption = None;
    assert_eq!(bare.spec.explicit_priority(), 0);
    assert!(!bare.spec.preempts());
}

#[test]
fn resource_binding_fields_we_read() {
    let obj = object("resourcebinding.yaml");
    let rb: ResourceBinding = obj.parse().unwrap();
    assert_eq!(rb.spec.resource.name, "nginx");
    let clusters: Vec<&str> = rb
        .spec
        .clusters
        .as_ref()
        .unwrap()
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(clusters, ["member1", "member2"]);
    assert_eq!(rb.spec.conflict_resolution.as_deref(), Some("Overwrite"));
    assert_eq!(rb.spec.required_by.as_ref().unwrap()[0].name, "web-deployment");
    // What we model survives a round trip.
    let again: ResourceBinding = serde_json::from_value(serde_json::to_value(&rb).unwrap()).unwrap();
    assert_eq!(again, rb);
}

#[test]
fn cluster_readiness_and_taints() {
    let c: Cluster = object("cluster.yaml").parse().unwrap();
    assert_eq!(c.name(), "member1");
    assert!(c.is_ready());
    assert_eq!(
        c.spec.taints.as_ref().unwrap()[0].key,
        "cluster.karmada.io/not-ready"
    );
    let mut not_ready = c.clone();
    not_ready.status.as_mut().unwrap().conditions.as_mut().unwrap()[0].status = "False".into();
    assert!(!not_ready.is_ready());
}

#[test]
fn the_example_fleet_policies_parse() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fleet/karmada/policies.yaml");
    for obj in files::read_file(&dir).unwrap() {
        let p: Policy = obj.parse().unwrap();
        let back: Value = serde_json::to_value(&p).unwrap();
        assert_eq!(back, obj.value);
    }
}
