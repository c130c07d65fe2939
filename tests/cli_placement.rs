//! `karmada-takeover placement` on the example of `examples/placement/`, through the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers of tests: a panic is a failing test

use std::process::{Command, Output};

use serde_json::{Value, json};

fn placement(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_karmada-takeover"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("placement")
        .args(args)
        .output()
        .unwrap()
}

/// `placement -o json` of `policy` over the example's clusters and Deployment.
fn placement_json(policy: &str) -> Output {
    placement(&[
        "--policy",
        policy,
        "--clusters",
        "examples/placement/clusters.yaml",
        "--resource",
        "examples/placement/deployment.yaml",
        "-o",
        "json",
    ])
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn the_example_divides_replicas_by_available_replicas_and_says_why_not_elsewhere() {
    let out = placement_json("examples/placement/policy.yaml");
    assert_eq!(out.status.code(), Some(0));
    let report = json_of(&out);
    assert_eq!(report["feasible"], true);
    assert_eq!(
        report["clusters"],
        json!([{"name": "member1", "replicas": 1}, {"name": "member2", "replicas": 5}])
    );
    let reasons: Vec<(&str, &str)> = report["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap(), e["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(reasons.len(), 4, "{report}");
    assert_eq!(
        reasons[0],
        (
            "member3",
            "cluster(s) had untolerated taint {maintenance:NoSchedule}"
        )
    );
    assert!(
        reasons[1].1.contains("labels do not match labelSelector"),
        "{report}"
    );
    assert!(reasons[2].1.contains("listed in exclude"), "{report}");
    assert!(
        reasons[3]
            .1
            .starts_with("cluster(s) did not have the API resource"),
        "{report}"
    );
}

#[test]
fn the_text_output_is_a_table() {
    let out = placement(&[
        "-p",
        "examples/placement/policy.yaml",
        "-c",
        "examples/placement/clusters.yaml",
        "-r",
        "examples/placement/deployment.yaml",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("CLUSTER  REPLICAS  WHY"), "{text}");
    assert!(text.contains("member2         5  picked"), "{text}");
}

#[test]
fn an_infeasible_placement_still_exits_zero() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.yaml");
    std::fs::write(
        &policy,
        "apiVersion: policy.karmada.io/v1alpha1\nkind: ClusterPropagationPolicy\nmetadata: {name: nowhere}\n\
         spec:\n  resourceSelectors: [{apiVersion: apps/v1, kind: Deployment}]\n  placement:\n    clusterAffinity: {clusterNames: [member9]}\n",
    )
    .unwrap();
    let out = placement_json(policy.to_str().unwrap());
    assert_eq!(out.status.code(), Some(0));
    let report = json_of(&out);
    assert_eq!(report["feasible"], false);
    assert_eq!(report["clusters"], json!([]));
    assert_eq!(report["excluded"].as_array().unwrap().len(), 6);
}

#[test]
fn unreadable_input_is_reported_with_its_file_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("clusters.yaml");
    std::fs::write(
        &bad,
        "apiVersion: cluster.karmada.io/v1alpha1\nkind: Cluster\nmetadata: {name: a}\n---\n\
         apiVersion: cluster.karmada.io/v1alpha1\nkind: Cluster\nmetadata: {name: b}\nspec: {taints: oops}\n",
    )
    .unwrap();
    let out = placement(&[
        "--policy",
        "examples/placement/policy.yaml",
        "--clusters",
        bad.to_str().unwrap(),
        "--resource",
        "examples/placement/deployment.yaml",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("clusters.yaml:5"), "{stderr}");
}

#[test]
fn explain_shows_the_placement_of_the_winning_policy() {
    let out = Command::new(env!("CARGO_BIN_EXE_karmada-takeover"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "explain",
            "-r",
            "examples/placement/deployment.yaml",
            "-p",
            "examples/placement/policy.yaml",
            "-c",
            "examples/placement/clusters.yaml",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let report = json_of(&out);
    assert_eq!(report["winner"]["name"], "checkout");
    assert_eq!(report["placement"]["feasible"], true);
    assert_eq!(
        report["placement"]["clusters"],
        json!([{"name": "member1", "replicas": 1}, {"name": "member2", "replicas": 5}])
    );
}

#[test]
fn the_fleet_directory_stands_in_for_cluster_objects() {
    let out = placement(&[
        "--fleet",
        "examples/fleet",
        "--policy",
        "examples/placement/policy.yaml",
        "--resource",
        "examples/placement/deployment.yaml",
        "-o",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let report = json_of(&out);
    assert_eq!(
        report["clusters"],
        json!([
            {"name": "member1", "replicas": 1},
            {"name": "member2", "replicas": 4},
            {"name": "member3", "replicas": 1}
        ])
    );
}
