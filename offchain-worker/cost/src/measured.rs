//! Measured constants: the `summary:` lines of one bench run, with a header naming the machine.
//!
//! A measured file (`docs/measured/cpu-<date>.txt`, written by `scripts/cost.sh --record`) holds:
//!
//! ```text
//! # any comment
//! # date: 2026-12-01
//! # machine: AMD EPYC
//! # cores: 2
//! summary: state_root_vs_blake3 0.402 ratio >=0.8 not-met
//! summary: state_root_throughput 6.5030e9 bytes/s - info
//! ```
//!
//! Each `summary:` line is `summary: NAME VALUE UNIT GOAL STATUS` with `STATUS` one of `met`, `not-met`
//! (a goal line) or `info` (goal `-`). `# key: value` lines with the keys `date`, `machine`, `cores` (and
//! optionally `simd`) are the header; other `#` lines and blank lines are comments. Anything else is an
//! error, as is a malformed or repeated line.

use thiserror::Error;

/// Why a measured file was refused. Line numbers count from 1.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MeasuredError {
    /// A `summary:` line without exactly five fields after the prefix.
    #[error(
        "line {line}: a summary line needs 5 fields after `summary:` (NAME VALUE UNIT GOAL STATUS), found {found}"
    )]
    FieldCount {
        /// The line.
        line: usize,
        /// Fields found.
        found: usize,
    },
    /// The value is not a finite number.
    #[error("line {line}: the value `{value}` of `{name}` is not a finite number")]
    BadValue {
        /// The line.
        line: usize,
        /// The measurement.
        name: String,
        /// The text found.
        value: String,
    },
    /// The status is none of `met`, `not-met`, `info`.
    #[error("line {line}: the status `{status}` is none of met, not-met, info")]
    BadStatus {
        /// The line.
        line: usize,
        /// The text found.
        status: String,
    },
    /// An `info` line with a goal, or a goal line without one.
    #[error(
        "line {line}: status `{status}` does not go with goal `{goal}` (info lines have goal `-`, the others a goal)"
    )]
    GoalMismatch {
        /// The line.
        line: usize,
        /// The goal found.
        goal: String,
        /// The status found.
        status: String,
    },
    /// A measurement named twice.
    #[error("line {line}: `{name}` was already given on line {first}")]
    Duplicate {
        /// The line.
        line: usize,
        /// The measurement.
        name: String,
        /// Where it was first given.
        first: usize,
    },
    /// A header key given twice, or with an empty value.
    #[error("line {line}: the header `{key}` is repeated or empty")]
    BadHeader {
        /// The line.
        line: usize,
        /// The key.
        key: String,
    },
    /// A line that is neither a comment, a header nor a summary line.
    #[error("line {line}: neither a `#` comment or header nor a `summary:` line")]
    UnexpectedLine {
        /// The line.
        line: usize,
    },
    /// A required header is missing.
    #[error("the header `# {key}: ...` is missing")]
    MissingHeader {
        /// The key.
        key: &'static str,
    },
    /// The `cores` header is not a positive integer.
    #[error("the header `cores` is `{value}`, not a positive integer")]
    BadCores {
        /// The text found.
        value: String,
    },
    /// A measurement the cost model needs is missing.
    #[error("the measurement `{name}` is missing")]
    Missing {
        /// The measurement.
        name: &'static str,
    },
    /// A measurement in another unit than the cost model reads it in.
    #[error("`{name}` is in `{found}`, expected `{expected}`")]
    WrongUnit {
        /// The measurement.
        name: &'static str,
        /// The unit the model needs.
        expected: &'static str,
        /// The unit found.
        found: String,
    },
    /// A measurement that must be positive is not.
    #[error("`{name}` must be positive, is {value}")]
    NotPositive {
        /// The measurement.
        name: &'static str,
        /// The value found.
        value: f64,
    },
}

/// What a summary line says about its goal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// The goal was met.
    Met,
    /// The goal was not met.
    NotMet,
    /// No goal: an absolute measurement.
    Info,
}

impl Status {
    /// The word used in the file.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Met => "met",
            Status::NotMet => "not-met",
            Status::Info => "info",
        }
    }
}

