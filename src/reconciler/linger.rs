//! The **linger** pass: templates an earlier karmada-takeover version annotated
//! `work.karmada.io/conflict-resolution: overwrite` lose that annotation once an application
//! policy claims them, so the application policy's `conflictResolution` holds (Karmada lets the
//! annotation beat it). The engine decides which templates qualify and builds the patch
//! ([`rules::linger`](crate::rules::linger)); this pass sends it.
//!
//! The JSON patch tests the annotation's value and the claim before it removes the annotation:
//! when a user or Karmada changed either since the fleet view saw the template, the API server
//! rejects it (`changed`) and the next pass decides again. One log line per template changed.
//! Promoted dependencies (ConfigMaps and Secrets with `karmada-takeover.io/skip: "true"`) are
//! left alone; `rules::linger` says why.

use kube::api::{Patch, PatchParams};

use super::{PassReport, Reconciler};
use crate::{
    config::Config,
    fleet::watch::resources,
    karmada::keys,
    rules::{
        linger::{Linger, lingering_overwrite},
        view::TemplateMeta,
    },
    writer::kube::FIELD_MANAGER,
};

impl Reconciler {
    pub(super) async fn linger(&mut self, config: &Config, report: &mut PassReport) {
        let due: Vec<(TemplateMeta, String, json_patch::Patch)> = {
            let fleet = self.fleet.read();
            config
                .kinds
                .iter()
                .flat_map(|k| fleet.templates_of_kind(&k.api_version, &k.kind))
                .filter_map(|t| match lingering_overwrite(t, &*fleet, config) {
                    Linger::Remove { claimant, patch } => {
                        Some((t.clone(), claimant, json_patch::Patch(patch)))
                    }
                    Linger::Keep(_) => None,
                })
                .collect()
        };
        for (t, claimant, patch) in due {
            let object = format!("{} {}/{}", t.kind, t.namespace, t.name);
            let Some(ar) = resources::known(&t.api_version, &t.kind) else {
                continue;
            };
            let api = super::adopt::api(self.client(), &ar, &t.namespace);
            let params = PatchParams {
                field_manager: Some(FIELD_MANAGER.to_owned()),
                ..PatchParams::default()
            };
            let result = tokio::time::timeout(
                self.options.request_timeout,
                api.patch(&t.name, &params, &Patch::<()>::Json(patch)),
            )
            .await;
            match result {
                Ok(Ok(_)) => {
                    self.count(report, "linger", "removed");
                    tracing::info!(
                        action = "linger",
                        result = "removed",
                        object,
                        claimant,
                        annotation = keys::CONFLICT_RESOLUTION,
                        "removed the conflict-resolution overwrite an earlier karmada-takeover version left on the \
                         template: the application policy that claims it now decides whether Karmada overwrites member \
                         copies"
                    );
                }
                // A failed `test`: the annotation or the claim changed since the fleet view saw it.
                Ok(Err(kube::Error::Api(s))) if s.code == 422 || s.code == 409 => {
                    self.record(report, "linger", "changed", &object, None);
                }
                Ok(Err(kube::Error::Api(s))) if s.code == 403 => {
                    let fix = format!(
                        "{}; grant patch on {} in karmada-apiserver (the chart's ClusterRole does), or remove \
                         {} from the template by hand",
                        s.message,
                        ar.plural,
                        keys::CONFLICT_RESOLUTION
                    );
                    self.record(report, "linger", "forbidden", &object, Some(&fix));
                }
                Ok(Err(kube::Error::Api(s))) if s.code == 404 => {
                    self.record(report, "linger", "absent", &object, None);
                }
                Ok(Err(e)) => self.record(report, "linger", "error", &object, Some(&e.to_string())),
                Err(_) => self.record(
                    report,
                    "linger",
                    "timeout",
                    &object,
                    Some("patching the template"),
                ),
            }
        }
    }
}
