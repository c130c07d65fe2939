//! `karmada-takeover placement`: where Karmada's scheduler would place a template under a
//! policy, and why every other cluster is left out ([`crate::rules::placement`]).

use std::{fmt::Write as _, path::PathBuf, process::ExitCode};

use anyhow::bail;
use serde::Serialize;

use super::{Output, output};
use crate::{
    fleet::files::{self, Located},
    karmada::{Cluster, Policy, PolicyKind},
    rules::placement::{self, Outcome, Workload},
};

/// Options of `placement`.
#[derive(Debug, clap::Args)]
pub struct PlacementArgs {
    /// The PropagationPolicy or ClusterPropagationPolicy (one object).
    #[arg(long, short = 'p', value_name = "FILE")]
    pub policy: PathBuf,
    /// Karmada Cluster objects as `kubectl get clusters -o yaml` prints them: files or
    /// directories (every *.yaml, *.yml, *.json inside; several objects per file, `kind: List`).
    #[arg(long, short = 'c', value_name = "FILE_OR_DIR", num_args = 1.., required_unless_present = "fleet")]
    pub clusters: Vec<PathBuf>,
    /// Instead of `--clusters`: the clusters of a fleet directory (`clusters.yaml`, see README).
    #[arg(long, value_name = "DIR", conflicts_with = "clusters")]
    pub fleet: Option<PathBuf>,
    /// The resource template (one object; its apiVersion, kind, spec.replicas and pod template
    /// requests matter).
    #[arg(long, short = 'r', value_name = "FILE")]
    pub resource: PathBuf,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// The JSON report: the outcome plus what was read.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    #[serde(flatten)]
    outcome: &'a Outcome,
    policy: String,
    resource: String,
    replicas: i32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ignored: Vec<String>,
}

fn one(path: &std::path::Path, flag: &str) -> anyhow::Result<Located> {
    let mut objects = files::read_file(path)?;
    match objects.len() {
        1 => Ok(objects.remove(0)),
        0 => bail!("--{flag} {}: no object found", path.display()),
        n => bail!("--{flag} {}: holds {n} objects; give one", path.display()),
    }
}

/// Reads the inputs: the policy, the clusters (with notes on objects that are not clusters) and
/// the template.
pub fn read_inputs(args: &PlacementArgs) -> anyhow::Result<(Policy, Vec<Cluster>, Located, Vec<String>)> {
    let policy_obj = one(&args.policy, "policy")?;
    if PolicyKind::from_kind(policy_obj.kind()).is_none()
        || !policy_obj.api_version().starts_with("policy.karmada.io/")
    {
        bail!(
            "--policy {}: {} is not a PropagationPolicy or ClusterPropagationPolicy",
            policy_obj.origin(),
            policy_obj.describe()
        );
    }
    let policy: Policy = policy_obj.parse()?;
    let (clusters, ignored) = match &args.fleet {
        Some(dir) => {
            let fleet = files::load_dir(dir)?;
            (fleet.clusters().map(|c| c.to_cluster()).collect(), Vec::new())
        }
        None => read_clusters(&args.clusters)?,
    };
    let resource = one(&args.resource, "resource")?;
    Ok((policy, clusters, resource, ignored))
}

/// Reads Karmada Cluster objects from files or directories; other objects are listed as ignored.
pub fn read_clusters(paths: &[PathBuf]) -> anyhow::Result<(Vec<Cluster>, Vec<String>)> {
    let mut clusters = Vec::new();
    let mut ignored = Vec::new();
    for obj in files::read_paths(paths)? {
        if obj.kind() != "Cluster" || !obj.api_version().starts_with("cluster.karmada.io/") {
            ignored.push(format!(
                "{}: {} is not a Karmada Cluster",
                obj.origin(),
                obj.describe()
            ));
            continue;
        }
        let cluster: Cluster = obj.parse()?;
        if clusters.iter().any(|c: &Cluster| c.name() == cluster.name()) {
            bail!("{}: Cluster {} is given twice", obj.origin(), cluster.name());
        }
        clusters.push(cluster);
    }
    Ok((clusters, ignored))
}

/// Runs `placement`.
pub fn run(args: PlacementArgs) -> anyhow::Result<ExitCode> {
    let (policy, clusters, resource, ignored) = read_inputs(&args)?;
    let workload = Workload::from_template(&resource.value);
    let default_placement = Default::default();
    let placement = policy.spec.placement.as_deref().unwrap_or(&default_placement);
    let outcome = placement::schedule(placement, &clusters, &workload);
    let report = Report {
        outcome: &outcome,
        policy: format!("{} {}", policy.kind, qualified(policy.namespace(), policy.name())),
        resource: resource.describe(),
        replicas: workload.replicas,
        ignored,
    };
    match args.output {
        Output::Json => output::print(serde_json::to_string_pretty(&report)? + "\n")?,
        Output::Text => output::print(text(&report))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn qualified(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_owned()
    } else {
        format!("{namespace}/{name}")
    }
}

fn text(r: &Report<'_>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} ({} replicas) under {}", r.resource, r.replicas, r.policy);
    out.push_str(&table(r.outcome));
    for skipped in &r.ignored {
        let _ = writeln!(out, "ignored: {skipped}");
    }
    out
}

/// The outcome as a verdict line, a table of clusters and the notes.
pub fn table(o: &Outcome) -> String {
    let mut out = String::new();
    match (&o.affinity_name, o.feasible) {
        (Some(term), true) => {
            let _ = writeln!(out, "schedulable with clusterAffinities term {term:?}");
        }
        (_, true) => {
            let _ = writeln!(out, "schedulable");
        }
        (_, false) => {
            let _ = writeln!(
                out,
                "NOT schedulable: {}",
                o.error.as_deref().unwrap_or("no cluster fits")
            );
        }
    }
    let width = o
        .clusters
        .iter()
        .map(|c| c.name.len())
        .chain(o.excluded.iter().map(|e| e.name.len()))
        .max()
        .unwrap_or(0)
        .max("CLUSTER".len());
    let _ = writeln!(out, "\n{:<width$}  REPLICAS  WHY", "CLUSTER");
    for c in &o.clusters {
        let _ = writeln!(out, "{:<width$}  {:>8}  picked", c.name, c.replicas);
    }
    for e in &o.excluded {
        let _ = writeln!(out, "{:<width$}  {:>8}  {}", e.name, "-", e.reason);
    }
    for note in &o.notes {
        let _ = writeln!(out, "\nnote: {note}");
    }
    out
}
