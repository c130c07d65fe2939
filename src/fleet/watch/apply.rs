//! Decoding watch events and applying them to the fleet view. Pure with respect to I/O: the
//! benchmark and the tests drive these directly.

use std::{
    collections::{BTreeMap, HashSet},
    fmt::Debug,
};

use kube::core::{ApiResource, DynamicObject, ObjectMeta, PartialObjectMeta};

use super::{Change, members};
use crate::{
    fleet::{Fleet, RunningStore, SharedFleet},
    karmada::{Cluster, Policy, PolicyKind, StoredLabels, api::group_of, markers},
    rules::{
        restart::RunningCopy,
        view::{ClusterInfo, TemplateMeta},
    },
};

/// Decodes a PropagationPolicy / ClusterPropagationPolicy; `None` (logged) when it does not
/// have the shape Karmada's CRD guarantees.
pub fn decode_policy(obj: DynamicObject) -> Option<Policy> {
    let shown = format!(
        "{}/{}",
        obj.metadata.namespace.as_deref().unwrap_or_default(),
        obj.metadata.name.as_deref().unwrap_or_default()
    );
    let value = serde_json::to_value(obj).ok()?;
    match serde_json::from_value::<Policy>(value) {
        Ok(p) => Some(p),
        Err(error) => {
            tracing::warn!(policy = %shown, %error, "ignoring a policy that does not decode");
            None
        }
    }
}

/// Applies one policy change for `kind` (a re-list replaces every policy of that kind).
pub fn apply_policies(fleet: &SharedFleet, kind: PolicyKind, change: Change<Policy>, chunk: usize) {
    match change {
        Change::Apply(p) => fleet.write().upsert_policy(p),
        Change::Delete(p) => {
            fleet.write().remove_policy(kind, p.namespace(), p.name());
        }
        Change::Relist(list) => {
            let keep: HashSet<(String, String)> = list
                .iter()
                .map(|p| (p.namespace().to_owned(), p.name().to_owned()))
                .collect();
            let stale: Vec<(String, String)> = fleet
                .read()
                .policies()
                .filter(|p| p.policy_kind() == Some(kind))
                .map(|p| (p.namespace().to_owned(), p.name().to_owned()))
                .filter(|k| !keep.contains(k))
                .collect();
            {
                let mut f = fleet.write();
                for (ns, name) in &stale {
                    f.remove_policy(kind, ns, name);
                }
            }
            let mut list = list.into_iter().peekable();
            while list.peek().is_some() {
                let mut f = fleet.write();
                for p in list.by_ref().take(chunk.max(1)) {
                    f.upsert_policy(p);
                }
            }
        }
    }
}

/// A template's metadata as the fleet keeps it.
pub fn decode_template(ar: &ApiResource, obj: PartialObjectMeta<DynamicObject>) -> TemplateMeta {
    template_meta(ar, obj.metadata)
}

fn template_meta(ar: &ApiResource, m: ObjectMeta) -> TemplateMeta {
    TemplateMeta {
        api_version: ar.api_version.clone(),
        kind: ar.kind.clone(),
        namespace: m.namespace.unwrap_or_default(),
        name: m.name.unwrap_or_default(),
        labels: m.labels.unwrap_or_default().into(),
        // Dropped here already, so the view never holds a last-applied copy even briefly.
        annotations: StoredLabels::kept(
            m.annotations.unwrap_or_default(),
            crate::fleet::templates::is_decision_annotation,
        ),
    }
}

/// A template read whole (the kinds [`crate::fleet::karmada_keeps_content`] selects: ConfigMaps
/// and Secrets): its metadata, and its content kept as a member copy is (data digests).
#[derive(Debug, Clone)]
pub struct TemplateObject {
    /// What every template keeps.
    pub meta: TemplateMeta,
    /// Its content, in the fleet's compact form.
    pub content: Option<RunningCopy>,
}

/// A ConfigMap or Secret template as the fleet keeps it: metadata plus data digests (the data
/// itself is dropped here, as soon as the event is decoded).
pub fn decode_template_object(ar: &ApiResource, obj: DynamicObject, store: &RunningStore) -> TemplateObject {
    let content = store.keep(&ar.api_version, &ar.kind, &obj.data);
    TemplateObject {
        meta: template_meta(ar, obj.metadata),
        content,
    }
}

