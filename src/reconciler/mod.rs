//! The reconciler: heals what admission could not finish. It runs in every replica but acts only
//! while it holds the `coordination.k8s.io` Lease (serving never waits on it), and only once the
//! fleet view has synced. Each pass, from the fleet view:
//!
//! 1. **ensure** — every template the webhook adopted (annotations `karmada-takeover.io/policy`
//!    and `karmada-takeover.io/clusters`) has its takeover policy, rebuilt with
//!    [`takeover_policy`]; skipped when the template opted out, or an application policy claims
//!    or would claim it (it was released on purpose);
//! 2. **release** — with Karmada's preemption gate off, the takeover policies that an application
//!    policy should take templates from ([`guardrails::assess`]) are deleted, so that Karmada
//!    re-matches the templates to the application policy; member workloads are not touched;
//! 3. **gc** — takeover policies (ours only) whose template has been absent for
//!    `Options::gc_grace` are deleted (an admitted CREATE that never got stored, a deleted template);
//! 4. **promote** — ConfigMaps and Secrets an adopted workload uses that are missing in Karmada
//!    are copied from the source member cluster through the proxy ([`promote`]);
//! 5. **sweep** (off by default) — templates that existed before the webhook, unclaimed and
//!    running unmanaged in members, get the decision admission would have made on CREATE.
//!
//! Every action is counted in `reconciler_actions_total{action,result}` and logged with the
//! object it touched.

use std::{
    collections::{HashMap, HashSet},
    sync::Arc,
    time::{Duration, Instant},
};

use arc_swap::ArcSwap;
use kube::{
    Api, Client,
    api::{Patch, PatchParams, PostParams},
    core::{DynamicObject, admission::Operation},
};
use tokio::sync::{Notify, watch};

use crate::{
    config::{Config, KindRef},
    fleet::{
        SharedFleet,
        watch::{Connection, KarmadaMetrics, resources},
    },
    karmada::{
        Policy, PolicyKind, keys,
        markers::{self, TemplateRef},
    },
    rules::{
        self, Action, Review, Webhook,
        claim::{self},
        dependencies::{self, DependencyKind},
        guardrails,
        tier::{Tier, classify},
        view::TemplateMeta,
        workload::{application_winner, parse_clusters, takeover_policy},
    },
    writer::kube::{FIELD_MANAGER, Written, ensure_policy, release_policy},
};

pub mod lease;
pub mod promote;

/// Reconciler settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Time between passes (and lease renewals).
    pub interval: Duration,
    /// Namespace of the Lease in karmada-apiserver.
    pub lease_namespace: String,
    /// Name of the Lease.
    pub lease_name: String,
    /// This replica's identity (pod name).
    pub identity: String,
    /// How long a Lease stays valid without renewal.
    pub lease_duration: Duration,
    /// How long a takeover policy may wait for its template before it is garbage-collected.
    pub gc_grace: Duration,
    /// Copy missing ConfigMaps/Secrets of adopted workloads from their source member.
    pub promote_dependencies: bool,
    /// Adopt templates that existed before the webhook was installed.
    pub sweep_existing: bool,
    /// Longest time one API call may take.
    pub request_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(10),
            lease_namespace: "karmada-system".into(),
            lease_name: "karmada-takeover-reconciler".into(),
            identity: std::env::var("POD_NAME")
                .or_else(|_| std::env::var("HOSTNAME"))
                .unwrap_or_else(|_| "karmada-takeover".into()),
            lease_duration: Duration::from_secs(15),
            gc_grace: Duration::from_secs(600),
            promote_dependencies: true,
            sweep_existing: false,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// What one pass did, by action and result (tests and logs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PassReport {
    /// `(action, result)` → count.
    pub counts: HashMap<(&'static str, String), usize>,
}

impl PassReport {
    fn add(&mut self, action: &'static str, result: &str) {
        *self.counts.entry((action, result.to_owned())).or_default() += 1;
    }

    /// How many times `action` ended with `result`.
    pub fn count(&self, action: &str, result: &str) -> usize {
        self.counts
            .iter()
            .filter(|((a, r), _)| *a == action && r == result)
            .map(|(_, n)| *n)
            .sum()
    }
}

/// The reconciler state that lives across passes.
pub struct Reconciler {
    connection: Connection,
    fleet: SharedFleet,
    config: Arc<ArcSwap<Config>>,
    options: Options,
    metrics: KarmadaMetrics,
    /// Takeover policy key → when its template was first seen missing.
    missing_since: HashMap<(PolicyKind, String, String), Instant>,
    /// Templates whose dependencies are all in Karmada (key + clusters annotation).
    deps_done: HashSet<String>,
}

