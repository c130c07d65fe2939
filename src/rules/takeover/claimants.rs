//! Who else claims the template: the application policy karmada-takeover leaves it to, a policy
//! that already selects it (no race), and whether the takeover policy would really win.

use super::{Subject, Template};
use crate::{
    karmada::{Policy, PolicyKind, keys, names, policy::ConflictResolution},
    rules::{
        claim::{self, Candidate, PolicySource, display_policy},
        tier::{Tier, tier_of},
        view::FleetView,
    },
};

/// The warnings when an application policy takes the template: that karmada-takeover leaves it
/// to that policy, and that the policy cannot manage the running copies without Overwrite.
pub(super) fn defer_to_application(s: &Subject<'_>, w: &Candidate<'_>, unmanaged: &[&str]) -> Vec<String> {
    let mut warnings = vec![format!(
        "application policy {} selects {}: karmada-takeover leaves it to that policy",
        w.display(),
        s.shown()
    )];
    let overwrites = w.policy.spec.conflict_resolution == Some(ConflictResolution::Overwrite)
        || s.annotations
            .get(keys::CONFLICT_RESOLUTION)
            .is_some_and(|v| v == keys::CONFLICT_RESOLUTION_OVERWRITE);
    if !overwrites && !unmanaged.is_empty() {
        warnings.push(format!(
            "{} has conflictResolution Abort but {} already runs in {}: Karmada will refuse to manage those copies; \
             set conflictResolution: Overwrite on the policy or annotate the template with {}: overwrite",
            w.display(),
            s.shown(),
            unmanaged.join(", "),
            keys::CONFLICT_RESOLUTION
        ));
    }
    warnings
}

/// `None` when `policy` would claim the template by Karmada's rules once it exists; otherwise
/// the warning that says which policy keeps it and why.
pub(super) fn would_not_claim<'f>(
    s: &Subject<'_>,
    template: &Template<'f>,
    policy: &'f Policy,
    source: impl PolicySource<'f>,
    gate: bool,
) -> Option<String> {
    let with_ours = WithPolicy {
        source,
        extra: policy,
    };
    let ours_wins = claim::resolve_with(template, &with_ours, gate, false)
        .winner()
        .is_some_and(|w| std::ptr::eq(w.policy, policy));
    if ours_wins {
        return None;
    }
    let after = claim::resolve(template, &with_ours, gate);
    let (holder, why) = after
        .winner()
        .map_or(("no policy".to_owned(), String::new()), |w| {
            (w.display(), w.verdict.clone())
        });
    Some(format!(
        "takeover policy {} would not claim {}: {holder} keeps it ({why}); no takeover policy was created",
        display_policy(
            policy.policy_kind().unwrap_or(PolicyKind::PropagationPolicy),
            policy.namespace(),
            policy.name()
        ),
        s.shown()
    ))
}

/// The warning when a policy other than ours would claim the template as it stands: Karmada's
/// detector claims it with that policy as soon as it sees the template, so a takeover policy
/// created after this review would never win; karmada-takeover creates none and says what that
/// policy will do to the running copies. `None` when no policy, or only our own takeover policy
/// for this template, would claim it.
pub(super) fn existing_claimant(
    s: &Subject<'_>,
    resolved: &claim::Resolution<'_>,
    unmanaged: &[&str],
) -> Option<String> {
    let w = resolved.winner()?;
    let ours = names::takeover_policy_name(s.namespace, s.name, s.api_version, s.kind);
    if w.policy.is_ours() && w.policy.name() == ours {
        return None;
    }
    let annotation = s.annotations.get(keys::CONFLICT_RESOLUTION).map(String::as_str);
    let overwrites = match annotation {
        Some(keys::CONFLICT_RESOLUTION_OVERWRITE) => true,
        Some(keys::CONFLICT_RESOLUTION_ABORT) => false,
        _ => w.policy.spec.conflict_resolution == Some(ConflictResolution::Overwrite),
    };
    let running = if unmanaged.is_empty() {
        String::new()
    } else if overwrites {
        format!(
            "; it overwrites the copies running in {} with the template (conflictResolution Overwrite), \
             unchecked by the restart guard",
            unmanaged.join(", ")
        )
    } else {
        format!(
            "; it aborts on the copies running in {} (conflictResolution Abort): Karmada will not manage them",
            unmanaged.join(", ")
        )
    };
    Some(format!(
        "{} already selects {} and claims it as soon as Karmada sees it, so karmada-takeover created no takeover \
         policy{running}",
        w.display(),
        s.shown()
    ))
}

/// The application policy that claims the template, or would claim it now, by Karmada's rules
/// (claim resolution without our takeover policy): karmada-takeover leaves such a template to it,
/// never competing on admission and never re-creating a takeover policy released for it.
pub fn application_winner<'f>(
    template: &Template<'f>,
    fleet: &'f impl FleetView,
    preemption_gate: bool,
) -> Option<claim::Candidate<'f>> {
    application_claimant(&claim::resolve_with(template, &fleet, preemption_gate, false)).cloned()
}

/// [`application_winner`] from a claim resolution already made.
pub(super) fn application_claimant<'r, 'f>(resolved: &'r claim::Resolution<'f>) -> Option<&'r Candidate<'f>> {
    resolved
        .winner()
        .filter(|w| tier_of(w.policy) == Tier::Application)
}

