//! Karmada's own selection and preemption cases (tests/fixtures/karmada-cases, restated from
//! Karmada's tests and code at f8fdd02df), run through the real `karmada-takeover explain` binary.

#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers of tests: a panic is a failing test

use std::{fs, path::Path, process::Command};

use karmada_takeover::yaml;
use serde_json::Value;

fn cases() -> Vec<(String, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/karmada-cases");
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let doc: Value = yaml::from_str(&fs::read_to_string(&file).unwrap()).unwrap();
        let stem = file.file_stem().unwrap().to_string_lossy().into_owned();
        for case in doc["cases"].as_array().expect("cases list") {
            out.push((
                format!("{stem}::{}", case["name"].as_str().unwrap()),
                case.clone(),
            ));
        }
    }
    out
}

#[test]
fn explain_agrees_with_karmada_on_every_reference_case() {
    let cases = cases();
    assert!(
        cases.len() >= 200,
        "expected the full reference set, found {}",
        cases.len()
    );
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for (name, case) in &cases {
        let dir = tmp.path().join(name.replace("::", "__"));
        fs::create_dir_all(dir.join("policies")).unwrap();
        fs::write(
            dir.join("resource.json"),
            serde_json::to_vec(&case["resource"]).unwrap(),
        )
        .unwrap();
        // One file per policy, plus a multi-document file, so both reading paths are exercised.
        let policies = case["policies"].as_array().cloned().unwrap_or_default();
        for (i, p) in policies.iter().enumerate() {
            let text = if i % 2 == 0 {
                yaml::to_string(p).unwrap()
            } else {
                serde_json::to_string(p).unwrap()
            };
            fs::write(
                dir.join("policies")
                    .join(format!("p{i}.{}", if i % 2 == 0 { "yaml" } else { "json" })),
                text,
            )
            .unwrap();
        }
        let gate = if case["preemptionGate"].as_bool().unwrap_or(false) {
            "on"
        } else {
            "off"
        };
        let out = Command::new(env!("CARGO_BIN_EXE_karmada-takeover"))
            .args(["explain", "--resource"])
            .arg(dir.join("resource.json"))
            .arg("--policies")
            .arg(dir.join("policies"))
            .args(["--preemption-gate", gate, "-o", "json"])
            .output()
            .unwrap();
        if !out.status.success() {
            failures.push(format!(
                "{name}: exit {:?}: {}",
                out.status.code(),
                String::from_utf8_lossy(&out.stderr)
            ));
            continue;
        }
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        let want = &case["expect"]["winner"];
        let got = &report["winner"];
        let same = match (want.is_null(), got.is_null()) {
            (true, true) => true,
            (false, false) => {
                want["kind"] == got["kind"]
                    && want["name"] == got["name"]
                    && want["namespace"].as_str().unwrap_or_default()
                        == got["namespace"].as_str().unwrap_or_default()
            }
            _ => false,
        };
        if !same {
            failures.push(format!(
                "{name}: want winner {want}, explain said {got} ({})",
                case["from"]
            ));
            continue;
        }
        if let Some(implicit) = case["expect"]["implicitPriority"].as_u64() {
            let w = report["candidates"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| c["name"] == got["name"] && c["kind"] == got["kind"])
                .unwrap();
            let label = w["implicitPriority"].as_str().unwrap();
            let value = match label {
                "name" => 3,
                "label-selector" => 2,
                "match-all" => 1,
                _ => 0,
            };
            if value != implicit {
                failures.push(format!(
                    "{name}: want implicit priority {implicit}, explain said {label}"
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases disagree:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn explain_exits_non_zero_naming_the_unreadable_file() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("r.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: d}\n",
    )
    .unwrap();
    fs::create_dir(tmp.path().join("p")).unwrap();
    fs::write(tmp.path().join("p/bad.yaml"), "apiVersion: policy.karmada.io/v1alpha1\nkind: PropagationPolicy\nmetadata: {name: x, namespace: d}\nspec:\n  resourceSelectors: [{kind: Deployment}]\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_karmada-takeover"))
        .args(["explain", "-r"])
        .arg(tmp.path().join("r.yaml"))
        .arg("-p")
        .arg(tmp.path().join("p"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yaml:1") && err.contains("apiVersion"), "{err}");
}

#[test]
fn explain_with_no_matching_policy_succeeds_with_a_null_winner() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(
        tmp.path().join("r.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a, namespace: d}\n",
    )
    .unwrap();
    fs::write(tmp.path().join("p.yaml"), "apiVersion: policy.karmada.io/v1alpha1\nkind: PropagationPolicy\nmetadata: {name: x, namespace: d}\nspec:\n  resourceSelectors: [{apiVersion: v1, kind: Service}]\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_karmada-takeover"))
        .args(["explain", "-o", "json", "-r"])
        .arg(tmp.path().join("r.yaml"))
        .arg("-p")
        .arg(tmp.path().join("p.yaml"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(report["winner"].is_null());
    assert!(report["candidates"].as_array().unwrap().is_empty());
}
