//! Label selectors with Kubernetes semantics (`metav1.LabelSelectorAsSelector` + `labels.Selector.Matches`).
//!
//! An invalid selector never matches: that is what Karmada does when the conversion fails
//! (`pkg/util/selector.go`: "should not happen because all resource selector should be fully
//! validated by webhook" → `PriorityMisMatch`). Validity follows apimachinery: `In`/`NotIn` need
//! values, `Exists`/`DoesNotExist` must have none, other operators are errors, keys must be
//! qualified names and values valid label values.

use crate::karmada::{Labels, LabelsRef, policy::LabelSelector};

/// Whether `selector` selects `labels`; `None` when the selector is invalid.
///
/// An empty selector (no matchLabels, no matchExpressions) selects everything, like
/// `labels.Everything()`.
pub fn matches<'a>(selector: &LabelSelector, labels: impl Into<LabelsRef<'a>>) -> Option<bool> {
    let labels = labels.into();
    let mut all = true;
    if let Some(match_labels) = &selector.match_labels {
        for (key, value) in match_labels.iter() {
            if !valid_key(key) || !valid_value(value) {
                return None;
            }
            all &= labels.get(key) == Some(value);
        }
    }
    if let Some(expressions) = &selector.match_expressions {
        for requirement in expressions {
            let key = requirement.key.as_str();
            if !valid_key(key) {
                return None;
            }
            let values = requirement.values.as_deref().unwrap_or_default();
            let present = labels.get(key);
            let ok = match requirement.operator.as_str() {
                "In" | "NotIn" => {
                    if values.is_empty() || !values.iter().all(|v| valid_value(v)) {
                        return None;
                    }
                    let hit = present.is_some_and(|v| values.iter().any(|w| w == v));
                    if requirement.operator == "In" { hit } else { !hit }
                }
                "Exists" | "DoesNotExist" => {
                    if !values.is_empty() {
                        return None;
                    }
                    present.is_some() == (requirement.operator == "Exists")
                }
                _ => return None,
            };
            all &= ok;
        }
    }
    Some(all)
}

/// Whether the selector is valid (it may still match nothing).
pub fn is_valid(selector: &LabelSelector) -> bool {
    matches(selector, &Labels::new()).is_some()
}

/// A qualified name: optional DNS-subdomain prefix and `/`, then a name of at most 63 characters.
pub fn valid_key(key: &str) -> bool {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if let Some(prefix) = prefix
        && !valid_dns_subdomain(prefix)
    {
        return false;
    }
    !name.is_empty() && name.len() <= 63 && valid_name_chars(name)
}

/// A label value: empty, or at most 63 characters of `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`.
pub fn valid_value(value: &str) -> bool {
    value.is_empty() || (value.len() <= 63 && valid_name_chars(value))
}

