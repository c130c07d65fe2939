//! The webhook server on loopback port 0 with throwaway certificates in a temp dir, raw TLS
//! connections, kubelet-style Secret volumes, and the AdmissionReview bodies the server tests send.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use arc_swap::ArcSwap;
use karmada_takeover::{
    cli::demo::client::{Client, ClientOptions},
    config::Config,
    fleet::{Fleet, SharedFleet},
    metrics::Metrics,
    server::{Limits, RunningServer, Server, Settings, State},
    tls::{
        TlsFiles,
        dev::{self, DevCerts},
    },
    writer::MemoryWriter,
};
use rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use tempfile::TempDir;
use tokio::net::TcpStream;
use tokio_rustls::{TlsConnector, client::TlsStream};

use super::{
    init,
    wait::{WAIT, within},
    write,
};

/// Writes `tls.crt`/`tls.key` (and `ca.crt`) into `dir`.
pub fn write_certs(dir: &Path, certs: &DevCerts) -> TlsFiles {
    write(&dir.join("tls.crt"), &certs.cert_pem);
    write(&dir.join("tls.key"), &certs.key_pem);
    write(&dir.join("ca.crt"), &certs.ca_pem);
    TlsFiles {
        cert: dir.join("tls.crt"),
        key: dir.join("tls.key"),
        client_ca: None,
    }
}

/// How to start a test server.
pub struct Setup {
    pub limits: Limits,
    pub client_ca: bool,
    pub fleet: Fleet,
    pub tls_reload_interval: Duration,
    /// Use these files instead of writing fresh ones.
    pub files: Option<TlsFiles>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            limits: Limits {
                shutdown_delay: Duration::ZERO,
                shutdown_grace_period: Duration::from_secs(5),
                ..Limits::default()
            },
            client_ca: false,
            fleet: Fleet::synced_empty(),
            tls_reload_interval: Duration::from_secs(10),
            files: None,
        }
    }
}

pub struct TestServer {
    pub server: Option<RunningServer>,
    pub certs: DevCerts,
    pub dir: TempDir,
    pub state: State,
    pub metrics: Arc<Metrics>,
    pub writer: Arc<MemoryWriter>,
}

impl TestServer {
    pub async fn start(setup: Setup) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let certs = dev::throwaway_ca_and_cert(&["localhost", "127.0.0.1"]).unwrap();
        Self::start_with(setup, dir, certs).await.unwrap()
    }

    pub async fn start_with(
        setup: Setup,
        dir: TempDir,
        certs: DevCerts,
    ) -> Result<Self, karmada_takeover::server::Error> {
        init();
        let mut files = match setup.files {
            Some(files) => files,
            None => write_certs(dir.path(), &certs),
        };
        if setup.client_ca {
            files.client_ca = Some(dir.path().join("ca.crt"));
        }
        let metrics = Arc::new(Metrics::new().unwrap());
        let writer = Arc::new(MemoryWriter::default());
        let state = State {
            fleet: SharedFleet::new(setup.fleet),
            config: Arc::new(ArcSwap::from_pointee(Config::default())),
            writer: writer.clone(),
            metrics: metrics.clone(),
        };
        let mut settings = Settings::loopback(files);
        settings.limits = setup.limits;
        settings.tls_reload_interval = setup.tls_reload_interval;
        let server = Server::start(settings, state.clone()).await?;
        Ok(Self {
            server: Some(server),
            certs,
            dir,
            state,
            metrics,
            writer,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.as_ref().unwrap().local_addr()
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.server.as_ref().unwrap().admin_addr()
    }

    pub fn options(&self) -> ClientOptions {
        ClientOptions::new(self.certs.ca_pem.as_bytes())
    }

    pub async fn client(&self) -> Client {
        within(WAIT, "connect", Client::connect(self.addr(), &self.options()))
            .await
            .unwrap()
    }

    pub async fn admin(&self) -> Client {
        admin_client(self.admin_addr()).await
    }

    /// The text of `/metrics`.
    pub fn metrics_text(&self) -> String {
        super::metrics_text(&self.metrics)
    }

    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            within(WAIT, "shutdown", server.shutdown()).await;
        }
    }
}

