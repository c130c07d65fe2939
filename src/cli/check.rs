//! `karmada-takeover check`: what admission would do to each manifest, offline. For pipelines:
//! the exit code is 1 when any manifest would be denied.

use std::{fmt::Write as _, path::PathBuf, process::ExitCode};

use anyhow::Context;
use serde::Serialize;
use serde_json::Value;

use super::{Output, output};
use crate::{
    config::Config,
    fleet::{Fleet, files},
    karmada::PolicyKind,
    rules::{self, Action, Decision, DynamicObject, Operation, Review, Verdict, Webhook},
};

/// Options of `check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Fleet directory (`clusters.yaml`, `karmada/`, `members/<cluster>/`). Default: the embedded example fleet.
    #[arg(long, value_name = "DIR", env = "KARMADA_TAKEOVER_FLEET")]
    pub fleet: Option<PathBuf>,
    /// Manifests to check (files or directories; several objects per file).
    #[arg(long = "filename", short = 'f', value_name = "MANIFEST", num_args = 1.., required = true)]
    pub manifests: Vec<PathBuf>,
    /// Engine config file (default: built-in defaults).
    #[arg(long, value_name = "FILE", env = "KARMADA_TAKEOVER_CONFIG")]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// What admission would do to one object.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Checked {
    /// `file:line` of the manifest.
    pub origin: String,
    /// `Deployment shop/frontend`.
    pub object: String,
    /// CREATE or UPDATE (UPDATE when the fleet already has the object).
    pub operation: &'static str,
    /// Whether the webhooks review this kind at all.
    pub reviewed: bool,
    /// Admitted or not.
    pub allowed: bool,
    /// Both webhooks' answers chained: the first denial, the mutating patch, every warning and action.
    #[serde(flatten)]
    pub decision: Decision,
}

/// Runs the mutating then the validating webhook for one object, as the API server chains them.
pub fn admit(
    object: &Value,
    fleet: &Fleet,
    config: &Config,
) -> anyhow::Result<(Operation, Decision, Decision, bool)> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default().to_owned();
    let kind = object["kind"].as_str().unwrap_or_default();
    let namespace = object["metadata"]["namespace"].as_str().unwrap_or_default();
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let (mutate, validate) =
        if PolicyKind::from_kind(kind).is_some() && api_version.starts_with("policy.karmada.io/") {
            (Webhook::MutatePolicy, Webhook::ValidatePolicy)
        } else if config.selects(&api_version, kind) {
            (Webhook::MutateWorkload, Webhook::ValidateWorkload)
        } else {
            return Ok((Operation::Create, Decision::allow(), Decision::allow(), false));
        };
    let old: Option<Value> = match PolicyKind::from_kind(kind) {
        Some(pk) if mutate == Webhook::MutatePolicy => {
            let ns = if pk == PolicyKind::PropagationPolicy { namespace } else { "" };
            fleet.policy(pk, ns, name).map(serde_json::to_value).transpose()?
        }
        _ => fleet.template(&api_version, kind, namespace, name).map(|t| {
            serde_json::json!({"apiVersion": t.api_version, "kind": t.kind,
                "metadata": {"name": t.name, "namespace": t.namespace, "labels": t.labels, "annotations": t.annotations}})
        }),
    };
    let old: Option<DynamicObject> = old
        .map(serde_json::from_value)
        .transpose()
        .context("old object")?;
    let operation = if old.is_some() {
        Operation::Update
    } else {
        Operation::Create
    };
    // What the API server would hand the webhooks: the object with its defaults, so that a
    // hand-written manifest compares with the running copies like an admitted one.
    let mut defaulted = object.clone();
    crate::kube::defaults::apply_defaults(&api_version, kind, &mut defaulted);
    let mut current: DynamicObject = serde_json::from_value(defaulted).context("object")?;
    let review = |obj: &DynamicObject, webhook: Webhook| {
        rules::decide(
            webhook,
            &Review {
                operation: operation.clone(),
                api_version: api_version.clone(),
                kind,
                namespace,
                name,
                object: Some(obj.into()),
                old_object: old.as_ref().map(Into::into),
                dry_run: true,
            },
            fleet,
            config,
        )
    };
    let mutated = review(&current, mutate);
    if mutated.allowed() && !mutated.patch.is_empty() {
        let mut value = serde_json::to_value(&current)?;
        json_patch::patch(&mut value, &mutated.patch).context("applying the webhook's own patch")?;
        current = serde_json::from_value(value)?;
    }
    let validated = if mutated.allowed() {
        review(&current, validate)
    } else {
        Decision::allow()
    };
    Ok((operation, mutated, validated, true))
}

