//! Every YAML file of the repository that the crate or its tests read (examples, fixtures, the
//! chart's values) reads as it did with serde_yaml 0.9.34, the YAML parser used before
//! serde-saphyr: same documents, same values, down to the spelling of every string.
//!
//! `EXPECTED` holds, for each file, a digest (64-bit FNV-1a) of its bytes as serde_yaml read them,
//! the number of documents (`---`) and a digest of what serde_yaml read from them, written as
//! canonical JSON (keys sorted). It was computed once with serde_yaml, which is no longer a
//! dependency. A file added or edited since is only checked to parse (the record is of other
//! bytes): check what it reads as by hand.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a panic is a failing test

use std::path::{Path, PathBuf};

use karmada_takeover::{fleet::files, yaml};
use serde_json::Value;

const EXPECTED: &[(&str, u64, usize, u64)] = &[
    (
        "charts/karmada-takeover/Chart.yaml",
        0xea2d4019560cf086,
        1,
        0x83ef03cae6415a42,
    ),
    (
        "charts/karmada-takeover/values.yaml",
        0x4035e184593d55c,
        1,
        0x791fdd37101a5965,
    ),
    (
        "examples/fleet/clusters.yaml",
        0xd7a882a4fb76843d,
        1,
        0x8bd6b4508f21045b,
    ),
    (
        "examples/fleet/karmada/namespaces.yaml",
        0xc98e355414e21a4e,
        3,
        0xb25624d5e181962b,
    ),
    (
        "examples/fleet/karmada/policies.yaml",
        0x8564f2ddc5e518b6,
        5,
        0x10bc143edf04d57f,
    ),
    (
        "examples/fleet/karmada/templates.yaml",
        0x26169d06a0d2fa76,
        3,
        0x13b1e92133ec0add,
    ),
    (
        "examples/fleet/members/member1/workloads.yaml",
        0x1e4f97085cdc85e9,
        6,
        0xa638478714c8695f,
    ),
    (
        "examples/fleet/members/member2/workloads.yaml",
        0x3735ae7b923c80a1,
        4,
        0x0ecafee560ffce80,
    ),
    (
        "examples/fleet/members/member3/workloads.yaml",
        0xecee67a48c60c971,
        4,
        0xb293aaf007d1ccba,
    ),
    (
        "examples/manifests/application-policy-for-catalog.yaml",
        0xfcf6139d3b997db8,
        1,
        0x29d250f35aeabca5,
    ),
    (
        "examples/manifests/batch-policy-too-high.yaml",
        0xc486d955c1b92f49,
        1,
        0xd435efd54b80fbdc,
    ),
    (
        "examples/manifests/cluster-policy-cannot-win.yaml",
        0xc96f127748a5941c,
        1,
        0x8f2468f2aec26903,
    ),
    (
        "examples/manifests/repromote-cart.yaml",
        0x1b196117c354f82c,
        1,
        0x31b2c1e14b74792b,
    ),
    (
        "examples/manifests/takeover-frontend.yaml",
        0x9270aa9ce2e690ef,
        1,
        0x97927caa4b3d23d3,
    ),
    (
        "examples/manifests/weak-application-policy.yaml",
        0x4bce975100b9f2c6,
        1,
        0xd49579cc471bf5e9,
    ),
    (
        "tests/chart/values/cert-custom-secret.yaml",
        0x25c4251a27d5eeec,
        1,
        0x4dd6b20e8121a896,
    ),
    (
        "tests/chart/values/cert-manager-issuer.yaml",
        0x5fccf9cb4164920e,
        1,
        0x2ef5bd06964ef32c,
    ),
    (
        "tests/chart/values/cert-manager.yaml",
        0xfdcf1a42228f07e0,
        1,
        0x7666e77ecae6f034,
    ),
    (
        "tests/chart/values/cpp-takeover.yaml",
        0x707e569c4e018f81,
        1,
        0x8072861818a94825,
    ),
    (
        "tests/chart/values/custom-kinds.yaml",
        0xcf2a573efe0cda7,
        1,
        0x62e79f60f531df25,
    ),
    (
        "tests/chart/values/guardrails-fix.yaml",
        0xfe887bd94aed6e8e,
        1,
        0x854834e2c95e6f86,
    ),
    (
        "tests/chart/values/invalid-karmada-name.yaml",
        0xbab0f17c5a00c8d4,
        1,
        0x52a6b38a70dedf9a,
    ),
    (
        "tests/chart/values/invalid-schema.yaml",
        0xc13bd8925faeecf2,
        1,
        0xa0e7b2b4710c3cfc,
    ),
    (
        "tests/chart/values/invalid-tiers.yaml",
        0xa1483f10bc12e9a0,
        1,
        0xc3d79e5413058938,
    ),
    (
        "tests/chart/values/monitoring-netpol.yaml",
        0x54b0c565976bd5a2,
        1,
        0x72d3816b7e97b638,
    ),
    (
        "tests/fixtures/karmada-cases/compare_test.yaml",
        0xdd2ded67121cb2cb,
        1,
        0x5bca3b67de0a8654,
    ),
    (
        "tests/fixtures/karmada-cases/detector_test.yaml",
        0x33aa95909377e9bc,
        1,
        0x33a136964276dc4e,
    ),
    (
        "tests/fixtures/karmada-cases/e2e_clusterpropagationpolicy.yaml",
        0xd18addc698ad76bb,
        1,
        0x8cfe0737ca78c9fd,
    ),
    (
        "tests/fixtures/karmada-cases/e2e_preemption.yaml",
        0xfff7ff4b9cbafae6,
        1,
        0x4e96a37e16f386c9,
    ),
    (
        "tests/fixtures/karmada-cases/e2e_propagationpolicy.yaml",
        0xde1ed200d2f1cfbb,
        1,
        0xc43f38e725ab97db,
    ),
    (
        "tests/fixtures/karmada-cases/extra_edge_cases.yaml",
        0x839130a7b02b4c9f,
        1,
        0x6e8510dafd4428de,
    ),
    (
        "tests/fixtures/karmada-cases/preemption_test.yaml",
        0x91b4900056f800d8,
        1,
        0x80ee74faefda6543,
    ),
    (
        "tests/fixtures/karmada-cases/selector_test.yaml",
        0x9a369648a21ffd4,
        1,
        0xeb44a35d1a96e455,
    ),
    (
        "tests/fixtures/karmada-objects/cluster.yaml",
        0x463580d6ca8d6bd1,
        1,
        0x98a210656d51b679,
    ),
    (
        "tests/fixtures/karmada-objects/clusterpropagationpolicy.yaml",
        0xc3d67d15d5977284,
        1,
        0x964515bc2c818d7e,
    ),
    (
        "tests/fixtures/karmada-objects/propagationpolicy-full.yaml",
        0xff44d24f7f49aede,
        1,
        0xa52d210ad6135f20,
    ),
    (
        "tests/fixtures/karmada-objects/resourcebinding.yaml",
        0x20e7f05d3ee0e3e0,
        1,
        0x4f1f05979b752b0a,
    ),
];

