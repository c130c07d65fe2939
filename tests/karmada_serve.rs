//! The `serve --kubeconfig` wiring (`cli::serve_karmada::start`) against the fake API server:
//! kubeconfig file → adapter → readiness → writer → metrics in the server's registry.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use arc_swap::ArcSwap;
use karmada_takeover::{
    admission, cli::serve_karmada, config::Config, fleet::SharedFleet, metrics::Metrics, rules::Webhook,
    writer::Writer,
};
use serde_json::json;
use support::{
    apiserver::FakeApi,
    res,
    wait::{WAIT, eventually},
};

#[tokio::test]
async fn serve_with_a_kubeconfig_syncs_decides_and_writes() {
    let api = FakeApi::start().await;
    api.add_member("member1");
    api.put(None, res::CLUSTERS, support::cluster("member1", true));
    api.put(
        Some("member1"),
        res::DEPLOY,
        support::deployment("shop", "web", json!({}), json!({}), None),
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    std::fs::write(&path, api.kubeconfig_yaml()).unwrap();

    let fleet = SharedFleet::default();
    let config = Arc::new(ArcSwap::from_pointee(Config::default()));
    let metrics = Arc::new(Metrics::new().unwrap());
    let karmada = serve_karmada::start(
        &path,
        fleet.clone(),
        config.clone(),
        &metrics,
        karmada_takeover::reconciler::Options::default(),
    )
    .await
    .unwrap();
    eventually(WAIT, "fleet synced", || fleet.read().is_synced()).await;

    let web = support::deployment("shop", "web", json!({}), json!({}), None);
    let body = support::review(("apps", "v1", "Deployment"), "deployments", "CREATE", &web, false);
    let reviewed = admission::review(Webhook::MutateWorkload, &body, &fleet.read(), &config.load()).unwrap();
    karmada.writer.submit(&reviewed.summary.actions);
    eventually(WAIT, "takeover policy created", || {
        api.list(None, res::PP).len() == 1
    })
    .await;
    eventually(WAIT, "counted", || metrics.policies_created_total.get() == 1).await;
    let text = support::metrics_text(&metrics);
    for family in [
        "karmada_takeover_writer_total",
        "karmada_takeover_member_clusters",
        "karmada_takeover_reconciler_leader",
    ] {
        assert!(text.contains(family), "{family} missing");
    }
}

#[tokio::test]
async fn a_missing_kubeconfig_is_a_clear_error() {
    let fleet = SharedFleet::default();
    let config = Arc::new(ArcSwap::from_pointee(Config::default()));
    let metrics = Arc::new(Metrics::new().unwrap());
    let err = serve_karmada::start(
        std::path::Path::new("/nonexistent/kubeconfig"),
        fleet,
        config,
        &metrics,
        karmada_takeover::reconciler::Options::default(),
    )
    .await
    .err()
    .unwrap();
    assert!(
        format!("{err:#}").contains("--kubeconfig /nonexistent/kubeconfig"),
        "{err:#}"
    );
}
