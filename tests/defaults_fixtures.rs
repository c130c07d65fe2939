//! Hand-written manifests (`tests/fixtures/defaults/<case>.input.yaml`) against what the API
//! server returns for them (`<case>.expected.yaml`, without `status`, server-set metadata and
//! registry allocations: see that directory's README). `apply_defaults` must turn each input
//! into its expected object, and must leave each expected object as it is.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{fs, path::Path};

use karmada_takeover::{kube::defaults::apply_defaults, yaml};
use pretty_assertions::assert_eq;
use serde_json::Value;

fn read(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    yaml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn type_of(obj: &Value) -> (String, String) {
    let field = |f: &str| obj[f].as_str().unwrap_or_default().to_owned();
    (field("apiVersion"), field("kind"))
}

/// `(case, input, expected)` for every fixture.
fn cases() -> Vec<(String, Value, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/defaults");
    let mut names: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".input.yaml").map(str::to_owned)
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let input = read(&dir.join(format!("{name}.input.yaml")));
            let expected = read(&dir.join(format!("{name}.expected.yaml")));
            (name, input, expected)
        })
        .collect()
}

#[test]
fn every_kind_has_a_fixture() {
    let kinds: Vec<(String, String)> = cases().iter().map(|(_, input, _)| type_of(input)).collect();
    for (api_version, kind) in [
        ("apps/v1", "Deployment"),
        ("apps/v1", "StatefulSet"),
        ("apps/v1", "DaemonSet"),
        ("apps/v1", "ReplicaSet"),
        ("batch/v1", "Job"),
        ("batch/v1", "CronJob"),
        ("v1", "Pod"),
        ("v1", "Service"),
    ] {
        assert!(
            kinds.contains(&(api_version.to_owned(), kind.to_owned())),
            "no fixture for {api_version} {kind}"
        );
    }
}

#[test]
fn a_hand_written_manifest_defaults_to_what_the_api_server_returns() {
    for (name, mut input, expected) in cases() {
        let (api_version, kind) = type_of(&input);
        apply_defaults(&api_version, &kind, &mut input);
        assert_eq!(input, expected, "fixture {name}");
    }
}

#[test]
fn an_object_as_the_api_server_returns_it_is_left_unchanged() {
    for (name, expected, _) in cases().into_iter().map(|(n, _, e)| (n, e.clone(), e)) {
        let (api_version, kind) = type_of(&expected);
        let mut again = expected.clone();
        apply_defaults(&api_version, &kind, &mut again);
        assert_eq!(again, expected, "fixture {name}");
    }
}
