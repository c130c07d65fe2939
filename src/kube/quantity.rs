//! Kubernetes resource quantities (`k8s.io/apimachinery/pkg/api/resource.Quantity`): their
//! values as the scheduler's estimator reads them (`Value()` and `MilliValue()`, both rounded up),
//! and their text as the API server writes it back ([`canonical`], [`canonical_resource`]).
//!
//! The text matters because the restart guard compares a template with a member's running copy:
//! a hand-written `cpu: 0.5` is stored and returned as `500m`, so the two must compare equal.

/// A parsed quantity: `mantissa × 10^exp10`, exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    mantissa: i128,
    exp10: i32,
}

/// Parses `1`, `0.5`, `250m`, `1Gi`, `1e3`, `-2k`... (`resource.ParseQuantity`); `None` when the
/// text is not a quantity.
pub fn parse(text: &str) -> Option<Parsed> {
    let text = text.trim();
    let (sign, rest) = match text.as_bytes().first()? {
        b'-' => (-1, &text[1..]),
        b'+' => (1, &text[1..]),
        _ => (1, text),
    };
    let number_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (number, suffix) = rest.split_at(number_end);
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut mantissa: i128 = 0;
    for d in int_part.bytes().chain(frac_part.bytes()) {
        mantissa = mantissa.checked_mul(10)?.checked_add(i128::from(d - b'0'))?;
    }
    let mut exp10 = -i32::try_from(frac_part.len()).ok()?;
    let (binary, decimal): (u32, i32) = match suffix {
        "" => (0, 0),
        "Ki" => (10, 0),
        "Mi" => (20, 0),
        "Gi" => (30, 0),
        "Ti" => (40, 0),
        "Pi" => (50, 0),
        "Ei" => (60, 0),
        "n" => (0, -9),
        "u" => (0, -6),
        "m" => (0, -3),
        "k" => (0, 3),
        "M" => (0, 6),
        "G" => (0, 9),
        "T" => (0, 12),
        "P" => (0, 15),
        "E" => (0, 18),
        s if s.starts_with(['e', 'E']) => (0, s[1..].parse().ok()?),
        _ => return None,
    };
    mantissa = mantissa.checked_mul(1i128.checked_shl(binary)?)?;
    exp10 = exp10.checked_add(decimal)?;
    Some(Parsed {
        mantissa: mantissa * sign,
        exp10,
    })
}

impl Parsed {
    /// `ceil(self × 10^scale)`, saturated to `i64`.
    fn scaled_ceil(self, scale: i32) -> i64 {
        let exp = self.exp10 + scale;
        let value = if exp >= 0 {
            match 10i128.checked_pow(exp.unsigned_abs()) {
                Some(p) => self.mantissa.saturating_mul(p),
                None if self.mantissa == 0 => 0,
                None => i128::MAX * self.mantissa.signum(),
            }
        } else {
            match 10i128.checked_pow(exp.unsigned_abs()) {
                Some(p) => {
                    let q = self.mantissa.div_euclid(p);
                    if self.mantissa.rem_euclid(p) == 0 {
                        q
                    } else {
                        q + 1
                    }
                }
                None => i128::from(self.mantissa > 0),
            }
        };
        i64::try_from(value).unwrap_or(if value > 0 { i64::MAX } else { i64::MIN })
    }

    /// `self − other`, exactly (`Quantity.Sub`).
    #[must_use]
    pub fn minus(self, other: Parsed) -> Parsed {
        let exp10 = self.exp10.min(other.exp10);
        let align = |p: Parsed| {
            10i128
                .checked_pow((p.exp10 - exp10).unsigned_abs())
                .map_or(i128::MAX, |f| p.mantissa.saturating_mul(f))
        };
        Parsed {
            mantissa: align(self).saturating_sub(align(other)),
            exp10,
        }
    }

    /// `Quantity.Value()`: the value rounded up to an integer.
    pub fn value(self) -> i64 {
        self.scaled_ceil(0)
    }

    /// `Quantity.MilliValue()`: the value in thousandths, rounded up.
    pub fn milli_value(self) -> i64 {
        self.scaled_ceil(3)
    }
}

/// `Value()` of a quantity text (0 when it does not parse, as an unparsable field never reaches
/// Karmada: the API server rejects it).
pub fn value(text: &str) -> i64 {
    parse(text).map_or(0, Parsed::value)
}

/// `MilliValue()` of a quantity text (0 when it does not parse).
pub fn milli_value(text: &str) -> i64 {
    parse(text).map_or(0, Parsed::milli_value)
}

/// The three ways a quantity is written (`resource.Format`), remembered from its suffix: the API
/// server writes a quantity back in the format it was given (`1e3` stays `1e3`, it does not become
/// `1k`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// `12e6`, `1E3`.
    DecimalExponent,
    /// `12Mi`.
    BinarySi,
    /// `12M`, `500m`, `3`.
    DecimalSi,
}

