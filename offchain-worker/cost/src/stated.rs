//! Stated figures: what pogo did not measure (accelerator peaks, the node, the network, the models'
//! published sizes, runtime constants) with the source of each, and the analysis choices (round shapes,
//! sample sizes), read from a TOML file (`docs/measured/stated.toml`).
//!
//! Every figure is a table `{ value, unit, source }`; the unit must be the one the cost model reads, and
//! the source must not be empty.

use pogo_primitives::{
    seed::{MAX_SAMPLED_LEAVES, MAX_SAMPLED_STEPS},
    spec::{MAX_LEAF_SIZE, MAX_PARAM_COUNT, MAX_STEPS_PER_ROUND},
};
use serde::Deserialize;
use thiserror::Error;

/// Why a stated-figures file was refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StatedError {
    /// Not TOML, or not the expected tables and fields.
    #[error("not a valid stated-figures file: {0}")]
    Toml(String),
    /// A figure in another unit than the model reads it in.
    #[error("`{field}` is in `{found}`, expected `{expected}`")]
    WrongUnit {
        /// The figure.
        field: String,
        /// The unit the model reads.
        expected: &'static str,
        /// The unit found.
        found: String,
    },
    /// A figure that is not a positive finite number.
    #[error("`{field}` must be a positive finite number, is {value}")]
    NotPositive {
        /// The figure.
        field: String,
        /// The value found.
        value: f64,
    },
    /// A figure without a source.
    #[error("`{field}` names no source")]
    NoSource {
        /// The figure.
        field: String,
    },
    /// A count that is not a whole number in its range.
    #[error("`{field}` must be a whole number in {min}..={max}, is {value}")]
    OutOfRange {
        /// The figure or choice.
        field: String,
        /// Smallest allowed.
        min: u64,
        /// Largest allowed.
        max: u64,
        /// The value found.
        value: f64,
    },
    /// No model to analyse, or no round shape.
    #[error("the file lists no {0}")]
    Empty(&'static str),
    /// A tampered fraction outside (0, 1).
    #[error("a tampered fraction must lie in (0, 1), is {0}")]
    BadFraction(f64),
}

/// One stated figure.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Figure {
    /// The value, in `unit`.
    pub value: f64,
    /// Its unit.
    pub unit: String,
    /// Where it comes from (a datasheet, a paper, a file of this repository, or "assumption: …").
    pub source: String,
}

/// The accelerator the GPU parts are priced on.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Accelerator {
    /// Its name.
    pub name: String,
    /// Peak fp32 (non-tensor) throughput, flop/s: what the pinned settings of section 11 allow.
    pub fp32_flops: Figure,
    /// Peak dense BF16 tensor-core throughput, flop/s: what a mixed-precision trainer would use.
    pub bf16_dense_flops: Figure,
    /// Memory bandwidth, bytes/s.
    pub memory_bandwidth: Figure,
    /// Memory, bytes.
    pub memory: Figure,
}

/// The machine a miner or a verifier runs on.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// Its name.
    pub name: String,
    /// Accelerators per node.
    pub gpus: Figure,
    /// CPU cores per node.
    pub cpu_cores: Figure,
}

/// The network between a miner's data-availability server and a verifier.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// Download bandwidth of one node, bytes/s.
    pub download: Figure,
}

/// Runtime constants the sizes depend on.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Runtime {
    /// `MaxCheckpointInterval`, steps.
    pub max_checkpoint_interval: Figure,
    /// `MaxFraudProofLen`, bytes.
    pub max_fraud_proof_len: Figure,
}

/// A model, as its paper or model card gives it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// Its name.
    pub name: String,
    /// A file-name-safe key (plots are named after it).
    pub key: String,
    /// The configuration assumed, in words (layers, width, what is counted).
    pub config: String,
    /// Trainable parameters.
    pub params: Figure,
    /// Tokens per optimizer step (the batch).
    pub tokens_per_step: Figure,
    /// Tokens of one evaluation example (the context length).
    pub eval_tokens: Figure,
}

/// One round shape to analyse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoundChoice {
    /// Steps per round `T`.
    pub steps: u32,
    /// Steps each verifier recomputes `k`.
    pub sampled_steps: u32,
    /// Verifiers `V`.
    pub verifiers: u32,
}

/// The analysis choices (not measurements; the protocol's §17 defaults where it has one).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Analysis {
    /// A second leaf size to compare with the default.
    pub alternative_leaf_size: u32,
    /// The round shapes of the cost tables.
    pub rounds: Vec<RoundChoice>,
    /// Leaves `k_l` each verifier replays across all steps in the sampled-replay mode (cost tables).
    pub replay_leaves: u32,
    /// Values of `k_l` for the detection tables.
    pub sampled_leaves: Vec<u32>,
    /// Fractions of tampered leaves for the detection tables.
    pub tampered_fractions: Vec<f64>,
    /// Evaluation examples per verifier (both states).
    pub eval_examples: u32,
    /// Final-state leaves each verifier opens.
    pub opened_leaves: u32,
    /// Bytes of the miner's data-availability locator in `submit_round`.
    pub locator_bytes: u32,
}

