//! Carrying out an adoption ([`crate::rules::adopt`] plans it): the writes `karmada-takeover
//! adopt` makes in karmada-apiserver, and the one the reconciler's sweep shares with it
//! ([`take_over`]: the takeover policy, then the template).
//!
//! Every write is get-before-create, and an `AlreadyExists` (409) on create counts as done when
//! the stored object is ours or what we would have written, so a run that failed half-way is
//! finished by running it again and nothing is ever created twice. The template is written last:
//! once it exists, the workload is adopted (a later run finds it multicloud and skips it).
//!
//! With the webhook installed (our `MutatingWebhookConfiguration` in karmada-apiserver), the
//! template is created as built from the member copy and the API server's call to the webhook
//! patches it and writes the takeover policy; without it, the same engine decision is carried out
//! here: the policy first ([`ensure_policy`]), then the template with the decision's patch.

use std::time::Duration;

use json_patch::PatchOperation;
use kube::{
    Api, Client,
    api::{ListParams, Patch, PatchParams, PostParams},
    core::{ApiResource, DynamicObject},
};
use serde_json::{Value, json};

use super::promote::{NotPromoted, prune_for_karmada};
use crate::{
    fleet::watch::{Connection, resources},
    karmada::{Policy, keys},
    rules::adopt::Plan,
    writer::kube::{FIELD_MANAGER, WriteError, ensure_policy},
};

/// The name of the takeover webhook in our `MutatingWebhookConfiguration` (the chart's
/// `_karmada_apiserver.tpl`): its presence means the API server calls the webhook.
pub const TAKEOVER_WEBHOOK: &str = "takeover.workload.karmada-takeover.io";

/// An adoption step that failed: what, where, and the API server's answer.
#[derive(Debug, thiserror::Error)]
pub enum AdoptError {
    /// A request failed.
    #[error("{what}: {source}")]
    Api {
        /// What was being done (`creating ConfigMap shop/web-config in Karmada`).
        what: String,
        /// The client error.
        source: kube::Error,
    },
    /// A request got no answer in time.
    #[error("{what}: no answer within {timeout:?}")]
    Timeout {
        /// What was being done.
        what: String,
        /// The limit.
        timeout: Duration,
    },
    /// The takeover policy could not be written.
    #[error("writing takeover policy {policy}: {source}")]
    Policy {
        /// Policy name.
        policy: String,
        /// Why.
        source: WriteError,
    },
    /// The object exists in Karmada and is not the one we would create.
    #[error("{0} already exists in Karmada and was not created by karmada-takeover: left alone")]
    Foreign(String),
    /// A dependency is in no source cluster.
    #[error("{0} is in neither Karmada nor the source cluster")]
    MissingDependency(String),
    /// The object has no resource we know.
    #[error("no API resource for {0}")]
    NoResource(String),
    /// An object does not convert between JSON and the client's type.
    #[error("not a valid object: {0}")]
    Invalid(String),
    /// No client for a member's cluster proxy.
    #[error("cluster {cluster}: {source}")]
    Member {
        /// The member cluster.
        cluster: String,
        /// Why.
        source: crate::fleet::watch::Error,
    },
    /// The member copy cannot be used (Karmada manages it, a token Secret).
    #[error("{what}: {source}")]
    NotPromoted {
        /// The object.
        what: String,
        /// Why.
        source: NotPromoted,
    },
}

async fn timed<T>(
    what: impl Fn() -> String,
    timeout: Duration,
    f: impl Future<Output = Result<T, kube::Error>>,
) -> Result<T, AdoptError> {
    match tokio::time::timeout(timeout, f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(source)) => Err(AdoptError::Api { what: what(), source }),
        Err(_) => Err(AdoptError::Timeout {
            what: what(),
            timeout,
        }),
    }
}

/// Whether a create failed because the object exists (409 AlreadyExists).
fn already_exists(e: &AdoptError) -> bool {
    matches!(e, AdoptError::Api { source: kube::Error::Api(s), .. } if s.code == 409)
}

