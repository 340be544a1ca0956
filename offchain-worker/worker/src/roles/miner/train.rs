//! Phase `Train`: the round's steps with the engine (gradients in libtorch) and the protocol's bookkeeping
//! on every core (`pogo_bookkeeping::ParallelRound`: 4-bit codec, exact update and Merkle roots, byte for
//! byte `pogo-primitives`' `RoundBuilder`). Everything a verifier or a fraud-proof builder needs goes to
//! the round store as it is produced — the base, each step's gradient leaves, every checkpoint and the
//! final state — and the round manifest last, so a manifest on disk always has its data beside it and
//! nothing of the round is held in memory but the current state. Each step's trees and writes run beside
//! the next step's forward and backward pass (`pipeline`, `--overlap`). Runs on a blocking thread.

use super::{
    journal::BuiltRound,
    pipeline::{Overlap, StepPipeline},
    MinerEvent,
};
use crate::{
    adversary::{FakeGradient, MinerAdversary, Noise},
    local_task::LocalTask,
};
use pogo_bookkeeping::ParallelRound;
use pogo_engine::{EngineError, Gradient, ModelState};
use pogo_primitives::{builder::BuildError, round::commit, Hash};
use pogo_store::{RoundIdentity, RoundManifest, RoundStore};
use std::time::Instant;
use tokio::sync::mpsc::UnboundedSender;

/// Why a round could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The engine failed (libtorch, non-finite values, the protocol's builder).
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The round store failed.
    #[error("round store: {0}")]
    Store(String),
}

/// What the round is built from.
pub struct RoundInputs<'a> {
    /// Task id.
    pub task: u32,
    /// The task's round number.
    pub round: u32,
    /// The miner's account (32 bytes).
    pub miner: [u8; 32],
    /// The round seed from the chain.
    pub round_seed: Hash,
    /// Global step of the round's first step (the task's `steps_done + 1`).
    pub first_global_step: u64,
    /// The base state (its root is the task's state root).
    pub base: &'a ModelState,
    /// Records per eval-loss chunk.
    pub eval_chunk: usize,
    /// Cheat (tests and demonstrations only; `None` is the honest miner).
    pub adversary: Option<MinerAdversary>,
    /// Whether each step's trees and store writes run beside the next step's gradient.
    pub overlap: Overlap,
}

/// The gradient a step commits: the engine's on the seeded batch, or the adversary's fake.
fn step_gradient(
    local: &LocalTask,
    weights: &[f32],
    inputs: &RoundInputs<'_>,
    step: u32,
    faked: &[u32],
    previous: Option<&Gradient>,
) -> Result<Gradient, EngineError> {
    let engine = &local.engine;
    let seed = match inputs.adversary {
        // Other batches than the seeded ones: the seed of another round.
        Some(MinerAdversary::WrongBatches) => {
            let mut other = inputs.round_seed;
            other[0] ^= 0xff;
            other
        },
        _ => inputs.round_seed,
    };
    let honest = engine.step_gradient(weights, &seed, step)?;
    let Some(MinerAdversary::FakeSteps { kind, .. }) = inputs.adversary else { return Ok(honest) };
    if faked.binary_search(&step).is_err() {
        return Ok(honest);
    }
    let values = match kind {
        FakeGradient::Zero => vec![0.0; honest.values.len()],
        FakeGradient::Random => {
            let scale = honest.values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let mut noise = Noise::new(u64::from(step) ^ u64::from_le_bytes([seed[0], seed[1], seed[2], seed[3], seed[4], seed[5], seed[6], seed[7]]));
            honest.values.iter().map(|_| noise.next_signed() * scale).collect()
        },
        FakeGradient::Stale => previous.map(|p| p.values.clone()).unwrap_or_else(|| vec![0.0; honest.values.len()]),
        FakeGradient::Rescaled => honest.values.iter().map(|v| v * 1.5).collect(),
    };
    Ok(Gradient { values, loss: honest.loss })
}

