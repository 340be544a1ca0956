//! Everything the document shows, computed once from the inputs: per model its sizes, per round shape the
//! costs of the miner and of a verifier in both modes, and the series of the plots.

use crate::{
    cost::{self, Cost, NodeRates, RoundPlan, Workload},
    measured::{CpuConstants, MeasuredError, MeasuredFile},
    sizes::{self, adamw_spec, RoundSizes, SizeError, StepSizes},
    stated::{Model, RoundChoice, Stated, StatedError},
};
use pogo_primitives::spec::DEFAULT_LEAF_SIZE;
use thiserror::Error;

/// Why a report could not be built.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ReportError {
    /// The measured file.
    #[error("{path}: {error}")]
    Measured {
        /// The file.
        path: String,
        /// What is wrong.
        error: MeasuredError,
    },
    /// The stated file.
    #[error("{path}: {error}")]
    Stated {
        /// The file.
        path: String,
        /// What is wrong.
        error: StatedError,
    },
    /// A size rule refused a model or a round.
    #[error(transparent)]
    Size(#[from] SizeError),
}

/// The inputs: one measured file and one stated file, with the paths the document names.
#[derive(Debug, Clone, PartialEq)]
pub struct Inputs {
    /// Path of the measured file, relative to the repository root.
    pub measured_path: String,
    /// Its content, parsed.
    pub measured: MeasuredFile,
    /// The constants read from it.
    pub cpu: CpuConstants,
    /// Path of the stated file, relative to the repository root.
    pub stated_path: String,
    /// Its content, parsed.
    pub stated: Stated,
}

impl Inputs {
    /// Parses both files' texts.
    pub fn parse(measured_path: &str, measured: &str, stated_path: &str, stated: &str) -> Result<Self, ReportError> {
        let at_measured = |error| ReportError::Measured { path: measured_path.to_string(), error };
        let measured = MeasuredFile::parse(measured).map_err(at_measured)?;
        let cpu = CpuConstants::from_file(&measured).map_err(at_measured)?;
        let stated =
            Stated::parse(stated).map_err(|error| ReportError::Stated { path: stated_path.to_string(), error })?;
        Ok(Self {
            measured_path: measured_path.to_string(),
            measured,
            cpu,
            stated_path: stated_path.to_string(),
            stated,
        })
    }
}

/// One round shape priced for one model.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundReport {
    /// The shape chosen.
    pub choice: RoundChoice,
    /// The plan (sizes, interval, samples).
    pub plan: RoundPlan,
    /// The miner, fp32 as pinned.
    pub miner: Cost,
    /// A verifier, full replay, fp32.
    pub full: Cost,
    /// A verifier, sampled replay, fp32.
    pub sampled: Cost,
    /// The miner if it trained in BF16 (not allowed by the pinned settings; for comparison).
    pub miner_bf16: Cost,
    /// A full-replay verifier, BF16 (for comparison).
    pub full_bf16: Cost,
}

impl RoundReport {
    /// Verifier / miner node-seconds, full replay.
    pub fn full_ratio(&self) -> f64 {
        self.full.total() / self.miner.total()
    }

    /// Verifier / miner node-seconds, sampled replay.
    pub fn sampled_ratio(&self) -> f64 {
        self.sampled.total() / self.miner.total()
    }
}

/// One model's part of the document.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelReport {
    /// The model as stated.
    pub model: Model,
    /// Its workload at the default leaf size.
    pub workload: Workload,
    /// Its sizes at the alternative leaf size.
    pub alternative: StepSizes,
    /// Nodes needed to hold state and gradient.
    pub nodes: f64,
    /// The priced round shapes, in the stated order.
    pub rounds: Vec<RoundReport>,
    /// Plot series: `(T, full-replay ratio, sampled-replay ratio)` for the first round shape's `k` and `V`.
    pub ratio_curve: Vec<(f64, f64, f64)>,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The inputs.
    pub inputs: Inputs,
    /// Node rates at fp32 (the pinned precision).
    pub fp32: NodeRates,
    /// Node rates at BF16 (comparison only).
    pub bf16: NodeRates,
    /// One entry per stated model.
    pub models: Vec<ModelReport>,
}

