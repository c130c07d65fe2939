//! `karmada-takeover adopt` end to end against the fake API server: the binary, a kubeconfig
//! pointing at the fake, members reached through its cluster proxy. What is adopted, what is
//! refused and why, dry runs that write nothing, a second run that changes nothing, and a run
//! that fails half-way and is finished by the next one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{collections::BTreeSet, path::PathBuf};

use serde_json::{Value, json};
use support::{apiserver::FakeApi, res};

const SVC: &str = "/v1/services";

/// One environment: the fake, its kubeconfig on disk.
struct Env {
    api: FakeApi,
    _dir: tempfile::TempDir,
    kubeconfig: PathBuf,
}

fn service(ns: &str, name: &str, app: &str, node_port: u16) -> Value {
    json!({"apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"type": "NodePort", "clusterIP": "10.96.0.12", "clusterIPs": ["10.96.0.12"], "selector": {"app": app},
                 "ports": [{"port": 80, "targetPort": 8080, "nodePort": node_port, "protocol": "TCP"}]}})
}

/// `shop` (not in Karmada yet): web (ConfigMap web-config, NodePort Service web) in member1,
/// api in member1 and member2 (equal copies). `mixed` (in Karmada): one workload per refusal
/// class.
async fn env() -> Env {
    let api = FakeApi::start().await;
    for m in ["member1", "member2"] {
        api.add_member(m);
        api.put(None, res::CLUSTERS, support::cluster(m, true));
    }
    let m1 = Some("member1");
    let m2 = Some("member2");
    api.put(
        m1,
        res::DEPLOY,
        support::deployment("shop", "web", json!({}), json!({}), Some("web-config")),
    );
    api.put(m1, res::CM, support::configmap("shop", "web-config", json!({})));
    api.put(m1, SVC, service("shop", "web", "web", 30080));
    for m in [m1, m2] {
        api.put(
            m,
            res::DEPLOY,
            support::deployment("shop", "api", json!({}), json!({}), None),
        );
    }

    api.put(None, res::NS, support::namespace("mixed"));
    // Copies that differ.
    let mut worker2 = support::deployment("mixed", "worker", json!({}), json!({}), None);
    worker2["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.28");
    api.put(
        m1,
        res::DEPLOY,
        support::deployment("mixed", "worker", json!({}), json!({}), None),
    );
    api.put(m2, res::DEPLOY, worker2);
    // Already multicloud: Karmada-managed in member2.
    api.put(
        m2,
        res::DEPLOY,
        support::deployment(
            "mixed",
            "legacy",
            json!({"karmada.io/managed": "true"}),
            json!({}),
            None,
        ),
    );
    // Claimed by an application policy as soon as its template exists.
    api.put(
        m1,
        res::DEPLOY,
        support::deployment("mixed", "claimed", json!({}), json!({}), None),
    );
    api.put(
        None,
        res::PP,
        support::pp(
            "mixed",
            "claimer",
            json!({}),
            json!({
            "resourceSelectors": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "claimed"}],
            "placement": {"clusterAffinity": {"clusterNames": ["member1"]}}}),
        ),
    );
    // Its ConfigMap differs between the clusters.
    for (m, value) in [(m1, "a"), (m2, "b")] {
        api.put(
            m,
            res::DEPLOY,
            support::deployment("mixed", "cfg", json!({}), json!({}), Some("cfg-config")),
        );
        let mut cm = support::configmap("mixed", "cfg-config", json!({}));
        cm["data"]["key"] = json!(value);
        api.put(m, res::CM, cm);
    }
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, api.kubeconfig_yaml()).unwrap();
    Env {
        api,
        _dir: dir,
        kubeconfig,
    }
}

impl Env {
    /// Runs the binary; returns (exit code, stdout, stderr).
    async fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_karmada-takeover"))
            .arg("adopt")
            .args(args)
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(["--sync-timeout", "20s", "--timeout", "5s"])
            .env_remove("KUBECONFIG")
            .kill_on_drop(true)
            .output()
            .await
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    async fn json(&self, args: &[&str]) -> (i32, Value) {
        let (code, out, err) = self.run(args).await;
        let doc = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: stdout {out:?} stderr {err:?}"));
        (code, doc)
    }

