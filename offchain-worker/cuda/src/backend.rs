//! The bookkeeping contract both backends keep, and the CPU backend (the reference itself).

use crate::{CudaBookkeeper, CudaError};
pub use pogo_bookkeeping::PreparedScalars;
use pogo_primitives::{
    quant::{self, QuantError},
    spec::{StepScalars, UpdateRule},
    state::StateLeaf,
    update::{self, UpdateError},
};

/// Why a bookkeeping call was refused. The CPU and GPU backends return the same value for the same input.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum BookkeepingError {
    /// The 4-bit codec refused the input (a non-finite gradient value, a non-canonical encoding, a wrong
    /// length, block size zero).
    #[error("codec: {0}")]
    Codec(QuantError),
    /// The update rule refused the step (non-finite result, wrong shapes, bad scalars).
    #[error("update: {0:?}")]
    Update(UpdateError),
    /// A leaf size of zero, or one that is not a multiple of the codec block (`TrainingSpec::validate`
    /// refuses both).
    #[error("leaf size {leaf_size} is not a non-zero multiple of the codec block {block}")]
    LeafSize {
        /// The leaf size asked for.
        leaf_size: usize,
        /// The codec block.
        block: usize,
    },
    /// The GPU failed (driver error); the CPU backend never returns this.
    #[error("{0}")]
    Device(String),
}

impl From<CudaError> for BookkeepingError {
    fn from(e: CudaError) -> Self {
        BookkeepingError::Device(e.to_string())
    }
}

/// What PoGO's bookkeeping does per leaf and step, on some hardware.
pub trait Bookkeeping: Send + Sync {
    /// Where it runs, for logs and measurements (`cpu`, or the GPU's name).
    fn name(&self) -> String;
    /// The 4-bit encoding of `values` in codec blocks of `block` (pogo-primitives' `quant::quantize`).
    fn quantize(&self, values: &[f32], block: usize) -> Result<Vec<u8>, BookkeepingError>;
    /// One optimizer step on `leaf` from its gradient's 4-bit encoding `codes` (pogo-primitives'
    /// `quant::dequantize` then `update::apply_step`). A refused step leaves `leaf` unchanged.
    fn apply_step(
        &self,
        rule: &UpdateRule,
        scalars: &StepScalars,
        leaf: &mut StateLeaf,
        codes: &[u8],
        block: usize,
    ) -> Result<(), BookkeepingError>;
    /// The clipping norm's square sums of a step's whole gradient, one per leaf of `leaf_size` values, from
    /// its 4-bit encoding `codes` of `n` values (pogo-primitives' `quant::dequantize` then
    /// `update::leaf_square_sum` per leaf). The caller adds them in leaf order (`update::combine_leaf_sums`).
    fn leaf_square_sums(&self, codes: &[u8], n: usize, block: usize, leaf_size: usize) -> Result<Vec<f64>, BookkeepingError>;
}

/// The checks both backends make before [`Bookkeeping::leaf_square_sums`] reads a byte.
pub(crate) fn check_square_sums(block: usize, leaf_size: usize) -> Result<(), BookkeepingError> {
    if block == 0 {
        return Err(BookkeepingError::Codec(QuantError::ZeroBlockSize));
    }
    if leaf_size == 0 || !leaf_size.is_multiple_of(block) {
        return Err(BookkeepingError::LeafSize { leaf_size, block });
    }
    Ok(())
}

/// The CPU backend: pogo-primitives, the reference every other backend must equal.
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuBookkeeper;

impl Bookkeeping for CpuBookkeeper {
    fn name(&self) -> String {
        "cpu".into()
    }

    fn quantize(&self, values: &[f32], block: usize) -> Result<Vec<u8>, BookkeepingError> {
        quant::quantize(values, block).map_err(BookkeepingError::Codec)
    }

    fn apply_step(
        &self,
        rule: &UpdateRule,
        scalars: &StepScalars,
        leaf: &mut StateLeaf,
        codes: &[u8],
        block: usize,
    ) -> Result<(), BookkeepingError> {
        let deq = quant::dequantize(codes, leaf.n, block).map_err(BookkeepingError::Codec)?;
        update::apply_step(rule, scalars, leaf, &deq).map_err(BookkeepingError::Update)
    }

    fn leaf_square_sums(&self, codes: &[u8], n: usize, block: usize, leaf_size: usize) -> Result<Vec<f64>, BookkeepingError> {
        check_square_sums(block, leaf_size)?;
        let deq = quant::dequantize(codes, n, block).map_err(BookkeepingError::Codec)?;
        Ok(deq.chunks(leaf_size).map(update::leaf_square_sum).collect())
    }
}

/// The GPU backend when a CUDA device is usable, else the CPU one; the reason the GPU is not used comes
/// back alongside (for a log line or `skipped: ...`).
pub fn best_available() -> (Box<dyn Bookkeeping>, Option<CudaError>) {
    match CudaBookkeeper::open(0) {
        Ok(gpu) => (Box::new(gpu), None),
        Err(e) => (Box::new(CpuBookkeeper), Some(e)),
    }
}
