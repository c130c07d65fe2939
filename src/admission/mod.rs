//! AdmissionReview in, AdmissionReview out: decode with kube-core's admission types, call the
//! engine, render its [`Decision`] as an `AdmissionResponse`.
//!
//! Three kinds of failure are kept apart:
//! - *policy violations* are data: `allowed: false` with a user-facing message, HTTP 200;
//! - *bad reviews* (unreadable JSON, not an `admission.k8s.io/v1` `AdmissionReview`, no
//!   `request`) are [`BadReview`]: the server answers HTTP 400
//!   with the message, since there is no uid to answer with;
//! - *an unsynced fleet* is answered fail-safe inside a 200 review: allowed, no takeover, a warning.

use kube::core::{Resource, admission::AdmissionRequest};
use serde::Serialize;

use crate::{
    config::Config,
    fleet::Fleet,
    rules::{self, Action, Decision, Review, Verdict, Webhook, guardrails::PolicyReview},
};

pub mod decode;
pub mod encode;

use decode::ReviewedObject;

/// A request body that is not a usable AdmissionReview.
#[derive(Debug, thiserror::Error)]
pub enum BadReview {
    /// Not JSON, or JSON that does not have the AdmissionReview shape. The values the parser
    /// quotes are bounded ([`rules::echo`]).
    #[error(
        "request body is not a valid admission.k8s.io/v1 AdmissionReview: {}",
        rules::echo::quoted_values(&.0.to_string())
    )]
    Json(#[from] serde_json::Error),
    /// A review whose `apiVersion`/`kind` is not `admission.k8s.io/v1` `AdmissionReview` (the only
    /// version served; `admissionReviewVersions: ["v1"]`). Values shown bounded.
    #[error(
        "request body has apiVersion {:?} and kind {:?}: only admission.k8s.io/v1 AdmissionReview is served (list \"v1\" in the webhook's admissionReviewVersions)",
        rules::echo::value(api_version),
        rules::echo::value(kind)
    )]
    NotAdmissionReviewV1 {
        /// The review's `apiVersion`.
        api_version: String,
        /// The review's `kind`.
        kind: String,
    },
    /// A body that is not UTF-8 (JSON text is UTF-8, RFC 8259 section 8.1).
    #[error("request body is not a valid admission.k8s.io/v1 AdmissionReview: not UTF-8: {0}")]
    Utf8(std::str::Utf8Error),
    /// An AdmissionReview without `request`.
    #[error(
        "AdmissionReview has no request: send an admission.k8s.io/v1 AdmissionReview with a request field"
    )]
    NoRequest,
    /// The response could not be serialised (a bug; reported rather than panicking).
    #[error("could not encode the admission response: {0}")]
    Encode(String),
}

/// How a review ended, for metrics and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Admitted unchanged.
    Allowed,
    /// Admitted with a JSON patch.
    Patched,
    /// Rejected.
    Denied,
}

impl Outcome {
    /// Metric label.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Allowed => "allowed",
            Outcome::Patched => "patched",
            Outcome::Denied => "denied",
        }
    }
}

/// What happened in one review, for the caller to log, count and act on.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The request uid (copied into the response).
    pub uid: String,
    /// The object's kind (`Deployment`, `PropagationPolicy`...).
    pub kind: String,
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    /// The object name.
    pub name: String,
    /// CREATE, UPDATE, DELETE, CONNECT.
    pub operation: &'static str,
    /// Dry-run requests never cause a write.
    pub dry_run: bool,
    /// Allowed, patched or denied.
    pub outcome: Outcome,
    /// Set when denied.
    pub deny_reason: Option<rules::DenyReason>,
    /// How many warnings went back to the client.
    pub warnings: usize,
    /// The restart guard's outcome per source cluster, when it compared anything.
    pub restart: Vec<rules::restart::Outcome>,
    /// Writes to carry out; empty on dryRun.
    pub actions: Vec<Action>,
}

/// A rendered response plus its summary.
#[derive(Debug, Clone)]
pub struct Reviewed {
    /// The serialised `AdmissionReview` with `response` set.
    pub body: Vec<u8>,
    /// What happened.
    pub summary: Summary,
    /// The engine's decision, for callers that show it (demo, tests).
    pub decision: Decision,
}

