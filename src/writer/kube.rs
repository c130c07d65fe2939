//! The policy writer for karmada-apiserver: takeover policies by server-side apply, releases by
//! a guarded delete.
//!
//! [`KubeWriter::submit`] never blocks: actions go into a bounded queue (a full queue drops the
//! action, counted and logged: the reconciler heals it). One background task carries them out,
//! each call bounded by `WriterOptions::request_timeout`.
//!
//! Rules every write follows (shared with the reconciler, which calls [`ensure_policy`] and
//! [`release_policy`] directly):
//! - field manager `karmada-takeover`, not forced: a field another manager owns (someone edited
//!   our policy with `kubectl apply`) is a conflict that is logged and left alone, never overwritten;
//! - the object is read first. Absent: applied as the engine built it — without Karmada's
//!   permanent-id label, which Karmada's webhook sets. Present and not labelled
//!   `app.kubernetes.io/managed-by: karmada-takeover`: left alone (a name clash with someone
//!   else's policy). Present and identical in what we manage: nothing is written. Present and
//!   different: applied with the labels and finalizers Karmada added carried over, because
//!   admission-webhook mutations made during our create are attributed to our field manager and
//!   an apply that omitted them would remove them;
//! - concurrent replicas apply the same deterministic object under the same manager, so a lost
//!   race converges: a failed apply is retried once after reading the object again;
//! - releases delete only policies labelled as ours, with a uid precondition.

use std::time::Duration;

use kube::{
    Api, Client,
    api::{DeleteParams, Patch, PatchParams, Preconditions},
    core::{ApiResource, DynamicObject},
};
use serde_json::Value;
use tokio::sync::mpsc;

use super::Writer;
use crate::{
    fleet::watch::{KarmadaMetrics, resources},
    karmada::{Policy, PolicyKind, keys, markers},
    rules::Action,
};

/// The field manager of every write.
pub const FIELD_MANAGER: &str = "karmada-takeover";

/// Writer tuning.
#[derive(Debug, Clone)]
pub struct WriterOptions {
    /// Actions waiting to be written; beyond this, actions are dropped (the reconciler heals).
    pub queue: usize,
    /// Longest time one API call may take.
    pub request_timeout: Duration,
}

impl Default for WriterOptions {
    fn default() -> Self {
        Self {
            queue: 1024,
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// A write that did not happen.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The API server answered with an error.
    #[error("{0}")]
    Api(#[from] kube::Error),
    /// The API server did not answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// A policy of that name exists but is not ours.
    #[error("{0} exists and is not labelled app.kubernetes.io/managed-by=karmada-takeover: left alone")]
    NotOurs(String),
    /// The action does not describe a policy we can write.
    #[error("invalid policy action: {0}")]
    Invalid(String),
}

impl WriteError {
    /// Metric label.
    pub fn label(&self) -> &'static str {
        match self {
            WriteError::Api(kube::Error::Api(s)) if s.code == 409 => "conflict",
            WriteError::Api(_) => "error",
            WriteError::Timeout(_) => "timeout",
            WriteError::NotOurs(_) => "not-ours",
            WriteError::Invalid(_) => "invalid",
        }
    }
}

/// What a successful write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Created.
    Created,
    /// Updated.
    Updated,
    /// Already as wanted: nothing written.
    Unchanged,
    /// Deleted.
    Deleted,
    /// Nothing to delete.
    Absent,
}

impl Written {
    /// Metric label.
    pub fn label(self) -> &'static str {
        match self {
            Written::Created => "created",
            Written::Updated => "updated",
            Written::Unchanged => "unchanged",
            Written::Deleted => "deleted",
            Written::Absent => "absent",
        }
    }
}

fn policy_api(client: &Client, kind: PolicyKind, namespace: &str) -> Result<Api<DynamicObject>, WriteError> {
    let ar: ApiResource = resources::known(crate::karmada::policy::API_VERSION, kind.as_str())
        .ok_or_else(|| WriteError::Invalid(format!("no resource for {kind}")))?;
    Ok(match kind {
        PolicyKind::PropagationPolicy => Api::namespaced_with(client.clone(), namespace, &ar),
        PolicyKind::ClusterPropagationPolicy => Api::all_with(client.clone(), &ar),
    })
}

