//! `karmada-takeover adopt`: turns workloads that run in member clusters into multicloud ones
//! (the template, its ConfigMaps/Secrets and Services in Karmada, a takeover policy), with
//! nothing restarted; `adopt list` shows the candidates.
//!
//! This module only parses arguments, gathers (the Karmada adapter's fleet view, the member
//! copies through Karmada's cluster proxy), calls the planner ([`crate::rules::adopt`]) and the
//! executor ([`crate::reconciler::adopt`]) and prints ([`show`]).
//!
//! The fuzzy match of `adopt list QUERY` on `namespace/name` is `nucleo-matcher`'s (the matcher
//! of the helix editor and of `nucleo`, fzf's scoring): a well-kept crate, so that "shpweb"
//! finds `shop/web` the way people expect from fzf, rather than a hand-written subsequence test.
//!
//! Exit codes: 0 when every workload was adopted or was already multicloud (skipped), 1 when
//! any was refused or failed (the summary says which and why), 2 on bad input or when
//! karmada-apiserver cannot be reached.

use std::{
    collections::{BTreeMap, BTreeSet},
    io::IsTerminal,
    path::PathBuf,
    process::ExitCode,
    sync::Arc,
    time::Duration,
};

use anyhow::{Context, bail};
use arc_swap::ArcSwap;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;

use super::Output;
use crate::{
    config::{Config, KindRef},
    fleet::{
        Fleet, SharedFleet,
        watch::{self, Connection, KarmadaMetrics, resources},
    },
    reconciler::adopt as exec,
    rules::adopt::{self as planner, Candidate, Plan, Refusal},
};

mod show;

/// `adopt` and `adopt list`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct AdoptArgs {
    /// `list`: show the candidates instead of adopting.
    #[command(subcommand)]
    pub list: Option<ListCommand>,
    /// What to adopt and how.
    #[command(flatten)]
    pub adopt: AdoptOptions,
}

/// `adopt list`.
#[derive(Debug, Subcommand)]
pub enum ListCommand {
    /// Workloads of the selected kinds running in member clusters and not yet multicloud.
    List(ListArgs),
}

/// Where karmada-apiserver is, and the engine config.
#[derive(Debug, Clone, Args)]
pub struct Connect {
    /// Kubeconfig of karmada-apiserver (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: its current context).
    #[arg(long)]
    pub context: Option<String>,
    /// Engine config file, as `serve --config` (default: built-in defaults).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Longest wait for one API call.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Longest wait for the first list of Karmada's and the members' objects.
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub sync_timeout: Duration,
}

/// Which workloads.
#[derive(Debug, Clone, Args)]
pub struct Select {
    /// Member cluster(s) to adopt from (repeatable; default: every cluster).
    #[arg(short = 'C', long = "cluster")]
    pub clusters: Vec<String>,
    /// Namespace.
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
    /// Only this kind (`Deployment`, `statefulset`...).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only workloads with these labels (`app=web,tier!=db`).
    #[arg(short = 'l', long)]
    pub selector: Option<String>,
}

/// `adopt list` arguments.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Fuzzy query on `namespace/name`.
    pub query: Option<String>,
    /// Which workloads.
    #[command(flatten)]
    pub select: Select,
    /// Also show workloads that are already multicloud, with the reason.
    #[arg(long)]
    pub all: bool,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// karmada-apiserver.
    #[command(flatten)]
    pub connect: Connect,
}

/// How the takeover policy gets written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WebhookMode {
    /// Look for our MutatingWebhookConfiguration in karmada-apiserver.
    Auto,
    /// The API server calls the webhook: create the template, the webhook writes the policy.
    Installed,
    /// No webhook: run the same engine here, write the policy and the patched template.
    Absent,
}

/// `adopt` arguments.
#[derive(Debug, Args)]
pub struct AdoptOptions {
    /// `KIND/NAME` of one workload (with -n).
    pub target: Option<String>,
    /// Which workloads.
    #[command(flatten)]
    pub select: Select,
    /// Print the plan and every refusal; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Take this cluster's copy when the copies differ, accepting a rollout in the others.
    #[arg(long)]
    pub source_cluster: Option<String>,
    /// Do not adopt the Services that select the workload's pods.
    #[arg(long)]
    pub no_services: bool,
    /// Whether the takeover webhook is installed.
    #[arg(long, value_enum, default_value_t = WebhookMode::Auto)]
    pub webhook: WebhookMode,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// karmada-apiserver.
    #[command(flatten)]
    pub connect: Connect,
}

