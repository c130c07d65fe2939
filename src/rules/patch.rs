//! JSON patch builders. Patches are computed against the original object, so fields the engine
//! does not model are never touched.

use json_patch::{
    AddOperation, PatchOperation, RemoveOperation, ReplaceOperation, TestOperation, jsonptr::PointerBuf,
};
use serde_json::Value;

/// Operations that set `metadata.annotations[key] = value` for each pair, creating the map when
/// the object has none. `existing` tells whether `metadata.annotations` exists.
pub fn set_annotations(existing: bool, pairs: &[(&str, String)]) -> Vec<PatchOperation> {
    set_metadata_map("annotations", existing, pairs)
}

/// Operations that set `metadata.labels[key] = value` for each pair, creating the map when the
/// object has none. `existing` tells whether `metadata.labels` exists.
pub fn set_labels(existing: bool, pairs: &[(&str, String)]) -> Vec<PatchOperation> {
    set_metadata_map("labels", existing, pairs)
}

fn set_metadata_map(map: &str, existing: bool, pairs: &[(&str, String)]) -> Vec<PatchOperation> {
    let mut ops = Vec::with_capacity(pairs.len() + 1);
    if !existing {
        ops.push(PatchOperation::Add(AddOperation {
            path: PointerBuf::from_tokens(["metadata", map]),
            value: Value::Object(Default::default()),
        }));
    }
    for (key, value) in pairs {
        ops.push(PatchOperation::Add(AddOperation {
            path: PointerBuf::from_tokens(["metadata", map, key]),
            value: Value::String(value.clone()),
        }));
    }
    ops
}

/// Operations that remove `metadata.annotations[key]` only while it is `value` and every
/// `(key, value)` of `unchanged` still holds: `test` operations first, so that the API server
/// rejects the whole patch (422) when someone changed any of them since the caller looked.
pub fn remove_annotation_if(key: &str, value: &str, unchanged: &[(&str, &str)]) -> Vec<PatchOperation> {
    let path = |k: &str| PointerBuf::from_tokens(["metadata", "annotations", k]);
    let mut ops: Vec<PatchOperation> = std::iter::once((key, value))
        .chain(unchanged.iter().copied())
        .map(|(k, v)| {
            PatchOperation::Test(TestOperation {
                path: path(k),
                value: Value::String(v.to_owned()),
            })
        })
        .collect();
    ops.push(PatchOperation::Remove(RemoveOperation { path: path(key) }));
    ops
}

/// Sets a top-level `spec` field (add when absent, replace when present).
pub fn set_spec_field(present: bool, field: &str, value: Value) -> PatchOperation {
    let path = PointerBuf::from_tokens(["spec", field]);
    if present {
        PatchOperation::Replace(ReplaceOperation { path, value })
    } else {
        PatchOperation::Add(AddOperation { path, value })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn annotation_keys_with_slashes_are_escaped_and_apply_cleanly() {
        let mut doc = json!({"metadata": {"name": "x"}});
        let ops = set_annotations(false, &[("karmada-takeover.io/clusters", "m1,m2".into())]);
        json_patch::patch(&mut doc, &ops).unwrap();
        assert_eq!(
            doc["metadata"]["annotations"]["karmada-takeover.io/clusters"],
            "m1,m2"
        );
        let text = serde_json::to_string(&ops).unwrap();
        assert!(text.contains("karmada-takeover.io~1clusters"), "{text}");
    }

    #[test]
    fn labels_are_set_like_annotations() {
        let mut doc = json!({"metadata": {"name": "x"}});
        let ops = set_labels(
            false,
            &[("resourcetemplate.karmada.io/deletion-protected", "Always".into())],
        );
        json_patch::patch(&mut doc, &ops).unwrap();
        assert_eq!(
            doc["metadata"]["labels"],
            json!({"resourcetemplate.karmada.io/deletion-protected": "Always"})
        );
    }

    #[test]
    fn existing_annotations_are_kept() {
        let mut doc = json!({"metadata": {"annotations": {"keep": "me"}}});
        json_patch::patch(&mut doc, &set_annotations(true, &[("a", "b".into())])).unwrap();
        assert_eq!(doc["metadata"]["annotations"], json!({"keep": "me", "a": "b"}));
    }

    #[test]
    fn an_annotation_is_removed_only_while_it_and_the_guards_hold() {
        let ops = remove_annotation_if(
            "work.karmada.io/conflict-resolution",
            "overwrite",
            &[("owner", "app")],
        );
        let text = serde_json::to_string(&ops).unwrap();
        assert!(text.contains("work.karmada.io~1conflict-resolution"), "{text}");
        let mut doc = json!({"metadata": {"annotations": {
            "work.karmada.io/conflict-resolution": "overwrite", "owner": "app", "keep": "me"}}});
        json_patch::patch(&mut doc, &ops).unwrap();
        assert_eq!(
            doc["metadata"]["annotations"],
            json!({"owner": "app", "keep": "me"})
        );
        for changed in [
            json!({"work.karmada.io/conflict-resolution": "abort", "owner": "app"}),
            json!({"work.karmada.io/conflict-resolution": "overwrite", "owner": "other"}),
            json!({"owner": "app"}),
        ] {
            let mut doc = json!({"metadata": {"annotations": changed.clone()}});
            assert!(json_patch::patch(&mut doc, &ops).is_err(), "{changed}");
            assert_eq!(
                doc["metadata"]["annotations"], changed,
                "a failed patch changes nothing"
            );
        }
    }

    #[test]
    fn spec_fields_add_or_replace() {
        let mut doc = json!({"spec": {"priority": 0}});
        json_patch::patch(
            &mut doc,
            &[
                set_spec_field(true, "priority", json!(3)),
                set_spec_field(false, "preemption", json!("Always")),
            ],
        )
        .unwrap();
        assert_eq!(doc["spec"], json!({"priority": 3, "preemption": "Always"}));
    }
}
