//! Phase `Train`: the round's steps with the engine (gradients in libtorch, the protocol's 4-bit codec and
//! exact update in `pogo-primitives`), then everything a verifier or a fraud-proof builder needs written
//! to the round store — each step's gradient leaves, the base, every checkpoint and the final state, and
//! the round manifest last (`RoundStore::put_builder_round`) — before the journal names the round. Runs on a blocking thread.

use super::{journal::BuiltRound, MinerEvent};
use crate::local_task::LocalTask;
use pogo_engine::{EngineError, ModelState};
use pogo_primitives::{builder::RoundBuilder, Hash};
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
    let mut builder =
        RoundBuilder::new(spec, inputs.base.weights.clone(), inputs.base.slots.clone(), inputs.first_global_step)
            .map_err(build_err)?;
    let base_root = builder.base_root();
    let eval_before = engine.eval_loss(&inputs.base.weights, inputs.eval_chunk)? as f32;
    let started = Instant::now();
    for step in 0..spec.steps_per_round {
        let record = engine.step(&mut builder, &inputs.round_seed, step)?;
        let loss = f32::from_bits(record.train_loss);
        let _ = events.send(MinerEvent::Step {
            task: inputs.task,
            round: inputs.round,
            step: step + 1,
            steps: spec.steps_per_round,
            loss,
            elapsed: started.elapsed(),
        });
    }
    let eval_after = engine.eval_loss(builder.weights(), inputs.eval_chunk)? as f32;
    let (commitment, _trace) = builder.commitment(eval_before, eval_after).map_err(build_err)?;

    // Bulk data first, the manifest last: a manifest in the store means the whole round is there.
    let records = builder.records();
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
    // Every checkpoint — the base, the intermediate ones and the final state (the last step is always
    // one) — and every step's gradient, then the manifest.
    store.put_builder_round(&builder, &manifest).map_err(store_err)?;
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
