//! Which REST resource serves a kind: the domain's plural table ([`api::PLURALS`]) for the kinds
//! the webhook selects by default (no discovery round trip), discovery for any other kind.

use kube::{
    Client,
    core::{ApiResource, GroupVersionKind},
};

use crate::{config::KindRef, karmada::api};

/// The group/version/kind of an `apiVersion` + `kind`.
pub fn gvk(api_version: &str, kind: &str) -> GroupVersionKind {
    let (group, version) = api::split_api_version(api_version);
    GroupVersionKind::gvk(group, version, kind)
}

/// The resource of a well-known kind ([`api::PLURALS`]), without discovery.
pub fn known(api_version: &str, kind: &str) -> Option<ApiResource> {
    api::known_plural(api_version, kind)
        .map(|plural| ApiResource::from_gvk_with_plural(&gvk(api_version, kind), plural))
}

/// Why a kind has no resource.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The API server does not serve the kind (404 from discovery).
    #[error("{0} is not served by this API server")]
    NotServed(String),
    /// Discovery failed; retry later.
    #[error("discovery of {kind} failed: {source}")]
    Discovery {
        /// `apiVersion/kind`.
        kind: String,
        /// The client error.
        source: kube::Error,
    },
    /// Discovery did not answer within the config's `discovery.timeout`.
    #[error("discovery of {kind} took longer than discovery.timeout ({timeout:?})")]
    Timeout {
        /// The kind.
        kind: String,
        /// The configured limit.
        timeout: std::time::Duration,
    },
}

/// The resource of a kind: the table, else discovery through `client` (which may be a member's
/// proxy client, so a kind is looked up where it is served).
pub async fn resolve(
    client: &Client,
    kind: &KindRef,
    timeout: std::time::Duration,
) -> Result<ApiResource, ResolveError> {
    if let Some(ar) = known(&kind.api_version, &kind.kind) {
        return Ok(ar);
    }
    let shown = format!("{}/{}", kind.api_version, kind.kind);
    let wanted = gvk(&kind.api_version, &kind.kind);
    let discovery = kube::discovery::pinned_kind(client, &wanted);
    match tokio::time::timeout(timeout, discovery).await {
        Err(_) => Err(ResolveError::Timeout { kind: shown, timeout }),
        Ok(Ok((ar, _))) => Ok(ar),
        Ok(Err(kube::Error::Api(status))) if status.code == 404 => Err(ResolveError::NotServed(shown)),
        Ok(Err(kube::Error::Discovery(_))) => Err(ResolveError::NotServed(shown)),
        Ok(Err(source)) => Err(ResolveError::Discovery { kind: shown, source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_kinds_need_no_discovery() {
        for k in crate::config::default_kinds() {
            assert!(known(&k.api_version, &k.kind).is_some(), "{k:?}");
        }
        let cm = known("v1", "ConfigMap").unwrap();
        assert_eq!(
            (cm.group.as_str(), cm.version.as_str(), cm.plural.as_str()),
            ("", "v1", "configmaps")
        );
    }
}
