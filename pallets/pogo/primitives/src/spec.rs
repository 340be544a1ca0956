//! What a task fixes about training: the model's size and leaf layout, the codec, the update rule and its
//! hyper-parameters, the learning-rate schedule, the round shape. Floats travel as IEEE-754 binary32 bit
//! patterns (`u32`), so every party (and polkadot.js) sees the exact same values.

use crate::hash::Hash;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Default parameters per leaf: 4,096 f32 weights (16 KiB, plus optimizer state) give BLAKE3 enough
/// 1 KiB chunks to fill its SIMD lanes; see `docs/protocol.md` for the measurements.
pub const DEFAULT_LEAF_SIZE: u32 = 4096;
/// Default elements per 4-bit codec block (one f32 scale per 64 codes: 4.5 bits per element).
pub const DEFAULT_CODEC_BLOCK: u32 = 64;
/// Largest leaf size a task may choose (keeps one leaf, and so a fraud proof, small).
pub const MAX_LEAF_SIZE: u32 = 65_536;
/// Largest codec block.
pub const MAX_CODEC_BLOCK: u32 = 4096;
/// Most parameters a model may have: 2^40 (1.1 T; the paper's largest model, GPT-3, has 175 G).
pub const MAX_PARAM_COUNT: u64 = 1 << 40;
/// Most optimizer steps in one round.
pub const MAX_STEPS_PER_ROUND: u32 = 1 << 20;
/// Most examples in one step's batch.
pub const MAX_BATCH_SIZE: u32 = 1 << 20;
/// Most examples in a training or evaluation split.
pub const MAX_EXAMPLES: u64 = 1 << 40;

/// `f32` from its bit pattern.
pub fn f(bits: u32) -> f32 {
    f32::from_bits(bits)
}

/// The optimizer, with its hyper-parameters as f32 bit patterns. Per-step scalars (learning rate,
/// gradient scale, bias corrections) are in each step's [`StepScalars`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub enum UpdateRule {
    /// `g' = g + wd·w; w' = w − lr·g'`.
    Sgd {
        /// L2 weight decay `wd`.
        weight_decay: u32,
    },
    /// Heavy-ball momentum (no dampening, no Nesterov): `g' = g + wd·w; b' = μ·b + g'; w' = w − lr·b'`.
    Momentum {
        /// `μ`.
        momentum: u32,
        /// L2 weight decay `wd`.
        weight_decay: u32,
    },
    /// AdamW with decoupled weight decay.
    AdamW {
        /// `β1`.
        beta1: u32,
        /// `β2`.
        beta2: u32,
        /// `ε`.
        epsilon: u32,
        /// Decoupled weight decay `wd`.
        weight_decay: u32,
    },
}

impl UpdateRule {
    /// Optimizer state vectors per parameter kept in the state leaves (momentum: 1; AdamW: m and v).
    pub fn slots(&self) -> usize {
        match self {
            UpdateRule::Sgd { .. } => 0,
            UpdateRule::Momentum { .. } => 1,
            UpdateRule::AdamW { .. } => 2,
        }
    }

    /// Whether every hyper-parameter is finite and in its range.
    pub fn is_valid(&self) -> bool {
        let unit = |b: u32| (0.0..1.0).contains(&f(b));
        let non_neg = |b: u32| f(b).is_finite() && f(b) >= 0.0;
        match *self {
            UpdateRule::Sgd { weight_decay } => non_neg(weight_decay),
            UpdateRule::Momentum { momentum, weight_decay } => unit(momentum) && non_neg(weight_decay),
            UpdateRule::AdamW { beta1, beta2, epsilon, weight_decay } =>
                unit(beta1) && unit(beta2) && non_neg(epsilon) && f(epsilon) > 0.0 && non_neg(weight_decay),
        }
    }
}