/// One `summary:` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Line number in the file, from 1.
    pub line: usize,
    /// The measurement's name.
    pub name: String,
    /// Its value.
    pub value: f64,
    /// Its value as written in the file.
    pub value_text: String,
    /// Its unit.
    pub unit: String,
    /// The goal (`-` for info lines).
    pub goal: String,
    /// Met, not met, or info.
    pub status: Status,
}

/// A parsed measured file.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredFile {
    /// `# date:` (as written, e.g. `2026-12-01`).
    pub date: String,
    /// `# machine:` (the CPU model name from /proc/cpuinfo).
    pub machine: String,
    /// `# cores:` (logical CPUs of the machine).
    pub cores: u32,
    /// `# simd:` (the SIMD extensions found), if given.
    pub simd: Option<String>,
    /// The summary lines, in file order.
    pub summaries: Vec<Summary>,
}

impl MeasuredFile {
    /// Parses a measured file's text.
    pub fn parse(text: &str) -> Result<Self, MeasuredError> {
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut summaries: Vec<Summary> = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let line = index.saturating_add(1);
            let trimmed = raw.trim();
            if trimmed.is_empty() {
                continue;
            }
            if let Some(comment) = trimmed.strip_prefix('#') {
                if let Some((key, value)) = header(comment) {
                    if value.is_empty() || headers.iter().any(|(k, _)| k == key) {
                        return Err(MeasuredError::BadHeader { line, key: key.to_string() });
                    }
                    headers.push((key.to_string(), value.to_string()));
                }
                continue;
            }
            let Some(rest) = trimmed.strip_prefix("summary:") else {
                return Err(MeasuredError::UnexpectedLine { line });
            };
            let summary = summary_line(line, rest)?;
            if let Some(first) = summaries.iter().find(|s| s.name == summary.name) {
                return Err(MeasuredError::Duplicate { line, name: summary.name, first: first.line });
            }
            summaries.push(summary);
        }
        let get = |key: &'static str| -> Result<String, MeasuredError> {
            headers.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone()).ok_or(MeasuredError::MissingHeader { key })
        };
        let cores_text = get("cores")?;
        let cores = match cores_text.parse::<u32>() {
            Ok(n) if n > 0 => n,
            _ => return Err(MeasuredError::BadCores { value: cores_text }),
        };
        Ok(Self { date: get("date")?, machine: get("machine")?, cores, simd: get("simd").ok(), summaries })
    }

    /// The summary line named `name`.
    pub fn get(&self, name: &str) -> Option<&Summary> {
        self.summaries.iter().find(|s| s.name == name)
    }
}

/// `key: value` of a header comment, for the known keys only.
fn header(comment: &str) -> Option<(&str, &str)> {
    let (key, value) = comment.trim().split_once(':')?;
    let key = key.trim();
    ["date", "machine", "cores", "simd"].contains(&key).then_some((key, value.trim()))
}

fn summary_line(line: usize, rest: &str) -> Result<Summary, MeasuredError> {
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let [name, value_text, unit, goal, status] = fields.as_slice() else {
        return Err(MeasuredError::FieldCount { line, found: fields.len() });
    };
    let value = match value_text.parse::<f64>() {
        Ok(v) if v.is_finite() => v,
        _ => {
            return Err(MeasuredError::BadValue { line, name: name.to_string(), value: value_text.to_string() });
        },
    };
    let status = match *status {
        "met" => Status::Met,
        "not-met" => Status::NotMet,
        "info" => Status::Info,
        other => return Err(MeasuredError::BadStatus { line, status: other.to_string() }),
    };
    if (status == Status::Info) != (*goal == "-") {
        return Err(MeasuredError::GoalMismatch { line, goal: goal.to_string(), status: status.as_str().to_string() });
    }
    Ok(Summary {
        line,
        name: name.to_string(),
        value,
        value_text: value_text.to_string(),
        unit: unit.to_string(),
        goal: goal.to_string(),
        status,
    })
}

