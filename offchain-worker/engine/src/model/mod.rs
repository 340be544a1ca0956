//! Models as pure functions of the flat parameter vector: `loss(θ, batch)`. Each model declares its
//! [`Layout`] (the protocol's parameter order) and how records of its data set become a batch.

pub mod descriptor;
mod gpt;
mod layout;
mod mlp;

pub use gpt::{Gpt, GptConfig};
pub use layout::{Init, Layout, ParamSpec};
pub use mlp::{accuracy, Mlp, MlpConfig};

use tch::{Device, Tensor};

/// A batch on a device: inputs and integer targets.
pub struct Batch {
    /// Model inputs (`[B, features]` f32 for the classifier, `[B, T]` int64 tokens for the LM).
    pub inputs: Tensor,
    /// Targets (`[B]` or `[B, T]`, int64).
    pub targets: Tensor,
}

/// Why records could not become a batch.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BatchError {
    /// A record has the wrong length for this model.
    #[error("record {index} has {len} bytes, the model needs {expected}")]
    RecordLength {
        /// Position in the batch.
        index: usize,
        /// Its length.
        len: usize,
        /// The model's record length.
        expected: usize,
    },
    /// A record holds a value out of range (a label past the class count, a pixel above 16).
    #[error("record {index} holds an out-of-range value")]
    Value {
        /// Position in the batch.
        index: usize,
    },
    /// No records.
    #[error("empty batch")]
    Empty,
}

/// A model trained by PoGO.
pub trait Model: Send + Sync {
    /// Short name (`mlp-digits`, `gpt-bytes`).
    fn name(&self) -> &str;
    /// The parameter layout.
    fn layout(&self) -> &Layout;
    /// Bytes per data record.
    fn record_len(&self) -> usize;
    /// Records → batch on `device`.
    fn batch(&self, records: &[&[u8]], device: Device) -> Result<Batch, BatchError>;
    /// Mean loss of `batch` under the flat parameters `theta` (1-D, `layout().len()` values).
    fn loss(&self, theta: &Tensor, batch: &Batch) -> Tensor;
    /// Each record's loss (1-D, one value per record of `batch`) from one forward pass: the verifier's
    /// evaluation sample (protocol section 11, step 5).
    fn record_losses(&self, theta: &Tensor, batch: &Batch) -> Tensor;
}

/// Checks that every record has `expected` bytes.
pub(crate) fn check_lengths(records: &[&[u8]], expected: usize) -> Result<(), BatchError> {
    if records.is_empty() {
        return Err(BatchError::Empty);
    }
    for (index, r) in records.iter().enumerate() {
        if r.len() != expected {
            return Err(BatchError::RecordLength { index, len: r.len(), expected });
        }
    }
    Ok(())
}
