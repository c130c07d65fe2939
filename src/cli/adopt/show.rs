//! What `adopt` and `adopt list` print: tables for people, JSON for programs.
//!
//! `adopt -o json` prints one object: `{"dryRun", "webhook", "results": [{"kind", "namespace",
//! "name", "clusters", "with"?, "result": "planned"|"adopted"|"skipped"|"refused"|"failed", ...}],
//! "summary": {"planned", "adopted", "skipped", "refused", "failed"}}`, where a planned result
//! carries `plan` (the objects that would be created), an adopted one `done` (`created`,
//! `existed`), a skipped or refused one `refusal` (`reason` label, `message`), a failed one
//! `error`. `adopt list -o json` prints the rows as an array.

use std::fmt::Write as _;

use nucleo_matcher::{
    Config as MatchConfig, Matcher, Utf32Str,
    pattern::{CaseMatching, Normalization, Pattern},
};
use serde::Serialize;

use super::{Found, Outcome, Result1};
use crate::{
    cli::{Output, output},
    config::Config,
    fleet::Fleet,
    rules::adopt::{self as planner, Reason},
};

/// Keeps the workloads whose `namespace/name` matches `query` (fzf-like fuzzy match), best
/// first; all of them, in order, without a query.
pub fn fuzzy(found: Vec<Found>, query: Option<&str>) -> Vec<Found> {
    let Some(query) = query.filter(|q| !q.is_empty()) else {
        return found;
    };
    let mut matcher = Matcher::new(MatchConfig::DEFAULT);
    let pattern = Pattern::parse(query, CaseMatching::Ignore, Normalization::Smart);
    let mut buf = Vec::new();
    let mut scored: Vec<(u32, Found)> = found
        .into_iter()
        .filter_map(|f| {
            let key = format!("{}/{}", f.namespace, f.name);
            pattern
                .score(Utf32Str::new(&key, &mut buf), &mut matcher)
                .map(|score| (score, f))
        })
        .collect();
    scored.sort_by_key(|s| std::cmp::Reverse(s.0));
    scored.into_iter().map(|(_, f)| f).collect()
}

/// One row of `adopt list`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListRow {
    /// `Deployment`...
    pub kind: String,
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Cluster → replicas (`null` for kinds without).
    pub replicas: std::collections::BTreeMap<String, Option<i64>>,
    /// `ConfigMap/x`, `Secret/y`... (Karmada's interpreter).
    pub dependencies: Vec<String>,
    /// Services that select its pods.
    pub services: Vec<String>,
    /// The restart verdict: `no-restart`, the guard's worst outcome, or the refusal label.
    pub restart: String,
    /// The policy that would claim it, if one exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Why it would not be adopted, if it would not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<planner::Refusal>,
}

impl ListRow {
    /// The row of one workload, from its plan.
    pub fn of(f: &Found, services: &[Found], fleet: &Fleet, config: &Config) -> Self {
        let planned = planner::plan(&f.candidate(fleet), None, fleet, config);
        let first = f.copies.values().next();
        let dependencies = first
            .map(|body| {
                let object = crate::rules::dependencies::Object {
                    api_version: &f.api_version,
                    kind: &f.kind,
                    namespace: &f.namespace,
                    name: &f.name,
                    body: body.into(),
                };
                let mut deps: Vec<String> = crate::rules::dependencies::dependencies(&object)
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|d| !d.name.is_empty())
                    .map(|d| format!("{}/{}", d.kind.as_str(), d.name))
                    .collect();
                deps.dedup();
                deps
            })
            .unwrap_or_default();
        let policy = first
            .and_then(planner::template_of)
            .and_then(|t| planner::claimant(&t, fleet, config));
        let (restart, refusal) = match planned {
            Ok(plan) => (
                plan.restart
                    .as_ref()
                    .map(|r| r.worst())
                    .filter(|w| *w != crate::rules::restart::Outcome::Equal)
                    .map_or_else(|| "no-restart".to_owned(), |w| w.label().to_owned()),
                None,
            ),
            Err(refusal) => (refusal.reason.label().to_owned(), Some(refusal)),
        };
        Self {
            kind: f.kind.clone(),
            namespace: f.namespace.clone(),
            name: f.name.clone(),
            replicas: f
                .copies
                .iter()
                .map(|(c, v)| (c.clone(), planner::replicas(v)))
                .collect(),
            dependencies,
            services: services.iter().map(|s| s.name.clone()).collect(),
            restart,
            policy,
            refusal,
        }
    }

    /// Whether it is already multicloud (left out unless `--all`).
    pub fn already_multicloud(&self) -> bool {
        self.refusal.as_ref().is_some_and(|r| r.reason.is_done())
    }
}

fn or_dash(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_owned()
    } else {
        items.join(",")
    }
}

