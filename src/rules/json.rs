//! A read-only view of a JSON value, whichever parser built it.
//!
//! Why two trees: serde_json's `Value` costs a `String` per string and a `BTreeMap` node per
//! field to build (and as much again to free), which was half of a Deployment review's CPU
//! (BENCHMARKS.md). The admission decoder parses a workload review with sonic-rs into its
//! arena-backed `Value` instead, for about a quarter of the cost. Everything else (manifests on
//! disk, member copies from kube's watches, the CLI, the tests) has serde_json's `Value`. The
//! rules that read a body (the restart guard's walk and digest, the dependency interpreter,
//! [`super::workload::only_claims_changed`]) read it through [`Json`] and give the same answers
//! for the same JSON from either parser: digests do not depend on object key order (sonic-rs keeps
//! keys as written, serde_json sorts them), both parse numbers exactly (serde_json with its
//! `float_roundtrip` feature), and tests decide every golden review both ways.
//!
//! What this view cannot hide: a nested object with a repeated key keeps the last value in
//! serde_json and both in sonic-rs (the admission decoder sends reviews whose object repeats a
//! top-level key to serde_json; the API server never sends one, as it re-encodes every object
//! from its typed form before admission). Bodies are read by key: an admitted body from sonic-rs's
//! tree also holds `apiVersion`, `kind` and `metadata`, which no rule reads from a body.

use serde_json::Value;
use sonic_rs::{JsonContainerTrait, JsonNumberTrait, JsonValueTrait, ValueRef};

/// A JSON value borrowed from either parser's tree.
#[derive(Debug, Clone, Copy)]
pub enum Json<'a> {
    /// serde_json's tree.
    Serde(&'a Value),
    /// sonic-rs's tree (the admission decoder's).
    Sonic(&'a sonic_rs::Value),
}

/// A value and its contents, from one look at the tree ([`Json::view`]).
#[derive(Debug, Clone)]
pub enum View<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number.
    Number(Number),
    /// A string.
    String(&'a str),
    /// A list.
    Array(Items<'a>),
    /// An object.
    Object(Object<'a>),
}

/// The JSON type of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A number.
    Number,
    /// A string.
    String,
    /// A list.
    Array,
    /// An object.
    Object,
}

/// A number as both parsers hold it: an integer is `U64` when non-negative, `I64` when negative;
/// anything with a fraction or exponent is `F64` (so `1` and `1.0` differ, as their text does).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// A non-negative integer.
    U64(u64),
    /// A negative integer.
    I64(i64),
    /// Any other number.
    F64(f64),
}

impl<'a> From<&'a Value> for Json<'a> {
    fn from(v: &'a Value) -> Self {
        Json::Serde(v)
    }
}

impl<'a> From<&'a sonic_rs::Value> for Json<'a> {
    fn from(v: &'a sonic_rs::Value) -> Self {
        Json::Sonic(v)
    }
}

/// `null`, for callers that need a [`Json`] of nothing.
pub static NULL: Value = Value::Null;

impl Number {
    /// From what both parsers' numbers answer: unsigned when it fits, else signed, else float.
    fn of(unsigned: Option<u64>, signed: Option<i64>, float: Option<f64>) -> Number {
        match (unsigned, signed) {
            (Some(u), _) => Number::U64(u),
            (None, Some(i)) => Number::I64(i),
            (None, None) => Number::F64(float.unwrap_or(f64::NAN)),
        }
    }
}

fn serde_number(n: &serde_json::Number) -> Number {
    Number::of(n.as_u64(), n.as_i64(), n.as_f64())
}

fn sonic_number(n: &sonic_rs::Number) -> Number {
    Number::of(n.as_u64(), n.as_i64(), n.as_f64())
}