/// The learning rate as a function of the task's global step `t` (1-based). Schedules that are not
/// exactly rounded are checked against a committed per-step value within [`SCALAR_TOLERANCE`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub enum LrSchedule {
    /// The same learning rate at every step (checked bit-for-bit).
    Constant {
        /// Learning rate.
        lr: u32,
    },
    /// Linear warm-up from 0 over `warmup_steps`, then cosine decay to `min_lr` at `total_steps`, then flat.
    WarmupCosine {
        /// Peak learning rate.
        peak_lr: u32,
        /// Final learning rate.
        min_lr: u32,
        /// Steps of linear warm-up.
        warmup_steps: u32,
        /// Step at which the decay reaches `min_lr`.
        total_steps: u32,
    },
}

/// Relative tolerance for committed scalars whose reference is not exactly rounded (cosine schedules,
/// AdamW bias corrections): `|committed − reference| ≤ 1e-6 · |reference|`, reference in f64.
pub const SCALAR_TOLERANCE: f64 = 1e-6;

impl LrSchedule {
    /// The reference learning rate at global step `t` (1-based), in f64.
    pub fn reference(&self, t: u64) -> f64 {
        match *self {
            LrSchedule::Constant { lr } => f64::from(f(lr)),
            LrSchedule::WarmupCosine { peak_lr, min_lr, warmup_steps, total_steps } => {
                let (peak, min) = (f64::from(f(peak_lr)), f64::from(f(min_lr)));
                let t = t as f64;
                let w = f64::from(warmup_steps);
                let total = f64::from(total_steps);
                if t <= w {
                    peak * t / w
                } else if t >= total {
                    min
                } else {
                    let progress = (t - w) / (total - w);
                    min + 0.5 * (peak - min) * (1.0 + libm::cos(core::f64::consts::PI * progress))
                }
            },
        }
    }

    /// Whether `committed` is an acceptable learning rate for global step `t`.
    pub fn accepts(&self, t: u64, committed: u32) -> bool {
        match *self {
            LrSchedule::Constant { lr } => committed == lr,
            LrSchedule::WarmupCosine { .. } => within_tolerance(f(committed), self.reference(t)),
        }
    }

    /// Whether the schedule's parameters are valid.
    pub fn is_valid(&self) -> bool {
        let pos = |b: u32| f(b).is_finite() && f(b) >= 0.0;
        match *self {
            LrSchedule::Constant { lr } => pos(lr),
            LrSchedule::WarmupCosine { peak_lr, min_lr, warmup_steps, total_steps } =>
                pos(peak_lr) && pos(min_lr) && f(min_lr) <= f(peak_lr) && warmup_steps < total_steps,
        }
    }
}

/// `|committed − reference| ≤ SCALAR_TOLERANCE · |reference|` with `committed` finite.
pub fn within_tolerance(committed: f32, reference: f64) -> bool {
    committed.is_finite() && (f64::from(committed) - reference).abs() <= SCALAR_TOLERANCE * reference.abs()
}

/// AdamW's bias corrections `(1 / (1 − β1^t), 1 / (1 − β2^t))` at global step `t`, reference in f64.
pub fn reference_bias_corrections(beta1: u32, beta2: u32, t: u64) -> (f64, f64) {
    let t = t as f64;
    let c = |b: u32| 1.0 / (1.0 - libm::pow(f64::from(f(b)), t));
    (c(beta1), c(beta2))
}

/// The per-step scalars committed in each step record (f32 bit patterns).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen,
)]
pub struct StepScalars {
    /// This step's learning rate (from the task's [`LrSchedule`]).
    pub learning_rate: u32,
    /// Multiplier applied to the dequantized gradient: global-norm clipping factor, `1.0` when the
    /// norm is within the task's limit (see [`crate::update::gradient_scale`]).
    pub gradient_scale: u32,
    /// AdamW `1 / (1 − β1^t)`; `1.0` for the other rules.
    pub bias_correction1: u32,
    /// AdamW `1 / (1 − β2^t)`; `1.0` for the other rules.
    pub bias_correction2: u32,
}

