//! rustls server configuration and certificate reloading.
//!
//! The serving certificate is handed to rustls by a [`ResolvesServerCert`] that returns an
//! `Arc<CertifiedKey>` kept in an [`ArcSwap`]. [`watch`] polls the files every
//! `--tls-reload-interval` and compares their *bytes* (following symlinks), the shape of
//! controller-runtime's `certwatcher`: this sees kubelet's Secret-volume update, which swaps a
//! `..data` symlink and never writes `tls.crt` itself, so inotify on the file would miss it.
//! A new pair that does not load (half-written, mismatched, garbage) keeps the old one serving and
//! counts `tls_reloads_total{result="error"}`.
//!
//! With `--client-ca`, clients must present a certificate issued by that CA (rustls
//! `WebPkiClientVerifier`). The CA file is polled the same way; a change rebuilds the
//! `ServerConfig` (new connections use it, established ones keep theirs).

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Once},
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
    /// notAfter of the leaf, Unix seconds.
    pub not_after: i64,
    /// Serial number of the leaf, hex.
    pub serial: String,
}

/// Loads and validates a certificate chain and its key (the key must match the leaf).
pub fn load_certified_key(
    cert_path: &Path,
    cert_pem: &[u8],
    key_path: &Path,
    key_pem: &[u8],
    provider: &CryptoProvider,
) -> Result<LoadedCert, Error> {
    let chain = certificates("--tls-cert", cert_path, cert_pem)?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|_| Error::NoKey {
        path: key_path.to_owned(),
    })?;
    let (not_after, serial) = match chain
        .first()
        .map(|c| x509_parser::parse_x509_certificate(c.as_ref()))
    {
        Some(Ok((_, leaf))) => (leaf.validity().not_after.timestamp(), leaf.raw_serial_as_string()),
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
    last_seen: Mutex<FileBytes>,
    current: ArcSwap<LoadedCert>,
    metrics: Arc<Metrics>,
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
            last_seen: Mutex::new(bytes),
            current: ArcSwap::from_pointee(loaded),
            metrics,
        }))
    }

    /// An acceptor with the current configuration (cheap: one `Arc` clone).
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.config.load_full())
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
    /// `Ok(true)`: a new certificate (or CA) is now served; `Ok(false)`: nothing changed;
    /// `Err`: the new files are unusable and the old ones keep serving.
    pub fn reload_if_changed(&self) -> Result<bool, Error> {
        let bytes = match FileBytes::read(&self.files) {
            Ok(bytes) => bytes,
            Err(error) => {
                self.metrics.tls_reloads_total.with_label_values(&["error"]).inc();
                return Err(error);
            }
        };
        let previous = {
            let mut last = self.last_seen.lock();
            if *last == bytes {
                return Ok(false);
            }
            // Remember what we tried, so a broken pair is reported once, not on every poll.
            std::mem::replace(&mut *last, bytes.clone())
        };
        let result = self.apply(&previous, &bytes);
        let label = if result.is_ok() { "ok" } else { "error" };
        self.metrics.tls_reloads_total.with_label_values(&[label]).inc();
        result.map(|()| true)
    }

    fn apply(&self, previous: &FileBytes, bytes: &FileBytes) -> Result<(), Error> {
        let cert_changed = previous.cert != bytes.cert || previous.key != bytes.key;
        let loaded = if cert_changed {
            Some(load_certified_key(
                &self.files.cert,
                &bytes.cert,
                &self.files.key,
                &bytes.key,
                &self.provider,
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
    while ticks.next().await {
        if let Err(error) = tls.reload_if_changed() {
            tracing::error!(%error, "TLS files changed but cannot be used; still serving the previous certificate");
        }
    }
}

pub mod dev;

#[cfg(test)]
mod tests {
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
}
