//! # pogo-bookkeeping: a PoGO step's bookkeeping on every core
//!
//! ## Overview
//! What PoGO adds to a training step is bookkeeping: quantize each gradient leaf to 4 bits, dequantize it,
//! take the clipping factor, apply the exact update rule, hash the gradient leaves into the step's
//! gradient root and, at a checkpoint, the state leaves into a state root. `pogo-primitives` specifies
//! all of it single-threaded ([`pogo_primitives::builder::RoundBuilder::step`]); this crate does the same
//! work leaf-parallel on a rayon pool, **byte for byte** the same ([`ParallelRound`], tested against
//! `RoundBuilder` on 1 to 4 threads).
//!
//! ## Design
//! * Everything per leaf is independent (the codec's blocks never straddle a leaf, the update rules are
//!   element-wise, leaves are hashed alone), so leaves are the unit of work; the Merkle levels above the
//!   leaves are `n − 1` hashes of 64 bytes and stay sequential.
//! * The gradient norm is per leaf too since protocol version 3: each leaf's squares are summed in f64 in
//!   order (`update::leaf_square_sum`, in the same parallel pass as quantize and dequantize), and only the
//!   leaves' sums are added sequentially, in leaf order (`update::combine_leaf_sums`): one f64 addition per
//!   leaf.
//! * The update is one fused in-place pass per leaf ([`apply_in_place`]), the reference's operations in
//!   the reference's order, finiteness checked once at the end; state leaves are hashed straight from the
//!   f32 values ([`state_leaf_hash`]). Measurements: docs/performance.md.
//!
//! ## Terms
//! * *leaf*: `leaf_size` consecutive parameters (the last may be shorter) with their optimizer slots.

pub mod codec;
pub mod fused;
pub mod round;
pub mod scalars;

pub use codec::quantize;
pub use fused::apply_in_place;
pub use round::{ParallelRound, ParallelStep};
pub use scalars::PreparedScalars;

use pogo_primitives::{
    hash::MERKLE_LEAF_KEY,
    merkle::leaf_hash,
    state::{check_finite, StateError},
    Hash, MerkleError, MerkleTree,
};
use rayon::prelude::*;

/// `H_leaf` of the state leaf made of `parts` (weights, then each slot), each part refused if not finite
/// (`StateError::NonFinite` with the index within that part, as `state::leaf_bytes` reports it), hashed straight
/// from the f32 values: the same hash as `leaf_hash(&leaf_bytes(..))` without building the leaf's bytes.
/// On a little-endian machine a part's memory already is its bytes (`f32::to_le_bytes` of each value in
/// order), so BLAKE3 reads it in place, 16 chunks per SIMD batch; elsewhere the values go through a stack
/// buffer. The finiteness test is one branch-free pass per part (the first bad index is looked up only
/// when there is one).
pub fn state_leaf_hash(parts: &[&[f32]]) -> Result<Hash, StateError> {
    let mut hasher = blake3::Hasher::new_keyed(&MERKLE_LEAF_KEY);
    for part in parts {
        if !part.iter().fold(true, |ok, v| ok & v.is_finite()) {
            check_finite(part)?;
        }
        hash_le_bytes(&mut hasher, part);
    }
    Ok(*hasher.finalize().as_bytes())
}

/// Feeds the little-endian bytes of `values` to `hasher`.
#[cfg(target_endian = "little")]
fn hash_le_bytes(hasher: &mut blake3::Hasher, values: &[f32]) {
    hasher.update(bytemuck::cast_slice(values));
}

/// Feeds the little-endian bytes of `values` to `hasher`.
#[cfg(not(target_endian = "little"))]
fn hash_le_bytes(hasher: &mut blake3::Hasher, values: &[f32]) {
    let mut buf = [0u8; 16_384]; // 16 BLAKE3 chunks per update: the widest SIMD batch
    for chunk in values.chunks(buf.len() / 4) {
        let bytes = chunk.len().saturating_mul(4);
        for (dst, v) in buf.chunks_exact_mut(4).zip(chunk) {
            dst.copy_from_slice(&v.to_le_bytes());
        }
        hasher.update(buf.get(..bytes).unwrap_or(&[]));
    }
}

/// The Merkle tree over `leaves`, the leaf hashes computed in parallel.
pub fn tree_of_leaves(leaves: &[Vec<u8>]) -> Result<MerkleTree, MerkleError> {
    MerkleTree::from_leaf_hashes(leaves.par_iter().map(|l| leaf_hash(l)).collect::<Vec<Hash>>())
}
