//! Known-answer test vectors: the protocol's bytes and numbers as JSON files (`docs/vectors/<part>.json`)
//! that an independent implementation can check itself against without running Rust.
//!
//! The `pogo-vectors` binary writes the files from [`all`] with [`render`]; `pogo-vectors --check` and
//! the crate's `vectors` test re-evaluate every case with [`check`], which reads each case's input from
//! the JSON alone, calls this crate's functions and compares the result with the case's expected value.
//!
//! # File format
//!
//! ```text
//! {
//!   "protocol_version": 3,
//!   "part": "codec",
//!   "description": "what the kinds of this part compute, their inputs and outputs",
//!   "cases": [
//!     {
//!       "name": "quantize: ties to even at scale 1",
//!       "kind": "quantize",
//!       "input": {"block": 8, "values": [1088421888, 1075838976]},
//!       "expected": {"bytes": "...", "blocks": [...], "dequantized": [...]}
//!     }
//!   ]
//! }
//! ```
//!
//! * `protocol_version` is [`crate::PROTOCOL_VERSION`]; `part` is the file's name without `.json`.
//! * Every case has a unique `name`, a `kind` that says which function it exercises (the part's
//!   `description` lists them), an `input` and an `expected` output; a case passes when the computed
//!   output equals `expected` exactly.
//! * Bytes are lowercase hex strings without `0x`; hashes are 32 such bytes.
//! * f32 values are their IEEE-754 bit patterns as JSON numbers (`1.0` is `1065353216`); f64 values
//!   are their bit patterns as decimal strings. Fields named `approx` (or ending in `_approx`) hold
//!   Rust's shortest round-trip decimal of a float for people to read: compare the bits.
//! * Integers are JSON numbers up to 2^53 − 1 and decimal strings above (any `u64` may be a string);
//!   `u128` values (stakes) are always decimal strings.
//! * A protocol error is `{"error": "<Debug of the Rust error value>"}`, e.g.
//!   `{"error": "NonFinite { index: 5 }"}`; `null` stands for an absent optional value.
//! * Objects are written with a fixed key order (`protocol_version`, `part`, `description`, `name`,
//!   `kind`, `input`, `expected`, then the rest sorted) and two-space indentation; arrays of scalars and
//!   short objects of scalars stay on one line. [`render`] is deterministic, so the files are
//!   byte-for-byte reproducible.
//!
//! Regenerate after a deliberate change of bytes (and bump the protocol version):
//! `scripts/vectors.sh` (the `pogo-vectors` binary with the project's build).

// Test-vector tools (a generator and a checker used by a binary and a test), not runtime code: they
// may panic on a broken invariant, index and do arithmetic on small known sizes, and cast freely.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic,
    clippy::cast_possible_truncation,
    clippy::cast_precision_loss
)]

mod assign;
mod detection;
mod fraud;
mod hash;
mod json;
mod merkle;
mod model;
mod quant;
mod round;
mod seed;
mod state;
mod tolerance;
mod update;
mod verdict;

pub use json::SplitMix;

use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// One case before evaluation: its name, kind and input.
struct Case {
    name: String,
    kind: &'static str,
    input: Value,
}

/// The cases of one part, in file order.
#[derive(Default)]
struct Cases(Vec<Case>);

impl Cases {
    /// Appends a case.
    fn add(&mut self, name: impl Into<String>, kind: &'static str, input: Value) {
        self.0.push(Case { name: name.into(), kind, input });
    }
}

/// Computes a case's expected value from its kind and input. `Err` means the input is malformed (not
/// a protocol error, which is an `Ok` value `{"error": ...}`).
type Eval = fn(&str, &Value) -> Result<Value, String>;

/// One vector file.
struct Part {
    name: &'static str,
    description: &'static str,
    cases: fn() -> Cases,
    eval: Eval,
}

/// Every part, in the order of [`all`].
static PARTS: [Part; 13] = [
    Part { name: "hash", description: hash::DESCRIPTION, cases: hash::cases, eval: hash::eval },
    Part { name: "merkle", description: merkle::DESCRIPTION, cases: merkle::cases, eval: merkle::eval },
    Part { name: "state", description: state::DESCRIPTION, cases: state::cases, eval: state::eval },
    Part { name: "codec", description: quant::DESCRIPTION, cases: quant::cases, eval: quant::eval },
    Part { name: "update", description: update::DESCRIPTION, cases: update::cases, eval: update::eval },
    Part { name: "seed", description: seed::DESCRIPTION, cases: seed::cases, eval: seed::eval },
    Part { name: "assign", description: assign::DESCRIPTION, cases: assign::cases, eval: assign::eval },
    Part { name: "verdict", description: verdict::DESCRIPTION, cases: verdict::cases, eval: verdict::eval },
    Part { name: "tolerance", description: tolerance::DESCRIPTION, cases: tolerance::cases, eval: tolerance::eval },
    Part { name: "round", description: round::DESCRIPTION, cases: round::cases, eval: round::eval },
    Part { name: "fraud", description: fraud::DESCRIPTION, cases: fraud::cases, eval: fraud::eval },
    Part { name: "model", description: model::DESCRIPTION, cases: model::cases, eval: model::eval },
    Part { name: "detection", description: detection::DESCRIPTION, cases: detection::cases, eval: detection::eval },
];

/// The name of every part (each is a file `<name>.json`), in the order of [`all`].
pub fn parts() -> Vec<&'static str> {
    PARTS.iter().map(|p| p.name).collect()
}

/// Every part's document: `(part name, document)`.
///
/// # Panics
///
/// If a generated case cannot be evaluated (a bug in the generator, never a protocol error).
pub fn all() -> Vec<(&'static str, Value)> {
    PARTS.iter().map(|p| (p.name, document(p))).collect()
}

