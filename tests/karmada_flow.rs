//! End to end against the fake API server: admission decisions on the adapter's fleet view, the
//! policy writer (server-side apply), and the reconciler (lease, ensure, release, gc, linger, promote).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{sync::Arc, time::Duration};

use arc_swap::ArcSwap;
use karmada_takeover::{
    admission,
    config::Config,
    fleet::{
        SharedFleet,
        watch::{self, Connection, KarmadaMetrics, Options, Running},
    },
    karmada::{Policy, PolicyKind, names},
    reconciler::{self, Reconciler, lease::LeaderElector},
    rules::{Action, DenyReason, Webhook},
    writer::{
        Writer,
        kube::{KubeWriter, WriterOptions, Written, ensure_policy},
    },
};
use serde_json::{Value, json};
use support::{
    apiserver::FakeApi,
    res,
    wait::{WAIT, eventually},
};

struct Env {
    api: FakeApi,
    fleet: SharedFleet,
    config: Arc<ArcSwap<Config>>,
    conn: Connection,
    metrics: KarmadaMetrics,
    _running: Running,
}

fn takeover_name(name: &str) -> String {
    names::takeover_policy_name("shop", name, "apps/v1", "Deployment")
}

/// member1 runs shop/web (unmanaged) and its ConfigMap; member2 runs shop/legacy (managed).
async fn env() -> Env {
    let api = FakeApi::start().await;
    for m in ["member1", "member2"] {
        api.add_member(m);
        api.put(None, res::CLUSTERS, support::cluster(m, true));
    }
    api.put(None, res::NS, support::namespace("shop"));
    api.put(
        Some("member1"),
        res::DEPLOY,
        support::deployment("shop", "web", json!({}), json!({}), Some("web-config")),
    );
    api.put(
        Some("member1"),
        res::CM,
        support::configmap("shop", "web-config", json!({"app": "web"})),
    );
    api.put(
        Some("member2"),
        res::DEPLOY,
        support::deployment(
            "shop",
            "legacy",
            json!({"karmada.io/managed": "true"}),
            json!({}),
            None,
        ),
    );
    let conn = api.connection().await;
    let fleet = SharedFleet::default();
    let config = Arc::new(ArcSwap::from_pointee(Config::default()));
    let metrics = KarmadaMetrics::unregistered().unwrap();
    let options = Options {
        backoff_initial: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        ..Options::default()
    };
    let running = watch::start(
        conn.clone(),
        fleet.clone(),
        config.clone(),
        options,
        metrics.clone(),
    );
    assert!(
        running.wait_synced(WAIT).await,
        "pending: {:?}",
        running.pending()
    );
    Env {
        api,
        fleet,
        config,
        conn,
        metrics,
        _running: running,
    }
}

impl Env {
    fn review(&self, webhook: Webhook, body: &[u8]) -> admission::Reviewed {
        admission::review(webhook, body, &self.fleet.read(), &self.config.load()).unwrap()
    }

    /// Admits the CREATE of `shop/web` and returns the takeover policy the webhook decided.
    fn admit_web_takeover(&self) -> Policy {
        let (_, body) = create_web(false);
        let reviewed = self.review(Webhook::MutateWorkload, &body);
        match reviewed.summary.actions.first() {
            Some(Action::EnsurePolicy { policy }) => (**policy).clone(),
            other => panic!("expected a takeover policy, got {other:?}"),
        }
    }

    fn writer(&self, timeout: Duration) -> KubeWriter {
        KubeWriter::start(
            self.conn.client.clone(),
            WriterOptions {
                queue: 16,
                request_timeout: timeout,
            },
            self.metrics.clone(),
        )
    }

    fn reconciler(&self, gc_grace: Duration) -> Reconciler {
        self.reconciler_with(reconciler::Options {
            gc_grace,
            ..reconciler::Options::default()
        })
    }

