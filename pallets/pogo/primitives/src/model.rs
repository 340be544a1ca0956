//! The model descriptor: what a task trains, committed on chain.
//!
//! A [`ModelDescriptor`] names the architecture (a UTF-8 string the worker parses, e.g.
//! `gpt-bytes {"vocab":256,"context":64,"width":128,"layers":2,"heads":4}`) and lists the model's
//! trainable tensors in the order that fixes the flat parameter vector: each tensor is a contiguous
//! row-major slice, in list order, so tensor `k` starts at the sum of the element counts of tensors
//! `0..k`. Its SCALE encoding, hashed under [`Domain::ModelDescriptor`], is the `model` field of the
//! task's [`crate::TrainingSpec`]; the chain stores the descriptor itself next to the task.
//!
//! Validity ([`ModelDescriptor::validate`]): the architecture is 1..=[`MAX_ARCHITECTURE_LEN`] bytes of
//! UTF-8; there are 1..=[`MAX_TENSORS`] tensors; every name is 1..=[`MAX_TENSOR_NAME_LEN`] bytes of UTF-8
//! and no two names are equal; every shape has 0..=[`MAX_TENSOR_RANK`] dimensions (rank 0 is a scalar
//! of one element), each at least 1; the element counts (products of the dimensions, checked u64
//! arithmetic) sum exactly to the spec's `param_count`. The checks run in this order and the first
//! failure is the error.

use crate::hash::{Domain, Hash};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use scale_info::TypeInfo;

/// Longest architecture string, in bytes.
pub const MAX_ARCHITECTURE_LEN: u32 = 1024;
/// Most tensors in a model.
pub const MAX_TENSORS: u32 = 1024;
/// Longest tensor name, in bytes.
pub const MAX_TENSOR_NAME_LEN: u32 = 128;
/// Most dimensions of one tensor.
pub const MAX_TENSOR_RANK: u32 = 8;

/// One trainable tensor: its name (`module.tensor`, as in a PyTorch `state_dict`) and shape.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct TensorDescriptor {
    /// UTF-8 name.
    pub name: Vec<u8>,
    /// Dimensions, row-major (outermost first).
    pub shape: Vec<u64>,
}

impl TensorDescriptor {
    /// Number of elements (product of the dimensions, 1 for a scalar), `None` on overflow.
    pub fn numel(&self) -> Option<u64> {
        self.shape.iter().try_fold(1u64, |acc, d| acc.checked_mul(*d))
    }
}

/// What a task trains: the architecture and its ordered tensors.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct ModelDescriptor {
    /// UTF-8 architecture string: a family name, a space, and its JSON configuration.
    pub architecture: Vec<u8>,
    /// The tensors in flattening order.
    pub tensors: Vec<TensorDescriptor>,
}

/// Why a model descriptor is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum ModelError {
    /// The architecture string is empty, too long or not UTF-8.
    BadArchitecture,
    /// No tensors, or more than [`MAX_TENSORS`].
    BadTensorCount,
    /// Tensor `index` has an empty, too long or non-UTF-8 name.
    BadTensorName {
        /// Position of the tensor.
        index: u32,
    },
    /// Two tensors have the same name (`index` is the later one in list order).
    DuplicateTensorName {
        /// Position of the second tensor with the name.
        index: u32,
    },
    /// Tensor `index` has more than [`MAX_TENSOR_RANK`] dimensions, or a zero dimension.
    BadTensorShape {
        /// Position of the tensor.
        index: u32,
    },
    /// The element counts overflow u64 or do not sum to the spec's parameter count.
    ParamCountMismatch,
}

