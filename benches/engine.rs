//! Engine benchmarks: one takeover decision and one guardrail decision against fleets of 10,
//! 1,000 and 10,000 policies with 100,000 member-index entries.
//!
//! `cargo bench --bench engine` runs criterion (medians with confidence intervals) and then a
//! percentile pass (p50/p99 over 20,000 timed decisions each), printed as a table.

#![allow(clippy::expect_used)] // a benchmark that cannot build its input must stop

mod support;

use support::percentiles;

use std::{hint::black_box, time::Duration};

use criterion::{BenchmarkId, Criterion};
use karmada_takeover::{
    config::Config,
    fleet::Fleet,
    karmada::{Policy, PolicyKind, PropagationSpec, ResourceSelector, keys},
    rules::view::{ClusterInfo, TemplateMeta},
    rules::{
        self, DynamicObject, Operation, Review, Webhook,
        guardrails::{self, PolicyReview},
    },
};
use serde_json::json;
use serde_json::value::RawValue;

const MEMBER_ENTRIES: usize = 100_000;
const NAMESPACES: usize = 100;

fn selector(
    kind: &str,
    ns: Option<&str>,
    name: Option<&str>,
    labels: Option<(&str, &str)>,
) -> ResourceSelector {
    ResourceSelector {
        api_version: "apps/v1".into(),
        kind: kind.into(),
        namespace: ns.map(Into::into),
        name: name.map(Into::into),
        label_selector: labels.map(|(k, v)| karmada_takeover::karmada::policy::LabelSelector {
            match_labels: Some([(k, v)].into()),
            match_expressions: None,
        }),
    }
}

fn policy(
    kind: PolicyKind,
    ns: &str,
    name: &str,
    priority: i32,
    selectors: Vec<ResourceSelector>,
    labels: &[(&str, &str)],
) -> Policy {
    Policy {
        api_version: "policy.karmada.io/v1alpha1".into(),
        kind: kind.as_str().into(),
        metadata: karmada_takeover::karmada::policy::PolicyMeta {
            name: Some(name.into()),
            namespace: (kind == PolicyKind::PropagationPolicy).then(|| ns.into()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect::<karmada_takeover::karmada::Labels>()
                    .into(),
            ),
            ..Default::default()
        },
        spec: PropagationSpec {
            resource_selectors: selectors,
            priority: Some(priority),
            ..Default::default()
        },
    }
}

/// A fleet shaped like a large installation: 80% per-workload takeover PPs (each claiming its
/// template), 15% application PPs (named or by label), 5% CPPs; 3 member clusters.
fn fleet(policies: usize) -> Fleet {
    let mut f = Fleet::synced_empty();
    for c in ["member1", "member2", "member3"] {
        f.upsert_cluster(ClusterInfo {
            name: c.into(),
            labels: Default::default(),
            ready: true,
            object: None,
        });
    }
    for i in 0..policies {
        let ns = format!("ns-{}", i % NAMESPACES);
        match i % 20 {
            0 => f.upsert_policy(policy(
                PolicyKind::ClusterPropagationPolicy,
                "",
                &format!("cpp-{i}"),
                0,
                vec![selector(
                    "Deployment",
                    None,
                    None,
                    Some(("tier", &format!("t{i}"))),
                )],
                &[],
            )),
            1..=3 => f.upsert_policy(policy(
                PolicyKind::PropagationPolicy,
                &ns,
                &format!("app-{i}"),
                5,
                vec![selector(
                    "Deployment",
                    Some(&ns),
                    None,
                    Some(("app", &format!("a{i}"))),
                )],
                &[],
            )),
            _ => {
                let name = format!("wl-{i}");
                let pname = format!("takeover-{name}");
                f.upsert_policy(policy(
                    PolicyKind::PropagationPolicy,
                    &ns,
                    &pname,
                    0,
                    vec![selector("Deployment", Some(&ns), Some(&name), None)],
                    &[(keys::MANAGED_BY, keys::MANAGED_BY_VALUE)],
                ));
                f.upsert_template(TemplateMeta {
                    api_version: "apps/v1".into(),
                    kind: "Deployment".into(),
                    namespace: ns.clone(),
                    name,
                    labels: [(keys::PP_PERMANENT_ID.to_owned(), format!("id-{i}"))].into(),
                    annotations: [
                        (keys::PP_NAMESPACE.to_owned(), ns.clone()),
                        (keys::PP_NAME.to_owned(), pname),
                    ]
                    .into(),
                });
            }
        }
    }
    for i in 0..MEMBER_ENTRIES {
        let ns = format!("ns-{}", i % NAMESPACES);
        let cluster = ["member1", "member2", "member3"][i % 3];
        let (group, kind) = if i % 2 == 0 {
            ("apps", "Deployment")
        } else {
            ("", "ConfigMap")
        };
        f.set_member(cluster, group, kind, &ns, &format!("obj-{i}"), i % 50 == 0);
    }
    // `checkout` runs in member1 and member2 exactly as the review's template, so the restart
    // guard compares it with both copies (and admits the takeover).
    let running = serde_json::to_value(deployment()).expect("deployment");
    for cluster in ["member1", "member2"] {
        let copy = f.running_store().keep("apps/v1", "Deployment", &running);
        assert!(copy.is_some(), "a Deployment is kept for the restart guard");
        f.set_member_copy(cluster, "apps", "Deployment", "ns-7", "checkout", false, copy);
    }
    f
}

