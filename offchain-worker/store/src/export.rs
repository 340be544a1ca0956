//! Exports a model's weights as a safetensors file: one F32 (little-endian) tensor per entry of the
//! model descriptor, named and shaped as the descriptor says and cut from the flat weight vector at the
//! descriptor's offsets. The header's `__metadata__` carries `format: pt`, `pogo.architecture` (the
//! descriptor's architecture string) and `pogo.model_hash` (hex of the descriptor's hash, the `model`
//! field of the task's spec). Optimizer slots are never exported.

use pogo_primitives::model::{ModelDescriptor, ModelError};
use safetensors::tensor::{Dtype, SafeTensorError, TensorView};
use std::collections::HashMap;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The descriptor is invalid for this many weights.
    #[error("model descriptor: {0}")]
    Descriptor(ModelError),
    /// A dimension does not fit in `usize`.
    #[error("tensor {0} is too large for this platform")]
    TooLarge(String),
    /// The safetensors writer refused.
    #[error("safetensors: {0}")]
    Safetensors(#[from] SafeTensorError),
}

/// The safetensors file of `weights` (the flat weight vector of the model `descriptor` describes).
pub fn safetensors_bytes(descriptor: &ModelDescriptor, weights: &[f32]) -> Result<Vec<u8>, ExportError> {
    descriptor.validate(weights.len() as u64).map_err(ExportError::Descriptor)?;
    let offsets = descriptor.offsets().ok_or(ExportError::Descriptor(ModelError::ParamCountMismatch))?;
    let architecture =
        String::from_utf8(descriptor.architecture.clone()).map_err(|_| ExportError::Descriptor(ModelError::BadArchitecture))?;
    let mut bytes = Vec::with_capacity(weights.len().saturating_mul(4));
    for w in weights {
        bytes.extend_from_slice(&w.to_le_bytes());
    }
    let mut views = Vec::with_capacity(descriptor.tensors.len());
    for (index, (tensor, (name, start, count))) in (0u32..).zip(descriptor.tensors.iter().zip(offsets)) {
        let name = std::str::from_utf8(name).map_err(|_| ExportError::Descriptor(ModelError::BadTensorName { index }))?;
        let too_large = || ExportError::TooLarge(name.to_string());
        let shape = tensor.shape.iter().map(|d| usize::try_from(*d).map_err(|_| too_large())).collect::<Result<Vec<_>, _>>()?;
        let begin = usize::try_from(start).ok().and_then(|s| s.checked_mul(4)).ok_or_else(too_large)?;
        let end = usize::try_from(count).ok().and_then(|c| c.checked_mul(4)).and_then(|c| c.checked_add(begin)).ok_or_else(too_large)?;
        let data = bytes.get(begin..end).ok_or(ExportError::Descriptor(ModelError::ParamCountMismatch))?;
        views.push((name.to_string(), TensorView::new(Dtype::F32, shape, data)?));
    }
    let metadata = HashMap::from([
        ("format".to_string(), "pt".to_string()),
        ("pogo.architecture".to_string(), architecture),
        ("pogo.model_hash".to_string(), hex::encode(descriptor.hash())),
    ]);
    Ok(safetensors::tensor::serialize(views, Some(metadata))?)
}
