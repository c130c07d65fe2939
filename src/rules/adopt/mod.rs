//! Adoption planning: what `karmada-takeover adopt` (and the reconciler's sweep) would create in
//! Karmada for a workload that runs in member clusters, or why it refuses. Pure: the caller
//! gathers the member copies and the fleet view, and carries the plan out
//! (`reconciler::adopt`).
//!
//! A plan is the decision admission makes on the CREATE of the template built from a member
//! copy ([`decide_create`]: [`super::decide`] with [`Webhook::MutateWorkload`]), so the objects
//! are the same whether the API server calls the webhook or `adopt` runs the engine itself:
//! the takeover policy of [`super::takeover::takeover_policy`], the template with the decision's
//! patch, the restart guard's verdict per source cluster. Before the engine runs, `plan` refuses
//! what must not be adopted at all, each with a label ([`Reason`]) and one sentence naming what
//! was found: a kind the webhook does not select, a namespace it may not act in, a workload that
//! is already multicloud (a template in Karmada, or a Karmada-managed member copy: adopting it
//! again would be a re-promotion), one another policy already claims (named), one whose copies or
//! whose ConfigMaps/Secrets differ between clusters.

use json_patch::PatchOperation;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{
    Action, Decision, DynamicObject, Operation, Review, Verdict, Webhook,
    claim::{self, Template},
    decide,
    restart::{self, Outcome},
    view::FleetView,
};
use crate::{
    config::Config,
    karmada::{Labels, Policy, api::group_of, keys, markers},
};

mod agree;
#[cfg(test)]
mod tests;

use agree::{copies_disagree, missing_dependencies};

/// Why a workload is not adopted: the label of a refusal in `adopt`'s table and JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// The config's `kinds` does not select the kind: the webhook would never take it over.
    KindNotSelected,
    /// The config excludes the namespace, or it carries `karmada-takeover.io/admission: disabled`.
    NamespaceNotAllowed,
    /// A template of it already exists in Karmada.
    AlreadyMulticloud,
    /// A member cluster holds a Karmada-managed copy.
    ManagedInMember,
    /// A policy already claims (or would claim) the template.
    ClaimedByPolicy,
    /// The copies in the source clusters differ, so one template cannot match them all.
    CopiesDisagree,
    /// A ConfigMap or Secret it uses differs between the source clusters.
    DependencyCopiesDisagree,
    /// The restart guard refuses the takeover (a rollout, a rescale, an immutable field).
    RestartGuard,
    /// `--source-cluster` names a cluster the workload does not run in.
    UnknownSourceCluster,
    /// The member copy cannot be read as its kind, or the engine made no takeover of it.
    NotTakenOver,
}

impl Reason {
    /// The label shown in tables and JSON.
    pub fn label(self) -> &'static str {
        match self {
            Reason::KindNotSelected => "kind-not-selected",
            Reason::NamespaceNotAllowed => "namespace-not-allowed",
            Reason::AlreadyMulticloud => "already-multicloud",
            Reason::ManagedInMember => "managed-in-member",
            Reason::ClaimedByPolicy => "claimed-by-policy",
            Reason::CopiesDisagree => "copies-disagree",
            Reason::DependencyCopiesDisagree => "dependency-copies-disagree",
            Reason::RestartGuard => "restart-guard",
            Reason::UnknownSourceCluster => "unknown-source-cluster",
            Reason::NotTakenOver => "not-taken-over",
        }
    }

    /// Whether the workload is already multicloud: nothing to do, not an error (a second run of
    /// `adopt` finds everything it adopted the first time here).
    pub fn is_done(self) -> bool {
        matches!(self, Reason::AlreadyMulticloud | Reason::ManagedInMember)
    }
}

/// A refusal: the reason and one sentence saying what was found and what to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// The label.
    pub reason: Reason,
    /// What was found, where, and what to do.
    pub message: String,
}