/// The outcome of the mutating then the validating webhook, as the client sees it: the first
/// denial wins; otherwise the mutating patch, with both webhooks' warnings and actions.
pub fn chain(mutated: Decision, validated: Decision) -> Decision {
    if !mutated.allowed() {
        return mutated;
    }
    let mut out = mutated;
    out.verdict = validated.verdict;
    for w in validated.warnings {
        if !out.warnings.contains(&w) {
            out.warnings.push(w);
        }
    }
    out.actions.extend(validated.actions);
    if out.placement.is_none() {
        out.placement = validated.placement;
    }
    out
}

/// Runs `check`.
pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let fleet = match &args.fleet {
        Some(dir) => files::load_dir(dir)?,
        None => files::embedded(),
    };
    let mut results = Vec::new();
    for obj in files::read_paths(&args.manifests)? {
        let (operation, mutated, validated, reviewed) = admit(&obj.value, &fleet, &config)
            .with_context(|| format!("{}: {}", obj.origin(), obj.describe()))?;
        let decision = chain(mutated, validated);
        results.push(Checked {
            origin: obj.origin(),
            object: obj.describe(),
            operation: crate::admission::operation_label(&operation),
            reviewed,
            allowed: decision.allowed(),
            decision,
        });
    }
    match args.output {
        Output::Json => {
            output::print(serde_json::to_string_pretty(&serde_json::json!({ "results": results }))? + "\n")?
        }
        Output::Text => output::print(text(&results))?,
    }
    Ok(if results.iter().any(|r| !r.allowed) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The placement guard's verdict: where each kind would go, and where its problems are spelled out.
fn placement_lines(out: &mut String, p: &rules::placement::guard::PlacementVerdict, denied: bool) {
    for c in &p.checks {
        let _ = writeln!(
            out,
            "  placement: {} {} -> {}",
            c.api_version,
            c.kind,
            if c.feasible {
                c.clusters.join(", ")
            } else {
                format!("no cluster ({})", c.error.as_deref().unwrap_or_default())
            }
        );
    }
    if !p.ok() {
        let _ = writeln!(
            out,
            "  placement: {} problem(s) (placementGuard: {}), each with the reason per cluster in the {} below",
            p.problems.len(),
            p.mode.as_str(),
            if denied { "message" } else { "warnings" }
        );
    }
}

/// Human output.
pub fn text(results: &[Checked]) -> String {
    let mut out = String::new();
    for r in results {
        let d = &r.decision;
        let denial = match &d.verdict {
            Verdict::Deny { reason, message } => Some((reason.label(), message.as_str())),
            Verdict::Allow => None,
        };
        let verdict = match (r.reviewed, r.allowed, d.patch.is_empty()) {
            (false, _, _) => "not reviewed (not a selected kind)".to_owned(),
            (true, false, _) => format!("DENIED ({})", denial.map(|d| d.0).unwrap_or_default()),
            (true, true, false) => "ALLOWED with patch".to_owned(),
            (true, true, true) => "ALLOWED".to_owned(),
        };
        let _ = writeln!(out, "{} ({}, {}): {verdict}", r.object, r.operation, r.origin);
        if let Some((_, m)) = denial {
            let _ = writeln!(out, "  message: {m}");
        }
        for op in &d.patch {
            let _ = writeln!(out, "  patch: {}", serde_json::to_string(op).unwrap_or_default());
        }
        if let Some(t) = &d.takeover {
            let _ = writeln!(
                out,
                "  takeover: {} {} pinned to {} ({})",
                t.policy_kind,
                if t.policy_namespace.is_empty() {
                    t.policy_name.clone()
                } else {
                    format!("{}/{}", t.policy_namespace, t.policy_name)
                },
                t.clusters.join(", "),
                match t.cluster_source {
                    rules::takeover::ClusterSource::Annotation =>
                        "from the karmada-takeover.io/clusters annotation",
                    rules::takeover::ClusterSource::MemberIndex => "where it runs",
                }
            );
            for d in &t.dependencies {
                let _ = writeln!(
                    out,
                    "  dependency: {} {} ({})",
                    d.kind.as_str(),
                    d.name,
                    if d.in_karmada {
                        "in Karmada".to_owned()
                    } else {
                        format!("not in Karmada; in {}", d.in_clusters.join(", "))
                    }
                );
            }
        }
        for v in d.restart.iter().flat_map(|c| &c.verdicts) {
            let _ = writeln!(out, "  restart guard: {} ({})", v.describe(), v.outcome.label());
        }
        if let Some(p) = &d.placement {
            placement_lines(&mut out, p, denial.is_some());
        }
        for a in &d.actions {
            if let Action::ReleasePolicy {
                kind,
                namespace,
                name,
            } = a
            {
                let _ = writeln!(
                    out,
                    "  release: {kind} {}",
                    if namespace.is_empty() {
                        name.clone()
                    } else {
                        format!("{namespace}/{name}")
                    }
                );
            }
        }
        for w in &d.warnings {
            let _ = writeln!(out, "  warning: {w}");
        }
    }
    let denied = results.iter().filter(|r| !r.allowed).count();
    let _ = writeln!(out, "\n{} object(s) checked, {denied} denied", results.len());
    out
}
