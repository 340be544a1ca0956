//! The miner's side of a round: applies steps to a whole model, quantizes gradients, builds every tree
//! and keeps what is needed to serve openings and fraud proofs. Used by the worker and by tests (pallet
//! scenarios build real commitments with it).

use crate::{
    fraud::{FraudProof, OpenedRecord, OpenedStep},
    hash::Hash,
    merkle::{MerkleError, MerkleTree},
    quant::{dequantize, quantize, QuantError},
    kernels::{Reference, StepKernels},
    replay::{schedule_scalars_conform, ReplayFault},
    round::{commit, RoundCommitment, RoundError, StepRecord},
    spec::{f, StepScalars, TrainingSpec},
    state::StateError,
    update::{gradient_scale, UpdateError},
};
use alloc::vec::Vec;

/// Why building a round failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// The state is malformed.
    State(StateError),
    /// A gradient cannot be quantized.
    Quant(QuantError),
    /// A step could not be applied.
    Update(UpdateError),
    /// The round's records are inconsistent.
    Round(RoundError),
    /// A tree could not be built or opened.
    Merkle(MerkleError),
    /// The gradient has the wrong length, or more steps than the round has.
    Shape,
}

struct BuiltStep {
    record: StepRecord,
    gradient_leaves: Vec<Vec<u8>>,
    gradient_tree: MerkleTree,
}

struct Checkpoint {
    leaves: Vec<Vec<u8>>,
    tree: MerkleTree,
}

/// Builds one round.
pub struct RoundBuilder {
    spec: TrainingSpec,
    first_global_step: u64,
    weights: Vec<f32>,
    slots: Vec<Vec<f32>>,
    base: Checkpoint,
    steps: Vec<BuiltStep>,
    /// Checkpoints by step, in order.
    checkpoints: Vec<(u32, Checkpoint)>,
}

fn checkpoint<K: StepKernels>(kernels: &K, spec: &TrainingSpec, weights: &[f32], slots: &[Vec<f32>]) -> Result<Checkpoint, BuildError> {
    let (leaves, tree) = kernels.checkpoint(spec, weights, slots)?;
    Ok(Checkpoint { leaves, tree })
}

impl RoundBuilder {
    /// Starts a round from a whole state. `first_global_step` is the task's global step number (1-based)
    /// of the round's first step, used for schedules and AdamW bias corrections.
    pub fn new(spec: TrainingSpec, weights: Vec<f32>, slots: Vec<Vec<f32>>, first_global_step: u64) -> Result<Self, BuildError> {
        let base = checkpoint(&Reference, &spec, &weights, &slots)?;
        Ok(Self { spec, first_global_step, weights, slots, base, steps: Vec::new(), checkpoints: Vec::new() })
    }

    /// The base state root.
    pub fn base_root(&self) -> Hash {
        self.base.tree.root()
    }

    /// The current weights.
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    /// The current optimizer slots (one vector per slot).
    pub fn slots(&self) -> &[Vec<f32>] {
        &self.slots
    }

    /// Mutable weights (for tests that model a cheating miner).
    pub fn weights_mut(&mut self) -> &mut [f32] {
        &mut self.weights
    }

    /// The scalars the protocol prescribes for step `step` of this round
    /// ([`TrainingSpec::reference_scalars`] with the clipping factor of `dequantized`, the step's whole
    /// dequantized gradient; `None` when its norm is not finite).
    pub fn scalars_for(&self, step: u32, dequantized: &[f32]) -> Option<StepScalars> {
        let t = self.first_global_step.saturating_add(u64::from(step));
        let gs = gradient_scale(f(self.spec.max_grad_norm), self.spec.leaf_size, dequantized)?;
        Some(self.spec.reference_scalars(t, gs))
    }

    /// Quantizes `gradient` (one value per parameter), applies the step and records it.
    pub fn step(&mut self, gradient: &[f32], train_loss: f32) -> Result<StepRecord, BuildError> {
        let p = usize::try_from(self.spec.param_count).map_err(|_| BuildError::Shape)?;
        let step = u32::try_from(self.steps.len()).map_err(|_| BuildError::Shape)?;
        if gradient.len() != p || step >= self.spec.steps_per_round {
            return Err(BuildError::Shape);
        }
        let block = usize::try_from(self.spec.codec_block).map_err(|_| BuildError::Shape)?;
        let mut gradient_leaves = Vec::new();
        let mut deq = Vec::with_capacity(p);
        for i in 0..self.spec.leaf_count() {
            let (start, n) = self.spec.leaf_range(i).ok_or(BuildError::Shape)?;
            let start = usize::try_from(start).map_err(|_| BuildError::Shape)?;
            let part = gradient.get(start..start.saturating_add(n)).ok_or(BuildError::Shape)?;
            let bytes = quantize(part, block).map_err(BuildError::Quant)?;
            deq.extend(dequantize(&bytes, n, block).map_err(BuildError::Quant)?);
            gradient_leaves.push(bytes);
        }
        let scalars = self.scalars_for(step, &deq).ok_or(BuildError::Update(UpdateError::BadScalars))?;
        self.apply(&scalars, &deq)?;
        let gradient_tree =
            MerkleTree::from_leaves(gradient_leaves.iter().map(|l| l.as_slice())).map_err(BuildError::Merkle)?;
        let checkpoint_root = if self.spec.is_checkpoint(step) {
            let cp = checkpoint(&Reference, &self.spec, &self.weights, &self.slots)?;
            let root = cp.tree.root();
            self.checkpoints.push((step, cp));
            Some(root)
        } else {
            None
        };
        let record = StepRecord {
            step,
            gradient_root: gradient_tree.root(),
            scalars,
            train_loss: train_loss.to_bits(),
            checkpoint_root,
        };
        self.steps.push(BuiltStep { record: record.clone(), gradient_leaves, gradient_tree });
        Ok(record)
    }

