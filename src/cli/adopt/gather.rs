//! Gathering for `adopt`: the connection to karmada-apiserver, the Karmada adapter's fleet view
//! (synced once), and the member copies of the candidate workloads and their Services, listed
//! through Karmada's cluster proxy.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
    time::Duration,
};

use anyhow::{Context, bail};
use arc_swap::ArcSwap;
use serde_json::Value;

use super::{Connect, Select};
use crate::{
    config::{Config, KindRef},
    fleet::{
        Fleet, SharedFleet,
        watch::{self, Connection, KarmadaMetrics, resources},
    },
    reconciler::adopt as exec,
    rules::adopt::{self as planner, Candidate},
};

/// One workload found in the members: its identity and each cluster's copy.
#[derive(Debug, Clone)]
pub struct Found {
    /// `apps/v1`...
    pub api_version: String,
    /// `Deployment`...
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Cluster → full member object.
    pub copies: BTreeMap<String, Value>,
}

impl Found {
    pub(super) fn candidate<'a>(&'a self, fleet: &Fleet) -> Candidate<'a> {
        Candidate {
            api_version: &self.api_version,
            kind: &self.kind,
            namespace: &self.namespace,
            name: &self.name,
            copies: self.copies.iter().map(|(c, v)| (c.as_str(), v)).collect(),
            namespace_exists: fleet.namespace_names().any(|n| n == self.namespace),
        }
    }

    /// `Deployment shop/web`.
    pub fn shown(&self) -> String {
        format!("{} {}/{}", self.kind, self.namespace, self.name)
    }
}

/// The connection, the synced fleet view and the config.
pub(super) struct Session {
    pub(super) connection: Connection,
    pub(super) fleet: SharedFleet,
    pub(super) config: Config,
    pub(super) timeout: Duration,
    _adapter: watch::Running,
}

pub(super) async fn connect(c: &Connect) -> anyhow::Result<Session> {
    let config = match &c.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let options = kube::config::KubeConfigOptions {
        context: c.context.clone(),
        ..Default::default()
    };
    let kube_config = match &c.kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("--kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &options)
                .await
                .with_context(|| format!("--kubeconfig {}", path.display()))?
        }
        None => kube::Config::from_kubeconfig(&options)
            .await
            .context("no --kubeconfig, and no usable $KUBECONFIG or ~/.kube/config")?,
    };
    let connection = Connection::from_config(kube_config)?;
    let fleet = SharedFleet::default();
    let adapter = watch::start(
        connection.clone(),
        fleet.clone(),
        Arc::new(ArcSwap::from_pointee(config.clone())),
        watch::Options {
            discovery_timeout: config.discovery.timeout,
            member_sync_timeout: c.sync_timeout,
            ..watch::Options::default()
        },
        KarmadaMetrics::unregistered().context("metrics")?,
    );
    if !adapter.wait_synced(c.sync_timeout).await {
        bail!(
            "karmada-apiserver: the first list of {} did not complete within --sync-timeout {:?}",
            adapter.pending().join(", "),
            c.sync_timeout
        );
    }
    Ok(Session {
        connection,
        fleet,
        config,
        timeout: c.timeout,
        _adapter: adapter,
    })
}