impl<'a> Json<'a> {
    /// The value and its contents. One look at the tree: sonic-rs's accessors each decode the
    /// node's tag again, so walks that need more than the kind go through this.
    pub fn view(self) -> View<'a> {
        match self {
            Json::Serde(v) => match v {
                Value::Null => View::Null,
                Value::Bool(b) => View::Bool(*b),
                Value::Number(n) => View::Number(serde_number(n)),
                Value::String(s) => View::String(s),
                Value::Array(a) => View::Array(Items::Serde(a.iter())),
                Value::Object(m) => View::Object(Object::Serde(m)),
            },
            Json::Sonic(v) => match v.as_ref() {
                ValueRef::Null => View::Null,
                ValueRef::Bool(b) => View::Bool(b),
                ValueRef::Number(n) => View::Number(sonic_number(&n)),
                ValueRef::String(s) => View::String(s),
                ValueRef::Array(a) => View::Array(Items::Sonic(a.iter())),
                ValueRef::Object(o) => View::Object(Object::Sonic(o)),
            },
        }
    }

    /// Its JSON type.
    pub fn kind(self) -> Kind {
        match self {
            Json::Serde(v) => match v {
                Value::Null => Kind::Null,
                Value::Bool(_) => Kind::Bool,
                Value::Number(_) => Kind::Number,
                Value::String(_) => Kind::String,
                Value::Array(_) => Kind::Array,
                Value::Object(_) => Kind::Object,
            },
            Json::Sonic(v) => match v.get_type() {
                sonic_rs::JsonType::Null => Kind::Null,
                sonic_rs::JsonType::Boolean => Kind::Bool,
                sonic_rs::JsonType::Number => Kind::Number,
                sonic_rs::JsonType::String => Kind::String,
                sonic_rs::JsonType::Array => Kind::Array,
                sonic_rs::JsonType::Object => Kind::Object,
            },
        }
    }

    /// Whether it is `null`.
    pub fn is_null(self) -> bool {
        match self {
            Json::Serde(v) => v.is_null(),
            Json::Sonic(v) => v.is_null(),
        }
    }

    /// Field `key` of an object; `None` when missing or when this is not an object.
    pub fn get(self, key: &str) -> Option<Json<'a>> {
        match self {
            Json::Serde(v) => v.as_object()?.get(key).map(Json::Serde),
            Json::Sonic(v) => v.as_object()?.get(&key).map(Json::Sonic),
        }
    }

    /// The string, when it is one.
    pub fn as_str(self) -> Option<&'a str> {
        match self {
            Json::Serde(v) => v.as_str(),
            Json::Sonic(v) => v.as_str(),
        }
    }

    /// The boolean, when it is one.
    pub fn as_bool(self) -> Option<bool> {
        match self {
            Json::Serde(v) => v.as_bool(),
            Json::Sonic(v) => v.as_bool(),
        }
    }

    /// The number, when it is one.
    pub fn number(self) -> Option<Number> {
        match self {
            Json::Serde(Value::Number(n)) => Some(serde_number(n)),
            Json::Serde(_) => None,
            Json::Sonic(v) => v.as_number().as_ref().map(sonic_number),
        }
    }

    /// The integer, when it is one that fits an `i64`.
    pub fn as_i64(self) -> Option<i64> {
        match self.number()? {
            Number::U64(u) => i64::try_from(u).ok(),
            Number::I64(i) => Some(i),
            Number::F64(_) => None,
        }
    }

    /// The fields of an object, in the parser's order (sorted for serde_json, as written for
    /// sonic-rs: callers must not depend on it); `None` when this is not an object.
    pub fn entries(self) -> Option<Entries<'a>> {
        match self {
            Json::Serde(v) => v.as_object().map(|m| Entries::Serde(m.iter())),
            Json::Sonic(v) => v.as_object().map(|m| Entries::Sonic(m.iter())),
        }
    }

    /// The fields of an object, none when this is not one.
    pub fn fields(self) -> impl Iterator<Item = (&'a str, Json<'a>)> {
        self.entries().into_iter().flatten()
    }

    /// The items of a list; `None` when this is not a list.
    pub fn items(self) -> Option<Items<'a>> {
        match self {
            Json::Serde(v) => v.as_array().map(|a| Items::Serde(a.iter())),
            Json::Sonic(v) => v.as_array().map(|a| Items::Sonic(a.iter())),
        }
    }

    /// A serde_json copy, for the rare paths that show or keep a value.
    pub fn to_value(self) -> Value {
        if let Json::Serde(v) = self {
            return v.clone();
        }
        match self.view() {
            View::Null => Value::Null,
            View::Bool(b) => Value::Bool(b),
            View::String(s) => Value::String(s.to_owned()),
            View::Number(Number::U64(u)) => Value::from(u),
            View::Number(Number::I64(i)) => Value::from(i),
            View::Number(Number::F64(f)) => Value::from(f),
            View::Array(items) => Value::Array(items.map(Json::to_value).collect()),
            View::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.to_owned(), x.to_value())).collect()),
        }
    }

    /// Whether both hold the same JSON, whatever the order of object keys.
    pub fn same(self, other: Json<'_>) -> bool {
        if let (Json::Serde(a), Json::Serde(b)) = (self, other) {
            return a == b;
        }
        match (self.view(), other.view()) {
            (View::Object(a), View::Object(b)) => {
                a.len() == b.len() && a.iter().all(|(k, v)| b.get(k).is_some_and(|w| v.same(w)))
            }
            (View::Array(a), View::Array(b)) => a.len() == b.len() && a.zip(b).all(|(x, y)| x.same(y)),
            (View::String(a), View::String(b)) => a == b,
            (View::Number(a), View::Number(b)) => a == b,
            (View::Bool(a), View::Bool(b)) => a == b,
            (View::Null, View::Null) => true,
            _ => false,
        }
    }
}