/// A quantity as `resource.ParseQuantity` holds it: `mantissa × 10^exp10`, its format, and the
/// text it keeps to write back unchanged when that text is already canonical (`s`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Held {
    mantissa: i128,
    exp10: i32,
    format: Format,
    /// `Some` when parsed on the fast path (an `int64Amount`): its scale decides whether
    /// `RoundUp` has anything to do.
    int_scale: Option<i32>,
    kept_text: Option<String>,
}

/// `parseQuantityString`: sign, integer digits (leading zeros dropped, `"0"` when none), fraction
/// digits and suffix; `None` where Go reports `ErrFormatWrong`.
fn lex(text: &str) -> Option<(bool, &str, &str, &str)> {
    let b = text.as_bytes();
    let end = b.len();
    let mut pos = 0;
    let mut negative = false;
    match b.first() {
        Some(b'-') => {
            negative = true;
            pos = 1;
        }
        Some(b'+') => pos = 1,
        _ => {}
    }
    while pos < end && b[pos] == b'0' {
        pos += 1;
    }
    if pos >= end {
        return Some((negative, "0", "", ""));
    }
    let start = pos;
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    let num = if pos == start { "0" } else { &text[start..pos] };
    if pos >= end {
        return Some((negative, num, "", ""));
    }
    let mut denom = "";
    if b[pos] == b'.' {
        pos += 1;
        let start = pos;
        while pos < end && b[pos].is_ascii_digit() {
            pos += 1;
        }
        denom = &text[start..pos];
        if pos >= end {
            return Some((negative, num, denom, ""));
        }
    }
    let suffix_start = pos;
    while pos < end && b"eEinumkKMGTP".contains(&b[pos]) {
        pos += 1;
    }
    if pos < end && (b[pos] == b'-' || b[pos] == b'+') {
        pos += 1;
    }
    while pos < end && b[pos].is_ascii_digit() {
        pos += 1;
    }
    (pos >= end).then(|| (negative, num, denom, &text[suffix_start..]))
}

/// `quantitySuffixer.interpret`: base, exponent and format of a suffix.
fn interpret(suffix: &str) -> Option<(u32, i32, Format)> {
    let decimal = |e| Some((10, e, Format::DecimalSi));
    let binary = |e| Some((2, e, Format::BinarySi));
    match suffix {
        "n" => decimal(-9),
        "u" => decimal(-6),
        "m" => decimal(-3),
        "" => decimal(0),
        "k" => decimal(3),
        "M" => decimal(6),
        "G" => decimal(9),
        "T" => decimal(12),
        "P" => decimal(15),
        "E" => decimal(18),
        "Ki" => binary(10),
        "Mi" => binary(20),
        "Gi" => binary(30),
        "Ti" => binary(40),
        "Pi" => binary(50),
        "Ei" => binary(60),
        s if s.len() > 1 && s.starts_with(['e', 'E']) => {
            let exp: i64 = s[1..].parse().ok()?;
            Some((10, i32::try_from(exp).ok()?, Format::DecimalExponent))
        }
        _ => None,
    }
}

/// `m / 10^digits`, rounded away from zero; the second value says whether it was exact.
fn shift_down_away_from_zero(m: i128, digits: u32) -> Option<(i128, bool)> {
    let p = 10i128.checked_pow(digits)?;
    let (q, r) = (m / p, m % p);
    Some(if r == 0 {
        (q, true)
    } else {
        (q + m.signum(), false)
    })
}