    /// A reconciler with test timings (fast interval, short requests, a fixed identity).
    fn reconciler_with(&self, options: reconciler::Options) -> Reconciler {
        Reconciler::new(
            self.conn.clone(),
            self.fleet.clone(),
            self.config.clone(),
            reconciler::Options {
                interval: Duration::from_millis(50),
                request_timeout: Duration::from_secs(2),
                identity: "replica-a".into(),
                ..options
            },
            self.metrics.clone(),
        )
    }

    /// Stores the admitted object as the API server would: with the webhook's patch applied.
    fn store_admitted(&self, reviewed: &admission::Reviewed, mut object: Value) {
        json_patch::patch(&mut object, &reviewed.decision.patch).unwrap();
        self.api.put(None, res::DEPLOY, object);
    }

    fn policies(&self) -> Vec<Value> {
        self.api.list(None, res::PP)
    }
}

fn create_web(dry_run: bool) -> (Value, Vec<u8>) {
    let web = support::deployment("shop", "web", json!({}), json!({}), Some("web-config"));
    let body = support::review(
        ("apps", "v1", "Deployment"),
        "deployments",
        "CREATE",
        &web,
        dry_run,
    );
    (web, body)
}

#[tokio::test]
async fn a_deployment_create_found_in_member1_gets_exactly_one_takeover_policy() {
    let env = env().await;
    let (web, body) = create_web(false);
    let reviewed = env.review(Webhook::MutateWorkload, &body);
    assert_eq!(reviewed.summary.outcome, admission::Outcome::Patched);
    assert_eq!(reviewed.summary.actions.len(), 1, "{:?}", reviewed.decision);
    // Two replicas submit the same decision; the API server stores the template.
    let (a, b) = (env.writer(WAIT), env.writer(WAIT));
    a.submit(&reviewed.summary.actions);
    b.submit(&reviewed.summary.actions);
    env.store_admitted(&reviewed, web);
    eventually(WAIT, "takeover policy written", || !env.policies().is_empty()).await;
    eventually(WAIT, "both writes done", || {
        env.metrics
            .writer_total
            .with_label_values(&["ensure", "created"])
            .get()
            + env
                .metrics
                .writer_total
                .with_label_values(&["ensure", "unchanged"])
                .get()
            + env
                .metrics
                .writer_total
                .with_label_values(&["ensure", "updated"])
                .get()
            >= 2
    })
    .await;
    // The reconciler finds nothing to do for it.
    eventually(WAIT, "policy in the fleet view", || {
        env.fleet
            .read()
            .policy(PolicyKind::PropagationPolicy, "shop", &takeover_name("web"))
            .is_some()
    })
    .await;
    let report = env.reconciler(Duration::from_secs(600)).pass().await;
    assert_eq!(report.count("ensure", "created"), 0, "{report:?}");

    let policies = env.policies();
    assert_eq!(policies.len(), 1, "{policies:#?}");
    let p = &policies[0];
    assert_eq!(p["metadata"]["name"], takeover_name("web"));
    assert_eq!(
        p["spec"]["placement"]["clusterAffinity"]["clusterNames"],
        json!(["member1"])
    );
    assert_eq!(p["spec"]["conflictResolution"], "Overwrite");
    assert_eq!(
        p["metadata"]["labels"]["app.kubernetes.io/managed-by"],
        "karmada-takeover"
    );
    assert_eq!(p["metadata"]["managedFields"][0]["manager"], "karmada-takeover");
    // Karmada's webhook set the permanent id; we never did, and it survived every apply.
    assert!(
        p["metadata"]["labels"]["propagationpolicy.karmada.io/permanent-id"]
            .as_str()
            .is_some_and(|id| id.starts_with("0000-permanent-")),
        "{p:#}"
    );
    let applies = env
        .api
        .writes()
        .into_iter()
        .filter(|w| w.method == "PATCH" && w.query.contains("fieldManager=karmada-takeover"))
        .count();
    assert!(applies >= 1);
}

