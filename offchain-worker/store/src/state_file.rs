//! A model state (weights and optimizer slots) on disk, exactly: the concatenation of its state leaves
//! (`pogo_primitives::state::leaf_bytes`, little-endian f32) after a header, so the file's content is
//! what the state root commits. Loading checks the length, refuses non-finite values and returns the
//! root, which the caller compares with the one on chain.

use pogo_primitives::{
    merkle::MerkleTree,
    spec::TrainingSpec,
    state::{leaf_bytes, state_tree, StateLeaf},
    Hash,
};
use std::path::Path;

const MAGIC: &[u8; 8] = b"POGOST01";

/// Bytes of a state file's header: magic, parameter count (u64 LE), slot count (u32 LE).
pub const HEADER_LEN: usize = 20;

/// A whole state: weights and one vector per optimizer slot.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelState {
    /// Weights, layout order.
    pub weights: Vec<f32>,
    /// Optimizer slots (AdamW: m, v).
    pub slots: Vec<Vec<f32>>,
}

/// Why a state could not be saved or loaded.
#[derive(Debug, thiserror::Error)]
pub enum StateFileError {
    /// I/O.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Not a pogo state file, or one for another spec.
    #[error("not a state of this spec: {0}")]
    Mismatch(&'static str),
    /// A leaf is malformed (wrong size or non-finite values).
    #[error("leaf {index}: {reason:?}")]
    Leaf {
        /// Leaf index.
        index: u64,
        /// What is wrong.
        reason: pogo_primitives::state::StateError,
    },
}

impl ModelState {
    /// A fresh state: `weights` and zeroed slots for `spec`'s rule.
    pub fn fresh(spec: &TrainingSpec, weights: Vec<f32>) -> Self {
        let slots = vec![vec![0.0; weights.len()]; spec.rule.slots()];
        Self { weights, slots }
    }

    /// The state root under `spec`.
    pub fn root(&self, spec: &TrainingSpec) -> Result<Hash, StateFileError> {
        let slots: Vec<&[f32]> = self.slots.iter().map(Vec::as_slice).collect();
        state_tree(spec, &self.weights, &slots)
            .map(|t| t.root())
            .map_err(|reason| StateFileError::Leaf { index: 0, reason })
    }

    /// The file's bytes: magic, param count (u64 LE), slots (u32 LE), then every state leaf in order.
    pub fn to_bytes(&self, spec: &TrainingSpec) -> Result<Vec<u8>, StateFileError> {
        let slots: Vec<&[f32]> = self.slots.iter().map(Vec::as_slice).collect();
        if slots.len() != spec.rule.slots() {
            return Err(StateFileError::Mismatch("slot count"));
        }
        let mut out = Vec::with_capacity(HEADER_LEN + self.weights.len() * 4 * (1 + slots.len()));
        out.extend_from_slice(&header(spec));
        for index in 0..spec.leaf_count() {
            out.extend(leaf_bytes(spec, &self.weights, &slots, index).map_err(|reason| StateFileError::Leaf { index, reason })?);
        }
        Ok(out)
    }

    /// Parses a file's bytes for `spec`.
    pub fn from_bytes(spec: &TrainingSpec, bytes: &[u8]) -> Result<Self, StateFileError> {
        let slots = spec.rule.slots();
        let header = bytes.get(..HEADER_LEN).ok_or(StateFileError::Mismatch("too short"))?;
        check_header(spec, header)?;
        let p = usize::try_from(spec.param_count).map_err(|_| StateFileError::Mismatch("too large"))?;
        let mut weights = Vec::with_capacity(p);
        let mut slot_values = vec![Vec::with_capacity(p); slots];
        let mut rest = &bytes[HEADER_LEN..];
        for index in 0..spec.leaf_count() {
            let (_, n) = spec.leaf_range(index).ok_or(StateFileError::Mismatch("leaf range"))?;
            let len = n * 4 * (1 + slots);
            if rest.len() < len {
                return Err(StateFileError::Mismatch("truncated"));
            }
            let (leaf, tail) = rest.split_at(len);
            rest = tail;
            let leaf = StateLeaf::decode(leaf, n, slots).map_err(|reason| StateFileError::Leaf { index, reason })?;
            weights.extend_from_slice(&leaf.values[..n]);
            for (k, s) in slot_values.iter_mut().enumerate() {
                s.extend_from_slice(&leaf.values[n * (k + 1)..n * (k + 2)]);
            }
        }
        if !rest.is_empty() {
            return Err(StateFileError::Mismatch("trailing bytes"));
        }
        Ok(Self { weights, slots: slot_values })
    }

