//! The Karmada adapter against the fake API server: initial sync and readiness, watch events,
//! the member index through the cluster proxy, clusters that join/leave/turn NotReady, 410 Gone
//! and API errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{sync::Arc, time::Duration};

use arc_swap::ArcSwap;
use karmada_takeover::{
    config::Config,
    fleet::{
        SharedFleet,
        watch::{self, KarmadaMetrics, Options, members::MemberPhase},
    },
    karmada::PolicyKind,
};
use serde_json::json;
use support::{
    apiserver::FakeApi,
    res,
    wait::{WAIT, eventually},
};

fn fast() -> Options {
    Options {
        backoff_initial: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        member_sync_timeout: Duration::from_secs(5),
        ..Options::default()
    }
}

async fn seeded() -> FakeApi {
    let api = FakeApi::start().await;
    api.add_member("member1");
    api.add_member("member2");
    api.put(None, res::CLUSTERS, support::cluster("member1", true));
    api.put(None, res::CLUSTERS, support::cluster("member2", true));
    api.put(None, res::NS, support::namespace("shop"));
    api.put(
        None,
        res::PP,
        support::pp("shop", "app", json!({"karmada-takeover.io/tier": "application"}),
            json!({"resourceSelectors": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "cart"}], "priority": 5})),
    );
    api.put(
        None,
        res::DEPLOY,
        support::deployment("shop", "cart", json!({}), json!({}), None),
    );
    api.put(
        Some("member1"),
        res::DEPLOY,
        support::deployment("shop", "web", json!({}), json!({}), None),
    );
    api.put(
        Some("member2"),
        res::DEPLOY,
        support::deployment(
            "shop",
            "web",
            json!({"karmada.io/managed": "true"}),
            json!({}),
            None,
        ),
    );
    api
}

/// Starts the adapter on `api` with the default config.
async fn start(
    api: &FakeApi,
    fleet: &SharedFleet,
    options: Options,
    metrics: KarmadaMetrics,
) -> watch::Running {
    let config = Arc::new(ArcSwap::from_pointee(Config::default()));
    watch::start(api.connection().await, fleet.clone(), config, options, metrics)
}

#[tokio::test]
async fn initial_lists_sync_the_fleet_then_readiness_flips() {
    let api = seeded().await;
    let fleet = SharedFleet::default();
    let running = start(&api, &fleet, fast(), KarmadaMetrics::unregistered().unwrap()).await;
    assert!(
        running.wait_synced(WAIT).await,
        "pending: {:?}",
        running.pending()
    );
    let f = fleet.read();
    assert!(f.is_synced());
    assert!(f.policy(PolicyKind::PropagationPolicy, "shop", "app").is_some());
    assert!(f.template("apps/v1", "Deployment", "shop", "cart").is_some());
    assert_eq!(f.clusters().count(), 2);
    assert_eq!(
        f.member_copies("apps", "Deployment", "shop", "web"),
        [("member1", false), ("member2", true)]
    );
    drop(f);
    assert_eq!(
        running.member_phases().values().copied().collect::<Vec<_>>(),
        [MemberPhase::Synced, MemberPhase::Synced]
    );
    // Metadata-only requests through the proxy; no writes.
    let reqs = api.requests();
    assert!(
        reqs.iter().any(|r| r.path.starts_with(
            "/apis/cluster.karmada.io/v1alpha1/clusters/member1/proxy/apis/apps/v1/deployments"
        ))
    );
    assert!(api.writes().is_empty());
}

#[tokio::test]
async fn readiness_waits_for_the_lists() {
    let api = seeded().await;
    api.stall(true);
    let fleet = SharedFleet::default();
    let running = start(&api, &fleet, fast(), KarmadaMetrics::unregistered().unwrap()).await;
    assert!(!running.wait_synced(Duration::from_millis(300)).await);
    assert!(!fleet.read().is_synced());
    api.stall(false);
    assert!(running.wait_synced(WAIT).await);
}

#[tokio::test]
async fn watch_events_errors_and_410_gone_keep_the_view_current() {
    let api = seeded().await;
    let fleet = SharedFleet::default();
    let metrics = KarmadaMetrics::unregistered().unwrap();
    let running = start(&api, &fleet, fast(), metrics.clone()).await;
    assert!(running.wait_synced(WAIT).await);

    // Plain watch events.
    api.put(
        Some("member1"),
        res::DEPLOY,
        support::deployment("shop", "api", json!({}), json!({}), None),
    );
    eventually(WAIT, "member1 api indexed", || {
        !fleet
            .read()
            .member_copies("apps", "Deployment", "shop", "api")
            .is_empty()
    })
    .await;
    api.remove(None, res::PP, "shop", "app");
    eventually(WAIT, "policy removed", || {
        fleet
            .read()
            .policy(PolicyKind::PropagationPolicy, "shop", "app")
            .is_none()
    })
    .await;
    api.bookmark();

    // 410 Gone: a deletion missed while expired is caught by the re-list.
    api.expire_watches();
    api.remove(None, res::DEPLOY, "shop", "cart");
    api.remove(Some("member1"), res::DEPLOY, "shop", "api");
    eventually(WAIT, "template gone after re-list", || {
        fleet
            .read()
            .template("apps/v1", "Deployment", "shop", "cart")
            .is_none()
    })
    .await;
    eventually(WAIT, "member entry gone after re-list", || {
        fleet
            .read()
            .member_copies("apps", "Deployment", "shop", "api")
            .is_empty()
    })
    .await;

    // Errors back off and resume.
    api.fail_with(Some(500));
    api.close_watches();
    tokio::time::sleep(Duration::from_millis(200)).await;
    api.fail_with(None);
    api.put(
        None,
        res::DEPLOY,
        support::deployment("shop", "late", json!({}), json!({}), None),
    );
    eventually(WAIT, "watch resumed after errors", || {
        fleet
            .read()
            .template("apps/v1", "Deployment", "shop", "late")
            .is_some()
    })
    .await;
    assert!(
        metrics.watch_errors_total.with_label_values(&["member"]).get()
            + metrics
                .watch_errors_total
                .with_label_values(&["propagationpolicies"])
                .get()
            > 0
    );
}

