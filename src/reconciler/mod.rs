//! The reconciler: heals what admission could not finish. It runs in every replica but acts only
//! while it holds the `coordination.k8s.io` Lease (serving never waits on it), and only once the
//! fleet view has synced. Each pass, from the fleet view:
//!
//! 1. **ensure** — every template the webhook adopted (annotations `karmada-takeover.io/policy`
//!    and `karmada-takeover.io/clusters`) has its takeover policy, rebuilt with
//!    [`takeover_policy`](crate::rules::takeover::takeover_policy); skipped when the template opted out, or an application policy claims
//!    or would claim it (it was released on purpose);
//! 2. **release** — with Karmada's preemption gate off, the takeover policies that an application
//!    policy should take templates from ([`guardrails::assess`](crate::rules::guardrails::assess)) are deleted, so that Karmada
//!    re-matches the templates to the application policy; member workloads are not touched;
//! 3. **gc** — takeover policies (ours only) whose template has been absent for
//!    `Options::gc_grace` are deleted (an admitted CREATE that never got stored, a deleted template);
//! 4. **linger** — templates an earlier version annotated `work.karmada.io/conflict-resolution:
//!    overwrite` lose that annotation once an application policy claims them
//!    ([`rules::linger`](crate::rules::linger) decides; a JSON patch that tests before it removes);
//! 5. **promote** — ConfigMaps and Secrets an adopted workload uses that are missing in Karmada
//!    are copied from the source member cluster through the proxy ([`promote`]);
//! 6. **sweep** (off by default) — templates that existed before the webhook, unclaimed and
//!    running unmanaged in members, get the decision admission would have made on CREATE.
//!
//! Every action is counted in `reconciler_actions_total{action,result}` and logged with the
//! object it touched.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant},
};

use arc_swap::ArcSwap;
use kube::Client;
use tokio::sync::{Notify, watch};

use crate::{
    config::Config,
    fleet::{
        SharedFleet,
        watch::{Connection, KarmadaMetrics},
    },
    karmada::{Policy, PolicyKind},
    rules::view::TemplateMeta,
};

pub mod adopt;
mod ensure;
pub mod lease;
mod linger;
pub mod promote;
mod release;
mod sweep;

/// Reconciler settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Time between passes (and lease renewals).
    pub interval: Duration,
    /// Namespace of the Lease in karmada-apiserver.
    pub lease_namespace: String,
    /// Name of the Lease.
    pub lease_name: String,
    /// This replica's identity (pod name).
    pub identity: String,
    /// How long a Lease stays valid without renewal.
    pub lease_duration: Duration,
    /// How long a takeover policy may wait for its template before it is garbage-collected.
    pub gc_grace: Duration,
    /// Copy missing ConfigMaps/Secrets of adopted workloads from their source member.
    pub promote_dependencies: bool,
    /// Adopt templates that existed before the webhook was installed.
    pub sweep_existing: bool,
    /// Longest time one API call may take.
    pub request_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(10),
            lease_namespace: "karmada-system".into(),
            lease_name: "karmada-takeover-reconciler".into(),
            identity: std::env::var("POD_NAME")
                .or_else(|_| std::env::var("HOSTNAME"))
                .unwrap_or_else(|_| "karmada-takeover".into()),
            lease_duration: Duration::from_secs(15),
            gc_grace: Duration::from_secs(600),
            promote_dependencies: true,
            sweep_existing: false,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// What one pass did, by action and result (tests and logs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    /// `(action, result)` → count.
    pub counts: HashMap<(&'static str, String), usize>,
}

impl PassReport {
    fn add(&mut self, action: &'static str, result: &str) {
        *self.counts.entry((action, result.to_owned())).or_default() += 1;
    }

    /// How many times `action` ended with `result`.
    pub fn count(&self, action: &str, result: &str) -> usize {
        self.counts
            .iter()
            .filter(|((a, r), _)| *a == action && r == result)
            .map(|(_, n)| *n)
            .sum()
    }
}

