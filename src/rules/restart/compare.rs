//! Comparing the template's [`Fields`] with a member copy's, or two member copies.

use std::sync::Arc;

use serde::{Serialize, Serializer};

use super::{Effect, Fields, PartValue, RunningCopy, kept::ValueRef};

/// One field that differs between the template and a member copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Difference {
    /// Where.
    #[serde(serialize_with = "as_str")]
    pub path: Arc<str>,
    /// What the change does.
    pub effect: Effect,
    /// The template's value (`None`: the template does not set it).
    #[serde(serialize_with = "shown")]
    pub template: Option<PartValue>,
    /// The member copy's value (`None`: not set there).
    #[serde(serialize_with = "shown")]
    pub running: Option<PartValue>,
}

fn as_str<S: Serializer>(s: &Arc<str>, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(s)
}

fn shown<S: Serializer>(v: &Option<PartValue>, ser: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(PartValue::Shown(s) | PartValue::Json(s)) => ser.serialize_some(&**s),
        Some(PartValue::Hidden(_)) => ser.serialize_some("(not shown)"),
        None => ser.serialize_none(),
    }
}

impl Difference {
    /// `path: template "a", running "b"`.
    pub fn describe(&self) -> String {
        let side = |v: &Option<PartValue>| {
            v.as_ref()
                .map_or_else(|| "(not set)".to_owned(), PartValue::display)
        };
        match (&self.template, &self.running) {
            (Some(PartValue::Hidden(_)), Some(PartValue::Hidden(_))) => format!("{} differs", self.path),
            _ => format!(
                "{}: template {}, running {}",
                self.path,
                side(&self.template),
                side(&self.running)
            ),
        }
    }
}

/// The fields that differ between the template and a member copy, in path order. Equal digests
/// short-cut to nothing.
pub fn compare(template: &Fields, running: &RunningCopy) -> Vec<Difference> {
    if template.digest == running.digest() {
        return Vec::new();
    }
    differences(
        template
            .parts
            .iter()
            .map(|p| (&p.path, p.effect, ValueRef::from(&p.value))),
        running.values(),
    )
}

/// The fields that differ between two member copies (`a` on the template's side), in path order.
pub fn compare_copies(a: &RunningCopy, b: &RunningCopy) -> Vec<Difference> {
    if a.digest() == b.digest() {
        return Vec::new();
    }
    differences(a.values(), b.values())
}

/// Walks two part lists sorted by path.
fn differences<'a, 'b>(
    a: impl Iterator<Item = (&'a Arc<str>, Effect, ValueRef<'a>)>,
    b: impl Iterator<Item = (&'b Arc<str>, Effect, ValueRef<'b>)>,
) -> Vec<Difference> {
    let (mut a, mut b) = (a.peekable(), b.peekable());
    let mut out = Vec::new();
    let one_side = |(path, effect, value): (&Arc<str>, Effect, ValueRef<'_>), in_template: bool| Difference {
        path: path.clone(),
        effect,
        template: in_template.then(|| value.to_part_value()),
        running: (!in_template).then(|| value.to_part_value()),
    };
    loop {
        let order = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(t), Some(r)) => t.0.cmp(r.0),
        };
        match order {
            std::cmp::Ordering::Less => out.extend(a.next().map(|t| one_side(t, true))),
            std::cmp::Ordering::Greater => out.extend(b.next().map(|r| one_side(r, false))),
            std::cmp::Ordering::Equal => {
                if let (Some(t), Some(r)) = (a.next(), b.next())
                    && !t.2.same(r.2)
                {
                    out.push(Difference {
                        path: t.0.clone(),
                        effect: t.1.max(r.1),
                        template: Some(t.2.to_part_value()),
                        running: Some(r.2.to_part_value()),
                    });
                }
            }
        }
    }
    out
}