/// The API of `ar`'s kind in `namespace` (all namespaces, or cluster scope, when empty).
pub(super) fn api(client: &Client, ar: &ApiResource, namespace: &str) -> Api<DynamicObject> {
    if namespace.is_empty() {
        Api::all_with(client.clone(), ar)
    } else {
        Api::namespaced_with(client.clone(), namespace, ar)
    }
}

fn post_params() -> PostParams {
    PostParams {
        field_manager: Some(FIELD_MANAGER.to_owned()),
        ..PostParams::default()
    }
}

/// What one write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    /// Created now.
    Created,
    /// It was there already (ours, or equal): nothing written.
    Existed,
}

/// How the template is written once the policy exists.
#[derive(Debug, Clone, Copy)]
pub enum TemplateWrite<'a> {
    /// Create it (`adopt`): the body, with the decision's patch applied when there is no webhook.
    Create(&'a Value),
    /// Patch the stored template with the decision's patch (the sweep: it exists already).
    Patch(&'a [PatchOperation]),
}

/// The takeover itself, shared by `adopt` and the sweep: `policy` (when given: the engine's
/// decision is carried out here, not by the webhook) is ensured first, then the template is
/// written. A template created before by us (it carries `karmada-takeover.io/policy`) counts as
/// done.
pub async fn take_over(
    client: &Client,
    ar: &ApiResource,
    namespace: &str,
    name: &str,
    policy: Option<&Policy>,
    write: TemplateWrite<'_>,
    timeout: Duration,
) -> Result<Created, AdoptError> {
    if let Some(policy) = policy {
        ensure_policy(client, policy, timeout)
            .await
            .map_err(|source| AdoptError::Policy {
                policy: policy.name().to_owned(),
                source,
            })?;
    }
    let shown = format!("{} {namespace}/{name}", ar.kind);
    let api = api(client, ar, namespace);
    match write {
        TemplateWrite::Patch(patch) => {
            let patch = json_patch::Patch(patch.to_vec());
            timed(
                || format!("patching {shown} in Karmada"),
                timeout,
                api.patch(name, &PatchParams::default(), &Patch::<()>::Json(patch)),
            )
            .await?;
            Ok(Created::Created)
        }
        TemplateWrite::Create(body) => {
            let ours = |o: &DynamicObject| {
                o.metadata
                    .annotations
                    .as_ref()
                    .is_some_and(|a| a.contains_key(keys::POLICY))
            };
            if let Some(existing) = timed(
                || format!("reading {shown} in Karmada"),
                timeout,
                api.get_opt(name),
            )
            .await?
            {
                return if ours(&existing) {
                    Ok(Created::Existed)
                } else {
                    Err(AdoptError::Foreign(shown))
                };
            }
            let obj: DynamicObject = serde_json::from_value(body.clone())
                .map_err(|e| AdoptError::Invalid(format!("{shown}: {e}")))?;
            let created = timed(
                || format!("creating {shown} in Karmada"),
                timeout,
                api.create(&post_params(), &obj),
            )
            .await;
            match created {
                Ok(_) => Ok(Created::Created),
                Err(e) if already_exists(&e) => {
                    let existing = timed(
                        || format!("reading {shown} in Karmada"),
                        timeout,
                        api.get_opt(name),
                    )
                    .await?;
                    if existing.as_ref().is_some_and(ours) {
                        Ok(Created::Existed)
                    } else {
                        Err(AdoptError::Foreign(shown))
                    }
                }
                Err(e) => Err(e),
            }
        }
    }
}

/// Creates the namespace in Karmada unless it exists.
pub async fn ensure_namespace(
    client: &Client,
    namespace: &str,
    timeout: Duration,
) -> Result<Created, AdoptError> {
    let ar =
        resources::known("v1", "Namespace").ok_or_else(|| AdoptError::NoResource("v1/Namespace".into()))?;
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let what = || format!("creating namespace {namespace} in Karmada");
    if timed(what, timeout, api.get_metadata_opt(namespace))
        .await?
        .is_some()
    {
        return Ok(Created::Existed);
    }
    let obj: DynamicObject = serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}),
    )
    .map_err(|e| AdoptError::Invalid(format!("Namespace {namespace}: {e}")))?;
    match tokio::time::timeout(timeout, api.create(&post_params(), &obj)).await {
        Ok(Ok(_)) => Ok(Created::Created),
        Ok(Err(kube::Error::Api(s))) if s.code == 409 => Ok(Created::Existed),
        Ok(Err(source)) => Err(AdoptError::Api { what: what(), source }),
        Err(_) => Err(AdoptError::Timeout {
            what: what(),
            timeout,
        }),
    }
}