/// Everything about a task that decides bytes: model size and layout, codec, optimizer, round shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub struct TrainingSpec {
    /// Hash of the task's [`crate::model::ModelDescriptor`] (architecture and ordered tensors).
    pub model: Hash,
    /// Number of trainable f32 parameters, flattened in the order of the model descriptor's tensors,
    /// each tensor row-major.
    pub param_count: u64,
    /// Parameters per state leaf.
    pub leaf_size: u32,
    /// Elements per codec block; divides `leaf_size`.
    pub codec_block: u32,
    /// The optimizer.
    pub rule: UpdateRule,
    /// The learning-rate schedule.
    pub schedule: LrSchedule,
    /// Global gradient-norm clipping limit as f32 bits; `0.0` disables clipping.
    pub max_grad_norm: u32,
    /// Optimizer steps per round.
    pub steps_per_round: u32,
    /// A checkpoint state root is committed every this many steps (and after the last step).
    pub checkpoint_interval: u32,
    /// Examples per step.
    pub batch_size: u32,
    /// Examples in the training split.
    pub train_examples: u64,
    /// Examples in the evaluation split.
    pub eval_examples: u64,
}

/// Why a [`TrainingSpec`] is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum SpecError {
    /// No parameters.
    NoParameters,
    /// Leaf size zero or above [`MAX_LEAF_SIZE`].
    BadLeafSize,
    /// Codec block zero, odd, above [`MAX_CODEC_BLOCK`], or not dividing the leaf size.
    BadCodecBlock,
    /// An optimizer hyper-parameter is out of range or not finite.
    BadUpdateRule,
    /// The learning-rate schedule is invalid.
    BadSchedule,
    /// The clipping limit is negative or not finite.
    BadClipping,
    /// Zero steps, or a checkpoint interval of zero or above the steps per round.
    BadRoundShape,
    /// Batch size zero or above the training split or [`MAX_BATCH_SIZE`], an empty evaluation split,
    /// or a split above [`MAX_EXAMPLES`].
    BadData,
    /// More than [`MAX_PARAM_COUNT`] parameters.
    TooManyParameters,
}

impl core::fmt::Display for SpecError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            SpecError::NoParameters => "the model has no parameters",
            SpecError::BadLeafSize => "leaf size is zero or above MAX_LEAF_SIZE",
            SpecError::BadCodecBlock => "codec block is zero, odd, above MAX_CODEC_BLOCK or does not divide the leaf size",
            SpecError::BadUpdateRule => "an optimizer hyper-parameter is out of range or not finite",
            SpecError::BadSchedule => "the learning-rate schedule is invalid",
            SpecError::BadClipping => "the clipping limit is negative or not finite",
            SpecError::BadRoundShape => {
                "steps per round are zero or above MAX_STEPS_PER_ROUND, or the checkpoint interval is zero or above them"
            },
            SpecError::BadData => {
                "batch size is zero or above the training split or MAX_BATCH_SIZE, the evaluation split is empty, or a split is above MAX_EXAMPLES"
            },
            SpecError::TooManyParameters => "more parameters than MAX_PARAM_COUNT",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for SpecError {}

impl TrainingSpec {
    /// The scalars the protocol prescribes for global step `t` (1-based) with clipping factor
    /// `gradient_scale` (`update::gradient_scale` of the step's dequantized gradient): the schedule's f64
    /// reference learning rate rounded to f32, AdamW's f64 reference bias corrections rounded to f32 (1.0
    /// for the other rules). What an honest miner commits; [`crate::replay::scalars_conform`] judges it.
    #[allow(clippy::cast_possible_truncation)] // the documented f64 -> f32 rounding of reference scalars
    pub fn reference_scalars(&self, t: u64, gradient_scale: f32) -> StepScalars {
        let lr = self.schedule.reference(t) as f32;
        let (bc1, bc2) = match self.rule {
            UpdateRule::AdamW { beta1, beta2, .. } => {
                let (a, b) = reference_bias_corrections(beta1, beta2, t);
                (a as f32, b as f32)
            },
            _ => (1.0, 1.0),
        };
        StepScalars {
            learning_rate: lr.to_bits(),
            gradient_scale: gradient_scale.to_bits(),
            bias_correction1: bc1.to_bits(),
            bias_correction2: bc2.to_bits(),
        }
    }