impl std::fmt::Debug for Reconciler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reconciler")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// A template the webhook adopted, copied out of the fleet (no lock is held across awaits).
struct Adopted {
    meta: TemplateMeta,
    clusters: Vec<String>,
    policy_name: String,
    policy: Policy,
    policy_kind: PolicyKind,
    policy_exists: bool,
    left_alone: Option<String>,
}

impl Reconciler {
    /// A reconciler over the adapter's fleet view.
    pub fn new(
        connection: Connection,
        fleet: SharedFleet,
        config: Arc<ArcSwap<Config>>,
        options: Options,
        metrics: KarmadaMetrics,
    ) -> Self {
        Self {
            connection,
            fleet,
            config,
            options,
            metrics,
            missing_since: HashMap::new(),
            deps_done: HashSet::new(),
        }
    }

    fn client(&self) -> &Client {
        &self.connection.client
    }

    fn record(
        &self,
        report: &mut PassReport,
        action: &'static str,
        result: &str,
        object: &str,
        error: Option<&str>,
    ) {
        self.metrics.action(action, result);
        report.add(action, result);
        match error {
            Some(error) => tracing::warn!(action, result, object, error, "reconciler action failed"),
            None if result == "unchanged" || result == "absent" => {
                tracing::debug!(action, result, object, "reconciler action")
            }
            None => tracing::info!(action, result, object, "reconciler action"),
        }
    }

    /// Runs one pass (the caller holds the lease). Never fails as a whole: each object's
    /// failure is counted and retried next pass.
    pub async fn pass(&mut self) -> PassReport {
        let mut report = PassReport::default();
        if !self.fleet.read().is_synced() {
            return report;
        }
        let config = self.config.load_full();
        let adopted = self.adopted(&config);
        self.ensure(&adopted, &mut report).await;
        if !config.preemption_gate {
            self.release(&config, &mut report).await;
        }
        self.gc(&config, &mut report).await;
        if self.options.promote_dependencies && config.takeover.propagate_deps {
            self.promote(&config, &adopted, &mut report).await;
        }
        if self.options.sweep_existing {
            self.sweep(&config, &mut report).await;
        }
        report
    }

    fn adopted(&self, config: &Config) -> Vec<Adopted> {
        let fleet = self.fleet.read();
        let mut out = Vec::new();
        for kind in &config.kinds {
            for t in fleet.templates_of_kind(&kind.api_version, &kind.kind) {
                let (Some(policy_name), Some(clusters)) =
                    (t.annotations.get(keys::POLICY), t.annotations.get(keys::CLUSTERS))
                else {
                    continue;
                };
                let clusters = parse_clusters(clusters);
                if clusters.is_empty() {
                    continue;
                }
                let policy = takeover_policy(t, &clusters, config);
                let policy_kind = policy.policy_kind().unwrap_or(PolicyKind::PropagationPolicy);
                let policy_exists = fleet
                    .policy(policy_kind, policy.namespace(), policy.name())
                    .is_some();
                let template = t.as_template();
                let left_alone = if markers::opted_out(&t.labels, &t.annotations) {
                    Some("opted out".to_owned())
                } else if policy.name() != policy_name {
                    Some(format!(
                        "annotation names policy {policy_name}, expected {}",
                        policy.name()
                    ))
                } else if let Some(c) = template.claim()
                    && !(c.kind == policy_kind
                        && c.namespace == policy.namespace()
                        && c.name == policy.name())
                    && fleet.policy(c.kind, c.namespace, c.name).is_some()
                {
                    Some(format!(
                        "claimed by {}",
                        claim::display_policy(c.kind, c.namespace, c.name)
                    ))
                } else {
                    application_winner(&template, &*fleet, config.preemption_gate)
                        .map(|w| format!("application policy {} selects it", w.display()))
                };
                out.push(Adopted {
                    meta: t.clone(),
                    clusters,
                    policy_name: policy_name.clone(),
                    policy_kind,
                    policy,
                    policy_exists,
                    left_alone,
                });
            }
        }
        out
    }

    async fn ensure(&mut self, adopted: &[Adopted], report: &mut PassReport) {
        for a in adopted {
            if a.policy_exists || a.left_alone.is_some() {
                continue;
            }
            let object = format!("{} {}/{}", a.policy_kind, a.policy.namespace(), a.policy_name);
            match ensure_policy(self.client(), &a.policy, self.options.request_timeout).await {
                Ok(written) => {
                    if matches!(written, Written::Created | Written::Updated) {
                        self.metrics.policies_created_total.inc();
                    }
                    self.record(report, "ensure", written.label(), &object, None);
                }
                Err(e) => self.record(report, "ensure", e.label(), &object, Some(&e.to_string())),
            }
        }
    }

