//! Scale check of the Karmada adapter: load the fleet view with 10,000 policies, their templates
//! and 100,000 member-index entries **through the adapter's decode/apply code paths** (the same
//! functions the watches call, fed with the JSON the API server sends), then measure memory and
//! decision latency.
//!
//! `cargo bench --bench fleet_scale` prints:
//! - RSS growth per member entry (VmRSS before/after the member re-lists, divided by entries),
//!   and the RSS of the whole process with everything loaded, with the binary's allocator
//!   (mimalloc);
//! - the bytes live on the heap at the same points (what the view holds, without what the
//!   allocator keeps after the decoding's frees);
//! - the time of each [`memory::release_freed`] call, made after each re-list as the watch driver
//!   makes it (`fleet::watch`), so that RSS is measured as a server's is after its initial sync;
//! - p50/p99 of one Deployment CREATE review (`admission::review`: decode, decide, render) and of
//!   the engine decision alone, under the fleet's read lock, over 20,000 timed reviews.

#![allow(clippy::expect_used, clippy::unwrap_used)] // a benchmark that cannot build its input must stop

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use karmada_takeover::{
    admission,
    config::Config,
    fleet::{
        SharedFleet,
        watch::{
            Change, apply_members, apply_policies, apply_templates, decode_member, decode_policy,
            decode_template, resources,
        },
    },
    karmada::PolicyKind,
    memory,
    rules::{self, DynamicObject, Operation, Review, Webhook},
};
use kube::core::PartialObjectMeta;
use serde_json::{Value, json};

/// The allocator of the `karmada-takeover` binary (`src/main.rs`), counting the bytes live on
/// the heap: RSS also holds what the allocator keeps after frees (decode buffers), so both are
/// printed.
#[global_allocator]
static ALLOCATOR: cap::Cap<mimalloc::MiMalloc> = cap::Cap::new(mimalloc::MiMalloc, usize::MAX);

fn live_mib() -> f64 {
    ALLOCATOR.allocated() as f64 / 1048576.0
}

const NAMESPACES: usize = 100;
const CLUSTERS: [&str; 3] = ["member1", "member2", "member3"];

fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Full scale under `cargo bench`; a 10× smaller smoke run under `cargo test --all-targets`.
fn scale() -> (usize, usize) {
    if std::env::args().any(|a| a == "--bench") {
        (10_000, 100_000)
    } else {
        (1_000, 10_000)
    }
}

fn policy_json(i: usize) -> Value {
    let ns = format!("ns-{}", i % NAMESPACES);
    let meta = |name: String, labels: Value| {
        json!({"name": name, "namespace": ns, "labels": labels,
        "uid": format!("00000000-0000-0000-0000-{i:012}"), "resourceVersion": format!("{}", 1000 + i),
        "finalizers": ["karmada.io/propagation-policy-controller"]})
    };
    match i % 20 {
        0 => json!({"apiVersion": "policy.karmada.io/v1alpha1", "kind": "ClusterPropagationPolicy",
            "metadata": {"name": format!("cpp-{i}"), "labels": {"clusterpropagationpolicy.karmada.io/permanent-id": format!("id-{i}")}},
            "spec": {"resourceSelectors": [{"apiVersion": "apps/v1", "kind": "Deployment", "labelSelector": {"matchLabels": {"tier": format!("t{i}")}}}],
                     "priority": 0, "placement": {"clusterAffinity": {"clusterNames": ["member1"]}}}}),
        1..=3 => json!({"apiVersion": "policy.karmada.io/v1alpha1", "kind": "PropagationPolicy",
            "metadata": meta(format!("app-{i}"), json!({"propagationpolicy.karmada.io/permanent-id": format!("id-{i}")})),
            "spec": {"resourceSelectors": [{"apiVersion": "apps/v1", "kind": "Deployment", "namespace": ns, "labelSelector": {"matchLabels": {"app": format!("a{i}")}}}],
                     "priority": 5, "placement": {"clusterAffinity": {"clusterNames": ["member1", "member2"]}}}}),
        _ => json!({"apiVersion": "policy.karmada.io/v1alpha1", "kind": "PropagationPolicy",
            "metadata": meta(format!("takeover-wl-{i}"), json!({"app.kubernetes.io/managed-by": "karmada-takeover", "karmada-takeover.io/tier": "batch",
                                                              "propagationpolicy.karmada.io/permanent-id": format!("id-{i}")})),
            "spec": {"resourceSelectors": [{"apiVersion": "apps/v1", "kind": "Deployment", "namespace": ns, "name": format!("wl-{i}")}],
                     "priority": 0, "preemption": "Never", "conflictResolution": "Overwrite", "propagateDeps": true,
                     "preserveResourcesOnDeletion": true, "placement": {"clusterAffinity": {"clusterNames": ["member1"]}}}}),
    }
}