/// Trains the round and stores it; returns what the journal records.
pub fn build_round(
    local: &LocalTask,
    store: &RoundStore,
    inputs: RoundInputs<'_>,
    events: &UnboundedSender<MinerEvent>,
) -> Result<BuiltRound, TrainError> {
    let engine = &local.engine;
    let spec = *engine.spec();
    let store_err = |e: pogo_store::StoreError| TrainError::Store(e.to_string());
    let build_err = |e| TrainError::Engine(EngineError::Build(e));
    let mut round = ParallelRound::new(spec, inputs.base.weights.clone(), inputs.base.slots.clone(), inputs.first_global_step)
        .map_err(build_err)?;
    // The base first (every fraud proof of the first segment opens it). States are hashed in place on
    // every core and written straight from the values with that tree (no copy of their leaves in memory).
    let base_tree = round.state_tree().map_err(build_err)?;
    let base_root = base_tree.root();
    store.put_state_with_tree(&spec, base_tree, round.weights(), round.slots()).map_err(store_err)?;
    let eval_before = engine.eval_loss(&inputs.base.weights, inputs.eval_chunk)? as f32;
    let started = Instant::now();
    let salt = u64::from(inputs.round).wrapping_mul(0x9E37_79B9).wrapping_add(u64::from(inputs.task));
    let faked = inputs.adversary.map(|a| a.faked_steps(spec.steps_per_round, salt)).unwrap_or_default();
    let mut previous: Option<Gradient> = None;
    let mut steps = StepPipeline::new(store, spec, inputs.overlap);
    for step in 0..spec.steps_per_round {
        if inputs.adversary == Some(MinerAdversary::ForgedFinalRoot) && step + 1 == spec.steps_per_round {
            // The final state will not be the replay of the committed gradients (the step before is
            // finished first: its checkpoint is of the honest state).
            steps.flush(&round)?;
            if let Some(w) = round.weights_mut().first_mut() {
                *w += 0.25;
            }
        }
        // This step's forward and backward pass, with the previous step's trees and writes beside it.
        let g = steps.gradient(&round, |weights| step_gradient(local, weights, &inputs, step, &faked, previous.as_ref()))?;
        if !g.loss.is_finite() || !pogo_bookkeeping::all_finite_parallel(&g.values) {
            return Err(EngineError::NonFinite(step).into());
        }
        steps.update(&mut round, &g.values, g.loss)?;
        let loss = g.loss;
        previous = Some(g);
        let _ = events.send(MinerEvent::Step {
            task: inputs.task,
            round: inputs.round,
            step: step + 1,
            steps: spec.steps_per_round,
            loss,
            elapsed: started.elapsed(),
        });
    }
    let records = steps.finish_all(&round)?;
    let mut eval_after = engine.eval_loss(round.weights(), inputs.eval_chunk)? as f32;
    if inputs.adversary == Some(MinerAdversary::FalseLoss) {
        eval_after *= 0.5;
    }
    let (commitment, _trace) =
        commit(&spec, base_root, &records, eval_before, eval_after).map_err(|e| build_err(BuildError::Round(e)))?;

    // The manifest last: a manifest in the store means the whole round is there.
    let identity = RoundIdentity {
        task: inputs.task,
        round: inputs.round,
        miner: inputs.miner,
        first_global_step: inputs.first_global_step,
    };
    let manifest = RoundManifest::new(identity, &spec, &commitment, &records);
    if manifest.round_seed().map_err(|e| TrainError::Store(e.to_string()))? != inputs.round_seed {
        return Err(TrainError::Store("the chain's round seed differs from the protocol's for this round".into()));
    }
    store.put_round(&manifest).map_err(store_err)?;
    let built = BuiltRound {
        round: inputs.round,
        base_root,
        round_seed: inputs.round_seed,
        trace_root: commitment.trace_root,
        final_root: commitment.final_root,
    };
    let _ = events.send(MinerEvent::Built {
        task: inputs.task,
        round: inputs.round,
        trace_root: commitment.trace_root,
        eval_before,
        eval_after,
        seconds: started.elapsed().as_secs_f64(),
    });
    Ok(built)
}