/// What copying a dependency from a member cluster did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Copied {
    /// Created in Karmada from the member's copy.
    Created,
    /// Karmada has it already.
    Existed,
    /// The member cluster does not hold it.
    NotFound,
    /// The member's copy must not be copied (managed, a token Secret).
    Skipped(NotPromoted),
}

/// Copies a ConfigMap or Secret from member `cluster` into Karmada unless Karmada has it, pruned
/// by [`prune_for_karmada`]: the reconciler's dependency promotion and `adopt` both copy here.
pub async fn copy_dependency(
    connection: &Connection,
    cluster: &str,
    kind: &str,
    namespace: &str,
    name: &str,
    timeout: Duration,
) -> Result<Copied, AdoptError> {
    let ar = resources::known("v1", kind).ok_or_else(|| AdoptError::NoResource(format!("v1/{kind}")))?;
    let shown = format!("{kind} {namespace}/{name}");
    let karmada = api(&connection.client, &ar, namespace);
    if timed(
        || format!("reading {shown} in Karmada"),
        timeout,
        karmada.get_metadata_opt(name),
    )
    .await?
    .is_some()
    {
        return Ok(Copied::Existed);
    }
    let member_client = member(connection, cluster)?;
    let member_api = api(&member_client, &ar, namespace);
    let Some(obj) = timed(
        || format!("reading {shown} from {cluster}"),
        timeout,
        member_api.get_opt(name),
    )
    .await?
    else {
        return Ok(Copied::NotFound);
    };
    let value = serde_json::to_value(&obj).map_err(|e| AdoptError::Invalid(format!("{shown}: {e}")))?;
    let pruned = match prune_for_karmada(value) {
        Ok(v) => v,
        Err(why) => return Ok(Copied::Skipped(why)),
    };
    let mut new: DynamicObject =
        serde_json::from_value(pruned).map_err(|e| AdoptError::Invalid(format!("{shown}: {e}")))?;
    new.metadata.namespace = Some(namespace.to_owned());
    let created = timed(
        || format!("creating {shown} in Karmada"),
        timeout,
        karmada.create(&post_params(), &new),
    )
    .await;
    match created {
        Ok(_) => Ok(Copied::Created),
        Err(e) if already_exists(&e) => Ok(Copied::Existed),
        Err(e) => Err(e),
    }
}

fn member(connection: &Connection, cluster: &str) -> Result<Client, AdoptError> {
    connection.member(cluster).map_err(|source| AdoptError::Member {
        cluster: cluster.to_owned(),
        source,
    })
}

/// Whether the API server calls our takeover webhook: our `MutatingWebhookConfiguration` (any
/// name) holds a webhook named [`TAKEOVER_WEBHOOK`].
pub async fn webhook_installed(client: &Client, timeout: Duration) -> Result<bool, AdoptError> {
    let ar = ApiResource::from_gvk_with_plural(
        &resources::gvk("admissionregistration.k8s.io/v1", "MutatingWebhookConfiguration"),
        "mutatingwebhookconfigurations",
    );
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let list = timed(
        || "listing MutatingWebhookConfigurations in Karmada".to_owned(),
        timeout,
        api.list(&ListParams::default()),
    )
    .await?;
    Ok(list.items.iter().any(|c| {
        c.data["webhooks"]
            .as_array()
            .is_some_and(|w| w.iter().any(|w| w["name"] == TAKEOVER_WEBHOOK))
    }))
}