/// Applies one template change for the kind of `ar`.
pub fn apply_templates(fleet: &SharedFleet, ar: &ApiResource, change: Change<TemplateMeta>, chunk: usize) {
    apply_template_change(fleet, ar, change, chunk, |t| t, Fleet::upsert_template);
}

/// Applies one change of templates read whole (ConfigMaps, Secrets): metadata and content are
/// written under the same lock, so the view never holds one without the other.
pub fn apply_template_objects(
    fleet: &SharedFleet,
    ar: &ApiResource,
    change: Change<TemplateObject>,
    chunk: usize,
) {
    apply_template_change(
        fleet,
        ar,
        change,
        chunk,
        |t| &t.meta,
        |f, t| {
            let TemplateObject { meta, content } = t;
            let (api_version, kind, namespace, name) = (
                meta.api_version.clone(),
                meta.kind.clone(),
                meta.namespace.clone(),
                meta.name.clone(),
            );
            f.upsert_template(meta);
            f.set_karmada_copy(&api_version, &kind, &namespace, &name, content);
        },
    );
}

/// One template change, whatever the template carries: `meta` reads its identity, `store` writes
/// it. A re-list removes the templates of the kind it no longer lists, then stores the rest in
/// chunks of `chunk` per write-lock hold.
fn apply_template_change<T>(
    fleet: &SharedFleet,
    ar: &ApiResource,
    change: Change<T>,
    chunk: usize,
    meta: impl Fn(&T) -> &TemplateMeta,
    store: impl Fn(&mut Fleet, T),
) {
    match change {
        Change::Apply(t) => store(&mut fleet.write(), t),
        Change::Delete(t) => {
            let t = meta(&t);
            fleet
                .write()
                .remove_template(&t.api_version, &t.kind, &t.namespace, &t.name);
        }
        Change::Relist(list) => {
            let keep: HashSet<(&str, &str)> = list
                .iter()
                .map(|t| {
                    let t = meta(t);
                    (t.namespace.as_str(), t.name.as_str())
                })
                .collect();
            let stale: Vec<(String, String)> = fleet
                .read()
                .templates_of_kind(&ar.api_version, &ar.kind)
                .into_iter()
                .filter(|t| !keep.contains(&(t.namespace.as_str(), t.name.as_str())))
                .map(|t| (t.namespace.clone(), t.name.clone()))
                .collect();
            drop(keep);
            {
                let mut f = fleet.write();
                for (ns, name) in &stale {
                    f.remove_template(&ar.api_version, &ar.kind, ns, name);
                }
            }
            let mut list = list.into_iter().peekable();
            while list.peek().is_some() {
                let mut f = fleet.write();
                for t in list.by_ref().take(chunk.max(1)) {
                    store(&mut f, t);
                }
            }
        }
    }
}

/// Decodes a Cluster; `None` (logged) when it does not decode.
pub fn decode_cluster(obj: DynamicObject) -> Option<Cluster> {
    let name = obj.metadata.name.clone().unwrap_or_default();
    let value = serde_json::to_value(obj).ok()?;
    match serde_json::from_value::<Cluster>(value) {
        Ok(c) => Some(c),
        Err(error) => {
            tracing::warn!(cluster = %name, %error, "ignoring a Cluster that does not decode");
            None
        }
    }
}

/// A member-cluster object as the member index keeps it: namespace, name, managed flag, and what
/// it runs (for the restart guard).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberObject {
    /// Empty for cluster-scoped objects.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Whether Karmada manages this copy ([`markers::is_managed`]).
    pub managed: bool,
    /// What it runs, for the kinds the restart guard compares.
    pub running: Option<RunningCopy>,
}

