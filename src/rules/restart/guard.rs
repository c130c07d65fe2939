//! The verdict per source cluster, and the words for it.

use serde::Serialize;

use super::{Difference, Effect, RunningCopy, Template, compare, compare_copies};

/// What a takeover would do to the copy in one source cluster: the label of
/// `karmada_takeover_restart_guard_total` and of `check -o json`. Ordered from harmless to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Nothing changes: Karmada adopts the copy as it runs.
    Equal,
    /// The member copy's spec was not seen (the index holds no spec for it): nothing compared.
    NotSeen,
    /// Fields outside the pod template are overwritten, with no restart.
    SpecDiffers,
    /// ConfigMap or Secret data changes under running pods.
    ConfigDiffers,
    /// A Service's selector or ports change.
    ServiceDiffers,
    /// A Service's node ports change.
    NodePortsDiffer,
    /// The replica count changes.
    ReplicasDiffer,
    /// The pod template changes: every pod is replaced.
    PodTemplateDiffers,
    /// An immutable field differs: the update fails, nothing is adopted.
    ImmutableFieldDiffers,
}

impl Outcome {
    /// Metric label.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Equal => "equal",
            Outcome::NotSeen => "not-seen",
            Outcome::SpecDiffers => "spec-differs",
            Outcome::ConfigDiffers => "config-differs",
            Outcome::ServiceDiffers => "service-differs",
            Outcome::NodePortsDiffer => "node-ports-differ",
            Outcome::ReplicasDiffer => "replicas-differ",
            Outcome::PodTemplateDiffers => "pod-template-differs",
            Outcome::ImmutableFieldDiffers => "immutable-field-differs",
        }
    }

    /// Every outcome, for metric registration.
    pub const ALL: [Outcome; 9] = [
        Outcome::Equal,
        Outcome::NotSeen,
        Outcome::SpecDiffers,
        Outcome::ConfigDiffers,
        Outcome::ServiceDiffers,
        Outcome::NodePortsDiffer,
        Outcome::ReplicasDiffer,
        Outcome::PodTemplateDiffers,
        Outcome::ImmutableFieldDiffers,
    ];

    fn of(effect: Effect) -> Self {
        match effect {
            Effect::Overwritten => Outcome::SpecDiffers,
            Effect::Config => Outcome::ConfigDiffers,
            Effect::Service => Outcome::ServiceDiffers,
            Effect::NodePorts => Outcome::NodePortsDiffer,
            Effect::Rollout => Outcome::PodTemplateDiffers,
            Effect::Immutable => Outcome::ImmutableFieldDiffers,
        }
    }

    /// Whether the guard stops the takeover for it (under `enforce`); `allow_rollout` accepts
    /// every change a takeover can carry out, never an immutable field (that update fails).
    pub fn blocks(self, allow_rollout: bool) -> bool {
        match self {
            Outcome::Equal | Outcome::NotSeen | Outcome::SpecDiffers => false,
            Outcome::ImmutableFieldDiffers => true,
            _ => !allow_rollout,
        }
    }

    /// What it does, in words.
    fn consequence(self) -> &'static str {
        match self {
            Outcome::Equal => "nothing changes",
            Outcome::NotSeen => "its spec was not seen, so nothing was compared",
            Outcome::SpecDiffers => "fields outside the pod template would be overwritten (no restart)",
            Outcome::ConfigDiffers => "its data would change under the running pods",
            Outcome::ServiceDiffers => "the Service's selector or ports would change",
            Outcome::NodePortsDiffer => "the node ports clients use would change",
            Outcome::ReplicasDiffer => "the takeover would rescale it",
            Outcome::PodTemplateDiffers => {
                "the pod template differs, so the takeover would replace every pod"
            }
            Outcome::ImmutableFieldDiffers => {
                "an immutable field differs, so Karmada's update would fail and nothing would be adopted"
            }
        }
    }
}

/// Replica counts of one copy against the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Replicas {
    /// The template's `spec.replicas`.
    pub template: Option<i64>,
    /// The member copy's.
    pub running: Option<i64>,
    /// Karmada keeps the member's count (`resourcetemplate.karmada.io/retain-replicas`).
    pub retained: bool,
}

/// The guard's verdict for one source cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CopyVerdict {
    /// The member cluster.
    pub cluster: String,
    /// The worst that would happen there.
    pub outcome: Outcome,
    /// Replica counts, for kinds that have them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replicas: Option<Replicas>,
    /// The fields that differ.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<Difference>,
}