    async fn release(&mut self, config: &Config, report: &mut PassReport) {
        let releases: Vec<(PolicyKind, String, String)> = {
            let fleet = self.fleet.read();
            let mut out: Vec<(PolicyKind, String, String)> = fleet
                .policies()
                .filter(|p| !p.is_ours() && matches!(classify(p), Ok(Tier::Application)))
                .filter_map(|p| Some((p, p.policy_kind()?)))
                .flat_map(|(p, kind)| {
                    guardrails::assess(p, kind, Tier::Application, &*fleet, config).releases
                })
                .filter(|(k, ns, n)| fleet.policy(*k, ns, n).is_some_and(|p| p.is_ours()))
                .collect();
            out.sort();
            out.dedup();
            out
        };
        for (kind, ns, name) in releases {
            let object = format!("{kind} {ns}/{name}");
            match release_policy(self.client(), kind, &ns, &name, self.options.request_timeout).await {
                Ok(written) => {
                    if written == Written::Deleted {
                        self.metrics.policies_released_total.inc();
                    }
                    self.record(report, "release", written.label(), &object, None);
                }
                Err(e) => self.record(report, "release", e.label(), &object, Some(&e.to_string())),
            }
        }
    }

    async fn gc(&mut self, config: &Config, report: &mut PassReport) {
        let now = Instant::now();
        let mut due = Vec::new();
        {
            let fleet = self.fleet.read();
            let mut seen = HashSet::new();
            for p in fleet.policies().filter(|p| p.is_ours()) {
                let Some(kind) = p.policy_kind() else { continue };
                let Some(TemplateRef {
                    api_version: av,
                    kind: k,
                    namespace: ns,
                    name,
                }) = p
                    .metadata
                    .annotations
                    .as_ref()
                    .and_then(|a| a.get(keys::TEMPLATE))
                    .and_then(|v| TemplateRef::parse(v))
                else {
                    continue;
                };
                if !config.selects(&av, &k) {
                    continue; // not watched: we cannot know
                }
                let key = (kind, p.namespace().to_owned(), p.name().to_owned());
                seen.insert(key.clone());
                if fleet.template(&av, &k, &ns, &name).is_some() {
                    self.missing_since.remove(&key);
                    continue;
                }
                let since = *self.missing_since.entry(key.clone()).or_insert(now);
                if now.duration_since(since) >= self.options.gc_grace {
                    due.push(key);
                }
            }
            self.missing_since.retain(|k, _| seen.contains(k));
        }
        for (kind, ns, name) in due {
            let object = format!("{kind} {ns}/{name}");
            match release_policy(self.client(), kind, &ns, &name, self.options.request_timeout).await {
                Ok(written) => {
                    self.missing_since.remove(&(kind, ns.clone(), name.clone()));
                    self.record(report, "gc", written.label(), &object, None);
                }
                Err(e) => self.record(report, "gc", e.label(), &object, Some(&e.to_string())),
            }
        }
    }

    async fn promote(&mut self, config: &Config, adopted: &[Adopted], report: &mut PassReport) {
        for a in adopted {
            let t = &a.meta;
            let done_key = format!(
                "{}\0{}\0{}\0{}\0{}",
                t.api_version,
                t.kind,
                t.namespace,
                t.name,
                a.clusters.join(",")
            );
            if !a.policy_exists || a.left_alone.is_some() || self.deps_done.contains(&done_key) {
                continue;
            }
            let Some(ar) = resources::known(&t.api_version, &t.kind) else {
                continue;
            };
            let api: Api<DynamicObject> = Api::namespaced_with(self.client().clone(), &t.namespace, &ar);
            let body = match tokio::time::timeout(self.options.request_timeout, api.get_opt(&t.name)).await {
                Ok(Ok(Some(obj))) => obj.data,
                Ok(Ok(None)) => continue,
                Ok(Err(e)) => {
                    let object = format!("{} {}/{}", t.kind, t.namespace, t.name);
                    self.record(report, "promote", "error", &object, Some(&e.to_string()));
                    continue;
                }
                Err(_) => {
                    let object = format!("{} {}/{}", t.kind, t.namespace, t.name);
                    self.record(
                        report,
                        "promote",
                        "timeout",
                        &object,
                        Some("reading the template"),
                    );
                    continue;
                }
            };
            let mut all_there = true;
            for dep in dependencies::dependencies(&t.api_version, &t.kind, &body) {
                if !matches!(dep.kind, DependencyKind::ConfigMap | DependencyKind::Secret) {
                    continue;
                }
                match self
                    .promote_one(config, t, &a.clusters, dep.kind.as_str(), &dep.name)
                    .await
                {
                    Ok(None) => {}
                    Ok(Some(result)) => {
                        let object = format!("{} {}/{}", dep.kind.as_str(), t.namespace, dep.name);
                        if result != "created" {
                            all_there = false;
                        }
                        self.record(report, "promote", result, &object, None);
                    }
                    Err(e) => {
                        all_there = false;
                        let object = format!("{} {}/{}", dep.kind.as_str(), t.namespace, dep.name);
                        self.record(report, "promote", "error", &object, Some(&e));
                    }
                }
            }
            if all_there {
                self.deps_done.insert(done_key);
            }
        }
    }

