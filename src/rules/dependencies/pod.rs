//! The references of a pod spec, as Karmada's `helper.GetDependenciesFromPodTemplate`
//! (`pkg/util/helper/pod.go`) finds them with the visitors of `pkg/util/lifted/visitpod.go`
//! (lifted from Kubernetes `pkg/api/v1/pod/util.go`, release-1.26). The fields are read with the
//! rules of Karmada's typed conversion ([`super::decode`]).

use std::collections::BTreeSet;

use super::decode::{At, Obj, ShapeError, child, field, list, name_in, name_ref, object, string};
use crate::rules::json::Json;

/// The names a pod spec references, by kind, each set sorted, without empty names.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct PodReferences {
    /// `getConfigMapNames`.
    pub config_maps: BTreeSet<String>,
    /// `getSecretNames`.
    pub secrets: BTreeSet<String>,
    /// `getServiceAccountNames`.
    pub service_accounts: BTreeSet<String>,
    /// `getPVCNames`.
    pub claims: BTreeSet<String>,
}

/// `skipEmptyNames` in visitpod.go (and `len(claimName) != 0` in `getPVCNames`).
fn insert(set: &mut BTreeSet<String>, name: &str) {
    if !name.is_empty() {
        set.insert(name.to_owned());
    }
}

/// The references of the `corev1.PodSpec` at `spec` (`None`: a zero spec).
pub(super) fn references(spec: Obj<'_>, at: &At<'_>) -> Result<PodReferences, ShapeError> {
    let mut r = PodReferences::default();

    // `imagePullSecrets`: the first thing `VisitPodSecretNames` visits.
    let pulls_at = at.key("imagePullSecrets");
    for (i, item) in list(field(spec, "imagePullSecrets"), &pulls_at)?.enumerate() {
        let item_at = pulls_at.index(i);
        let item = object(Some(item), &item_at)?;
        insert(&mut r.secrets, string(field(item, "name"), &item_at.key("name"))?);
    }

    // `VisitContainers(&pod.Spec, AllContainers, ...)`: init, regular, then ephemeral containers
    // (`EphemeralContainer` inlines `EphemeralContainerCommon`, which has a container's fields).
    for group in ["initContainers", "containers", "ephemeralContainers"] {
        let group_at = at.key(group);
        for (i, c) in list(field(spec, group), &group_at)?.enumerate() {
            let c_at = group_at.index(i);
            container(object(Some(c), &c_at)?, &c_at, &mut r)?;
        }
    }

    let volumes_at = at.key("volumes");
    for (i, v) in list(field(spec, "volumes"), &volumes_at)?.enumerate() {
        let v_at = volumes_at.index(i);
        volume(object(Some(v), &v_at)?, &v_at, &mut r)?;
    }

    // `getServiceAccountNames`: `serviceAccountName` unless empty or `default`; the deprecated
    // `serviceAccount` field is not read.
    let sa = string(field(spec, "serviceAccountName"), &at.key("serviceAccountName"))?;
    if sa != "default" {
        insert(&mut r.service_accounts, sa);
    }
    Ok(r)
}

/// `visitContainerSecretNames` and `visitContainerConfigmapNames`: `envFrom[].secretRef` /
/// `configMapRef`, `env[].valueFrom.secretKeyRef` / `configMapKeyRef`.
fn container(c: Obj<'_>, at: &At<'_>, r: &mut PodReferences) -> Result<(), ShapeError> {
    let from_at = at.key("envFrom");
    for (i, e) in list(field(c, "envFrom"), &from_at)?.enumerate() {
        let e_at = from_at.index(i);
        let e = object(Some(e), &e_at)?;
        if let Some(name) = name_ref(e, "configMapRef", "name", &e_at)? {
            insert(&mut r.config_maps, name);
        }
        if let Some(name) = name_ref(e, "secretRef", "name", &e_at)? {
            insert(&mut r.secrets, name);
        }
    }
    let env_at = at.key("env");
    for (i, e) in list(field(c, "env"), &env_at)?.enumerate() {
        let e_at = env_at.index(i);
        let from_at = e_at.key("valueFrom");
        let from = child(object(Some(e), &e_at)?, "valueFrom", &e_at)?;
        if let Some(name) = name_ref(from, "configMapKeyRef", "name", &from_at)? {
            insert(&mut r.config_maps, name);
        }
        if let Some(name) = name_ref(from, "secretKeyRef", "name", &from_at)? {
            insert(&mut r.secrets, name);
        }
    }
    Ok(())
}

/// The sources of a volume this module reads, found in one pass over its fields: a volume has two
/// or three, and looking thirteen sources up one by one cost several times as much (most are
/// absent, and in sonic-rs's tree every miss reads every field). A repeated key keeps its last
/// value, as serde_json's map does.
#[derive(Default)]
struct Sources<'v> {
    azure_file: Option<Json<'v>>,
    cephfs: Option<Json<'v>>,
    cinder: Option<Json<'v>>,
    flex_volume: Option<Json<'v>>,
    projected: Option<Json<'v>>,
    rbd: Option<Json<'v>>,
    secret: Option<Json<'v>>,
    scale_io: Option<Json<'v>>,
    iscsi: Option<Json<'v>>,
    storageos: Option<Json<'v>>,
    csi: Option<Json<'v>>,
    config_map: Option<Json<'v>>,
    persistent_volume_claim: Option<Json<'v>>,
}

