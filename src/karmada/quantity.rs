//! Kubernetes resource quantities (`k8s.io/apimachinery/pkg/api/resource.Quantity`) as the
//! scheduler's estimator reads them: `Value()` and `MilliValue()`, both rounded up.

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

    #[rstest]
    #[case::empty("")]
    #[case::unknown_suffix("1X")]
    #[case::only_dot(".")]
    fn invalid(#[case] text: &str) {
        assert_eq!(parse(text), None);
    }
}