/// An object ([`View::Object`]).
#[derive(Debug, Clone, Copy)]
pub enum Object<'a> {
    /// serde_json's map.
    Serde(&'a serde_json::Map<String, Value>),
    /// sonic-rs's object.
    Sonic(&'a sonic_rs::Object),
}

impl<'a> Object<'a> {
    /// How many fields.
    pub fn len(self) -> usize {
        match self {
            Object::Serde(m) => m.len(),
            Object::Sonic(o) => o.len(),
        }
    }

    /// Whether it has no field.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }

    /// Field `key`.
    pub fn get(self, key: &str) -> Option<Json<'a>> {
        match self {
            Object::Serde(m) => m.get(key).map(Json::Serde),
            Object::Sonic(o) => o.get(&key).map(Json::Sonic),
        }
    }

    /// The fields, in the parser's order.
    pub fn iter(self) -> Entries<'a> {
        match self {
            Object::Serde(m) => Entries::Serde(m.iter()),
            Object::Sonic(o) => Entries::Sonic(o.iter()),
        }
    }
}

/// The fields of an object ([`Json::entries`]).
#[allow(missing_debug_implementations)] // sonic-rs's iterator has no `Debug`
pub enum Entries<'a> {
    /// serde_json's map.
    Serde(serde_json::map::Iter<'a>),
    /// sonic-rs's object.
    Sonic(sonic_rs::value::object::Iter<'a>),
}

impl<'a> Iterator for Entries<'a> {
    type Item = (&'a str, Json<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Entries::Serde(it) => it.next().map(|(k, v)| (k.as_str(), Json::Serde(v))),
            Entries::Sonic(it) => it.next().map(|(k, v)| (k, Json::Sonic(v))),
        }
    }
}