    /// Checks every field.
    pub fn validate(&self) -> Result<(), SpecError> {
        if self.param_count == 0 {
            return Err(SpecError::NoParameters);
        }
        if self.param_count > MAX_PARAM_COUNT {
            return Err(SpecError::TooManyParameters);
        }
        if self.leaf_size == 0 || self.leaf_size > MAX_LEAF_SIZE {
            return Err(SpecError::BadLeafSize);
        }
        let b = self.codec_block;
        if b == 0 || !b.is_multiple_of(2) || b > MAX_CODEC_BLOCK || !self.leaf_size.is_multiple_of(b) {
            return Err(SpecError::BadCodecBlock);
        }
        if !self.rule.is_valid() {
            return Err(SpecError::BadUpdateRule);
        }
        if !self.schedule.is_valid() {
            return Err(SpecError::BadSchedule);
        }
        let clip = f(self.max_grad_norm);
        if !clip.is_finite() || clip < 0.0 {
            return Err(SpecError::BadClipping);
        }
        if self.steps_per_round == 0 ||
            self.steps_per_round > MAX_STEPS_PER_ROUND ||
            self.checkpoint_interval == 0 ||
            self.checkpoint_interval > self.steps_per_round
        {
            return Err(SpecError::BadRoundShape);
        }
        if self.batch_size == 0 ||
            self.batch_size > MAX_BATCH_SIZE ||
            u64::from(self.batch_size) > self.train_examples ||
            self.train_examples > MAX_EXAMPLES ||
            self.eval_examples == 0 ||
            self.eval_examples > MAX_EXAMPLES
        {
            return Err(SpecError::BadData);
        }
        Ok(())
    }

    /// Number of state (and gradient) leaves: `ceil(param_count / leaf_size)`.
    pub fn leaf_count(&self) -> u64 {
        self.param_count.div_ceil(u64::from(self.leaf_size.max(1)))
    }

    /// `(first parameter, parameter count)` of leaf `index`, or `None` past the end.
    pub fn leaf_range(&self, index: u64) -> Option<(u64, usize)> {
        let l = u64::from(self.leaf_size);
        let start = index.checked_mul(l)?;
        if start >= self.param_count {
            return None;
        }
        let len = self.param_count.saturating_sub(start).min(l);
        Some((start, usize::try_from(len).ok()?))
    }

    /// Bytes of state leaf `index`: `4 · n · (1 + slots)`.
    pub fn state_leaf_len(&self, index: u64) -> Option<usize> {
        let (_, n) = self.leaf_range(index)?;
        n.checked_mul(4)?.checked_mul(self.rule.slots().checked_add(1)?)
    }

    /// Bytes of gradient leaf `index`.
    pub fn gradient_leaf_len(&self, index: u64) -> Option<usize> {
        let (_, n) = self.leaf_range(index)?;
        crate::quant::encoded_len(n, usize::try_from(self.codec_block).ok()?)
    }

    /// Whether step `s` (0-based within the round) commits a state root: every `checkpoint_interval`
    /// steps and at the last step.
    pub fn is_checkpoint(&self, s: u32) -> bool {
        let next = s.saturating_add(1);
        next == self.steps_per_round || next.is_multiple_of(self.checkpoint_interval)
    }

    /// Number of checkpoint segments in a round.
    pub fn segment_count(&self) -> u32 {
        self.steps_per_round.div_ceil(self.checkpoint_interval.max(1))
    }

