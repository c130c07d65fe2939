//! rustls server configuration and certificate reloading.
//!
//! The serving certificate is handed to rustls by a [`ResolvesServerCert`] that returns an
//! `Arc<CertifiedKey>` kept in an [`ArcSwap`]. [`watch`] polls the files every
//! `--tls-reload-interval` and compares their *bytes* (following symlinks), the shape of
//! controller-runtime's `certwatcher`: this sees kubelet's Secret-volume update, which swaps a
//! `..data` symlink and never writes `tls.crt` itself, so inotify on the file would miss it.
//! A new pair that does not load (half-written, mismatched, garbage, expired, not yet valid) keeps
//! the old one serving and counts `tls_reloads_total{result="error"}`, once per change of the
//! files. A pair that is only *not yet* valid (issued by a clock slightly ahead of ours) is tried
//! again on every poll, silently, and served as soon as its notBefore has passed.
//!
//! Every certificate in `--tls-cert` must be valid now (notBefore ≤ now ≤ notAfter): at startup an
//! expired or not yet valid one stops the process with a message naming the flag. While serving,
//! [`watch`] logs a WARN when the served certificate expires within [`EXPIRY_WARNING_WINDOW`]
//! (an ERROR once it has expired), at most once per [`EXPIRY_WARNING_INTERVAL`] and again after
//! each reload; `tls_certificate_expiry_timestamp_seconds` always shows the served leaf's notAfter.
//!
//! With `--client-ca`, clients must present a certificate issued by that CA (rustls
//! `WebPkiClientVerifier`). The CA file is polled the same way; a change rebuilds the
//! `ServerConfig` (new connections use it, established ones keep theirs).

use std::{
    path::{Path, PathBuf},
    sync::{
        Arc, Once,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use arc_swap::ArcSwap;
use parking_lot::Mutex;
use rustls::{
    RootCertStore, ServerConfig,
    crypto::CryptoProvider,
    pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    server::{ClientHello, ResolvesServerCert, WebPkiClientVerifier},
    sign::CertifiedKey,
};
use tokio_rustls::TlsAcceptor;

use crate::metrics::Metrics;

/// The PEM files the server reads (the values of `--tls-cert`, `--tls-key`, `--client-ca`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain, leaf first (`--tls-cert`).
    pub cert: PathBuf,
    /// Private key of the leaf (`--tls-key`): PKCS#8, PKCS#1 or SEC1.
    pub key: PathBuf,
    /// CA bundle that client certificates must chain to (`--client-ca`); `None`: no client auth.
    pub client_ca: Option<PathBuf>,
}

/// TLS material that cannot be used. Every message names the flag and the file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file could not be read.
    #[error("{flag} {}: cannot read the file: {source}", path.display())]
    Read {
        /// `--tls-cert`, `--tls-key` or `--client-ca`.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file has no usable `CERTIFICATE` block.
    #[error("{flag} {}: no PEM CERTIFICATE block found in the file{}", path.display(), detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    NoCertificate {
        /// `--tls-cert` or `--client-ca`.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// What the PEM parser said, if anything.
        detail: Option<String>,
    },
    /// The key file has no private key block.
    #[error("--tls-key {}: no private key found in the file (expected a PEM PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block)", path.display())]
    NoKey {
        /// The file.
        path: PathBuf,
    },
    /// The key parses as PEM but rustls cannot sign with it.
    #[error("--tls-key {}: unsupported or corrupt private key: {source}", path.display())]
    UnsupportedKey {
        /// The file.
        path: PathBuf,
        /// Why.
        source: rustls::Error,
    },
    /// The leaf certificate is not valid X.509.
    #[error("--tls-cert {}: the first certificate cannot be parsed: {message}", path.display())]
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// A certificate in `--tls-cert` is past its notAfter: every client would refuse it.
    #[error(
        "--tls-cert {}: the certificate{} expired at {} (notAfter, {} ago): clients refuse it; install a renewed certificate",
        path.display(), chain_position(subject.as_deref()), timestamp(*not_after), ago(*now - *not_after)
    )]
    Expired {
        /// The file.
        path: PathBuf,
        /// Subject of the expired certificate when it is not the leaf.
        subject: Option<String>,
        /// Its notAfter, Unix seconds.
        not_after: i64,
        /// When it was checked, Unix seconds.
        now: i64,
    },
    /// A certificate in `--tls-cert` is before its notBefore: every client would refuse it (yet).
    #[error(
        "--tls-cert {}: the certificate{} is not valid before {} (notBefore, {} from now): clients refuse it until then; check the clocks of the issuer and of this machine",
        path.display(), chain_position(subject.as_deref()), timestamp(*not_before), ago(*not_before - *now)
    )]
    NotYetValid {
        /// The file.
        path: PathBuf,
        /// Subject of the certificate when it is not the leaf.
        subject: Option<String>,
        /// Its notBefore, Unix seconds.
        not_before: i64,
        /// When it was checked, Unix seconds.
        now: i64,
    },
    /// Certificate and key do not belong together.
    #[error("--tls-key {} does not match the certificate in --tls-cert {}: {source}", key.display(), cert.display())]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
        /// What rustls found.
        source: rustls::Error,
    },
    /// The client CA bundle cannot be used as trust anchors.
    #[error("--client-ca {}: {message}", path.display())]
    ClientCa {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// rustls refused the configuration (protocol versions / provider).
    #[error("TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// Installs rustls' `ring` provider as the process default, once. The server and the client in
/// this crate pass the provider explicitly; this is for other rustls users in the process.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Err means another provider was installed first: keep it.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The `ring` provider every config in this crate is built with.
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// ALPN protocols offered by the server, preferred first.
pub const ALPN: [&[u8]; 2] = [b"h2", b"http/1.1"];

/// The bytes of the files, as last read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileBytes {
    cert: Vec<u8>,
    key: Vec<u8>,
    client_ca: Option<Vec<u8>>,
}

