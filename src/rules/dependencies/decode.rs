//! Reading an object's JSON as Karmada's `helper.ConvertToTypedObject` does: with
//! `runtime.DefaultUnstructuredConverter.FromUnstructured` into the typed Kubernetes API struct.
//! Its rules, for the fields this module reads:
//!
//! - a missing field or `null` is the zero value: an empty string, an empty list, an absent
//!   pointer, a struct of zero values (also for `null` items of a list);
//! - a field of the wrong JSON type is an error (`5` or `true` where a name is expected, a string
//!   or a list where an object is, an object where a list is);
//! - keys match exactly (case-sensitive); unknown fields are ignored;
//! - a pointer to a struct (`secret`, `configMapRef`, ...) given `{}` is present with zero fields.
//!
//! Karmada converts the whole object, so it also fails on a wrong type in a field this module does
//! not read (`replicas: "3"`, a malformed quantity); those are not detected here.

use std::fmt;

use crate::rules::json::{Items, Json, Kind};

/// Where a field is, as a chain of segments from the object's root; rendered only for errors.
#[derive(Debug, Clone, Copy)]
pub(super) struct At<'a> {
    parent: Option<&'a At<'a>>,
    segment: Segment<'a>,
}

#[derive(Debug, Clone, Copy)]
enum Segment<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

impl<'a> At<'a> {
    /// The object itself.
    pub(super) const ROOT: At<'static> = At {
        parent: None,
        segment: Segment::Root,
    };

    /// A field of this object.
    pub(super) fn key(&'a self, key: &'a str) -> At<'a> {
        At {
            parent: Some(self),
            segment: Segment::Key(key),
        }
    }

    /// An item of this list.
    pub(super) fn index(&'a self, index: usize) -> At<'a> {
        At {
            parent: Some(self),
            segment: Segment::Index(index),
        }
    }
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(parent) = self.parent {
            parent.fmt(f)?;
        }
        match self.segment {
            Segment::Root => Ok(()),
            Segment::Key(k) if self.parent.is_some_and(|p| !matches!(p.segment, Segment::Root)) => {
                write!(f, ".{k}")
            }
            Segment::Key(k) => f.write_str(k),
            Segment::Index(i) => write!(f, "[{i}]"),
        }
    }
}

/// A field whose JSON type does not fit the Kubernetes type there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError {
    /// `spec.template.spec.volumes[0].secret.secretName`.
    pub path: String,
    /// What the typed API has there: `a string`, `a list`, `an object`.
    pub expected: &'static str,
    /// What the JSON has.
    pub found: &'static str,
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is {}, not {}", self.path, self.found, self.expected)
    }
}

fn json_type(v: Json<'_>) -> &'static str {
    match v.kind() {
        Kind::Null => "null",
        Kind::Bool => "a boolean",
        Kind::Number => "a number",
        Kind::String => "a string",
        Kind::Array => "a list",
        Kind::Object => "an object",
    }
}

fn mismatch(v: Json<'_>, at: &At<'_>, expected: &'static str) -> ShapeError {
    ShapeError {
        path: at.to_string(),
        expected,
        found: json_type(v),
    }
}

/// A decoded struct: an object, or `None` for a zero struct (a missing field or `null`).
pub(super) type Obj<'v> = Option<Json<'v>>;

/// A struct field: `None` when missing or `null` (a nil pointer, or a zero struct).
pub(super) fn object<'v>(v: Option<Json<'v>>, at: &At<'_>) -> Result<Obj<'v>, ShapeError> {
    match v.map(|v| (v, v.kind())) {
        None | Some((_, Kind::Null)) => Ok(None),
        Some((m, Kind::Object)) => Ok(Some(m)),
        Some((other, _)) => Err(mismatch(other, at, "an object")),
    }
}

/// A list field: empty when missing or `null`.
pub(super) fn list<'v>(v: Option<Json<'v>>, at: &At<'_>) -> Result<Items<'v>, ShapeError> {
    match v {
        None => Ok(Items::empty()),
        Some(v) if v.is_null() => Ok(Items::empty()),
        Some(v) => v.items().ok_or_else(|| mismatch(v, at, "a list")),
    }
}

/// A string field: empty when missing or `null`.
pub(super) fn string<'v>(v: Option<Json<'v>>, at: &At<'_>) -> Result<&'v str, ShapeError> {
    match v {
        None => Ok(""),
        Some(v) if v.is_null() => Ok(""),
        Some(v) => v.as_str().ok_or_else(|| mismatch(v, at, "a string")),
    }
}

/// Field `key` of a decoded struct (`None` for a zero struct).
pub(super) fn field<'v>(m: Obj<'v>, key: &str) -> Option<Json<'v>> {
    m.and_then(|m| m.get(key))
}

/// The struct at `m.key`, one level down: `Ok(None)` when it is missing or `null`.
pub(super) fn child<'v>(m: Obj<'v>, key: &str, at: &At<'_>) -> Result<Obj<'v>, ShapeError> {
    object(field(m, key), &at.key(key))
}

/// `name` of the struct at `m.key` (a `LocalObjectReference` and the like): `None` when the
/// pointer is nil, `Some("")` when the struct has no name.
pub(super) fn name_ref<'v>(
    m: Obj<'v>,
    key: &str,
    name: &str,
    at: &At<'_>,
) -> Result<Option<&'v str>, ShapeError> {
    name_in(field(m, key), name, &at.key(key))
}

/// `name` of the struct `v` found at `at`: `None` when it is missing or `null`, `Some("")` when
/// the struct has no name ([`name_ref`] for a struct already found).
pub(super) fn name_in<'v>(
    v: Option<Json<'v>>,
    name: &str,
    at: &At<'_>,
) -> Result<Option<&'v str>, ShapeError> {
    match object(v, at)? {
        None => Ok(None),
        Some(r) => string(r.get(name), &at.key(name)).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn paths_read_as_json_paths() {
        let spec = At::ROOT.key("spec");
        let volumes = spec.key("volumes");
        let second = volumes.index(1);
        assert_eq!(second.key("secret").to_string(), "spec.volumes[1].secret");
        assert_eq!(At::ROOT.to_string(), "");
    }

    #[test]
    fn null_is_zero_and_wrong_types_are_errors() {
        let at = At::ROOT.key("x");
        let (null, five, list_a, empty) = (json!(null), json!(5), json!(["a"]), json!({}));
        let j = Json::Serde;
        assert_eq!(string(Some(j(&null)), &at), Ok(""));
        assert_eq!(list(None, &at).map(|i| i.len()), Ok(0));
        assert_eq!(list(Some(j(&null)), &at).map(|i| i.len()), Ok(0));
        assert!(matches!(object(Some(j(&null)), &at), Ok(None)));
        assert!(matches!(object(Some(j(&empty)), &at), Ok(Some(_))));
        let err = string(Some(j(&five)), &at).unwrap_err();
        assert_eq!(err.to_string(), "x is a number, not a string");
        assert!(object(Some(j(&list_a)), &at).is_err());
        assert!(list(Some(j(&empty)), &at).is_err());
    }
}