/// Generates one part's document.
fn document(part: &Part) -> Value {
    let cases = (part.cases)().0;
    {
        let mut names = BTreeSet::new();
        for c in &cases {
            assert!(names.insert(c.name.as_str()), "vectors: part {}: case name {:?} is repeated", part.name, c.name);
        }
    }
    let cases: Vec<Value> = cases
        .into_iter()
        .map(|c| {
            let expected = (part.eval)(c.kind, &c.input)
                .unwrap_or_else(|e| panic!("vectors: part {}, case {:?}: {e}", part.name, c.name));
            json!({ "name": c.name, "kind": c.kind, "input": c.input, "expected": expected })
        })
        .collect();
    json!({
        "protocol_version": crate::PROTOCOL_VERSION,
        "part": part.name,
        "description": part.description,
        "cases": cases,
    })
}

/// Re-evaluates every case of `doc`, the document of part `part`, from its JSON input alone and
/// compares the result with the case's expected value. Returns the number of cases checked, or a
/// message naming the first case that fails (or what is malformed).
pub fn check(part: &str, doc: &Value) -> Result<usize, String> {
    let p = PARTS.iter().find(|p| p.name == part).ok_or_else(|| format!("unknown part {part:?}"))?;
    if doc.get("protocol_version").and_then(Value::as_u64) != Some(u64::from(crate::PROTOCOL_VERSION)) {
        return Err(format!("{part}: protocol_version is not {}", crate::PROTOCOL_VERSION));
    }
    if doc.get("part").and_then(Value::as_str) != Some(part) {
        return Err(format!("{part}: the document's \"part\" is not {part:?}"));
    }
    let cases = doc.get("cases").and_then(Value::as_array).ok_or_else(|| format!("{part}: no \"cases\" array"))?;
    if cases.is_empty() {
        return Err(format!("{part}: no cases"));
    }
    let mut names = BTreeSet::new();
    for (i, case) in cases.iter().enumerate() {
        let name = case.get("name").and_then(Value::as_str).unwrap_or("");
        let at = format!("{part}: case {i} ({name:?})");
        if name.is_empty() || !names.insert(name) {
            return Err(format!("{at}: missing or repeated name"));
        }
        let kind = case.get("kind").and_then(Value::as_str).ok_or_else(|| format!("{at}: no kind"))?;
        let input = case.get("input").ok_or_else(|| format!("{at}: no input"))?;
        let expected = case.get("expected").ok_or_else(|| format!("{at}: no expected value"))?;
        let computed = (p.eval)(kind, input).map_err(|e| format!("{at}: malformed input: {e}"))?;
        if computed != *expected {
            return Err(format!("{at}: expected {}, computed {}", short(expected), short(&computed)));
        }
    }
    Ok(cases.len())
}

/// A value's compact JSON, cut to a readable length.
fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.len() <= 400 {
        text
    } else {
        format!("{}...", text.chars().take(400).collect::<String>())
    }
}

/// Keys written first, in this order; the others follow sorted.
const KEY_ORDER: [&str; 7] = ["protocol_version", "part", "description", "name", "kind", "input", "expected"];

/// Longest object written on one line.
const INLINE_WIDTH: usize = 100;

/// Pretty JSON of `doc` with a trailing newline, independent of the map implementation's key order
/// (see the module docs).
pub fn render(doc: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, doc, 0);
    out.push('\n');
    out
}

/// Position of a key in the written order.
fn rank(key: &str) -> usize {
    KEY_ORDER.iter().position(|k| *k == key).unwrap_or(KEY_ORDER.len())
}

/// An object's keys in the written order.
fn keys_in_order(map: &Map<String, Value>) -> Vec<&String> {
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort_by(|a, b| rank(a.as_str()).cmp(&rank(b.as_str())).then_with(|| a.cmp(b)));
    keys
}

/// A key or string as JSON text.
fn quoted(s: &str) -> String {
    Value::from(s).to_string()
}

/// The one-line form of `v`, if it has one: scalars, arrays of scalars (of any length), and objects of
/// such values no wider than [`INLINE_WIDTH`].
fn inline(v: &Value) -> Option<String> {
    match v {
        Value::Array(items) => {
            if items.iter().any(|x| x.is_array() || x.is_object()) {
                return None;
            }
            let parts: Vec<String> = items.iter().map(Value::to_string).collect();
            Some(format!("[{}]", parts.join(", ")))
        },
        Value::Object(map) => {
            let mut parts = Vec::with_capacity(map.len());
            for key in keys_in_order(map) {
                let value = inline(map.get(key.as_str())?)?;
                parts.push(format!("{}: {value}", quoted(key)));
            }
            let text = format!("{{{}}}", parts.join(", "));
            (text.len() <= INLINE_WIDTH).then_some(text)
        },
        _ => Some(v.to_string()),
    }
}

/// Appends `depth` levels of indentation.
fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// Appends `v` at nesting `depth`.
fn write_value(out: &mut String, v: &Value, depth: usize) {
    if let Some(text) = inline(v) {
        out.push_str(&text);
        return;
    }
    match v {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                indent(out, depth + 1);
                write_value(out, item, depth + 1);
            }
            out.push('\n');
            indent(out, depth);
            out.push(']');
        },
        Value::Object(map) => {
            out.push('{');
            for (i, key) in keys_in_order(map).into_iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                indent(out, depth + 1);
                out.push_str(&quoted(key));
                out.push_str(": ");
                if let Some(item) = map.get(key.as_str()) {
                    write_value(out, item, depth + 1);
                }
            }
            out.push('\n');
            indent(out, depth);
            out.push('}');
        },
        _ => out.push_str(&v.to_string()),
    }
}
