//! Certificate validity: the window check every loaded certificate passes, the expiry warning,
//! and how times read in messages.

use std::{
    path::Path,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use rustls::pki_types::CertificateDer;

use super::{Error, LoadedCert};

/// A served certificate this close to its notAfter is warned about.
pub const EXPIRY_WARNING_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);
/// How often the expiry warning repeats while it applies.
pub const EXPIRY_WARNING_INTERVAL: Duration = Duration::from_secs(3600);

/// What follows "the certificate" in a message: nothing for the leaf, ` CN=… (in the chain)` for
/// another certificate of the file.
pub(super) fn chain_position(subject: Option<&str>) -> String {
    subject
        .map(|s| format!(" {s} (in the chain)"))
        .unwrap_or_default()
}

/// RFC 3339 UTC for Unix seconds.
pub(super) fn timestamp(unix: i64) -> String {
    u64::try_from(unix).map_or_else(
        |_| format!("{unix} (Unix seconds)"),
        |secs| humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs)).to_string(),
    )
}

/// `3days 4h 5m 6s` for a number of seconds.
pub(super) fn ago(seconds: i64) -> String {
    humantime::format_duration(Duration::from_secs(seconds.unsigned_abs())).to_string()
}

/// Now, Unix seconds.
pub(super) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Refuses a certificate outside its validity window at `now` (Unix seconds). The chain's other
/// certificates are checked when they parse (clients check them too); the leaf always parses.
pub(super) fn check_validity(path: &Path, chain: &[CertificateDer<'_>], now: i64) -> Result<(), Error> {
    for (i, der) in chain.iter().enumerate() {
        let Ok((_, cert)) = x509_parser::parse_x509_certificate(der.as_ref()) else {
            continue;
        };
        let subject = (i > 0).then(|| cert.subject().to_string());
        let validity = cert.validity();
        if now > validity.not_after.timestamp() {
            return Err(Error::Expired {
                path: path.to_owned(),
                subject,
                not_after: validity.not_after.timestamp(),
                now,
            });
        }
        if now < validity.not_before.timestamp() {
            return Err(Error::NotYetValid {
                path: path.to_owned(),
                subject,
                not_before: validity.not_before.timestamp(),
                now,
            });
        }
    }
    Ok(())
}

/// Logs that `current` (served from `cert`) expires in `remaining` seconds: WARN, or ERROR once
/// it has expired.
pub(super) fn log_expiry(cert: &Path, current: &LoadedCert, remaining: i64) {
    let cert = cert.display();
    let not_after = timestamp(current.not_after);
    if remaining < 0 {
        tracing::error!(
            %cert,
            serial = %current.serial,
            %not_after,
            "the serving certificate has expired ({} ago): clients refuse every connection; install a renewed certificate in --tls-cert",
            ago(remaining)
        );
    } else {
        tracing::warn!(
            %cert,
            serial = %current.serial,
            %not_after,
            "the serving certificate expires in {}: renew it (the new files are picked up without a restart)",
            ago(remaining)
        );
    }
}