#[tokio::test]
async fn an_update_keeps_the_labels_and_finalizers_karmada_added() {
    let env = env().await;
    let policy = &env.admit_web_takeover();
    let client = env.conn.client.clone();
    assert_eq!(
        ensure_policy(&client, policy, WAIT).await.unwrap(),
        Written::Created
    );
    assert_eq!(
        ensure_policy(&client, policy, WAIT).await.unwrap(),
        Written::Unchanged
    );
    let mut changed = policy.clone();
    changed
        .spec
        .placement
        .as_mut()
        .and_then(|p| p.cluster_affinity.as_mut())
        .expect("a takeover policy is pinned by clusterAffinity")
        .cluster_names = Some(vec!["member1".into(), "member2".into()]);
    assert_eq!(
        ensure_policy(&client, &changed, WAIT).await.unwrap(),
        Written::Updated
    );
    let stored = env.api.get(None, res::PP, "shop", &takeover_name("web")).unwrap();
    assert_eq!(
        stored["spec"]["placement"]["clusterAffinity"]["clusterNames"],
        json!(["member1", "member2"])
    );
    assert!(
        stored["metadata"]["labels"]["propagationpolicy.karmada.io/permanent-id"].is_string(),
        "{stored:#}"
    );
    assert_eq!(
        stored["metadata"]["finalizers"],
        json!(["karmada.io/propagation-policy-controller"])
    );
}

#[tokio::test]
async fn a_dry_run_writes_nothing() {
    let env = env().await;
    let (_, body) = create_web(true);
    let reviewed = env.review(Webhook::MutateWorkload, &body);
    assert!(reviewed.summary.dry_run);
    assert!(reviewed.summary.actions.is_empty());
    let writer = env.writer(WAIT);
    writer.submit(&reviewed.summary.actions);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(env.api.writes().is_empty(), "{:?}", env.api.writes());
}

#[tokio::test]
async fn a_karmada_managed_member_copy_is_denied() {
    let env = env().await;
    let legacy = support::deployment("shop", "legacy", json!({}), json!({}), None);
    let body = support::review(
        ("apps", "v1", "Deployment"),
        "deployments",
        "CREATE",
        &legacy,
        false,
    );
    let reviewed = env.review(Webhook::ValidateWorkload, &body);
    assert_eq!(reviewed.summary.deny_reason, Some(DenyReason::ManagedInMember));
    assert!(reviewed.summary.actions.is_empty());
    let text = String::from_utf8(reviewed.body).unwrap();
    assert!(text.contains("member2"), "{text}");
}

/// The template as Karmada leaves it after our takeover policy claimed it.
fn adopted_web(env: &Env, claimed: bool) -> Value {
    let mut labels = json!({});
    let mut annotations = json!({
        "karmada-takeover.io/clusters": "member1",
        "karmada-takeover.io/policy": takeover_name("web"),
        "work.karmada.io/conflict-resolution": "overwrite",
    });
    if claimed {
        labels["propagationpolicy.karmada.io/permanent-id"] = json!("0000-permanent-1");
        annotations["propagationpolicy.karmada.io/namespace"] = json!("shop");
        annotations["propagationpolicy.karmada.io/name"] = json!(takeover_name("web"));
    }
    let web = support::deployment("shop", "web", labels, annotations, Some("web-config"));
    env.api.put(None, res::DEPLOY, web.clone());
    web
}

