//! The miner's step loop with hashing overlapped: step `t`'s gradient tree, its store write and (at a
//! checkpoint) the state tree and write run on a thread of their own while step `t + 1`'s forward and
//! backward pass runs on the caller's, since both only read the state. The update of step `t + 1`, the
//! only thing that moves the state on, waits for them.
//!
//! ```text
//!  caller:  gradient t │ update t │ gradient t+1          │ update t+1 │ gradient t+2 ...
//!  beside:             │          │ trees t, store t      │            │ trees t+1, store t+1
//! ```
//!
//! Which pays on which machine (bench `miner_share`, docs/performance.md): with libtorch on a GPU the
//! caller's thread mostly waits for the device and the CPU hashes for free; on a CPU-only machine libtorch
//! and the hashing share the same cores. [`Overlap::Off`] runs each step's finish right after its update
//! (the reference order); the records, the store and the roots are the same either way.

use super::train::TrainError;
use pogo_bookkeeping::{ParallelRound, UpdatedStep};
use pogo_engine::EngineError;
use pogo_primitives::{builder::BuildError, round::StepRecord, spec::TrainingSpec};
use pogo_store::RoundStore;

/// Whether a step's trees and store writes run beside the next step's gradient.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Overlap {
    /// Beside the next step's forward and backward pass.
    On,
    /// Right after the step's update, before the next gradient.
    Off,
}

/// A round's steps in flight: the step updated but not finished yet, and the records of those finished.
pub struct StepPipeline<'a> {
    store: &'a RoundStore,
    spec: TrainingSpec,
    overlap: Overlap,
    pending: Option<UpdatedStep>,
    records: Vec<StepRecord>,
}

impl<'a> StepPipeline<'a> {
    /// An empty pipeline writing to `store`.
    pub fn new(store: &'a RoundStore, spec: TrainingSpec, overlap: Overlap) -> Self {
        let records = Vec::with_capacity(usize::try_from(spec.steps_per_round).unwrap_or(0));
        Self { store, spec, overlap, pending: None, records }
    }

    /// Runs `gradient` on the current weights, and the previous step's finish beside it (or before it,
    /// with [`Overlap::Off`]). An error of either is returned, the finish's first.
    pub fn gradient<T, F>(&mut self, round: &ParallelRound, gradient: F) -> Result<T, TrainError>
    where
        F: FnOnce(&[f32]) -> Result<T, EngineError>,
    {
        let Some(pending) = self.pending.take() else { return Ok(gradient(round.weights())?) };
        if self.overlap == Overlap::Off {
            self.finish_now(round, pending)?;
            return Ok(gradient(round.weights())?);
        }
        let (store, spec) = (self.store, self.spec);
        let (finished, computed) = std::thread::scope(|scope| {
            let beside = scope.spawn(|| finish(store, &spec, round, pending));
            let computed = gradient(round.weights());
            // A panic on the finishing thread is a bug; it is carried to this thread as it is.
            let finished = beside.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (finished, computed)
        });
        self.records.push(finished?);
        Ok(computed?)
    }

    /// Applies a step's update (`ParallelRound::update`); its finish waits for the next [`gradient`](Self::gradient)
    /// or [`finish_all`](Self::finish_all). The previous step must be finished.
    pub fn update(&mut self, round: &mut ParallelRound, values: &[f32], loss: f32) -> Result<(), TrainError> {
        if let Some(pending) = self.pending.take() {
            self.finish_now(round, pending)?;
        }
        let updated = round.update(values, loss).map_err(build_err)?;
        if self.overlap == Overlap::Off {
            return self.finish_now(round, updated);
        }
        self.pending = Some(updated);
        Ok(())
    }

    /// Finishes the step in flight, if any (before the state is changed other than by [`update`](Self::update)).
    pub fn flush(&mut self, round: &ParallelRound) -> Result<(), TrainError> {
        match self.pending.take() {
            Some(pending) => self.finish_now(round, pending),
            None => Ok(()),
        }
    }

