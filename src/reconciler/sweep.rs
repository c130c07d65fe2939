//! The **sweep** pass (off by default): templates that existed before the webhook, unclaimed and
//! running unmanaged in members, get the decision admission would have made on CREATE.

use kube::{
    Api,
    api::{Patch, PatchParams},
    core::{DynamicObject, admission::Operation},
};

use super::{PassReport, Reconciler};
use crate::{
    config::Config,
    fleet::watch::resources,
    karmada::{
        keys,
        markers::{self},
    },
    rules::{self, Action, Review, Webhook, view::TemplateMeta},
    writer::kube::ensure_policy,
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
            let api: Api<DynamicObject> = if t.namespace.is_empty() {
                Api::all_with(self.client().clone(), &ar)
            } else {
                Api::namespaced_with(self.client().clone(), &t.namespace, &ar)
            };
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
            let decision = {
                let fleet = self.fleet.read();
                let review = Review {
                    operation: Operation::Create,
                    api_version: t.api_version.clone(),
                    kind: &t.kind,
                    namespace: &t.namespace,
                    name: &t.name,
                    object: Some(&obj),
                    old_object: None,
                    dry_run: false,
                };
                rules::decide(Webhook::MutateWorkload, &review, &*fleet, config)
            };
            let policy = decision.actions.iter().find_map(|a| match a {
                Action::EnsurePolicy { policy } => Some(policy),
                Action::ReleasePolicy { .. } => None,
            });
            let (true, Some(policy)) = (decision.allowed(), policy) else {
                self.record(report, "sweep", "not-adopted", &object, None);
                continue;
            };
            // Policy first, then the annotations that record the adoption (a failure in
            // between leaves a policy the next pass's gc or ensure sorts out).
            if let Err(e) = ensure_policy(self.client(), policy, self.options.request_timeout).await {
                self.record(report, "sweep", e.label(), &object, Some(&e.to_string()));
                continue;
            }
            let patch = json_patch::Patch(decision.patch.clone());
            let result = tokio::time::timeout(
                self.options.request_timeout,
                api.patch(&t.name, &PatchParams::default(), &Patch::<()>::Json(patch)),
            )
            .await;
            match result {
                Ok(Ok(_)) => self.record(report, "sweep", "adopted", &object, None),
                Ok(Err(e)) => self.record(report, "sweep", "error", &object, Some(&e.to_string())),
                Err(_) => self.record(report, "sweep", "timeout", &object, None),
            }
        }
    }
}