/// A plain-HTTP client of the admin endpoints at `addr`.
pub async fn admin_client(addr: SocketAddr) -> Client {
    within(WAIT, "connect admin", Client::connect_plain(addr))
        .await
        .unwrap()
}

/// A raw TLS connection (HTTP/1.1 ALPN) for tests that write bytes by hand.
pub async fn connect_raw(addr: SocketAddr, ca_pem: &str) -> std::io::Result<TlsStream<TcpStream>> {
    connect_alpn(addr, ca_pem, &[b"http/1.1"]).await
}

/// A raw TLS connection offering `alpn` (none: the server detects the protocol from the bytes).
pub async fn connect_alpn(
    addr: SocketAddr,
    ca_pem: &str,
    alpn: &[&[u8]],
) -> std::io::Result<TlsStream<TcpStream>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(karmada_takeover::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    let tcp = TcpStream::connect(addr).await?;
    TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

/// An `AdmissionReview` request for a PropagationPolicy (validate/mutate policy webhooks).
pub fn policy_review(uid: &str) -> String {
    serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "policy.karmada.io", "version": "v1alpha1", "kind": "PropagationPolicy"},
            "resource": {"group": "policy.karmada.io", "version": "v1alpha1", "resource": "propagationpolicies"},
            "name": "shop-web",
            "namespace": "shop",
            "operation": "CREATE",
            "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
            "object": {
                "apiVersion": "policy.karmada.io/v1alpha1",
                "kind": "PropagationPolicy",
                "metadata": {"name": "shop-web", "namespace": "shop"},
                "spec": {
                    "resourceSelectors": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}],
                    "priority": 10,
                    "preemption": "Always",
                    "placement": {"clusterAffinity": {"clusterNames": ["member1", "member2"]}}
                }
            },
            "oldObject": null,
            "dryRun": false
        }
    })
    .to_string()
}

/// An `AdmissionReview` request for a Deployment CREATE (workload webhooks).
pub fn deployment_review(uid: &str, dry_run: bool) -> String {
    serde_json::json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": uid,
            "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
            "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
            "name": "web",
            "namespace": "default",
            "operation": "CREATE",
            "userInfo": {"username": "pipeline"},
            "object": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
                "spec": {
                    "replicas": 2,
                    "selector": {"matchLabels": {"app": "web"}},
                    "template": {
                        "metadata": {"labels": {"app": "web"}},
                        "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}
                    }
                }
            },
            "dryRun": dry_run
        }
    })
    .to_string()
}

/// The `response.uid` of an AdmissionReview body.
pub fn response_uid(body: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("response is not JSON ({e}): {}", String::from_utf8_lossy(body)));
    value["response"]["uid"]
        .as_str()
        .unwrap_or_else(|| panic!("no response.uid in {value}"))
        .to_owned()
}

/// The `message` of a Status body.
pub fn status_message(body: &[u8]) -> String {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap();
    value["message"].as_str().unwrap().to_owned()
}

/// `dir/..data -> ..<name>`, `dir/tls.crt -> ..data/tls.crt` (kubelet Secret volume layout).
pub fn secret_volume(dir: &Path, name: &str, cert_pem: &str, key_pem: &str) -> TlsFiles {
    let version = dir.join(format!("..{name}"));
    std::fs::create_dir(&version).unwrap();
    write(&version.join("tls.crt"), cert_pem);
    write(&version.join("tls.key"), key_pem);
    std::os::unix::fs::symlink(format!("..{name}"), dir.join("..data")).unwrap();
    for file in ["tls.crt", "tls.key"] {
        std::os::unix::fs::symlink(format!("..data/{file}"), dir.join(file)).unwrap();
    }
    TlsFiles {
        cert: dir.join("tls.crt"),
        key: dir.join("tls.key"),
        client_ca: None,
    }
}