    /// Steps `[first, end)` of segment `j`.
    pub fn segment_steps(&self, j: u32) -> Option<(u32, u32)> {
        let first = j.checked_mul(self.checkpoint_interval)?;
        if first >= self.steps_per_round {
            return None;
        }
        Some((first, first.saturating_add(self.checkpoint_interval).min(self.steps_per_round)))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A small valid AdamW spec used across the crate's tests.
    pub fn small_spec() -> TrainingSpec {
        TrainingSpec {
            model: [7; 32],
            param_count: 1000,
            leaf_size: 256,
            codec_block: 64,
            rule: UpdateRule::AdamW {
                beta1: 0.9f32.to_bits(),
                beta2: 0.999f32.to_bits(),
                epsilon: 1e-8f32.to_bits(),
                weight_decay: 0.01f32.to_bits(),
            },
            schedule: LrSchedule::Constant { lr: 1e-3f32.to_bits() },
            max_grad_norm: 1.0f32.to_bits(),
            steps_per_round: 10,
            checkpoint_interval: 4,
            batch_size: 8,
            train_examples: 1000,
            eval_examples: 100,
        }
    }

    #[test]
    fn layout_and_segments() {
        let s = small_spec();
        s.validate().unwrap();
        assert_eq!(s.leaf_count(), 4);
        assert_eq!(s.leaf_range(3), Some((768, 232)));
        assert_eq!(s.leaf_range(4), None);
        assert_eq!(s.state_leaf_len(3), Some(232 * 4 * 3));
        assert_eq!(s.gradient_leaf_len(0), Some(4 * 36));
        let cps: alloc::vec::Vec<u32> = (0..10).filter(|i| s.is_checkpoint(*i)).collect();
        assert_eq!(cps, [3, 7, 9]);
        assert_eq!(s.segment_count(), 3);
        assert_eq!(s.segment_steps(2), Some((8, 10)));
        assert_eq!(s.segment_steps(3), None);
    }

    #[test]
    fn invalid_specs_are_refused() {
        let ok = small_spec();
        let bad = |m: fn(&mut TrainingSpec), e: SpecError| {
            let mut s = ok;
            m(&mut s);
            assert_eq!(s.validate(), Err(e));
        };
        bad(|s| s.param_count = 0, SpecError::NoParameters);
        bad(|s| s.leaf_size = 0, SpecError::BadLeafSize);
        bad(|s| s.codec_block = 48, SpecError::BadCodecBlock);
        bad(|s| s.codec_block = 63, SpecError::BadCodecBlock);
        bad(|s| s.rule = UpdateRule::Momentum { momentum: 1.0f32.to_bits(), weight_decay: 0 }, SpecError::BadUpdateRule);
        bad(|s| s.rule = UpdateRule::Sgd { weight_decay: f32::NAN.to_bits() }, SpecError::BadUpdateRule);
        bad(|s| s.schedule = LrSchedule::Constant { lr: f32::INFINITY.to_bits() }, SpecError::BadSchedule);
        bad(|s| s.max_grad_norm = (-1.0f32).to_bits(), SpecError::BadClipping);
        bad(|s| s.checkpoint_interval = 11, SpecError::BadRoundShape);
        bad(|s| s.batch_size = 0, SpecError::BadData);
    }

    #[test]
    fn schedules() {
        let c = LrSchedule::WarmupCosine {
            peak_lr: 1e-3f32.to_bits(),
            min_lr: 1e-5f32.to_bits(),
            warmup_steps: 10,
            total_steps: 110,
        };
        assert!((c.reference(5) - 5e-4).abs() < 1e-9);
        assert!((c.reference(60) - (1e-5 + 0.5 * (1e-3 - 1e-5))).abs() < 1e-9);
        assert_eq!(c.reference(500), f64::from(1e-5f32));
        assert!(c.accepts(60, ((1e-5 + 0.5 * (1e-3 - 1e-5)) as f32).to_bits()));
        assert!(!c.accepts(60, 1e-3f32.to_bits()));
        let k = LrSchedule::Constant { lr: 1e-3f32.to_bits() };
        assert!(k.accepts(7, 1e-3f32.to_bits()));
        assert!(!k.accepts(7, (1e-3f32 * 1.0000001).to_bits()));
        let (b1, b2) = reference_bias_corrections(0.9f32.to_bits(), 0.999f32.to_bits(), 1);
        assert!((b1 - 1.0 / (1.0 - f64::from(0.9f32))).abs() < 1e-9);
        assert!(b2 > 999.0);
    }
}