fn read(flag: &'static str, path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Read {
        flag,
        path: path.to_owned(),
        source,
    })
}

impl FileBytes {
    fn read(files: &TlsFiles) -> Result<Self, Error> {
        Ok(Self {
            cert: read("--tls-cert", &files.cert)?,
            key: read("--tls-key", &files.key)?,
            client_ca: files
                .client_ca
                .as_deref()
                .map(|p| read("--client-ca", p))
                .transpose()?,
        })
    }
}

/// Parses every CERTIFICATE block of a PEM file.
fn certificates(flag: &'static str, path: &Path, pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, Error> {
    let mut certs = Vec::new();
    for item in CertificateDer::pem_slice_iter(pem) {
        match item {
            Ok(cert) => certs.push(cert),
            Err(e) => {
                return Err(Error::NoCertificate {
                    flag,
                    path: path.to_owned(),
                    detail: Some(e.to_string()),
                });
            }
        }
    }
    if certs.is_empty() {
        return Err(Error::NoCertificate {
            flag,
            path: path.to_owned(),
            detail: None,
        });
    }
    Ok(certs)
}

/// A validated serving certificate and what we report about it.
#[derive(Debug, Clone)]
pub struct LoadedCert {
    /// What rustls serves.
    pub certified_key: Arc<CertifiedKey>,
    /// notBefore of the leaf, Unix seconds.
    pub not_before: i64,
    /// notAfter of the leaf, Unix seconds.
    pub not_after: i64,
    /// Serial number of the leaf, hex.
    pub serial: String,
}

/// Loads and validates a certificate chain and its key (the key must match the leaf, and every
/// certificate must be valid now).
pub fn load_certified_key(
    cert_path: &Path,
    cert_pem: &[u8],
    key_path: &Path,
    key_pem: &[u8],
    provider: &CryptoProvider,
) -> Result<LoadedCert, Error> {
    load_certified_key_at(cert_path, cert_pem, key_path, key_pem, provider, unix_now())
}