impl CopyVerdict {
    /// `member1: <consequence>: path: template "a", running "b"; ...`
    pub fn describe(&self) -> String {
        const SHOWN: usize = 6;
        let mut items: Vec<String> = Vec::new();
        if let Some(r) = self.replicas.filter(|r| !r.retained && r.template != r.running) {
            items.push(format!(
                "spec.replicas: template {}, running {}",
                count(r.template),
                count(r.running)
            ));
        }
        let mut diffs: Vec<&Difference> = self.differences.iter().collect();
        diffs.sort_by(|a, b| b.effect.cmp(&a.effect).then_with(|| a.path.cmp(&b.path)));
        items.extend(diffs.iter().take(SHOWN).map(|d| d.describe()));
        if diffs.len() > SHOWN {
            items.push(format!("and {} more", diffs.len() - SHOWN));
        }
        if items.is_empty() {
            format!("{}: {}", self.cluster, self.outcome.consequence())
        } else {
            format!(
                "{}: {} ({})",
                self.cluster,
                self.outcome.consequence(),
                items.join("; ")
            )
        }
    }
}

fn count(n: Option<i64>) -> String {
    n.map_or_else(|| "(not set)".to_owned(), |n| n.to_string())
}

/// The guard's findings for one takeover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestartCheck {
    /// One verdict per source cluster, in cluster order.
    pub verdicts: Vec<CopyVerdict>,
    /// How the source clusters' copies differ from each other (empty when they agree): one
    /// template cannot equal them all.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub disagreements: Vec<String>,
}

impl RestartCheck {
    /// The worst outcome over every source cluster.
    pub fn worst(&self) -> Outcome {
        self.verdicts
            .iter()
            .map(|v| v.outcome)
            .max()
            .unwrap_or(Outcome::Equal)
    }

    /// Whether the guard stops the takeover under `enforce`.
    pub fn blocks(&self, allow_rollout: bool) -> bool {
        self.verdicts.iter().any(|v| v.outcome.blocks(allow_rollout))
            || (!allow_rollout && !self.disagreements.is_empty())
    }
}

/// Compares the template (`template`, with `retain_replicas` when Karmada will keep each member's
/// count) with the copy in each source cluster (`None`: the index holds no spec for that copy).
pub fn check(
    template: &Template<'_>,
    retain_replicas: bool,
    copies: &[(&str, Option<&RunningCopy>)],
) -> RestartCheck {
    let verdicts = copies
        .iter()
        .map(|(cluster, copy)| verdict(template, retain_replicas, cluster, *copy))
        .collect();
    RestartCheck {
        verdicts,
        disagreements: disagreements(retain_replicas, copies),
    }
}

fn verdict(
    template: &Template<'_>,
    retain_replicas: bool,
    cluster: &str,
    copy: Option<&RunningCopy>,
) -> CopyVerdict {
    let Some(copy) = copy else {
        return CopyVerdict {
            cluster: cluster.to_owned(),
            outcome: Outcome::NotSeen,
            replicas: None,
            differences: Vec::new(),
        };
    };
    let differences = if template.digest == copy.digest() {
        Vec::new()
    } else {
        compare(template.fields(), copy)
    };
    let running = copy.replicas();
    let replicas = (template.replicas.is_some() || running.is_some()).then_some(Replicas {
        template: template.replicas,
        running,
        retained: retain_replicas,
    });
    let mut outcome = differences
        .iter()
        .map(|d| Outcome::of(d.effect))
        .max()
        .unwrap_or(Outcome::Equal);
    // A count the API server has not defaulted (None) on either side is not a difference.
    if let Some(r) = replicas
        && !r.retained
        && r.template.is_some()
        && r.running.is_some()
        && r.template != r.running
    {
        outcome = outcome.max(Outcome::ReplicasDiffer);
    }
    CopyVerdict {
        cluster: cluster.to_owned(),
        outcome,
        replicas,
        differences,
    }
}

/// What the source clusters' copies run where they differ from the first one's.
fn disagreements(retain_replicas: bool, copies: &[(&str, Option<&RunningCopy>)]) -> Vec<String> {
    let seen: Vec<(&str, &RunningCopy)> = copies.iter().filter_map(|(c, r)| r.map(|r| (*c, r))).collect();
    let Some(((first, base), rest)) = seen.split_first() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (cluster, copy) in rest {
        if !retain_replicas && base.replicas() != copy.replicas() {
            out.push(format!(
                "spec.replicas: {first} runs {}, {cluster} runs {}",
                count(base.replicas()),
                count(copy.replicas())
            ));
        }
        for d in compare_copies(base, copy) {
            let side = |v: &Option<super::PartValue>| {
                v.as_ref()
                    .map_or_else(|| "(not set)".to_owned(), super::PartValue::display)
            };
            out.push(format!(
                "{}: {first} runs {}, {cluster} runs {}",
                d.path,
                side(&d.template),
                side(&d.running)
            ));
        }
    }
    out
}
