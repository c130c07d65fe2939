//! Prometheus metrics with an explicit registry (no global state).
//!
//! [`Metrics`] owns a `prometheus::Registry` whose names all start with `karmada_takeover_`; the
//! admin listener encodes it for `GET /metrics`. Every family is a public field so the parts that
//! own an event (server, TLS reloader, fleet and config watchers, policy writer) update it directly.

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder, core::Collector,
};

/// Latency buckets: 50 µs to 10 s. The API server's own webhook histogram starts at 5 ms, which
/// cannot tell a 60 µs answer from a 4 ms one; ours resolves the sub-millisecond range we target.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// A metric family could not be created or registered (a bug: names are constants).
#[derive(Debug, thiserror::Error)]
#[error("metrics registry: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

/// Every metric the process exports, and the registry they live in.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    /// Reviews answered with an AdmissionResponse, by webhook, kind, operation and outcome.
    pub admission_requests_total: IntCounterVec,
    /// Time from the end of the request headers to the response, by webhook.
    pub admission_request_duration_seconds: HistogramVec,
    /// Requests answered without an AdmissionResponse, by reason
    /// (`not-found`, `method-not-allowed`, `payload-too-large`, `bad-review`, `timeout`, `overloaded`,
    /// `memory-budget`, `internal`).
    pub admission_bad_requests_total: IntCounterVec,
    /// Takeover policies decided by admission (EnsurePolicy actions handed to the writer).
    pub takeovers_total: IntCounter,
    /// Takeover policy releases decided by admission (ReleasePolicy actions handed to the writer).
    pub releases_total: IntCounter,
    /// Denied reviews by reason (`DenyReason::label()`).
    pub denials_total: IntCounterVec,
    /// The restart guard's verdicts, one per source cluster of a takeover, by outcome
    /// (`rules::restart::Outcome::label()`: `equal`, `pod-template-differs`, ...).
    pub restart_guard_total: IntCounterVec,
    /// Policies the writer created or updated (incremented by the writer).
    pub policies_created_total: IntCounter,
    /// Policies the writer deleted to release a template (incremented by the writer).
    pub policies_released_total: IntCounter,
    /// 1 when the fleet view has synced, 0 before.
    pub fleet_synced: IntGauge,
    /// Objects in the fleet view by type (`policies`, `templates`, `clusters`, `member_entries`).
    pub fleet_objects: IntGaugeVec,
    /// Fleet reloads by result (`ok`, `error`).
    pub fleet_reloads_total: IntCounterVec,
    /// Config file reloads by result (`ok`, `error`).
    pub config_reloads_total: IntCounterVec,
    /// notAfter of the serving leaf certificate, as a Unix timestamp.
    pub tls_certificate_expiry_timestamp_seconds: IntGauge,
    /// Certificate reloads by result (`ok`, `error`).
    pub tls_reloads_total: IntCounterVec,
    /// Failed TLS handshakes on the webhook listener, by reason (`tls::HandshakeFailure`:
    /// `no-client-cert`, `bad-client-cert`, `server-cert-rejected`, `protocol`, `timeout`, `other`).
    pub tls_handshake_failures_total: IntCounterVec,
    /// Webhook requests being processed right now.
    pub inflight_requests: IntGauge,
    /// Bytes of the memory budget reserved by request bodies in flight and their decoding.
    pub body_memory_bytes: IntGauge,
    /// Open connections of the webhook listener.
    pub connections: IntGauge,
    /// Times the webhook listener stopped accepting because `--max-connections` were open.
    pub connection_limit_reached_total: IntCounter,
    /// Webhook connections the server closed because a timer ran out, by connection state
    /// (`handshake`, `first-request`, `request-headers`, `idle`).
    pub connections_timed_out_total: IntCounterVec,
}