    /// Writes the state atomically (temporary file, then rename), so a crash leaves the old file whole.
    pub fn save(&self, spec: &TrainingSpec, path: &Path) -> Result<(), StateFileError> {
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, self.to_bytes(spec)?)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }

    /// Reads a state saved by [`ModelState::save`].
    pub fn load(spec: &TrainingSpec, path: &Path) -> Result<Self, StateFileError> {
        Self::from_bytes(spec, &std::fs::read(path)?)
    }
}

/// The header of a state file of `spec`: magic, parameter count (u64 LE), slot count (u32 LE).
pub fn header(spec: &TrainingSpec) -> [u8; HEADER_LEN] {
    let mut out = [0u8; HEADER_LEN];
    let slots = u32::try_from(spec.rule.slots()).unwrap_or(u32::MAX);
    for (dst, src) in out.iter_mut().zip(MAGIC.iter().chain(&spec.param_count.to_le_bytes()).chain(&slots.to_le_bytes())) {
        *dst = *src;
    }
    out
}

/// Checks that `bytes` is the header of a state file of `spec`.
pub fn check_header(spec: &TrainingSpec, bytes: &[u8]) -> Result<(), StateFileError> {
    let expected = header(spec);
    match bytes.get(..8) {
        Some(magic) if magic == MAGIC => {},
        Some(_) => return Err(StateFileError::Mismatch("bad magic")),
        None => return Err(StateFileError::Mismatch("too short")),
    }
    if bytes != expected.as_slice() {
        return Err(StateFileError::Mismatch("parameter or slot count"));
    }
    Ok(())
}

/// Bytes of a full state leaf of `spec` (every leaf but possibly the last).
fn full_state_leaf_len(spec: &TrainingSpec) -> Option<u64> {
    let slots = u64::try_from(spec.rule.slots()).ok()?;
    u64::from(spec.leaf_size).checked_mul(4)?.checked_mul(slots.checked_add(1)?)
}

/// Offset in a state file of `spec` of state leaf `index`, and its length; `None` past the last leaf.
pub fn state_leaf_span(spec: &TrainingSpec, index: u64) -> Option<(u64, usize)> {
    let len = spec.state_leaf_len(index)?;
    let offset = index.checked_mul(full_state_leaf_len(spec)?)?.checked_add(HEADER_LEN as u64)?;
    Some((offset, len))
}

/// Exact size in bytes of a state file of `spec`; `None` if it does not fit in a `u64`.
pub fn state_file_len(spec: &TrainingSpec) -> Option<u64> {
    let count = spec.leaf_count();
    let last = count.checked_sub(1)?;
    let (offset, len) = state_leaf_span(spec, last)?;
    offset.checked_add(u64::try_from(len).ok()?)
}

/// The state leaves of a whole state file of `spec`, in order, after checking its header and exact length.
/// The leaves are not decoded (see [`ModelState::from_bytes`] for that).
pub fn split_state_leaves<'a>(spec: &TrainingSpec, bytes: &'a [u8]) -> Result<Vec<&'a [u8]>, StateFileError> {
    check_header(spec, bytes.get(..HEADER_LEN).ok_or(StateFileError::Mismatch("too short"))?)?;
    let expected = state_file_len(spec).ok_or(StateFileError::Mismatch("too large"))?;
    if (bytes.len() as u64) < expected {
        return Err(StateFileError::Mismatch("truncated"));
    }
    if (bytes.len() as u64) > expected {
        return Err(StateFileError::Mismatch("trailing bytes"));
    }
    let mut rest = bytes.get(HEADER_LEN..).unwrap_or_default();
    let mut leaves = Vec::with_capacity(usize::try_from(spec.leaf_count()).unwrap_or(0));
    for index in 0..spec.leaf_count() {
        let len = spec.state_leaf_len(index).ok_or(StateFileError::Mismatch("leaf range"))?;
        if rest.len() < len {
            return Err(StateFileError::Mismatch("truncated"));
        }
        let (leaf, tail) = rest.split_at(len);
        leaves.push(leaf);
        rest = tail;
    }
    Ok(leaves)
}

/// The state root committed by a whole state file's bytes (header and length checked, values not decoded).
pub fn state_file_root(spec: &TrainingSpec, bytes: &[u8]) -> Result<Hash, StateFileError> {
    let leaves = split_state_leaves(spec, bytes)?;
    MerkleTree::from_leaves(leaves)
        .map(|t| t.root())
        .map_err(|e| StateFileError::Leaf { index: 0, reason: pogo_primitives::state::StateError::Merkle(e) })
}
