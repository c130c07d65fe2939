//! The `serve --kubeconfig` wiring: the Karmada adapter, the policy writer and the reconciler
//! around the shared fleet view (kept apart from `serve.rs` so that file stays about the server).

use std::{path::Path, sync::Arc, time::Duration};

use anyhow::Context as _;
use arc_swap::ArcSwap;
use tokio::sync::Notify;

use crate::{
    config::Config,
    fleet::{
        SharedFleet,
        watch::{self, Connection, KarmadaMetrics},
    },
    metrics::Metrics,
    reconciler::{self, Reconciler},
    writer::kube::{KubeWriter, WriterOptions},
};

/// What `serve` keeps alive while it runs (dropping it stops the watches and the reconciler).
pub struct Karmada {
    /// The policy writer handed to the server.
    pub writer: KubeWriter,
    _adapter: watch::Running,
    _reconciler: tokio::task::JoinHandle<()>,
    _gauges: tokio::task::JoinHandle<()>,
}

impl Drop for Karmada {
    fn drop(&mut self) {
        self._reconciler.abort();
        self._gauges.abort();
    }
}

/// Connects to karmada-apiserver and starts everything; returns without waiting for any list.
pub async fn start(
    kubeconfig: &Path,
    fleet: SharedFleet,
    config: Arc<ArcSwap<Config>>,
    metrics: &Arc<Metrics>,
    options: reconciler::Options,
) -> anyhow::Result<Karmada> {
    let connection = Connection::from_kubeconfig(kubeconfig)
        .await
        .with_context(|| format!("--kubeconfig {}", kubeconfig.display()))?;
    let kmetrics = KarmadaMetrics::with_policy_counters(
        metrics.registry(),
        metrics.policies_created_total.clone(),
        metrics.policies_released_total.clone(),
    )
    .context("registering the Karmada metrics")?;
    let adapter = watch::start(
        connection.clone(),
        fleet.clone(),
        config.clone(),
        watch::Options {
            discovery_timeout: config.load().discovery.timeout,
            ..watch::Options::default()
        },
        kmetrics.clone(),
    );
    let writer = KubeWriter::start(
        connection.client.clone(),
        WriterOptions::default(),
        kmetrics.clone(),
    );
    let reconciler = tokio::spawn(reconciler::run(
        Reconciler::new(connection, fleet.clone(), config, options, kmetrics),
        adapter.synced(),
        Arc::new(Notify::new()),
    ));
    let gauges = {
        let (metrics, fleet) = (metrics.clone(), fleet);
        tokio::spawn(async move {
            loop {
                fleet.read().observe(&metrics);
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        })
    };
    tracing::info!(kubeconfig = %kubeconfig.display(), "watching karmada-apiserver and its member clusters");
    Ok(Karmada {
        writer,
        _adapter: adapter,
        _reconciler: reconciler,
        _gauges: gauges,
    })
}
