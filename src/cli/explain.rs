//! `karmada-takeover explain`: which policy Karmada lets claim a template, and why.

use std::{fmt::Write as _, path::PathBuf, process::ExitCode};

use anyhow::{Context, bail};
use serde::Serialize;

use super::{OnOff, Output, output};
use crate::{
    fleet::files::{self, Located},
    karmada::{Labels, Policy, PolicyKind},
    rules::{
        claim::{self, Candidate, Resolution, Template, WonBy},
        placement::{self, Outcome, Workload},
    },
};

/// Options of `explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// The resource template (YAML or JSON; one object).
    #[arg(long, short = 'r', value_name = "FILE")]
    pub resource: PathBuf,
    /// Policy files or directories (every *.yaml, *.yml, *.json inside; several objects per file).
    #[arg(long, short = 'p', value_name = "FILE_OR_DIR", num_args = 1.., required = true)]
    pub policies: Vec<PathBuf>,
    /// Karmada Cluster objects (files or directories): when given, also show where the winning
    /// policy's placement would schedule the template (as `placement` does).
    #[arg(long, short = 'c', value_name = "FILE_OR_DIR", num_args = 1..)]
    pub clusters: Vec<PathBuf>,
    /// Whether karmada-controller-manager runs with the PropagationPolicyPreemption feature gate.
    #[arg(long, value_enum, default_value_t = OnOff::Off, env = "KARMADA_TAKEOVER_PREEMPTION_GATE")]
    pub preemption_gate: OnOff,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// A policy's identity in JSON output.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct PolicyRef<'a> {
    kind: PolicyKind,
    #[serde(skip_serializing_if = "str::is_empty")]
    namespace: &'a str,
    name: &'a str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report<'a> {
    resource: ResourceRef<'a>,
    preemption_gate: bool,
    winner: Option<PolicyRef<'a>>,
    #[serde(flatten)]
    resolution: &'a Resolution<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    placement: Option<Outcome>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    ignored: Vec<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ResourceRef<'a> {
    api_version: &'a str,
    kind: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    namespace: &'a str,
    name: &'a str,
}

/// Reads the inputs of `explain`: the template and the policies (with notes on skipped objects).
pub fn read_inputs(args: &ExplainArgs) -> anyhow::Result<(Located, Vec<Policy>, Vec<String>)> {
    let mut objects = files::read_file(&args.resource)?;
    let resource = match objects.len() {
        1 => objects.remove(0),
        0 => bail!("--resource {}: no object found", args.resource.display()),
        n => bail!(
            "--resource {}: holds {n} objects; explain one resource template at a time",
            args.resource.display()
        ),
    };
    let mut policies = Vec::new();
    let mut ignored = Vec::new();
    for obj in files::read_paths(&args.policies)? {
        if PolicyKind::from_kind(obj.kind()).is_none() || !obj.api_version().starts_with("policy.karmada.io/")
        {
            ignored.push(format!(
                "{}: {} is not a PropagationPolicy or ClusterPropagationPolicy",
                obj.origin(),
                obj.describe()
            ));
            continue;
        }
        let mut policy: Policy = obj.parse()?;
        if policy.policy_kind() == Some(PolicyKind::PropagationPolicy) && policy.namespace().is_empty() {
            // kubectl applies a namespace-less manifest to the default namespace.
            policy.metadata.namespace = Some("default".into());
        }
        policies.push(policy);
    }
    Ok((resource, policies, ignored))
}

/// Runs `explain`.
pub fn run(args: ExplainArgs) -> anyhow::Result<ExitCode> {
    let (resource, policies, ignored) = read_inputs(&args)?;
    let meta: crate::rules::DynamicObject = resource.parse().context("--resource")?;
    let empty = Labels::new();
    let template = Template::new(
        resource.api_version(),
        resource.kind(),
        meta.metadata.namespace.as_deref().unwrap_or_default(),
        meta.metadata.name.as_deref().unwrap_or_default(),
        Some(meta.metadata.labels.as_ref().unwrap_or(&empty)),
        Some(meta.metadata.annotations.as_ref().unwrap_or(&empty)),
    );
    let gate = args.preemption_gate == OnOff::On;
    let resolution = claim::resolve(&template, &&policies[..], gate);
    let mut ignored = ignored;
    let placement = match resolution.winner() {
        Some(w) if !args.clusters.is_empty() => {
            let (clusters, skipped) = super::placement::read_clusters(&args.clusters)?;
            ignored.extend(skipped);
            let policy = policies.iter().find(|p| {
                p.policy_kind() == Some(w.kind) && p.namespace() == w.namespace && p.name() == w.name
            });
            policy.map(|p| {
                let default_placement = Default::default();
                let placement = p.spec.placement.as_deref().unwrap_or(&default_placement);
                placement::schedule(placement, &clusters, &Workload::from_template(&resource.value))
            })
        }
        _ => None,
    };
    let report = Report {
        resource: ResourceRef {
            api_version: template.api_version,
            kind: template.kind,
            namespace: template.namespace,
            name: template.name,
        },
        preemption_gate: gate,
        winner: resolution.winner().map(|w| PolicyRef {
            kind: w.kind,
            namespace: w.namespace,
            name: w.name,
        }),
        resolution: &resolution,
        placement,
        ignored,
    };
    match args.output {
        Output::Json => output::print(serde_json::to_string_pretty(&report)? + "\n")?,
        Output::Text => output::print(text(&report))?,
    }
    Ok(ExitCode::SUCCESS)
}

fn text(r: &Report<'_>) -> String {
    let mut out = String::new();
    let res = &r.resource;
    let shown = if res.namespace.is_empty() {
        res.name.to_owned()
    } else {
        format!("{}/{}", res.namespace, res.name)
    };
    let _ = writeln!(out, "{} {shown} ({})", res.kind, res.api_version);
    let _ = writeln!(
        out,
        "preemption gate: {}",
        if r.preemption_gate { "on" } else { "off" }
    );
    match (r.resolution.winner(), r.resolution.won_by) {
        (Some(w), Some(by)) => {
            let how = match by {
                WonBy::ExistingClaim => "already claims it (sticky claim)",
                WonBy::Preemption => "preempts the claiming policy",
                WonBy::FirstMatchPropagationPolicy => "best-ranked matching PropagationPolicy",
                WonBy::FirstMatchClusterPropagationPolicy => {
                    "best-ranked ClusterPropagationPolicy (no PropagationPolicy matches)"
                }
            };
            let _ = writeln!(out, "winner: {} — {how}", w.display());
        }
        _ => {
            let _ = writeln!(out, "winner: none");
        }
    }
    if !r.resolution.candidates.is_empty() {
        let _ = writeln!(out, "\ncandidates:");
        for c in &r.resolution.candidates {
            let _ = writeln!(out, "  {}", candidate_line(c));
            let _ = writeln!(out, "      {}", c.verdict);
        }
    }
    for note in &r.resolution.notes {
        let _ = writeln!(out, "\nnote: {note}");
    }
    if let Some(outcome) = &r.placement {
        let _ = writeln!(out, "\nplacement of the winner:");
        out.push_str(&super::placement::table(outcome));
    }
    for skipped in &r.ignored {
        let _ = writeln!(out, "ignored: {skipped}");
    }
    out
}

fn candidate_line(c: &Candidate<'_>) -> String {
    let precision = match c.implicit_priority {
        claim::Implicit::Name => "name",
        claim::Implicit::LabelSelector => "labelSelector",
        claim::Implicit::MatchAll => "kind-wide",
        claim::Implicit::Mismatch => "no match",
    };
    format!(
        "{:<52} priority {:>4}  implicit {} ({precision}){}",
        c.display(),
        c.explicit_priority,
        c.implicit_priority.value(),
        if c.preemption_always {
            "  preemption: Always"
        } else {
            ""
        }
    )
}