async fn timed<T>(
    timeout: Duration,
    f: impl Future<Output = Result<T, kube::Error>>,
) -> Result<T, WriteError> {
    match tokio::time::timeout(timeout, f).await {
        Ok(r) => r.map_err(WriteError::from),
        Err(_) => Err(WriteError::Timeout(timeout)),
    }
}

fn is_ours(obj: &DynamicObject) -> bool {
    markers::is_ours(obj.metadata.labels.as_ref())
}

/// Whether a label or finalizer was added by Karmada (kept on update).
fn is_karmadas(key: &str) -> bool {
    key.contains("karmada.io/") && !key.starts_with("karmada-takeover.io/")
}

/// `existing` already has everything `desired` asks for: our labels and annotations, and spec.
fn satisfies(existing: &DynamicObject, desired: &Value) -> bool {
    let has_all = |have: Option<&std::collections::BTreeMap<String, String>>, want: &Value| {
        want.as_object().into_iter().flatten().all(|(k, v)| {
            have.and_then(|h| h.get(k))
                .is_some_and(|h| Some(h.as_str()) == v.as_str())
        })
    };
    existing.data.get("spec") == desired.get("spec")
        && has_all(existing.metadata.labels.as_ref(), &desired["metadata"]["labels"])
        && has_all(
            existing.metadata.annotations.as_ref(),
            &desired["metadata"]["annotations"],
        )
}

/// Creates or updates a takeover policy by server-side apply (see the module docs).
pub async fn ensure_policy(
    client: &Client,
    policy: &Policy,
    timeout: Duration,
) -> Result<Written, WriteError> {
    let kind = policy
        .policy_kind()
        .ok_or_else(|| WriteError::Invalid("kind is not a (Cluster)PropagationPolicy".into()))?;
    let namespace = policy.namespace();
    let name = Some(policy.name())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| WriteError::Invalid("metadata.name is empty".into()))?;
    if !policy.is_ours() {
        return Err(WriteError::Invalid(format!(
            "{name} is not labelled {}={}",
            keys::MANAGED_BY,
            keys::MANAGED_BY_VALUE
        )));
    }
    // The wire body: the typed policy as JSON, to which Karmada's own labels and finalizers on
    // the stored object are added below.
    let desired = serde_json::to_value(policy).map_err(|e| WriteError::Invalid(e.to_string()))?;
    let api = policy_api(client, kind, namespace)?;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let existing = timed(timeout, api.get_opt(name)).await?;
        let mut body = desired.clone();
        // Never set Karmada's permanent-id ourselves.
        if let Some(labels) = body["metadata"]["labels"].as_object_mut() {
            labels.retain(|k, _| !k.ends_with("/permanent-id"));
        }
        let outcome = match &existing {
            None => Written::Created,
            Some(obj) if !is_ours(obj) => {
                let shown = if namespace.is_empty() {
                    format!("{kind} {name}")
                } else {
                    format!("{kind} {namespace}/{name}")
                };
                return Err(WriteError::NotOurs(shown));
            }
            Some(obj) if satisfies(obj, &body) => return Ok(Written::Unchanged),
            Some(obj) => {
                for (k, v) in obj.metadata.labels.iter().flatten() {
                    if is_karmadas(k) {
                        body["metadata"]["labels"][k] = Value::String(v.clone());
                    }
                }
                let finalizers: Vec<Value> = obj
                    .metadata
                    .finalizers
                    .iter()
                    .flatten()
                    .filter(|f| is_karmadas(f))
                    .map(|f| Value::String(f.clone()))
                    .collect();
                if !finalizers.is_empty() {
                    body["metadata"]["finalizers"] = Value::Array(finalizers);
                }
                Written::Updated
            }
        };
        let params = PatchParams::apply(FIELD_MANAGER);
        match timed(timeout, api.patch(name, &params, &Patch::Apply(&body))).await {
            Ok(_) => return Ok(outcome),
            Err(WriteError::Api(e)) if attempt < 2 && !matches!(&e, kube::Error::Api(s) if s.code == 409) => {
                tracing::debug!(%name, error = %e, "apply failed; reading the policy again and retrying once");
            }
            Err(e) => return Err(e),
        }
    }
}

