//! [`ParallelRound`]: the bookkeeping of `RoundBuilder::step`, leaf-parallel.

use crate::{
    apply_in_place,
    codec::quantize_dequantize_leaf,
    norm::{leaf_square_sums, SUM_LANES},
    state_leaf_hash, tree_of_leaf_hashes, tree_of_leaves,
};
use pogo_primitives::{
    builder::BuildError,
    quant::QuantError,
    round::StepRecord,
    spec::{f, StepScalars, TrainingSpec, UpdateRule},
    state::{leaf_bytes, StateError},
    update::{clipping_factor, combine_leaf_sums, UpdateError},
    Hash, MerkleTree,
};
use rayon::prelude::*;

/// One gradient leaf's 4-bit bytes and dequantized values.
type CodedLeaf = (Vec<u8>, Vec<f32>);

/// A round's state (weights and optimizer slots) and its step counter, stepped on every core.
#[derive(Clone, Debug)]
pub struct ParallelRound {
    spec: TrainingSpec,
    first_global_step: u64,
    weights: Vec<f32>,
    slots: Vec<Vec<f32>>,
    steps_done: u32,
    keep_checkpoint_leaves: bool,
}

/// What one step produced: its record (as `RoundBuilder::step` returns it), the gradient leaves and
/// tree, and the state tree when the step is a checkpoint.
#[derive(Clone, Debug)]
pub struct ParallelStep {
    /// The step's record.
    pub record: StepRecord,
    /// The 4-bit gradient leaves, in leaf order.
    pub gradient_leaves: Vec<Vec<u8>>,
    /// Their Merkle tree (root = `record.gradient_root`).
    pub gradient_tree: MerkleTree,
    /// The state tree after the step, at a checkpoint (root = `record.checkpoint_root`).
    pub checkpoint: Option<MerkleTree>,
    /// The state leaves of that checkpoint, in leaf order, when the round keeps them
    /// ([`ParallelRound::keeping_checkpoint_leaves`]).
    pub checkpoint_leaves: Option<Vec<Vec<u8>>>,
}

/// A step whose update is applied and whose trees are not built yet ([`ParallelRound::update`]).
#[derive(Clone, Debug)]
pub struct UpdatedStep {
    step: u32,
    scalars: StepScalars,
    train_loss: f32,
    gradient_leaves: Vec<Vec<u8>>,
}

impl UpdatedStep {
    /// The step's index in the round.
    pub fn step(&self) -> u32 {
        self.step
    }

    /// The step's training loss.
    pub fn train_loss(&self) -> f32 {
        self.train_loss
    }
}

impl ParallelRound {
    /// Starts from a whole state, as `RoundBuilder::new`: `weights` and one vector per optimizer slot,
    /// each of `param_count` values; `first_global_step` is the task's 1-based step number of the
    /// round's first step.
    pub fn new(spec: TrainingSpec, weights: Vec<f32>, slots: Vec<Vec<f32>>, first_global_step: u64) -> Result<Self, BuildError> {
        let p = usize::try_from(spec.param_count).map_err(|_| BuildError::Shape)?;
        if weights.len() != p || slots.len() != spec.rule.slots() || slots.iter().any(|s| s.len() != p) {
            return Err(BuildError::State(StateError::WrongStateSize));
        }
        Ok(Self { spec, first_global_step, weights, slots, steps_done: 0, keep_checkpoint_leaves: false })
    }

    /// Makes every checkpoint step also return its state leaves (`ParallelStep::checkpoint_leaves`),
    /// for a miner that stores them: the tree is then hashed from those bytes, so the state is converted
    /// once, not once for the root and again for the store.
    pub fn keeping_checkpoint_leaves(mut self) -> Self {
        self.keep_checkpoint_leaves = true;
        self
    }

    /// Mutable weights (for tests and adversary modes that model a cheating miner).
    pub fn weights_mut(&mut self) -> &mut [f32] {
        &mut self.weights
    }

    /// The task's spec.
    pub fn spec(&self) -> &TrainingSpec {
        &self.spec
    }

    /// The state leaves of the current state (`state::leaf_bytes` of every leaf, in parallel).
    pub fn state_leaves(&self) -> Result<Vec<Vec<u8>>, BuildError> {
        state_leaves(&self.spec, &self.weights, &self.slots)
    }

    /// The current weights.
    pub fn weights(&self) -> &[f32] {
        &self.weights
    }

    /// The current optimizer slots.
    pub fn slots(&self) -> &[Vec<f32>] {
        &self.slots
    }