/// Every object of `ar` in member `cluster` (one namespace or all, optionally by label selector),
/// as full objects: the candidates of `adopt`.
pub async fn list_member(
    connection: &Connection,
    cluster: &str,
    ar: &ApiResource,
    namespace: Option<&str>,
    selector: Option<&str>,
    timeout: Duration,
) -> Result<Vec<Value>, AdoptError> {
    let client = member(connection, cluster)?;
    let api = api(&client, ar, namespace.unwrap_or_default());
    let mut params = ListParams::default();
    if let Some(s) = selector {
        params = params.labels(s);
    }
    let list = timed(
        || format!("listing {} in {cluster}", ar.plural),
        timeout,
        api.list(&params),
    )
    .await?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|o| {
            let mut v = serde_json::to_value(o).ok()?;
            // Lists omit each item's apiVersion/kind; the plan needs them.
            v["apiVersion"] = json!(ar.api_version);
            v["kind"] = json!(ar.kind);
            Some(v)
        })
        .collect())
}

/// What adopting one workload did, step by step (`kind namespace/name` → created or existed).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Done {
    /// Objects created now.
    pub created: Vec<String>,
    /// Objects that were there already.
    pub existed: Vec<String>,
}

impl Done {
    fn add(&mut self, what: String, c: Created) {
        match c {
            Created::Created => self.created.push(what),
            Created::Existed => self.existed.push(what),
        }
    }
}

/// Carries out a plan: namespace, dependencies (from the plan's source cluster), then the
/// takeover ([`take_over`]): through the webhook (`webhook: true`, the template as built) or with
/// the engine's decision (the policy, then the patched template).
pub async fn execute(
    connection: &Connection,
    plan: &Plan,
    webhook: bool,
    timeout: Duration,
) -> Result<Done, AdoptError> {
    let t = &plan.template;
    let (api_version, kind) = (
        t["apiVersion"].as_str().unwrap_or_default(),
        t["kind"].as_str().unwrap_or_default(),
    );
    let namespace = t["metadata"]["namespace"].as_str().unwrap_or_default();
    let name = t["metadata"]["name"].as_str().unwrap_or_default();
    let ar = resources::known(api_version, kind)
        .ok_or_else(|| AdoptError::NoResource(format!("{api_version}/{kind}")))?;
    let client = &connection.client;
    let mut done = Done::default();
    if plan.create_namespace {
        let c = ensure_namespace(client, namespace, timeout).await?;
        done.add(format!("Namespace {namespace}"), c);
    }
    for dep in &plan.dependencies {
        let shown = format!("{} {namespace}/{}", dep.kind, dep.name);
        match copy_dependency(
            connection,
            &plan.source_cluster,
            dep.kind,
            namespace,
            &dep.name,
            timeout,
        )
        .await?
        {
            Copied::Created => done.created.push(shown),
            Copied::Existed => done.existed.push(shown),
            Copied::NotFound => return Err(AdoptError::MissingDependency(shown)),
            Copied::Skipped(source) => return Err(AdoptError::NotPromoted { what: shown, source }),
        }
    }
    let (policy, body) = if webhook {
        (None, &plan.template)
    } else {
        (Some(&plan.policy), &plan.patched_template)
    };
    let c = take_over(
        client,
        &ar,
        namespace,
        name,
        policy,
        TemplateWrite::Create(body),
        timeout,
    )
    .await?;
    if !webhook {
        done.add(format!("PropagationPolicy {namespace}/{}", plan.policy.name()), c);
    }
    done.add(format!("{kind} {namespace}/{name}"), c);
    Ok(done)
}