/// Runs `adopt` or `adopt list`.
pub fn run(args: AdoptArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    match args.list {
        Some(ListCommand::List(list)) => runtime.block_on(list_run(list)),
        None => runtime.block_on(adopt_run(args.adopt)),
    }
}

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
    fn candidate<'a>(&'a self, fleet: &Fleet) -> Candidate<'a> {
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
struct Session {
    connection: Connection,
    fleet: SharedFleet,
    config: Config,
    timeout: Duration,
    _adapter: watch::Running,
}

async fn connect(c: &Connect) -> anyhow::Result<Session> {
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
fn kinds(config: &Config, kind: Option<&str>) -> anyhow::Result<Vec<KindRef>> {
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
async fn gather(
    s: &Session,
    select: &Select,
    kinds: &[KindRef],
    name: Option<&str>,
) -> anyhow::Result<Vec<Found>> {
    let clusters: Vec<String> = s
        .fleet
        .read()
        .clusters()
        .filter(|c| c.ready)
        .map(|c| c.name.clone())
        .collect();
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
struct ServiceCache {
    by_namespace: BTreeMap<String, Vec<(String, Value)>>,
}

impl ServiceCache {
    /// The Services (grouped across clusters) that select the pods of `f` in a cluster it runs in.
    async fn selecting(&mut self, s: &Session, f: &Found) -> anyhow::Result<Vec<Found>> {
        if !self.by_namespace.contains_key(&f.namespace) {
            let ar = resources::known("v1", "Service").context("no API resource for Services")?;
            let clusters: Vec<String> = s
                .fleet
                .read()
                .clusters()
                .filter(|c| c.ready)
                .map(|c| c.name.clone())
                .collect();
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

/// `-n` / `-A` / `KIND/NAME` make sense together; bad combinations are exit code 2.
fn check_select(select: &Select, target: Option<&str>) -> anyhow::Result<()> {
    if select.all_namespaces && select.namespace.is_some() {
        bail!("-n and --all-namespaces exclude each other");
    }
    if target.is_some() && select.namespace.is_none() {
        bail!("KIND/NAME needs -n NAMESPACE");
    }
    if target.is_none() && select.namespace.is_none() && !select.all_namespaces {
        bail!(
            "say what to adopt: KIND/NAME -n NS, -n NS, -l SELECTOR with -n or --all-namespaces, or -C CLUSTER --all-namespaces"
        );
    }
    Ok(())
}

async fn list_run(args: ListArgs) -> anyhow::Result<ExitCode> {
    if args.select.all_namespaces && args.select.namespace.is_some() {
        bail!("-n and --all-namespaces exclude each other");
    }
    let s = connect(&args.connect).await?;
    let kinds = kinds(&s.config, args.select.kind.as_deref())?;
    let mut select = args.select.clone();
    if select.namespace.is_none() {
        select.all_namespaces = true;
    }
    let found = gather(&s, &select, &kinds, None).await?;
    let found = show::fuzzy(found, args.query.as_deref());
    let mut services = ServiceCache::default();
    let mut rows = Vec::new();
    for f in &found {
        let svcs = services.selecting(&s, f).await?;
        let row = {
            let fleet = s.fleet.read();
            show::ListRow::of(f, &svcs, &fleet, &s.config)
        };
        if args.all || !row.already_multicloud() {
            rows.push(row);
        }
    }
    show::print_list(&rows, args.output)?;
    Ok(ExitCode::SUCCESS)
}

/// What happened to one workload (or one of its Services).
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase", tag = "result")]
pub enum Outcome {
    /// Planned (dry run): what would be created.
    Planned {
        /// The plan.
        plan: Box<Plan>,
    },
    /// Created (or found created by an earlier run).
    Adopted {
        /// What was written.
        done: exec::Done,
    },
    /// Already multicloud: nothing to do.
    Skipped {
        /// Why.
        refusal: Refusal,
    },
    /// Not adopted, by a rule.
    Refused {
        /// Why.
        refusal: Refusal,
    },
    /// A write failed; run again to finish.
    Failed {
        /// The error.
        error: String,
    },
}

/// One line of the summary.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Result1 {
    /// `Deployment`...
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Clusters it runs in.
    pub clusters: Vec<String>,
    /// For a Service: the workload it went along with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub with: Option<String>,
    /// What happened.
    #[serde(flatten)]
    pub outcome: Outcome,
}

async fn adopt_run(args: AdoptOptions) -> anyhow::Result<ExitCode> {
    let target = match &args.target {
        Some(t) => Some(
            t.split_once('/')
                .with_context(|| format!("{t}: expected KIND/NAME, e.g. deployment/web"))?,
        ),
        None => None,
    };
    check_select(&args.select, args.target.as_deref())?;
    let s = connect(&args.connect).await?;
    let kind = target.map(|(k, _)| k).or(args.select.kind.as_deref());
    let kinds = kinds(&s.config, kind)?;
    let found = gather(&s, &args.select, &kinds, target.map(|(_, n)| n)).await?;
    if let (Some((k, n)), true) = (target, found.is_empty()) {
        bail!(
            "{k}/{n} runs in no member cluster{} in namespace {}",
            if args.select.clusters.is_empty() {
                String::new()
            } else {
                format!(" of {}", args.select.clusters.join(", "))
            },
            args.select.namespace.as_deref().unwrap_or_default()
        );
    }
    let webhook = match args.webhook {
        WebhookMode::Installed => true,
        WebhookMode::Absent => false,
        WebhookMode::Auto => exec::webhook_installed(&s.connection.client, s.timeout).await?,
    };
    let progress = if !args.dry_run && found.len() > 1 && std::io::stderr().is_terminal() {
        indicatif::ProgressBar::new(found.len() as u64)
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut services = ServiceCache::default();
    let mut adopted_services: BTreeSet<String> = BTreeSet::new();
    let mut results = Vec::new();
    for f in &found {
        progress.set_message(f.shown());
        let svcs = if args.no_services {
            Vec::new()
        } else {
            services.selecting(&s, f).await?
        };
        let adoptable = {
            let fleet = s.fleet.read();
            planner::plan(
                &f.candidate(&fleet),
                args.source_cluster.as_deref(),
                &*fleet,
                &s.config,
            )
            .is_ok()
        };
        // Services first, when the workload itself can be adopted: they carry its traffic, and
        // the workload's template is the last write (once it exists, the workload is done).
        if adoptable {
            for svc in svcs.iter().filter(|svc| adopted_services.insert(svc.shown())) {
                results.push(adopt_one(&s, svc, None, webhook, args.dry_run, Some(f.shown())).await);
            }
        }
        results.push(adopt_one(&s, f, args.source_cluster.as_deref(), webhook, args.dry_run, None).await);
        progress.inc(1);
    }
    progress.finish_and_clear();
    show::print_results(&results, args.dry_run, webhook, args.output)?;
    let bad = results
        .iter()
        .any(|r| matches!(r.outcome, Outcome::Refused { .. } | Outcome::Failed { .. }));
    Ok(if bad { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Plans one workload and, unless this is a dry run, carries the plan out.
async fn adopt_one(
    s: &Session,
    f: &Found,
    source: Option<&str>,
    webhook: bool,
    dry_run: bool,
    with: Option<String>,
) -> Result1 {
    let planned = {
        let fleet = s.fleet.read();
        planner::plan(&f.candidate(&fleet), source, &*fleet, &s.config)
    };
    let outcome = match planned {
        Err(refusal) if refusal.reason.is_done() => Outcome::Skipped { refusal },
        Err(refusal) => Outcome::Refused { refusal },
        Ok(plan) if dry_run => Outcome::Planned { plan: Box::new(plan) },
        Ok(plan) => match exec::execute(&s.connection, &plan, webhook, s.timeout).await {
            Ok(done) => Outcome::Adopted { done },
            Err(e) => Outcome::Failed { error: e.to_string() },
        },
    };
    Result1 {
        kind: f.kind.clone(),
        namespace: f.namespace.clone(),
        name: f.name.clone(),
        clusters: f.copies.keys().cloned().collect(),
        with,
        outcome,
    }
}
