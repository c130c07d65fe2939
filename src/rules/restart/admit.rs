//! The guard on a takeover at admission (and in `check`, which decides the same way): the
//! template against each source cluster's copy, then what the configured mode makes of it.

use super::{RestartCheck, RunningCopy, Template, check};
use crate::{
    config::{Config, RestartGuardMode},
    karmada::{api::group_of, keys, markers},
    rules::{view::FleetView, workload::Subject},
};

/// What the guard says about one takeover.
pub(in crate::rules) struct Guarded {
    /// The findings, when anything was compared.
    pub(in crate::rules) check: Option<RestartCheck>,
    /// Warnings to add to an admitted takeover.
    pub(in crate::rules) warnings: Vec<String>,
    /// The denial message, when the guard stops the takeover.
    pub(in crate::rules) denial: Option<String>,
}

/// Whether Karmada will keep each member's replica count: a Deployment template that carries
/// `resourcetemplate.karmada.io/retain-replicas: "true"`, or gets it from the takeover's patch
/// (`add_label`: the template does not set the label at all).
pub(in crate::rules) fn retains_replicas(s: &Subject<'_>) -> (bool, bool) {
    let is_deployment = s.api_version == "apps/v1" && s.kind == "Deployment";
    match s.labels.get(keys::RETAIN_REPLICAS) {
        Some(v) => (is_deployment && v == keys::RETAIN_REPLICAS_TRUE, false),
        None => (is_deployment, is_deployment),
    }
}

/// Runs the guard for a takeover of `s` from `clusters`.
pub(in crate::rules) fn guard(
    s: &Subject<'_>,
    clusters: &[String],
    retain_replicas: bool,
    fleet: &impl FleetView,
    config: &Config,
) -> Guarded {
    let none = Guarded {
        check: None,
        warnings: Vec::new(),
        denial: None,
    };
    if config.restart_guard == RestartGuardMode::Off {
        return none;
    }
    let Some(template) = Template::of(s.api_version, s.kind, s.body) else {
        return none;
    };
    let running = fleet.running_copies(group_of(s.api_version), s.kind, s.namespace, s.name);
    let copies: Vec<(&str, Option<&RunningCopy>)> = clusters
        .iter()
        .map(|c| {
            (
                c.as_str(),
                running.iter().find(|(rc, _)| rc == c).map(|(_, r)| *r),
            )
        })
        .collect();
    let found = check(&template, retain_replicas, &copies);
    let allow_rollout = markers::allows_rollout(s.annotations);
    let mut warnings = Vec::new();
    let mut denial = None;
    let disruptive: Vec<String> = found
        .verdicts
        .iter()
        .filter(|v| v.outcome.blocks(false))
        .map(|v| v.describe())
        .collect();
    let disagree = (!found.disagreements.is_empty()).then(|| {
        format!(
            "The copies in the source clusters differ from each other, so one template cannot match them all: {}",
            found.disagreements.join("; ")
        )
    });
    if !disruptive.is_empty() || disagree.is_some() {
        let what = disruptive
            .iter()
            .cloned()
            .chain(disagree.clone())
            .collect::<Vec<_>>()
            .join(". ");
        let blocks = found.blocks(allow_rollout);
        if blocks && config.restart_guard == RestartGuardMode::Enforce {
            denial = Some(format!(
                "restart guard: taking over {} as applied would disrupt what runs. {what}. {}",
                s.shown(),
                advice(s, &found, allow_rollout)
            ));
        } else {
            let why = if allow_rollout && !blocks {
                format!("{}: \"true\" accepts it", keys::ALLOW_ROLLOUT)
            } else {
                "restartGuard: warn".to_owned()
            };
            warnings.push(format!(
                "restart guard: taking over {} changes what runs ({why}). {what}",
                s.shown()
            ));
        }
    }
    for v in &found.verdicts {
        match v.outcome {
            super::Outcome::SpecDiffers => {
                warnings.push(format!("restart guard: {} in {}", s.shown(), v.describe()))
            }
            super::Outcome::NotSeen => warnings.push(format!(
                "restart guard: the spec of {} in {} was not seen, so it was not compared with the template",
                s.shown(),
                v.cluster
            )),
            _ => {}
        }
        if let Some(r) = v.replicas
            && r.retained
            && r.running.is_some()
            && r.template != r.running
        {
            warnings.push(format!(
                "{} runs {} replicas in {} and the template says {}: Karmada keeps {}'s count ({}={}), nothing is \
                 rescaled",
                s.shown(),
                r.running.unwrap_or_default(),
                v.cluster,
                r.template.map_or_else(|| "none".to_owned(), |n| n.to_string()),
                v.cluster,
                keys::RETAIN_REPLICAS,
                keys::RETAIN_REPLICAS_TRUE
            ));
        }
    }
    Guarded {
        check: Some(found),
        warnings,
        denial,
    }
}

