//! The verifier's replay of a committed round (protocol section 11, step 3): what can be wrong with a
//! round's committed update chain, and the scalar conformance rule of section 7.
//!
//! The replay itself is [`crate::builder::RoundBuilder::replay_step`]: a builder started from the
//! round's base state applies the miner's committed records and gradient leaves one step at a time and
//! reports the first [`ReplayFault`]. Because it keeps the miner's records verbatim and its own
//! (replayed) checkpoints, [`crate::builder::RoundBuilder::fraud_proof`] then builds the fraud proof of
//! a [`ReplayFault::CheckpointMismatch`]: the caller replaces its end leaf with the one the miner
//! committed (section 14).

use crate::{
    spec::{f, reference_bias_corrections, within_tolerance, StepScalars, TrainingSpec, UpdateRule},
    update::gradient_scale,
};
use codec::{Decode, Encode};
use scale_info::TypeInfo;

/// The first inconsistency a replay finds. Each is `Negative(InconsistentUpdate)` (section 12); the
/// fraud-provable ones are named in [`ReplayFault::is_fraud_provable`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum ReplayFault {
    /// The gradient leaves given for `step` do not hash to its record's gradient root (the data
    /// source served other bytes than the miner committed; a verifying download never yields this).
    GradientRootMismatch {
        /// Step in the round.
        step: u32,
    },
    /// A committed gradient leaf is not a canonical 4-bit encoding.
    MalformedGradient {
        /// Step in the round.
        step: u32,
        /// Leaf index.
        leaf: u64,
    },
    /// The record's scalars do not conform to the task's schedule, clipping or bias corrections, or
    /// its checkpoint root is misplaced.
    WrongScalars {
        /// Step in the round.
        step: u32,
    },
    /// Applying the committed step leaves the finite range.
    NonFiniteUpdate {
        /// Step in the round.
        step: u32,
    },
    /// The replayed state after checkpoint step `step` (end of `segment`) differs from the committed
    /// checkpoint root (at the last step: the final root).
    CheckpointMismatch {
        /// Step in the round.
        step: u32,
        /// Its checkpoint segment.
        segment: u32,
    },
}

impl ReplayFault {
    /// The step at which the replay stopped.
    pub fn step(&self) -> u32 {
        match *self {
            ReplayFault::GradientRootMismatch { step } |
            ReplayFault::MalformedGradient { step, .. } |
            ReplayFault::WrongScalars { step } |
            ReplayFault::NonFiniteUpdate { step } |
            ReplayFault::CheckpointMismatch { step, .. } => step,
        }
    }

    /// Whether a fraud proof (section 14) can show it to the chain. Scalar conformance cannot be
    /// proven (section 18, item 7), and a gradient-root mismatch is a property of a download.
    pub fn is_fraud_provable(&self) -> bool {
        matches!(
            self,
            ReplayFault::MalformedGradient { .. } |
                ReplayFault::NonFiniteUpdate { .. } |
                ReplayFault::CheckpointMismatch { .. }
        )
    }
}

impl core::fmt::Display for ReplayFault {
    fn fmt(&self, fmt: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ReplayFault::GradientRootMismatch { step } =>
                write!(fmt, "step {step}: the gradient leaves do not hash to the committed gradient root"),
            ReplayFault::MalformedGradient { step, leaf } =>
                write!(fmt, "step {step}: gradient leaf {leaf} is not a canonical 4-bit encoding"),
            ReplayFault::WrongScalars { step } =>
                write!(fmt, "step {step}: the committed scalars do not conform to the task"),
            ReplayFault::NonFiniteUpdate { step } => write!(fmt, "step {step}: the update leaves the finite range"),
            ReplayFault::CheckpointMismatch { step, segment } => write!(
                fmt,
                "step {step} (end of segment {segment}): the replayed state root differs from the committed one"
            ),
        }
    }
}

/// Whether `scalars` conform to the task at global step `t` (1-based) for the whole dequantized
/// gradient `deq` of the step (section 7, "Per-step scalars"): the learning rate by
/// `LrSchedule::accepts`, the clipping factor bit for bit with `update::gradient_scale`, AdamW's bias
/// corrections within `SCALAR_TOLERANCE` of the f64 reference and every other rule's exactly 1.0.
pub fn scalars_conform(spec: &TrainingSpec, t: u64, scalars: &StepScalars, deq: &[f32]) -> bool {
    match gradient_scale(f(spec.max_grad_norm), spec.leaf_size, deq) {
        Some(g) if g.to_bits() == scalars.gradient_scale => {},
        _ => return false,
    }
    schedule_scalars_conform(spec, t, scalars)
}

/// The part of [`scalars_conform`] that needs no gradient: the learning rate by `LrSchedule::accepts`,
/// AdamW's bias corrections within `SCALAR_TOLERANCE` of the f64 reference and every other rule's exactly
/// 1.0 (a sampled-replay verifier checks it on every record, protocol section 11b).
pub fn schedule_scalars_conform(spec: &TrainingSpec, t: u64, scalars: &StepScalars) -> bool {
    if !spec.schedule.accepts(t, scalars.learning_rate) {
        return false;
    }
    match spec.rule {
        UpdateRule::AdamW { beta1, beta2, .. } => {
            let (a, b) = reference_bias_corrections(beta1, beta2, t);
            within_tolerance(f(scalars.bias_correction1), a) && within_tolerance(f(scalars.bias_correction2), b)
        },
        _ => scalars.bias_correction1 == 1.0f32.to_bits() && scalars.bias_correction2 == 1.0f32.to_bits(),
    }
}