/// Decodes `body`, decides it for `webhook`, and renders the response.
///
/// Policy webhooks decode the object's `spec` straight into the typed spec
/// ([`decode::policy_request`]); workload webhooks need the whole object, its body as sonic-rs's
/// tree ([`decode::workload_request`]).
pub fn review(webhook: Webhook, body: &[u8], fleet: &Fleet, config: &Config) -> Result<Reviewed, BadReview> {
    match webhook {
        Webhook::MutatePolicy | Webhook::ValidatePolicy => {
            let request = decode::policy_request(body)?;
            let decision = decide_policy_request(webhook, &request, fleet, config);
            render(&request, decision)
        }
        Webhook::MutateWorkload | Webhook::ValidateWorkload => {
            let request = decode::workload_request(body)?;
            let decision = decide_request(webhook, &request, fleet, config);
            render(&request, decision)
        }
    }
}

/// What every webhook answers while the fleet state is not loaded: admitted unchanged, no
/// takeover, a warning (fail-safe: the API server keeps working).
fn unsynced() -> Decision {
    Decision::allow().warn(
        "karmada-takeover has not synced the fleet state yet: admitted unchanged, no takeover was \
         decided; re-apply the object once the webhook is ready",
    )
}

/// `group/version`, or `version` for the core group.
fn api_version<T: Resource>(request: &AdmissionRequest<T>) -> String {
    if request.kind.group.is_empty() {
        request.kind.version.clone()
    } else {
        format!("{}/{}", request.kind.group, request.kind.version)
    }
}

/// Runs the engine on a decoded request (the fail-safe path for an unsynced fleet included).
pub fn decide_request<T: Resource + ReviewedObject>(
    webhook: Webhook,
    request: &AdmissionRequest<T>,
    fleet: &Fleet,
    config: &Config,
) -> Decision {
    if !fleet.is_synced() {
        return unsynced();
    }
    let input = Review {
        operation: request.operation.clone(),
        api_version: api_version(request),
        kind: &request.kind.kind,
        namespace: request.namespace.as_deref().unwrap_or_default(),
        name: &request.name,
        object: request.object.as_ref().map(ReviewedObject::admitted),
        old_object: request.old_object.as_ref().map(ReviewedObject::admitted),
        dry_run: request.dry_run,
    };
    rules::decide(webhook, &input, fleet, config)
}

/// Runs the guardrails on a decoded policy request (the fail-safe path included).
pub fn decide_policy_request(
    webhook: Webhook,
    request: &AdmissionRequest<decode::PolicyObject>,
    fleet: &Fleet,
    config: &Config,
) -> Decision {
    if !fleet.is_synced() {
        return unsynced();
    }
    let api_version = api_version(request);
    let input = PolicyReview {
        operation: &request.operation,
        api_version: &api_version,
        kind: &request.kind.kind,
        namespace: request.namespace.as_deref().unwrap_or_default(),
        name: &request.name,
        metadata: request.object.as_ref().map(|o| &o.metadata),
        spec: request.object.as_ref().and_then(decode::PolicyObject::spec),
    };
    rules::guardrails::decide(webhook, &input, fleet, config)
}

/// Renders a decision as the `AdmissionReview` response for `request` ([`encode::review`]).
pub fn render<T: Resource>(request: &AdmissionRequest<T>, decision: Decision) -> Result<Reviewed, BadReview> {
    let (outcome, deny_reason) = match &decision.verdict {
        Verdict::Deny { reason, .. } => (Outcome::Denied, Some(*reason)),
        Verdict::Allow if !decision.patch.is_empty() => (Outcome::Patched, None),
        Verdict::Allow => (Outcome::Allowed, None),
    };
    let body = encode::review(&request.types, &request.uid, &decision)
        .map_err(|e| BadReview::Encode(e.to_string()))?;
    let name = match &request.object {
        Some(o) if request.name.is_empty() => o.meta().name.clone().unwrap_or_default(),
        _ => request.name.clone(),
    };
    let actions = if request.dry_run || outcome == Outcome::Denied {
        Vec::new()
    } else {
        decision.actions.clone()
    };
    let summary = Summary {
        uid: request.uid.clone(),
        kind: request.kind.kind.clone(),
        namespace: request.namespace.clone().unwrap_or_default(),
        name,
        operation: operation_label(&request.operation),
        dry_run: request.dry_run,
        outcome,
        deny_reason,
        warnings: decision.warnings.len(),
        restart: decision
            .restart
            .iter()
            .flat_map(|c| c.verdicts.iter().map(|v| v.outcome))
            .collect(),
        actions,
    };
    Ok(Reviewed {
        body,
        summary,
        decision,
    })
}

