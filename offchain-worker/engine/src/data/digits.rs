//! The UCI optical handwritten digits (1,797 images of 8×8 pixels, intensities 0..=16, labels 0..=9), as
//! scikit-learn bundles them (`sklearn/datasets/data/digits.csv.gz`; `scripts/setup.sh` unpacks it to
//! `<data dir>/digits.csv`). Record: 64 pixel bytes then the label byte. Split: record `i` is held out
//! for evaluation when `i % 6 == 5` (299 eval, 1,498 train records), so both splits cover the whole file.

use super::{read, DataError, Dataset, Split};
use std::path::Path;

/// Bytes per digits record.
pub const DIGITS_RECORD: usize = 65;

/// Parses the CSV (65 comma-separated integers per line; blank lines ignored) into records.
pub fn parse_digits_csv(path: &Path, text: &str) -> Result<Vec<[u8; DIGITS_RECORD]>, DataError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |reason: String| DataError::Malformed { path: path.to_path_buf(), line: i + 1, reason };
        let mut record = [0u8; DIGITS_RECORD];
        let mut n = 0;
        for field in line.split(',') {
            let v: f64 = field.trim().parse().map_err(|_| bad(format!("not a number: {field:?}")))?;
            let limit = if n < 64 { 16.0 } else { 9.0 };
            if !(0.0..=limit).contains(&v) || v.fract() != 0.0 {
                return Err(bad(format!("field {} = {v} out of range 0..={limit}", n + 1)));
            }
            if n >= DIGITS_RECORD {
                return Err(bad(format!("more than {DIGITS_RECORD} fields")));
            }
            record[n] = v as u8;
            n += 1;
        }
        if n != DIGITS_RECORD {
            return Err(bad(format!("{n} fields, expected {DIGITS_RECORD}")));
        }
        out.push(record);
    }
    Ok(out)
}

/// Loads `path` (default `<data dir>/digits.csv`).
pub fn digits(path: Option<&Path>) -> Result<Dataset, DataError> {
    let default = super::data_dir().join("digits.csv");
    let path = path.unwrap_or(&default);
    let bytes = read(path)?;
    let text = String::from_utf8_lossy(&bytes);
    let records = parse_digits_csv(path, &text)?;
    let (mut train, mut eval) = (Vec::new(), Vec::new());
    for (i, r) in records.iter().enumerate() {
        if i % 6 == 5 { eval.extend_from_slice(r) } else { train.extend_from_slice(r) }
    }
    if train.is_empty() || eval.is_empty() {
        return Err(DataError::TooSmall(path.display().to_string()));
    }
    Ok(Dataset {
        name: "digits".into(),
        record_len: DIGITS_RECORD,
        train: Split::new(DIGITS_RECORD, train),
        eval: Split::new(DIGITS_RECORD, eval),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_lines_are_typed_errors() {
        let p = Path::new("x.csv");
        let ok = format!("{}9\n", "16,".repeat(64));
        assert_eq!(parse_digits_csv(p, &ok).unwrap().len(), 1);
        assert!(matches!(parse_digits_csv(p, "1,2,3\n"), Err(DataError::Malformed { line: 1, .. })));
        let bad_label = format!("{}10\n", "0,".repeat(64));
        assert!(matches!(parse_digits_csv(p, &bad_label), Err(DataError::Malformed { .. })));
        let bad_pixel = format!("17,{}1\n", "0,".repeat(63));
        assert!(matches!(parse_digits_csv(p, &bad_pixel), Err(DataError::Malformed { .. })));
    }
}