#[tokio::test]
async fn the_reconciler_ensures_a_missing_takeover_policy_then_promotes_its_dependencies() {
    let env = env().await;
    adopted_web(&env, false);
    eventually(WAIT, "template in the fleet", || {
        env.fleet
            .read()
            .template("apps/v1", "Deployment", "shop", "web")
            .is_some()
    })
    .await;
    let mut r = env.reconciler(Duration::from_secs(600));
    let report = r.pass().await;
    assert_eq!(report.count("ensure", "created"), 1, "{report:?}");
    assert_eq!(env.policies().len(), 1);
    eventually(WAIT, "policy in the fleet", || {
        env.fleet
            .read()
            .policy(PolicyKind::PropagationPolicy, "shop", &takeover_name("web"))
            .is_some()
    })
    .await;

    // Next pass: the ConfigMap the Deployment mounts is copied from member1.
    let report = r.pass().await;
    assert_eq!(report.count("promote", "created"), 1, "{report:?}");
    let cm = env.api.get(None, res::CM, "shop", "web-config").unwrap();
    // The attached binding takes the takeover policy's Overwrite: no annotation that would
    // outlive the takeover.
    assert!(
        cm["metadata"]["annotations"]
            .get("work.karmada.io/conflict-resolution")
            .is_none()
    );
    assert_eq!(cm["metadata"]["labels"]["app"], "web");
    assert_eq!(cm["data"]["key"], "value");
    assert!(cm["metadata"]["managedFields"].is_null());
    // Nothing more to do afterwards.
    eventually(WAIT, "ConfigMap in the fleet", || {
        env.fleet
            .read()
            .template("v1", "ConfigMap", "shop", "web-config")
            .is_some()
    })
    .await;
    let report = r.pass().await;
    assert!(report.counts.is_empty(), "{report:?}");
    assert_eq!(env.metrics.action_count("promote", "created"), 1);
}

#[tokio::test]
async fn an_application_policy_admitted_with_the_gate_off_releases_the_takeover_policy() {
    let env = env().await;
    adopted_web(&env, true);
    let policy = &env.admit_web_takeover();
    ensure_policy(&env.conn.client, policy, WAIT).await.unwrap();
    eventually(WAIT, "claim and policy in the fleet", || {
        let f = env.fleet.read();
        f.policy(PolicyKind::PropagationPolicy, "shop", &takeover_name("web"))
            .is_some()
            && !f
                .claimed_by(PolicyKind::PropagationPolicy, "shop", &takeover_name("web"))
                .is_empty()
    })
    .await;

    let app = support::pp(
        "shop",
        "web-app",
        json!({"karmada-takeover.io/tier": "application"}),
        json!({"resourceSelectors": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}],
               "priority": 10, "placement": {"clusterAffinity": {"clusterNames": ["member1", "member2"]}}}),
    );
    let body = support::review(
        ("policy.karmada.io", "v1alpha1", "PropagationPolicy"),
        "propagationpolicies",
        "CREATE",
        &app,
        false,
    );
    let reviewed = env.review(Webhook::ValidatePolicy, &body);
    assert!(reviewed.decision.allowed(), "{:?}", reviewed.decision);
    assert_eq!(
        reviewed.summary.actions,
        [Action::ReleasePolicy {
            kind: PolicyKind::PropagationPolicy,
            namespace: "shop".into(),
            name: takeover_name("web")
        }]
    );
    env.writer(WAIT).submit(&reviewed.summary.actions);
    env.api.put(None, res::PP, app);
    eventually(WAIT, "takeover policy released", || {
        env.api
            .get(None, res::PP, "shop", &takeover_name("web"))
            .is_none()
    })
    .await;
    assert!(env.api.get(None, res::PP, "shop", "web-app").is_some());
    // Member workloads are never touched.
    assert!(env.api.writes().iter().all(|w| !w.path.contains("/proxy/")));
    // The reconciler does not bring it back while the application policy selects the template.
    eventually(WAIT, "release seen", || {
        env.fleet
            .read()
            .policy(PolicyKind::PropagationPolicy, "shop", &takeover_name("web"))
            .is_none()
            && env
                .fleet
                .read()
                .policy(PolicyKind::PropagationPolicy, "shop", "web-app")
                .is_some()
    })
    .await;
    let report = env.reconciler(Duration::from_secs(600)).pass().await;
    assert_eq!(report.count("ensure", "created"), 0, "{report:?}");
    assert!(
        env.api
            .get(None, res::PP, "shop", &takeover_name("web"))
            .is_none()
    );
}