/// Steps per round of the ratio plot: 1-2-5 steps from 10 to 100,000.
pub fn plot_steps() -> Vec<u32> {
    let mut out = Vec::new();
    let mut decade = 10u32;
    while decade <= 100_000 {
        for m in [1, 2, 5] {
            let t = decade.saturating_mul(m);
            if t <= 100_000 {
                out.push(t);
            }
        }
        decade = decade.saturating_mul(10);
    }
    out
}

impl Report {
    /// Computes the report.
    pub fn build(inputs: Inputs) -> Result<Self, ReportError> {
        let stated = &inputs.stated;
        let fp32 = NodeRates::new(&inputs.cpu, stated, stated.accelerator.fp32_flops.value);
        let bf16 = NodeRates::new(&inputs.cpu, stated, stated.accelerator.bf16_dense_flops.value);
        let mut models = Vec::new();
        for model in &stated.model {
            let params = model.params.whole();
            let sizes = StepSizes::of(&adamw_spec(params, DEFAULT_LEAF_SIZE, 1, 1)?)?;
            let alternative = StepSizes::of(&adamw_spec(params, stated.analysis.alternative_leaf_size, 1, 1)?)?;
            let workload =
                Workload { sizes, tokens_per_step: model.tokens_per_step.value, eval_tokens: model.eval_tokens.value };
            let nodes = workload.nodes_for_memory(stated);
            let mut rounds = Vec::new();
            for &choice in &stated.analysis.rounds {
                let plan = plan(stated, params, choice)?;
                rounds.push(RoundReport {
                    choice,
                    miner: cost::miner(&workload, &plan, &fp32),
                    full: cost::full_replay(&workload, &plan, &fp32),
                    sampled: cost::sampled_replay(&workload, &plan, &fp32),
                    miner_bf16: cost::miner(&workload, &plan, &bf16),
                    full_bf16: cost::full_replay(&workload, &plan, &bf16),
                    plan,
                });
            }
            let first = stated.analysis.rounds.first().copied().unwrap_or(RoundChoice {
                steps: 1,
                sampled_steps: 1,
                verifiers: 1,
            });
            let mut ratio_curve = Vec::new();
            for steps in plot_steps() {
                let choice =
                    RoundChoice { steps, sampled_steps: first.sampled_steps.min(steps), verifiers: first.verifiers };
                let plan = plan(stated, params, choice)?;
                let miner = cost::miner(&workload, &plan, &fp32).total();
                ratio_curve.push((
                    f64::from(steps),
                    cost::full_replay(&workload, &plan, &fp32).total() / miner,
                    cost::sampled_replay(&workload, &plan, &fp32).total() / miner,
                ));
            }
            models.push(ModelReport { model: model.clone(), workload, alternative, nodes, rounds, ratio_curve });
        }
        Ok(Self { inputs, fp32, bf16, models })
    }
}

/// The plan of a round shape: the largest checkpoint interval the runtime allows for it, its sizes, and
/// the stated sample sizes.
fn plan(stated: &Stated, params: u64, choice: RoundChoice) -> Result<RoundPlan, ReportError> {
    let max_interval = u32::try_from(stated.runtime.max_checkpoint_interval.whole()).unwrap_or(u32::MAX);
    let max_len = stated.runtime.max_fraud_proof_len.whole();
    let interval = sizes::checkpoint_interval(params, DEFAULT_LEAF_SIZE, choice.steps, max_interval, max_len)?;
    let spec = adamw_spec(params, DEFAULT_LEAF_SIZE, choice.steps, interval)?;
    Ok(RoundPlan {
        round: RoundSizes::of(&spec),
        sampled_steps: choice.sampled_steps,
        replay_leaves: stated.analysis.replay_leaves,
        eval_examples: stated.analysis.eval_examples,
        opened_leaves: stated.analysis.opened_leaves,
    })
}
