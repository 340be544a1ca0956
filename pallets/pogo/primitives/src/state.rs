//! State leaves: a leaf of `n` parameters is `n` weights followed by each optimizer slot's `n` values
//! (momentum buffer; AdamW `m` then `v`), all little-endian IEEE-754 binary32. Every value of a committed
//! leaf is finite: non-finite values are refused before hashing ([`StateError::NonFinite`]).

use crate::{
    merkle::{leaf_hash, MerkleError, MerkleTree},
    hash::Hash,
    spec::TrainingSpec,
};
use alloc::vec::Vec;
use codec::{Decode, Encode};
use scale_info::TypeInfo;

/// Why a state leaf or state was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum StateError {
    /// The byte length is not `4 · n · (1 + slots)`.
    WrongLength,
    /// A value is NaN or infinite.
    NonFinite {
        /// Index of the first non-finite value within the leaf's values.
        index: u32,
    },
    /// The flat state does not have `param_count · (1 + slots)` values.
    WrongStateSize,
    /// Building the tree failed.
    Merkle(MerkleError),
}

/// One state leaf, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct StateLeaf {
    /// Parameters in this leaf.
    pub n: usize,
    /// `n · (1 + slots)` values: weights, then slot 1, then slot 2.
    pub values: Vec<f32>,
}

impl StateLeaf {
    /// Decodes `bytes` holding `n` parameters with `slots` optimizer slots.
    pub fn decode(bytes: &[u8], n: usize, slots: usize) -> Result<Self, StateError> {
        let count = n.checked_mul(slots.checked_add(1).ok_or(StateError::WrongLength)?).ok_or(StateError::WrongLength)?;
        if count.checked_mul(4) != Some(bytes.len()) {
            return Err(StateError::WrongLength);
        }
        let values: Vec<f32> =
            bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap_or([0; 4]))).collect();
        check_finite(&values)?;
        Ok(Self { n, values })
    }

    /// The leaf's bytes.
    pub fn encode_bytes(&self) -> Vec<u8> {
        encode_values(&self.values)
    }

    /// `H_leaf(bytes)`.
    pub fn hash(&self) -> Hash {
        leaf_hash(&self.encode_bytes())
    }
}

/// Little-endian bytes of `values`.
pub fn encode_values(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len().saturating_mul(4));
    for v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Refuses NaN and infinities.
pub fn check_finite(values: &[f32]) -> Result<(), StateError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(StateError::NonFinite { index: u32::try_from(i).unwrap_or(u32::MAX) }),
        None => Ok(()),
    }
}

/// The bytes of leaf `index` cut from a whole flat state: `weights` and one slice per optimizer slot,
/// each of `param_count` values.
pub fn leaf_bytes(spec: &TrainingSpec, weights: &[f32], slots: &[&[f32]], index: u64) -> Result<Vec<u8>, StateError> {
    let (start, n) = spec.leaf_range(index).ok_or(StateError::WrongStateSize)?;
    let start = usize::try_from(start).map_err(|_| StateError::WrongStateSize)?;
    let end = start.checked_add(n).ok_or(StateError::WrongStateSize)?;
    let mut out = Vec::with_capacity(n.saturating_mul(4).saturating_mul(slots.len().saturating_add(1)));
    for part in core::iter::once(weights).chain(slots.iter().copied()) {
        let values = part.get(start..end).ok_or(StateError::WrongStateSize)?;
        check_finite(values)?;
        for v in values {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    Ok(out)
}

/// The state tree of a whole model: weights plus optimizer slots, cut into leaves.
pub fn state_tree(spec: &TrainingSpec, weights: &[f32], slots: &[&[f32]]) -> Result<MerkleTree, StateError> {
    let p = usize::try_from(spec.param_count).map_err(|_| StateError::WrongStateSize)?;
    if weights.len() != p || slots.len() != spec.rule.slots() || slots.iter().any(|s| s.len() != p) {
        return Err(StateError::WrongStateSize);
    }
    let mut hashes = Vec::new();
    for i in 0..spec.leaf_count() {
        hashes.push(leaf_hash(&leaf_bytes(spec, weights, slots, i)?));
    }
    MerkleTree::from_leaf_hashes(hashes).map_err(StateError::Merkle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::tests::small_spec;
    use alloc::vec;

    #[test]
    fn leaf_layout_is_weights_then_slots() {
        let spec = small_spec();
        let w: Vec<f32> = (0..1000).map(|i| i as f32).collect();
        let m: Vec<f32> = (0..1000).map(|i| -(i as f32)).collect();
        let v: Vec<f32> = (0..1000).map(|i| i as f32 * 0.5).collect();
        let bytes = leaf_bytes(&spec, &w, &[&m, &v], 3).unwrap();
        let leaf = StateLeaf::decode(&bytes, 232, 2).unwrap();
        assert_eq!(leaf.values[0], 768.0);
        assert_eq!(leaf.values[232], -768.0);
        assert_eq!(leaf.values[464], 384.0);
        assert_eq!(leaf.encode_bytes(), bytes);
        let tree = state_tree(&spec, &w, &[&m, &v]).unwrap();
        assert_eq!(tree.leaf_count(), 4);
        assert_eq!(tree.leaf(3), Some(&leaf.hash()));
    }

    #[test]
    fn bad_states_are_refused() {
        let spec = small_spec();
        let w = vec![0.0f32; 1000];
        let z = vec![0.0f32; 1000];
        assert_eq!(state_tree(&spec, &w, &[&z]).map(|t| t.root()), Err(StateError::WrongStateSize));
        assert_eq!(state_tree(&spec, &w[..999], &[&z, &z]).map(|t| t.root()), Err(StateError::WrongStateSize));
        let mut bad = w.clone();
        bad[600] = f32::NAN;
        assert_eq!(state_tree(&spec, &bad, &[&z, &z]).map(|t| t.root()), Err(StateError::NonFinite { index: 88 }));
        assert_eq!(StateLeaf::decode(&[0; 12], 2, 0), Err(StateError::WrongLength));
        let inf = encode_values(&[1.0, f32::INFINITY]);
        assert_eq!(StateLeaf::decode(&inf, 2, 0), Err(StateError::NonFinite { index: 1 }));
    }
}