fn load_certified_key_at(
    cert_path: &Path,
    cert_pem: &[u8],
    key_path: &Path,
    key_pem: &[u8],
    provider: &CryptoProvider,
    now: i64,
) -> Result<LoadedCert, Error> {
    let chain = certificates("--tls-cert", cert_path, cert_pem)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| Error::NoKey {
        path: key_path.to_owned(),
    })?;
    let (not_before, not_after, serial) = match chain
        .first()
        .map(|c| x509_parser::parse_x509_certificate(c.as_ref()))
    {
        Some(Ok((_, leaf))) => (
            leaf.validity().not_before.timestamp(),
            leaf.validity().not_after.timestamp(),
            leaf.raw_serial_as_string(),
        ),
        Some(Err(e)) => {
            return Err(Error::BadCertificate {
                path: cert_path.to_owned(),
                message: e.to_string(),
            });
        }
        None => {
            return Err(Error::NoCertificate {
                flag: "--tls-cert",
                path: cert_path.to_owned(),
                detail: None,
            });
        }
    };
    let signing_key =
        provider
            .key_provider
            .load_private_key(key)
            .map_err(|source| Error::UnsupportedKey {
                path: key_path.to_owned(),
                source,
            })?;
    check_validity(cert_path, &chain, now)?;
    let certified_key = CertifiedKey::new(chain, signing_key);
    match certified_key.keys_match() {
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {}
        Err(rustls::Error::InvalidCertificate(e)) => {
            return Err(Error::BadCertificate {
                path: cert_path.to_owned(),
                message: format!("{e:?}"),
            });
        }
        Err(source) => {
            return Err(Error::KeyMismatch {
                cert: cert_path.to_owned(),
                key: key_path.to_owned(),
                source,
            });
        }
    }
    Ok(LoadedCert {
        certified_key: Arc::new(certified_key),
        not_before,
        not_after,
        serial,
    })
}

/// Builds the client verifier for `--client-ca`.
fn client_verifier(
    path: &Path,
    pem: &[u8],
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, Error> {
    let mut roots = RootCertStore::empty();
    for cert in certificates("--client-ca", path, pem)? {
        roots.add(cert).map_err(|e| Error::ClientCa {
            path: path.to_owned(),
            message: format!("not a usable CA certificate: {e}"),
        })?;
    }
    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| Error::ClientCa {
            path: path.to_owned(),
            message: e.to_string(),
        })
}

/// Serves whatever certificate is current.
#[derive(Debug)]
struct Resolver(ArcSwap<CertifiedKey>);

impl ResolvesServerCert for Resolver {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.load_full())
    }
}

/// The server's TLS state: current config, current certificate, and what the files held.
#[derive(Debug)]
pub struct ServingTls {
    files: TlsFiles,
    provider: Arc<CryptoProvider>,
    resolver: Arc<Resolver>,
    config: ArcSwap<ServerConfig>,
    seen: Mutex<Seen>,
    current: ArcSwap<LoadedCert>,
    metrics: Arc<Metrics>,
    handshakes: handshake::Recorder,
    /// When the expiry warning was last logged (Unix seconds), `i64::MIN`: not since the last
    /// reload.
    expiry_warned_at: AtomicI64,
}

/// What the files held: the bytes being served, and the last ones refused.
#[derive(Debug)]
struct Seen {
    serving: FileBytes,
    /// Files that could not be used, reported once; `retry` when they are only not yet valid.
    refused: Option<(FileBytes, bool)>,
}