impl core::fmt::Display for ModelError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ModelError::BadArchitecture => f.write_str("the architecture string is empty, too long or not UTF-8"),
            ModelError::BadTensorCount => f.write_str("no tensors, or more than MAX_TENSORS"),
            ModelError::BadTensorName { index } => write!(f, "tensor {index} has an empty, too long or non-UTF-8 name"),
            ModelError::DuplicateTensorName { index } => write!(f, "tensor {index} repeats an earlier name"),
            ModelError::BadTensorShape { index } =>
                write!(f, "tensor {index} has more than MAX_TENSOR_RANK dimensions or a zero dimension"),
            ModelError::ParamCountMismatch =>
                f.write_str("the tensors' element counts do not sum to the spec's parameter count"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ModelError {}

fn within(len: usize, max: u32) -> bool {
    u32::try_from(len).is_ok_and(|l| l >= 1 && l <= max)
}

impl ModelDescriptor {
    /// The descriptor's hash: `H_model(SCALE(descriptor))`; the `model` field of the task's spec.
    pub fn hash(&self) -> Hash {
        Domain::ModelDescriptor.hash(&self.encode())
    }

    /// Checks the descriptor against the spec's `param_count` (rules in the module docs).
    pub fn validate(&self, param_count: u64) -> Result<(), ModelError> {
        if !within(self.architecture.len(), MAX_ARCHITECTURE_LEN) || core::str::from_utf8(&self.architecture).is_err()
        {
            return Err(ModelError::BadArchitecture);
        }
        if !within(self.tensors.len(), MAX_TENSORS) {
            return Err(ModelError::BadTensorCount);
        }
        let mut total = 0u64;
        for (index, t) in (0u32..).zip(&self.tensors) {
            if !within(t.name.len(), MAX_TENSOR_NAME_LEN) || core::str::from_utf8(&t.name).is_err() {
                return Err(ModelError::BadTensorName { index });
            }
            if u32::try_from(t.shape.len()).map_or(true, |r| r > MAX_TENSOR_RANK) || t.shape.contains(&0) {
                return Err(ModelError::BadTensorShape { index });
            }
            total = t.numel().and_then(|n| total.checked_add(n)).ok_or(ModelError::ParamCountMismatch)?;
        }
        // Names are unique: sort positions by name, compare neighbours; report the later position.
        let mut order: Vec<u32> = (0u32..).take(self.tensors.len()).collect();
        let name = |i: &u32| self.tensors.get(*i as usize).map(|t| t.name.as_slice()).unwrap_or_default();
        order.sort_by(|a, b| name(a).cmp(name(b)).then(a.cmp(b)));
        let mut duplicate: Option<u32> = None;
        for pair in order.windows(2) {
            if let [a, b] = pair {
                if name(a) == name(b) {
                    duplicate = Some(duplicate.map_or(*b, |d| d.min(*b)));
                }
            }
        }
        if let Some(index) = duplicate {
            return Err(ModelError::DuplicateTensorName { index });
        }
        if total != param_count {
            return Err(ModelError::ParamCountMismatch);
        }
        Ok(())
    }

    /// `(name, first parameter, element count)` of every tensor in flattening order; `None` on overflow.
    pub fn offsets(&self) -> Option<Vec<(&[u8], u64, u64)>> {
        let mut at = 0u64;
        let mut out = Vec::with_capacity(self.tensors.len());
        for t in &self.tensors {
            let n = t.numel()?;
            out.push((t.name.as_slice(), at, n));
            at = at.checked_add(n)?;
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, shape: &[u64]) -> TensorDescriptor {
        TensorDescriptor { name: name.as_bytes().to_vec(), shape: shape.to_vec() }
    }

    fn mlp() -> ModelDescriptor {
        ModelDescriptor {
            architecture: br#"mlp {"inputs":64,"hidden":[32],"classes":10}"#.to_vec(),
            tensors: alloc::vec![t("fc0.w", &[32, 64]), t("fc0.b", &[32]), t("fc1.w", &[10, 32]), t("fc1.b", &[10])],
        }
    }

    #[test]
    fn a_valid_descriptor_and_its_offsets() {
        let m = mlp();
        assert_eq!(m.validate(2048 + 32 + 320 + 10), Ok(()));
        let o = m.offsets().unwrap();
        assert_eq!(o[2], (&b"fc1.w"[..], 2080, 320));
        assert_ne!(m.hash(), ModelDescriptor { architecture: b"mlp {}".to_vec(), ..m.clone() }.hash());
        // a scalar tensor (rank 0) has one element
        let mut s = mlp();
        s.tensors.push(t("temperature", &[]));
        assert_eq!(s.validate(2411), Ok(()));
    }

    #[test]
    fn the_example_of_the_protocol_text() {
        // docs/protocol.md section 4, "Model descriptor" (computed there from the text alone).
        let m = ModelDescriptor { architecture: b"x".to_vec(), tensors: alloc::vec![t("w", &[2, 3])] };
        let hex = |b: &[u8]| b.iter().map(|b| alloc::format!("{b:02x}")).collect::<alloc::string::String>();
        assert_eq!(hex(&m.encode()), "04780404770802000000000000000300000000000000");
        assert_eq!(hex(&m.hash()), "c0ae65cd1ea2a3ee932ea6c199cf2133579c5e1bd531d542a320fd525ee166a8");
        assert_eq!(m.validate(6), Ok(()));
    }

    #[test]
    fn every_rule_has_its_error() {
        let n = 2410;
        let bad = |f: fn(&mut ModelDescriptor), e: ModelError| {
            let mut m = mlp();
            f(&mut m);
            assert_eq!(m.validate(n), Err(e));
        };
        bad(|m| m.architecture.clear(), ModelError::BadArchitecture);
        bad(|m| m.architecture = alloc::vec![0xff], ModelError::BadArchitecture);
        bad(|m| m.architecture = alloc::vec![b'a'; 1025], ModelError::BadArchitecture);
        bad(|m| m.tensors.clear(), ModelError::BadTensorCount);
        bad(|m| m.tensors = alloc::vec![t("x", &[1]); 1025], ModelError::BadTensorCount);
        bad(|m| m.tensors[1].name.clear(), ModelError::BadTensorName { index: 1 });
        bad(|m| m.tensors[2].name = alloc::vec![b'n'; 129], ModelError::BadTensorName { index: 2 });
        bad(|m| m.tensors[3].name = "fc0.w".into(), ModelError::DuplicateTensorName { index: 3 });
        bad(|m| m.tensors[0].shape = alloc::vec![1; 9], ModelError::BadTensorShape { index: 0 });
        bad(|m| m.tensors[1].shape = alloc::vec![0], ModelError::BadTensorShape { index: 1 });
        bad(|m| m.tensors[1].shape = alloc::vec![33], ModelError::ParamCountMismatch);
        bad(|m| m.tensors[0].shape = alloc::vec![u64::MAX, 2], ModelError::ParamCountMismatch);
    }
}