/// The measured CPU throughputs the cost model reads, with where they were measured. Rates are as
/// measured on the bench machine with `threads` rayon threads, except the one marked single-core.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuConstants {
    /// Parameters of the benchmarked state.
    pub bench_params: f64,
    /// Rayon threads of the run.
    pub threads: f64,
    /// State root from the f32 state (leaves hashed and the tree), bytes of state per second.
    pub state_root: f64,
    /// Gradient root from the 4-bit leaves, bytes of gradient per second.
    pub gradient_root: f64,
    /// BLAKE3 `update_rayon` over the state bytes (the raw bound), bytes per second.
    pub blake3: f64,
    /// Quantize + pack, parameters per second.
    pub quantize: f64,
    /// Dequantize, per leaf, parameters per second.
    pub dequantize: f64,
    /// Exact AdamW update, fused in place, parameters per second.
    pub exact_adamw: f64,
    /// The clipping norm of protocol version 3 (`clipping_norm_throughput`), parameters per second on all
    /// `threads`: every leaf's squares summed in f64 on its own (`update::leaf_square_sum`, the leaves in
    /// parallel), then the leaves' sums added in leaf order (`update::combine_leaf_sums`).
    pub clipping_norm: f64,
    /// Merkle node hashes (64 bytes each), hashes per second on one core.
    pub node_hash_one_core: f64,
    /// One chain of dependent f64 additions (`update::combine_leaf_sums` over a long sequence), additions
    /// per second on one core: the serial part of the clipping norm, whose speed is the adder's latency.
    pub f64_chain_one_core: f64,
}

/// The clipping norm of protocol version 2, parameters per second on one core: one sequential f64 sum of
/// squares over the whole gradient in flattening order, which no core count sped up. It is the
/// `clipping_norm_throughput` of `docs/measured/cpu-2026-12-01.txt` as committed in af23501 (AMD EPYC,
/// 2 cores), before that file was re-recorded for protocol version 3. Historical: the model does not use
/// it; the document quotes it to say what version 3 removed.
pub const PROTOCOL_V2_CLIPPING_NORM_ONE_CORE: f64 = 1.9290e9;

/// Where [`PROTOCOL_V2_CLIPPING_NORM_ONE_CORE`] comes from, as the document cites it.
pub const PROTOCOL_V2_CLIPPING_NORM_SOURCE: &str =
    "protocol v2 measurement, docs/measured/cpu-2026-12-01.txt before re-recording, git af23501";

/// `(name, unit)` of every measurement [`CpuConstants`] reads.
pub const NEEDED: [(&str, &str); 11] = [
    ("bench_params", "params"),
    ("bench_threads", "threads"),
    ("state_root_throughput", "bytes/s"),
    ("gradient_root_throughput", "bytes/s"),
    ("blake3_throughput", "bytes/s"),
    ("quantize_throughput", "params/s"),
    ("dequantize_throughput", "params/s"),
    ("exact_adamw_throughput", "params/s"),
    ("clipping_norm_throughput", "params/s"),
    ("merkle_node_hash_throughput", "hashes/s"),
    ("f64_chain_throughput", "additions/s"),
];

impl CpuConstants {
    /// Reads the needed measurements from a parsed file, checking units and signs.
    pub fn from_file(file: &MeasuredFile) -> Result<Self, MeasuredError> {
        let mut values = [0.0f64; NEEDED.len()];
        for (slot, (name, unit)) in values.iter_mut().zip(NEEDED) {
            let summary = file.get(name).ok_or(MeasuredError::Missing { name })?;
            if summary.unit != unit {
                return Err(MeasuredError::WrongUnit { name, expected: unit, found: summary.unit.clone() });
            }
            if summary.value <= 0.0 {
                return Err(MeasuredError::NotPositive { name, value: summary.value });
            }
            *slot = summary.value;
        }
        let [bench_params, threads, state_root, gradient_root, blake3, quantize, dequantize, exact_adamw, clipping_norm, node_hash_one_core, f64_chain_one_core] =
            values;
        Ok(Self {
            bench_params,
            threads,
            state_root,
            gradient_root,
            blake3,
            quantize,
            dequantize,
            exact_adamw,
            clipping_norm,
            node_hash_one_core,
            f64_chain_one_core,
        })
    }
}
