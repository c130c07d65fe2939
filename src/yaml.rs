//! YAML in and out, in one place: [serde-saphyr](https://docs.rs/serde-saphyr), set up to read
//! what this crate read with serde_yaml 0.9 before it (`tests/yaml_compat.rs` checks every YAML
//! file of the repository against what serde_yaml read).
//!
//! serde-saphyr takes the target type as the schema. Where the target is untyped
//! (`serde_json::Value`, which every manifest goes through), its defaults read plain `yes`, `no`,
//! `on`, `off`, `y`, `n` as booleans and `0755` as the number 755: a label value `gpu: yes` would
//! stop being a string. The options set here read as serde_yaml (the YAML 1.2 core schema) did:
//!
//! | input                              | read as                                                   |
//! |------------------------------------|-----------------------------------------------------------|
//! | `yes` `no` `on` `off` `y` `n`      | strings; only `true`/`True`/`TRUE` and the `false` forms are booleans |
//! | `0755` `-007` `1_000` `0xFF_FF`    | strings when untyped; numbers where the field is a number |
//! | `.inf` `.nan`                      | `null` in a `Value` (JSON has no such numbers)            |
//! | a key given twice                  | the last one in a `Value`; a duplicate-field error in a struct |
//! | `<<: *anchor`                      | an ordinary key `<<`, not a merge                         |
//! | `!!binary aGk=`                    | the string `aGk=`, not decoded                            |
//!
//! Some differences remain (none occurs in the examples, fixtures or chart):
//! - a null where a `String` is expected (`labels: {a: ~}`, `a:`) is an error; serde_yaml read
//!   the text (`"~"`, `""`). An empty list or section (`exclude:` with its entries commented out)
//!   is still read as empty where the field uses [`null_as_default`];
//! - a quoted or underscored number (`'0'`, `1_0`) is accepted for an integer field;
//! - local tags (`!Thing x`) are ignored where serde_yaml refused the document, and `!!timestamp`
//!   is refused; a null key (`~: x`) is refused; `1e999` is null (serde_yaml: the string), an
//!   integer beyond 64 bits a float (serde_yaml: an error);
//! - nesting deeper than 64 levels is refused (serde_yaml: 128). serde-saphyr's recursion
//!   overflows a 2 MiB thread stack from about 80 levels in a debug build, so the library's
//!   default stays;
//! - a syntax error is reported where the faulty construct starts (an unclosed `[` at the `[`),
//!   serde_yaml reported where it gave up (often the end of the document).
//!
//! Errors are one line, without source snippets, with a 1-based line and column
//! (`at line 3, column 5`) and, when the target is typed, the path of the field.

use serde::{Deserialize, Deserializer, Serialize, de::DeserializeOwned};
use serde_saphyr::{
    DuplicateKeyPolicy, MergeKeyPolicy, NonFiniteFloatPolicy, SnippetMode, UserMessageFormatter,
};

/// YAML that could not be read as the expected type.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}{message}", path.as_deref().map(|p| format!("{p}: ")).unwrap_or_default())]
pub struct Error {
    /// Where in the value the error is (`tiers.batchMax`), when the target is typed.
    pub path: Option<String>,
    /// What is wrong, ending with ` at line L, column C` when the position is known.
    pub message: String,
    /// 1-based line of the error in the text given (after [`from_str_at`]'s offset).
    pub line: Option<u64>,
    /// 1-based column of the error.
    pub column: Option<u64>,
}

/// Parser options: see the module docs.
fn options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        non_finite_float_policy: NonFiniteFloatPolicy::PassThrough,
        duplicate_keys: DuplicateKeyPolicy::PassThrough,
        merge_keys: MergeKeyPolicy::AsOrdinary,
        ignore_binary_tag_for_string: true,
        with_snippet: false,
        emit_comments: false,
        // The default budget stops a document at 250,000 nodes: a `kind: List` of some 11,000
        // small ConfigMaps, less than a `kubectl get -o yaml` dump of a large member cluster,
        // which a fleet directory may hold. serde_yaml had no such limit. Depth (64) and alias
        // expansion keep their limits.
        budget: serde_saphyr::budget! {
            max_events: usize::MAX,
            max_nodes: usize::MAX,
        },
    }
}

/// Reads one YAML document (JSON is YAML too) as `T`.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, Error> {
    from_str_at(text, 1)
}