/// `resource.ParseQuantity` (after the `TrimSpace` of `UnmarshalJSON`).
fn hold(text: &str) -> Option<Held> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    if text == "0" {
        return Some(Held {
            mantissa: 0,
            exp10: 0,
            format: Format::DecimalSi,
            int_scale: Some(0),
            kept_text: Some(text.to_owned()),
        });
    }
    let (negative, num, denom, suffix) = lex(text)?;
    let (base, exponent, format) = interpret(suffix)?;
    let digits = |s: &str| i32::try_from(s.len()).ok();
    let sign = if negative { -1 } else { 1 };
    // The fast path: an int64 mantissa at a scale of at least nano.
    let (precision, mut scale, multiplier) = match format {
        Format::BinarySi if denom.is_empty() => {
            // `int32(float32(exponent)*3/10)` is exact for the six binary exponents.
            (15 - digits(num)? - exponent * 3 / 10 - 1, 0, 1i64 << exponent)
        }
        Format::BinarySi => (-1, 0, 1),
        _ => (18 - digits(num)? - digits(denom)?, exponent, 1),
    };
    if precision >= 0 {
        scale -= digits(denom)?;
        if scale >= -9 {
            let shifted = format!("{num}{denom}");
            let value: i64 = shifted.parse().ok()?;
            if let Some(result) = value.checked_mul(multiplier) {
                let canonical_text = match format {
                    Format::BinarySi => exponent % 10 == 0 && value & 0x07 != 0,
                    _ => scale % 3 == 0 && !shifted.ends_with("000") && !shifted.starts_with('0'),
                };
                return Some(Held {
                    mantissa: i128::from(result) * sign,
                    exp10: scale,
                    format,
                    int_scale: Some(scale),
                    kept_text: canonical_text.then(|| text.to_owned()),
                });
            }
        }
    }
    // The slow path (`inf.Dec`): exact, then rounded up to nano, binary capped at 2^63-1.
    let mut mantissa: i128 = 0;
    for d in num.bytes().chain(denom.bytes()) {
        mantissa = mantissa.checked_mul(10)?.checked_add(i128::from(d - b'0'))?;
    }
    let mut exp10 = -digits(denom)?;
    if base == 10 {
        exp10 = exp10.checked_add(exponent)?;
    } else {
        mantissa = mantissa.checked_mul(1i128.checked_shl(exponent.unsigned_abs())?)?;
    }
    if mantissa != 0 && exp10 < -9 {
        mantissa = shift_down_away_from_zero(mantissa, (-9 - exp10).unsigned_abs())?.0;
        exp10 = -9;
    }
    let mut format = format;
    if format == Format::BinarySi {
        let max = i128::from(i64::MAX);
        if compare(mantissa, exp10, max, 0)? == std::cmp::Ordering::Greater {
            (mantissa, exp10) = (max, 0);
        }
        if mantissa != 0 && compare(mantissa, exp10, 1, 0)? == std::cmp::Ordering::Less {
            format = Format::DecimalSi;
        }
    }
    Some(Held {
        mantissa: mantissa * sign,
        exp10,
        format,
        int_scale: None,
        kept_text: None,
    })
}

/// Compares `a × 10^ae` with `b × 10^be` (both non-negative here).
fn compare(a: i128, ae: i32, b: i128, be: i32) -> Option<std::cmp::Ordering> {
    let e = ae.min(be);
    let scale = |m: i128, x: i32| m.checked_mul(10i128.checked_pow((x - e).unsigned_abs())?);
    Some(scale(a, ae)?.cmp(&scale(b, be)?))
}

impl Held {
    /// `Quantity.RoundUp(-3)`, as `SetDefaults_ResourceList` applies it to every value of a
    /// resource list: at most three decimals, rounded away from zero.
    fn round_up_to_milli(&mut self) -> Option<()> {
        if self.int_scale.is_some_and(|s| s >= -3) {
            return Some(());
        }
        self.kept_text = None;
        if self.exp10 < -3 {
            self.mantissa = shift_down_away_from_zero(self.mantissa, (-3 - self.exp10).unsigned_abs())?.0;
            self.exp10 = -3;
        }
        Some(())
    }

    /// `Quantity.MarshalJSON`: the kept text, or `CanonicalizeBytes`.
    fn text(&self) -> Option<String> {
        if let Some(text) = &self.kept_text {
            return Some(text.clone());
        }
        if self.mantissa == 0 {
            return Some("0".to_owned());
        }
        let mut format = self.format;
        if format == Format::BinarySi {
            let magnitude = self.mantissa.abs();
            if compare(magnitude, self.exp10, 1024, 0)? == std::cmp::Ordering::Less {
                format = Format::DecimalSi;
            } else {
                let integer = if self.exp10 >= 0 {
                    Some(
                        self.mantissa
                            .checked_mul(10i128.checked_pow(self.exp10.unsigned_abs())?)?,
                    )
                } else {
                    match shift_down_away_from_zero(self.mantissa, self.exp10.unsigned_abs())? {
                        (n, true) => Some(n),
                        (_, false) => None,
                    }
                };
                match integer {
                    Some(mut n) => {
                        let mut times = 0;
                        while n % 1024 == 0 && n.abs() >= 1024 {
                            n /= 1024;
                            times += 1;
                        }
                        let suffix = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"].get(times).copied()?;
                        return Some(format!("{n}{suffix}"));
                    }
                    None => format = Format::DecimalSi,
                }
            }
        }
        let (mut n, mut exponent) = (self.mantissa, self.exp10);
        while n % 10 == 0 {
            n /= 10;
            exponent += 1;
        }
        while exponent % 3 != 0 {
            n = n.checked_mul(10)?;
            exponent -= 1;
        }
        let suffix = match format {
            Format::DecimalExponent if exponent == 0 => String::new(),
            Format::DecimalExponent => format!("e{exponent}"),
            // An exponent with no SI suffix (past `E`) is written with none: `1000E` → `1`,
            // as `CanonicalizeBytes` does.
            _ => match exponent {
                -9 => "n",
                -6 => "u",
                -3 => "m",
                3 => "k",
                6 => "M",
                9 => "G",
                12 => "T",
                15 => "P",
                18 => "E",
                _ => "",
            }
            .to_owned(),
        };
        Some(format!("{n}{suffix}"))
    }
}

