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
//! * The one sequential part is the protocol's own: the gradient norm is a sum of squares in f64 *in
//!   flattening order* (`update::gradient_scale`), which no reordering may change. It is one pass over the
//!   dequantized gradient; issue 15 proposes per-leaf partial sums in the spec to lift it.
//! * The update is one fused in-place pass per leaf ([`apply_in_place`]), the reference's operations in
//!   the reference's order, finiteness checked once at the end; state leaves are hashed straight from the
//!   f32 values ([`state_leaf_hash`]). Measurements: docs/performance.md.
//!
//! ## Terms
//! * *leaf*: `leaf_size` consecutive parameters (the last may be shorter) with their optimizer slots.

pub mod fused;
pub mod round;
pub mod scalars;

pub use fused::apply_in_place;
pub use round::{ParallelRound, ParallelStep};
pub use scalars::PreparedScalars;

use pogo_primitives::{
    hash::MERKLE_LEAF_KEY,
    merkle::leaf_hash,
    quant,
    quant::QuantError,
    state::{check_finite, StateError},
    Hash, MerkleError, MerkleTree,
};
use rayon::prelude::*;

/// Elements per rayon task when quantizing one long vector: whole codec blocks, about 64 KiB of input.
const QUANTIZE_TASK: usize = 16_384;

/// `quant::quantize` on every core: groups of whole codec blocks encoded in parallel and joined in order,
/// so the bytes (and the index of the first non-finite value) are the reference's.
pub fn quantize(values: &[f32], block: usize) -> Result<Vec<u8>, QuantError> {
    if block == 0 {
        return Err(QuantError::ZeroBlockSize);
    }
    let group = QUANTIZE_TASK.div_ceil(block).saturating_mul(block);
    let parts: Vec<Result<Vec<u8>, QuantError>> = values
        .par_chunks(group)
        .enumerate()
        .map(|(g, chunk)| {
            quant::quantize(chunk, block).map_err(|e| match e {
                QuantError::NonFinite { index } => {
                    let global = g.saturating_mul(group).saturating_add(index as usize);
                    QuantError::NonFinite { index: u32::try_from(global).unwrap_or(u32::MAX) }
                },
                other => other,
            })
        })
        .collect();
    let mut out = Vec::with_capacity(quant::encoded_len(values.len(), block).unwrap_or(0));
    for part in parts {
        out.extend_from_slice(&part?);
    }
    Ok(out)
}

/// `H_leaf` of the state leaf made of `parts` (weights, then each slot), each part refused if not finite
/// (`StateError::NonFinite` with the index within that part, as `state::leaf_bytes` reports it), hashed straight
/// from the f32 values through a small stack buffer: the same hash as `leaf_hash(&leaf_bytes(..))` without
/// building the leaf's bytes.
pub fn state_leaf_hash(parts: &[&[f32]]) -> Result<Hash, StateError> {
    let mut hasher = blake3::Hasher::new_keyed(&MERKLE_LEAF_KEY);
    let mut buf = [0u8; 16_384]; // 16 BLAKE3 chunks per update: the widest SIMD batch
    for part in parts {
        check_finite(part)?;
        for chunk in part.chunks(buf.len() / 4) {
            let bytes = chunk.len().saturating_mul(4);
            for (dst, v) in buf.chunks_exact_mut(4).zip(chunk) {
                dst.copy_from_slice(&v.to_le_bytes());
            }
            hasher.update(buf.get(..bytes).unwrap_or(&[]));
        }
    }
    Ok(*hasher.finalize().as_bytes())
}

/// The Merkle tree over `leaves`, the leaf hashes computed in parallel.
pub fn tree_of_leaves(leaves: &[Vec<u8>]) -> Result<MerkleTree, MerkleError> {
    MerkleTree::from_leaf_hashes(leaves.par_iter().map(|l| leaf_hash(l)).collect::<Vec<Hash>>())
}
