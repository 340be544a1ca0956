//! The bookkeeping contract both backends keep, and the CPU backend (the reference itself).

use crate::{CudaBookkeeper, CudaError};
use pogo_primitives::{
    quant::{self, QuantError},
    spec::{f, StepScalars, UpdateRule},
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
}

/// A step's scalars as the kernels take them: the f32 values of the rule and the step, and the constants
/// update.rs derives once per step (`1 − β1`, `1 − β2`, `decay = 1 − lr·wd`), computed here in f32 with
/// the same operations. Refuses what `update::apply_step` refuses before touching a value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PreparedScalars {
    /// 0 = Sgd, 1 = Momentum, 2 = AdamW (the kernel's `rule`).
    pub rule: u32,
    /// Optimizer slots per parameter.
    pub slots: usize,
    /// Gradient scale (clipping factor).
    pub gs: f32,
    /// Learning rate.
    pub lr: f32,
    /// Weight decay.
    pub wd: f32,
    /// Momentum `μ` (Momentum only, else 0).
    pub mu: f32,
    /// `β1`, `β2` (AdamW only, else 0).
    pub b1: f32,
    /// See `b1`.
    pub b2: f32,
    /// `1 − β1`, `1 − β2` in f32.
    pub omb1: f32,
    /// See `omb1`.
    pub omb2: f32,
    /// `ε`.
    pub eps: f32,
    /// `1 − lr·wd` in f32 (AdamW's decoupled decay).
    pub decay: f32,
    /// Bias corrections.
    pub bc1: f32,
    /// See `bc1`.
    pub bc2: f32,
}

impl PreparedScalars {
    /// Prepares `scalars` for `rule` (update.rs's checks: finite step scalars, bias corrections exactly 1.0
    /// for a rule without them).
    pub fn new(rule: &UpdateRule, scalars: &StepScalars) -> Result<Self, UpdateError> {
        let (lr, gs, bc1, bc2) = (
            f(scalars.learning_rate),
            f(scalars.gradient_scale),
            f(scalars.bias_correction1),
            f(scalars.bias_correction2),
        );
        if !(lr.is_finite() && gs.is_finite() && bc1.is_finite() && bc2.is_finite()) {
            return Err(UpdateError::BadScalars);
        }
        let one = 1.0f32.to_bits();
        let mut p = PreparedScalars {
            rule: 0,
            slots: rule.slots(),
            gs,
            lr,
            wd: 0.0,
            mu: 0.0,
            b1: 0.0,
            b2: 0.0,
            omb1: 0.0,
            omb2: 0.0,
            eps: 0.0,
            decay: 1.0,
            bc1,
            bc2,
        };
        match *rule {
            UpdateRule::Sgd { weight_decay } => p.wd = f(weight_decay),
            UpdateRule::Momentum { momentum, weight_decay } => {
                p.rule = 1;
                p.mu = f(momentum);
                p.wd = f(weight_decay);
            },
            UpdateRule::AdamW { beta1, beta2, epsilon, weight_decay } => {
                p.rule = 2;
                p.b1 = f(beta1);
                p.b2 = f(beta2);
                p.eps = f(epsilon);
                p.wd = f(weight_decay);
                p.omb1 = 1.0f32 - p.b1;
                p.omb2 = 1.0f32 - p.b2;
                p.decay = 1.0f32 - p.lr * p.wd;
            },
        }
        if p.rule != 2 && (scalars.bias_correction1 != one || scalars.bias_correction2 != one) {
            return Err(UpdateError::BadScalars);
        }
        Ok(p)
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