impl Refusal {
    fn new(reason: Reason, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

/// A workload as found in the member clusters: its identity and each cluster's full copy.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    /// `apps/v1`, `v1`...
    pub api_version: &'a str,
    /// `Deployment`, `Service`...
    pub kind: &'a str,
    /// Namespace (empty for cluster-scoped kinds).
    pub namespace: &'a str,
    /// Name.
    pub name: &'a str,
    /// `(cluster, member object as its API server returns it)`, sorted by cluster.
    pub copies: Vec<(&'a str, &'a Value)>,
    /// Whether the namespace exists in Karmada (the plan creates it otherwise).
    pub namespace_exists: bool,
}

impl Candidate<'_> {
    /// `Deployment shop/web`.
    pub fn shown(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// What adopting one workload creates in Karmada.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    /// The cluster whose copy the template is built from.
    pub source_cluster: String,
    /// The clusters the takeover policy is pinned to.
    pub clusters: Vec<String>,
    /// Clusters where the takeover rolls pods (only with `--source-cluster`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rollout_in: Vec<String>,
    /// The namespace does not exist in Karmada yet: create it first.
    pub create_namespace: bool,
    /// ConfigMaps and Secrets the workload uses that Karmada lacks, copied from the source cluster.
    pub dependencies: Vec<DependencyRef>,
    /// The template as created when the webhook is installed (it patches it on admission).
    /// Shown with a Secret's data values hidden.
    #[serde(serialize_with = "without_secret_data")]
    pub template: Value,
    /// The template as created when it is not: the decision's patch applied (shown like
    /// `template`).
    #[serde(serialize_with = "without_secret_data")]
    pub patched_template: Value,
    /// The takeover policy (written by the webhook, or by `adopt` itself).
    pub policy: Policy,
    /// The engine's warnings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The restart guard's verdict per source cluster.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restart: Option<restart::RestartCheck>,
}

/// A ConfigMap or Secret to copy into Karmada.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DependencyRef {
    /// `ConfigMap` or `Secret`.
    pub kind: &'static str,
    /// Name, in the workload's namespace.
    pub name: String,
}

/// Serializes a template for people and pipelines (`adopt --dry-run -o json`): a Secret's `data`
/// and `stringData` values become `"(not shown)"`, its keys stay. The plan itself keeps the data:
/// it is what gets created.
fn without_secret_data<S: serde::Serializer>(template: &Value, s: S) -> Result<S::Ok, S::Error> {
    if template["kind"] != "Secret" {
        return template.serialize(s);
    }
    let mut shown = template.clone();
    for field in ["data", "stringData"] {
        if let Some(values) = shown[field].as_object_mut() {
            for v in values.values_mut() {
                *v = Value::String("(not shown)".to_owned());
            }
        }
    }
    shown.serialize(s)
}

/// The template Karmada would hold for a member object: pruned exactly as Karmada prunes a Work
/// manifest ([`crate::karmada::prune`]: status, server-set metadata, ownerReferences,
/// managedFields, revision annotations, a Service's clusterIP(s); node ports kept), plus the
/// `kubectl.kubernetes.io/last-applied-configuration` annotation, which describes the member's
/// last `kubectl apply`, not the template. `None` when Karmada manages the copy (a re-promotion).
pub fn template_of(member: &Value) -> Option<Value> {
    let labels = string_map(&member["metadata"]["labels"]);
    if markers::is_managed(&labels) {
        return None;
    }
    let mut obj = member.clone();
    let api_version = obj["apiVersion"].as_str().unwrap_or_default().to_owned();
    let kind = obj["kind"].as_str().unwrap_or_default().to_owned();
    crate::karmada::prune::prune(&api_version, &kind, &mut obj);
    if let Some(annotations) = obj["metadata"]["annotations"].as_object_mut() {
        annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
        if annotations.is_empty()
            && let Some(meta) = obj["metadata"].as_object_mut()
        {
            meta.remove("annotations");
        }
    }
    Some(obj)
}