    /// The state tree of the current state (leaves hashed in parallel).
    pub fn state_tree(&self) -> Result<MerkleTree, BuildError> {
        let hashes = (0..self.spec.leaf_count())
            .into_par_iter()
            .map(|i| {
                let (start, n) = self.spec.leaf_range(i).ok_or(StateError::WrongStateSize)?;
                let range = usize::try_from(start).map_err(|_| StateError::WrongStateSize)?;
                let range = range..range.saturating_add(n);
                let mut parts: Vec<&[f32]> = Vec::with_capacity(self.slots.len().saturating_add(1));
                for v in core::iter::once(&self.weights).chain(self.slots.iter()) {
                    parts.push(v.get(range.clone()).ok_or(StateError::WrongStateSize)?);
                }
                state_leaf_hash(&parts)
            })
            .collect::<Result<Vec<Hash>, StateError>>()
            .map_err(BuildError::State)?;
        tree_of_leaf_hashes(hashes).map_err(BuildError::Merkle)
    }

    /// One step from the full-precision `gradient`: the bytes, roots and state of `RoundBuilder::step`
    /// ([`update`](Self::update) then [`finish`](Self::finish)). The first error in leaf order is
    /// returned, as the reference returns it; after an error the state may be partly updated (as the
    /// reference's) and the round must be dropped.
    pub fn step(&mut self, gradient: &[f32], train_loss: f32) -> Result<ParallelStep, BuildError> {
        let updated = self.update(gradient, train_loss)?;
        self.finish(updated)
    }

    /// The first half of [`step`](Self::step): the gradient's 4-bit leaves, the clipping factor and the
    /// update of the state. What is left, hashing the gradient leaves and (at a checkpoint) the new state,
    /// only reads, so a miner runs it while the next step's forward and backward pass reads the same
    /// weights; [`finish`](Self::finish) must come before the next `update`, which moves the state on.
    pub fn update(&mut self, gradient: &[f32], train_loss: f32) -> Result<UpdatedStep, BuildError> {
        let step = self.steps_done;
        let leaf = usize::try_from(self.spec.leaf_size).map_err(|_| BuildError::Shape)?;
        let block = usize::try_from(self.spec.codec_block).map_err(|_| BuildError::Shape)?;
        if gradient.len() != self.weights.len() || step >= self.spec.steps_per_round || leaf == 0 {
            return Err(BuildError::Shape);
        }
        // 1. Per leaf: quantize and dequantize in one pass, and the leaf's square sum for the clipping norm (protocol 7).
        //    Leaves go to the pool in groups of `SUM_LANES`, whose square sums run interleaved (`norm`).
        let clipping = f(self.spec.max_grad_norm) != 0.0;
        let coded: Vec<(Vec<u8>, Vec<f32>, f64)> = gradient
            .par_chunks(leaf.saturating_mul(SUM_LANES))
            .map(|group| {
                let coded: Vec<Result<CodedLeaf, QuantError>> = group.chunks(leaf).map(|part| quantize_dequantize_leaf(part, block)).collect();
                let deq: Vec<&[f32]> = coded.iter().map(|c| c.as_ref().map_or(&[][..], |(_, d)| d.as_slice())).collect();
                let sums = if clipping { leaf_square_sums(&deq) } else { vec![0.0; deq.len()] };
                coded.into_iter().zip(sums).map(|(c, s)| c.map(|(bytes, deq)| (bytes, deq, s))).collect::<Vec<_>>()
            })
            .collect::<Vec<Vec<Result<_, _>>>>()
            .into_iter()
            .flatten()
            .collect::<Result<Vec<_>, _>>()
            .map_err(BuildError::Quant)?;
        // 2. The clipping factor: the leaves' sums combined in leaf order.
        let t = self.first_global_step.saturating_add(u64::from(step));
        let square_sum = combine_leaf_sums(coded.iter().map(|c| c.2));
        let gs = clipping_factor(f(self.spec.max_grad_norm), square_sum)
            .ok_or(BuildError::Update(UpdateError::BadScalars))?;
        let scalars = self.spec.reference_scalars(t, gs);
        // 3. The update, per leaf, in place in the weights and slots.
        apply_leaves(&self.spec, &scalars, &mut self.weights, &mut self.slots, coded.par_iter().map(|(_, d, _)| d.as_slice()))?;
        self.steps_done = step.saturating_add(1);
        let gradient_leaves: Vec<Vec<u8>> = coded.into_iter().map(|(bytes, _, _)| bytes).collect();
        Ok(UpdatedStep { step, scalars, train_loss, gradient_leaves })
    }