/// Reads one YAML document that starts on line `first_line` (1-based) of a larger file, so that
/// error lines are the file's.
pub fn from_str_at<T: DeserializeOwned>(text: &str, first_line: usize) -> Result<T, Error> {
    let mut path = None;
    serde_saphyr::with_deserializer_from_str_with_options(text, options(), |de| {
        serde_path_to_error::deserialize(de).map_err(|e| {
            // A syntax error comes with the path down to where the parser stopped, if any, and
            // an unknown (`?`) last step.
            let mut at = e.path().to_string();
            while let Some(known) = at.strip_suffix(".?") {
                at.truncate(known.len());
            }
            if at != "." && at != "?" {
                path = Some(at);
            }
            e.into_inner()
        })
    })
    .map_err(|e| {
        let line_offset = u64::try_from(first_line.saturating_sub(1)).unwrap_or(u64::MAX);
        let location = e.location();
        Error {
            path,
            message: e.render_with_options(serde_saphyr::render_options! {
                formatter: &UserMessageFormatter,
                snippets: SnippetMode::Off,
                line_offset: line_offset,
            }),
            line: location.map(|l| l.line().saturating_add(line_offset)),
            column: location.map(|l| l.column()),
        }
    })
}

/// Writes `value` as a YAML document: block style, lists at their key's indentation (as
/// `kubectl get -o yaml` writes them), strings that YAML 1.1 readers would take for something else
/// (`"yes"`, `"0755"`) quoted, long strings kept on one line.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, serde_saphyr::SerializeError> {
    serde_saphyr::to_string_with_options(value, ser_options())
}

fn ser_options() -> serde_saphyr::SerializerOptions {
    serde_saphyr::ser_options! {
        compact_list_indent: true,
        folded_wrap_chars: usize::MAX,
    }
}

/// For `#[serde(deserialize_with)]` on a list, map or section: a key with nothing after it
/// (`exclude:` with every entry commented out) is the field's default. serde_yaml read that empty
/// value as an empty list or section; serde-saphyr reads it as null, which a collection refuses.
pub fn null_as_default<'de, D, T>(de: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(de).map(Option::unwrap_or_default)
}

#[cfg(test)]
mod tests {
    use rstest::rstest;
    use serde_json::{Value, json};

    use super::*;

    /// `v: <text>` read as a `Value`; every expected value is what serde_yaml 0.9.34 read.
    #[rstest]
    #[case::yes("yes", json!("yes"))]
    #[case::no("no", json!("no"))]
    #[case::on("on", json!("on"))]
    #[case::off("off", json!("off"))]
    #[case::y("y", json!("y"))]
    #[case::n("n", json!("n"))]
    #[case::yes_upper("YES", json!("YES"))]
    #[case::mixed_case_true("tRuE", json!("tRuE"))]
    #[case::true_("true", json!(true))]
    #[case::true_title("True", json!(true))]
    #[case::false_upper("FALSE", json!(false))]
    #[case::quoted_true("\"true\"", json!("true"))]
    #[case::single_quoted_yes("'yes'", json!("yes"))]
    #[case::octal_looking("0755", json!("0755"))]
    #[case::negative_leading_zeros("-007", json!("-007"))]
    #[case::signed_zeros("+00", json!("+00"))]
    #[case::quoted_octal_looking("'0755'", json!("0755"))]
    #[case::underscores("1_000", json!("1_000"))]
    #[case::hex_underscores("0xFF_FF", json!("0xFF_FF"))]
    #[case::zero("0", json!(0))]
    #[case::octal_1_2("0o17", json!(15))]
    #[case::hex("0x1F", json!(31))]
    #[case::float("1.5", json!(1.5))]
    #[case::exponent("1e3", json!(1000.0))]
    #[case::u64_max("18446744073709551615", json!(u64::MAX))]
    #[case::sexagesimal("190:20:30", json!("190:20:30"))]
    #[case::date("2001-12-14", json!("2001-12-14"))]
    #[case::infinity(".inf", Value::Null)]
    #[case::not_a_number(".nan", Value::Null)]
    #[case::tilde("~", Value::Null)]
    #[case::empty("", Value::Null)]
    #[case::binary_tag("!!binary aGVsbG8=", json!("aGVsbG8="))]
    #[case::str_tag("!!str 1", json!("1"))]
    fn scalars_read_as_serde_yaml_read_them(#[case] text: &str, #[case] expected: Value) {
        let doc: Value = from_str(&format!("v: {text}\n")).unwrap();
        assert_eq!(doc["v"], expected, "v: {text}");
    }

