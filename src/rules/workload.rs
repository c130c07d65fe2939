//! Resource templates of the selected kinds: takeover on apply, and no re-promotion.
//!
//! Order of checks for CREATE/UPDATE of a selected kind in an allowed namespace:
//! 1. an UPDATE that only changes Karmada's claim metadata (the detector writing its claim) passes
//!    untouched;
//! 2. re-promotion (both webhooks): member-side Karmada markers on the template; on CREATE, a
//!    member copy that Karmada manages; a takeover request (new or changed
//!    `karmada-takeover.io/clusters`) on a template an application policy claims;
//! 3. takeover (mutating webhook, on CREATE or a takeover request): find the source clusters,
//!    make sure no application policy takes the template, check that the takeover policy would
//!    really claim it, then patch the template and ask for the policy.

use std::collections::BTreeMap;

use super::{
    Admitted, Decision, DenyReason, Operation, Review, Webhook,
    claim::{Template, display_policy},
    tier::{Tier, tier_of},
    view::FleetView,
};
use crate::{
    config::Config,
    karmada::{Labels, api::group_of, keys, markers::member_markers},
    rules::json::{Json, Kind},
};

static NO_LABELS: Labels = BTreeMap::new();

/// The admitted object's metadata and identity.
pub(super) struct Subject<'a> {
    pub(super) api_version: &'a str,
    pub(super) kind: &'a str,
    pub(super) namespace: &'a str,
    pub(super) name: &'a str,
    pub(super) labels: &'a Labels,
    pub(super) annotations: &'a Labels,
    pub(super) body: Json<'a>,
}

impl Subject<'_> {
    pub(super) fn template(&self) -> Template<'_> {
        Template::new(
            self.api_version,
            self.kind,
            self.namespace,
            self.name,
            Some(self.labels),
            Some(self.annotations),
        )
    }

    pub(super) fn shown(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

fn labels_of<'a>(o: Admitted<'a>) -> &'a Labels {
    o.metadata.labels.as_ref().unwrap_or(&NO_LABELS)
}

fn annotations_of<'a>(o: Admitted<'a>) -> &'a Labels {
    o.metadata.annotations.as_ref().unwrap_or(&NO_LABELS)
}