/// The reconciler state that lives across passes.
pub struct Reconciler {
    connection: Connection,
    fleet: SharedFleet,
    config: Arc<ArcSwap<Config>>,
    options: Options,
    metrics: KarmadaMetrics,
    /// Takeover policy key → when its template was first seen missing.
    missing_since: HashMap<(PolicyKind, String, String), Instant>,
    /// Templates whose dependencies are all in Karmada (key + clusters annotation).
    deps_done: HashSet<String>,
}

impl std::fmt::Debug for Reconciler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reconciler")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A template the webhook adopted, copied out of the fleet (no lock is held across awaits).
struct Adopted {
    meta: TemplateMeta,
    clusters: Vec<String>,
    policy_name: String,
    policy: Policy,
    policy_kind: PolicyKind,
    policy_exists: bool,
    left_alone: Option<String>,
}

impl Reconciler {
    /// A reconciler over the adapter's fleet view.
    pub fn new(
        connection: Connection,
        fleet: SharedFleet,
        config: Arc<ArcSwap<Config>>,
        options: Options,
        metrics: KarmadaMetrics,
    ) -> Self {
        Self {
            connection,
            fleet,
            config,
            options,
            metrics,
            missing_since: HashMap::new(),
            deps_done: HashSet::new(),
        }
    }

    fn client(&self) -> &Client {
        &self.connection.client
    }

    /// Counts an action in the metrics and the pass report without logging it (the caller logs).
    fn count(&self, report: &mut PassReport, action: &'static str, result: &str) {
        self.metrics.action(action, result);
        report.add(action, result);
    }

    fn record(
        &self,
        report: &mut PassReport,
        action: &'static str,
        result: &str,
        object: &str,
        error: Option<&str>,
    ) {
        self.count(report, action, result);
        match error {
            Some(error) => tracing::warn!(action, result, object, error, "reconciler action failed"),
            None if result == "unchanged" || result == "absent" => {
                tracing::debug!(action, result, object, "reconciler action")
            }
            None => tracing::info!(action, result, object, "reconciler action"),
        }
    }

    /// Runs one pass (the caller holds the lease). Never fails as a whole: each object's
    /// failure is counted and retried next pass.
    pub async fn pass(&mut self) -> PassReport {
        let mut report = PassReport::default();
        if !self.fleet.read().is_synced() {
            return report;
        }
        let config = self.config.load_full();
        let adopted = self.adopted(&config);
        self.ensure(&adopted, &mut report).await;
        if !config.preemption_gate {
            self.release(&config, &mut report).await;
        }
        self.gc(&config, &mut report).await;
        self.linger(&config, &mut report).await;
        if self.options.promote_dependencies && config.takeover.propagate_deps {
            self.promote(&config, &adopted, &mut report).await;
        }
        if self.options.sweep_existing {
            self.sweep(&config, &mut report).await;
        }
        report
    }
}

/// Runs the reconciler forever: waits for the fleet to sync, then every `interval` renews (or
/// tries to acquire) the lease and, while leader, runs a pass. `wake` triggers an early pass.
pub async fn run(mut reconciler: Reconciler, mut synced: watch::Receiver<bool>, wake: Arc<Notify>) {
    let _ = synced.wait_for(|s| *s).await;
    let elector = lease::LeaderElector::new(
        reconciler.client().clone(),
        &reconciler.options.lease_namespace,
        &reconciler.options.lease_name,
        &reconciler.options.identity,
        reconciler.options.lease_duration,
    );
    let mut leader = false;
    loop {
        let timeout = reconciler.options.request_timeout;
        let now_leader = match tokio::time::timeout(timeout, elector.try_acquire_or_renew()).await {
            Ok(Ok(held)) => held,
            Ok(Err(error)) => {
                tracing::warn!(%error, "reconciler lease: renew failed");
                false
            }
            Err(_) => {
                tracing::warn!("reconciler lease: no answer in time");
                false
            }
        };
        if now_leader != leader {
            tracing::info!(
                identity = elector.identity(),
                leader = now_leader,
                "reconciler leadership changed"
            );
            leader = now_leader;
        }
        reconciler.metrics.reconciler_leader.set(i64::from(leader));
        if leader {
            let report = reconciler.pass().await;
            if !report.counts.is_empty() {
                tracing::debug!(?report.counts, "reconciler pass");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(reconciler.options.interval) => {}
            () = wake.notified() => {}
        }
    }
}
