//! The **release** and **gc** passes: takeover policies an application policy should take
//! templates from (preemption gate off), and ours whose template has been gone for the grace
//! period, are deleted. Member workloads are never touched.

use std::{collections::HashSet, time::Instant};

use super::{PassReport, Reconciler};
use crate::{
    config::Config,
    karmada::{PolicyKind, keys, markers::TemplateRef},
    rules::{
        guardrails,
        tier::{Tier, classify},
    },
    writer::kube::{Written, release_policy},
};

impl Reconciler {
    pub(super) async fn release(&mut self, config: &Config, report: &mut PassReport) {
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

    pub(super) async fn gc(&mut self, config: &Config, report: &mut PassReport) {
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
                }) = p.annotations().get(keys::TEMPLATE).and_then(TemplateRef::parse)
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
}
