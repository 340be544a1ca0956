//! Number formatting for the document: significant digits, SI bytes, durations, counts with separators.
//! Everything is deterministic (no locale, no clock), so the document is reproducible byte for byte.

/// `x` with `digits` significant digits; scientific (`1.23e-7`) below 10⁻³ and from 10⁹ on.
pub fn sig(x: f64, digits: usize) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x == 0.0 { "0".to_string() } else { format!("{x}") };
    }
    let digits = digits.max(1);
    let exponent = x.abs().log10().floor() as i32;
    if !(-3..9).contains(&exponent) {
        return format!("{:.*e}", digits - 1, x);
    }
    let decimals = (digits as i32 - 1 - exponent).max(0) as usize;
    let rounded = format!("{x:.decimals$}");
    // Rounding can carry into a new digit (9.996 → "10.00"); keep the count of significant digits.
    match rounded.parse::<f64>() {
        Ok(r) if r.abs().log10().floor() as i32 > exponent && decimals > 0 => format!("{x:.*}", decimals - 1),
        _ => rounded,
    }
}

/// An integer with `,` between groups of three digits.
pub fn int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A whole count held as f64 (threads, cores, accelerators, nodes), with separators.
pub fn count(x: f64) -> String {
    int(x.round().max(0.0) as u64)
}

/// Bytes in decimal SI units, three significant digits (`98.4 GB`); exact below 1 kB.
pub fn bytes(x: f64) -> String {
    const UNITS: [(f64, &str); 5] = [(1e15, "PB"), (1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")];
    for (scale, unit) in UNITS {
        if x >= scale {
            return format!("{} {unit}", sig(x / scale, 3));
        }
    }
    format!("{} B", int(x.round() as u64))
}

/// A rate in decimal SI units with `unit` after the prefix (`6.50 GB/s`, `2.53 G params/s`).
pub fn rate(x: f64, unit: &str) -> String {
    const PREFIXES: [(f64, &str); 5] = [(1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")];
    let separator = if unit.starts_with('B') { "" } else { " " };
    for (scale, prefix) in PREFIXES {
        if x >= scale {
            return format!("{} {prefix}{separator}{unit}", sig(x / scale, 3));
        }
    }
    format!("{} {unit}", sig(x, 3))
}

/// A duration in the largest unit that keeps it at least 1, three significant digits.
pub fn seconds(s: f64) -> String {
    const UNITS: [(f64, &str); 6] =
        [(86_400.0 * 365.25, "years"), (86_400.0, "days"), (3_600.0, "h"), (60.0, "min"), (1.0, "s"), (1e-3, "ms")];
    for (scale, unit) in UNITS {
        if s >= scale {
            return format!("{} {unit}", sig(s / scale, 3));
        }
    }
    format!("{} µs", sig(s * 1e6, 3))
}

/// A detection probability from the probability `miss` that it fails: `1 − miss` with four significant
/// digits, or written as `1 − miss` when the miss is below 10⁻⁴ (so that 1 − 10⁻¹⁸ does not print as 1).
pub fn detection(miss: f64) -> String {
    if miss <= 0.0 {
        "1".to_string()
    } else if miss < 1e-4 {
        format!("1 − {}", sig(miss, 2))
    } else {
        sig(1.0 - miss, 4)
    }
}

/// A ratio as a percentage with three significant digits (`1.23 %`).
pub fn percent(r: f64) -> String {
    format!("{} %", sig(r * 100.0, 3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_stable() {
        assert_eq!(sig(0.012345, 3), "0.0123");
        assert_eq!(sig(9.996, 3), "10.0");
        assert_eq!(sig(123456.0, 3), "123456");
        assert_eq!(sig(1.5e-7, 2), "1.5e-7");
        assert_eq!(sig(3.2e9, 2), "3.2e9");
        assert_eq!(int(42_724_610), "42,724,610");
        assert_eq!(int(999), "999");
        assert_eq!(bytes(98_415_360_000.0), "98.4 GB");
        assert_eq!(bytes(108.0), "108 B");
        assert_eq!(rate(6.503e9, "B/s"), "6.50 GB/s");
        assert_eq!(rate(2.53e9, "params/s"), "2.53 G params/s");
        assert_eq!(seconds(90.0), "1.50 min");
        assert_eq!(seconds(0.0042), "4.20 ms");
        assert_eq!(seconds(3.0 * 86_400.0), "3.00 days");
        assert_eq!(detection(0.5), "0.5000");
        assert_eq!(detection(1e-9), "1 − 1.0e-9");
        assert_eq!(detection(0.0), "1");
        assert_eq!(percent(0.012345), "1.23 %");
    }
}
