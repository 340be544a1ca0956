//! A model state (weights and optimizer slots) on disk, exactly: the concatenation of its state leaves
//! (`pogo_primitives::state::leaf_bytes`, little-endian f32) after a header, so the file's content is
//! what the state root commits. Loading checks the length, refuses non-finite values and returns the
//! root, which the caller compares with the one on chain.

use pogo_primitives::{
    spec::TrainingSpec,
    state::{leaf_bytes, state_tree, StateLeaf},
    Hash,
};
use std::path::Path;

const MAGIC: &[u8; 8] = b"POGOST01";

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
        let mut out = Vec::with_capacity(20 + self.weights.len() * 4 * (1 + slots.len()));
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&spec.param_count.to_le_bytes());
        out.extend_from_slice(&(slots.len() as u32).to_le_bytes());
        for index in 0..spec.leaf_count() {
            out.extend(leaf_bytes(spec, &self.weights, &slots, index).map_err(|reason| StateFileError::Leaf { index, reason })?);
        }
        Ok(out)
    }

    /// Parses a file's bytes for `spec`.
    pub fn from_bytes(spec: &TrainingSpec, bytes: &[u8]) -> Result<Self, StateFileError> {
        let slots = spec.rule.slots();
        let header = bytes.get(..20).ok_or(StateFileError::Mismatch("too short"))?;
        if &header[..8] != MAGIC {
            return Err(StateFileError::Mismatch("bad magic"));
        }
        if header[8..16] != spec.param_count.to_le_bytes() || header[16..20] != (slots as u32).to_le_bytes() {
            return Err(StateFileError::Mismatch("parameter or slot count"));
        }
        let p = usize::try_from(spec.param_count).map_err(|_| StateFileError::Mismatch("too large"))?;
        let mut weights = Vec::with_capacity(p);
        let mut slot_values = vec![Vec::with_capacity(p); slots];
        let mut rest = &bytes[20..];
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