#[tokio::test]
async fn the_reconciler_releases_when_admission_could_not() {
    let env = env().await;
    adopted_web(&env, true);
    let policy = &env.admit_web_takeover();
    ensure_policy(&env.conn.client, policy, WAIT).await.unwrap();
    env.api.put(
        None,
        res::PP,
        support::pp("shop", "web-app", json!({"karmada-takeover.io/tier": "application"}),
            json!({"resourceSelectors": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}], "priority": 10})),
    );
    eventually(WAIT, "both policies in the fleet", || {
        env.fleet.read().counts().policies == 2
    })
    .await;
    let report = env.reconciler(Duration::from_secs(600)).pass().await;
    assert_eq!(report.count("release", "deleted"), 1, "{report:?}");
    assert!(
        env.api
            .get(None, res::PP, "shop", &takeover_name("web"))
            .is_none()
    );
}

#[tokio::test]
async fn an_overwrite_an_earlier_version_left_goes_once_an_application_policy_claims_the_template() {
    let env = env().await;
    env.api.put(
        None,
        res::PP,
        support::pp(
            "shop",
            "web-app",
            json!({"karmada-takeover.io/tier": "application"}),
            json!({"resourceSelectors": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}],
                   "priority": 10, "conflictResolution": "Abort"}),
        ),
    );
    // shop/web: adopted by an earlier version (its annotations), then released to web-app, which
    // Karmada let claim it. shop/own: the user's own overwrite, claimed by web-app too.
    let claim = |mut annotations: Value| {
        annotations["propagationpolicy.karmada.io/namespace"] = json!("shop");
        annotations["propagationpolicy.karmada.io/name"] = json!("web-app");
        annotations
    };
    let claimed = json!({"propagationpolicy.karmada.io/permanent-id": "0000-permanent-9"});
    env.api.put(
        None,
        res::DEPLOY,
        support::deployment(
            "shop",
            "web",
            claimed.clone(),
            claim(json!({
                "karmada-takeover.io/clusters": "member1",
                "karmada-takeover.io/policy": takeover_name("web"),
                "work.karmada.io/conflict-resolution": "overwrite",
            })),
            Some("web-config"),
        ),
    );
    env.api.put(
        None,
        res::DEPLOY,
        support::deployment(
            "shop",
            "own",
            claimed,
            claim(json!({"work.karmada.io/conflict-resolution": "overwrite"})),
            None,
        ),
    );
    eventually(WAIT, "templates and the application policy in the fleet", || {
        let f = env.fleet.read();
        f.template("apps/v1", "Deployment", "shop", "web").is_some()
            && f.template("apps/v1", "Deployment", "shop", "own").is_some()
            && f.policy(PolicyKind::PropagationPolicy, "shop", "web-app")
                .is_some()
    })
    .await;

    let mut r = env.reconciler(Duration::from_secs(600));
    let report = r.pass().await;
    assert_eq!(report.count("linger", "removed"), 1, "{report:?}");
    assert_eq!(report.count("ensure", "created"), 0, "{report:?}");
    let web = env.api.get(None, res::DEPLOY, "shop", "web").unwrap();
    let annotations = &web["metadata"]["annotations"];
    assert!(
        annotations.get("work.karmada.io/conflict-resolution").is_none(),
        "{web:#}"
    );
    // Everything else stays: our record of the adoption and Karmada's claim.
    assert_eq!(annotations["karmada-takeover.io/policy"], takeover_name("web"));
    assert_eq!(annotations["karmada-takeover.io/clusters"], "member1");
    assert_eq!(annotations["propagationpolicy.karmada.io/name"], "web-app");
    assert_eq!(
        web["metadata"]["labels"]["propagationpolicy.karmada.io/permanent-id"],
        "0000-permanent-9"
    );
    let own = env.api.get(None, res::DEPLOY, "shop", "own").unwrap();
    assert_eq!(
        own["metadata"]["annotations"]["work.karmada.io/conflict-resolution"],
        "overwrite"
    );
    let patches: Vec<_> = env
        .api
        .writes()
        .into_iter()
        .filter(|w| w.method == "PATCH" && w.path.ends_with("/deployments/web"))
        .collect();
    assert_eq!(patches.len(), 1, "{patches:?}");
    assert!(
        patches[0].query.contains("fieldManager=karmada-takeover"),
        "{patches:?}"
    );
    assert!(env.policies().iter().all(|p| p["metadata"]["name"] == "web-app"));

    // Idempotent: once the fleet has seen the change, a second pass writes nothing.
    eventually(WAIT, "the removal is in the fleet", || {
        env.fleet
            .read()
            .template("apps/v1", "Deployment", "shop", "web")
            .is_some_and(|t| !t.annotations.contains_key("work.karmada.io/conflict-resolution"))
    })
    .await;
    let writes = env.api.writes().len();
    let report = r.pass().await;
    assert!(report.counts.is_empty(), "{report:?}");
    assert_eq!(env.api.writes().len(), writes, "{:?}", env.api.writes());
}