/// The whole stated-figures file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stated {
    /// The accelerator.
    pub accelerator: Accelerator,
    /// The node.
    pub node: Node,
    /// The network.
    pub network: Network,
    /// Runtime constants.
    pub runtime: Runtime,
    /// Analysis choices.
    pub analysis: Analysis,
    /// The models, in the order of the document.
    pub model: Vec<Model>,
}

impl Stated {
    /// Parses and checks a stated-figures file.
    pub fn parse(text: &str) -> Result<Self, StatedError> {
        let stated: Stated =
            toml::from_str(text).map_err(|e| StatedError::Toml(e.to_string().trim_end().to_string()))?;
        stated.check()?;
        Ok(stated)
    }

    fn check(&self) -> Result<(), StatedError> {
        let a = &self.accelerator;
        figure("accelerator.fp32_flops", &a.fp32_flops, "flop/s")?;
        figure("accelerator.bf16_dense_flops", &a.bf16_dense_flops, "flop/s")?;
        figure("accelerator.memory_bandwidth", &a.memory_bandwidth, "bytes/s")?;
        figure("accelerator.memory", &a.memory, "bytes")?;
        count("node.gpus", &self.node.gpus, "gpus", 1, 1 << 20)?;
        count("node.cpu_cores", &self.node.cpu_cores, "cores", 1, 1 << 20)?;
        figure("network.download", &self.network.download, "bytes/s")?;
        count(
            "runtime.max_checkpoint_interval",
            &self.runtime.max_checkpoint_interval,
            "steps",
            1,
            u64::from(MAX_STEPS_PER_ROUND),
        )?;
        count("runtime.max_fraud_proof_len", &self.runtime.max_fraud_proof_len, "bytes", 1, u64::from(u32::MAX))?;
        if self.model.is_empty() {
            return Err(StatedError::Empty("[[model]]"));
        }
        for (i, m) in self.model.iter().enumerate() {
            count(&format!("model[{i}].params"), &m.params, "params", 1, MAX_PARAM_COUNT)?;
            figure(&format!("model[{i}].tokens_per_step"), &m.tokens_per_step, "tokens")?;
            figure(&format!("model[{i}].eval_tokens"), &m.eval_tokens, "tokens")?;
        }
        let an = &self.analysis;
        if an.rounds.is_empty() {
            return Err(StatedError::Empty("analysis.rounds"));
        }
        let whole = |field: &str, value: u32, min: u64, max: u64| {
            if (min..=max).contains(&u64::from(value)) {
                Ok(())
            } else {
                Err(StatedError::OutOfRange { field: field.to_string(), min, max, value: f64::from(value) })
            }
        };
        whole("analysis.alternative_leaf_size", an.alternative_leaf_size, 1, u64::from(MAX_LEAF_SIZE))?;
        for r in &an.rounds {
            whole("analysis.rounds.steps", r.steps, 1, u64::from(MAX_STEPS_PER_ROUND))?;
            whole("analysis.rounds.sampled_steps", r.sampled_steps, 1, u64::from(r.steps.min(MAX_SAMPLED_STEPS)))?;
            whole("analysis.rounds.verifiers", r.verifiers, 1, 1 << 16)?;
        }
        whole("analysis.replay_leaves", an.replay_leaves, 1, u64::from(MAX_SAMPLED_LEAVES))?;
        if an.sampled_leaves.is_empty() {
            return Err(StatedError::Empty("analysis.sampled_leaves"));
        }
        for &k in &an.sampled_leaves {
            whole("analysis.sampled_leaves", k, 1, u64::from(MAX_SAMPLED_LEAVES))?;
        }
        if an.tampered_fractions.is_empty() {
            return Err(StatedError::Empty("analysis.tampered_fractions"));
        }
        if let Some(&f) = an.tampered_fractions.iter().find(|f| !(**f > 0.0 && **f < 1.0)) {
            return Err(StatedError::BadFraction(f));
        }
        whole("analysis.locator_bytes", an.locator_bytes, 1, 1 << 16)?;
        Ok(())
    }
}

/// Checks a figure's unit, value and source.
fn figure(field: &str, f: &Figure, unit: &'static str) -> Result<(), StatedError> {
    if f.unit != unit {
        return Err(StatedError::WrongUnit { field: field.to_string(), expected: unit, found: f.unit.clone() });
    }
    if !(f.value.is_finite() && f.value > 0.0) {
        return Err(StatedError::NotPositive { field: field.to_string(), value: f.value });
    }
    if f.source.trim().is_empty() {
        return Err(StatedError::NoSource { field: field.to_string() });
    }
    Ok(())
}

/// As [`figure`], for a whole number in `min..=max`.
fn count(field: &str, f: &Figure, unit: &'static str, min: u64, max: u64) -> Result<(), StatedError> {
    figure(field, f, unit)?;
    if f.value.fract() != 0.0 || f.value < min as f64 || f.value > max as f64 {
        return Err(StatedError::OutOfRange { field: field.to_string(), min, max, value: f.value });
    }
    Ok(())
}

impl Figure {
    /// The value as a whole number (checked by [`Stated::parse`] for the counts).
    pub fn whole(&self) -> u64 {
        self.value as u64
    }
}