/// One template's candidate policies, looked up in the fleet once. A takeover resolves the
/// claim on its template twice (as the fleet stands, then with its own policy added): both
/// resolutions read this list instead of the fleet's index, which builds a lookup key per label
/// of the template and policy kind. Only valid for the template it was looked up for.
pub(super) struct LookedUp<'f, F: ?Sized> {
    fleet: &'f F,
    candidates: Vec<&'f Policy>,
    /// The template's identity, to catch a use for another template in debug builds (tests).
    #[cfg(debug_assertions)]
    identity: String,
}

/// What [`LookedUp`] checks a template against in debug builds.
#[cfg(debug_assertions)]
fn identity(t: &Template<'_>) -> String {
    format!("{} {} {}/{}", t.api_version, t.kind, t.namespace, t.name)
}

impl<'f, F: FleetView + ?Sized> LookedUp<'f, F> {
    /// Looks up the candidates of `template`.
    pub(super) fn new(fleet: &'f F, template: &Template<'_>) -> Self {
        Self {
            fleet,
            candidates: (&fleet).candidates(template),
            #[cfg(debug_assertions)]
            identity: identity(template),
        }
    }
}

impl<'f, F: FleetView + ?Sized> PolicySource<'f> for LookedUp<'f, F> {
    fn candidates(&self, t: &Template<'_>) -> Vec<&'f Policy> {
        #[cfg(debug_assertions)]
        debug_assert_eq!(
            self.identity,
            identity(t),
            "candidates looked up for another template"
        );
        #[cfg(not(debug_assertions))]
        let _ = t;
        self.candidates.clone()
    }

    fn get(&self, kind: PolicyKind, namespace: &str, name: &str) -> Option<&'f Policy> {
        self.fleet.policy(kind, namespace, name)
    }
}

/// The policies of a source plus one more (replacing any policy of the same identity): "what if
/// this policy existed?"
pub struct WithPolicy<'f, S> {
    /// The policies there are: the fleet, or its candidates looked up once (`LookedUp`).
    pub source: S,
    /// The extra policy.
    pub extra: &'f Policy,
}

impl<S> WithPolicy<'_, S> {
    fn is_extra(&self, kind: PolicyKind, namespace: &str, name: &str) -> bool {
        self.extra.policy_kind() == Some(kind)
            && self.extra.namespace() == namespace
            && self.extra.name() == name
    }
}

impl<'f, S: PolicySource<'f>> PolicySource<'f> for WithPolicy<'f, S> {
    fn candidates(&self, t: &Template<'_>) -> Vec<&'f Policy> {
        let mut out = self.source.candidates(t);
        out.retain(|p| {
            !p.policy_kind()
                .is_some_and(|k| self.is_extra(k, p.namespace(), p.name()))
        });
        out.push(self.extra);
        out
    }

    fn get(&self, kind: PolicyKind, namespace: &str, name: &str) -> Option<&'f Policy> {
        if self.is_extra(kind, namespace, name) {
            Some(self.extra)
        } else {
            self.source.get(kind, namespace, name)
        }
    }
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;
    use crate::rules::claim::Template;
    use crate::{
        fleet::Fleet,
        karmada::keys,
        rules::testing::{PolicyExt, SelectorExt, cpp, deploy, pp},
    };

    fn fleet_with(policies: Vec<Policy>) -> Fleet {
        let mut f = Fleet::synced_empty();
        for p in policies {
            f.upsert_policy(p);
        }
        f
    }

    #[rstest]
    #[case::no_policy(vec![], None)]
    #[case::only_a_batch_policy(vec![pp("shop", "batch", Some(0), vec![deploy()])], None)]
    #[case::a_named_application_policy(vec![pp("shop", "app", Some(1), vec![deploy().named("web")])], Some("app"))]
    #[case::application_beats_batch(
        vec![pp("shop", "batch", Some(0), vec![deploy()]), pp("shop", "app", Some(1), vec![deploy().named("web")])],
        Some("app")
    )]
    #[case::batch_outranks_a_weak_application_policy(
        vec![pp("shop", "batch", Some(5), vec![deploy()]), pp("shop", "app", Some(1), vec![deploy().named("web")])],
        None
    )]
    #[case::a_labelled_application_cpp(
        vec![cpp("app", Some(0), vec![deploy()]).label(keys::TIER, "application")],
        Some("app")
    )]
    #[case::another_namespaces_policy(vec![pp("other", "app", Some(1), vec![deploy().named("web")])], None)]
    fn the_application_winner_is_the_application_policy_karmada_lets_claim(
        #[case] policies: Vec<Policy>,
        #[case] want: Option<&str>,
    ) {
        let fleet = fleet_with(policies);
        let t = Template::new("apps/v1", "Deployment", "shop", "web", None, None);
        assert_eq!(application_winner(&t, &fleet, false).map(|w| w.name), want);
        // The takeover's path: the candidates looked up once resolve as the fleet does.
        let looked_up = LookedUp::new(&fleet, &t);
        let resolved = claim::resolve_with(&t, &looked_up, false, false);
        assert_eq!(application_claimant(&resolved).map(|w| w.name), want);
        assert_eq!(
            resolved.winner().map(|w| w.name),
            claim::resolve_with(&t, &&fleet, false, false)
                .winner()
                .map(|w| w.name)
        );
    }

    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "candidates looked up for another template")]
    fn looked_up_candidates_serve_only_their_template() {
        let fleet = fleet_with(vec![pp("shop", "app", Some(1), vec![deploy().named("web")])]);
        let web = Template::new("apps/v1", "Deployment", "shop", "web", None, None);
        let api = Template::new("apps/v1", "Deployment", "shop", "api", None, None);
        let looked_up = LookedUp::new(&fleet, &web);
        let _ = claim::resolve_with(&api, &looked_up, false, false);
    }
}