    /// The second half of [`step`](Self::step): the gradient tree, and at a checkpoint the tree of the
    /// current state, which must still be the state `updated` left (`Shape` if another step was updated
    /// since).
    pub fn finish(&self, updated: UpdatedStep) -> Result<ParallelStep, BuildError> {
        let UpdatedStep { step, scalars, train_loss, gradient_leaves } = updated;
        if self.steps_done != step.saturating_add(1) {
            return Err(BuildError::Shape);
        }
        let gradient_tree = tree_of_leaves(&gradient_leaves).map_err(BuildError::Merkle)?;
        let (checkpoint, checkpoint_leaves) = match (self.spec.is_checkpoint(step), self.keep_checkpoint_leaves) {
            (false, _) => (None, None),
            (true, false) => (Some(self.state_tree()?), None),
            (true, true) => {
                let leaves = self.state_leaves()?;
                (Some(tree_of_leaves(&leaves).map_err(BuildError::Merkle)?), Some(leaves))
            },
        };
        let record = StepRecord {
            step,
            gradient_root: gradient_tree.root(),
            scalars,
            train_loss: train_loss.to_bits(),
            checkpoint_root: checkpoint.as_ref().map(MerkleTree::root),
        };
        Ok(ParallelStep { record, gradient_leaves, gradient_tree, checkpoint, checkpoint_leaves })
    }
}

impl ParallelRound {
    /// Applies one step with `scalars` to the whole state from the flat dequantized gradient `deq`
    /// (`param_count` values), leaf-parallel (the update part of [`ParallelRound::step`], for measuring
    /// it alone). The step counter does not move.
    pub fn apply(&mut self, scalars: &StepScalars, deq: &[f32]) -> Result<(), BuildError> {
        let leaf = usize::try_from(self.spec.leaf_size).map_err(|_| BuildError::Shape)?;
        if deq.len() != self.weights.len() || leaf == 0 {
            return Err(BuildError::Shape);
        }
        apply_leaves(&self.spec, scalars, &mut self.weights, &mut self.slots, deq.par_chunks(leaf))
    }
}

/// `state::leaf_bytes` of every leaf of `weights` and `slots`, in leaf order, in parallel.
pub(crate) fn state_leaves(spec: &TrainingSpec, weights: &[f32], slots: &[Vec<f32>]) -> Result<Vec<Vec<u8>>, BuildError> {
    let slots: Vec<&[f32]> = slots.iter().map(Vec::as_slice).collect();
    (0..spec.leaf_count())
        .into_par_iter()
        .map(|i| leaf_bytes(spec, weights, &slots, i))
        .collect::<Result<Vec<Vec<u8>>, StateError>>()
        .map_err(BuildError::State)
}

/// The update of every leaf of `weights` and `slots`, leaf-parallel, `deq` yielding each leaf's
/// dequantized gradient in leaf order. The first error in leaf order is returned.
pub(crate) fn apply_leaves<'a, D>(
    spec: &TrainingSpec,
    scalars: &StepScalars,
    weights: &mut [f32],
    slots: &mut [Vec<f32>],
    deq: D,
) -> Result<(), BuildError>
where
    D: IndexedParallelIterator<Item = &'a [f32]>,
{
    let leaf = usize::try_from(spec.leaf_size).map_err(|_| BuildError::Shape)?.max(1);
    let rule = spec.rule;
    let results: Vec<Result<(), UpdateError>> = match slots {
        [] => weights.par_chunks_mut(leaf).zip(deq).map(|(w, g)| update_leaf(&rule, scalars, &mut [w], g)).collect(),
        [s1] => weights
            .par_chunks_mut(leaf)
            .zip(s1.par_chunks_mut(leaf))
            .zip(deq)
            .map(|((w, a), g)| update_leaf(&rule, scalars, &mut [w, a], g))
            .collect(),
        [s1, s2] => weights
            .par_chunks_mut(leaf)
            .zip(s1.par_chunks_mut(leaf))
            .zip(s2.par_chunks_mut(leaf))
            .zip(deq)
            .map(|(((w, a), b), g)| update_leaf(&rule, scalars, &mut [w, a, b], g))
            .collect(),
        _ => return Err(BuildError::State(StateError::WrongStateSize)),
    };
    results.into_iter().collect::<Result<Vec<()>, _>>().map(|_| ()).map_err(BuildError::Update)
}

/// One leaf's update: `parts` are the leaf's weights and slots, updated in place ([`apply_in_place`]).
fn update_leaf(rule: &UpdateRule, scalars: &StepScalars, parts: &mut [&mut [f32]], deq: &[f32]) -> Result<(), UpdateError> {
    apply_in_place(rule, scalars, parts, deq)
}