    /// `Ok(None)`: already in Karmada. `Ok(Some(result))`: what happened.
    async fn promote_one(
        &self,
        config: &Config,
        t: &TemplateMeta,
        clusters: &[String],
        kind: &str,
        name: &str,
    ) -> Result<Option<&'static str>, String> {
        let kind_ref = KindRef::new("v1", kind);
        let ar = resources::known("v1", kind).ok_or_else(|| format!("no resource for {kind}"))?;
        let timeout = self.options.request_timeout;
        let karmada: Api<DynamicObject> = Api::namespaced_with(self.client().clone(), &t.namespace, &ar);
        let in_karmada = if config.selects("v1", kind) {
            self.fleet
                .read()
                .template("v1", kind, &t.namespace, name)
                .is_some()
        } else {
            tokio::time::timeout(timeout, karmada.get_metadata_opt(name))
                .await
                .map_err(|_| "timeout".to_owned())?
                .map_err(|e| e.to_string())?
                .is_some()
        };
        if in_karmada {
            return Ok(None);
        }
        // Source: a listed cluster that holds an unmanaged copy (member index when the kind is
        // indexed, else ask each source cluster).
        let candidates: Vec<String> = if config.selects(&kind_ref.api_version, kind) {
            self.fleet
                .read()
                .member_copies("", kind, &t.namespace, name)
                .into_iter()
                .filter(|(c, managed)| !managed && clusters.iter().any(|s| s == c))
                .map(|(c, _)| c.to_owned())
                .collect()
        } else {
            clusters.to_vec()
        };
        for cluster in candidates {
            let member = self.connection.member(&cluster).map_err(|e| e.to_string())?;
            let api: Api<DynamicObject> = Api::namespaced_with(member, &t.namespace, &ar);
            let obj = match tokio::time::timeout(timeout, api.get_opt(name)).await {
                Ok(Ok(Some(obj))) => obj,
                Ok(Ok(None)) => continue,
                Ok(Err(e)) => return Err(format!("reading it from {cluster}: {e}")),
                Err(_) => return Err(format!("reading it from {cluster}: timeout")),
            };
            let value = serde_json::to_value(&obj).map_err(|e| e.to_string())?;
            let pruned = match promote::prune_for_karmada(value) {
                Ok(v) => v,
                Err(why) => {
                    tracing::info!(%cluster, kind, namespace = %t.namespace, name, reason = %why, "dependency not promoted");
                    return Ok(Some("skipped"));
                }
            };
            let mut new: DynamicObject = serde_json::from_value(pruned).map_err(|e| e.to_string())?;
            new.metadata.namespace = Some(t.namespace.clone());
            let params = PostParams {
                field_manager: Some(FIELD_MANAGER.to_owned()),
                ..PostParams::default()
            };
            return match tokio::time::timeout(timeout, karmada.create(&params, &new)).await {
                Ok(Ok(_)) => {
                    tracing::info!(%cluster, kind, namespace = %t.namespace, name, workload = %t.name,
                        "dependency promoted from the member cluster into Karmada");
                    Ok(Some("created"))
                }
                Ok(Err(kube::Error::Api(s))) if s.code == 409 => Ok(None),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err("creating it in Karmada: timeout".to_owned()),
            };
        }
        Ok(Some("not-found"))
    }

    async fn sweep(&mut self, config: &Config, report: &mut PassReport) {
        let candidates: Vec<TemplateMeta> = {
            let fleet = self.fleet.read();
            config
                .kinds
                .iter()
                .flat_map(|k| fleet.templates_of_kind(&k.api_version, &k.kind))
                .filter(|t| {
                    !t.annotations.contains_key(keys::POLICY)
                        && t.as_template().claim().is_none()
                        && !markers::opted_out(&t.labels, &t.annotations)
                        && (t.namespace.is_empty() || config.namespace_allowed(&t.namespace))
                        && fleet
                            .member_copies(
                                crate::karmada::api::group_of(&t.api_version),
                                &t.kind,
                                &t.namespace,
                                &t.name,
                            )
                            .iter()
                            .any(|(_, managed)| !managed)
                })
                .cloned()
                .collect()
        };
        for t in candidates {
            let object = format!("{} {}/{}", t.kind, t.namespace, t.name);
            let Some(ar) = resources::known(&t.api_version, &t.kind) else {
                continue;
            };
            let api: Api<DynamicObject> = if t.namespace.is_empty() {
                Api::all_with(self.client().clone(), &ar)
            } else {
                Api::namespaced_with(self.client().clone(), &t.namespace, &ar)
            };
            let obj = match tokio::time::timeout(self.options.request_timeout, api.get_opt(&t.name)).await {
                Ok(Ok(Some(obj))) => obj,
                Ok(Ok(None)) => continue,
                Ok(Err(e)) => {
                    self.record(report, "sweep", "error", &object, Some(&e.to_string()));
                    continue;
                }
                Err(_) => {
                    self.record(report, "sweep", "timeout", &object, None);
                    continue;
                }
            };
            let decision = {
                let fleet = self.fleet.read();
                let review = Review {
                    operation: Operation::Create,
                    api_version: t.api_version.clone(),
                    kind: &t.kind,
                    namespace: &t.namespace,
                    name: &t.name,
                    object: Some(&obj),
                    old_object: None,
                    dry_run: false,
                };
                rules::decide(Webhook::MutateWorkload, &review, &*fleet, config)
            };
            let policy = decision.actions.iter().find_map(|a| match a {
                Action::EnsurePolicy { policy } => Some(policy),
                Action::ReleasePolicy { .. } => None,
            });
            let (true, Some(policy)) = (decision.allowed(), policy) else {
                self.record(report, "sweep", "not-adopted", &object, None);
                continue;
            };
            // Policy first, then the annotations that record the adoption (a failure in
            // between leaves a policy the next pass's gc or ensure sorts out).
            if let Err(e) = ensure_policy(self.client(), policy, self.options.request_timeout).await {
                self.record(report, "sweep", e.label(), &object, Some(&e.to_string()));
                continue;
            }
            let patch = json_patch::Patch(decision.patch.clone());
            let result = tokio::time::timeout(
                self.options.request_timeout,
                api.patch(&t.name, &PatchParams::default(), &Patch::<()>::Json(patch)),
            )
            .await;
            match result {
                Ok(Ok(_)) => self.record(report, "sweep", "adopted", &object, None),
                Ok(Err(e)) => self.record(report, "sweep", "error", &object, Some(&e.to_string())),
                Err(_) => self.record(report, "sweep", "timeout", &object, None),
            }
        }
    }
}