#[tokio::test]
async fn a_lingering_overwrite_changed_by_a_user_in_between_is_left_to_the_user() {
    let env = env().await;
    env.api.put(
        None,
        res::PP,
        support::pp("shop", "web-app", json!({"karmada-takeover.io/tier": "application"}),
            json!({"resourceSelectors": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}], "priority": 10})),
    );
    let mut web = support::deployment(
        "shop",
        "web",
        json!({"propagationpolicy.karmada.io/permanent-id": "0000-permanent-9"}),
        json!({
            "karmada-takeover.io/clusters": "member1",
            "karmada-takeover.io/policy": takeover_name("web"),
            "work.karmada.io/conflict-resolution": "overwrite",
            "propagationpolicy.karmada.io/namespace": "shop",
            "propagationpolicy.karmada.io/name": "web-app",
        }),
        Some("web-config"),
    );
    env.api.put(None, res::DEPLOY, web.clone());
    eventually(WAIT, "template and policy in the fleet", || {
        let f = env.fleet.read();
        f.template("apps/v1", "Deployment", "shop", "web").is_some()
            && f.policy(PolicyKind::PropagationPolicy, "shop", "web-app")
                .is_some()
    })
    .await;
    // A user sets abort after the fleet view saw `overwrite`: the pass decides on the old view.
    let seen = env
        .fleet
        .read()
        .template("apps/v1", "Deployment", "shop", "web")
        .cloned()
        .unwrap();
    web["metadata"]["annotations"]["work.karmada.io/conflict-resolution"] = json!("abort");
    env.api.put(None, res::DEPLOY, web);
    eventually(WAIT, "the user's change in the fleet", || {
        env.fleet
            .read()
            .template("apps/v1", "Deployment", "shop", "web")
            .is_some_and(|t| t.annotations.get("work.karmada.io/conflict-resolution") == Some("abort"))
    })
    .await;
    env.fleet.write().upsert_template(seen);
    let report = env.reconciler(Duration::from_secs(600)).pass().await;
    assert_eq!(report.count("linger", "changed"), 1, "{report:?}");
    let stored = env.api.get(None, res::DEPLOY, "shop", "web").unwrap();
    assert_eq!(
        stored["metadata"]["annotations"]["work.karmada.io/conflict-resolution"],
        "abort"
    );
}