    /// Finishes the step in flight and returns every step's record, in step order.
    pub fn finish_all(mut self, round: &ParallelRound) -> Result<Vec<StepRecord>, TrainError> {
        self.flush(round)?;
        Ok(self.records)
    }

    fn finish_now(&mut self, round: &ParallelRound, pending: UpdatedStep) -> Result<(), TrainError> {
        let record = finish(self.store, &self.spec, round, pending)?;
        self.records.push(record);
        Ok(())
    }
}

/// A step's trees and store writes: the gradient leaves, and at a checkpoint the current state.
fn finish(store: &RoundStore, spec: &TrainingSpec, round: &ParallelRound, pending: UpdatedStep) -> Result<StepRecord, TrainError> {
    let store_err = |e: pogo_store::StoreError| TrainError::Store(e.to_string());
    let built = round.finish(pending).map_err(build_err)?;
    store.put_gradient_with_tree(spec, built.gradient_tree, &built.gradient_leaves).map_err(store_err)?;
    if let Some(tree) = built.checkpoint {
        store.put_state_with_tree(spec, tree, round.weights(), round.slots()).map_err(store_err)?;
    }
    Ok(built.record)
}

fn build_err(e: BuildError) -> TrainError {
    TrainError::Engine(EngineError::Build(e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use pogo_primitives::spec::{LrSchedule, UpdateRule};

    fn spec() -> TrainingSpec {
        TrainingSpec {
            model: [3; 32],
            param_count: 20_000,
            leaf_size: 4096,
            codec_block: 64,
            rule: UpdateRule::AdamW {
                beta1: 0.9f32.to_bits(),
                beta2: 0.999f32.to_bits(),
                epsilon: 1e-8f32.to_bits(),
                weight_decay: 0.01f32.to_bits(),
            },
            schedule: LrSchedule::Constant { lr: 1e-3f32.to_bits() },
            max_grad_norm: 1.0f32.to_bits(),
            steps_per_round: 7,
            checkpoint_interval: 3,
            batch_size: 4,
            train_examples: 100,
            eval_examples: 10,
        }
    }

    /// A gradient that depends on the weights it is given, so that a step run on the wrong state shows.
    fn gradient(weights: &[f32], step: u32) -> Vec<f32> {
        weights.iter().enumerate().map(|(i, w)| w * 0.5 + ((i as u32 ^ step) % 13) as f32 * 0.01 - 0.06).collect()
    }

    #[test]
    fn both_orders_build_the_rounds_of_step_and_store_what_they_commit() {
        let spec = spec();
        let w0: Vec<f32> = (0..20_000).map(|i| (i % 101) as f32 * 1e-3).collect();
        let slots = vec![vec![0.0f32; w0.len()]; 2];
        // The reference: `ParallelRound::step`, one whole step after the other.
        let mut plain = ParallelRound::new(spec, w0.clone(), slots.clone(), 1).unwrap();
        let want: Vec<StepRecord> = (0..spec.steps_per_round)
            .map(|s| {
                let g = gradient(plain.weights(), s);
                plain.step(&g, 0.5).unwrap().record
            })
            .collect();
        for overlap in [Overlap::On, Overlap::Off] {
            let dir = tempfile::tempdir().unwrap();
            let store = RoundStore::open(dir.path()).unwrap();
            let mut round = ParallelRound::new(spec, w0.clone(), slots.clone(), 1).unwrap();
            let mut steps = StepPipeline::new(&store, spec, overlap);
            for s in 0..spec.steps_per_round {
                let g = steps.gradient(&round, |w| Ok(gradient(w, s))).unwrap();
                steps.update(&mut round, &g, 0.5).unwrap();
            }
            let records = steps.finish_all(&round).unwrap();
            assert_eq!(records, want, "{overlap:?}");
            for r in &records {
                assert!(store.has_gradient(&r.gradient_root), "{overlap:?}: gradient of step {}", r.step);
                assert_eq!(r.checkpoint_root.is_some_and(|root| store.has_state(&root)), spec.is_checkpoint(r.step));
            }
        }
    }
}
