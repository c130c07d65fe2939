//! Whether the copies of a workload, and of the ConfigMaps and Secrets it uses, agree across its
//! source clusters, as the restart guard compares them: one template (one dependency copy) cannot
//! match copies that differ.

use super::{Candidate, DependencyRef, Reason, Refusal};
use crate::rules::{
    dependencies::{self, DependencyKind},
    restart::{self, Outcome},
    view::FleetView,
};
use serde_json::Value;

/// The copies in the source clusters compared with each other, as the restart guard compares
/// them: one template cannot match copies that differ.
pub(super) fn copies_disagree(c: &Candidate<'_>, template: &Value) -> Option<Refusal> {
    if c.copies.len() < 2 {
        return None;
    }
    let running: Vec<(&str, restart::RunningCopy)> = c
        .copies
        .iter()
        .filter_map(|(cl, v)| {
            restart::Flattened::of(c.api_version, c.kind, *v)
                .map(|f| (*cl, restart::RunningCopy::standalone(&f)))
        })
        .collect();
    let tpl = restart::Template::of(c.api_version, c.kind, template)?;
    let copies: Vec<(&str, Option<&restart::RunningCopy>)> =
        running.iter().map(|(c, r)| (*c, Some(r))).collect();
    let found = restart::check(&tpl, false, &copies);
    let differ: Vec<String> = if found.disagreements.is_empty() {
        found
            .verdicts
            .iter()
            .filter(|v| v.outcome >= Outcome::ConfigDiffers)
            .map(restart::CopyVerdict::describe)
            .collect()
    } else {
        found.disagreements
    };
    let worst = found
        .verdicts
        .iter()
        .map(|v| v.outcome)
        .max()
        .unwrap_or(Outcome::Equal);
    (!differ.is_empty()).then(|| {
        Refusal::new(
            Reason::CopiesDisagree,
            format!(
                "{}: its copies in {} differ, so one template cannot match them all: {}; {}",
                c.shown(),
                c.copies.iter().map(|(cl, _)| *cl).collect::<Vec<_>>().join(", "),
                differ.join("; "),
                what_to_do(worst)
            ),
        )
    })
}

/// What the user can do when the copies differ, by what taking one copy would change in the
/// others: a rollout can be accepted, changed ports break clients, an immutable field cannot be
/// changed at all.
fn what_to_do(worst: Outcome) -> &'static str {
    match worst {
        Outcome::ImmutableFieldDiffers => {
            "an immutable field cannot be changed by an update, so no copy can be taken for all clusters: adopt \
             it from one cluster at a time (-C), or make the copies equal first"
        }
        Outcome::NodePortsDiffer | Outcome::ServiceDiffers => {
            "pass --source-cluster to take one copy, knowing that the others' ports (and the clients that use them) \
             change, or leave the Service unmanaged with --no-services"
        }
        _ => "pass --source-cluster to take one copy and roll the others",
    }
}

/// The ConfigMaps and Secrets the template uses that Karmada lacks; refused when their copies in
/// the source clusters differ (unless the user accepted a rollout).
pub(super) fn missing_dependencies(
    c: &Candidate<'_>,
    template: &Value,
    clusters: &[String],
    fleet: &impl FleetView,
    accept_rollout: bool,
) -> Result<Vec<DependencyRef>, Refusal> {
    let object = dependencies::Object {
        api_version: c.api_version,
        kind: c.kind,
        namespace: c.namespace,
        name: c.name,
        body: template.into(),
    };
    let mut found = dependencies::dependencies(&object).unwrap_or_default();
    found.dedup();
    let mut out = Vec::new();
    for dep in found {
        if !matches!(dep.kind, DependencyKind::ConfigMap | DependencyKind::Secret) || dep.name.is_empty() {
            continue;
        }
        let kind = dep.kind.as_str();
        if fleet.template("v1", kind, &dep.namespace, &dep.name).is_some() {
            continue;
        }
        let running: Vec<_> = fleet
            .running_copies("", kind, &dep.namespace, &dep.name)
            .into_iter()
            .filter(|(cl, _)| clusters.iter().any(|x| x == cl))
            .collect();
        let differ = restart::dependency_disagreements(&running);
        if !differ.is_empty() && !accept_rollout {
            return Err(Refusal::new(
                Reason::DependencyCopiesDisagree,
                format!(
                    "{}: {kind} {}/{} differs between the source clusters ({}): Karmada can carry only one copy, so the \
                     others' mounted files would change; make the copies equal, or pass --source-cluster to accept it",
                    c.shown(),
                    dep.namespace,
                    dep.name,
                    differ.join("; ")
                ),
            ));
        }
        out.push(DependencyRef { kind, name: dep.name });
    }
    out.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    out.dedup();
    Ok(out)
}