    /// Applies one step with `scalars` and the whole dequantized gradient `deq`, leaf by leaf, with the
    /// same code the runtime replays. On error the weights and slots may be partly updated.
    fn apply(&mut self, scalars: &StepScalars, deq: &[f32]) -> Result<(), BuildError> {
        Reference.apply(&self.spec, scalars, &mut self.weights, &mut self.slots, deq)
    }

    /// Replays one committed step (section 11, step 3): `record` is the miner's record of the next step,
    /// `gradient_leaves` the leaves its gradient root commits. Checks that the leaves hash to the
    /// gradient root and decode canonically, that the scalars conform to the task
    /// ([`crate::replay::scalars_conform`]), applies the step with the committed scalars and, at a
    /// checkpoint, compares the replayed state root with the committed one.
    ///
    /// The committed record is kept as it is, so [`RoundBuilder::fraud_proof`] opens the miner's records
    /// against the miner's trace tree, while the checkpoints are the replayed ones. `Ok(Some(fault))`
    /// is the first inconsistency; the replay must not go on after it. `Err` is a shape error of the
    /// caller (wrong step, wrong number of leaves).
    pub fn replay_step(&mut self, record: &StepRecord, gradient_leaves: Vec<Vec<u8>>) -> Result<Option<ReplayFault>, BuildError> {
        self.replay_step_with(record, gradient_leaves, &Reference)
    }

    /// [`replay_step`](Self::replay_step) with the bulk passes (hashing, decoding, the clipping norm, the
    /// update, the checkpoint) run by `kernels`, which must return what [`Reference`] returns: the same
    /// faults, checkpoints and state follow.
    pub fn replay_step_with<K: StepKernels>(
        &mut self,
        record: &StepRecord,
        gradient_leaves: Vec<Vec<u8>>,
        kernels: &K,
    ) -> Result<Option<ReplayFault>, BuildError> {
        let step = u32::try_from(self.steps.len()).map_err(|_| BuildError::Shape)?;
        let leaf_count = usize::try_from(self.spec.leaf_count()).map_err(|_| BuildError::Shape)?;
        if record.step != step || step >= self.spec.steps_per_round || gradient_leaves.len() != leaf_count {
            return Err(BuildError::Shape);
        }
        let gradient_tree = kernels.tree_of_leaves(&gradient_leaves).map_err(BuildError::Merkle)?;
        if gradient_tree.root() != record.gradient_root {
            return Ok(Some(ReplayFault::GradientRootMismatch { step }));
        }
        let deq = match kernels.dequantize_leaves(&self.spec, &gradient_leaves)? {
            Ok(deq) => deq,
            Err(leaf) => return Ok(Some(ReplayFault::MalformedGradient { step, leaf })),
        };
        let t = self.first_global_step.saturating_add(u64::from(step));
        let scale_conforms = kernels.gradient_scale(&self.spec, &deq).is_some_and(|g| g.to_bits() == record.scalars.gradient_scale);
        if !record.is_well_formed(&self.spec) || !scale_conforms || !schedule_scalars_conform(&self.spec, t, &record.scalars) {
            return Ok(Some(ReplayFault::WrongScalars { step }));
        }
        match kernels.apply(&self.spec, &record.scalars, &mut self.weights, &mut self.slots, &deq) {
            Ok(()) => {},
            Err(BuildError::Update(UpdateError::NonFinite { .. } | UpdateError::BadScalars)) =>
                return Ok(Some(ReplayFault::NonFiniteUpdate { step })),
            Err(e) => return Err(e),
        }
        let mut fault = None;
        if self.spec.is_checkpoint(step) {
            let cp = checkpoint(kernels, &self.spec, &self.weights, &self.slots)?;
            if Some(cp.tree.root()) != record.checkpoint_root {
                fault = Some(ReplayFault::CheckpointMismatch {
                    step,
                    segment: step.checked_div(self.spec.checkpoint_interval).unwrap_or(0),
                });
            }
            self.checkpoints.push((step, cp));
        }
        self.steps.push(BuiltStep { record: record.clone(), gradient_leaves, gradient_tree });
        Ok(fault)
    }

