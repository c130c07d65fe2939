//! Values a client sent, quoted back in a message, within a bound: a 1 MB string in the wrong
//! place must not come back whole in the 400 (or the denial) that names it.

use std::borrow::Cow;

/// Longest value quoted back, in characters; longer ones are cut and marked `…(N bytes)`.
pub const LIMIT: usize = 128;

/// `value`, or its first [`LIMIT`] characters followed by `…(N bytes)` (N: its whole length).
pub fn value(value: &str) -> Cow<'_, str> {
    match value.char_indices().nth(LIMIT) {
        None => Cow::Borrowed(value),
        Some((cut, _)) => Cow::Owned(format!("{}…({} bytes)", &value[..cut], value.len())),
    }
}

/// `message` with every quoted value in it (`"…"`, with backslash escapes, or `` `…` ``, the
/// two quotings of serde's error messages: `invalid type: string "…"`, ``unknown variant `…` ``)
/// bounded by [`value`]. An unterminated quote runs to the end of the message.
pub fn quoted_values(message: &str) -> Cow<'_, str> {
    if message.len() <= LIMIT {
        return Cow::Borrowed(message);
    }
    let mut out = String::with_capacity(4 * LIMIT);
    let mut rest = message;
    while let Some(open) = rest.find(['"', '`']) {
        let quote = rest.as_bytes()[open];
        out.push_str(&rest[..=open]);
        let inside = &rest[open + 1..];
        let close = if quote == b'"' {
            closing_double_quote(inside)
        } else {
            inside.find('`')
        };
        match close {
            Some(close) => {
                out.push_str(&value(&inside[..close]));
                out.push(char::from(quote));
                rest = &inside[close + 1..];
            }
            None => {
                out.push_str(&value(inside));
                rest = "";
            }
        }
    }
    out.push_str(rest);
    if out.len() == message.len() {
        Cow::Borrowed(message)
    } else {
        Cow::Owned(out)
    }
}

/// Index of the `"` that ends a Rust-`Debug`-escaped string starting at `text`.
fn closing_double_quote(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_and_short_ones_kept() {
        assert_eq!(value("Deployment"), "Deployment");
        let long = "é".repeat(1000);
        let cut = value(&long);
        assert_eq!(cut, format!("{}…(2000 bytes)", "é".repeat(LIMIT)));
        assert_eq!(value(&"x".repeat(LIMIT)), "x".repeat(LIMIT));
    }

    #[test]
    fn quoted_values_in_parser_messages_are_bounded() {
        let big = "A".repeat(1_000_000);
        let message = format!("invalid type: string {big:?}, expected a boolean at line 1 column 1000042");
        assert_eq!(
            quoted_values(&message),
            format!(
                "invalid type: string \"{}…(1000000 bytes)\", expected a boolean at line 1 column 1000042",
                "A".repeat(LIMIT)
            )
        );
        let escaped = format!(
            "invalid value: string \"{}\\\"{}\", expected x",
            "a".repeat(200),
            "b".repeat(10)
        );
        assert!(
            quoted_values(&escaped).ends_with("…(212 bytes)\", expected x"),
            "{}",
            quoted_values(&escaped)
        );
        let variant = format!(
            "unknown variant `{big}`, expected one of `CREATE`, `UPDATE`, `DELETE`, `CONNECT` at line 1 column 9"
        );
        let bounded = quoted_values(&variant);
        assert!(bounded.len() < 400, "{bounded}");
        assert!(
            bounded.ends_with("…(1000000 bytes)`, expected one of `CREATE`, `UPDATE`, `DELETE`, `CONNECT` at line 1 column 9"),
            "{bounded}"
        );
        let unterminated = format!("unknown field `{big}");
        assert!(quoted_values(&unterminated).len() < 300);
        // Nothing long: the message itself, not a copy.
        let short = format!("missing field `apiVersion` at line 1 column 2{}", " ".repeat(200));
        assert!(matches!(quoted_values(&short), Cow::Borrowed(_)));
    }
}
