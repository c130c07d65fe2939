//! `karmada-takeover adopt`: turns workloads that run in member clusters into multicloud ones
//! (the template, its ConfigMaps/Secrets and Services in Karmada, a takeover policy), with
//! nothing restarted; `adopt list` shows the candidates.
//!
//! This module only parses arguments, gathers (the Karmada adapter's fleet view, the member
//! copies through Karmada's cluster proxy), calls the planner ([`crate::rules::adopt`]) and the
//! executor ([`crate::reconciler::adopt`]) and prints (module `show`).
//!
//! The fuzzy match of `adopt list QUERY` on `namespace/name` is `nucleo-matcher`'s (the matcher
//! of the helix editor and of `nucleo`, fzf's scoring): a well-kept crate, so that "shpweb"
//! finds `shop/web` the way people expect from fzf, rather than a hand-written subsequence test.
//!
//! Exit codes: 0 when every workload was adopted or was already multicloud (skipped), 1 when
//! any was refused or failed (the summary says which and why), 2 on bad input or when
//! karmada-apiserver cannot be reached.

use std::{collections::BTreeSet, io::IsTerminal, path::PathBuf, process::ExitCode, time::Duration};

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};

use super::Output;
use crate::{
    reconciler::adopt as exec,
    rules::adopt::{self as planner, Plan, Refusal},
};

mod gather;
mod show;

use gather::{Found, ServiceCache, connect, gather, kinds};

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
        let mut service_failed = None;
        if adoptable {
            let fresh: Vec<&Found> = svcs
                .iter()
                .filter(|svc| adopted_services.insert(svc.shown()))
                .collect();
            for svc in fresh {
                let r = adopt_one(&s, svc, None, webhook, args.dry_run, Some(f.shown())).await;
                if let Outcome::Failed { error } = &r.outcome {
                    // Its template stays absent, so the next run plans this workload (and the
                    // Service) again instead of finding it multicloud.
                    adopted_services.remove(&svc.shown());
                    service_failed = Some(format!("not adopted because {} failed: {error}", svc.shown()));
                }
                results.push(r);
            }
        }
        match service_failed {
            Some(error) => results.push(Result1 {
                outcome: Outcome::Failed { error },
                ..result_for(f, None)
            }),
            None => results
                .push(adopt_one(&s, f, args.source_cluster.as_deref(), webhook, args.dry_run, None).await),
        }
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
    s: &gather::Session,
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
        outcome,
        ..result_for(f, with)
    }
}

/// A result line for `f`, its outcome to be filled in.
fn result_for(f: &Found, with: Option<String>) -> Result1 {
    Result1 {
        kind: f.kind.clone(),
        namespace: f.namespace.clone(),
        name: f.name.clone(),
        clusters: f.copies.keys().cloned().collect(),
        with,
        outcome: Outcome::Failed { error: String::new() },
    }
}
