//! The fleet's indexes against plain lists: what the buckets find, what is kept, what is dropped.

use super::{Fleet, keys::LAST_APPLIED};
use crate::rules::{
    claim::resolve,
    testing::{SelectorExt, cpp, deploy, map, pp},
};
use crate::{
    karmada::{Policy, PolicyKind, StoredLabels, keys, policy::ServerMeta},
    rules::{
        claim::{PolicySource, Template},
        view::TemplateMeta,
    },
};

fn tpl(ns: &str, name: &str) -> TemplateMeta {
    TemplateMeta {
        api_version: "apps/v1".into(),
        kind: "Deployment".into(),
        namespace: ns.into(),
        name: name.into(),
        labels: StoredLabels::default(),
        annotations: StoredLabels::default(),
    }
}

#[test]
fn buckets_find_exactly_the_policies_that_can_match() {
    let mut f = Fleet::new();
    f.upsert_policy(pp("default", "named", None, vec![deploy().named("web")]));
    f.upsert_policy(pp("default", "wide", None, vec![deploy()]));
    f.upsert_policy(pp("other", "elsewhere", None, vec![deploy()]));
    f.upsert_policy(pp("default", "wrong-ns", None, vec![deploy().in_ns("other")]));
    f.upsert_policy(cpp("any", None, vec![deploy()]));
    f.upsert_policy(cpp("named-anyns", None, vec![deploy().named("web")]));
    let t = tpl("default", "web");
    let mut names: Vec<&str> = (&f)
        .candidates(&t.as_template())
        .iter()
        .map(|p| p.name())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["any", "named", "named-anyns", "wide"]);
}

#[test]
fn replacing_and_removing_policies_updates_the_buckets() {
    let mut f = Fleet::new();
    f.upsert_policy(pp("default", "a", None, vec![deploy().named("web")]));
    f.upsert_policy(pp("default", "a", None, vec![deploy().named("api")]));
    let web = Template::new("apps/v1", "Deployment", "default", "web", None, None);
    let api = Template::new("apps/v1", "Deployment", "default", "api", None, None);
    assert!(f.policies_for(PolicyKind::PropagationPolicy, &web).is_empty());
    assert_eq!(f.policies_for(PolicyKind::PropagationPolicy, &api).len(), 1);
    f.remove_policy(PolicyKind::PropagationPolicy, "default", "a");
    assert_eq!(f.counts().policies, 0);
    assert!(f.pp_buckets.is_empty() && f.batch_unnamed.is_empty());
}

#[test]
fn fleet_and_plain_list_resolve_the_same_winner() {
    let policies = vec![
        pp("default", "b", Some(1), vec![deploy()]),
        pp("default", "a", Some(1), vec![deploy().named("web")]),
        cpp("c", Some(9), vec![deploy()]),
    ];
    let mut f = Fleet::new();
    for p in &policies {
        f.upsert_policy(p.clone());
    }
    let t = tpl("default", "web");
    let from_fleet = resolve(&t.as_template(), &&f, false)
        .winner()
        .map(|w| w.name.to_owned());
    let from_list = resolve(&t.as_template(), &&policies[..], false)
        .winner()
        .map(|w| w.name.to_owned());
    assert_eq!(from_fleet, from_list);
    assert_eq!(from_fleet.as_deref(), Some("a"));
}

mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::rules::testing::{PolicyExt, map};

    fn arb_selector() -> impl Strategy<Value = crate::karmada::ResourceSelector> {
        (
            0u8..6,
            prop_oneof![Just(None), Just(Some("default")), Just(Some("other"))],
        )
            .prop_map(|(shape, ns)| {
                let s = match shape {
                    0 => deploy(),
                    1 => deploy().named("web"),
                    2 => deploy().named("api"),
                    3 => deploy().labels(&[("app", "web")]),
                    4 => deploy().labels(&[("app", "web"), ("tier", "front")]),
                    _ => deploy().labels(&[("app", "api")]),
                };
                match ns {
                    Some(ns) => s.in_ns(ns),
                    None => s,
                }
            })
    }

    fn arb_policy() -> impl Strategy<Value = Policy> {
        (
            any::<bool>(),
            "[a-c]{1,2}",
            -1i32..2,
            proptest::collection::vec(arb_selector(), 1..3),
            any::<bool>(),
        )
            .prop_map(|(is_pp, name, prio, sels, always)| {
                let p = if is_pp {
                    pp("default", &name, Some(prio), sels)
                } else {
                    cpp(&name, Some(prio), sels)
                };
                if always { p.always() } else { p }
            })
    }

    proptest! {
        #[test]
        fn the_indexed_fleet_resolves_like_a_plain_list(
            policies in proptest::collection::vec(arb_policy(), 0..8),
            name in prop_oneof![Just("web"), Just("api"), Just("db")],
            labels in prop_oneof![Just(vec![]), Just(vec![("app", "web")]), Just(vec![("app", "web"), ("tier", "front")]), Just(vec![("app", "api")])],
        ) {
            let mut unique: Vec<Policy> = Vec::new();
            for p in policies {
                unique.retain(|q| !(q.kind == p.kind && q.name() == p.name()));
                unique.push(p);
            }
            let mut f = Fleet::new();
            for p in &unique {
                f.upsert_policy(p.clone());
            }
            let l = map(&labels);
            let t = Template::new("apps/v1", "Deployment", "default", name, Some(&l), None);
            let from_fleet = resolve(&t, &&f, true);
            let from_list = resolve(&t, &&unique[..], true);
            let key = |r: &crate::rules::claim::Resolution<'_>| r.winner().map(|w| (w.kind, w.name.to_owned()));
            prop_assert_eq!(key(&from_fleet), key(&from_list));
            prop_assert_eq!(from_fleet.candidates.len(), from_list.candidates.len());
        }
    }
}

#[test]
fn metadata_no_decision_reads_is_not_stored() {
    let mut f = Fleet::new();
    let mut p = pp("default", "a", None, vec![deploy()]);
    p.metadata.annotations = Some(map(&[(LAST_APPLIED, "{...}"), ("team", "x")]).into());
    p.metadata.server = Some(Box::new(ServerMeta {
        managed_fields: Some(vec![Default::default()]),
        uid: Some("u".into()),
        ..Default::default()
    }));
    f.upsert_policy(p);
    let stored = f.policy(PolicyKind::PropagationPolicy, "default", "a").unwrap();
    assert!(stored.metadata.server.is_none());
    assert_eq!(stored.metadata.annotations, Some(map(&[("team", "x")]).into()));
    let mut t = tpl("default", "web");
    t.annotations = map(&[
        (LAST_APPLIED, "{...}"),
        (keys::PP_NAME, "p"),
        (keys::CLUSTERS, "m1"),
        ("other", "y"),
    ])
    .into();
    f.upsert_template(t);
    let stored = f.template("apps/v1", "Deployment", "default", "web").unwrap();
    assert_eq!(
        stored.annotations,
        map(&[(keys::CLUSTERS, "m1"), (keys::PP_NAME, "p")]).into()
    );
}

#[test]
fn claims_are_indexed_by_policy() {
    let mut f = Fleet::new();
    let mut t = tpl("default", "web");
    t.labels = map(&[(keys::PP_PERMANENT_ID, "x")]).into();
    t.annotations = map(&[(keys::PP_NAMESPACE, "default"), (keys::PP_NAME, "p")]).into();
    f.upsert_template(t);
    assert_eq!(
        f.claimed_by(PolicyKind::PropagationPolicy, "default", "p").len(),
        1
    );
    f.remove_template("apps/v1", "Deployment", "default", "web");
    assert!(
        f.claimed_by(PolicyKind::PropagationPolicy, "default", "p")
            .is_empty()
    );
}

#[test]
fn member_index_tracks_clusters_and_managed_flags() {
    let mut f = Fleet::new();
    f.set_member("member2", "apps", "Deployment", "default", "web", false);
    f.set_member("member1", "apps", "Deployment", "default", "web", true);
    assert_eq!(
        f.member_copies("apps", "Deployment", "default", "web"),
        [("member1", true), ("member2", false)]
    );
    f.remove_member("member1", "apps", "Deployment", "default", "web");
    assert_eq!(
        f.member_copies("apps", "Deployment", "default", "web"),
        [("member2", false)]
    );
    f.clear_member_cluster("member2");
    assert_eq!(f.counts().member_entries, 0);
}
