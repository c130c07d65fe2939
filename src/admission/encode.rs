//! Writing the response AdmissionReview straight from the engine's [`Decision`].
//!
//! Why not kube-core's `AdmissionResponse::into_review` and `serde_json::to_vec`: kube-core
//! serialises `patch: Vec<u8>` as an array of numbers (kube-rs/kube#1781), while the API
//! documents `[]byte` as base64 in JSON (what Go clients and karmada-webhook send). Fixing that
//! afterwards meant serialising the whole review into a `serde_json::Value`, replacing the patch
//! and serialising the tree again, on top of copying the patch and the warnings into the response
//! first. Here a borrowing struct with the same field names is serialised once, the patch
//! written as base64 from its JSON. Only fields this webhook sets are written: kube-core skips
//! the others when empty too (`auditAnnotations`, an unset `status` member), so the JSON is the
//! same object (a test compares it with kube-core's rendering for every kind of decision).

use base64::{display::Base64Display, engine::general_purpose::STANDARD};
use kube::core::{Status, TypeMeta};
use serde::{Serialize, Serializer};

use crate::rules::{Decision, Verdict};

/// Serialises the response `AdmissionReview` for the request `uid` in a review of type `types`.
pub fn review(types: &TypeMeta, uid: &str, decision: &Decision) -> Result<Vec<u8>, serde_json::Error> {
    let patch = match (&decision.verdict, decision.patch.is_empty()) {
        (Verdict::Allow, false) => Some(serde_json::to_vec(&decision.patch)?),
        _ => None,
    };
    let status = match &decision.verdict {
        Verdict::Deny { message, .. } => Status {
            code: 403,
            message: message.clone(),
            reason: "Forbidden".to_owned(),
            ..Status::default()
        },
        Verdict::Allow => Status::default(),
    };
    let review = Review {
        api_version: &types.api_version,
        kind: &types.kind,
        response: Response {
            uid,
            allowed: matches!(decision.verdict, Verdict::Allow),
            status,
            patch: patch.as_deref().map(Base64),
            patch_type: patch.as_ref().map(|_| "JSONPatch"),
            warnings: &decision.warnings,
        },
    };
    // The response is small next to the request: base64 patch, warnings and ~150 bytes of keys.
    let guess = 192
        + patch.as_ref().map_or(0, |p| p.len() / 3 * 4 + 4)
        + decision.warnings.iter().map(|w| w.len() + 3).sum::<usize>();
    let mut body = Vec::with_capacity(guess);
    serde_json::to_writer(&mut body, &review)?;
    Ok(body)
}

/// `admission.k8s.io/v1` `AdmissionReview` with only `response` set.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Review<'a> {
    api_version: &'a str,
    kind: &'a str,
    response: Response<'a>,
}

/// The fields of kube-core's `AdmissionResponse` this webhook sets, under the same names.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Response<'a> {
    uid: &'a str,
    allowed: bool,
    status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch: Option<Base64<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch_type: Option<&'static str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    warnings: &'a [String],
}

/// Bytes serialised as a standard base64 string, as Go's `encoding/json` writes `[]byte`.
struct Base64<'a>(&'a [u8]);

impl Serialize for Base64<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&Base64Display::new(self.0, &STANDARD))
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use kube::core::admission::AdmissionResponse;
    use serde_json::{Value, json};

    use super::*;
    use crate::rules::DenyReason;

    /// What the renderer wrote before: kube-core's response, its patch re-encoded as base64
    /// through a `Value`.
    fn kube_core(types: &TypeMeta, uid: &str, decision: &Decision) -> Value {
        let request: kube::core::admission::AdmissionRequest<kube::core::DynamicObject> =
            serde_json::from_value(json!({"uid": uid,
                "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
                "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
                "operation": "CREATE", "userInfo": {}}))
            .unwrap();
        let mut response = AdmissionResponse::from(&request);
        response.types = types.clone();
        match &decision.verdict {
            Verdict::Deny { message, .. } => {
                response = response.deny(message);
                response.result.code = 403;
                response.result.reason = "Forbidden".into();
            }
            Verdict::Allow if !decision.patch.is_empty() => {
                response = response
                    .with_patch(json_patch::Patch(decision.patch.clone()))
                    .unwrap();
            }
            Verdict::Allow => {}
        }
        if !decision.warnings.is_empty() {
            response.warnings = Some(decision.warnings.clone());
        }
        let patch = response.patch.clone();
        let mut review = serde_json::to_value(response.into_review()).unwrap();
        if let Some(patch) = patch {
            review["response"]["patch"] = Value::String(STANDARD.encode(patch));
        }
        review
    }

    fn patch() -> Vec<json_patch::PatchOperation> {
        serde_json::from_value(json!([
            {"op": "add", "path": "/metadata/annotations", "value": {}},
            {"op": "add", "path": "/metadata/annotations/karmada-takeover.io~1clusters", "value": "m1,m2 \"ü\"\n"},
            {"op": "test", "path": "/metadata/labels/a", "value": "b"},
            {"op": "remove", "path": "/metadata/labels/a"}
        ]))
        .unwrap()
    }

    #[test]
    fn every_kind_of_decision_renders_as_kube_core_does() {
        let types = TypeMeta {
            api_version: "admission.k8s.io/v1".to_owned(),
            kind: "AdmissionReview".to_owned(),
        };
        let deny = |message: &str| {
            let mut d = Decision::allow();
            d.verdict = Verdict::Deny {
                reason: DenyReason::Placement,
                message: message.to_owned(),
            };
            d
        };
        let mut patched = Decision::allow();
        patched.patch = patch();
        let mut patched_and_warned = patched.clone().warn("w1").warn("a \"quoted\" ü warning\n");
        patched_and_warned.patch.truncate(3);
        let mut denied_with_patch = deny("nope");
        denied_with_patch.patch = patch();
        let cases = [
            ("allowed", Decision::allow()),
            ("allowed with warnings", Decision::allow().warn("only a warning")),
            ("patched", patched),
            ("patched with warnings", patched_and_warned),
            ("denied", deny("denied: \"x\" is not\tallowed ü")),
            ("denied with warnings", deny("d").warn("w")),
            ("denied, patch ignored", denied_with_patch),
        ];
        for (name, decision) in cases {
            for uid in ["u-1", ""] {
                let body = review(&types, uid, &decision).unwrap();
                let got: Value = serde_json::from_slice(&body).unwrap();
                assert_eq!(got, kube_core(&types, uid, &decision), "{name}");
            }
        }
    }

    #[test]
    fn the_patch_is_base64_of_its_json() {
        let mut decision = Decision::allow();
        decision.patch = patch();
        let types = TypeMeta::default();
        let got: Value = serde_json::from_slice(&review(&types, "u", &decision).unwrap()).unwrap();
        let bytes = STANDARD
            .decode(got["response"]["patch"].as_str().unwrap())
            .unwrap();
        assert_eq!(bytes, serde_json::to_vec(&decision.patch).unwrap());
        assert_eq!(got["response"]["patchType"], "JSONPatch");
    }
}
