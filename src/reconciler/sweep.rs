//! The **sweep** pass (off by default): templates that existed before the webhook, unclaimed and
//! running unmanaged in members, get the decision admission would have made on CREATE.

use super::{
    PassReport, Reconciler,
    adopt::{AdoptError, TemplateWrite, take_over},
};
use crate::{
    config::Config,
    fleet::watch::resources,
    karmada::{
        keys,
        markers::{self},
    },
    rules::{self, view::TemplateMeta},
};

impl Reconciler {
    pub(super) async fn sweep(&mut self, config: &Config, report: &mut PassReport) {
        let candidates: Vec<TemplateMeta> = {
            let fleet = self.fleet.read();
            config
                .kinds
                .iter()
                .flat_map(|k| fleet.templates_of_kind(&k.api_version, &k.kind))
                .filter(|t| {
                    !t.annotations.contains_key(keys::POLICY)
                        && t.as_template().claim().is_none()
                        && !markers::opted_out(&t.labels, &t.annotations)
                        && (t.namespace.is_empty() || config.namespace_allowed(&t.namespace))
                        && fleet
                            .member_copies(
                                crate::karmada::api::group_of(&t.api_version),
                                &t.kind,
                                &t.namespace,
                                &t.name,
                            )
                            .iter()
                            .any(|(_, managed)| !managed)
                })
                .cloned()
                .collect()
        };
        for t in candidates {
            let object = format!("{} {}/{}", t.kind, t.namespace, t.name);
            let Some(ar) = resources::known(&t.api_version, &t.kind) else {
                continue;
            };
            let api = super::adopt::api(self.client(), &ar, &t.namespace);
            let obj = match tokio::time::timeout(self.options.request_timeout, api.get_opt(&t.name)).await {
                Ok(Ok(Some(obj))) => obj,
                Ok(Ok(None)) => continue,
                Ok(Err(e)) => {
                    self.record(report, "sweep", "error", &object, Some(&e.to_string()));
                    continue;
                }
                Err(_) => {
                    self.record(report, "sweep", "timeout", &object, None);
                    continue;
                }
            };
            // The decision admission would have made on CREATE, carried out as `adopt` carries it
            // out: the policy first, then the template (patched in place: it exists already).
            let decision =
                rules::adopt::decide_create(&t.api_version, &t.kind, &obj, &*self.fleet.read(), config);
            let (true, Some(policy)) = (decision.allowed(), rules::adopt::takeover_policy(&decision)) else {
                self.record(report, "sweep", "not-adopted", &object, None);
                continue;
            };
            // A failure between the policy and the patch leaves a policy the next pass's gc or
            // ensure sorts out.
            let result = take_over(
                self.client(),
                &ar,
                &t.namespace,
                &t.name,
                Some(policy),
                TemplateWrite::Patch(&decision.patch),
                self.options.request_timeout,
            )
            .await;
            match result {
                Ok(_) => self.record(report, "sweep", "adopted", &object, None),
                Err(AdoptError::Timeout { .. }) => self.record(report, "sweep", "timeout", &object, None),
                Err(AdoptError::Policy { source, .. }) => self.record(
                    report,
                    "sweep",
                    source.label(),
                    &object,
                    Some(&source.to_string()),
                ),
                Err(e) => self.record(report, "sweep", "error", &object, Some(&e.to_string())),
            }
        }
    }
}
