//! The member index: `(group, kind, namespace, name)` → the member clusters that hold the object,
//! whether Karmada manages it there, and what runs there (for the restart guard). It is the
//! largest part of the view (100,000 entries and more), so cluster names are interned, the common
//! one-cluster case is stored inline and what runs is kept compactly
//! ([`super::running::RunningStore`]).

use serde::Serialize;

use crate::rules::restart::RunningCopy;

use super::{
    Fleet,
    keys::{join, member_key},
};

/// One member cluster's copy of a workload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberCopy {
    /// Index into the fleet's cluster name table.
    #[serde(skip)]
    pub cluster: u16,
    /// Whether the copy carries `karmada.io/managed=true` (or Work annotations).
    pub managed: bool,
    /// What runs there, when the adapter saw the copy's spec.
    #[serde(skip)]
    pub running: Option<RunningCopy>,
}

/// The copies of one member object. Almost every object runs in one cluster, so that case is
/// stored inline: the member index is the largest part of the view (100,000 entries and more).
#[derive(Debug, Clone)]
pub(super) enum Copies {
    One(MemberCopy),
    Many(Vec<MemberCopy>),
}

impl Copies {
    pub(super) fn as_slice(&self) -> &[MemberCopy] {
        match self {
            Copies::One(c) => std::slice::from_ref(c),
            Copies::Many(v) => v,
        }
    }

    pub(super) fn set(&mut self, copy: MemberCopy) {
        match self {
            Copies::One(c) if c.cluster == copy.cluster => *c = copy,
            Copies::One(c) => *self = Copies::Many(vec![c.clone(), copy]),
            Copies::Many(v) => match v.iter_mut().find(|c| c.cluster == copy.cluster) {
                Some(c) => *c = copy,
                None => v.push(copy),
            },
        }
    }

    /// Forgets one cluster's copy; `true` when no copy is left.
    pub(super) fn remove(&mut self, cluster: u16) -> bool {
        match self {
            Copies::One(c) => c.cluster == cluster,
            Copies::Many(v) => {
                v.retain(|c| c.cluster != cluster);
                if v.len() == 1
                    && let Some(only) = v.pop()
                {
                    *self = Copies::One(only);
                }
                matches!(self, Copies::Many(v) if v.is_empty())
            }
        }
    }
}

impl Fleet {
    pub(super) fn intern_cluster(&mut self, name: &str) -> u16 {
        if let Some(i) = self.cluster_names.iter().position(|n| n == name) {
            return i as u16;
        }
        self.cluster_names.push(name.to_owned());
        (self.cluster_names.len() - 1) as u16
    }

    /// Records that `cluster` holds the object (and whether Karmada manages it there), with no
    /// running spec.
    pub fn set_member(
        &mut self,
        cluster: &str,
        group: &str,
        kind: &str,
        namespace: &str,
        name: &str,
        managed: bool,
    ) {
        self.set_member_copy(cluster, group, kind, namespace, name, managed, None);
    }

    /// Records that `cluster` holds the object, whether Karmada manages it there, and what runs
    /// there (`None` when the adapter did not see its spec; kept with [`Fleet::running_store`]).
    #[allow(clippy::too_many_arguments)] // the object's identity is five strings
    pub fn set_member_copy(
        &mut self,
        cluster: &str,
        group: &str,
        kind: &str,
        namespace: &str,
        name: &str,
        managed: bool,
        running: Option<RunningCopy>,
    ) {
        let idx = self.intern_cluster(cluster);
        let copy = MemberCopy {
            cluster: idx,
            managed,
            running,
        };
        let key = member_key(group, kind, namespace, name);
        match self.members.get_mut(key.as_str()) {
            Some(copies) => copies.set(copy),
            None => {
                self.members.insert(key.into_boxed_str(), Copies::One(copy));
            }
        }
    }

    /// Records that `cluster` no longer holds the object.
    pub fn remove_member(&mut self, cluster: &str, group: &str, kind: &str, namespace: &str, name: &str) {
        let Some(idx) = self.cluster_names.iter().position(|n| n == cluster) else {
            return;
        };
        let key = member_key(group, kind, namespace, name);
        if self
            .members
            .get_mut(key.as_str())
            .is_some_and(|copies| copies.remove(idx as u16))
        {
            self.members.remove(key.as_str());
        }
    }

    /// Forgets everything recorded for one member cluster (it left, or turned NotReady).
    pub fn clear_member_cluster(&mut self, cluster: &str) {
        let Some(idx) = self.cluster_names.iter().position(|n| n == cluster) else {
            return;
        };
        self.members.retain(|_, copies| !copies.remove(idx as u16));
        self.running.collect();
    }

    /// Keeps, of the objects of one `(group, kind)` that `cluster` holds, only those for which
    /// `keep(namespace, name)` holds (a re-list replacing one member watch's state).
    pub fn retain_member_objects(
        &mut self,
        cluster: &str,
        group: &str,
        kind: &str,
        mut keep: impl FnMut(&str, &str) -> bool,
    ) {
        let Some(idx) = self.cluster_names.iter().position(|n| n == cluster) else {
            return;
        };
        let prefix = join(&[group, kind, ""]);
        self.members.retain(|key, copies| {
            let Some(rest) = key.strip_prefix(&prefix) else {
                return true;
            };
            let (namespace, name) = rest.split_once('\0').unwrap_or(("", rest));
            keep(namespace, name) || !copies.remove(idx as u16)
        });
    }

    /// The member clusters holding the object, sorted by cluster name, with their managed flag.
    pub fn member_copies(&self, group: &str, kind: &str, namespace: &str, name: &str) -> Vec<(&str, bool)> {
        let mut out: Vec<(&str, bool)> = self
            .members
            .get(member_key(group, kind, namespace, name).as_str())
            .map(|copies| {
                copies
                    .as_slice()
                    .iter()
                    .filter_map(|c| {
                        self.cluster_names
                            .get(usize::from(c.cluster))
                            .map(|n| (n.as_str(), c.managed))
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort_unstable();
        out
    }

    /// What runs in each member cluster holding the object, for the copies whose spec was seen,
    /// sorted by cluster name.
    pub fn running_copies(
        &self,
        group: &str,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Vec<(&str, &RunningCopy)> {
        let mut out: Vec<(&str, &RunningCopy)> = self
            .members
            .get(member_key(group, kind, namespace, name).as_str())
            .map(|copies| {
                copies
                    .as_slice()
                    .iter()
                    .filter_map(|c| {
                        let cluster = self.cluster_names.get(usize::from(c.cluster))?;
                        Some((cluster.as_str(), c.running.as_ref()?))
                    })
                    .collect()
            })
            .unwrap_or_default();
        out.sort_unstable_by(|a, b| a.0.cmp(b.0));
        out
    }
}