/// Prints `adopt list`.
pub fn print_list(rows: &[ListRow], format: Output) -> anyhow::Result<()> {
    if format == Output::Json {
        output::print(format!("{}\n", serde_json::to_string(rows)?))?;
        return Ok(());
    }
    let mut table = vec![
        [
            "KIND",
            "NAMESPACE/NAME",
            "REPLICAS",
            "DEPENDENCIES",
            "SERVICES",
            "RESTART",
            "POLICY",
        ]
        .map(str::to_owned),
    ];
    for r in rows {
        let replicas: Vec<String> = r
            .replicas
            .iter()
            .map(|(c, n)| n.map_or_else(|| c.clone(), |n| format!("{c}={n}")))
            .collect();
        table.push([
            r.kind.clone(),
            format!("{}/{}", r.namespace, r.name),
            replicas.join(","),
            or_dash(&r.dependencies),
            or_dash(&r.services),
            r.restart.clone(),
            r.policy.clone().unwrap_or_else(|| "-".to_owned()),
        ]);
    }
    let mut out = render(&table);
    for r in rows {
        if let Some(refusal) = &r.refusal {
            let _ = writeln!(out, "{}", refusal.message);
        }
    }
    if rows.is_empty() {
        out = "no candidates: nothing in the member clusters is left to adopt (--all shows what is already multicloud)\n".to_owned();
    }
    output::print(out)?;
    Ok(())
}

/// Columns padded to their widest cell.
fn render<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
        let _ = writeln!(out, "{}", line.join("  ").trim_end());
    }
    out
}

/// Counts by result.
#[derive(Debug, Default, Serialize)]
struct Summary {
    planned: usize,
    adopted: usize,
    skipped: usize,
    refused: usize,
    failed: usize,
}

/// Prints the plan (dry run) or what was done, then the summary table.
pub fn print_results(
    results: &[Result1],
    dry_run: bool,
    webhook: bool,
    format: Output,
) -> anyhow::Result<()> {
    let mut summary = Summary::default();
    for r in results {
        match r.outcome {
            Outcome::Planned { .. } => summary.planned += 1,
            Outcome::Adopted { .. } => summary.adopted += 1,
            Outcome::Skipped { .. } => summary.skipped += 1,
            Outcome::Refused { .. } => summary.refused += 1,
            Outcome::Failed { .. } => summary.failed += 1,
        }
    }
    if format == Output::Json {
        let doc = serde_json::json!({"dryRun": dry_run, "webhook": webhook, "results": results, "summary": summary});
        output::print(format!("{doc}\n"))?;
        return Ok(());
    }
    let mut out = String::new();
    if dry_run {
        let _ = writeln!(
            out,
            "dry run: nothing is written. The takeover policies would be written by {}.\n",
            if webhook {
                "the webhook (installed)"
            } else {
                "adopt itself (no webhook installed)"
            }
        );
        for r in results {
            let Outcome::Planned { plan } = &r.outcome else {
                continue;
            };
            let _ = writeln!(
                out,
                "{} {}/{} (from {}):",
                r.kind, r.namespace, r.name, plan.source_cluster
            );
            if plan.create_namespace {
                let _ = writeln!(out, "  create Namespace {}", r.namespace);
            }
            for d in &plan.dependencies {
                let _ = writeln!(
                    out,
                    "  create {} {}/{} (copied from {})",
                    d.kind, r.namespace, d.name, plan.source_cluster
                );
            }
            let _ = writeln!(
                out,
                "  create PropagationPolicy {}/{} (clusters {})",
                r.namespace,
                plan.policy.name(),
                plan.clusters.join(",")
            );
            let _ = writeln!(out, "  create {} {}/{}", r.kind, r.namespace, r.name);
            if !plan.rollout_in.is_empty() {
                let _ = writeln!(out, "  pods roll in: {}", plan.rollout_in.join(", "));
            }
            for w in &plan.warnings {
                let _ = writeln!(out, "  warning: {w}");
            }
        }
        out.push('\n');
    }
    let mut table = vec![["WORKLOAD", "CLUSTERS", "RESULT", "DETAIL"].map(str::to_owned)];
    for r in results {
        let shown = match &r.with {
            Some(w) => format!("{} {}/{} (with {w})", r.kind, r.namespace, r.name),
            None => format!("{} {}/{}", r.kind, r.namespace, r.name),
        };
        let (result, detail) = match &r.outcome {
            Outcome::Planned { plan } => (
                "planned",
                plan.rollout_in
                    .iter()
                    .map(|c| format!("rolls in {c}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Outcome::Adopted { done } if done.created.is_empty() => {
                ("adopted", "already done by an earlier run".to_owned())
            }
            Outcome::Adopted { done } => ("adopted", format!("created {}", done.created.join(", "))),
            Outcome::Skipped { refusal } => ("skipped", reason_detail(refusal.reason, &refusal.message)),
            Outcome::Refused { refusal } => ("refused", reason_detail(refusal.reason, &refusal.message)),
            Outcome::Failed { error } => ("failed", error.clone()),
        };
        table.push([shown, r.clusters.join(","), result.to_owned(), detail]);
    }
    out.push_str(&render(&table));
    let _ = writeln!(
        out,
        "\n{} planned, {} adopted, {} skipped, {} refused, {} failed{}",
        summary.planned,
        summary.adopted,
        summary.skipped,
        summary.refused,
        summary.failed,
        if summary.failed > 0 {
            " (run again to finish: nothing is created twice)"
        } else {
            ""
        }
    );
    output::print(out)?;
    Ok(())
}

fn reason_detail(reason: Reason, message: &str) -> String {
    format!("{}: {message}", reason.label())
}