/// The kubelet's atomic update: new version dir, `..data_tmp` symlink, rename over `..data`.
pub fn swap_secret_volume(dir: &Path, name: &str, cert_pem: &str, key_pem: &str) {
    let version = dir.join(format!("..{name}"));
    std::fs::create_dir(&version).unwrap();
    write(&version.join("tls.crt"), cert_pem);
    write(&version.join("tls.key"), key_pem);
    let tmp: PathBuf = dir.join("..data_tmp");
    std::os::unix::fs::symlink(format!("..{name}"), &tmp).unwrap();
    std::fs::rename(&tmp, dir.join("..data")).unwrap();
}

/// A request body for [`H2`]: whole, or some bytes and then nothing more, ever.
pub type TestBody = http_body_util::combinators::BoxBody<bytes::Bytes, std::convert::Infallible>;

/// A whole body.
pub fn full(body: impl Into<bytes::Bytes>) -> TestBody {
    use http_body_util::BodyExt;
    http_body_util::Full::new(body.into()).boxed()
}

/// `sent` and then a body that never ends (the client stalls).
pub fn stalled(sent: impl Into<bytes::Bytes>) -> TestBody {
    use futures::StreamExt;
    use http_body_util::BodyExt;
    let sent: bytes::Bytes = sent.into();
    let first = (!sent.is_empty()).then(|| Ok(hyper::body::Frame::data(sent)));
    let stream = futures::stream::iter(first).chain(futures::stream::pending());
    BodyExt::boxed(http_body_util::StreamBody::new(stream))
}

/// An HTTP/2 connection whose requests the test builds by hand (bodies that stall, streams that
/// are reset); `closed` resolves when the server closes the connection.
pub struct H2 {
    pub sender: hyper::client::conn::http2::SendRequest<TestBody>,
    pub closed: tokio::task::JoinHandle<()>,
    authority: String,
}

impl H2 {
    pub async fn connect(addr: SocketAddr, ca_pem: &str) -> Self {
        let tls = within(WAIT, "TLS connect (h2)", connect_alpn(addr, ca_pem, &[b"h2"]))
            .await
            .unwrap();
        let (sender, connection) = within(
            WAIT,
            "h2 handshake",
            hyper::client::conn::http2::handshake(
                hyper_util::rt::TokioExecutor::new(),
                hyper_util::rt::TokioIo::new(tls),
            ),
        )
        .await
        .unwrap();
        let closed = tokio::spawn(async move {
            let _ = connection.await;
        });
        Self {
            sender,
            closed,
            authority: format!("localhost:{}", addr.port()),
        }
    }

    /// `POST path` declaring `content_length`, with `body`; the response future.
    pub fn post(
        &mut self,
        path: &str,
        content_length: usize,
        body: TestBody,
    ) -> impl std::future::Future<Output = hyper::Result<http::Response<hyper::body::Incoming>>> + use<> {
        let request = http::Request::builder()
            .method(http::Method::POST)
            .uri(format!("https://{}{path}", self.authority))
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::CONTENT_LENGTH, content_length)
            .body(body)
            .unwrap();
        self.sender.send_request(request)
    }

    /// A whole review; the status and body.
    pub async fn review(&mut self, path: &str, body: String) -> (http::StatusCode, bytes::Bytes) {
        use http_body_util::BodyExt;
        within(WAIT, "h2 ready", self.sender.ready()).await.unwrap();
        let response = within(WAIT, "h2 review", self.post(path, body.len(), full(body)))
            .await
            .unwrap();
        let status = response.status();
        let body = within(WAIT, "h2 response body", response.into_body().collect())
            .await
            .unwrap()
            .to_bytes();
        (status, body)
    }
}

/// The value of a metric line `name` (with its labels, if any) in `text`, if present.
pub fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .map(|value| value.trim().parse().unwrap())
}
