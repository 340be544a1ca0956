//! The per-step scalars of the update rules, prepared once per step as `update.rs` prepares them.

use pogo_primitives::{
    spec::{f, StepScalars, UpdateRule},
    update::UpdateError,
};

/// A step's scalars as the fused loops and the GPU kernels take them: the f32 values of the rule and the
/// step, and the constants update.rs (`1 − β1`, `1 − β2`, `decay = 1 − lr·wd`), computed here in f32
/// with the same operations. Refuses what `update::apply_step` refuses before touching a value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PreparedScalars {
    /// 0 = Sgd, 1 = Momentum, 2 = AdamW (pogo-cuda's kernel argument `rule`).
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