#[tokio::test]
async fn takeover_policies_whose_template_never_appeared_are_garbage_collected() {
    let env = env().await;
    let policy = &env.admit_web_takeover();
    ensure_policy(&env.conn.client, policy, WAIT).await.unwrap(); // the CREATE itself never got stored
    // Someone else's policy with the same kind of annotation is never touched.
    let mut foreign = serde_json::to_value(policy).unwrap();
    foreign["metadata"]["name"] = json!("not-ours");
    foreign["metadata"]["labels"] = json!({"team": "a"});
    env.api.put(None, res::PP, foreign);
    eventually(WAIT, "policies in the fleet", || {
        env.fleet.read().counts().policies == 2
    })
    .await;
    let mut r = env.reconciler(Duration::from_millis(150));
    let first = r.pass().await;
    assert_eq!(first.count("gc", "deleted"), 0, "grace period: {first:?}");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let report = r.pass().await;
    assert_eq!(report.count("gc", "deleted"), 1, "{report:?}");
    assert!(
        env.api
            .get(None, res::PP, "shop", &takeover_name("web"))
            .is_none()
    );
    assert!(env.api.get(None, res::PP, "shop", "not-ours").is_some());
}

#[tokio::test]
async fn one_replica_leads_through_the_lease_and_another_takes_over_when_it_stops() {
    let env = env().await;
    let d = Duration::from_secs(1);
    let a = LeaderElector::new(
        env.conn.client.clone(),
        "karmada-system",
        "karmada-takeover-reconciler",
        "a",
        d,
    );
    let b = LeaderElector::new(
        env.conn.client.clone(),
        "karmada-system",
        "karmada-takeover-reconciler",
        "b",
        d,
    );
    assert!(a.try_acquire_or_renew().await.unwrap());
    assert!(!b.try_acquire_or_renew().await.unwrap());
    assert!(a.try_acquire_or_renew().await.unwrap());
    tokio::time::sleep(Duration::from_millis(2100)).await; // a stopped renewing
    assert!(b.try_acquire_or_renew().await.unwrap());
    assert!(!a.try_acquire_or_renew().await.unwrap());
    let lease = env
        .api
        .get(None, res::LEASE, "karmada-system", "karmada-takeover-reconciler")
        .unwrap();
    assert_eq!(lease["spec"]["holderIdentity"], "b");
    assert_eq!(lease["spec"]["leaseTransitions"], 1);
}

#[tokio::test]
async fn the_running_reconciler_heals_once_it_leads() {
    let env = env().await;
    adopted_web(&env, false);
    eventually(WAIT, "template in the fleet", || {
        env.fleet
            .read()
            .template("apps/v1", "Deployment", "shop", "web")
            .is_some()
    })
    .await;
    let r = env.reconciler(Duration::from_secs(600));
    let (_tx, synced) = tokio::sync::watch::channel(true);
    let task = tokio::spawn(reconciler::run(r, synced, Arc::new(tokio::sync::Notify::new())));
    eventually(WAIT, "policy ensured by the leader", || {
        env.api
            .get(None, res::PP, "shop", &takeover_name("web"))
            .is_some()
    })
    .await;
    assert_eq!(env.metrics.reconciler_leader.get(), 1);
    task.abort();
}