    #[rstest]
    #[case::duplicate_key_last_wins("a: 1\na: 2\n", json!({"a": 2}))]
    #[case::merge_key_is_an_ordinary_key(
        "b: &b {x: 1}\nd:\n  <<: *b\n  y: 2\n",
        json!({"b": {"x": 1}, "d": {"<<": {"x": 1}, "y": 2}})
    )]
    #[case::numeric_and_boolean_keys_are_strings("1: a\ntrue: b\nyes: c\n", json!({"1": "a", "true": "b", "yes": "c"}))]
    #[case::json("{\"apiVersion\": \"v1\", \"n\": 1.5e3}", json!({"apiVersion": "v1", "n": 1500.0}))]
    #[case::block_scalars("a: |\n  x\n  y\nb: >-\n  x\n  y\n", json!({"a": "x\ny\n", "b": "x y"}))]
    #[case::comment_only("# nothing\n", Value::Null)]
    fn documents_read_as_serde_yaml_read_them(#[case] text: &str, #[case] expected: Value) {
        assert_eq!(from_str::<Value>(text).unwrap(), expected);
    }

    #[derive(Debug, PartialEq, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Typed {
        #[serde(default, deserialize_with = "null_as_default")]
        labels: std::collections::BTreeMap<String, String>,
        #[serde(default)]
        ready: bool,
        #[serde(default, deserialize_with = "null_as_default")]
        items: Vec<String>,
    }

    #[rstest]
    #[case::yes_into_a_string("labels: {a: yes}", "yes")]
    #[case::number_into_a_string("labels: {a: 0755}", "0755")]
    #[case::float_spelling_kept("labels: {a: 1.50}", "1.50")]
    #[case::boolean_into_a_string("labels: {a: true}", "true")]
    #[case::quoted("labels: {a: \"true\"}", "true")]
    fn typed_strings_keep_their_spelling(#[case] text: &str, #[case] expected: &str) {
        let t: Typed = from_str(text).unwrap();
        assert_eq!(t.labels["a"], expected);
    }

    #[test]
    fn only_true_and_false_are_booleans() {
        assert!(from_str::<Typed>("ready: True").unwrap().ready);
        let err = from_str::<Typed>("ready: yes").unwrap_err();
        assert_eq!(err.path.as_deref(), Some("ready"));
        assert_eq!((err.line, err.column), (Some(1), Some(8)));
        assert!(err.to_string().starts_with("ready: invalid boolean"), "{err}");
    }

    #[test]
    fn empty_collections_are_their_default() {
        let t: Typed = from_str("labels:\nitems:\n# - commented out\n").unwrap();
        assert_eq!((t.labels.len(), t.items.len()), (0, 0));
    }

    #[test]
    fn errors_carry_path_line_and_column() {
        let err = from_str::<Typed>("labels: {a: b}\nitems:\n  - x\n  - [y]\n").unwrap_err();
        assert_eq!(err.path.as_deref(), Some("items[1]"));
        assert_eq!((err.line, err.column), (Some(4), Some(5)));
        assert!(err.to_string().ends_with("at line 4, column 5"), "{err}");
        let err = from_str::<Typed>("labels: {a: b}\nextra: 1\n").unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.to_string().contains("unknown field `extra`"), "{err}");
    }

    #[test]
    fn syntax_errors_have_no_path() {
        let err = from_str::<Value>("a: b\n  c: d\n").unwrap_err();
        assert_eq!(err.path, None);
        assert_eq!((err.line, err.column), (Some(2), Some(4)));
    }

    #[test]
    fn large_documents_are_read() {
        let text = format!("[{}]", "1,".repeat(300_000));
        assert_eq!(
            from_str::<Value>(&text).unwrap().as_array().map(Vec::len),
            Some(300_000)
        );
    }

    #[test]
    fn deep_documents_are_refused_not_overflowed() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(from_str::<Value>(&nested(64)).is_ok());
        let err = from_str::<Value>(&nested(65)).unwrap_err();
        assert_eq!((err.line, err.column), (Some(1), Some(65)), "{err}");
    }

    #[test]
    fn lines_are_shifted_to_the_file() {
        let err = from_str_at::<Value>("a: b\n  c: d\n", 10).unwrap_err();
        assert_eq!((err.line, err.column), (Some(11), Some(4)));
        assert!(err.to_string().ends_with("at line 11, column 4"), "{err}");
    }

    #[test]
    fn written_in_block_style_with_ambiguous_strings_quoted() {
        let value = json!({
            "metadata": {"name": "p", "labels": {"flag": "yes", "n": "0755", "t": "true"}},
            "spec": {"priority": 0, "clusterNames": ["member1", "member2"], "empty": [], "on": true},
            "long": "word ".repeat(30).trim_end(),
        });
        let text = to_string(&value).unwrap();
        let expected = format!(
            "long: {}\nmetadata:\n  labels:\n    flag: \"yes\"\n    \"n\": \"0755\"\n    t: \"true\"\n  name: p\n\
             spec:\n  clusterNames:\n  - member1\n  - member2\n  empty: []\n  \"on\": true\n  priority: 0\n",
            "word ".repeat(30).trim_end()
        );
        assert_eq!(text, expected);
        assert_eq!(from_str::<Value>(&text).unwrap(), value);
    }
}