/// Reduces a member object (as the member API server returns it, spec included) to what the
/// index keeps. The spec is read here, once, and only its [`RunningCopy`] is kept, in the compact
/// form of `store` (the fleet's [`crate::fleet::Fleet::running_store`]): a re-list buffers
/// only that until it is applied.
pub fn decode_member(ar: &ApiResource, obj: DynamicObject, store: &RunningStore) -> MemberObject {
    static EMPTY: BTreeMap<String, String> = BTreeMap::new();
    let running = store.keep(&ar.api_version, &ar.kind, &obj.data);
    let m = obj.metadata;
    let managed = markers::is_managed(m.labels.as_ref().unwrap_or(&EMPTY));
    MemberObject {
        namespace: m.namespace.unwrap_or_default(),
        name: m.name.unwrap_or_default(),
        managed,
        running,
    }
}

/// Applies one member-object change of `cluster` for the kind of `ar`.
pub fn apply_members(
    fleet: &SharedFleet,
    cluster: &str,
    ar: &ApiResource,
    change: Change<MemberObject>,
    chunk: usize,
) {
    let group = group_of(&ar.api_version);
    let set = |f: &mut Fleet, o: MemberObject| {
        f.set_member_copy(
            cluster,
            group,
            &ar.kind,
            &o.namespace,
            &o.name,
            o.managed,
            o.running,
        );
    };
    match change {
        Change::Apply(o) => set(&mut fleet.write(), o),
        Change::Delete(o) => {
            fleet
                .write()
                .remove_member(cluster, group, &ar.kind, &o.namespace, &o.name);
        }
        Change::Relist(list) => {
            {
                let keep: HashSet<(&str, &str)> = list
                    .iter()
                    .map(|o| (o.namespace.as_str(), o.name.as_str()))
                    .collect();
                fleet
                    .write()
                    .retain_member_objects(cluster, group, &ar.kind, |ns, name| keep.contains(&(ns, name)));
            }
            let mut list = list.into_iter().peekable();
            while list.peek().is_some() {
                let mut f = fleet.write();
                for o in list.by_ref().take(chunk.max(1)) {
                    set(&mut f, o);
                }
            }
        }
    }
}

pub(super) fn apply_clusters(fleet: &SharedFleet, change: Change<Cluster>) -> Vec<members::ClusterMsg> {
    let mut msgs = Vec::new();
    match change {
        Change::Apply(c) => {
            let info = ClusterInfo::from(&c);
            msgs.push(members::ClusterMsg::Upsert {
                name: info.name.clone(),
                ready: info.ready,
            });
            fleet.write().upsert_cluster(info);
        }
        Change::Delete(c) => {
            fleet.write().remove_cluster(c.name());
            msgs.push(members::ClusterMsg::Remove {
                name: c.name().to_owned(),
            });
        }
        Change::Relist(list) => {
            let keep: HashSet<&str> = list.iter().map(Cluster::name).collect();
            let stale: Vec<String> = fleet
                .read()
                .clusters()
                .map(|c| c.name.clone())
                .filter(|n| !keep.contains(n.as_str()))
                .collect();
            let mut f = fleet.write();
            for name in stale {
                f.remove_cluster(&name);
                msgs.push(members::ClusterMsg::Remove { name });
            }
            for c in &list {
                let info = ClusterInfo::from(c);
                msgs.push(members::ClusterMsg::Upsert {
                    name: info.name.clone(),
                    ready: info.ready,
                });
                f.upsert_cluster(info);
            }
        }
    }
    msgs
}

pub(super) fn apply_namespaces(fleet: &SharedFleet, change: Change<kube::core::ObjectMeta>) {
    match change {
        Change::Apply(m) => {
            let name = m.name.unwrap_or_default();
            fleet
                .write()
                .upsert_namespace(&name, m.labels.unwrap_or_default());
        }
        Change::Delete(m) => fleet
            .write()
            .remove_namespace(m.name.as_deref().unwrap_or_default()),
        Change::Relist(list) => {
            let keep: HashSet<&str> = list.iter().filter_map(|m| m.name.as_deref()).collect();
            let mut f = fleet.write();
            let stale: Vec<String> = f
                .namespace_names()
                .filter(|n| !keep.contains(n))
                .map(str::to_owned)
                .collect();
            for n in stale {
                f.remove_namespace(&n);
            }
            for m in list {
                let name = m.name.unwrap_or_default();
                f.upsert_namespace(&name, m.labels.unwrap_or_default());
            }
        }
    }
}
