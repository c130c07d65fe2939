//! No lingering Overwrite: the `work.karmada.io/conflict-resolution: overwrite` annotation that
//! earlier karmada-takeover versions wrote on adopted templates, found once an application policy
//! claims the template, and the patch that removes it.
//!
//! Why it matters (semantics.md §4.4, §4.6): Karmada's `mergeConflictResolution` lets a template
//! annotation `overwrite` or `abort` beat the claiming policy's `conflictResolution`. The takeover
//! policy's own `conflictResolution: Overwrite` is all a takeover needs, so karmada-takeover no
//! longer writes the annotation; one an earlier version left behind keeps overwriting member
//! objects after an application policy with `Abort` takes the template over, in clusters added
//! later too.
//!
//! A template qualifies when all of these hold ([`lingering_overwrite`]):
//! - it carries `karmada-takeover.io/policy` (karmada-takeover adopted it: without it the
//!   `overwrite` is the user's own) and `work.karmada.io/conflict-resolution` is exactly
//!   `overwrite` (Karmada ignores other values; `abort` is the user's choice);
//! - its namespace is one karmada-takeover acts in (config `namespaces`, not labelled
//!   `karmada-takeover.io/admission: disabled`);
//! - Karmada's claim on it (`Template::claim`) names a policy that exists, is not one of ours
//!   (`app.kubernetes.io/managed-by: karmada-takeover`) and is of the application tier
//!   ([`tier_of`]). While our takeover policy claims it the annotation changes nothing, and a
//!   user's batch policy or an unclaimed template leaves nothing to decide.
//!
//! The patch tests the annotation's value and the claim's annotations before it removes the
//! annotation, so the API server rejects it when a user or Karmada changed either in between.
//!
//! Promoted dependencies (ConfigMaps and Secrets the reconciler copied into Karmada with
//! `karmada-takeover.io/skip: "true"`, which earlier versions also annotated `overwrite`) are
//! left alone: whether a takeover policy of ours still carries a workload that uses one depends
//! on the workloads' pod specs (the fleet view keeps templates' metadata only) or Karmada's
//! ResourceBindings (not watched), and an `overwrite` on such a template may also have come from
//! its member copy (earlier versions kept one the member copy had).

use json_patch::PatchOperation;

use super::{
    claim::{Claim, display_policy},
    patch,
    tier::{Tier, tier_of},
    view::{FleetView, TemplateMeta},
};
use crate::{
    config::Config,
    karmada::{PolicyKind, keys},
};

/// What to do with a template's conflict-resolution annotation.
#[derive(Debug, Clone, PartialEq)]
pub enum Linger {
    /// Remove it with `patch`: an application policy claims the template.
    Remove {
        /// The claiming application policy, as `PropagationPolicy ns/name`.
        claimant: String,
        /// `test` operations, then the `remove`.
        patch: Vec<PatchOperation>,
    },
    /// Leave it.
    Keep(Keep),
}

/// Why a template's conflict-resolution annotation is left as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// No `work.karmada.io/conflict-resolution: overwrite` on it.
    NoOverwrite,
    /// No `karmada-takeover.io/policy`: the annotation is not ours to remove.
    NotAdopted,
    /// A namespace karmada-takeover stays out of.
    NamespaceExcluded,
    /// No complete claim on the template.
    Unclaimed,
    /// The claim names a policy that is not in the fleet (Karmada re-matches the template).
    ClaimantMissing,
    /// One of our takeover policies claims it: the takeover is still under way.
    ClaimedByOurs,
    /// A batch-tier policy that is not ours claims it.
    ClaimedByBatch,
}

/// Whether the template carries an `overwrite` left by an earlier karmada-takeover version that
/// must go, and the patch that removes it (module docs).
pub fn lingering_overwrite(t: &TemplateMeta, fleet: &impl FleetView, config: &Config) -> Linger {
    if t.annotations.get(keys::CONFLICT_RESOLUTION) != Some(keys::CONFLICT_RESOLUTION_OVERWRITE) {
        return Linger::Keep(Keep::NoOverwrite);
    }
    if !t.annotations.contains_key(keys::POLICY) {
        return Linger::Keep(Keep::NotAdopted);
    }
    if !t.namespace.is_empty()
        && (!config.namespace_allowed(&t.namespace) || fleet.namespace_disabled(&t.namespace))
    {
        return Linger::Keep(Keep::NamespaceExcluded);
    }
    let template = t.as_template();
    let Some(claim) = template.claim() else {
        return Linger::Keep(Keep::Unclaimed);
    };
    let Some(policy) = fleet.policy(claim.kind, claim.namespace, claim.name) else {
        return Linger::Keep(Keep::ClaimantMissing);
    };
    if policy.is_ours() {
        return Linger::Keep(Keep::ClaimedByOurs);
    }
    if tier_of(policy) != Tier::Application {
        return Linger::Keep(Keep::ClaimedByBatch);
    }
    Linger::Remove {
        claimant: display_policy(claim.kind, claim.namespace, claim.name),
        patch: patch::remove_annotation_if(
            keys::CONFLICT_RESOLUTION,
            keys::CONFLICT_RESOLUTION_OVERWRITE,
            &claim_annotations(&claim),
        ),
    }
}

/// The claim's annotations as Karmada wrote them (the permanent-id label is not compared: the
/// name says which policy).
fn claim_annotations<'a>(claim: &Claim<'a>) -> Vec<(&'static str, &'a str)> {
    match claim.kind {
        PolicyKind::PropagationPolicy => {
            vec![(keys::PP_NAMESPACE, claim.namespace), (keys::PP_NAME, claim.name)]
        }
        PolicyKind::ClusterPropagationPolicy => vec![(keys::CPP_NAME, claim.name)],
    }
}

#[cfg(test)]
mod tests;