#[tokio::test]
async fn clusters_that_join_leave_or_turn_not_ready_are_followed() {
    let api = seeded().await;
    let fleet = SharedFleet::default();
    let running = start(&api, &fleet, fast(), KarmadaMetrics::unregistered().unwrap()).await;
    assert!(running.wait_synced(WAIT).await);

    // Join.
    api.add_member("member3");
    api.put(
        Some("member3"),
        res::DEPLOY,
        support::deployment("shop", "web", json!({}), json!({}), None),
    );
    api.put(None, res::CLUSTERS, support::cluster("member3", true));
    eventually(WAIT, "member3 indexed", || {
        fleet
            .read()
            .member_copies("apps", "Deployment", "shop", "web")
            .len()
            == 3
    })
    .await;

    // NotReady: watches stop, entries are kept.
    api.put(None, res::CLUSTERS, support::cluster("member3", false));
    eventually(WAIT, "member3 not ready", || {
        running.member_phases().get("member3") == Some(&MemberPhase::NotReady)
    })
    .await;
    api.put(
        Some("member3"),
        res::DEPLOY,
        support::deployment("shop", "ignored", json!({}), json!({}), None),
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        fleet
            .read()
            .member_copies("apps", "Deployment", "shop", "ignored")
            .is_empty()
    );
    assert_eq!(
        fleet
            .read()
            .member_copies("apps", "Deployment", "shop", "web")
            .len(),
        3
    );

    // Leave: forgotten.
    api.remove(None, res::CLUSTERS, "", "member3");
    eventually(WAIT, "member3 forgotten", || {
        fleet
            .read()
            .member_copies("apps", "Deployment", "shop", "web")
            .len()
            == 2
    })
    .await;
    assert!(fleet.read().cluster("member3").is_none());
}

#[tokio::test]
async fn an_unreachable_member_does_not_keep_the_webhook_unready() {
    let api = seeded().await;
    api.remove_member("member2"); // proxy answers 503
    let fleet = SharedFleet::default();
    let options = Options {
        member_sync_timeout: Duration::from_millis(300),
        ..fast()
    };
    let running = start(&api, &fleet, options, KarmadaMetrics::unregistered().unwrap()).await;
    assert!(running.wait_synced(WAIT).await);
    assert_eq!(
        running.member_phases().get("member2"),
        Some(&MemberPhase::Listing)
    );
    assert_eq!(
        fleet.read().member_copies("apps", "Deployment", "shop", "web"),
        [("member1", false)]
    );
}

#[tokio::test]
async fn discovery_gives_up_after_the_configured_timeout() {
    use karmada_takeover::{config::KindRef, fleet::watch::resources};
    let api = FakeApi::start().await;
    let client = api.client().await;
    let widget = KindRef::new("example.com/v1", "Widget"); // not in the built-in table
    api.stall(true);
    let started = std::time::Instant::now();
    let err = resources::resolve(&client, &widget, Duration::from_millis(200))
        .await
        .unwrap_err();
    assert!(matches!(err, resources::ResolveError::Timeout { .. }), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "gave up after {:?}",
        started.elapsed()
    );
    assert!(err.to_string().contains("discovery.timeout"), "{err}");
    api.stall(false);
    // Kinds of the built-in table never need discovery, stalled or not.
    api.stall(true);
    let deploy = KindRef::new("apps/v1", "Deployment");
    assert!(
        resources::resolve(&client, &deploy, Duration::from_millis(1))
            .await
            .is_ok()
    );
    api.stall(false);
}

/// ConfigMaps and Secrets in karmada-apiserver are read whole: the fleet keeps their data as
/// digests (never the data), follows a change of it, and forgets it with the template.
#[tokio::test]
async fn configmap_and_secret_templates_keep_their_data_digests() {
    let api = seeded().await;
    let secret = |value: &str| {
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "web-tls", "namespace": "shop"},
               "type": "kubernetes.io/tls", "data": {"tls.crt": value}})
    };
    api.put(None, res::SECRET, secret("Y2VydC0x"));
    let fleet = SharedFleet::default();
    let running = start(&api, &fleet, fast(), KarmadaMetrics::unregistered().unwrap()).await;
    assert!(
        running.wait_synced(WAIT).await,
        "pending: {:?}",
        running.pending()
    );
    let digest = |f: &SharedFleet| {
        f.read()
            .karmada_copy("v1", "Secret", "shop", "web-tls")
            .map(|c| c.digest())
    };
    let first = digest(&fleet).expect("the Secret's content is kept");
    assert!(fleet.read().template("v1", "Secret", "shop", "web-tls").is_some());

    api.put(None, res::SECRET, secret("Y2VydC0y"));
    eventually(WAIT, "the changed data reaches the fleet", || {
        digest(&fleet).is_some_and(|d| d != first)
    })
    .await;

    api.remove(None, res::SECRET, "shop", "web-tls");
    eventually(WAIT, "the deleted Secret leaves the fleet", || {
        digest(&fleet).is_none() && fleet.read().template("v1", "Secret", "shop", "web-tls").is_none()
    })
    .await;
}