/// The text the API server writes back for a quantity field (`emptyDir.sizeLimit`,
/// `resourceFieldRef.divisor`, ...): `ParseQuantity` then `MarshalJSON`. `0.5` → `500m`,
/// `1024Mi` → `1Gi`, `1.5Gi` → `1536Mi`, `1e3` stays `1e3`. `None` when the text is not a
/// quantity the API server would accept (it rejects the object) or is too large to hold here
/// (more than 38 digits).
pub fn canonical(text: &str) -> Option<String> {
    hold(text)?.text()
}

/// The text the API server writes back for a value of a resource list (`resources.requests`,
/// `resources.limits`, `overhead`): as [`canonical`], after `SetDefaults_ResourceList` rounded it
/// up to milli precision (`1n` → `1m`).
pub fn canonical_resource(text: &str) -> Option<String> {
    let mut held = hold(text)?;
    held.round_up_to_milli()?;
    held.text()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case::plain("4", 4, 4000)]
    #[case::milli_cpu("250m", 1, 250)]
    #[case::fraction("0.5", 1, 500)]
    #[case::binary("1Gi", 1 << 30, (1i64 << 30) * 1000)]
    #[case::decimal("2k", 2000, 2_000_000)]
    #[case::exponent("1e3", 1000, 1_000_000)]
    #[case::nano("1n", 1, 1)]
    #[case::negative("-1.5", -1, -1500)]
    fn values(#[case] text: &str, #[case] v: i64, #[case] mv: i64) {
        assert_eq!((value(text), milli_value(text)), (v, mv));
    }

    #[test]
    fn subtraction_is_exact() {
        let left = parse("1")
            .unwrap()
            .minus(parse("250m").unwrap())
            .minus(parse("0.5").unwrap());
        assert_eq!(left.milli_value(), 250);
        assert_eq!(
            parse("1Gi").unwrap().minus(parse("1Mi").unwrap()).value(),
            (1 << 30) - (1 << 20)
        );
    }

    /// Every line of the table: a text, then what apimachinery v0.36.3 writes back for it
    /// (`ParseQuantity` then `MarshalJSON`), then the same after `RoundUp(-3)`
    /// (`SetDefaults_ResourceList`); `ERR` where `ParseQuantity` fails. The table was produced
    /// by running those functions; it pins the quirks too (`1.500k` and `+1` kept as written,
    /// `1000E` written `1`, `8Ei` capped at 2^63-1).
    #[test]
    fn canonical_text_matches_apimachinery() {
        let table = include_str!("../../tests/fixtures/quantity/apimachinery-v0.36.3.tsv");
        let mut mismatches = Vec::new();
        let mut checked = 0;
        for line in table.lines() {
            let mut cols = line.split('\t');
            let (Some(text), Some(plain), Some(rounded)) = (cols.next(), cols.next(), cols.next()) else {
                panic!("malformed line {line:?}");
            };
            let expect = |col: &str| (col != "ERR").then(|| col.trim_matches('"').to_owned());
            let got = (canonical(text), canonical_resource(text));
            if got != (expect(plain), expect(rounded)) {
                mismatches.push(format!("{text:?}: got {got:?}, apimachinery {plain} {rounded}"));
            }
            checked += 1;
        }
        assert!(checked > 500, "the table has {checked} lines");
        assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    }

    #[rstest]
    #[case::fraction("0.5", "500m")]
    #[case::whole_milli("1000m", "1")]
    #[case::binary_kept("1Gi", "1Gi")]
    #[case::binary_up("1024Mi", "1Gi")]
    #[case::binary_fraction("1.5Gi", "1536Mi")]
    #[case::exponent_kept("1e3", "1e3")]
    #[case::exponent_normalised("10e2", "1e3")]
    fn canonical_examples(#[case] text: &str, #[case] written: &str) {
        assert_eq!(canonical(text).as_deref(), Some(written));
    }

    #[test]
    fn resource_lists_round_up_to_milli() {
        assert_eq!(canonical("1n").as_deref(), Some("1n"));
        assert_eq!(canonical_resource("1n").as_deref(), Some("1m"));
        assert_eq!(canonical_resource("-1.0001").as_deref(), Some("-1001m"));
    }

    #[rstest]
    #[case::empty("")]
    #[case::unknown_suffix("1X")]
    #[case::only_dot(".")]
    fn invalid(#[case] text: &str) {
        assert_eq!(parse(text), None);
    }
}