/// `CREATE`, `UPDATE`, `DELETE`, `CONNECT`.
pub fn operation_label(op: &rules::Operation) -> &'static str {
    match op {
        rules::Operation::Create => "CREATE",
        rules::Operation::Update => "UPDATE",
        rules::Operation::Delete => "DELETE",
        rules::Operation::Connect => "CONNECT",
    }
}

/// Builds an `admission.k8s.io/v1` AdmissionReview request for `object` the way karmada-apiserver
/// sends it: CREATE without `old`, UPDATE with it. Used by the demo, tests and benchmarks.
pub fn review_request(
    uid: &str,
    object: &serde_json::Value,
    old: Option<&serde_json::Value>,
    dry_run: bool,
) -> serde_json::Value {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let (group, version) = crate::karmada::api::split_api_version(api_version);
    let kind = object["kind"].as_str().unwrap_or_default();
    let gvk = serde_json::json!({"group": group, "version": version, "kind": kind});
    let resource = crate::karmada::api::plural(api_version, kind);
    let gvr = serde_json::json!({"group": group, "version": version, "resource": resource});
    let mut request = serde_json::json!({
        "uid": uid,
        "kind": gvk, "resource": gvr, "requestKind": gvk, "requestResource": gvr,
        "name": object["metadata"]["name"],
        "operation": if old.is_some() { "UPDATE" } else { "CREATE" },
        "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
        "object": object,
        "oldObject": old.cloned().unwrap_or(serde_json::Value::Null),
        "dryRun": dry_run,
        "options": {"kind": if old.is_some() { "UpdateOptions" } else { "CreateOptions" }, "apiVersion": "meta.k8s.io/v1"},
    });
    if let Some(ns) = object["metadata"]["namespace"].as_str() {
        request["namespace"] = serde_json::Value::String(ns.to_owned());
    }
    serde_json::json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request})
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;
    use crate::fleet::files;

    /// The example Deployment as karmada-apiserver sends it (defaults applied).
    fn frontend() -> serde_json::Value {
        let mut obj: serde_json::Value =
            crate::yaml::from_str(include_str!("../../examples/manifests/takeover-frontend.yaml")).unwrap();
        crate::kube::defaults::apply_defaults("apps/v1", "Deployment", &mut obj);
        obj
    }

    /// Every checked-in review (the golden ones, the load benchmark's) is decided the same from
    /// sonic-rs's tree as from serde_json's, on fleets where the restart guard admits, warns and
    /// denies: same verdict, message, warnings, patch and actions.
    #[test]
    fn workload_reviews_decide_the_same_from_either_tree() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut bodies = Vec::new();
        for dir in ["tests/fixtures/reviews", "scripts/loadbench"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.ends_with("review.json") || name.ends_with(".request.json") {
                    bodies.push((name, std::fs::read(entry.path()).unwrap()));
                }
            }
        }
        assert!(bodies.len() >= 15, "fixtures not found");
        let fleets = [
            ("embedded", files::embedded()),
            (
                "loadbench",
                files::load_dir(&root.join("scripts/loadbench/fleet")).unwrap(),
            ),
        ];
        let configs = ["restartGuard: enforce", "restartGuard: warn"]
            .map(|yaml| Config::from_yaml(yaml, "test").unwrap());
        let mut sonic_read = 0;
        let mut reasons = std::collections::BTreeSet::new();
        for (name, body) in &bodies {
            let Ok(serde) = decode::request(body) else {
                continue;
            };
            let sonic = decode::workload_request(body).unwrap();
            sonic_read += usize::from(
                sonic
                    .object
                    .as_ref()
                    .is_some_and(|o| matches!(o.rest, decode::Body::Tree { .. })),
            );
            for (fleet_name, fleet) in &fleets {
                for config in &configs {
                    for webhook in [Webhook::MutateWorkload, Webhook::ValidateWorkload] {
                        let expected = decide_request(webhook, &serde, fleet, config);
                        let got = decide_request(webhook, &sonic, fleet, config);
                        assert_eq!(
                            got,
                            expected,
                            "{name} on the {fleet_name} fleet, {}",
                            webhook.label()
                        );
                        match &got.verdict {
                            Verdict::Deny { reason, .. } => reasons.insert(reason.label()),
                            Verdict::Allow if !got.patch.is_empty() => reasons.insert("patched"),
                            Verdict::Allow => reasons.insert("allowed"),
                        };
                    }
                }
            }
        }
        assert!(sonic_read >= 10, "too few reviews read by sonic-rs: {sonic_read}");
        for outcome in ["patched", "allowed", "restart-guard", "managed-in-member"] {
            assert!(
                reasons.contains(outcome),
                "no {outcome} decision among {reasons:?}"
            );
        }
    }

    proptest::proptest! {
        /// Any JSON in place of the frontend's pod spec, container or whole `spec` (and as an
        /// UPDATE's old object) is decided the same from either tree.
        #[test]
        fn any_body_decides_the_same_from_either_tree(
            json in crate::rules::json::tests::any_json(),
            at in 0..3usize,
            update in proptest::bool::ANY,
        ) {
            let mut object = frontend();
            match at {
                0 => object["spec"]["template"]["spec"] = json,
                1 => object["spec"]["template"]["spec"]["containers"][0] = json,
                _ => object["spec"] = json,
            }
            let old = update.then(frontend);
            let body = serde_json::to_vec(&review_request("u-p", &object, old.as_ref(), false)).unwrap();
            let serde = decode::request(&body).unwrap();
            let sonic = decode::workload_request(&body).unwrap();
            let (fleet, config) = (files::embedded(), Config::default());
            for webhook in [Webhook::MutateWorkload, Webhook::ValidateWorkload] {
                proptest::prop_assert_eq!(
                    decide_request(webhook, &sonic, &fleet, &config),
                    decide_request(webhook, &serde, &fleet, &config)
                );
            }
        }
    }

    #[test]
    fn patches_are_base64_json_patches_with_the_request_uid() {
        let body = serde_json::to_vec(&review_request("u-1", &frontend(), None, false)).unwrap();
        let reviewed = review_workload(&body);
        let response: serde_json::Value = serde_json::from_slice(&reviewed.body).unwrap();
        assert_eq!(response["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(response["kind"], "AdmissionReview");
        assert_eq!(response["response"]["uid"], "u-1");
        assert_eq!(response["response"]["patchType"], "JSONPatch");
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(response["response"]["patch"].as_str().unwrap())
            .unwrap();
        let ops: json_patch::Patch = serde_json::from_slice(&bytes).unwrap();
        let mut object = frontend();
        json_patch::patch(&mut object, &ops).unwrap();
        assert_eq!(
            object["metadata"]["annotations"]["karmada-takeover.io/clusters"],
            "member1,member2"
        );
        assert_eq!(reviewed.summary.outcome, Outcome::Patched);
        assert_eq!(reviewed.summary.actions.len(), 1);
    }

    /// Policy reviews take the raw-spec path (`decode::policy_request` + `guardrails::decide`);
    /// `check` and the engine's table tests take the dynamic one (`rules::decide`). Both must
    /// reach the same decision, malformed specs included.
    #[test]
    fn policy_reviews_decide_as_the_dynamic_path_does() {
        let manifest = |file: &str| -> serde_json::Value {
            let text = std::fs::read_to_string(format!(
                "{}/examples/manifests/{file}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            crate::yaml::from_str(&text).unwrap()
        };
        let with_spec = |mut object: serde_json::Value, spec: serde_json::Value| {
            object["spec"] = spec;
            object
        };
        let app = manifest("application-policy-for-catalog.yaml");
        let cases: Vec<(&str, serde_json::Value)> = vec![
            ("application policy", app.clone()),
            (
                "weak application policy",
                manifest("weak-application-policy.yaml"),
            ),
            (
                "batch policy set too high",
                manifest("batch-policy-too-high.yaml"),
            ),
            (
                "cluster policy that cannot win",
                manifest("cluster-policy-cannot-win.yaml"),
            ),
            (
                "spec with a wrong type deep inside",
                with_spec(
                    app.clone(),
                    serde_json::json!(
                {"resourceSelectors": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": 7}]}),
                ),
            ),
            ("spec is null", with_spec(app.clone(), serde_json::Value::Null)),
            ("no spec", {
                let mut o = app.clone();
                o.as_object_mut().unwrap().remove("spec");
                o
            }),
            (
                "application policy naming a cluster that does not exist",
                manifest("application-policy-unknown-cluster.yaml"),
            ),
        ];
        let fleet = files::embedded();
        for mode in ["enforce", "warn", "fix"] {
            let config = Config::from_yaml(&format!("guardrails: {{mode: {mode}}}"), "test").unwrap();
            for (name, object) in &cases {
                let body = serde_json::to_vec(&review_request("u-1", object, None, false)).unwrap();
                for webhook in [Webhook::ValidatePolicy, Webhook::MutatePolicy] {
                    let raw = review(webhook, &body, &fleet, &config).unwrap().decision;
                    let request = decode::request(&body).unwrap();
                    let dynamic = decide_request(webhook, &request, &fleet, &config);
                    assert_eq!(raw, dynamic, "{name}, {mode} mode, {}", webhook.label());
                }
            }
        }
        let body = serde_json::to_vec(&review_request("u-1", &cases[4].1, None, false)).unwrap();
        let decision = review(Webhook::ValidatePolicy, &body, &fleet, &Config::default())
            .unwrap()
            .decision;
        let Verdict::Deny { message, .. } = decision.verdict else {
            panic!("a malformed spec is denied")
        };
        assert!(message.contains("at spec.resourceSelectors[0].name"), "{message}");
    }

    /// The placement guard through the AdmissionReview path: under `enforce` a placement naming
    /// no member cluster is a 403 counted as `placement`; under `warn` the same text is a warning.
    #[test]
    fn placement_guard_denials_are_403_with_reason_placement() {
        let policy: serde_json::Value = crate::yaml::from_str(include_str!(
            "../../examples/manifests/application-policy-unknown-cluster.yaml"
        ))
        .unwrap();
        let body = serde_json::to_vec(&review_request("u-3", &policy, None, false)).unwrap();
        let fleet = files::embedded();
        let enforce = Config::from_yaml("placementGuard: enforce", "test").unwrap();
        let reviewed = review(Webhook::ValidatePolicy, &body, &fleet, &enforce).unwrap();
        let response: serde_json::Value = serde_json::from_slice(&reviewed.body).unwrap();
        assert_eq!(response["response"]["allowed"], false);
        assert_eq!(response["response"]["status"]["code"], 403);
        let message = response["response"]["status"]["message"].as_str().unwrap();
        assert!(message.contains("names cluster membr2"), "{message}");
        assert_eq!(reviewed.summary.deny_reason, Some(rules::DenyReason::Placement));
        assert_eq!(
            reviewed.summary.deny_reason.map(rules::DenyReason::label),
            Some("placement")
        );

        let warned = review(Webhook::ValidatePolicy, &body, &fleet, &Config::default()).unwrap();
        let response: serde_json::Value = serde_json::from_slice(&warned.body).unwrap();
        assert_eq!(response["response"]["allowed"], true);
        assert_eq!(response["response"]["warnings"][0].as_str(), Some(message));
    }

    /// Why the decoder keeps `kubectl.kubernetes.io/last-applied-configuration` although no rule
    /// reads that key (`decode`'s module doc): the engine tests whether the object has any
    /// annotations, and a takeover of an object whose only annotation is that one must add its
    /// keys to the existing map, not replace the map (and lose the annotation).
    #[test]
    fn a_takeover_keeps_an_only_last_applied_annotation() {
        let mut object = frontend();
        let last_applied = serde_json::to_string(&frontend()).unwrap();
        object["metadata"]["annotations"] =
            serde_json::json!({"kubectl.kubernetes.io/last-applied-configuration": last_applied});
        let body = serde_json::to_vec(&review_request("u-5", &object, None, false)).unwrap();
        let reviewed = review_workload(&body);
        assert_eq!(reviewed.summary.outcome, Outcome::Patched);
        json_patch::patch(&mut object, &reviewed.decision.patch).unwrap();
        let annotations = &object["metadata"]["annotations"];
        assert_eq!(
            annotations["kubectl.kubernetes.io/last-applied-configuration"].as_str(),
            Some(last_applied.as_str()),
            "{annotations}"
        );
        assert_eq!(annotations["karmada-takeover.io/clusters"], "member1,member2");
    }

    #[test]
    fn dry_run_and_denied_reviews_carry_no_actions() {
        let body = serde_json::to_vec(&review_request("u-2", &frontend(), None, true)).unwrap();
        let reviewed = review_workload(&body);
        assert_eq!(reviewed.summary.outcome, Outcome::Patched);
        assert!(reviewed.summary.actions.is_empty() && reviewed.summary.dry_run);
    }

    #[test]
    fn unsynced_fleet_fails_safe_with_a_warning() {
        let body = serde_json::to_vec(&review_request("u-3", &frontend(), None, false)).unwrap();
        let reviewed = review(Webhook::MutateWorkload, &body, &Fleet::new(), &Config::default()).unwrap();
        let response: serde_json::Value = serde_json::from_slice(&reviewed.body).unwrap();
        assert_eq!(response["response"]["allowed"], true);
        assert!(response["response"].get("patch").is_none());
        assert!(
            response["response"]["warnings"][0]
                .as_str()
                .unwrap()
                .contains("not synced")
        );
    }

    #[test]
    fn bad_reviews_say_what_is_wrong() {
        let err = review(
            Webhook::MutateWorkload,
            b"{not json",
            &Fleet::new(),
            &Config::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("not a valid admission.k8s.io/v1 AdmissionReview"),
            "{err}"
        );
        let err = review(
            Webhook::MutateWorkload,
            br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#,
            &Fleet::new(),
            &Config::default(),
        )
        .unwrap_err();
        assert!(matches!(err, BadReview::NoRequest), "{err}");
    }

    #[test]
    fn bad_review_messages_quote_long_values_bounded() {
        let big = "X".repeat(1_000_000);
        let mut review = review_request("u-4", &frontend(), None, false);
        for (field, value) in [
            ("operation", serde_json::json!(big)),
            ("dryRun", serde_json::json!(big)),
            ("object", serde_json::json!(big)),
        ] {
            let saved = review["request"][field].take();
            review["request"][field] = value;
            let body = serde_json::to_vec(&review).unwrap();
            for webhook in [Webhook::MutateWorkload, Webhook::ValidatePolicy] {
                let message = review_error(webhook, &body);
                assert!(
                    message.len() < 600 && message.contains("…(1000000 bytes)"),
                    "{field}: {message}"
                );
            }
            review["request"][field] = saved;
        }
        // A review of another type is named in full when short.
        let mut bogus = review.clone();
        bogus["apiVersion"] = "bogus/v9".into();
        bogus["kind"] = "Foo".into();
        let message = review_error(Webhook::MutateWorkload, &serde_json::to_vec(&bogus).unwrap());
        assert!(
            message.starts_with(r#"request body has apiVersion "bogus/v9" and kind "Foo""#),
            "{message}"
        );
    }

    /// A workload review against the embedded example fleet, default config.
    fn review_workload(body: &[u8]) -> Reviewed {
        review(
            Webhook::MutateWorkload,
            body,
            &files::embedded(),
            &Config::default(),
        )
        .unwrap()
    }

    fn review_error(webhook: Webhook, body: &[u8]) -> String {
        review(webhook, body, &files::embedded(), &Config::default())
            .err()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "answered".to_owned())
    }
}
