use rstest::rstest;
use serde_json::{Value, json};

use super::*;
use crate::{
    fleet::Fleet,
    rules::testing::{PolicyExt, SelectorExt, cpp, deploy, map, pp},
};

const OURS: &str = "takeover-web-7fd7ff5bf5";

/// shop/web-app and the CPP web-global are application policies; `OURS` is our takeover policy;
/// the CPP migrate-deployments is a user's kind-wide batch policy; namespace `quiet` is labelled
/// `karmada-takeover.io/admission: disabled`.
fn fleet() -> Fleet {
    let mut fleet = Fleet::new();
    fleet.upsert_policy(
        pp("shop", "web-app", Some(10), vec![deploy().named("web")]).label(keys::TIER, "application"),
    );
    fleet.upsert_policy(pp("quiet", "web-app", Some(10), vec![deploy().named("web")]));
    fleet.upsert_policy(cpp(
        "web-global",
        Some(10),
        vec![deploy().named("web").in_ns("shop")],
    ));
    fleet.upsert_policy(
        pp("shop", OURS, Some(0), vec![deploy().named("web")])
            .label(keys::MANAGED_BY, keys::MANAGED_BY_VALUE)
            .overwrite(),
    );
    fleet.upsert_policy(cpp("migrate-deployments", None, vec![deploy()]).overwrite());
    fleet.upsert_namespace("quiet", map(&[(keys::ADMISSION, "disabled")]));
    fleet
}

/// Deployment `<ns>/web` with `annotations` and Karmada's claim by `claim` (kind, namespace, name).
fn web(ns: &str, annotations: &[(&str, &str)], claim: Option<(PolicyKind, &str, &str)>) -> TemplateMeta {
    let mut labels = map(&[]);
    let mut annotations = map(annotations);
    match claim {
        Some((PolicyKind::PropagationPolicy, pns, name)) => {
            labels.insert(keys::PP_PERMANENT_ID.into(), "id-1".into());
            annotations.insert(keys::PP_NAMESPACE.into(), pns.into());
            annotations.insert(keys::PP_NAME.into(), name.into());
        }
        Some((PolicyKind::ClusterPropagationPolicy, _, name)) => {
            labels.insert(keys::CPP_PERMANENT_ID.into(), "id-2".into());
            annotations.insert(keys::CPP_NAME.into(), name.into());
        }
        None => {}
    }
    TemplateMeta {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        namespace: ns.into(),
        name: "web".into(),
        labels: labels.into(),
        annotations: annotations.into(),
    }
}

/// What an earlier version left on an adopted template.
const EARLIER: &[(&str, &str)] = &[
    (keys::POLICY, OURS),
    (keys::CLUSTERS, "member1"),
    (keys::CONFLICT_RESOLUTION, "overwrite"),
];

const PP: PolicyKind = PolicyKind::PropagationPolicy;
const CPP: PolicyKind = PolicyKind::ClusterPropagationPolicy;

#[rstest]
#[case::claimed_by_application_policy_remove("shop", EARLIER, Some((PP, "shop", "web-app")), Ok("PropagationPolicy shop/web-app"))]
#[case::claimed_by_application_cpp_remove("shop", EARLIER, Some((CPP, "", "web-global")), Ok("ClusterPropagationPolicy web-global"))]
#[case::still_claimed_by_our_takeover_policy_keep("shop", EARLIER, Some((PP, "shop", OURS)), Err(Keep::ClaimedByOurs))]
#[case::set_by_the_user_to_abort_keep(
    "shop",
    &[(keys::POLICY, OURS), (keys::CONFLICT_RESOLUTION, "abort")],
    Some((PP, "shop", "web-app")),
    Err(Keep::NoOverwrite)
)]
#[case::no_policy_annotation_the_users_own_overwrite_keep(
    "shop",
    &[(keys::CONFLICT_RESOLUTION, "overwrite")],
    Some((PP, "shop", "web-app")),
    Err(Keep::NotAdopted)
)]
#[case::a_value_karmada_ignores_keep(
    "shop",
    &[(keys::POLICY, OURS), (keys::CONFLICT_RESOLUTION, "Overwrite")],
    Some((PP, "shop", "web-app")),
    Err(Keep::NoOverwrite)
)]
#[case::claimed_by_a_users_batch_policy_keep("shop", EARLIER, Some((CPP, "", "migrate-deployments")), Err(Keep::ClaimedByBatch))]
#[case::claim_to_a_deleted_policy_keep("shop", EARLIER, Some((PP, "shop", "gone")), Err(Keep::ClaimantMissing))]
#[case::unclaimed_keep("shop", EARLIER, None, Err(Keep::Unclaimed))]
#[case::namespace_with_admission_disabled_keep("quiet", EARLIER, Some((PP, "quiet", "web-app")), Err(Keep::NamespaceExcluded))]
#[case::reserved_namespace_keep("kube-system", EARLIER, None, Err(Keep::NamespaceExcluded))]
fn which_templates_lose_the_annotation(
    #[case] ns: &str,
    #[case] annotations: &[(&str, &str)],
    #[case] claim: Option<(PolicyKind, &str, &str)>,
    #[case] want: Result<&str, Keep>,
) {
    let t = web(ns, annotations, claim);
    let got = lingering_overwrite(&t, &fleet(), &Config::default());
    match (want, got) {
        (Err(want), got) => assert_eq!(got, Linger::Keep(want)),
        (Ok(want), Linger::Remove { claimant, patch }) => {
            assert_eq!(claimant, want);
            // The patch removes exactly the annotation from the template as it is...
            let mut doc = object(&t);
            json_patch::patch(&mut doc, &patch).unwrap();
            let mut expected = object(&t);
            expected["metadata"]["annotations"]
                .as_object_mut()
                .unwrap()
                .remove(keys::CONFLICT_RESOLUTION);
            assert_eq!(doc, expected);
            // ...and nothing once a user set it to abort or Karmada moved the claim.
            let mut changed = object(&t);
            changed["metadata"]["annotations"][keys::CONFLICT_RESOLUTION] = json!("abort");
            assert!(json_patch::patch(&mut changed, &patch).is_err());
            let mut reclaimed = object(&t);
            let name_key = if claim.is_some_and(|c| c.0 == CPP) {
                keys::CPP_NAME
            } else {
                keys::PP_NAME
            };
            reclaimed["metadata"]["annotations"][name_key] = json!(OURS);
            assert!(json_patch::patch(&mut reclaimed, &patch).is_err());
        }
        (Ok(want), got) => panic!("expected removal (claimed by {want}), got {got:?}"),
    }
}

fn object(t: &TemplateMeta) -> Value {
    json!({"apiVersion": t.api_version, "kind": t.kind,
           "metadata": {"name": t.name, "namespace": t.namespace, "labels": t.labels, "annotations": t.annotations}})
}