/// The kinds to look at: the config's selected kinds minus those that go along with a workload
/// (ConfigMap, Secret, Service), or the one `--kind`/`KIND/NAME` names (any kind the table
/// knows, so that a kind the config does not select is refused with that reason).
pub(super) fn kinds(config: &Config, kind: Option<&str>) -> anyhow::Result<Vec<KindRef>> {
    let goes_along =
        |k: &KindRef| k.api_version == "v1" && matches!(k.kind.as_str(), "ConfigMap" | "Secret" | "Service");
    let Some(wanted) = kind else {
        return Ok(config.kinds.iter().filter(|k| !goes_along(k)).cloned().collect());
    };
    let matches =
        |k: &str, plural: &str| k.eq_ignore_ascii_case(wanted) || plural.eq_ignore_ascii_case(wanted);
    if let Some(k) = config.kinds.iter().find(|k| {
        matches(
            &k.kind,
            crate::karmada::api::known_plural(&k.api_version, &k.kind).unwrap_or_default(),
        )
    }) {
        return Ok(vec![k.clone()]);
    }
    crate::karmada::api::PLURALS
        .iter()
        .find(|(_, k, plural)| matches(k, plural))
        .map(|(av, k, _)| vec![KindRef::new(av, k)])
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--kind {wanted}: not a kind karmada-takeover knows; selected kinds: {}",
                config
                    .kinds
                    .iter()
                    .map(|k| k.kind.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

/// Lists the workloads of `kinds` in every Ready member cluster (copies in clusters outside
/// `-C` count too: the takeover covers every unmanaged copy), keeps those with a copy in a `-C`
/// cluster, and groups the copies by workload.
pub(super) async fn gather(
    s: &Session,
    select: &Select,
    kinds: &[KindRef],
    name: Option<&str>,
) -> anyhow::Result<Vec<Found>> {
    let clusters = ready_clusters(s);
    for c in &select.clusters {
        if !s.fleet.read().clusters().any(|k| &k.name == c) {
            bail!(
                "-C {c}: no such member cluster; member clusters are: {}",
                clusters.join(", ")
            );
        }
    }
    let namespace = if select.all_namespaces {
        None
    } else {
        select.namespace.as_deref()
    };
    let mut found: BTreeMap<(String, String, String, String), Found> = BTreeMap::new();
    for kind in kinds {
        let ar = resources::known(&kind.api_version, &kind.kind)
            .ok_or_else(|| anyhow::anyhow!("no API resource known for {}/{}", kind.api_version, kind.kind))?;
        for cluster in &clusters {
            let items = exec::list_member(
                &s.connection,
                cluster,
                &ar,
                namespace,
                select.selector.as_deref(),
                s.timeout,
            )
            .await?;
            for item in items {
                let ns = item["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let n = item["metadata"]["name"].as_str().unwrap_or_default().to_owned();
                if name.is_some_and(|want| want != n) {
                    continue;
                }
                let key = (kind.api_version.clone(), kind.kind.clone(), ns.clone(), n.clone());
                found
                    .entry(key)
                    .or_insert_with(|| Found {
                        api_version: kind.api_version.clone(),
                        kind: kind.kind.clone(),
                        namespace: ns,
                        name: n,
                        copies: BTreeMap::new(),
                    })
                    .copies
                    .insert(cluster.clone(), item);
            }
        }
    }
    Ok(found
        .into_values()
        .filter(|f| select.clusters.is_empty() || f.copies.keys().any(|c| select.clusters.contains(c)))
        .collect())
}

/// The Services of one namespace in each cluster, listed once per namespace.
#[derive(Default)]
pub(super) struct ServiceCache {
    by_namespace: BTreeMap<String, Vec<(String, Value)>>,
}

impl ServiceCache {
    /// The Services (grouped across clusters) that select the pods of `f` in a cluster it runs in.
    pub(super) async fn selecting(&mut self, s: &Session, f: &Found) -> anyhow::Result<Vec<Found>> {
        if !self.by_namespace.contains_key(&f.namespace) {
            let ar = resources::known("v1", "Service").context("no API resource for Services")?;
            let clusters = ready_clusters(s);
            let mut all = Vec::new();
            for c in clusters {
                for svc in
                    exec::list_member(&s.connection, &c, &ar, Some(&f.namespace), None, s.timeout).await?
                {
                    all.push((c.clone(), svc));
                }
            }
            self.by_namespace.insert(f.namespace.clone(), all);
        }
        let mut out: BTreeMap<String, Found> = BTreeMap::new();
        let services = self
            .by_namespace
            .get(&f.namespace)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let selected: BTreeSet<&str> = services
            .iter()
            .filter(|(c, svc)| {
                f.copies
                    .get(c)
                    .is_some_and(|w| planner::selects_pods(svc, &planner::pod_labels(w)))
            })
            .filter_map(|(_, svc)| svc["metadata"]["name"].as_str())
            .collect();
        for (c, svc) in services {
            let Some(name) = svc["metadata"]["name"].as_str().filter(|n| selected.contains(n)) else {
                continue;
            };
            out.entry(name.to_owned())
                .or_insert_with(|| Found {
                    api_version: "v1".into(),
                    kind: "Service".into(),
                    namespace: f.namespace.clone(),
                    name: name.to_owned(),
                    copies: BTreeMap::new(),
                })
                .copies
                .insert(c.clone(), svc.clone());
        }
        Ok(out.into_values().collect())
    }
}

/// The member clusters that are Ready now, by name: the ones whose proxies are listed.
fn ready_clusters(s: &Session) -> Vec<String> {
    s.fleet
        .read()
        .clusters()
        .filter(|c| c.ready)
        .map(|c| c.name.clone())
        .collect()
}
