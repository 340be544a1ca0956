//! [`StepKernels`]: the bulk passes of a replayed step, for a caller that runs them faster with the same
//! results.
//!
//! A replayed step ([`RoundBuilder::replay_step_with`](crate::builder::RoundBuilder::replay_step_with))
//! spends its time in five passes over the model: hashing the gradient leaves, decoding them, the clipping
//! norm, the update and, at a checkpoint, the state leaves and their tree. This crate's code defines each
//! ([`Reference`]: one thread, leaf by leaf, the code the runtime checks a fraud proof's leaf with). Another
//! implementation must return the same bytes, values, roots and errors, so that the replay reaches the
//! same verdict and the same fraud proofs: the worker's runs the passes on every core and in SIMD lanes
//! (`pogo_bookkeeping::ParallelKernels`, tested against these byte for byte). The checks between the
//! passes (the order of the faults, the scalar rules) stay in the builder, whatever the kernels.

use crate::{
    builder::BuildError,
    merkle::{MerkleError, MerkleTree},
    quant::dequantize,
    spec::{f, StepScalars, TrainingSpec},
    state::{leaf_bytes, state_tree, StateLeaf},
    update::{apply_step, gradient_scale},
};
use alloc::vec::Vec;

/// The bulk passes of a step over the whole model.
pub trait StepKernels {
    /// The Merkle tree over `leaves` ([`MerkleTree::from_leaves`]).
    fn tree_of_leaves(&self, leaves: &[Vec<u8>]) -> Result<MerkleTree, MerkleError>;

    /// Every gradient leaf decoded (`quant::dequantize` of leaf `i` with `spec.leaf_range(i)`'s length and
    /// the spec's codec block), concatenated in leaf order. `Ok(Err(i))`: leaf `i` is the first in leaf
    /// order that does not decode. `Err(Shape)` when `leaves` is not one per leaf of the spec.
    fn dequantize_leaves(&self, spec: &TrainingSpec, leaves: &[Vec<u8>]) -> Result<Result<Vec<f32>, u64>, BuildError>;

    /// The clipping factor of the dequantized gradient `deq`:
    /// `update::gradient_scale(f(spec.max_grad_norm), spec.leaf_size, deq)`.
    fn gradient_scale(&self, spec: &TrainingSpec, deq: &[f32]) -> Option<f32>;

    /// The step applied in place to every leaf of the state (`update::apply_step` on leaf `i`'s weights
    /// and slots with its part of `deq`). An error is the first in leaf order; after one the state may be
    /// partly updated.
    fn apply(&self, spec: &TrainingSpec, scalars: &StepScalars, weights: &mut [f32], slots: &mut [Vec<f32>], deq: &[f32])
        -> Result<(), BuildError>;

    /// The state leaves (`state::leaf_bytes` of every leaf, in leaf order) and their tree.
    fn checkpoint(&self, spec: &TrainingSpec, weights: &[f32], slots: &[Vec<f32>]) -> Result<(Vec<Vec<u8>>, MerkleTree), BuildError>;
}

/// This crate's definitions of the passes, on one thread.
#[derive(Clone, Copy, Debug, Default)]
pub struct Reference;

impl StepKernels for Reference {
    fn tree_of_leaves(&self, leaves: &[Vec<u8>]) -> Result<MerkleTree, MerkleError> {
        MerkleTree::from_leaves(leaves.iter().map(|l| l.as_slice()))
    }

    fn dequantize_leaves(&self, spec: &TrainingSpec, leaves: &[Vec<u8>]) -> Result<Result<Vec<f32>, u64>, BuildError> {
        let block = usize::try_from(spec.codec_block).map_err(|_| BuildError::Shape)?;
        let p = usize::try_from(spec.param_count).map_err(|_| BuildError::Shape)?;
        if u64::try_from(leaves.len()).ok() != Some(spec.leaf_count()) {
            return Err(BuildError::Shape);
        }
        let mut deq = Vec::with_capacity(p);
        for (i, bytes) in (0u64..).zip(leaves) {
            let (_, n) = spec.leaf_range(i).ok_or(BuildError::Shape)?;
            match dequantize(bytes, n, block) {
                Ok(values) => deq.extend(values),
                Err(_) => return Ok(Err(i)),
            }
        }
        Ok(Ok(deq))
    }

    fn gradient_scale(&self, spec: &TrainingSpec, deq: &[f32]) -> Option<f32> {
        gradient_scale(f(spec.max_grad_norm), spec.leaf_size, deq)
    }

    fn apply(&self, spec: &TrainingSpec, scalars: &StepScalars, weights: &mut [f32], slots: &mut [Vec<f32>], deq: &[f32])
        -> Result<(), BuildError> {
        let slot_count = spec.rule.slots();
        for i in 0..spec.leaf_count() {
            let (start, n) = spec.leaf_range(i).ok_or(BuildError::Shape)?;
            let start = usize::try_from(start).map_err(|_| BuildError::Shape)?;
            let end = start.saturating_add(n);
            let mut values = Vec::with_capacity(n.saturating_mul(slot_count.saturating_add(1)));
            values.extend_from_slice(weights.get(start..end).ok_or(BuildError::Shape)?);
            for s in slots.iter() {
                values.extend_from_slice(s.get(start..end).ok_or(BuildError::Shape)?);
            }
            let mut leaf = StateLeaf { n, values };
            let g = deq.get(start..end).ok_or(BuildError::Shape)?;
            apply_step(&spec.rule, scalars, &mut leaf, g).map_err(BuildError::Update)?;
            let mut chunks = leaf.values.chunks(n.max(1));
            if let (Some(w), Some(dst)) = (chunks.next(), weights.get_mut(start..end)) {
                dst.copy_from_slice(w);
            }
            for s in slots.iter_mut() {
                if let (Some(v), Some(dst)) = (chunks.next(), s.get_mut(start..end)) {
                    dst.copy_from_slice(v);
                }
            }
        }
        Ok(())
    }

    fn checkpoint(&self, spec: &TrainingSpec, weights: &[f32], slots: &[Vec<f32>]) -> Result<(Vec<Vec<u8>>, MerkleTree), BuildError> {
        let slot_refs: Vec<&[f32]> = slots.iter().map(|s| s.as_slice()).collect();
        let tree = state_tree(spec, weights, &slot_refs).map_err(BuildError::State)?;
        let leaves = (0..spec.leaf_count())
            .map(|i| leaf_bytes(spec, weights, &slot_refs, i))
            .collect::<Result<Vec<_>, _>>()
            .map_err(BuildError::State)?;
        Ok((leaves, tree))
    }
}
