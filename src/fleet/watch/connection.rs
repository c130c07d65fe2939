//! The connection to karmada-apiserver, and the clients of member clusters derived from it
//! (Karmada's cluster proxy, same credentials).

use std::{fmt::Debug, path::Path};

use kube::Client;

/// A connection that could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The kubeconfig could not be read or used.
    #[error("kubeconfig {path}: {source}")]
    Kubeconfig {
        /// The file.
        path: String,
        /// Why.
        source: kube::config::KubeconfigError,
    },
    /// The kube client could not be built from the configuration.
    #[error("cannot build a client for {url}: {source}")]
    Client {
        /// The server URL.
        url: String,
        /// Why.
        source: kube::Error,
    },
    /// A member's proxy URL is not a valid URI.
    #[error("invalid cluster proxy URL {0}")]
    ProxyUrl(String),
}

/// A client of karmada-apiserver plus the configuration it came from, so member-cluster proxy
/// clients can be derived from it (same credentials, URL extended by the proxy path).
#[derive(Clone)]
pub struct Connection {
    /// The karmada-apiserver client.
    pub client: Client,
    config: kube::Config,
}

impl Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("url", &self.config.cluster_url)
            .finish_non_exhaustive()
    }
}

impl Connection {
    /// Reads a kubeconfig file (its current context) pointing at karmada-apiserver.
    pub async fn from_kubeconfig(path: &Path) -> Result<Self, Error> {
        let shown = path.display().to_string();
        let kubeconfig = kube::config::Kubeconfig::read_from(path).map_err(|source| Error::Kubeconfig {
            path: shown.clone(),
            source,
        })?;
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &kube::config::KubeConfigOptions::default())
                .await
                .map_err(|source| Error::Kubeconfig { path: shown, source })?;
        Self::from_config(config)
    }

    /// Uses an existing client configuration.
    pub fn from_config(config: kube::Config) -> Result<Self, Error> {
        let client = Client::try_from(config.clone()).map_err(|source| Error::Client {
            url: config.cluster_url.to_string(),
            source,
        })?;
        Ok(Self { client, config })
    }

    /// The base URL of member `cluster`'s proxy:
    /// `<karmada-apiserver>/apis/cluster.karmada.io/v1alpha1/clusters/<cluster>/proxy`.
    pub fn member_url(&self, cluster: &str) -> String {
        format!(
            "{}/apis/cluster.karmada.io/v1alpha1/clusters/{cluster}/proxy",
            self.config.cluster_url.to_string().trim_end_matches('/')
        )
    }

    /// A client whose requests go to member `cluster` through Karmada's cluster proxy. kube's
    /// base-URI middleware keeps the path of `cluster_url` and appends each request path to it.
    pub fn member(&self, cluster: &str) -> Result<Client, Error> {
        let url = self.member_url(cluster);
        let mut config = self.config.clone();
        config.cluster_url = url.parse().map_err(|_| Error::ProxyUrl(url.clone()))?;
        Client::try_from(config).map_err(|source| Error::Client { url, source })
    }
}