/// The items of a list ([`Json::items`]).
#[derive(Debug, Clone)]
pub enum Items<'a> {
    /// serde_json's list.
    Serde(std::slice::Iter<'a, Value>),
    /// sonic-rs's list.
    Sonic(std::slice::Iter<'a, sonic_rs::Value>),
}

impl<'a> Items<'a> {
    /// No items.
    pub fn empty() -> Self {
        Items::Serde([].iter())
    }
}

impl<'a> Iterator for Items<'a> {
    type Item = Json<'a>;

    fn next(&mut self) -> Option<Json<'a>> {
        match self {
            Items::Serde(it) => it.next().map(Json::Serde),
            Items::Sonic(it) => it.next().map(Json::Sonic),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Items::Serde(it) => it.size_hint(),
            Items::Sonic(it) => it.size_hint(),
        }
    }
}

impl ExactSizeIterator for Items<'_> {}

#[cfg(test)]
pub(crate) mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// sonic-rs's tree of serde_json's text of `v`.
    pub(crate) fn sonic(v: &Value) -> sonic_rs::Value {
        sonic_rs::from_str(&v.to_string()).expect("sonic-rs reads serde_json's output")
    }

    #[test]
    fn reads_the_same_through_both_trees() {
        let v = json!({"s": "x", "n": -3, "u": 7, "f": 1.5, "b": true, "z": null, "a": [1, "2"], "o": {"k": "v"}});
        let t = sonic(&v);
        for j in [Json::Serde(&v), Json::Sonic(&t)] {
            assert_eq!(j.kind(), Kind::Object);
            assert_eq!(j.get("s").and_then(Json::as_str), Some("x"));
            assert_eq!(j.get("n").and_then(Json::as_i64), Some(-3));
            assert_eq!(j.get("u").and_then(Json::number), Some(Number::U64(7)));
            assert_eq!(j.get("f").and_then(Json::number), Some(Number::F64(1.5)));
            assert_eq!(j.get("f").and_then(Json::as_i64), None);
            assert_eq!(j.get("b").and_then(Json::as_bool), Some(true));
            assert!(j.get("z").is_some_and(Json::is_null));
            assert_eq!(j.get("missing").map(Json::kind), None);
            assert_eq!(j.get("a").and_then(Json::items).map(|i| i.len()), Some(2));
            assert_eq!(
                j.get("o").and_then(|o| o.get("k")).and_then(Json::as_str),
                Some("v")
            );
            assert_eq!(
                j.get("s").and_then(|s| s.get("k")).map(Json::kind),
                None,
                "not an object"
            );
            assert_eq!(j.fields().count(), 8);
            assert!(matches!(j.view(), View::Object(o) if o.len() == 8));
            assert_eq!(j.to_value(), v);
        }
    }

    #[test]
    fn sameness_ignores_key_order_only() {
        let tree = |text: &str| sonic_rs::from_str::<sonic_rs::Value>(text).unwrap();
        let a = tree(r#"{"a": 1, "b": [true, null]}"#);
        assert!(Json::Sonic(&a).same(Json::Sonic(&tree(r#"{"b": [true, null], "a": 1}"#))));
        assert!(
            !Json::Sonic(&a).same(Json::Sonic(&tree(r#"{"b": [null, true], "a": 1}"#))),
            "list order counts"
        );
        assert!(
            !Json::Sonic(&a).same(Json::Sonic(&tree(r#"{"b": [true, null], "a": 1.0}"#))),
            "1 is not 1.0"
        );
        assert!(!Json::Sonic(&a).same(Json::Sonic(&tree(r#"{"b": [true, null]}"#))));
        assert!(Json::Sonic(&a).same(Json::Serde(&json!({"b": [true, null], "a": 1}))));
    }

    /// Any JSON value: nested lists and objects of scalars.
    pub(crate) fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1.0e6f64..1.0e6).prop_map(Value::from),
            "[a-z\"\\\\é\n]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-z]{1,4}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// What sonic-rs reads from serde_json's text of a value is that value.
        #[test]
        fn both_parsers_agree(v in any_json()) {
            let t = sonic(&v);
            prop_assert!(Json::Sonic(&t).same(Json::Serde(&v)));
            prop_assert_eq!(Json::Sonic(&t).to_value(), v);
        }
    }
}
