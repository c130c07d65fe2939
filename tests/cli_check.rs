//! `karmada-takeover check` on the example manifests, through the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers of tests: a panic is a failing test

use std::process::Command;

use serde_json::Value;

fn check(args: &[&str]) -> (Option<i32>, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_karmada-takeover"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "--fleet", "examples/fleet", "-o", "json"])
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
    )
}

fn result<'a>(report: &'a Value, object: &str) -> &'a Value {
    report["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["object"] == object)
        .unwrap_or_else(|| panic!("{object} in {report}"))
}

#[test]
fn the_example_manifests_get_the_documented_decisions() {
    let (code, report) = check(&["-f", "examples/manifests"]);
    assert_eq!(code, Some(1), "a denial makes the exit code non-zero");
    let frontend = result(&report, "Deployment shop/frontend");
    assert_eq!(frontend["allowed"], true);
    assert_eq!(
        frontend["takeover"]["clusters"],
        serde_json::json!(["member1", "member2"])
    );
    assert_eq!(frontend["actions"][0]["action"], "ensurePolicy");
    assert_eq!(
        result(&report, "Deployment shop/cart")["reason"],
        "member-markers"
    );
    assert_eq!(
        result(&report, "ClusterPropagationPolicy migrate-statefulsets")["reason"],
        "guardrail"
    );
    let weak = result(&report, "PropagationPolicy shop/db-app");
    assert!(
        weak["message"]
            .as_str()
            .unwrap()
            .contains("set spec.priority to 1"),
        "{weak}"
    );
    let cpp = result(&report, "ClusterPropagationPolicy db-everywhere");
    assert!(
        cpp["message"].as_str().unwrap().contains("can never win"),
        "{cpp}"
    );
    let catalog = result(&report, "PropagationPolicy shop/catalog-app");
    assert_eq!(catalog["allowed"], true);
    assert_eq!(catalog["actions"][0]["action"], "releasePolicy");
}

#[test]
fn an_allowed_manifest_exits_zero() {
    let (code, report) = check(&["-f", "examples/manifests/takeover-frontend.yaml"]);
    assert_eq!(code, Some(0), "{report}");
}

#[test]
fn fix_mode_patches_the_weak_application_policy() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yaml");
    std::fs::write(&cfg, "guardrails: {mode: fix}\n").unwrap();
    let (code, report) = check(&[
        "-f",
        "examples/manifests/weak-application-policy.yaml",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{report}");
    let r = result(&report, "PropagationPolicy shop/db-app");
    assert_eq!(
        r["patch"],
        serde_json::json!([{"op": "replace", "path": "/spec/priority", "value": 1}])
    );
}

#[test]
fn unreadable_input_is_reported_with_its_file_and_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [x\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_karmada-takeover"))
        .args(["check", "-f"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("bad.yaml:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn deletion_protection_labels_the_adopted_template() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yaml");
    std::fs::write(&cfg, "takeover: {deletionProtection: true}\n").unwrap();
    let (code, report) = check(&[
        "-f",
        "examples/manifests/takeover-frontend.yaml",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{report}");
    let patch = &result(&report, "Deployment shop/frontend")["patch"];
    assert!(
        patch.as_array().unwrap().iter().any(|op| op
            == &serde_json::json!({"op": "add", "path": "/metadata/labels/resourcetemplate.karmada.io~1deletion-protected", "value": "Always"})),
        "{patch}"
    );
}

/// The placement guard's verdict in both outputs: where the kind would go, the problem with the
/// reason per cluster (JSON), and where the text spells it out.
#[test]
fn the_placement_verdict_is_shown_for_an_application_policy() {
    const MANIFEST: &str = "examples/manifests/application-policy-unknown-cluster.yaml";
    let (code, report) = check(&["-f", MANIFEST]);
    assert_eq!(code, Some(0), "warn admits: {report}");
    let r = result(&report, "PropagationPolicy shop/checkout-app");
    let placement = &r["placement"];
    assert_eq!(placement["mode"], "warn");
    assert_eq!(
        placement["checks"],
        serde_json::json!([{"apiVersion": "apps/v1", "kind": "Deployment", "feasible": true, "clusters": ["member1"],
        "excluded": [
            {"name": "member2", "reason": "cluster(s) did not match the placement cluster affinity constraint (not in clusterNames)"},
            {"name": "member3", "reason": "cluster(s) did not match the placement cluster affinity constraint (not in clusterNames)"}
        ]}])
    );
    assert_eq!(
        placement["problems"][0]["clusters"],
        serde_json::json!([{"name": "membr2", "reason": "no member cluster has this name"}])
    );
    assert_eq!(r["warnings"][0], placement["problems"][0]["message"]);

    let out = Command::new(env!("CARGO_BIN_EXE_karmada-takeover"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["check", "--fleet", "examples/fleet", "-f", MANIFEST])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("  placement: apps/v1 Deployment -> member1\n"),
        "{text}"
    );
    assert!(
        text.contains("  placement: 1 problem(s) (placementGuard: warn), each with the reason per cluster in the warnings below\n"),
        "{text}"
    );
    assert!(
        text.contains("  warning: PropagationPolicy shop/checkout-app names cluster membr2"),
        "{text}"
    );
}

#[test]
fn placement_guard_enforce_denies_with_reason_placement_and_exit_code_1() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yaml");
    std::fs::write(&cfg, "placementGuard: enforce\n").unwrap();
    let (code, report) = check(&[
        "-f",
        "examples/manifests/application-policy-unknown-cluster.yaml",
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(1), "{report}");
    let r = result(&report, "PropagationPolicy shop/checkout-app");
    assert_eq!(r["reason"], "placement");
    assert!(
        r["message"].as_str().unwrap().contains("names cluster membr2"),
        "{r}"
    );
    assert_eq!(r["placement"]["mode"], "enforce");
}

#[test]
fn a_takeover_shows_its_placement_verdict() {
    let (_, report) = check(&["-f", "examples/manifests/takeover-frontend.yaml"]);
    let placement = &result(&report, "Deployment shop/frontend")["placement"];
    assert_eq!(
        placement["checks"][0]["clusters"],
        serde_json::json!(["member1", "member2"])
    );
    assert_eq!(placement["problems"], serde_json::json!([]));
}
