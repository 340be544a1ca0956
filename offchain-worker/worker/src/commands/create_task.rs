//! `pogo-worker create-task` and `pogo-worker bond`: the default tasks on chain (the digits classifier,
//! the Shakespeare language model) with a committed model, data roots and the derived initial state, and
//! bonds for the roles.

use crate::{
    cli::DefaultTask,
    local_task::{initial_state, DATA_SCHEME},
};
use pogo_engine::{
    data::DataError,
    model::{GptConfig, Model},
    tasks,
};
use pogo_primitives::{
    seed::SampleSizes,
    tolerance::Tolerance,
    views::{TaskParams, VerificationMode},
    Hash, ModelDescriptor, TrainingSpec,
};
use std::path::Path;

/// One unit of the runtime's currency (12 decimals).
pub const UNIT: u128 = 1_000_000_000_000;

/// Everything `create_task` commits for a default task.
#[derive(Clone, Debug)]
pub struct TaskTerms {
    /// Training rules.
    pub spec: TrainingSpec,
    /// The model.
    pub model: ModelDescriptor,
    /// Root of the derived initial state.
    pub initial_root: Hash,
    /// Train split root.
    pub train_root: Hash,
    /// Eval split root.
    pub eval_root: Hash,
    /// Dataset locator.
    pub data_locator: String,
}

impl TaskTerms {
    /// The `create_task` call's arguments with `params` and `escrow`.
    pub fn new_task(&self, params: TaskParams<u128, u32>, escrow: u128) -> pogo_chain::NewTask {
        pogo_chain::NewTask {
            spec: self.spec,
            model: self.model.clone(),
            params,
            initial_root: self.initial_root,
            train_root: self.train_root,
            eval_root: self.eval_root,
            data_locator: self.data_locator.as_bytes().to_vec(),
            escrow,
        }
    }
}

/// The terms of a default task, from the local data sets (`data_dir` or the setup script's).
pub fn default_terms(kind: DefaultTask, data_dir: Option<&Path>, steps_per_round: Option<u32>) -> Result<TaskTerms, DataError> {
    let dir = data_dir.map(Path::to_path_buf).unwrap_or_else(pogo_engine::data::data_dir);
    let (spec, model, data, descriptor, name) = match kind {
        DefaultTask::Digits => {
            let (m, d, s) = tasks::digits_task(Some(&dir.join("digits.csv")))?;
            (s, Box::new(m) as Box<dyn Model>, d, tasks::digits_model(), "digits")
        },
        DefaultTask::Shakespeare => {
            let (m, d, s) = tasks::text_task(Some(&dir.join("shakespeare")), GptConfig::SMALL)?;
            (s, Box::new(m) as Box<dyn Model>, d, tasks::text_model(GptConfig::SMALL), "shakespeare")
        },
    };
    let mut spec = spec;
    if let Some(steps) = steps_per_round {
        spec.steps_per_round = steps;
        spec.checkpoint_interval = spec.checkpoint_interval.min(steps).max(1);
    }
    let (train_root, eval_root) = data.roots()?;
    let initial_root = initial_state(&spec, model.as_ref())
        .root(&spec)
        .map_err(|e| DataError::TooSmall(format!("initial state: {e}")))?;
    Ok(TaskTerms { spec, model: descriptor, initial_root, train_root, eval_root, data_locator: format!("{DATA_SCHEME}{name}") })
}

/// Task parameters for a development chain: 3 verifiers (4 more on escalation), each recomputing 2
/// steps, opening up to 4 state leaves and evaluating up to 64 examples; windows of `window` blocks; a
/// 50-unit miner bond; full replay.
pub fn dev_params(window: u32, spec: &TrainingSpec) -> TaskParams<u128, u32> {
    let leaves = u32::try_from(spec.leaf_count().min(4)).unwrap_or(4);
    let eval_examples = u32::try_from(spec.eval_examples.min(64)).unwrap_or(64);
    TaskParams {
        reward: 10 * UNIT,
        verifier_pay: UNIT,
        miner_bond: 50 * UNIT,
        verifiers: 3,
        escalation_verifiers: 4,
        samples: SampleSizes { steps: 2.min(spec.steps_per_round), leaves, eval_examples },
        tolerance: Tolerance::DEFAULT,
        min_improvement_ppm: 0,
        commit_window: window,
        reveal_window: window,
        verification: VerificationMode::FullReplay,
    }
}