    /// The records so far.
    pub fn records(&self) -> Vec<StepRecord> {
        self.steps.iter().map(|s| s.record.clone()).collect()
    }

    /// The round commitment once every step is done.
    pub fn commitment(&self, eval_loss_before: f32, eval_loss_after: f32) -> Result<(RoundCommitment, MerkleTree), BuildError> {
        commit(&self.spec, self.base_root(), &self.records(), eval_loss_before, eval_loss_after).map_err(BuildError::Round)
    }

    fn checkpoint_at(&self, step: Option<u32>) -> Option<&Checkpoint> {
        match step {
            None => Some(&self.base),
            Some(s) => self.checkpoints.iter().find(|(at, _)| *at == s).map(|(_, c)| c),
        }
    }

    /// A fraud proof skeleton for `leaf_index` in `segment`, with the openings this builder committed.
    /// It verifies as fraud only if the committed evolution really is inconsistent for that leaf.
    pub fn fraud_proof(&self, trace: &MerkleTree, leaf_index: u64, segment: u32) -> Result<FraudProof, BuildError> {
        let (first, end) = self.spec.segment_steps(segment).ok_or(BuildError::Shape)?;
        let open = |s: u32| -> Result<OpenedRecord, BuildError> {
            let built = self.steps.get(usize::try_from(s).map_err(|_| BuildError::Shape)?).ok_or(BuildError::Shape)?;
            Ok(OpenedRecord { record: built.record.clone(), proof: trace.proof(u64::from(s)).map_err(BuildError::Merkle)? })
        };
        let start_step = first.checked_sub(1);
        let start = self.checkpoint_at(start_step).ok_or(BuildError::Shape)?;
        let end_cp = self.checkpoint_at(end.checked_sub(1)).ok_or(BuildError::Shape)?;
        let li = usize::try_from(leaf_index).map_err(|_| BuildError::Shape)?;
        let mut steps = Vec::new();
        for s in first..end {
            let built = self.steps.get(usize::try_from(s).map_err(|_| BuildError::Shape)?).ok_or(BuildError::Shape)?;
            steps.push(OpenedStep {
                record: open(s)?,
                gradient_leaf: built.gradient_leaves.get(li).ok_or(BuildError::Shape)?.clone(),
                gradient_proof: built.gradient_tree.proof(leaf_index).map_err(BuildError::Merkle)?,
            });
        }
        Ok(FraudProof {
            leaf_index,
            segment,
            start_anchor: start_step.map(open).transpose()?,
            start_leaf: start.leaves.get(li).ok_or(BuildError::Shape)?.clone(),
            start_proof: start.tree.proof(leaf_index).map_err(BuildError::Merkle)?,
            steps,
            end_leaf: end_cp.leaves.get(li).ok_or(BuildError::Shape)?.clone(),
            end_proof: end_cp.tree.proof(leaf_index).map_err(BuildError::Merkle)?,
        })
    }

    /// Every gradient leaf of step `step` (the bytes its gradient root commits), in leaf order.
    pub fn gradient_leaves(&self, step: u32) -> Option<&[Vec<u8>]> {
        Some(self.steps.get(usize::try_from(step).ok()?)?.gradient_leaves.as_slice())
    }

    /// The steps after which a checkpoint was taken, ascending (the base, `None`, is not listed).
    pub fn checkpoint_steps(&self) -> Vec<u32> {
        self.checkpoints.iter().map(|(s, _)| *s).collect()
    }

    /// Every state leaf of the checkpoint after step `step` (`None` = base) and its root.
    pub fn checkpoint_leaves(&self, step: Option<u32>) -> Option<(&[Vec<u8>], Hash)> {
        let cp = self.checkpoint_at(step)?;
        Some((cp.leaves.as_slice(), cp.tree.root()))
    }

    /// The state leaf `index` at checkpoint step `step` (`None` = base) with its proof.
    pub fn state_opening(&self, step: Option<u32>, index: u64) -> Option<(Vec<u8>, crate::merkle::MerkleProof)> {
        let cp = self.checkpoint_at(step)?;
        Some((cp.leaves.get(usize::try_from(index).ok()?)?.clone(), cp.tree.proof(index).ok()?))
    }

    /// The gradient leaf `index` of step `step` with its proof.
    pub fn gradient_opening(&self, step: u32, index: u64) -> Option<(Vec<u8>, crate::merkle::MerkleProof)> {
        let s = self.steps.get(usize::try_from(step).ok()?)?;
        Some((s.gradient_leaves.get(usize::try_from(index).ok()?)?.clone(), s.gradient_tree.proof(index).ok()?))
    }
}
