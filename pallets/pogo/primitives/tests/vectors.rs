//! The known-answer vectors in `docs/vectors` are what this crate computes, byte for byte, each file
//! passes the checker, and the checker notices a changed expected value.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic,
    missing_docs
)]

use pogo_primitives::vectors;
use serde_json::Value;
use std::{fs, path::PathBuf};

const REGENERATE: &str =
    "run `scripts/vectors.sh` from the repository root";

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../docs/vectors")
}

#[test]
fn files_are_what_the_generator_writes() {
    let mut stale = Vec::new();
    for (part, doc) in vectors::all() {
        let want = vectors::render(&doc);
        match fs::read_to_string(dir().join(format!("{part}.json"))) {
            Ok(have) if have == want => {},
            _ => stale.push(part),
        }
    }
    assert!(stale.is_empty(), "docs/vectors is missing or out of date for {stale:?}: {REGENERATE}");
}

#[test]
fn every_file_checks_and_belongs_to_a_part() {
    let parts = vectors::parts();
    let mut found = Vec::new();
    for entry in fs::read_dir(dir()).unwrap_or_else(|e| panic!("docs/vectors: {e}; {REGENERATE}")) {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap().to_owned();
        assert!(parts.contains(&stem.as_str()), "{}: no part is named {stem:?}", path.display());
        let text = fs::read_to_string(&path).unwrap();
        let doc: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let n = vectors::check(&stem, &doc).unwrap_or_else(|e| panic!("{e}"));
        assert!(n > 0, "{stem}: no cases");
        // The rendering survives a round trip through the parser.
        assert_eq!(vectors::render(&doc), text, "{stem}: render(parse(file)) differs from the file");
        found.push(stem);
    }
    found.sort();
    let mut want: Vec<String> = parts.iter().map(|p| (*p).to_owned()).collect();
    want.sort();
    assert_eq!(found, want, "a part has no file: {REGENERATE}");
}

/// Changes `v`: its first scalar, or an empty array or object by adding an element. Always true.
fn mutate(v: &mut Value) -> bool {
    match v {
        Value::Null => {
            *v = Value::Bool(true);
            true
        },
        Value::Bool(b) => {
            *b = !*b;
            true
        },
        Value::Number(n) => {
            let changed = Value::from(n.as_i64().map_or(0, |x| x.wrapping_add(1)));
            *v = changed;
            true
        },
        Value::String(s) => {
            s.push('0');
            true
        },
        Value::Array(items) => {
            if !items.iter_mut().any(mutate) {
                items.push(Value::Null);
            }
            true
        },
        Value::Object(map) => {
            if !map.values_mut().any(mutate) {
                map.insert("mutated".to_owned(), Value::Null);
            }
            true
        },
    }
}

#[test]
fn a_changed_expected_value_is_caught() {
    for (part, doc) in vectors::all() {
        let n = vectors::check(part, &doc).unwrap_or_else(|e| panic!("{e}"));
        let cases = doc["cases"].as_array().unwrap().len();
        assert_eq!(n, cases);
        for at in [0, cases / 2, cases - 1] {
            let mut bad = doc.clone();
            assert!(mutate(&mut bad["cases"][at]["expected"]), "{part} case {at}: nothing to change");
            assert!(vectors::check(part, &bad).is_err(), "{part} case {at}: a changed expected value passed");
        }
        let mut bad = doc.clone();
        bad["protocol_version"] = Value::from(0);
        assert!(vectors::check(part, &bad).is_err(), "{part}: a wrong protocol version passed");
    }
}

#[test]
fn render_is_independent_of_key_order_and_ends_with_a_newline() {
    let a: Value =
        serde_json::from_str(r#"{"b": 1, "a": [1, 2], "name": "x", "cases": [{"z": {}, "expected": []}]}"#).unwrap();
    let b: Value =
        serde_json::from_str(r#"{"cases": [{"expected": [], "z": {}}], "name": "x", "a": [1, 2], "b": 1}"#).unwrap();
    let text = vectors::render(&a);
    assert_eq!(text, vectors::render(&b));
    assert!(text.ends_with("}\n"));
    assert!(text.starts_with("{\n  \"name\": \"x\",\n"), "{text}");
}