impl ServingTls {
    /// Reads and validates the files (startup: any error here should stop the process).
    pub fn load(files: TlsFiles, metrics: Arc<Metrics>) -> Result<Arc<Self>, Error> {
        let provider = provider();
        let bytes = FileBytes::read(&files)?;
        let loaded = load_certified_key(&files.cert, &bytes.cert, &files.key, &bytes.key, &provider)?;
        let resolver = Arc::new(Resolver(ArcSwap::new(loaded.certified_key.clone())));
        let config = build_config(&files, bytes.client_ca.as_deref(), &provider, &resolver)?;
        metrics
            .tls_certificate_expiry_timestamp_seconds
            .set(loaded.not_after);
        Ok(Arc::new(Self {
            files,
            provider,
            resolver,
            config: ArcSwap::from_pointee(config),
            seen: Mutex::new(Seen {
                serving: bytes,
                refused: None,
            }),
            current: ArcSwap::from_pointee(loaded),
            handshakes: handshake::Recorder::new(&metrics),
            metrics,
            expiry_warned_at: AtomicI64::new(i64::MIN),
        }))
    }

    /// An acceptor with the current configuration (cheap: two `Arc` clones), which also
    /// records failed handshakes (`tls_handshake_failures_total`).
    pub fn acceptor(&self) -> Acceptor {
        self.handshakes
            .acceptor(TlsAcceptor::from(self.config.load_full()))
    }

    /// The certificate being served.
    pub fn current(&self) -> Arc<LoadedCert> {
        self.current.load_full()
    }

    /// The files being served from.
    pub fn files(&self) -> &TlsFiles {
        &self.files
    }

    /// Re-reads the files; if their bytes changed, validates and swaps them in.
    /// `Ok(true)`: a new certificate (or CA) is now served; `Ok(false)`: nothing changed (or the
    /// files were refused before and still are); `Err`: the new files are unusable and the old
    /// ones keep serving.
    pub fn reload_if_changed(&self) -> Result<bool, Error> {
        self.reload_at(unix_now())
    }

    fn reload_at(&self, now: i64) -> Result<bool, Error> {
        let bytes = match FileBytes::read(&self.files) {
            Ok(bytes) => bytes,
            Err(error) => {
                self.metrics.tls_reloads_total.with_label_values(&["error"]).inc();
                return Err(error);
            }
        };
        let mut seen = self.seen.lock();
        if seen.serving == bytes {
            seen.refused = None;
            return Ok(false);
        }
        // Refused files are reported once, not on every poll; only not-yet-valid ones are tried
        // again (silently), since time alone makes them usable.
        let retry = match &seen.refused {
            Some((refused, retry)) if *refused == bytes => {
                if !retry {
                    return Ok(false);
                }
                true
            }
            _ => false,
        };
        match self.apply(&seen.serving, &bytes, now) {
            Ok(()) => {
                seen.serving = bytes;
                seen.refused = None;
                self.metrics.tls_reloads_total.with_label_values(&["ok"]).inc();
                self.expiry_warned_at.store(i64::MIN, Ordering::Relaxed);
                Ok(true)
            }
            Err(error) => {
                let not_yet_valid = matches!(error, Error::NotYetValid { .. });
                seen.refused = Some((bytes, not_yet_valid));
                if retry {
                    return Ok(false);
                }
                self.metrics.tls_reloads_total.with_label_values(&["error"]).inc();
                Err(error)
            }
        }
    }

    /// Logs that the served certificate expires soon (WARN) or has expired (ERROR), at most once
    /// per [`EXPIRY_WARNING_INTERVAL`] and once after each reload; `true` when it logged.
    pub fn warn_if_expiring(&self) -> bool {
        self.warn_if_expiring_at(unix_now())
    }

    fn warn_if_expiring_at(&self, now: i64) -> bool {
        let current = self.current();
        let remaining = current.not_after - now;
        let window = i64::try_from(EXPIRY_WARNING_WINDOW.as_secs()).unwrap_or(i64::MAX);
        if remaining > window {
            return false;
        }
        let interval = i64::try_from(EXPIRY_WARNING_INTERVAL.as_secs()).unwrap_or(i64::MAX);
        let last = self.expiry_warned_at.load(Ordering::Relaxed);
        if last != i64::MIN && now.saturating_sub(last) < interval {
            return false;
        }
        self.expiry_warned_at.store(now, Ordering::Relaxed);
        validity::log_expiry(&self.files.cert, &current, remaining);
        true
    }