    /// `kind namespace/name` of everything in karmada-apiserver's stores we write to.
    fn karmada_objects(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (kind, resource) in [
            ("Namespace", res::NS),
            ("Deployment", res::DEPLOY),
            ("ConfigMap", res::CM),
            ("Service", SVC),
            ("PropagationPolicy", res::PP),
        ] {
            for o in self.api.list(None, resource) {
                out.insert(format!(
                    "{kind} {}/{}",
                    o["metadata"]["namespace"].as_str().unwrap_or_default(),
                    o["metadata"]["name"].as_str().unwrap_or_default()
                ));
            }
        }
        out
    }
}

/// `(kind/namespace/name, result, reason)` of each result.
fn results(doc: &Value) -> BTreeSet<(String, String, String)> {
    doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!(
                    "{}/{}/{}",
                    r["kind"].as_str().unwrap(),
                    r["namespace"].as_str().unwrap(),
                    r["name"].as_str().unwrap()
                ),
                r["result"].as_str().unwrap().to_owned(),
                r["refusal"]["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn entry(what: &str, result: &str, reason: &str) -> (String, String, String) {
    (what.to_owned(), result.to_owned(), reason.to_owned())
}

#[tokio::test]
async fn every_refusal_class_is_reported_with_its_reason_and_a_dry_run_writes_nothing() {
    let env = env().await;
    let (code, doc) = env
        .json(&["-n", "mixed", "--dry-run", "-o", "json", "--webhook", "absent"])
        .await;
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        results(&doc),
        BTreeSet::from([
            entry("Deployment/mixed/cfg", "refused", "dependency-copies-disagree"),
            entry("Deployment/mixed/claimed", "refused", "claimed-by-policy"),
            entry("Deployment/mixed/legacy", "skipped", "managed-in-member"),
            entry("Deployment/mixed/worker", "refused", "copies-disagree"),
        ])
    );
    let claimed = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "claimed")
        .unwrap();
    assert!(
        claimed["refusal"]["message"]
            .as_str()
            .unwrap()
            .contains("PropagationPolicy mixed/claimer"),
        "{claimed}"
    );
    // A kind the config does not select, named explicitly.
    env.api.put(Some("member1"), "apps/v1/replicasets", {
        let mut rs = support::deployment("mixed", "bare", json!({}), json!({}), None);
        rs["kind"] = json!("ReplicaSet");
        rs
    });
    let (code, doc) = env
        .json(&["replicaset/bare", "-n", "mixed", "--dry-run", "-o", "json"])
        .await;
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        results(&doc),
        BTreeSet::from([entry("ReplicaSet/mixed/bare", "refused", "kind-not-selected")])
    );
    // A namespace the engine never acts in.
    env.api.put(
        Some("member1"),
        res::DEPLOY,
        support::deployment("kube-system", "dns", json!({}), json!({}), None),
    );
    let (code, doc) = env
        .json(&["deployment/dns", "-n", "kube-system", "--dry-run", "-o", "json"])
        .await;
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        results(&doc),
        BTreeSet::from([entry(
            "Deployment/kube-system/dns",
            "refused",
            "namespace-not-allowed"
        )])
    );

    // With --source-cluster the differing copies are adopted, and the plan says where pods roll.
    let (code, doc) = env
        .json(&[
            "deployment/worker",
            "-n",
            "mixed",
            "--source-cluster",
            "member1",
            "--dry-run",
            "-o",
            "json",
        ])
        .await;
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["results"][0]["plan"]["rolloutIn"], json!(["member2"]));
    assert_eq!(
        doc["results"][0]["plan"]["template"]["metadata"]["annotations"]["karmada-takeover.io/allow-rollout"],
        "true"
    );
    assert!(
        env.api.writes().is_empty(),
        "a dry run wrote: {:?}",
        env.api.writes()
    );
}

