//! Metric families of the Karmada adapter, the policy writer and the reconciler.
//!
//! They register into the process registry next to the server's families (same
//! `karmada_takeover_` prefix when the registry carries it). `policies_created_total` and
//! `policies_released_total` are the server's counters when `serve` passes them in
//! ([`KarmadaMetrics::with_policy_counters`]), so there is one family of each.

use prometheus::{IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, core::Collector};

/// Counters and gauges of everything that talks to karmada-apiserver.
#[derive(Debug, Clone)]
pub struct KarmadaMetrics {
    /// Takeover policies the writer or the reconciler created or updated.
    pub policies_created_total: IntCounter,
    /// Takeover policies deleted to release a template.
    pub policies_released_total: IntCounter,
    /// Writes by the policy writer, by action (`ensure`, `release`) and result (`ok`, `error`,
    /// `conflict`, `dropped`, `skipped`).
    pub writer_total: IntCounterVec,
    /// Reconciler actions by action (`ensure`, `release`, `gc`, `promote`, `sweep`) and result.
    pub reconciler_actions_total: IntCounterVec,
    /// Watch errors by source (`propagationpolicies`, `clusters`, `member`, ...).
    pub watch_errors_total: IntCounterVec,
    /// Member clusters by watch state (`watching`, `synced`, `not-ready`, `unreachable`).
    pub member_clusters: IntGaugeVec,
    /// 1 while this replica holds the reconciler lease.
    pub reconciler_leader: IntGauge,
}

impl KarmadaMetrics {
    /// Families registered in a registry of their own (tests, benchmarks).
    pub fn unregistered() -> Result<Self, prometheus::Error> {
        Self::register(&Registry::new())
    }

    /// Creates the families and registers them in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let add = |c: Box<dyn Collector>| registry.register(c);
        let created = IntCounter::new(
            "policies_created_total",
            "Takeover policies created or updated by the writer.",
        )?;
        let released = IntCounter::new(
            "policies_released_total",
            "Takeover policies deleted by the writer.",
        )?;
        add(Box::new(created.clone()))?;
        add(Box::new(released.clone()))?;
        Self::rest(registry, created, released)
    }

    /// Creates the families in `registry`, counting created/released policies in the given
    /// counters (the server's `Metrics` families).
    pub fn with_policy_counters(
        registry: &Registry,
        created: IntCounter,
        released: IntCounter,
    ) -> Result<Self, prometheus::Error> {
        Self::rest(registry, created, released)
    }

    fn rest(
        registry: &Registry,
        created: IntCounter,
        released: IntCounter,
    ) -> Result<Self, prometheus::Error> {
        let writer_total = IntCounterVec::new(
            Opts::new("writer_total", "Policy writer operations, by action and result."),
            &["action", "result"],
        )?;
        let reconciler_actions_total = IntCounterVec::new(
            Opts::new(
                "reconciler_actions_total",
                "Reconciler actions, by action and result.",
            ),
            &["action", "result"],
        )?;
        let watch_errors_total = IntCounterVec::new(
            Opts::new("watch_errors_total", "List/watch errors, by source."),
            &["source"],
        )?;
        let member_clusters = IntGaugeVec::new(
            Opts::new("member_clusters", "Member clusters by watch state."),
            &["state"],
        )?;
        let reconciler_leader = IntGauge::new(
            "reconciler_leader",
            "1 while this replica holds the reconciler lease.",
        )?;
        registry.register(Box::new(writer_total.clone()))?;
        registry.register(Box::new(reconciler_actions_total.clone()))?;
        registry.register(Box::new(watch_errors_total.clone()))?;
        registry.register(Box::new(member_clusters.clone()))?;
        registry.register(Box::new(reconciler_leader.clone()))?;
        Ok(Self {
            policies_created_total: created,
            policies_released_total: released,
            writer_total,
            reconciler_actions_total,
            watch_errors_total,
            member_clusters,
            reconciler_leader,
        })
    }

    /// Counts one reconciler action.
    pub fn action(&self, action: &str, result: &str) {
        self.reconciler_actions_total
            .with_label_values(&[action, result])
            .inc();
    }

    /// Current value of one reconciler action counter (tests, logs).
    pub fn action_count(&self, action: &str, result: &str) -> u64 {
        self.reconciler_actions_total
            .with_label_values(&[action, result])
            .get()
    }
}
