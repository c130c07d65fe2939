//! A small HTTPS client for the demo and the tests: one keep-alive connection, hyper's own
//! client over tokio-rustls, HTTP/1.1 or HTTP/2 (chosen by ALPN), trusting one CA.
//!
//! ```no_run
//! # async fn example(ca_pem: &str, addr: std::net::SocketAddr) -> Result<(), karmada_takeover::cli::demo::client::ClientError> {
//! use karmada_takeover::cli::demo::client::{Client, ClientOptions};
//! let mut client = Client::connect(addr, &ClientOptions::new(ca_pem.as_bytes())).await?;
//! let (status, body) = client.post_json("/validate/policy", r#"{"apiVersion":"admission.k8s.io/v1"}"#).await?;
//! # let _ = (status, body); Ok(()) }
//! ```

use std::{net::SocketAddr, sync::Arc};

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::{
    ClientConfig, RootCertStore, SupportedProtocolVersion,
    pki_types::{CertificateDer, PrivateKeyDer, ServerName, pem::PemObject},
};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

/// The client could not connect or the exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The CA or client identity PEM is unusable.
    #[error("client TLS material: {0}")]
    Pem(String),
    /// rustls refused the configuration.
    #[error("client TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// TCP connect or TLS handshake failed.
    #[error("connecting: {0}")]
    Connect(#[from] std::io::Error),
    /// HTTP/2 was asked for but the server did not select it.
    #[error("the server did not negotiate {0}")]
    Alpn(&'static str),
    /// The HTTP exchange failed.
    #[error("HTTP: {0}")]
    Http(#[from] hyper::Error),
    /// The request could not be built.
    #[error("request: {0}")]
    Request(#[from] http::Error),
}

/// Which HTTP version to speak (offered through ALPN).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpVersion {
    /// HTTP/1.1 with keep-alive.
    Http1,
    /// HTTP/2.
    Http2,
}

/// How to connect.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    ca_pem: Vec<u8>,
    server_name: String,
    http: HttpVersion,
    tls_versions: Vec<&'static SupportedProtocolVersion>,
    identity: Option<(Vec<u8>, Vec<u8>)>,
}

impl ClientOptions {
    /// Trust `ca_pem`, expect the name `localhost`, HTTP/1.1, TLS 1.2 or 1.3, no client cert.
    pub fn new(ca_pem: &[u8]) -> Self {
        Self {
            ca_pem: ca_pem.to_vec(),
            server_name: "localhost".into(),
            http: HttpVersion::Http1,
            tls_versions: vec![&rustls::version::TLS13, &rustls::version::TLS12],
            identity: None,
        }
    }

    /// The name to verify the server certificate against.
    #[must_use]
    pub fn server_name(mut self, name: &str) -> Self {
        name.clone_into(&mut self.server_name);
        self
    }

    /// HTTP/1.1 or HTTP/2.
    #[must_use]
    pub fn http(mut self, http: HttpVersion) -> Self {
        self.http = http;
        self
    }

    /// Offer only TLS 1.2.
    #[must_use]
    pub fn tls12_only(mut self) -> Self {
        self.tls_versions = vec![&rustls::version::TLS12];
        self
    }

    /// Offer only TLS 1.3.
    #[must_use]
    pub fn tls13_only(mut self) -> Self {
        self.tls_versions = vec![&rustls::version::TLS13];
        self
    }

    /// Present this client certificate (mTLS).
    #[must_use]
    pub fn identity(mut self, cert_pem: &[u8], key_pem: &[u8]) -> Self {
        self.identity = Some((cert_pem.to_vec(), key_pem.to_vec()));
        self
    }

    fn tls_config(&self) -> Result<ClientConfig, ClientError> {
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(&self.ca_pem) {
            let cert = cert.map_err(|e| ClientError::Pem(format!("CA: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| ClientError::Pem(format!("CA: {e}")))?;
        }
        let builder = ClientConfig::builder_with_provider(crate::tls::provider())
            .with_protocol_versions(&self.tls_versions)?
            .with_root_certificates(roots);
        let mut config = match &self.identity {
            Some((cert_pem, key_pem)) => {
                let chain = CertificateDer::pem_slice_iter(cert_pem)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| ClientError::Pem(format!("client certificate: {e}")))?;
                let key = PrivateKeyDer::from_pem_slice(key_pem)
                    .map_err(|e| ClientError::Pem(format!("client key: {e}")))?;
                builder.with_client_auth_cert(chain, key)?
            }
            None => builder.with_no_client_auth(),
        };
        config.alpn_protocols = match self.http {
            HttpVersion::Http1 => vec![b"http/1.1".to_vec()],
            HttpVersion::Http2 => vec![b"h2".to_vec()],
        };
        Ok(config)
    }
}

/// What the TLS handshake settled on.
#[derive(Debug, Clone)]
pub struct TlsInfo {
    /// Negotiated ALPN protocol.
    pub alpn: Option<Vec<u8>>,
    /// Negotiated TLS version.
    pub version: Option<rustls::ProtocolVersion>,
    /// The server's certificate chain, leaf first.
    pub peer_certificates: Vec<CertificateDer<'static>>,
}

impl TlsInfo {
    /// Serial of the server's leaf certificate (x509-parser hex, `:`-separated).
    pub fn peer_serial(&self) -> Option<String> {
        let leaf = self.peer_certificates.first()?;
        let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref()).ok()?;
        Some(cert.raw_serial_as_string())
    }
}

enum Sender {
    Http1(http1::SendRequest<Full<Bytes>>),
    Http2(http2::SendRequest<Full<Bytes>>),
}

/// One connection to the webhook (or admin) server.
pub struct Client {
    sender: Sender,
    authority: String,
    tls: Option<TlsInfo>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("authority", &self.authority)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Connects over TLS and performs the HTTP handshake.
    pub async fn connect(addr: SocketAddr, options: &ClientOptions) -> Result<Self, ClientError> {
        let connector = TlsConnector::from(Arc::new(options.tls_config()?));
        let name = ServerName::try_from(options.server_name.clone())
            .map_err(|e| ClientError::Pem(format!("server name {:?}: {e}", options.server_name)))?;
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let stream = connector.connect(name, tcp).await?;
        let (_, session) = stream.get_ref();
        let tls = TlsInfo {
            alpn: session.alpn_protocol().map(<[u8]>::to_vec),
            version: session.protocol_version(),
            peer_certificates: session
                .peer_certificates()
                .map(<[CertificateDer<'_>]>::to_vec)
                .unwrap_or_default(),
        };
        let io = TokioIo::new(stream);
        let sender = match options.http {
            HttpVersion::Http2 => {
                if tls.alpn.as_deref() != Some(b"h2") {
                    return Err(ClientError::Alpn("h2"));
                }
                let (sender, connection) = http2::handshake(TokioExecutor::new(), io).await?;
                tokio::spawn(connection);
                Sender::Http2(sender)
            }
            HttpVersion::Http1 => {
                let (sender, connection) = http1::handshake(io).await?;
                tokio::spawn(connection);
                Sender::Http1(sender)
            }
        };
        Ok(Self {
            sender,
            authority: format!("{}:{}", options.server_name, addr.port()),
            tls: Some(tls),
        })
    }

    /// Connects over plain HTTP/1.1 (the admin listener).
    pub async fn connect_plain(addr: SocketAddr) -> Result<Self, ClientError> {
        let tcp = TcpStream::connect(addr).await?;
        let (sender, connection) = http1::handshake(TokioIo::new(tcp)).await?;
        tokio::spawn(connection);
        Ok(Self {
            sender: Sender::Http1(sender),
            authority: addr.to_string(),
            tls: None,
        })
    }

    /// What the TLS handshake negotiated (`None` for plain connections).
    pub fn tls(&self) -> Option<&TlsInfo> {
        self.tls.as_ref()
    }

    /// `POST path` with a JSON body; returns the status and the whole response body.
    pub async fn post_json(
        &mut self,
        path: &str,
        body: impl Into<Bytes>,
    ) -> Result<(StatusCode, Bytes), ClientError> {
        let response = self.request(Method::POST, path, body.into()).await?;
        Ok((response.status(), response.into_body()))
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> Result<(StatusCode, Bytes), ClientError> {
        let response = self.request(Method::GET, path, Bytes::new()).await?;
        Ok((response.status(), response.into_body()))
    }

    /// Any request; the response body is collected.
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        body: Bytes,
    ) -> Result<http::Response<Bytes>, ClientError> {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        let mut builder = Request::builder().method(method);
        builder = match self.sender {
            // HTTP/2 carries the authority in the URI; HTTP/1.1 in the Host header.
            Sender::Http2(_) => builder.uri(format!("{scheme}://{}{path}", self.authority)),
            Sender::Http1(_) => builder.uri(path).header(header::HOST, &self.authority),
        };
        if !body.is_empty() {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
        }
        let request = builder.body(Full::new(body))?;
        let response = match &mut self.sender {
            Sender::Http1(sender) => {
                sender.ready().await?;
                sender.send_request(request).await?
            }
            Sender::Http2(sender) => {
                sender.ready().await?;
                sender.send_request(request).await?
            }
        };
        let (parts, body) = response.into_parts();
        let bytes = body.collect().await?.to_bytes();
        Ok(http::Response::from_parts(parts, bytes))
    }
}