#[tokio::test]
async fn a_namespace_is_adopted_with_its_dependencies_and_services_and_a_second_run_changes_nothing() {
    let env = env().await;
    let (code, out, err) = env.run(&["-n", "shop", "--webhook", "absent"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("adopted"), "{out}");
    let objects = env.karmada_objects();
    for want in [
        "Namespace /shop",
        "Deployment shop/web",
        "Deployment shop/api",
        "ConfigMap shop/web-config",
        "Service shop/web",
    ] {
        assert!(objects.contains(want), "{want} missing from {objects:?}");
    }
    let policies: Vec<Value> = env
        .api
        .list(None, res::PP)
        .into_iter()
        .filter(|p| p["metadata"]["namespace"] == "shop")
        .collect();
    assert_eq!(policies.len(), 3, "web, api and the Service web: {policies:?}");
    let api_policy = policies
        .iter()
        .find(|p| p["spec"]["resourceSelectors"][0]["name"] == "api")
        .unwrap();
    assert_eq!(
        api_policy["spec"]["placement"]["clusterAffinity"]["clusterNames"],
        json!(["member1", "member2"])
    );
    // The template: pruned, recording the adoption.
    let web = env.api.get(None, res::DEPLOY, "shop", "web").unwrap();
    assert_eq!(
        web["metadata"]["annotations"]["karmada-takeover.io/clusters"],
        "member1"
    );
    assert!(web["metadata"]["annotations"]["karmada-takeover.io/policy"].is_string());
    assert_eq!(
        web["metadata"]["labels"]["resourcetemplate.karmada.io/retain-replicas"],
        "true"
    );
    // The Service keeps its node port, not its cluster IP.
    let svc = env.api.get(None, SVC, "shop", "web").unwrap();
    assert_eq!(svc["spec"]["ports"][0]["nodePort"], 30080);
    assert!(svc["spec"].get("clusterIP").is_none(), "{svc}");
    // The ConfigMap rides on propagateDeps: no policy of its own.
    let cm = env.api.get(None, res::CM, "shop", "web-config").unwrap();
    assert_eq!(cm["metadata"]["annotations"]["karmada-takeover.io/skip"], "true");

    // Idempotent: a second run writes nothing and reports everything done.
    let before = env.api.writes().len();
    let (code, doc) = env
        .json(&["-n", "shop", "--webhook", "absent", "-o", "json"])
        .await;
    assert_eq!(code, 0, "{doc}");
    assert_eq!(
        env.api.writes().len(),
        before,
        "{:?}",
        &env.api.writes()[before..]
    );
    assert_eq!(doc["summary"]["adopted"], 0, "{doc}");
    assert_eq!(env.karmada_objects(), objects);
}

#[tokio::test]
async fn a_run_that_fails_half_way_is_finished_by_the_next_one_without_duplicates() {
    // The objects a clean run creates.
    let clean = env().await;
    let (code, out, err) = clean.run(&["-n", "shop", "--webhook", "absent"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let want = clean.karmada_objects();

    let env = env().await;
    env.api.fail_writes_after(Some((3, 500)));
    let (code, doc) = env
        .json(&["-n", "shop", "--webhook", "absent", "-o", "json"])
        .await;
    assert_eq!(code, 1, "{doc}");
    assert!(doc["summary"]["failed"].as_u64().unwrap() >= 1, "{doc}");
    assert!(env.karmada_objects().len() < want.len());
    // api went in (Namespace, policy, template: the 3 writes let through); the Service of web
    // failed, so web's template, the last write and the mark of a finished adoption, is absent:
    // the next run plans web and its Service again.
    assert!(env.api.get(None, res::DEPLOY, "shop", "api").is_some());
    assert!(env.api.get(None, res::DEPLOY, "shop", "web").is_none());
    let web = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "Deployment" && r["name"] == "web")
        .unwrap();
    assert_eq!(web["result"], "failed", "{web}");
    assert!(
        web["error"].as_str().unwrap().contains("Service shop/web failed"),
        "{web}"
    );
    env.api.fail_writes_after(None);
    let (code, doc) = env
        .json(&["-n", "shop", "--webhook", "absent", "-o", "json"])
        .await;
    assert_eq!(code, 0, "{doc}");
    assert_eq!(env.karmada_objects(), want);
    // Exactly once: every create after the fault was cleared succeeded (none answered 409).
    let third = env
        .json(&["-n", "shop", "--webhook", "absent", "-o", "json"])
        .await;
    assert_eq!(third.1["summary"]["adopted"], 0, "{}", third.1);
}

#[tokio::test]
async fn with_the_webhook_installed_the_template_goes_in_as_built_from_the_member_copy() {
    let env = env().await;
    let (code, doc) = env
        .json(&[
            "deployment/api",
            "-n",
            "shop",
            "--webhook",
            "installed",
            "-o",
            "json",
        ])
        .await;
    assert_eq!(code, 0, "{doc}");
    // The API server's call to the webhook patches it and writes the policy; adopt writes neither.
    assert!(
        env.api
            .list(None, res::PP)
            .iter()
            .all(|p| p["metadata"]["namespace"] != "shop")
    );
    let api = env.api.get(None, res::DEPLOY, "shop", "api").unwrap();
    assert!(api["metadata"].get("annotations").is_none(), "{api}");
    assert!(api.get("status").is_none() && api["metadata"].get("resourceVersion").is_some());
}

#[tokio::test]
async fn list_shows_candidates_with_dependencies_services_and_verdicts_and_all_shows_the_rest() {
    let env = env().await;
    let (code, doc) = env.json(&["list", "-o", "json"]).await;
    assert_eq!(code, 0, "{doc}");
    let rows = doc.as_array().unwrap();
    let web = rows.iter().find(|r| r["name"] == "web").unwrap();
    assert_eq!(web["dependencies"], json!(["ConfigMap/web-config"]));
    assert_eq!(web["services"], json!(["web"]));
    assert_eq!(web["restart"], "no-restart");
    assert_eq!(web["replicas"], json!({"member1": 2}));
    assert!(
        rows.iter().all(|r| r["name"] != "legacy"),
        "already multicloud is left out"
    );
    let claimed = rows.iter().find(|r| r["name"] == "claimed").unwrap();
    assert_eq!(claimed["policy"], "PropagationPolicy mixed/claimer");

    let (_, doc) = env.json(&["list", "--all", "-o", "json"]).await;
    let legacy = doc
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "legacy")
        .unwrap();
    assert_eq!(legacy["refusal"]["reason"], "managed-in-member");

    // Fuzzy: "shpap" finds shop/api first.
    let (_, doc) = env.json(&["list", "shpap", "-o", "json"]).await;
    assert_eq!(doc[0]["name"], "api", "{doc}");
    assert!(env.api.writes().is_empty());
}

#[tokio::test]
async fn bad_input_is_exit_code_2() {
    let env = env().await;
    for args in [
        vec!["deployment/web"],
        vec!["web", "-n", "shop"],
        vec![],
        vec!["-n", "shop", "-A"],
        vec!["-C", "nowhere", "-A", "--dry-run"],
    ] {
        let (code, out, err) = env.run(&args).await;
        assert_eq!(code, 2, "{args:?}: {out}\n{err}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
    }
}

#[tokio::test]
async fn the_text_plan_lists_each_object_to_create_and_the_summary() {
    let env = env().await;
    let (code, out, err) = env.run(&["-n", "shop", "--dry-run"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    println!("{out}");
    for line in [
        "Deployment shop/web (from member1):",
        "  create Namespace shop",
        "  create ConfigMap shop/web-config (copied from member1)",
        "  create Deployment shop/web",
        "Service shop/web (with Deployment shop/web)",
        "0 adopted, 0 skipped, 0 refused, 0 failed",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }
    let (_, out, _) = env.run(&["list"]).await;
    println!("{out}");
    assert!(out.starts_with("KIND"), "{out}");
    assert!(env.api.writes().is_empty());
}

/// The objects as a comparison sees them: no server-set fields.
fn comparable(mut v: Value) -> Value {
    karmada_takeover::karmada::prune::prune("", "", &mut v);
    if let Some(labels) = v["metadata"]["labels"].as_object_mut() {
        labels.retain(|k, _| !k.ends_with("/permanent-id"));
    }
    v
}

#[tokio::test]
async fn the_webhook_path_and_the_engine_path_produce_the_same_objects() {
    use std::{sync::Arc, time::Duration};

    use arc_swap::ArcSwap;
    use karmada_takeover::{
        admission,
        config::Config,
        fleet::{
            SharedFleet,
            watch::{self, KarmadaMetrics, Options},
        },
        rules::{Action, Webhook},
        writer::kube::ensure_policy,
    };

    // Without the webhook: adopt writes the policy and the patched template itself.
    let engine = env().await;
    let (code, doc) = engine
        .json(&[
            "deployment/api",
            "-n",
            "shop",
            "--webhook",
            "absent",
            "-o",
            "json",
        ])
        .await;
    assert_eq!(code, 0, "{doc}");

    // With it: adopt creates the template as built; the webhook, called by the API server on
    // that CREATE, decides on its fleet view, patches the template and writes the policy. The
    // fake has no admission chain, so the test plays the API server: the stored object goes
    // through `admission::review` (the webhook's own code), its patch is applied, its policy
    // written as the webhook's writer writes it.
    let hooked = env().await;
    let fleet = SharedFleet::default();
    let config = Config::default();
    let running = watch::start(
        hooked.api.connection().await,
        fleet.clone(),
        Arc::new(ArcSwap::from_pointee(config.clone())),
        Options {
            backoff_initial: Duration::from_millis(20),
            ..Options::default()
        },
        KarmadaMetrics::unregistered().unwrap(),
    );
    assert!(running.wait_synced(support::wait::WAIT).await);
    let (code, doc) = hooked
        .json(&[
            "deployment/api",
            "-n",
            "shop",
            "--webhook",
            "installed",
            "-o",
            "json",
        ])
        .await;
    assert_eq!(code, 0, "{doc}");
    let created = hooked.api.get(None, res::DEPLOY, "shop", "api").unwrap();
    let request = admission::review_request(
        "7c1b2f0e-0000-4000-8000-000000000001",
        &comparable(created.clone()),
        None,
        false,
    );
    let body = serde_json::to_vec(&request).unwrap();
    let reviewed = admission::review(Webhook::MutateWorkload, &body, &fleet.read(), &config).unwrap();
    assert!(reviewed.decision.allowed(), "{:?}", reviewed.decision);
    let mut patched = created;
    json_patch::patch(&mut patched, &reviewed.decision.patch).unwrap();
    hooked.api.put(None, res::DEPLOY, patched);
    let Some(Action::EnsurePolicy { policy }) = reviewed.decision.actions.first() else {
        panic!("the webhook decided no takeover policy: {:?}", reviewed.decision);
    };
    ensure_policy(&hooked.api.client().await, policy, Duration::from_secs(5))
        .await
        .unwrap();

    for resource in [res::DEPLOY, res::PP, res::NS] {
        let shop = |e: &Env| -> Vec<Value> {
            e.api
                .list(None, resource)
                .into_iter()
                .filter(|o| o["metadata"]["namespace"] == "shop" || o["metadata"]["name"] == "shop")
                .map(comparable)
                .collect()
        };
        assert!(!shop(&engine).is_empty(), "{resource}: nothing to compare");
        pretty_assertions::assert_eq!(shop(&engine), shop(&hooked), "{resource}");
    }
}

#[tokio::test]
async fn a_whole_cluster_and_a_label_selector_choose_the_workloads() {
    let env = env().await;
    // Every workload with a copy in member2, in every namespace.
    let (code, doc) = env
        .json(&["-C", "member2", "-A", "--dry-run", "-o", "json"])
        .await;
    assert_eq!(code, 1, "{doc}");
    assert_eq!(
        results(&doc),
        BTreeSet::from([
            entry("Deployment/mixed/cfg", "refused", "dependency-copies-disagree"),
            entry("Deployment/mixed/legacy", "skipped", "managed-in-member"),
            entry("Deployment/mixed/worker", "refused", "copies-disagree"),
            entry("Deployment/shop/api", "planned", ""),
        ])
    );
    // By label.
    env.api.put(
        Some("member1"),
        res::DEPLOY,
        support::deployment("shop", "cart", json!({"team": "checkout"}), json!({}), None),
    );
    let (code, doc) = env
        .json(&["-n", "shop", "-l", "team=checkout", "--dry-run", "-o", "json"])
        .await;
    assert_eq!(code, 0, "{doc}");
    assert_eq!(
        results(&doc),
        BTreeSet::from([entry("Deployment/shop/cart", "planned", "")])
    );
    assert!(env.api.writes().is_empty());
}