impl Metrics {
    /// Creates every family and registers it in a fresh registry prefixed `karmada_takeover`.
    pub fn new() -> Result<Self, MetricsError> {
        let registry = Registry::new_custom(Some("karmada_takeover".into()), None)?;
        let reg = Registrar(&registry);
        Ok(Self {
            admission_requests_total: reg.add(IntCounterVec::new(
                Opts::new(
                    "admission_requests_total",
                    "Admission reviews answered, by webhook, kind, operation and outcome.",
                ),
                &["webhook", "kind", "operation", "outcome"],
            )?)?,
            admission_request_duration_seconds: reg.add(HistogramVec::new(
                HistogramOpts::new(
                    "admission_request_duration_seconds",
                    "Time to answer one admission review.",
                )
                .buckets(LATENCY_BUCKETS.to_vec()),
                &["webhook"],
            )?)?,
            admission_bad_requests_total: reg.add(IntCounterVec::new(
                Opts::new(
                    "admission_bad_requests_total",
                    "Webhook requests answered without an admission response, by reason.",
                ),
                &["reason"],
            )?)?,
            takeovers_total: reg.add(IntCounter::new(
                "takeovers_total",
                "Takeover policies decided on admission.",
            )?)?,
            releases_total: reg.add(IntCounter::new(
                "releases_total",
                "Takeover policy releases decided on admission (preemption gate off).",
            )?)?,
            denials_total: reg.add(IntCounterVec::new(
                Opts::new("denials_total", "Denied admission reviews, by reason."),
                &["reason"],
            )?)?,
            restart_guard_total: reg.add(IntCounterVec::new(
                Opts::new(
                    "restart_guard_total",
                    "Restart guard verdicts, one per source cluster of a takeover, by outcome.",
                ),
                &["outcome"],
            )?)?,
            policies_created_total: reg.add(IntCounter::new(
                "policies_created_total",
                "Takeover policies created or updated by the writer.",
            )?)?,
            policies_released_total: reg.add(IntCounter::new(
                "policies_released_total",
                "Takeover policies deleted by the writer.",
            )?)?,
            fleet_synced: reg.add(IntGauge::new(
                "fleet_synced",
                "1 once the fleet state has been loaded or listed.",
            )?)?,
            fleet_objects: reg.add(IntGaugeVec::new(
                Opts::new("fleet_objects", "Objects in the fleet view, by type."),
                &["type"],
            )?)?,
            fleet_reloads_total: reg.add(IntCounterVec::new(
                Opts::new("fleet_reloads_total", "Fleet state reloads, by result."),
                &["result"],
            )?)?,
            config_reloads_total: reg.add(IntCounterVec::new(
                Opts::new("config_reloads_total", "Engine config file reloads, by result."),
                &["result"],
            )?)?,
            tls_certificate_expiry_timestamp_seconds: reg.add(IntGauge::new(
                "tls_certificate_expiry_timestamp_seconds",
                "notAfter of the serving certificate, Unix seconds.",
            )?)?,
            tls_reloads_total: reg.add(IntCounterVec::new(
                Opts::new("tls_reloads_total", "Serving certificate reloads, by result."),
                &["result"],
            )?)?,
            tls_handshake_failures_total: reg.add(IntCounterVec::new(
                Opts::new(
                    "tls_handshake_failures_total",
                    "Failed TLS handshakes on the webhook listener, by reason.",
                ),
                &["reason"],
            )?)?,
            inflight_requests: reg.add(IntGauge::new(
                "inflight_requests",
                "Webhook requests being processed.",
            )?)?,
            body_memory_bytes: reg.add(IntGauge::new(
                "body_memory_bytes",
                "Bytes of the memory budget (--memory-budget) reserved by request bodies in flight.",
            )?)?,
            connections: reg.add(IntGauge::new(
                "connections",
                "Open connections of the webhook listener.",
            )?)?,
            connection_limit_reached_total: reg.add(IntCounter::new(
                "connection_limit_reached_total",
                "Times the webhook listener stopped accepting because --max-connections were open.",
            )?)?,
            connections_timed_out_total: reg.add(IntCounterVec::new(
                Opts::new(
                    "connections_timed_out_total",
                    "Webhook connections closed by a timer, by the state they were in.",
                ),
                &["state"],
            )?)?,
            registry,
        })
    }

    /// The registry (for encoders other than [`Metrics::encode`]).
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Prometheus text exposition format of every family.
    pub fn encode(&self) -> Result<Vec<u8>, MetricsError> {
        let mut out = Vec::with_capacity(8 * 1024);
        TextEncoder::new().encode(&self.registry.gather(), &mut out)?;
        Ok(out)
    }

    /// Latency histogram of one webhook (look the child up once, observe many times).
    pub fn latency(&self, webhook: &str) -> Histogram {
        self.admission_request_duration_seconds
            .with_label_values(&[webhook])
    }

    /// Sets `fleet_synced`, and `fleet_objects` from `(type, count)` pairs (the fleet hands its
    /// own counts over: the registry knows no view).
    pub fn observe_fleet(&self, synced: bool, objects: &[(&str, usize)]) {
        self.fleet_synced.set(i64::from(synced));
        for (kind, count) in objects {
            self.fleet_objects
                .with_label_values(&[kind])
                .set(i64::try_from(*count).unwrap_or(i64::MAX));
        }
    }
}

/// Registers a collector and hands it back.
struct Registrar<'a>(&'a Registry);

impl Registrar<'_> {
    fn add<C: Collector + Clone + 'static>(&self, collector: C) -> Result<C, prometheus::Error> {
        self.0.register(Box::new(collector.clone()))?;
        Ok(collector)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_family_is_exported_with_the_prefix() {
        let metrics = Metrics::new().unwrap();
        metrics
            .admission_requests_total
            .with_label_values(&["validate-policy", "Deployment", "CREATE", "allowed"])
            .inc();
        metrics.latency("validate-policy").observe(0.000_07);
        metrics
            .admission_bad_requests_total
            .with_label_values(&["not-found"])
            .inc();
        metrics.denials_total.with_label_values(&["guardrail"]).inc();
        metrics.restart_guard_total.with_label_values(&["equal"]).inc();
        metrics.fleet_objects.with_label_values(&["policies"]).set(3);
        metrics.fleet_reloads_total.with_label_values(&["ok"]).inc();
        metrics.config_reloads_total.with_label_values(&["ok"]).inc();
        metrics.tls_reloads_total.with_label_values(&["ok"]).inc();
        metrics
            .tls_handshake_failures_total
            .with_label_values(&["timeout"])
            .inc();
        metrics.connection_limit_reached_total.inc();
        metrics
            .connections_timed_out_total
            .with_label_values(&["idle"])
            .inc();
        let text = String::from_utf8(metrics.encode().unwrap()).unwrap();
        for family in [
            "admission_requests_total",
            "admission_request_duration_seconds_bucket",
            "admission_bad_requests_total",
            "takeovers_total",
            "releases_total",
            "denials_total",
            "restart_guard_total",
            "policies_created_total",
            "policies_released_total",
            "fleet_synced",
            "fleet_objects",
            "fleet_reloads_total",
            "config_reloads_total",
            "tls_certificate_expiry_timestamp_seconds",
            "tls_reloads_total",
            "tls_handshake_failures_total",
            "inflight_requests",
            "body_memory_bytes",
            "connections",
            "connection_limit_reached_total",
            "connections_timed_out_total",
        ] {
            assert!(
                text.contains(&format!("karmada_takeover_{family}")),
                "{family} missing from\n{text}"
            );
        }
        assert!(text.contains("le=\"0.00005\""), "50 µs bucket missing");
        assert!(text.contains("le=\"10\""), "10 s bucket missing");
    }
}
