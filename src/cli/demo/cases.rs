//! The demo's cases: real AdmissionReview requests, as karmada-apiserver sends them (workloads
//! carry the API server's defaults, as the webhook receives them).

use serde_json::Value;

use super::{Case, Expect, manifest, template_from_fleet};
use crate::{admission, config::GuardrailMode, rules::Webhook};

/// `obj` with the defaults karmada-apiserver applies before calling the webhooks.
fn admitted(mut obj: Value) -> Value {
    let api_version = obj["apiVersion"].as_str().unwrap_or_default().to_owned();
    let kind = obj["kind"].as_str().unwrap_or_default().to_owned();
    crate::kube::defaults::apply_defaults(&api_version, &kind, &mut obj);
    obj
}

/// The demo's cases, in transcript order (also the golden fixtures).
pub fn cases() -> Vec<Case> {
    let uid = |n: u32| format!("7a3c1e52-0d4b-4f6a-9c2e-{n:012}");
    let frontend = admitted(manifest(include_str!(
        "../../../examples/manifests/takeover-frontend.yaml"
    )));
    let cart = admitted(manifest(include_str!(
        "../../../examples/manifests/repromote-cart.yaml"
    )));
    let search = admitted(manifest(include_str!(
        "../../../examples/manifests/stale-image-search.yaml"
    )));
    let reviews = admitted(manifest(include_str!(
        "../../../examples/manifests/members-disagree-reviews.yaml"
    )));
    let frontend_no_replicas = admitted(manifest(include_str!(
        "../../../examples/manifests/takeover-frontend-no-replicas.yaml"
    )));
    let reports = admitted(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "reports", "namespace": "payments", "labels": {"app": "reports"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "reports"}},
                 "template": {"metadata": {"labels": {"app": "reports"}}, "spec": {"containers": [{"name": "reports", "image": "registry.example.com/payments/reports:3.2.0"}]}}}
    }));
    let ledger = admitted(manifest(include_str!("../../../examples/manifests/ledger.yaml")));
    let billing = admitted(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "billing", "namespace": "payments", "labels": {"app": "billing", "team": "payments"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "billing"}},
                 "template": {"metadata": {"labels": {"app": "billing"}}, "spec": {"containers": [{"name": "billing", "image": "registry.example.com/payments/billing:1.4.2"}]}}}
    }));
    let batch = manifest(include_str!(
        "../../../examples/manifests/batch-policy-too-high.yaml"
    ));
    let weak = manifest(include_str!(
        "../../../examples/manifests/weak-application-policy.yaml"
    ));
    let cpp = manifest(include_str!(
        "../../../examples/manifests/cluster-policy-cannot-win.yaml"
    ));
    let catalog = manifest(include_str!(
        "../../../examples/manifests/application-policy-for-catalog.yaml"
    ));
    let checkout = manifest(include_str!(
        "../../../examples/manifests/application-policy-unknown-cluster.yaml"
    ));
    let case = |name, title, webhook, mode, review, expect| Case {
        name,
        title,
        webhook,
        mode,
        deletion_protection: false,
        review,
        expect,
    };
    use GuardrailMode::{Enforce, Fix};
    vec![
        case(
            "takeover-frontend",
            "Takeover on apply: shop/frontend runs unmanaged in member1 and member2",
            Webhook::MutateWorkload,
            Enforce,
            admission::review_request(&uid(1), &frontend, None, false),
            Expect::Patched,
        ),
        case(
            "restart-guard-stale-image",
            "Restart guard: shop/search runs image 3.2.1 in member1 (patched there); the YAML says 3.2.0",
            Webhook::MutateWorkload,
            Enforce,
            admission::review_request(&uid(13), &search, None, false),
            Expect::Denied("restart-guard"),
        ),
        case(
            "restart-guard-members-disagree",
            "Restart guard: shop/reviews runs 1.8.0 in member1 and 1.9.0 in member2",
            Webhook::MutateWorkload,
            Enforce,
            admission::review_request(&uid(14), &reviews, None, false),
            Expect::Denied("restart-guard"),
        ),
        case(
            "takeover-without-replicas",
            "No rescale: shop/frontend applied without replicas (defaulted to 1) while members run 3 and 2",
            Webhook::MutateWorkload,
            Enforce,
            admission::review_request(&uid(15), &frontend_no_replicas, None, false),
            Expect::Patched,
        ),
        case(
            "repromotion-exported-copy",
            "No re-promotion: shop/cart exported from member2 (Karmada's markers) and applied again",
            Webhook::ValidateWorkload,
            Enforce,
            admission::review_request(&uid(2), &cart, Some(&template_from_fleet("cart")), false),
            Expect::Denied("member-markers"),
        ),
        case(
            "repromotion-managed-in-member",
            "No re-promotion: payments/reports is managed by Karmada in member3",
            Webhook::ValidateWorkload,
            Enforce,
            admission::review_request(&uid(3), &reports, None, false),
            Expect::Denied("managed-in-member"),
        ),
        case(
            "application-policy-precedence",
            "No takeover: the application policy payments/payments-app selects payments/billing",
            Webhook::MutateWorkload,
            Enforce,
            admission::review_request(&uid(4), &billing, None, false),
            Expect::Allowed,
        ),
        case(
            "batch-policy-too-high",
            "Guardrail: a batch ClusterPropagationPolicy at priority 50",
            Webhook::ValidatePolicy,
            Enforce,
            admission::review_request(&uid(5), &batch, None, false),
            Expect::Denied("guardrail"),
        ),
        case(
            "weak-application-policy",
            "Guardrail: an application policy that cannot win over the batch policy shop/shop-batch",
            Webhook::ValidatePolicy,
            Enforce,
            admission::review_request(&uid(6), &weak, None, false),
            Expect::Denied("guardrail"),
        ),
        case(
            "weak-application-policy-fix",
            "Guardrail, fix mode: the same policy gets the smallest sufficient priority",
            Webhook::MutatePolicy,
            Fix,
            admission::review_request(&uid(7), &weak, None, false),
            Expect::Patched,
        ),
        case(
            "cluster-policy-cannot-win",
            "Guardrail: a ClusterPropagationPolicy can never beat a PropagationPolicy",
            Webhook::ValidatePolicy,
            Enforce,
            admission::review_request(&uid(8), &cpp, None, false),
            Expect::Denied("guardrail"),
        ),
        case(
            "release-takeover-policy",
            "Preemption gate off: an application policy for shop/catalog releases its takeover policy",
            Webhook::ValidatePolicy,
            Enforce,
            admission::review_request(&uid(9), &catalog, None, false),
            Expect::Allowed,
        ),
        case(
            "dry-run-takeover",
            "dryRun: payments/ledger would be taken over from member3, and nothing is written",
            Webhook::MutateWorkload,
            Enforce,
            admission::review_request(&uid(10), &ledger, None, true),
            Expect::Patched,
        ),
        Case {
            deletion_protection: true,
            ..case(
                "takeover-deletion-protected",
                "Takeover with takeover.deletionProtection: shop/frontend is also labelled deletion-protected: Always",
                Webhook::MutateWorkload,
                Enforce,
                admission::review_request(&uid(11), &frontend, None, false),
                Expect::Patched,
            )
        },
        case(
            "placement-unknown-cluster",
            "Placement guard: an application policy names membr2, which is no member cluster",
            Webhook::ValidatePolicy,
            Enforce,
            admission::review_request(&uid(12), &checkout, None, false),
            Expect::Allowed,
        ),
    ]
}