/// Runs the reconciler forever: waits for the fleet to sync, then every `interval` renews (or
/// tries to acquire) the lease and, while leader, runs a pass. `wake` triggers an early pass.
pub async fn run(mut reconciler: Reconciler, mut synced: watch::Receiver<bool>, wake: Arc<Notify>) {
    let _ = synced.wait_for(|s| *s).await;
    let elector = lease::LeaderElector::new(
        reconciler.client().clone(),
        &reconciler.options.lease_namespace,
        &reconciler.options.lease_name,
        &reconciler.options.identity,
        reconciler.options.lease_duration,
    );
    let mut leader = false;
    loop {
        let timeout = reconciler.options.request_timeout;
        let now_leader = match tokio::time::timeout(timeout, elector.try_acquire_or_renew()).await {
            Ok(Ok(held)) => held,
            Ok(Err(error)) => {
                tracing::warn!(%error, "reconciler lease: renew failed");
                false
            }
            Err(_) => {
                tracing::warn!("reconciler lease: no answer in time");
                false
            }
        };
        if now_leader != leader {
            tracing::info!(
                identity = elector.identity(),
                leader = now_leader,
                "reconciler leadership changed"
            );
            leader = now_leader;
        }
        reconciler.metrics.reconciler_leader.set(i64::from(leader));
        if leader {
            let report = reconciler.pass().await;
            if !report.counts.is_empty() {
                tracing::debug!(?report.counts, "reconciler pass");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(reconciler.options.interval) => {}
            () = wake.notified() => {}
        }
    }
}