/// A `map[string]string` field (labels, annotations, a selector) read from JSON.
pub fn string_map(v: &Value) -> Labels {
    v.as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a Service (its `spec.selector`) selects the pods of a workload whose pod template
/// carries `pod_labels`. A Service with no selector selects nothing (its endpoints are managed
/// by hand), as Kubernetes' endpoints controller does.
pub fn selects_pods(service: &Value, pod_labels: &Labels) -> bool {
    let selector = string_map(&service["spec"]["selector"]);
    !selector.is_empty() && selector.iter().all(|(k, v)| pod_labels.get(k) == Some(v))
}

/// The labels of a workload's pods (`spec.template.metadata.labels`; a CronJob's
/// `spec.jobTemplate.spec.template.metadata.labels`).
pub fn pod_labels(workload: &Value) -> Labels {
    let spec = &workload["spec"];
    let template = if spec["jobTemplate"].is_object() {
        &spec["jobTemplate"]["spec"]["template"]
    } else {
        &spec["template"]
    };
    string_map(&template["metadata"]["labels"])
}

/// `spec.replicas` of a copy, when the kind has one.
pub fn replicas(copy: &Value) -> Option<i64> {
    copy["spec"]["replicas"].as_i64()
}

/// The decision admission makes on the CREATE of `template` (the webhook's path, run in
/// process): `adopt` and the reconciler's sweep both decide here.
pub fn decide_create(
    api_version: &str,
    kind: &str,
    template: &DynamicObject,
    fleet: &impl FleetView,
    config: &Config,
) -> Decision {
    let namespace = template.metadata.namespace.as_deref().unwrap_or_default();
    let name = template.metadata.name.as_deref().unwrap_or_default();
    let review = Review {
        operation: Operation::Create,
        api_version: api_version.to_owned(),
        kind,
        namespace,
        name,
        object: Some(template.into()),
        old_object: None,
        dry_run: false,
    };
    decide(Webhook::MutateWorkload, &review, fleet, config)
}

/// The takeover policy a decision asks for, if it asks for one.
pub fn takeover_policy(decision: &Decision) -> Option<&Policy> {
    decision.actions.iter().find_map(|a| match a {
        Action::EnsurePolicy { policy } => Some(&**policy),
        Action::ReleasePolicy { .. } => None,
    })
}

/// Why the workload is already multicloud, if it is: a template exists in Karmada (and what
/// claims it), or a member copy is Karmada-managed.
pub fn already_multicloud(c: &Candidate<'_>, fleet: &impl FleetView) -> Option<Refusal> {
    if let Some(t) = fleet.template(c.api_version, c.kind, c.namespace, c.name) {
        let by = match (t.annotations.get(keys::POLICY), t.as_template().claim()) {
            (_, Some(claim)) => format!(
                "claimed by {}",
                claim::display_policy(claim.kind, claim.namespace, claim.name)
            ),
            (Some(policy), None) => format!("adopted by karmada-takeover (takeover policy {policy})"),
            (None, None) => "no policy claims it yet".to_owned(),
        };
        return Some(Refusal::new(
            Reason::AlreadyMulticloud,
            format!(
                "{} already has a template in Karmada ({by}): nothing to adopt",
                c.shown()
            ),
        ));
    }
    let managed: Vec<&str> = fleet
        .member_copies(group_of(c.api_version), c.kind, c.namespace, c.name)
        .into_iter()
        .filter(|(_, m)| *m)
        .map(|(cl, _)| cl)
        .chain(
            c.copies
                .iter()
                .filter(|(_, v)| template_of(v).is_none())
                .map(|(cl, _)| *cl),
        )
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    (!managed.is_empty()).then(|| {
        Refusal::new(
            Reason::ManagedInMember,
            format!(
                "{} is Karmada-managed in {} (karmada.io/managed): it is already multicloud; adopting it again would \
                 be a re-promotion",
                c.shown(),
                managed.join(", ")
            ),
        )
    })
}

/// The policy that claims, or would claim, the template (Karmada's rules, as `explain` resolves
/// them), shown as `PropagationPolicy shop/web`.
pub fn claimant(template: &Value, fleet: &impl FleetView, config: &Config) -> Option<String> {
    let labels = string_map(&template["metadata"]["labels"]);
    let annotations = string_map(&template["metadata"]["annotations"]);
    let t = Template::new(
        template["apiVersion"].as_str().unwrap_or_default(),
        template["kind"].as_str().unwrap_or_default(),
        template["metadata"]["namespace"].as_str().unwrap_or_default(),
        template["metadata"]["name"].as_str().unwrap_or_default(),
        Some(&labels),
        Some(&annotations),
    );
    claim::resolve_with(&t, &fleet, config.preemption_gate, false)
        .winner()
        .map(claim::Candidate::display)
}

/// Plans the adoption of one workload, or refuses it. `source` (`--source-cluster`) names the
/// copy to build the template from when the copies differ and the user accepts the rollout
/// elsewhere; the template then carries `karmada-takeover.io/allow-rollout: "true"`.
pub fn plan(
    c: &Candidate<'_>,
    source: Option<&str>,
    fleet: &impl FleetView,
    config: &Config,
) -> Result<Plan, Refusal> {
    let shown = c.shown();
    if !config.selects(c.api_version, c.kind) {
        return Err(Refusal::new(
            Reason::KindNotSelected,
            format!(
                "{shown}: {}/{} is not in the config's kinds, so karmada-takeover never takes it over; add it to \
                 `kinds` to adopt it",
                c.api_version, c.kind
            ),
        ));
    }
    if !c.namespace.is_empty()
        && (!config.namespace_allowed(c.namespace) || fleet.namespace_disabled(c.namespace))
    {
        return Err(Refusal::new(
            Reason::NamespaceNotAllowed,
            format!(
                "{shown}: namespace {} is excluded by the config's `namespaces` or labelled {}: disabled",
                c.namespace,
                keys::ADMISSION
            ),
        ));
    }
    if let Some(done) = already_multicloud(c, fleet) {
        return Err(done);
    }
    let Some((source_cluster, source_copy)) = (match source {
        Some(s) => c.copies.iter().find(|(cl, _)| *cl == s).copied(),
        None => c.copies.first().copied(),
    }) else {
        let runs_in: Vec<&str> = c.copies.iter().map(|(cl, _)| *cl).collect();
        return Err(Refusal::new(
            Reason::UnknownSourceCluster,
            format!(
                "{shown} does not run in {}; it runs in: {}",
                source.unwrap_or("any member cluster"),
                if runs_in.is_empty() {
                    "(none)".to_owned()
                } else {
                    runs_in.join(", ")
                }
            ),
        ));
    };
    let mut template = template_of(source_copy).unwrap_or(Value::Null);
    let accept_rollout = source.is_some() && c.copies.len() > 1;
    if accept_rollout {
        set_annotation(&mut template, keys::ALLOW_ROLLOUT, "true");
    }
    if let Some(by) = claimant(&template, fleet, config) {
        return Err(Refusal::new(
            Reason::ClaimedByPolicy,
            format!(
                "{shown} would be claimed by {by} as soon as its template exists: that policy propagates it, not a \
                 takeover policy; adopt it by applying the template, or change that policy's selector"
            ),
        ));
    }
    let clusters: Vec<String> = c.copies.iter().map(|(cl, _)| (*cl).to_owned()).collect();
    if !accept_rollout && let Some(refusal) = copies_disagree(c, &template) {
        return Err(refusal);
    }
    let dependencies = missing_dependencies(c, &template, &clusters, fleet, accept_rollout)?;
    let object: DynamicObject = serde_json::from_value(template.clone()).map_err(|e| {
        Refusal::new(
            Reason::NotTakenOver,
            format!("{shown}: the member copy is not a valid object: {e}"),
        )
    })?;
    let decision = decide_create(c.api_version, c.kind, &object, fleet, config);
    if let Verdict::Deny { reason, message } = &decision.verdict {
        let reason = match reason {
            super::DenyReason::RestartGuard => Reason::RestartGuard,
            super::DenyReason::ManagedInMember | super::DenyReason::MemberMarkers => Reason::ManagedInMember,
            super::DenyReason::ClaimedByApplication => Reason::ClaimedByPolicy,
            _ => Reason::NotTakenOver,
        };
        return Err(Refusal::new(reason, message.clone()));
    }
    let Some(policy) = takeover_policy(&decision).cloned() else {
        let why = if decision.warnings.is_empty() {
            "the engine decided no takeover".to_owned()
        } else {
            decision.warnings.join("; ")
        };
        return Err(Refusal::new(Reason::NotTakenOver, format!("{shown}: {why}")));
    };
    let mut patched_template = template.clone();
    apply_patch(&mut patched_template, &decision.patch).map_err(|e| {
        Refusal::new(
            Reason::NotTakenOver,
            format!("{shown}: the takeover's patch does not apply: {e}"),
        )
    })?;
    let rollout_in = decision
        .restart
        .as_ref()
        .map(|r| {
            r.verdicts
                .iter()
                .filter(|v| v.outcome >= Outcome::ConfigDiffers)
                .map(|v| v.cluster.clone())
                .collect()
        })
        .unwrap_or_default();
    // The engine's word that a dependency is not in Karmada yet is answered by this plan.
    let warnings: Vec<String> = decision
        .warnings
        .iter()
        .filter(|w| {
            !dependencies.iter().any(|d| {
                w.starts_with(&format!(
                    "{} {}/{} is not in Karmada yet",
                    d.kind, c.namespace, d.name
                ))
            })
        })
        .cloned()
        .collect();
    Ok(Plan {
        source_cluster: source_cluster.to_owned(),
        clusters: decision
            .takeover
            .as_ref()
            .map(|t| t.clusters.clone())
            .unwrap_or(clusters),
        rollout_in,
        create_namespace: !c.namespace.is_empty() && !c.namespace_exists,
        dependencies,
        template,
        patched_template,
        policy,
        warnings,
        restart: decision.restart.clone(),
    })
}

fn set_annotation(obj: &mut Value, key: &str, value: &str) {
    let Some(meta) = obj["metadata"].as_object_mut() else {
        return;
    };
    let annotations = meta
        .entry("annotations")
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(a) = annotations.as_object_mut() {
        a.insert(key.to_owned(), Value::String(value.to_owned()));
    }
}

fn apply_patch(obj: &mut Value, patch: &[PatchOperation]) -> Result<(), json_patch::PatchError> {
    json_patch::patch(obj, patch)
}
