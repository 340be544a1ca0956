//! [`ParallelKernels`]: the bulk passes of a replayed step (`pogo_primitives::kernels::StepKernels`) on
//! every core, with the reference's results: the verifier's full replay runs `RoundBuilder::replay_step_with`
//! on them, so its checkpoints and fraud proofs are the reference builder's.
//!
//! | pass | here | the reference |
//! |---|---|---|
//! | gradient tree | leaf hashes in SIMD lanes on every core ([`crate::tree_of_leaves`]) | one leaf at a time |
//! | decoding | [`codec::dequantize_leaf_into`] per leaf, leaves in parallel; the first bad leaf in leaf order | leaf by leaf |
//! | clipping norm | leaf square sums 8 at a time ([`crate::norm`]) on every core, combined in leaf order | one chain |
//! | update | [`crate::apply_in_place`] per leaf, leaves in parallel; the first error in leaf order | leaf by leaf, copied |
//! | checkpoint | state leaves in parallel, then [`crate::tree_of_leaves`] | leaf by leaf, twice |

use crate::{
    codec,
    norm::{leaf_square_sums, SUM_LANES},
    round::{apply_leaves, state_leaves},
    tree_of_leaves,
};
use pogo_primitives::{
    builder::BuildError,
    kernels::StepKernels,
    merkle::{MerkleError, MerkleTree},
    spec::{f, StepScalars, TrainingSpec},
    state::StateError,
    update::{clipping_factor, combine_leaf_sums},
};
use rayon::prelude::*;

/// The step kernels on the rayon pool.
#[derive(Clone, Copy, Debug, Default)]
pub struct ParallelKernels;

/// The spec's leaf size and codec block as `usize` (`Shape` when either is 0 or too large).
fn leaf_and_block(spec: &TrainingSpec) -> Result<(usize, usize), BuildError> {
    let leaf = usize::try_from(spec.leaf_size).ok().filter(|&l| l > 0).ok_or(BuildError::Shape)?;
    let block = usize::try_from(spec.codec_block).map_err(|_| BuildError::Shape)?;
    Ok((leaf, block))
}

/// The spec's parameter count, with `weights` and `slots` checked against it.
fn checked_state(spec: &TrainingSpec, weights: &[f32], slots: &[Vec<f32>]) -> Result<usize, BuildError> {
    let p = usize::try_from(spec.param_count).map_err(|_| BuildError::Shape)?;
    if weights.len() != p || slots.len() != spec.rule.slots() || slots.iter().any(|s| s.len() != p) {
        return Err(BuildError::State(StateError::WrongStateSize));
    }
    Ok(p)
}

impl StepKernels for ParallelKernels {
    fn tree_of_leaves(&self, leaves: &[Vec<u8>]) -> Result<MerkleTree, MerkleError> {
        tree_of_leaves(leaves)
    }

    fn dequantize_leaves(&self, spec: &TrainingSpec, leaves: &[Vec<u8>]) -> Result<Result<Vec<f32>, u64>, BuildError> {
        let (leaf, block) = leaf_and_block(spec)?;
        let p = usize::try_from(spec.param_count).map_err(|_| BuildError::Shape)?;
        if u64::try_from(leaves.len()).ok() != Some(spec.leaf_count()) {
            return Err(BuildError::Shape);
        }
        let mut deq = vec![0.0f32; p];
        let first_bad = deq
            .par_chunks_mut(leaf)
            .zip(leaves.par_iter())
            .enumerate()
            .filter_map(|(i, (out, bytes))| codec::dequantize_leaf_into(bytes, block, out).err().map(|_| i))
            .min();
        Ok(match first_bad {
            Some(i) => Err(u64::try_from(i).unwrap_or(u64::MAX)),
            None => Ok(deq),
        })
    }

    fn gradient_scale(&self, spec: &TrainingSpec, deq: &[f32]) -> Option<f32> {
        let max_norm = f(spec.max_grad_norm);
        if max_norm == 0.0 {
            return Some(1.0);
        }
        let leaf = usize::try_from(spec.leaf_size).ok().filter(|&l| l > 0)?;
        // Each group's sums come back in order, and the groups in order: leaf order.
        let sums: Vec<f64> = deq
            .par_chunks(leaf.saturating_mul(SUM_LANES))
            .flat_map_iter(|group| leaf_square_sums(&group.chunks(leaf).collect::<Vec<_>>()))
            .collect();
        clipping_factor(max_norm, combine_leaf_sums(sums))
    }

    fn apply(&self, spec: &TrainingSpec, scalars: &StepScalars, weights: &mut [f32], slots: &mut [Vec<f32>], deq: &[f32])
        -> Result<(), BuildError> {
        let (leaf, _) = leaf_and_block(spec)?;
        if deq.len() != checked_state(spec, weights, slots)? {
            return Err(BuildError::Shape);
        }
        apply_leaves(spec, scalars, weights, slots, deq.par_chunks(leaf))
    }

    fn checkpoint(&self, spec: &TrainingSpec, weights: &[f32], slots: &[Vec<f32>]) -> Result<(Vec<Vec<u8>>, MerkleTree), BuildError> {
        checked_state(spec, weights, slots)?;
        let leaves = state_leaves(spec, weights, slots)?;
        let tree = tree_of_leaves(&leaves).map_err(|e| BuildError::State(StateError::Merkle(e)))?;
        Ok((leaves, tree))
    }
}