#[tokio::test]
async fn admission_answers_in_time_while_the_api_server_stalls_or_fails() {
    let env = env().await;
    let writer = env.writer(Duration::from_millis(300));
    let deadline = Duration::from_millis(100);
    for fault in ["stall", "error"] {
        match fault {
            "stall" => env.api.stall(true),
            _ => env.api.fail_with(Some(500)),
        }
        let (_, body) = create_web(false);
        let started = std::time::Instant::now();
        let reviewed = env.review(Webhook::MutateWorkload, &body);
        writer.submit(&reviewed.summary.actions);
        assert!(
            started.elapsed() < deadline,
            "{fault}: took {:?}",
            started.elapsed()
        );
        assert_eq!(reviewed.summary.outcome, admission::Outcome::Patched, "{fault}");
        let label = if fault == "stall" { "timeout" } else { "error" };
        eventually(WAIT, "the write failed and was counted", || {
            env.metrics
                .writer_total
                .with_label_values(&["ensure", label])
                .get()
                >= 1
        })
        .await;
        env.api.stall(false);
        env.api.fail_with(None);
    }
    assert!(
        env.api
            .get(None, res::PP, "shop", &takeover_name("web"))
            .is_none()
    );
    // The reconciler heals it once the template is there and the API server answers.
    adopted_web(&env, false);
    eventually(WAIT, "template in the fleet", || {
        env.fleet
            .read()
            .template("apps/v1", "Deployment", "shop", "web")
            .is_some()
    })
    .await;
    let report = env.reconciler(Duration::from_secs(600)).pass().await;
    assert_eq!(report.count("ensure", "created"), 1, "{report:?}");
}

#[tokio::test]
async fn the_optional_sweep_adopts_templates_that_predate_the_webhook() {
    let env = env().await;
    // Applied before the webhook existed: no annotations of ours, no claim. shop/web runs
    // unmanaged in member1; shop/legacy only has a Karmada-managed copy in member2.
    env.api.put(
        None,
        res::DEPLOY,
        support::deployment("shop", "web", json!({}), json!({}), Some("web-config")),
    );
    env.api.put(
        None,
        res::DEPLOY,
        support::deployment("shop", "legacy", json!({}), json!({}), None),
    );
    eventually(WAIT, "templates in the fleet", || {
        let f = env.fleet.read();
        f.template("apps/v1", "Deployment", "shop", "web").is_some()
            && f.template("apps/v1", "Deployment", "shop", "legacy").is_some()
    })
    .await;

    // Off by default: nothing happens.
    let report = env.reconciler(Duration::from_secs(600)).pass().await;
    assert_eq!(report.count("sweep", "adopted"), 0, "{report:?}");
    assert!(env.policies().is_empty());

    let mut sweeping = env.reconciler_with(reconciler::Options {
        sweep_existing: true,
        ..reconciler::Options::default()
    });
    let report = sweeping.pass().await;
    assert_eq!(report.count("sweep", "adopted"), 1, "{report:?}");
    let policies = env.policies();
    assert_eq!(policies.len(), 1, "{policies:?}");
    assert_eq!(policies[0]["metadata"]["name"], takeover_name("web"));
    assert_eq!(
        policies[0]["spec"]["placement"]["clusterAffinity"]["clusterNames"],
        json!(["member1"])
    );
    let web = env.api.get(None, res::DEPLOY, "shop", "web").unwrap();
    assert_eq!(
        web["metadata"]["annotations"]["karmada-takeover.io/clusters"],
        "member1"
    );
    assert_eq!(
        web["metadata"]["annotations"]["karmada-takeover.io/policy"],
        takeover_name("web")
    );
    // The takeover policy's Overwrite does it: no annotation that would outlive the takeover.
    assert!(
        web["metadata"]["annotations"]
            .get("work.karmada.io/conflict-resolution")
            .is_none()
    );
    assert_eq!(
        web["metadata"]["labels"]["resourcetemplate.karmada.io/retain-replicas"],
        "true"
    );
    let legacy = env.api.get(None, res::DEPLOY, "shop", "legacy").unwrap();
    assert!(
        legacy["metadata"]["annotations"]
            .get("karmada-takeover.io/policy")
            .is_none()
    );

    // Adopted templates are not swept twice.
    eventually(WAIT, "the adoption is in the fleet", || {
        env.fleet
            .read()
            .template("apps/v1", "Deployment", "shop", "web")
            .is_some_and(|t| t.annotations.contains_key("karmada-takeover.io/policy"))
    })
    .await;
    let report = sweeping.pass().await;
    assert_eq!(report.count("sweep", "adopted"), 0, "{report:?}");
}
