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
//!   element-wise, leaves are hashed alone), so leaves are the unit of work. Gradient leaves are hashed
//!   16 at a time, one per SIMD lane ([`lanes`]: a 4-bit leaf is only three BLAKE3 chunks, too few for
//!   BLAKE3's own SIMD), and so are the `n − 1` Merkle nodes above any leaves, level by level; a state
//!   leaf (48 chunks for 4,096 AdamW parameters) fills BLAKE3's own SIMD and is hashed in place.
//! * The gradient norm is per leaf too since protocol version 3: each leaf's squares are summed in f64 in
//!   order (`update::leaf_square_sum`, in the same parallel pass as quantize and dequantize), and only the
//!   leaves' sums are added sequentially, in leaf order (`update::combine_leaf_sums`): one f64 addition per
//!   leaf. Each leaf's sum is a chain of dependent additions, so 8 leaves' chains run interleaved ([`norm`]).
//! * The update is one fused in-place pass per leaf ([`apply_in_place`]), the reference's operations in
//!   the reference's order, finiteness checked once at the end; state leaves are hashed straight from the
//!   f32 values ([`state_leaf_hash`]).
//! * The loops are written so the compiler vectorizes them and are compiled for the baseline, AVX2 and
//!   AVX-512F, the widest chosen at run time ([`codec::Simd`]). The build keeps overflow checks on (the
//!   `testnet` profile), and a checked integer operation or a saturating float-to-integer conversion in a
//!   loop stops the vectorizer: hot loops use exact `wrapping_*` operations and bit-pattern arithmetic
//!   instead, each with the reason it is exact. Measurements: docs/performance.md.
//!
//! ## Terms
//! * *leaf*: `leaf_size` consecutive parameters (the last may be shorter) with their optimizer slots.

pub mod codec;
pub mod fused;
pub mod kernels;
pub mod lanes;
pub mod norm;
pub mod round;
pub mod scalars;

pub use codec::{quantize, quantize_into};
pub use fused::apply_in_place;
pub use kernels::ParallelKernels;
pub use round::{ParallelRound, ParallelStep, UpdatedStep};
pub use scalars::PreparedScalars;

use pogo_primitives::{
    hash::MERKLE_LEAF_KEY,
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
        if !all_finite(part) {
            check_finite(part)?;
        }
        hash_le_bytes(&mut hasher, part);
    }
    Ok(*hasher.finalize().as_bytes())
}

/// Whether every value is finite: one branch-free `&`-fold, on the widest SIMD path this CPU has
/// ([`codec::Simd`]; the build's baseline, SSE2, tests 4 values per instruction, AVX-512F 16).
pub fn all_finite(values: &[f32]) -> bool {
    finite_on(codec::Simd::best(), values)
}

codec::simd_dispatch! {
    /// [`all_finite`] on a chosen path.
    fn finite_on(values: &[f32]) -> bool = fold_finite
}

#[inline(always)]
fn fold_finite(values: &[f32]) -> bool {
    values.iter().fold(true, |ok, v| ok & v.is_finite())
}

/// [`all_finite`] on every core (a whole gradient: 10.9 M values in well under a millisecond).
pub fn all_finite_parallel(values: &[f32]) -> bool {
    values.par_chunks(1 << 16).all(all_finite)
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

/// The Merkle tree over `leaves`: the leaf hashes computed in SIMD lanes ([`lanes`]) on every core (with
/// prefetches past [`lanes::PREFETCH_ABOVE`] bytes), then the tree of [`tree_of_leaf_hashes`].
pub fn tree_of_leaves(leaves: &[Vec<u8>]) -> Result<MerkleTree, MerkleError> {
    // Written in place by index: a `flat_map` collect gathered per-task vectors and appended them.
    let mut hashes = vec![[0u8; 32]; leaves.len()];
    let prefetch = lanes::Prefetch::for_input_bytes(leaves.iter().map(Vec::len).fold(0usize, usize::saturating_add));
    // With prefetches each batch fetches the next one of its task: longer tasks, fewer batches without.
    let per_task = if prefetch == lanes::Prefetch::Ahead { 8 * LEAVES_PER_TASK } else { LEAVES_PER_TASK };
    hashes.par_chunks_mut(per_task).zip(leaves.par_chunks(per_task)).for_each(|(out, part)| {
        let messages: Vec<&[u8]> = part.iter().map(Vec::as_slice).collect();
        for (dst, hash) in out.iter_mut().zip(lanes::keyed_hashes_on(codec::Simd::best(), prefetch, &MERKLE_LEAF_KEY, &messages)) {
            *dst = hash;
        }
    });
    tree_of_leaf_hashes(hashes)
}

/// The Merkle tree over leaf hashes, `MerkleTree::from_leaf_hashes` with each level's nodes hashed in
/// SIMD lanes on every core ([`lanes::node_hashes`]).
pub fn tree_of_leaf_hashes(hashes: Vec<Hash>) -> Result<MerkleTree, MerkleError> {
    MerkleTree::from_leaf_hashes_with(hashes, lanes::node_hashes)
}

/// Leaves per rayon task in [`tree_of_leaves`]: whole 16-lane batches.
const LEAVES_PER_TASK: usize = 32;
