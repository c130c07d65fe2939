//! The **ensure** pass: every template the webhook adopted has its takeover policy, unless it
//! opted out or an application policy claims or would claim it (it was released on purpose).

use super::{Adopted, PassReport, Reconciler};
use crate::{
    config::Config,
    karmada::{
        PolicyKind, keys,
        markers::{self},
    },
    rules::{
        claim::{self},
        takeover::{application_winner, takeover_policy},
        workload::parse_clusters,
    },
    writer::kube::{Written, ensure_policy},
};

impl Reconciler {
    pub(super) fn adopted(&self, config: &Config) -> Vec<Adopted> {
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
                    policy_name: policy_name.to_owned(),
                    policy_kind,
                    policy,
                    policy_exists,
                    left_alone,
                });
            }
        }
        out
    }

    pub(super) async fn ensure(&mut self, adopted: &[Adopted], report: &mut PassReport) {
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
}
