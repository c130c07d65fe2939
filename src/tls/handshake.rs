//! Failed TLS handshakes: why, counted in `tls_handshake_failures_total{reason}`, and logged.
//!
//! The reasons are a fixed set ([`HandshakeFailure`]), so a client cannot grow the label set.
//! Every failure is counted and logged at DEBUG. Failures that say something about a client or
//! about our certificate (no or a bad client certificate, our certificate refused, a TLS protocol
//! error, a handshake that did not finish in time) are also logged at WARN, at most once per
//! reason every [`WARN_INTERVAL`], with the number of such failures since the previous line.
//! `other` (the connection closed or reset before the handshake finished: port scanners, TCP
//! health checks) is only counted.

use std::{
    io,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use prometheus::IntCounter;
use rustls::AlertDescription;
use tokio_rustls::TlsAcceptor;

use crate::metrics::Metrics;

/// Why a handshake failed (the `reason` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeFailure {
    /// `--client-ca` is set and the client sent no certificate.
    NoClientCert,
    /// The client's certificate did not verify against `--client-ca` (unknown issuer, expired,
    /// wrong usage, ...).
    BadClientCert,
    /// The client refused *our* certificate: it sent a certificate alert (unknown CA, expired,
    /// bad certificate, ...) or `decrypt_error` (a signature in our chain did not verify against
    /// the CA it trusts, as when the `caBundle` holds another CA of the same name). Check
    /// `--tls-cert` and the webhook's `caBundle`.
    ServerCertRejected,
    /// Anything else TLS: not TLS at all (plain HTTP on the HTTPS port), no common protocol
    /// version or cipher suite, a malformed or unexpected message, another alert.
    Protocol,
    /// The handshake did not finish within `--header-read-timeout`.
    Timeout,
    /// The connection failed or closed before the handshake finished, without a TLS error.
    Other,
}

impl HandshakeFailure {
    /// Every reason, in label order.
    pub const ALL: [HandshakeFailure; 6] = [
        HandshakeFailure::NoClientCert,
        HandshakeFailure::BadClientCert,
        HandshakeFailure::ServerCertRejected,
        HandshakeFailure::Protocol,
        HandshakeFailure::Timeout,
        HandshakeFailure::Other,
    ];

    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            HandshakeFailure::NoClientCert => "no-client-cert",
            HandshakeFailure::BadClientCert => "bad-client-cert",
            HandshakeFailure::ServerCertRejected => "server-cert-rejected",
            HandshakeFailure::Protocol => "protocol",
            HandshakeFailure::Timeout => "timeout",
            HandshakeFailure::Other => "other",
        }
    }

    /// The reason of a failed `TlsAcceptor::accept` (tokio-rustls hands rustls' error over inside
    /// the `io::Error`).
    pub fn of(error: &io::Error) -> Self {
        let Some(tls) = error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        else {
            return if error.kind() == io::ErrorKind::TimedOut {
                HandshakeFailure::Timeout
            } else {
                HandshakeFailure::Other
            };
        };
        match tls {
            rustls::Error::NoCertificatesPresented => HandshakeFailure::NoClientCert,
            rustls::Error::InvalidCertificate(_) | rustls::Error::InvalidCertRevocationList(_) => {
                HandshakeFailure::BadClientCert
            }
            rustls::Error::AlertReceived(
                AlertDescription::BadCertificate
                | AlertDescription::UnsupportedCertificate
                | AlertDescription::CertificateRevoked
                | AlertDescription::CertificateExpired
                | AlertDescription::CertificateUnknown
                | AlertDescription::UnknownCA
                | AlertDescription::DecryptError,
            ) => HandshakeFailure::ServerCertRejected,
            _ => HandshakeFailure::Protocol,
        }
    }
}

/// How often each reason may log a WARN line.
pub const WARN_INTERVAL: Duration = Duration::from_secs(60);

/// The counters and the WARN rate limit, shared by every connection.
#[derive(Debug)]
struct Failures {
    counters: [IntCounter; 6],
    /// Per reason: when it last logged, milliseconds after `epoch` plus one (0: never).
    logged_at: [AtomicU64; 6],
    /// Per reason: failures not logged since the last WARN line.
    suppressed: [AtomicU64; 6],
    epoch: Instant,
}

impl Failures {
    fn new(metrics: &Metrics) -> Self {
        Self {
            // Created up front so every reason is exported, at 0, before it first happens.
            counters: HandshakeFailure::ALL.map(|reason| {
                metrics
                    .tls_handshake_failures_total
                    .with_label_values(&[reason.label()])
            }),
            logged_at: std::array::from_fn(|_| AtomicU64::new(0)),
            suppressed: std::array::from_fn(|_| AtomicU64::new(0)),
            epoch: Instant::now(),
        }
    }