    fn apply(&self, previous: &FileBytes, bytes: &FileBytes, now: i64) -> Result<(), Error> {
        let cert_changed = previous.cert != bytes.cert || previous.key != bytes.key;
        let loaded = if cert_changed {
            Some(load_certified_key_at(
                &self.files.cert,
                &bytes.cert,
                &self.files.key,
                &bytes.key,
                &self.provider,
                now,
            )?)
        } else {
            None
        };
        if previous.client_ca != bytes.client_ca {
            let config = build_config(
                &self.files,
                bytes.client_ca.as_deref(),
                &self.provider,
                &self.resolver,
            )?;
            self.config.store(Arc::new(config));
            tracing::info!(client_ca = ?self.files.client_ca, "client CA reloaded");
        }
        if let Some(loaded) = loaded {
            self.resolver.0.store(loaded.certified_key.clone());
            self.metrics
                .tls_certificate_expiry_timestamp_seconds
                .set(loaded.not_after);
            tracing::info!(
                cert = %self.files.cert.display(),
                serial = %loaded.serial,
                not_after = loaded.not_after,
                "serving certificate reloaded"
            );
            self.current.store(Arc::new(loaded));
        }
        Ok(())
    }
}

fn build_config(
    files: &TlsFiles,
    client_ca: Option<&[u8]>,
    provider: &Arc<CryptoProvider>,
    resolver: &Arc<Resolver>,
) -> Result<ServerConfig, Error> {
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?;
    let builder = match (files.client_ca.as_deref(), client_ca) {
        (Some(path), Some(pem)) => builder.with_client_cert_verifier(client_verifier(path, pem, provider)?),
        _ => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(resolver.clone());
    config.alpn_protocols = ALPN.iter().map(|p| p.to_vec()).collect();
    Ok(config)
}

/// Polls the files every `interval` until `shutdown` resolves, swapping in valid changes.
pub async fn watch(
    tls: Arc<ServingTls>,
    interval: Duration,
    shutdown: impl std::future::Future<Output = ()> + Send,
) {
    let mut ticks = crate::poll::Ticks::new(interval, shutdown);
    tls.warn_if_expiring();
    while ticks.next().await {
        match tls.reload_if_changed() {
            Ok(_) => {}
            Err(error @ Error::NotYetValid { .. }) => {
                tracing::warn!(%error, "TLS files changed but are not valid yet; still serving the previous certificate, the new one is served once valid");
            }
            Err(error) => {
                tracing::error!(%error, "TLS files changed but cannot be used; still serving the previous certificate");
            }
        }
        tls.warn_if_expiring();
    }
}

pub mod dev;
mod handshake;
mod validity;

pub use handshake::{Acceptor, HandshakeFailure};

pub use validity::{EXPIRY_WARNING_INTERVAL, EXPIRY_WARNING_WINDOW};
use validity::{ago, chain_position, check_validity, timestamp, unix_now};

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn a_generated_pair_loads_and_reports_its_serial() {
        let certs = dev::throwaway_ca_and_cert(&["localhost", "127.0.0.1"]).unwrap();
        let loaded = load_certified_key(
            Path::new("c"),
            certs.cert_pem.as_bytes(),
            Path::new("k"),
            certs.key_pem.as_bytes(),
            &provider(),
        )
        .unwrap();
        assert_eq!(loaded.serial, certs.serial);
        assert!(loaded.not_after > 1_700_000_000);
    }

    #[test]
    fn startup_errors_name_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let a = dev::throwaway_ca_and_cert(&["localhost"]).unwrap();
        let b = dev::throwaway_ca_and_cert(&["localhost"]).unwrap();
        let cert = write(dir.path(), "tls.crt", &a.cert_pem);
        let key = write(dir.path(), "tls.key", &a.key_pem);
        let other_key = write(dir.path(), "other.key", &b.key_pem);
        let garbage = write(dir.path(), "garbage.pem", "hello, I am not PEM\n");
        let metrics = Arc::new(Metrics::new().unwrap());
        let load = |cert: &Path, key: &Path, ca: Option<&Path>| {
            ServingTls::load(
                TlsFiles {
                    cert: cert.into(),
                    key: key.into(),
                    client_ca: ca.map(Into::into),
                },
                metrics.clone(),
            )
            .unwrap_err()
            .to_string()
        };
        let missing = dir.path().join("missing.crt");
        assert!(
            load(&missing, &key, None).starts_with("--tls-cert "),
            "{}",
            load(&missing, &key, None)
        );
        assert!(load(&garbage, &key, None).starts_with("--tls-cert "));
        assert!(
            load(&cert, &garbage, None).contains("--tls-key")
                && load(&cert, &garbage, None).contains("no private key")
        );
        let mismatch = load(&cert, &other_key, None);
        assert!(
            mismatch.contains("does not match") && mismatch.contains("--tls-key"),
            "{mismatch}"
        );
        assert!(load(&cert, &key, Some(&garbage)).starts_with("--client-ca "));
    }

    const DAY: Duration = Duration::from_secs(24 * 3600);

    /// A CA, a pair valid now, and a temp dir with `tls.crt`/`tls.key` holding that pair.
    fn serving_files() -> (dev::DevCerts, tempfile::TempDir, TlsFiles) {
        let certs = dev::throwaway_ca_and_cert(&["localhost"]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let files = TlsFiles {
            cert: write(dir.path(), "tls.crt", &certs.cert_pem),
            key: write(dir.path(), "tls.key", &certs.key_pem),
            client_ca: None,
        };
        (certs, dir, files)
    }

    fn install(files: &TlsFiles, pair: &dev::Pair) {
        std::fs::write(&files.cert, &pair.cert_pem).unwrap();
        std::fs::write(&files.key, &pair.key_pem).unwrap();
    }

    fn reloads(metrics: &Metrics, result: &str) -> u64 {
        metrics.tls_reloads_total.with_label_values(&[result]).get()
    }

    #[test]
    fn expired_or_not_yet_valid_certificates_are_refused_at_startup_naming_the_flag() {
        let (certs, _dir, files) = serving_files();
        let now = SystemTime::now();
        let cases = [
            ("expired", now - 30 * DAY, now - DAY, "expired at"),
            ("not yet valid", now + DAY, now + 30 * DAY, "is not valid before"),
        ];
        for (name, not_before, not_after, says) in cases {
            install(
                &files,
                &certs
                    .serving_cert_valid(&["localhost"], not_before, not_after)
                    .unwrap(),
            );
            let metrics = Arc::new(Metrics::new().unwrap());
            let error = ServingTls::load(files.clone(), metrics).unwrap_err().to_string();
            assert!(
                error.starts_with(&format!("--tls-cert {}: ", files.cert.display())) && error.contains(says),
                "{name}: {error}"
            );
        }
        // The chain is checked too: a valid leaf followed by an expired intermediate.
        let leaf = certs
            .serving_cert_valid(&["localhost"], now - DAY, now + DAY)
            .unwrap();
        let stale = certs
            .serving_cert_valid(&["stale"], now - 30 * DAY, now - DAY)
            .unwrap();
        std::fs::write(&files.cert, format!("{}{}", leaf.cert_pem, stale.cert_pem)).unwrap();
        std::fs::write(&files.key, &leaf.key_pem).unwrap();
        let error = ServingTls::load(files.clone(), Arc::new(Metrics::new().unwrap()))
            .unwrap_err()
            .to_string();
        assert!(error.contains("CN=stale (in the chain) expired at"), "{error}");
    }

    #[test]
    fn a_rotation_to_an_expired_certificate_keeps_the_old_one_like_a_mismatched_key() {
        let (certs, _dir, files) = serving_files();
        let metrics = Arc::new(Metrics::new().unwrap());
        let tls = ServingTls::load(files.clone(), metrics.clone()).unwrap();
        let serving = tls.current();
        let gauge = metrics.tls_certificate_expiry_timestamp_seconds.get();
        assert_eq!(gauge, serving.not_after);

        let now = SystemTime::now();
        install(
            &files,
            &certs
                .serving_cert_valid(&["localhost"], now - 30 * DAY, now - DAY)
                .unwrap(),
        );
        let error = tls.reload_if_changed().unwrap_err();
        assert!(matches!(error, Error::Expired { .. }), "{error}");
        assert!(error.to_string().starts_with("--tls-cert "), "{error}");
        assert_eq!(tls.current().serial, serving.serial, "the old pair keeps serving");
        assert_eq!(metrics.tls_certificate_expiry_timestamp_seconds.get(), gauge);
        assert_eq!((reloads(&metrics, "ok"), reloads(&metrics, "error")), (0, 1));
        // Reported once, not on every poll.
        assert!(!tls.reload_if_changed().unwrap());
        assert_eq!(reloads(&metrics, "error"), 1);
    }

    #[test]
    fn a_not_yet_valid_rotation_is_refused_then_served_once_its_time_comes() {
        let (certs, _dir, files) = serving_files();
        let metrics = Arc::new(Metrics::new().unwrap());
        let tls = ServingTls::load(files.clone(), metrics.clone()).unwrap();
        let old = tls.current().serial.clone();
        let now = SystemTime::now();
        let early = certs
            .serving_cert_valid(&["localhost"], now + Duration::from_secs(100), now + 30 * DAY)
            .unwrap();
        install(&files, &early);
        let t = unix_now();
        let error = tls.reload_at(t).unwrap_err();
        assert!(matches!(error, Error::NotYetValid { .. }), "{error}");
        assert_eq!(tls.current().serial, old);
        assert_eq!(reloads(&metrics, "error"), 1);
        // Tried again on later polls without a new report...
        assert!(!tls.reload_at(t + 50).unwrap());
        assert_eq!(tls.current().serial, old);
        assert_eq!(reloads(&metrics, "error"), 1);
        // ...and served once valid.
        assert!(tls.reload_at(t + 102).unwrap());
        assert_eq!(tls.current().serial, early.serial);
        assert_eq!(reloads(&metrics, "ok"), 1);
        assert_eq!(
            metrics.tls_certificate_expiry_timestamp_seconds.get(),
            tls.current().not_after
        );
    }

    #[test]
    fn expiry_is_warned_about_within_a_week_at_a_bounded_rate() {
        let (certs, _dir, files) = serving_files();
        let now = SystemTime::now();
        install(
            &files,
            &certs
                .serving_cert_valid(&["localhost"], now - DAY, now + 30 * DAY)
                .unwrap(),
        );
        let tls = ServingTls::load(files.clone(), Arc::new(Metrics::new().unwrap())).unwrap();
        let t = unix_now();
        assert!(!tls.warn_if_expiring_at(t), "30 days left: quiet");

        install(
            &files,
            &certs
                .serving_cert_valid(&["localhost"], now - DAY, now + 2 * DAY)
                .unwrap(),
        );
        assert!(tls.reload_at(t).unwrap());
        assert!(tls.warn_if_expiring_at(t), "2 days left: warned");
        assert!(!tls.warn_if_expiring_at(t + 60), "not again within the interval");
        assert!(tls.warn_if_expiring_at(t + 3600), "again after the interval");
        assert!(
            tls.warn_if_expiring_at(t + 3 * 86_400),
            "expired: an error, rate-limited alike"
        );
        assert!(!tls.warn_if_expiring_at(t + 3 * 86_400 + 1));
    }
}