impl<'v> Sources<'v> {
    fn of(volume: Obj<'v>) -> Self {
        let mut s = Sources::default();
        for (key, value) in volume.into_iter().flat_map(Json::fields) {
            let slot = match key {
                "azureFile" => &mut s.azure_file,
                "cephfs" => &mut s.cephfs,
                "cinder" => &mut s.cinder,
                "flexVolume" => &mut s.flex_volume,
                "projected" => &mut s.projected,
                "rbd" => &mut s.rbd,
                "secret" => &mut s.secret,
                "scaleIO" => &mut s.scale_io,
                "iscsi" => &mut s.iscsi,
                "storageos" => &mut s.storageos,
                "csi" => &mut s.csi,
                "configMap" => &mut s.config_map,
                "persistentVolumeClaim" => &mut s.persistent_volume_claim,
                _ => continue,
            };
            *slot = Some(value);
        }
        s
    }
}

/// One volume. Every source is read (the conversion checks them all), but each visitor takes the
/// first present source in the order of its `switch`, so a volume that (invalidly) has several
/// sources contributes through that one only:
///
/// - `VisitPodSecretNames`: azureFile, cephfs, cinder, flexVolume, projected, rbd, secret,
///   scaleIO, iscsi, storageos, csi;
/// - `VisitPodConfigmapNames`: projected, configMap;
/// - `getPVCNames` reads `persistentVolumeClaim` on its own, whatever else the volume has.
fn volume<'v>(v: Obj<'v>, at: &At<'_>, r: &mut PodReferences) -> Result<(), ShapeError> {
    let src = Sources::of(v);
    // `AzureFileVolumeSource.SecretName` (visited only when non-empty, like any other name).
    let azure = name_in(src.azure_file, "secretName", &at.key("azureFile"))?.map(|n| vec![n]);
    let by_secret_ref = |key: &str, found: Option<Json<'v>>| -> Result<Option<Vec<&'v str>>, ShapeError> {
        let src_at = at.key(key);
        Ok(match object(found, &src_at)? {
            Some(src) => Some(
                name_ref(Some(src), "secretRef", "name", &src_at)?
                    .into_iter()
                    .collect(),
            ),
            None => None,
        })
    };
    let cephfs = by_secret_ref("cephfs", src.cephfs)?;
    let cinder = by_secret_ref("cinder", src.cinder)?;
    let flex = by_secret_ref("flexVolume", src.flex_volume)?;
    let rbd = by_secret_ref("rbd", src.rbd)?;
    let scale_io = by_secret_ref("scaleIO", src.scale_io)?;
    let iscsi = by_secret_ref("iscsi", src.iscsi)?;
    let storageos = by_secret_ref("storageos", src.storageos)?;

    let projected_at = at.key("projected");
    let (projected_secrets, projected_config_maps) = match object(src.projected, &projected_at)? {
        Some(p) => {
            let sources_at = projected_at.key("sources");
            let (mut secrets, mut config_maps) = (Vec::new(), Vec::new());
            for (i, s) in list(p.get("sources"), &sources_at)?.enumerate() {
                let s_at = sources_at.index(i);
                let s = object(Some(s), &s_at)?;
                secrets.extend(name_ref(s, "secret", "name", &s_at)?);
                config_maps.extend(name_ref(s, "configMap", "name", &s_at)?);
            }
            (Some(secrets), Some(config_maps))
        }
        None => (None, None),
    };
    let secret = name_in(src.secret, "secretName", &at.key("secret"))?.map(|n| vec![n]);
    let csi = match object(src.csi, &at.key("csi"))? {
        Some(c) => Some(
            name_ref(Some(c), "nodePublishSecretRef", "name", &at.key("csi"))?
                .into_iter()
                .collect(),
        ),
        None => None,
    };
    let config_map = name_in(src.config_map, "name", &at.key("configMap"))?;
    let claim = name_in(
        src.persistent_volume_claim,
        "claimName",
        &at.key("persistentVolumeClaim"),
    )?;

    let secret_names = [
        azure,
        cephfs,
        cinder,
        flex,
        projected_secrets,
        rbd,
        secret,
        scale_io,
        iscsi,
        storageos,
        csi,
    ]
    .into_iter()
    .flatten()
    .next()
    .unwrap_or_default();
    for name in secret_names {
        insert(&mut r.secrets, name);
    }
    match (projected_config_maps, config_map) {
        (Some(names), _) => names.into_iter().for_each(|n| insert(&mut r.config_maps, n)),
        (None, Some(name)) => insert(&mut r.config_maps, name),
        (None, None) => {}
    }
    if let Some(name) = claim {
        insert(&mut r.claims, name);
    }
    Ok(())
}
