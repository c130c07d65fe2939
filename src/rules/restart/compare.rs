//! Comparing two sets of [`Fields`]: the template's and one member copy's.

use std::sync::Arc;

use serde::{Serialize, Serializer};

use super::{Effect, Fields, Part, PartValue};

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
        Some(PartValue::Shown(s)) => ser.serialize_some(&**s),
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

/// The fields that differ, in path order. Equal digests short-cut to nothing.
pub fn compare(template: &Fields, running: &Fields) -> Vec<Difference> {
    if template.digest == running.digest {
        return Vec::new();
    }
    let (mut a, mut b) = (template.parts.iter().peekable(), running.parts.iter().peekable());
    let mut out = Vec::new();
    let one_side = |p: &Part, in_template: bool| Difference {
        path: p.path.clone(),
        effect: p.effect,
        template: in_template.then(|| p.value.clone()),
        running: (!in_template).then(|| p.value.clone()),
    };
    loop {
        let order = match (a.peek(), b.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(t), Some(r)) => t.path.cmp(&r.path),
        };
        match order {
            std::cmp::Ordering::Less => out.extend(a.next().map(|t| one_side(t, true))),
            std::cmp::Ordering::Greater => out.extend(b.next().map(|r| one_side(r, false))),
            std::cmp::Ordering::Equal => {
                if let (Some(t), Some(r)) = (a.next(), b.next())
                    && t.value != r.value
                {
                    out.push(Difference {
                        path: t.path.clone(),
                        effect: t.effect.max(r.effect),
                        template: Some(t.value.clone()),
                        running: Some(r.value.clone()),
                    });
                }
            }
        }
    }
    out
}