/// What to do about a denial.
fn advice(s: &Subject<'_>, found: &RestartCheck, allow_rollout: bool) -> String {
    let immutable = found
        .verdicts
        .iter()
        .any(|v| v.outcome == super::Outcome::ImmutableFieldDiffers);
    let first = found
        .verdicts
        .iter()
        .find(|v| v.outcome.blocks(false))
        .map_or("the member cluster", |v| v.cluster.as_str());
    let get = if s.namespace.is_empty() {
        format!(
            "kubectl --context {first} get {} {} -o yaml",
            s.kind.to_lowercase(),
            s.name
        )
    } else {
        format!(
            "kubectl --context {first} -n {} get {} {} -o yaml",
            s.namespace,
            s.kind.to_lowercase(),
            s.name
        )
    };
    if immutable || allow_rollout {
        format!(
            "Apply what runs instead (see `{get}`): an immutable field cannot be changed by a takeover, \
             whatever {} says",
            keys::ALLOW_ROLLOUT
        )
    } else {
        format!(
            "Apply what runs instead (see `{get}`), take over one cluster at a time with {}, or annotate the \
             template with {}: \"true\" to accept the change",
            keys::CLUSTERS,
            keys::ALLOW_ROLLOUT
        )
    }
}

/// How the source clusters' copies of a ConfigMap or Secret differ from the first one's (empty
/// when they agree): Karmada can carry only one copy, so the others' mounted files would change.
/// Names the keys, never the values.
pub fn dependency_disagreements(copies: &[(&str, &RunningCopy)]) -> Vec<String> {
    let Some(((first, base), rest)) = copies.split_first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (cluster, copy) in rest {
        let paths: Vec<String> = super::compare_copies(base, copy)
            .iter()
            .map(|d| d.path.to_string())
            .collect();
        if !paths.is_empty() {
            out.push(format!(
                "{} differ between {first} and {cluster}",
                paths.join(", ")
            ));
        }
    }
    out
}

/// What a takeover would change in the ConfigMaps and Secrets its pods mount, one message per
/// dependency, and which kinds of difference there are (the advice differs).
#[derive(Debug, Default)]
pub(in crate::rules) struct ConfigConflicts {
    /// One message per dependency.
    pub(in crate::rules) messages: Vec<String>,
    /// A dependency not in Karmada whose copies in the source clusters differ.
    pub(in crate::rules) members_differ: bool,
    /// A dependency in Karmada whose copy differs from the source clusters'.
    pub(in crate::rules) karmada_differs: bool,
}

/// The denial for dependencies whose copies differ, under `enforce` and without
/// `karmada-takeover.io/allow-rollout: "true"`; `None` otherwise (they become warnings). The
/// advice names what resolves each kind of difference found.
pub(in crate::rules) fn conflicts_denial(
    s: &Subject<'_>,
    conflicts: &ConfigConflicts,
    config: &Config,
) -> Option<String> {
    let allow_rollout = markers::allows_rollout(s.annotations);
    if conflicts.messages.is_empty() || allow_rollout || config.restart_guard != RestartGuardMode::Enforce {
        return None;
    }
    let mut fixes = Vec::new();
    if conflicts.members_differ {
        fixes.push(
            "make the source clusters' copies equal, or create the object in Karmada yourself with the content \
             every cluster should get",
        );
    }
    if conflicts.karmada_differs {
        fixes.push("edit the copy in Karmada to what the source clusters run");
    }
    Some(format!(
        "restart guard: taking over {} would change the config of running pods. {}. To go on: {}; or annotate the \
         template with {}: \"true\" to accept the change",
        s.shown(),
        conflicts.messages.join(". "),
        fixes.join("; "),
        keys::ALLOW_ROLLOUT
    ))
}
