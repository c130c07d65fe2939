//! `karmada-takeover deps` through the real binary: the JSON shapes (one object, several), the
//! table, and the errors (unreadable input, an object Karmada's interpreter fails on).

#![allow(clippy::unwrap_used, clippy::expect_used)] // helpers of tests: a panic is a failing test

use std::process::{Command, Output};

use serde_json::{Value, json};

fn deps(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_karmada-takeover"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("deps")
        .args(args)
        .output()
        .unwrap()
}

fn json_of(out: &Output) -> Value {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// A manifest file with `text`; the directory keeps it alive.
fn manifest(name: &str, text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path.to_str().unwrap().to_owned())
}

fn dep(kind: &str, name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": kind, "namespace": "karmada-test", "name": name})
}

/// Karmada's `Test_getDeploymentDependencies` "deployment with dependencies 1", as a JSON file.
#[test]
fn one_object_prints_exactly_its_sorted_dependencies() {
    let deployment = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "fake-deployment", "namespace": "karmada-test"},
        "spec": {"replicas": 3, "template": {"spec": {"serviceAccountName": "test-serviceaccount", "volumes": [
            {"name": "initcontainer-volume-mount", "configMap": {"name": "test-configmap"}},
            {"name": "cloud-secret-volume", "secret": {"secretName": "cloud-secret"}},
            {"name": "container-volume-mount", "persistentVolumeClaim": {"claimName": "test-pvc"}}]}}}});
    let (_dir, path) = manifest("deployment.json", &deployment.to_string());
    let out = deps(&["--resource", &path, "-o", "json"]);
    assert_eq!(
        json_of(&out),
        json!({"dependencies": [
            dep("ConfigMap", "test-configmap"),
            dep("PersistentVolumeClaim", "test-pvc"),
            dep("Secret", "cloud-secret"),
            dep("ServiceAccount", "test-serviceaccount"),
        ]})
    );
    // One line, keys in Karmada's order.
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.starts_with(
            r#"{"dependencies":[{"apiVersion":"v1","kind":"ConfigMap","namespace":"karmada-test","name":"test-configmap"},"#
        ),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 1);
}

#[test]
fn several_objects_print_an_array_in_input_order() {
    let out = deps(&["-f", "examples/deps/workloads.yaml", "-o", "json"]);
    let report = json_of(&out);
    let objects: Vec<(&str, &str, usize)> = report
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            assert_eq!(o["namespace"], "shop");
            (
                o["kind"].as_str().unwrap(),
                o["name"].as_str().unwrap(),
                o["dependencies"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        objects,
        [
            ("StatefulSet", "orders-db", 7),
            ("Ingress", "storefront", 1),
            ("Service", "storefront", 0)
        ]
    );
    let sts = &report[0]["dependencies"];
    // The claim of a volumeClaimTemplate is left out, the other claim is kept.
    let claims: Vec<&Value> = sts
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["kind"] == "PersistentVolumeClaim")
        .map(|d| &d["name"])
        .collect();
    assert_eq!(claims, [&json!("orders-backup")]);
    assert_eq!(
        report[1]["dependencies"],
        json!([{"apiVersion": "v1", "kind": "Secret", "namespace": "shop", "name": "shop-tls"}])
    );
}

#[test]
fn a_list_of_objects_and_a_kind_without_a_handler() {
    let (_dir, path) = manifest(
        "list.yaml",
        "apiVersion: v1\nkind: List\nitems:\n\
         - {apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {containers: [{name: c, envFrom: [{secretRef: {name: s}}]}]}}\n\
         - {apiVersion: batch/v1beta1, kind: CronJob, metadata: {name: old, namespace: ns}, spec: {jobTemplate: {spec: {template: {spec: {volumes: [{secret: {secretName: x}}]}}}}}}\n",
    );
    let report = json_of(&deps(&["--filename", &path, "-o", "json"]));
    // No namespace on the Pod: Karmada leaves it empty, and JSON leaves it out.
    assert_eq!(
        report,
        json!([
            {"apiVersion": "v1", "kind": "Pod", "name": "p",
             "dependencies": [{"apiVersion": "v1", "kind": "Secret", "name": "s"}]},
            {"apiVersion": "batch/v1beta1", "kind": "CronJob", "namespace": "ns", "name": "old", "dependencies": []},
        ])
    );
    let (_dir, service) = manifest(
        "svc.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: ns}\n",
    );
    assert_eq!(
        json_of(&deps(&["-r", &service, "-o", "json"])),
        json!({"dependencies": []})
    );
}

#[test]
fn the_text_output_is_a_table() {
    let out = deps(&["--resource", "examples/deps/workloads.yaml"]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("OBJECT ") && lines[0].ends_with("  DEPENDENCY"),
        "{text}"
    );
    assert!(
        lines[1].starts_with("StatefulSet shop/orders-db (examples/deps/workloads.yaml:1)")
            && lines[1].ends_with("  ConfigMap shop/orders-ca"),
        "{text}"
    );
    assert!(
        text.contains("none (Karmada's default interpreter has no dependencies handler for v1 Service)"),
        "{text}"
    );
}

#[test]
fn an_object_karmadas_interpreter_fails_on_is_an_error_naming_file_line_and_field() {
    let (_dir, path) = manifest(
        "ingress.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: networking.k8s.io/v1\nkind: Ingress\n\
         metadata: {name: web, namespace: shop}\nspec:\n  tls: [{secretName: a}, {hosts: [x.example]}]\n",
    );
    let out = deps(&["--resource", &path, "-o", "json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ingress.yaml:5: Ingress shop/web: spec.tls[1].secretName is empty"),
        "{stderr}"
    );

    let (_dir, path) = manifest(
        "pod.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {volumes: [{secret: {secretName: 7}}]}\n",
    );
    let out = deps(&["--resource", &path]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("pod.yaml:1: Pod p: Karmada cannot read it as v1 Pod: spec.volumes[0].secret.secretName is a number, not a string"),
        "{stderr}"
    );
}

#[test]
fn unreadable_or_empty_input_is_an_error() {
    let (_dir, path) = manifest(
        "bad.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: [unclosed\n",
    );
    let out = deps(&["--resource", &path]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.yaml:"), "{stderr}");
    assert!(stderr.contains("not valid YAML/JSON"), "{stderr}");

    let (_dir, empty) = manifest("empty.yaml", "# nothing\n");
    let out = deps(&["--resource", &empty]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no object found"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = deps(&["--resource", "does/not/exist.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does/not/exist.yaml: cannot read"));
}