/// The directories (recursively) and files whose YAML is compared.
const ROOTS: &[&str] = &[
    "examples",
    "tests/fixtures",
    "tests/chart/values",
    "charts/karmada-takeover/Chart.yaml",
    "charts/karmada-takeover/values.yaml",
];

fn yaml_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        out.push(path.to_owned());
        return;
    }
    for entry in std::fs::read_dir(path).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

/// JSON with object keys sorted, so that the digest does not depend on map order.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(key).unwrap());
                out.push(':');
                canonical(&map[key], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Documents as the fleet reader splits them, each read as `Value`; one canonical line each.
fn read(path: &Path) -> (usize, String) {
    let text = std::fs::read_to_string(path).unwrap();
    let documents = files::documents(&text);
    let mut out = String::new();
    for (line, body) in &documents {
        let value: Value =
            yaml::from_str_at(body, *line).unwrap_or_else(|e| panic!("{}:{line}: {e}", path.display()));
        canonical(&value, &mut out);
        out.push('\n');
    }
    (documents.len(), out)
}

#[test]
fn every_yaml_file_reads_as_serde_yaml_read_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for r in ROOTS {
        yaml_files(&root.join(r), &mut found);
    }
    found.sort();
    let mut differ = Vec::new();
    for path in &found {
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let (documents, canonical) = read(path);
        let got = (documents, fnv1a(&canonical));
        let source = fnv1a(&std::fs::read_to_string(path).unwrap());
        match EXPECTED.iter().find(|(p, ..)| *p == rel) {
            Some(&(_, recorded_source, ..)) if recorded_source != source => {} // edited since: it parses
            Some(&(_, _, docs, digest)) if (docs, digest) == got => {}
            Some(&(_, _, docs, digest)) => differ.push(format!(
                "{rel}: {} documents, digest {:#018x}; serde_yaml read {docs} documents, digest {digest:#018x}",
                got.0, got.1
            )),
            None => {} // added since: it parses, which is all that can be checked
        }
    }
    assert!(differ.is_empty(), "read differently:\n{}", differ.join("\n"));
    for (p, ..) in EXPECTED {
        assert!(root.join(p).is_file(), "{p} is listed in EXPECTED but is gone");
    }
    assert!(found.len() >= EXPECTED.len());
}