    fn record(&self, reason: HandshakeFailure, error: Option<&io::Error>) {
        // `ALL` lists the variants in declaration order, so the discriminant is the index.
        let i = reason as usize;
        self.counters[i].inc();
        tracing::debug!(
            reason = reason.label(),
            error = error.map(tracing::field::display),
            "TLS handshake failed"
        );
        if reason == HandshakeFailure::Other {
            return;
        }
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX) + 1;
        let last = self.logged_at[i].load(Ordering::Relaxed);
        let interval = u64::try_from(WARN_INTERVAL.as_millis()).unwrap_or(u64::MAX);
        let due = last == 0 || now.saturating_sub(last) >= interval;
        if !due
            || self.logged_at[i]
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            self.suppressed[i].fetch_add(1, Ordering::Relaxed);
            return;
        }
        let suppressed = self.suppressed[i].swap(0, Ordering::Relaxed);
        tracing::warn!(
            reason = reason.label(),
            error = error.map(tracing::field::display),
            suppressed,
            "TLS handshake failed (at most one line per reason every {}s; `suppressed` more since the last one)",
            WARN_INTERVAL.as_secs()
        );
    }
}

/// A `TlsAcceptor` (it derefs to one) that also records failed handshakes.
#[derive(Clone)]
pub struct Acceptor {
    inner: TlsAcceptor,
    failures: Arc<Failures>,
}

impl std::fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acceptor").finish_non_exhaustive()
    }
}

impl std::ops::Deref for Acceptor {
    type Target = TlsAcceptor;

    fn deref(&self) -> &TlsAcceptor {
        &self.inner
    }
}

impl Acceptor {
    /// Records that `accept` failed with `error`.
    pub fn handshake_failed(&self, error: &io::Error) {
        self.failures.record(HandshakeFailure::of(error), Some(error));
    }

    /// Records that the handshake did not finish in time.
    pub fn handshake_timed_out(&self) {
        self.failures.record(HandshakeFailure::Timeout, None);
    }
}

/// What [`super::ServingTls`] keeps to hand out acceptors.
#[derive(Debug, Clone)]
pub(super) struct Recorder(Arc<Failures>);

impl Recorder {
    pub(super) fn new(metrics: &Metrics) -> Self {
        Self(Arc::new(Failures::new(metrics)))
    }

    pub(super) fn acceptor(&self, inner: TlsAcceptor) -> Acceptor {
        Acceptor {
            inner,
            failures: self.0.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tls_error(error: rustls::Error) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, error)
    }

    #[test]
    fn failures_are_classified_into_a_fixed_set_of_reasons() {
        let cases = [
            (
                tls_error(rustls::Error::NoCertificatesPresented),
                "no-client-cert",
            ),
            (
                tls_error(rustls::Error::InvalidCertificate(
                    rustls::CertificateError::UnknownIssuer,
                )),
                "bad-client-cert",
            ),
            (
                tls_error(rustls::Error::AlertReceived(AlertDescription::UnknownCA)),
                "server-cert-rejected",
            ),
            (
                tls_error(rustls::Error::AlertReceived(AlertDescription::CertificateExpired)),
                "server-cert-rejected",
            ),
            (
                tls_error(rustls::Error::AlertReceived(AlertDescription::DecryptError)),
                "server-cert-rejected",
            ),
            (
                tls_error(rustls::Error::AlertReceived(AlertDescription::ProtocolVersion)),
                "protocol",
            ),
            (
                tls_error(rustls::Error::InvalidMessage(
                    rustls::InvalidMessage::InvalidContentType,
                )),
                "protocol",
            ),
            (io::Error::from(io::ErrorKind::UnexpectedEof), "other"),
            (io::Error::from(io::ErrorKind::ConnectionReset), "other"),
            (io::Error::from(io::ErrorKind::TimedOut), "timeout"),
        ];
        for (error, label) in cases {
            assert_eq!(HandshakeFailure::of(&error).label(), label, "{error}");
        }
    }

    #[test]
    fn every_reason_is_exported_from_the_start_and_counted() {
        let metrics = Metrics::new().unwrap();
        let recorder = Recorder::new(&metrics);
        let text = String::from_utf8(metrics.encode().unwrap()).unwrap();
        for reason in HandshakeFailure::ALL {
            let series = format!(
                "karmada_takeover_tls_handshake_failures_total{{reason=\"{}\"}} 0",
                reason.label()
            );
            assert!(text.contains(&series), "{series} in\n{text}");
        }
        for _ in 0..3 {
            recorder.0.record(HandshakeFailure::NoClientCert, None);
        }
        assert_eq!(
            metrics
                .tls_handshake_failures_total
                .with_label_values(&["no-client-cert"])
                .get(),
            3
        );
        // The first one logged, the next two were held back and are reported with the next line.
        assert_eq!(recorder.0.suppressed[0].load(Ordering::Relaxed), 2);
    }
}