fn valid_name_chars(s: &str) -> bool {
    let bytes = s.as_bytes();
    let alnum = |b: &u8| b.is_ascii_alphanumeric();
    bytes.first().is_some_and(alnum)
        && bytes.last().is_some_and(alnum)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn valid_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b.len() <= 63
                && b.iter()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;
    use rstest::rstest;

    use super::*;
    use crate::rules::testing::map as labels;

    fn expr(key: &str, op: &str, values: &[&str]) -> LabelSelector {
        LabelSelector {
            match_labels: None,
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: key.into(),
                operator: op.into(),
                values: if values.is_empty() {
                    None
                } else {
                    Some(values.iter().map(|v| (*v).into()).collect())
                },
            }]),
        }
    }

    #[rstest]
    #[case::in_hit(expr("app", "In", &["a", "b"]), &[("app", "b")], Some(true))]
    #[case::in_miss(expr("app", "In", &["a"]), &[("app", "b")], Some(false))]
    #[case::in_absent(expr("app", "In", &["a"]), &[], Some(false))]
    #[case::notin_absent_matches(expr("app", "NotIn", &["a"]), &[], Some(true))]
    #[case::notin_other_value(expr("app", "NotIn", &["a"]), &[("app", "b")], Some(true))]
    #[case::notin_same_value(expr("app", "NotIn", &["a"]), &[("app", "a")], Some(false))]
    #[case::exists(expr("app", "Exists", &[]), &[("app", "")], Some(true))]
    #[case::exists_absent(expr("app", "Exists", &[]), &[], Some(false))]
    #[case::does_not_exist(expr("app", "DoesNotExist", &[]), &[], Some(true))]
    #[case::does_not_exist_present(expr("app", "DoesNotExist", &[]), &[("app", "x")], Some(false))]
    #[case::in_without_values_is_invalid(expr("app", "In", &[]), &[("app", "a")], None)]
    #[case::notin_without_values_is_invalid(expr("app", "NotIn", &[]), &[], None)]
    #[case::exists_with_values_is_invalid(expr("app", "Exists", &["a"]), &[("app", "a")], None)]
    #[case::unknown_operator_is_invalid(expr("app", "Equals", &["a"]), &[("app", "a")], None)]
    #[case::operators_are_case_sensitive(expr("app", "in", &["a"]), &[("app", "a")], None)]
    #[case::bad_key_is_invalid(expr("-app", "Exists", &[]), &[("-app", "a")], None)]
    #[case::bad_value_is_invalid(expr("app", "In", &["a b"]), &[("app", "a b")], None)]
    #[case::prefixed_key(expr("example.com/app", "Exists", &[]), &[("example.com/app", "")], Some(true))]
    #[case::uppercase_prefix_is_invalid(expr("Example.com/app", "Exists", &[]), &[], None)]
    fn expressions(
        #[case] selector: LabelSelector,
        #[case] object: &[(&str, &str)],
        #[case] want: Option<bool>,
    ) {
        assert_eq!(matches(&selector, &labels(object)), want);
    }

    #[test]
    fn empty_selector_selects_everything() {
        let empty = LabelSelector::default();
        assert_eq!(matches(&empty, &Labels::new()), Some(true));
        assert_eq!(matches(&empty, &labels(&[("a", "b")])), Some(true));
    }

    #[test]
    fn match_labels_and_expressions_are_anded() {
        let mut s = expr("tier", "In", &["web"]);
        s.match_labels = Some([("app", "nginx")].into());
        assert_eq!(
            matches(&s, &labels(&[("app", "nginx"), ("tier", "web")])),
            Some(true)
        );
        assert_eq!(
            matches(&s, &labels(&[("app", "nginx"), ("tier", "db")])),
            Some(false)
        );
        assert_eq!(matches(&s, &labels(&[("tier", "web")])), Some(false));
    }

    #[test]
    fn invalid_match_labels_never_match() {
        let s = LabelSelector {
            match_labels: Some([("app", "has space")].into()),
            ..Default::default()
        };
        assert_eq!(matches(&s, &labels(&[("app", "has space")])), None);
        assert!(!is_valid(&s));
    }

    #[test]
    fn key_and_value_syntax() {
        assert!(valid_key("app.kubernetes.io/name"));
        assert!(valid_key(&"a".repeat(63)));
        assert!(!valid_key(&"a".repeat(64)));
        assert!(!valid_key("/name"));
        assert!(!valid_key("prefix/"));
        assert!(valid_value(""));
        assert!(valid_value("v1.2_3-x"));
        assert!(!valid_value("-x"));
        assert!(!valid_value(&"a".repeat(64)));
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_empty_values_for_in_are_always_invalid(
            key in "[a-zA-Z0-9./_-]{0,70}", op in "In|NotIn|Exists|DoesNotExist|[A-Za-z]{0,8}",
            values in proptest::collection::vec("[a-zA-Z0-9._ -]{0,66}", 0..4),
            object in proptest::collection::btree_map("[a-z./]{1,10}", "[a-z0-9]{0,5}", 0..5),
        ) {
            let refs: Vec<&str> = values.iter().map(String::as_str).collect();
            let sel = expr(&key, &op, &refs);
            let got = matches(&sel, &object);
            if (op == "In" || op == "NotIn") && values.is_empty() {
                proptest::prop_assert_eq!(got, None);
            }
            if op == "NotIn" && got.is_some() {
                // NotIn is the complement of In for the same valid requirement.
                let inverse = matches(&expr(&key, "In", &refs), &object);
                proptest::prop_assert_eq!(inverse.map(|b| !b), got);
            }
        }
    }
}
