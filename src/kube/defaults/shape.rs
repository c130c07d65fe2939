//! What Go's `encoding/json` never writes for the `k8s.io/api` types: a `null` (a nil pointer,
//! map or slice behind `omitempty`) and an empty map or slice behind `omitempty`. A manifest
//! with `labels: {}`, `args: []` or `nodeSelector: null` comes back without them.

use serde_json::Value;

use super::Obj;

/// Map-typed fields (`map[string]string`, `ResourceList`) of the kinds we default: `{}` there is
/// an empty map, dropped by `omitempty`. Elsewhere `{}` is an empty struct behind a pointer
/// (`securityContext: {}`, `emptyDir: {}`) and is written.
const MAP_FIELDS: &[&str] = &[
    "labels",
    "annotations",
    "nodeSelector",
    "matchLabels",
    "limits",
    "requests",
    "overhead",
    "volumeAttributes",
    "options",
];

/// Slice fields without `omitempty` (found by walking the types): `[]` stays.
const KEPT_EMPTY_SLICES: &[&str] = &["containers", "monitors", "nodeSelectorTerms", "rules", "sources"];

/// Drops what Go would not write, everywhere but `status` (left as the object has it) and
/// `managedFields` (raw field sets, where `{}` means something).
pub(super) fn drop_empty(root: &mut Obj) {
    for (key, value) in root.iter_mut() {
        if key != "status" {
            visit(key, value);
        }
    }
    root.retain(|key, value| key == "status" || !is_dropped("", key, value));
}

fn visit(key: &str, value: &mut Value) {
    match value {
        Value::Object(m) if key != "managedFields" => {
            for (k, v) in m.iter_mut() {
                visit(k, v);
            }
            m.retain(|k, v| !is_dropped(key, k, v));
        }
        Value::Array(items) if key != "managedFields" => {
            for item in items.iter_mut() {
                visit("", item);
            }
        }
        _ => {}
    }
}

/// Whether field `key` of an object under `parent` is one Go does not write.
fn is_dropped(parent: &str, key: &str, value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(m) => m.is_empty() && MAP_FIELDS.contains(&key),
        Value::Array(a) => {
            a.is_empty()
                && !KEPT_EMPTY_SLICES.contains(&key)
                // `onExitCodes.values` has no `omitempty`.
                && !(key == "values" && parent == "onExitCodes")
        }
        _ => false,
    }
}