fn template_meta_json(i: usize) -> Value {
    let ns = format!("ns-{}", i % NAMESPACES);
    json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
        "metadata": {"name": format!("wl-{i}"), "namespace": ns, "uid": format!("t-{i}"), "resourceVersion": "1",
            "labels": {"app": format!("wl-{i}"), "propagationpolicy.karmada.io/permanent-id": format!("id-{i}")},
            "annotations": {"propagationpolicy.karmada.io/namespace": ns, "propagationpolicy.karmada.io/name": format!("takeover-wl-{i}"),
                            "karmada-takeover.io/clusters": "member1", "karmada-takeover.io/policy": format!("takeover-wl-{i}")}}})
}

/// A member object as the member watch delivers it: the whole object, as the member API server
/// returns it (defaults, status and `managedFields` included; the adapter keeps only the index
/// entry and what the restart guard compares). Every object is distinct (its own image, env and
/// data), so no value is shared between entries: the worst case for the per-copy data (the field
/// paths are shared, as between any workloads whose containers and variables have the same names).
fn member_json(i: usize, kind: &str) -> Value {
    let ns = format!("ns-{}", i % NAMESPACES);
    let name = format!("obj-{i}");
    let mut labels = json!({"app": name});
    if i.is_multiple_of(50) {
        labels["karmada.io/managed"] = json!("true");
    }
    let metadata = json!({"name": name, "namespace": ns, "uid": format!("m-{i}"), "resourceVersion": format!("{i}"),
        "generation": 3, "creationTimestamp": "2026-01-01T00:00:00Z", "labels": labels,
        "annotations": {"deployment.kubernetes.io/revision": "3"},
        "managedFields": [{"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "apps/v1",
                           "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {}}}]});
    if kind == "ConfigMap" {
        return json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata,
            "data": {"LOG_LEVEL": "info", "FEATURE_FLAGS": format!("search,checkout-{i}"), "app.properties": format!("server.port=8080\nservice.id={i}\n")}});
    }
    let probe = json!({"httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"}, "timeoutSeconds": 1,
        "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3});
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
        "spec": {"replicas": 3, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {"metadata": {"creationTimestamp": null, "labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": format!("registry.example.com/team-{}/svc-{i}:1.{}.0", i % 50, i % 7),
                    "imagePullPolicy": "IfNotPresent",
                    "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
                    "env": [{"name": "SERVICE_NAME", "value": name}, {"name": "REGION", "value": "eu-west-1"},
                            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": format!("{name}-db"), "key": "password"}}}],
                    "envFrom": [{"configMapRef": {"name": format!("{name}-config")}}],
                    "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}},
                    "livenessProbe": probe, "readinessProbe": probe,
                    "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}],
                    "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
                    "securityContext": {}, "schedulerName": "default-scheduler"}}},
        "status": {"observedGeneration": 3, "replicas": 3, "updatedReplicas": 3, "readyReplicas": 3, "availableReplicas": 3}})
}

/// What the watch driver does after applying a re-list ([`memory::release_freed`]), timed.
fn release_after_relist(took: &mut Vec<Duration>) {
    let t = Instant::now();
    memory::release_freed();
    took.push(t.elapsed());
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn micros(d: Duration) -> String {
    format!("{:.2} µs", d.as_secs_f64() * 1e6)
}

fn main() {
    #[allow(non_snake_case)]
    let (POLICIES, MEMBER_ENTRIES) = scale();
    let config = Config::default();
    let fleet = SharedFleet::default();
    let rss_start = rss_bytes();
    let live_start = live_mib();

    // Policies: decoded from the JSON a watch delivers, applied as the initial re-list.
    let mut pps = Vec::new();
    let mut cpps = Vec::new();
    for i in 0..POLICIES {
        let obj: DynamicObject = serde_json::from_value(policy_json(i)).unwrap();
        let p = decode_policy(obj).expect("policy decodes");
        if p.policy_kind() == Some(PolicyKind::ClusterPropagationPolicy) {
            cpps.push(p);
        } else {
            pps.push(p);
        }
    }
    // Each re-list is followed by the driver's release, timed apart from the load.
    let mut releases = Vec::new();
    let t0 = Instant::now();
    apply_policies(&fleet, PolicyKind::PropagationPolicy, Change::Relist(pps), 1000);
    let mut policies_took = t0.elapsed();
    release_after_relist(&mut releases);
    let t0 = Instant::now();
    apply_policies(
        &fleet,
        PolicyKind::ClusterPropagationPolicy,
        Change::Relist(cpps),
        1000,
    );
    policies_took += t0.elapsed();
    release_after_relist(&mut releases);
    let rss_policies = rss_bytes();
    let live_policies = live_mib();

    // Templates of the takeover policies (metadata-only list).
    let deploy = resources::known("apps/v1", "Deployment").unwrap();
    let templates: Vec<_> = (0..POLICIES)
        .filter(|i| i % 20 > 3)
        .map(|i| {
            let o: PartialObjectMeta<DynamicObject> = serde_json::from_value(template_meta_json(i)).unwrap();
            decode_template(&deploy, o)
        })
        .collect();
    let template_count = templates.len();
    apply_templates(&fleet, &deploy, Change::Relist(templates), 1000);
    release_after_relist(&mut releases);
    let rss_before_members = rss_bytes();
    let live_before_members = live_mib();

    // Member index: one re-list per (cluster, kind), decoded from JSON bytes.
    let cm = resources::known("v1", "ConfigMap").unwrap();
    let store = fleet.read().running_store();
    let (t0, released_before) = (Instant::now(), releases.len());
    for (ci, cluster) in CLUSTERS.iter().enumerate() {
        for (ar, parity) in [(&deploy, 0), (&cm, 1)] {
            let objects: Vec<_> = (0..MEMBER_ENTRIES)
                .filter(|i| i % 3 == ci && i % 2 == parity)
                .map(|i| {
                    let bytes = serde_json::to_vec(&member_json(i, &ar.kind)).unwrap();
                    let o: DynamicObject = serde_json::from_slice(&bytes).unwrap();
                    decode_member(ar, o, &store)
                })
                .collect();
            apply_members(&fleet, cluster, ar, Change::Relist(objects), 1000);
            release_after_relist(&mut releases);
        }
    }
    let members_took = t0.elapsed() - releases[released_before..].iter().sum::<Duration>();
    // A few workloads run in two clusters (a second copy, not a new entry).
    {
        let mut f = fleet.write();
        f.set_member("member2", "apps", "Deployment", "ns-0", "web", false);
        f.set_member("member1", "apps", "Deployment", "ns-0", "web", false);
        f.mark_synced();
    }
    let rss_loaded = rss_bytes();
    let live_loaded = live_mib();
    let counts = fleet.read().counts();
    assert_eq!(counts.member_entries, MEMBER_ENTRIES + 1);
    let per_entry = (rss_loaded.saturating_sub(rss_before_members)) as f64 / counts.member_entries as f64;
    // What one copy keeps besides its shared layout (a Deployment and a ConfigMap of the feed;
    // neither is the first of its kind, whose values are its layout's reference).
    let own_bytes = |group: &str, kind: &str, ns: &str, name: &str| {
        let f = fleet.read();
        let copies = f.running_copies(group, kind, ns, name);
        copies.first().map_or(0, |(_, r)| r.own_bytes())
    };
    let (deploy_own, cm_own) = (
        own_bytes("apps", "Deployment", "ns-2", "obj-2"),
        own_bytes("", "ConfigMap", "ns-9", "obj-9"),
    );

    // Decisions: a Deployment CREATE of a workload running unmanaged in member1 and member2.
    let web = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "ns-0", "labels": {"app": "web"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "app", "image": "nginx:1.27",
                     "envFrom": [{"configMapRef": {"name": "web-config"}}]}], "imagePullSecrets": [{"name": "registry"}]}}}});
    let body = serde_json::to_vec(
        &json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {"uid": "u", "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "name": "web", "namespace": "ns-0", "operation": "CREATE", "userInfo": {"username": "admin"},
            "object": web, "dryRun": false}}),
    )
    .unwrap();
    let check = admission::review(Webhook::MutateWorkload, &body, &fleet.read(), &config).unwrap();
    assert_eq!(
        check.summary.actions.len(),
        1,
        "the bench decision must be a takeover: {:?}",
        check.decision
    );
    let object: DynamicObject = serde_json::from_value(web).unwrap();
    let review = Review {
        operation: Operation::Create,
        api_version: "apps/v1".into(),
        kind: "Deployment",
        namespace: "ns-0",
        name: "web",
        object: Some((&object).into()),
        old_object: None,
        dry_run: false,
    };
    let (warmup, timed) = if MEMBER_ENTRIES == 100_000 {
        (2_000, 20_000)
    } else {
        (100, 1_000)
    };
    let mut full = Vec::with_capacity(timed);
    let mut engine = Vec::with_capacity(timed);
    for i in 0..warmup + timed {
        let t = Instant::now();
        let r = admission::review(Webhook::MutateWorkload, &body, &fleet.read(), &config).unwrap();
        let d = t.elapsed();
        black_box(r);
        let t = Instant::now();
        let decision = rules::decide(Webhook::MutateWorkload, &review, &*fleet.read(), &config);
        let e = t.elapsed();
        black_box(decision);
        if i >= warmup {
            full.push(d);
            engine.push(e);
        }
    }
    full.sort_unstable();
    engine.sort_unstable();

    println!(
        "fleet_scale: {POLICIES} policies, {template_count} templates, {} member entries in {} clusters",
        counts.member_entries,
        CLUSTERS.len()
    );
    println!(
        "  load: policies {:?}, member entries {:?} ({:.0} entries/s)",
        policies_took,
        members_took,
        MEMBER_ENTRIES as f64 / members_took.as_secs_f64()
    );
    println!(
        "  RSS: start {:.1} MiB, policies {:.1} MiB, before members (+ templates) {:.1} MiB, loaded {:.1} MiB",
        rss_start as f64 / 1048576.0,
        rss_policies as f64 / 1048576.0,
        rss_before_members as f64 / 1048576.0,
        rss_loaded as f64 / 1048576.0
    );
    println!(
        "  live heap: start {live_start:.1} MiB, policies {live_policies:.1} MiB, before members (+ templates) {live_before_members:.1} MiB, loaded {live_loaded:.1} MiB"
    );
    println!(
        "  member index: {per_entry:.0} bytes of RSS per entry; a copy's own bytes: Deployment {deploy_own}, ConfigMap {cm_own}"
    );
    let shown: Vec<String> = releases.iter().map(|d| micros(*d)).collect();
    println!(
        "  memory::release_freed after each re-list (PP, CPP, templates, 6 member lists): {}",
        shown.join(", ")
    );
    println!(
        "  admission::review (decode+decide+render): p50 {} p99 {}",
        micros(percentile(&full, 0.5)),
        micros(percentile(&full, 0.99))
    );
    println!(
        "  rules::decide (engine only):              p50 {} p99 {}",
        micros(percentile(&engine, 0.5)),
        micros(percentile(&engine, 0.99))
    );
}