/// Decides a review of a selected kind.
pub fn decide(webhook: Webhook, r: &Review<'_>, fleet: &impl FleetView, config: &Config) -> Decision {
    if !matches!(r.operation, Operation::Create | Operation::Update)
        || !config.selects(&r.api_version, r.kind)
    {
        return Decision::allow();
    }
    let Some(object) = r.object else {
        return Decision::allow();
    };
    let namespace = object
        .metadata
        .namespace
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or(r.namespace);
    if !namespace.is_empty() && (!config.namespace_allowed(namespace) || fleet.namespace_disabled(namespace))
    {
        return Decision::allow();
    }
    let name = object
        .metadata
        .name
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or(r.name);
    if name.is_empty() {
        return Decision::allow(); // generateName: nothing to look up in member clusters
    }
    let subject = Subject {
        api_version: &r.api_version,
        kind: r.kind,
        namespace,
        name,
        labels: labels_of(object),
        annotations: annotations_of(object),
        body: object.body,
    };
    let old = r.old_object.filter(|_| r.operation == Operation::Update);
    if let Some(old) = old
        && only_claims_changed(old, object)
    {
        return Decision::allow();
    }

    // --- re-promotion ---
    let old_labels = old.map(labels_of);
    let old_annotations = old.map(annotations_of);
    let markers = member_markers(subject.labels, subject.annotations);
    if !markers.is_empty() {
        let had = old_labels
            .zip(old_annotations)
            .is_some_and(|(l, a)| !member_markers(l, a).is_empty());
        if !had {
            return Decision::deny(
                DenyReason::MemberMarkers,
                format!(
                    "{} carries Karmada's member-cluster markers ({}): it was exported from a member cluster where \
                     Karmada already manages it, so it is already a multicloud workload; edit its template in Karmada \
                     instead of re-applying the member copy, or remove those markers if this really is a new workload",
                    subject.shown(),
                    markers.join(", ")
                ),
            );
        }
    }
    let group = group_of(subject.api_version);
    let copies = fleet.member_copies(group, subject.kind, subject.namespace, subject.name);
    if r.operation == Operation::Create {
        let managed: Vec<&str> = copies.iter().filter(|(_, m)| *m).map(|(c, _)| *c).collect();
        if !managed.is_empty() {
            return Decision::deny(
                DenyReason::ManagedInMember,
                format!(
                    "{} is already managed by Karmada in member cluster{} {} (label {}=true on the member copy) but has \
                     no template here: another control plane or a deleted template still owns it; release it there \
                     first (delete that template with preserveResourcesOnDeletion: true) or use another name",
                    subject.shown(),
                    if managed.len() == 1 { "" } else { "s" },
                    managed.join(", "),
                    keys::MANAGED
                ),
            );
        }
    }
    let requested = subject.annotations.get(keys::CLUSTERS);
    let takeover_requested =
        requested.is_some() && requested != old_annotations.and_then(|a| a.get(keys::CLUSTERS));
    let stored_claim = match old {
        Some(o) => Template::new(
            subject.api_version,
            subject.kind,
            namespace,
            name,
            Some(labels_of(o)),
            Some(annotations_of(o)),
        )
        .claim(),
        None => subject.template().claim(),
    };
    if takeover_requested
        && let Some(c) = stored_claim
        && let Some(p) = fleet.policy(c.kind, c.namespace, c.name)
        && tier_of(p) == Tier::Application
    {
        return Decision::deny(
            DenyReason::ClaimedByApplication,
            format!(
                "{} is already claimed by application policy {}, so {}={} cannot take it over again; change the \
                 placement in that policy instead, or remove the {} annotation",
                subject.shown(),
                display_policy(c.kind, c.namespace, c.name),
                keys::CLUSTERS,
                requested.map(String::as_str).unwrap_or_default(),
                keys::CLUSTERS
            ),
        );
    }
    let mut decision = Decision::allow();
    if !markers.is_empty() {
        decision = decision.warn(format!(
            "{} still carries Karmada member-cluster markers ({}) from before this update",
            subject.shown(),
            markers.join(", ")
        ));
    }
    if webhook != Webhook::MutateWorkload {
        return decision;
    }
    if r.operation == Operation::Update && !takeover_requested {
        return decision;
    }
    super::takeover::takeover(decision, &subject, &copies, old.is_some(), fleet, config)
}

fn is_claim_key(key: &str) -> bool {
    key.starts_with("propagationpolicy.karmada.io/")
        || key.starts_with("clusterpropagationpolicy.karmada.io/")
}

/// Whether an UPDATE only adds/changes/removes Karmada's claim labels and annotations (plus
/// server-managed fields and status): what karmada-controller-manager's detector does.
pub fn only_claims_changed(old: Admitted<'_>, new: Admitted<'_>) -> bool {
    let without_claims = |m: &Labels| -> Vec<(String, String)> {
        m.iter()
            .filter(|(k, _)| !is_claim_key(k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    let (old_body, new_body) = (old.body, new.body);
    // `status` may change; the type and metadata are compared apart (a body from the admission
    // decoder's tree also holds them).
    let compared = |(k, _): &(&str, Json<'_>)| !matches!(*k, "status" | "apiVersion" | "kind" | "metadata");
    let same_body = match (old_body.kind(), new_body.kind()) {
        (Kind::Object, Kind::Object) => {
            old_body.fields().filter(compared).count() == new_body.fields().filter(compared).count()
                && old_body
                    .fields()
                    .filter(compared)
                    .all(|(k, v)| new_body.get(k).is_some_and(|w| v.same(w)))
        }
        _ => old_body.same(new_body),
    };
    same_body
        && without_claims(labels_of(old)) == without_claims(labels_of(new))
        && without_claims(annotations_of(old)) == without_claims(annotations_of(new))
        && (labels_of(old) != labels_of(new) || annotations_of(old) != annotations_of(new))
}

/// Parses the clusters annotation: comma-separated names, trimmed, de-duplicated, sorted.
pub fn parse_clusters(value: &str) -> Vec<String> {
    let mut out: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

#[cfg(test)]
mod tests;