/// Deletes a takeover policy, only if it is labelled as ours.
pub async fn release_policy(
    client: &Client,
    kind: PolicyKind,
    namespace: &str,
    name: &str,
    timeout: Duration,
) -> Result<Written, WriteError> {
    let api = policy_api(client, kind, namespace)?;
    let Some(existing) = timed(timeout, api.get_opt(name)).await? else {
        return Ok(Written::Absent);
    };
    if !is_ours(&existing) {
        let shown = if namespace.is_empty() {
            format!("{kind} {name}")
        } else {
            format!("{kind} {namespace}/{name}")
        };
        return Err(WriteError::NotOurs(shown));
    }
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: existing.metadata.uid.clone(),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    match timed(timeout, api.delete(name, &params)).await {
        Ok(_) => Ok(Written::Deleted),
        Err(WriteError::Api(kube::Error::Api(s))) if s.code == 404 => Ok(Written::Absent),
        Err(e) => Err(e),
    }
}

/// The policy writer of `serve --kubeconfig`.
#[derive(Debug, Clone)]
pub struct KubeWriter {
    tx: mpsc::Sender<Action>,
    metrics: KarmadaMetrics,
}

impl KubeWriter {
    /// Starts the background task; it stops when every `KubeWriter` clone is dropped.
    pub fn start(client: Client, options: WriterOptions, metrics: KarmadaMetrics) -> Self {
        let (tx, rx) = mpsc::channel(options.queue.max(1));
        tokio::spawn(run(client, rx, options, metrics.clone()));
        Self { tx, metrics }
    }
}

impl Writer for KubeWriter {
    fn submit(&self, actions: &[Action]) {
        for action in actions {
            if let Err(error) = self.tx.try_send(action.clone()) {
                let label = action_label(action);
                self.metrics
                    .writer_total
                    .with_label_values(&[label, "dropped"])
                    .inc();
                tracing::warn!(action = label, %error, "policy writer queue full: action dropped, the reconciler will heal it");
            }
        }
    }
}

fn action_label(action: &Action) -> &'static str {
    match action {
        Action::EnsurePolicy { .. } => "ensure",
        Action::ReleasePolicy { .. } => "release",
    }
}

async fn run(
    client: Client,
    mut rx: mpsc::Receiver<Action>,
    options: WriterOptions,
    metrics: KarmadaMetrics,
) {
    while let Some(action) = rx.recv().await {
        let label = action_label(&action);
        let (kind, namespace, name, result) = match &action {
            Action::EnsurePolicy { policy } => (
                policy.kind.as_str(),
                policy.namespace(),
                policy.name(),
                ensure_policy(&client, policy, options.request_timeout).await,
            ),
            Action::ReleasePolicy {
                kind,
                namespace,
                name,
            } => (
                kind.as_str(),
                namespace.as_str(),
                name.as_str(),
                release_policy(&client, *kind, namespace, name, options.request_timeout).await,
            ),
        };
        match result {
            Ok(written) => {
                match written {
                    Written::Created | Written::Updated => metrics.policies_created_total.inc(),
                    Written::Deleted => metrics.policies_released_total.inc(),
                    Written::Unchanged | Written::Absent => {}
                }
                metrics
                    .writer_total
                    .with_label_values(&[label, written.label()])
                    .inc();
                tracing::info!(action = label, %kind, %namespace, %name, result = written.label(), "policy written");
            }
            Err(error) => {
                metrics
                    .writer_total
                    .with_label_values(&[label, error.label()])
                    .inc();
                tracing::warn!(action = label, %kind, %namespace, %name, %error,
                    "policy write failed; the reconciler retries");
            }
        }
    }
}