fn deployment() -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "checkout", "namespace": "ns-7", "labels": {"app": "checkout"}},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "checkout"}}, "template": {"metadata": {"labels": {"app": "checkout"}},
            "spec": {"containers": [{"name": "c", "image": "x", "envFrom": [{"configMapRef": {"name": "checkout-config"}}]}],
                     "volumes": [{"name": "s", "secret": {"secretName": "checkout-tls"}}]}}}
    }))
    .expect("deployment")
}

fn app_policy() -> DynamicObject {
    serde_json::from_value(json!({
        "apiVersion": "policy.karmada.io/v1alpha1", "kind": "PropagationPolicy",
        "metadata": {"name": "checkout-app", "namespace": "ns-7"},
        "spec": {"priority": 3, "resourceSelectors": [{"apiVersion": "apps/v1", "kind": "Deployment", "labelSelector": {"matchLabels": {"app": "checkout"}}}],
                 "placement": {"clusterAffinity": {"clusterNames": ["member1", "member2"]}}}
    }))
    .expect("policy")
}

fn review<'a>(obj: &'a DynamicObject, api_version: &str, kind: &'a str, name: &'a str) -> Review<'a> {
    Review {
        operation: Operation::Create,
        api_version: api_version.into(),
        kind,
        namespace: "ns-7",
        name,
        object: Some(obj.into()),
        old_object: None,
        dry_run: false,
    }
}

/// A policy review as the webhook hands it to the guardrails: metadata plus the raw `spec`, which
/// the decision decodes (that decode is part of what is measured).
fn policy_review<'a>(obj: &'a DynamicObject, spec: &'a RawValue) -> PolicyReview<'a> {
    PolicyReview {
        operation: &Operation::Create,
        api_version: "policy.karmada.io/v1alpha1",
        kind: "PropagationPolicy",
        namespace: "ns-7",
        name: "checkout-app",
        metadata: Some(&obj.metadata),
        spec: Some(spec),
    }
}

fn main() {
    let config = Config::default();
    let (deploy, policy) = (deployment(), app_policy());
    let spec = serde_json::value::to_raw_value(&policy.data["spec"]).expect("spec");
    let fleets: Vec<(usize, Fleet)> = [10, 1_000, 10_000].into_iter().map(|n| (n, fleet(n))).collect();
    for (_, f) in &fleets {
        let d = rules::decide(
            Webhook::MutateWorkload,
            &review(&deploy, "apps/v1", "Deployment", "checkout"),
            f,
            &config,
        );
        assert!(
            d.takeover.is_some(),
            "the benchmark must measure a real takeover: {d:?}"
        );
        let compared = d.restart.as_ref().map(|c| c.verdicts.len());
        assert_eq!(
            compared,
            Some(2),
            "the restart guard must compare both copies: {d:?}"
        );
    }

    let mut c = Criterion::default()
        .configure_from_args()
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    let mut group = c.benchmark_group("decision");
    for (n, f) in &fleets {
        group.bench_with_input(BenchmarkId::new("takeover", n), f, |b, f| {
            b.iter(|| {
                rules::decide(
                    Webhook::MutateWorkload,
                    black_box(&review(&deploy, "apps/v1", "Deployment", "checkout")),
                    f,
                    &config,
                )
            })
        });
        group.bench_with_input(BenchmarkId::new("guardrail", n), f, |b, f| {
            b.iter(|| {
                guardrails::decide(
                    Webhook::ValidatePolicy,
                    black_box(&policy_review(&policy, &spec)),
                    f,
                    &config,
                )
            })
        });
    }
    group.finish();
    c.final_summary();
    if !std::env::args().any(|a| a == "--bench") {
        return; // `cargo test --benches` runs each benchmark once as a smoke test; skip the long pass
    }

    println!("\npercentiles over 20,000 decisions ({MEMBER_ENTRIES} member entries):");
    println!("{:<10} {:>9} {:>10} {:>10}", "decision", "policies", "p50", "p99");
    for (n, f) in &fleets {
        let (p50, p99) = percentiles(|| {
            black_box(rules::decide(
                Webhook::MutateWorkload,
                &review(&deploy, "apps/v1", "Deployment", "checkout"),
                f,
                &config,
            ));
        });
        println!("{:<10} {:>9} {:>10.2?} {:>10.2?}", "takeover", n, p50, p99);
        let (p50, p99) = percentiles(|| {
            black_box(guardrails::decide(
                Webhook::ValidatePolicy,
                &policy_review(&policy, &spec),
                f,
                &config,
            ));
        });
        println!("{:<10} {:>9} {:>10.2?} {:>10.2?}", "guardrail", n, p50, p99);
    }
}
