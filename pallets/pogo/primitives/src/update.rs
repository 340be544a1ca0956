//! The update rules as exact sequences of IEEE-754 binary32 operations (round to nearest even, no fused
//! multiply-add: Rust never contracts `a * b + c`, and wasm has no FMA instruction in its MVP set).
//!
//! Per step, with `g = dequantized gradient` and the step's committed [`StepScalars`]:
//!
//! ```text
//! every rule     g  = deq · gradient_scale
//! Sgd            g' = g + wd·w;                w' = w − lr·g'
//! Momentum       g' = g + wd·w; b' = μ·b + g'; w' = w − lr·b'
//! AdamW          decay = 1 − lr·wd  (once per step)
//!                w1 = w · decay
//!                m' = β1·m + (1 − β1)·g
//!                v' = β2·v + (1 − β2)·(g·g)
//!                w' = w1 − (lr · (m'·bc1)) / (sqrt(v'·bc2) + ε)
//! ```
//!
//! Every binary operation is rounded once, evaluated left to right as written; `sqrt` is IEEE's
//! correctly rounded square root (`libm::sqrtf`). `1 − β1`, `1 − β2` and `decay` are computed once per
//! step in f32. A non-finite result anywhere is [`UpdateError::NonFinite`]: it is never hashed.

use crate::{
    spec::{f, StepScalars, UpdateRule},
    state::StateLeaf,
};
use codec::{Decode, Encode};
use scale_info::TypeInfo;

/// Why a step could not be applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum UpdateError {
    /// The gradient has a different length from the leaf.
    WrongGradientLength,
    /// The leaf's value count does not fit the rule's slots.
    WrongLeafShape,
    /// A weight or optimizer value became NaN or infinite.
    NonFinite {
        /// Index of the parameter within the leaf.
        index: u32,
    },
    /// A per-step scalar is not finite, or a bias correction is not `1.0` for a rule without one.
    BadScalars,
}

/// The step's scalars as f32, with the per-step derived constants.
struct Prepared {
    lr: f32,
    gs: f32,
    bc1: f32,
    bc2: f32,
}

fn prepare(rule: &UpdateRule, s: &StepScalars) -> Result<Prepared, UpdateError> {
    let p = Prepared {
        lr: f(s.learning_rate),
        gs: f(s.gradient_scale),
        bc1: f(s.bias_correction1),
        bc2: f(s.bias_correction2),
    };
    if !(p.lr.is_finite() && p.gs.is_finite() && p.bc1.is_finite() && p.bc2.is_finite()) {
        return Err(UpdateError::BadScalars);
    }
    let one = 1.0f32.to_bits();
    if !matches!(rule, UpdateRule::AdamW { .. }) && (s.bias_correction1 != one || s.bias_correction2 != one) {
        return Err(UpdateError::BadScalars);
    }
    Ok(p)
}

fn finite(v: f32, i: usize) -> Result<f32, UpdateError> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(UpdateError::NonFinite { index: u32::try_from(i).unwrap_or(u32::MAX) })
    }
}

/// Applies one optimizer step with dequantized gradient `deq` to `leaf` in place. On error the leaf is
/// left unchanged.
pub fn apply_step(rule: &UpdateRule, scalars: &StepScalars, leaf: &mut StateLeaf, deq: &[f32]) -> Result<(), UpdateError> {
    let n = leaf.n;
    if deq.len() != n {
        return Err(UpdateError::WrongGradientLength);
    }
    if n.checked_mul(rule.slots().saturating_add(1)) != Some(leaf.values.len()) {
        return Err(UpdateError::WrongLeafShape);
    }
    let p = prepare(rule, scalars)?;
    let mut next = leaf.values.clone();
    let (w, slots) = next.split_at_mut(n);
    match *rule {
        UpdateRule::Sgd { weight_decay } => {
            let wd = f(weight_decay);
            for (i, (w, d)) in w.iter_mut().zip(deq).enumerate() {
                let g = *d * p.gs;
                let g2 = g + wd * *w;
                *w = finite(*w - p.lr * g2, i)?;
            }
        },
        UpdateRule::Momentum { momentum, weight_decay } => {
            let (mu, wd) = (f(momentum), f(weight_decay));
            for (i, ((w, b), d)) in w.iter_mut().zip(slots.iter_mut()).zip(deq).enumerate() {
                let g = *d * p.gs;
                let g2 = g + wd * *w;
                let b2 = finite(mu * *b + g2, i)?;
                *b = b2;
                *w = finite(*w - p.lr * b2, i)?;
            }
        },
        UpdateRule::AdamW { beta1, beta2, epsilon, weight_decay } => {
            let (b1, b2, eps, wd) = (f(beta1), f(beta2), f(epsilon), f(weight_decay));
            let omb1 = 1.0f32 - b1;
            let omb2 = 1.0f32 - b2;
            let decay = 1.0f32 - p.lr * wd;
            let (m, v) = slots.split_at_mut(n);
            for (i, (((w, m), v), d)) in w.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(deq).enumerate() {
                let g = *d * p.gs;
                let w1 = *w * decay;
                let m2 = finite(b1 * *m + omb1 * g, i)?;
                let v2 = finite(b2 * *v + omb2 * (g * g), i)?;
                let mhat = m2 * p.bc1;
                let vhat = v2 * p.bc2;
                let denom = libm::sqrtf(vhat) + eps;
                *m = m2;
                *v = v2;
                *w = finite(w1 - (p.lr * mhat) / denom, i)?;
            }
        },
    }
    leaf.values = next;
    Ok(())
}

/// Σ g² over one gradient leaf (protocol section 7, "Clipping"): each value widened to f64 and squared,
/// the squares added in order starting from `0.0`; every `*` and `+` is correctly rounded. Leaves are
/// independent of each other, so a step's leaves can be summed in parallel (or on a GPU).
pub fn leaf_square_sum(values: &[f32]) -> f64 {
    values.iter().fold(0.0f64, |acc, &g| acc + f64::from(g) * f64::from(g))
}

/// Σ g² of a whole gradient cut into leaves of `leaf_size` values in flattening order (the last leaf may
/// be shorter): the leaves' [`leaf_square_sum`]s added in leaf order starting from `0.0`. `None` when
/// `leaf_size` is 0.
pub fn gradient_square_sum(leaf_size: u32, gradient: &[f32]) -> Option<f64> {
    let size = usize::try_from(leaf_size).ok().filter(|&s| s > 0)?;
    Some(combine_leaf_sums(gradient.chunks(size).map(leaf_square_sum)))
}

/// The leaves' square sums added in the order given (leaf order), starting from `0.0`.
pub fn combine_leaf_sums<I: IntoIterator<Item = f64>>(leaf_sums: I) -> f64 {
    leaf_sums.into_iter().fold(0.0f64, |acc, s| acc + s)
}

/// The clipping factor for a gradient whose squares sum to `square_sum` ([`gradient_square_sum`]):
/// `1.0` when `max_norm == 0`; otherwise `denom = sqrt(square_sum) + 1e-6` in f64 (`None` if it is not
/// finite), and `1.0` when `max_norm / denom ≥ 1.0`, else `(max_norm / denom) as f32` (f64 division, then
/// rounded to f32).
pub fn clipping_factor(max_norm: f32, square_sum: f64) -> Option<f32> {
    if max_norm == 0.0 {
        return Some(1.0);
    }
    let denom = libm::sqrt(square_sum) + 1e-6;
    if !denom.is_finite() {
        return None;
    }
    let factor = f64::from(max_norm) / denom;
    if factor >= 1.0 {
        Some(1.0)
    } else {
        #[allow(clippy::cast_possible_truncation)] // the documented f64 -> f32 rounding
        Some(factor as f32)
    }
}

/// The global-norm clipping factor of a step's whole dequantized gradient, cut into leaves of
/// `leaf_size` (protocol version 3): `clipping_factor(max_norm, gradient_square_sum(leaf_size, gradient))`.
/// With `max_norm == 0` the factor is `1.0` and the gradient is not read; otherwise `None` when the norm
/// is not finite or `leaf_size` is 0.
pub fn gradient_scale(max_norm: f32, leaf_size: u32, gradient: &[f32]) -> Option<f32> {
    if max_norm == 0.0 {
        return Some(1.0);
    }
    clipping_factor(max_norm, gradient_square_sum(leaf_size, gradient)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::{vec, vec::Vec};

    fn scalars(lr: f32) -> StepScalars {
        StepScalars {
            learning_rate: lr.to_bits(),
            gradient_scale: 1.0f32.to_bits(),
            bias_correction1: 1.0f32.to_bits(),
            bias_correction2: 1.0f32.to_bits(),
        }
    }

    #[test]
    fn sgd_step_is_exact() {
        let rule = UpdateRule::Sgd { weight_decay: 0.5f32.to_bits() };
        let mut leaf = StateLeaf { n: 2, values: vec![1.0, -2.0] };
        apply_step(&rule, &scalars(0.25), &mut leaf, &[2.0, 4.0]).unwrap();
        // g' = 2 + 0.5 = 2.5 -> 1 - 0.625; g' = 4 - 1 = 3 -> -2 - 0.75
        assert_eq!(leaf.values, vec![0.375, -2.75]);
    }

    #[test]
    fn momentum_keeps_its_buffer() {
        let rule = UpdateRule::Momentum { momentum: 0.5f32.to_bits(), weight_decay: 0 };
        let mut leaf = StateLeaf { n: 1, values: vec![1.0, 2.0] };
        apply_step(&rule, &scalars(0.5), &mut leaf, &[1.0]).unwrap();
        // b' = 0.5·2 + 1 = 2; w' = 1 − 1 = 0
        assert_eq!(leaf.values, vec![0.0, 2.0]);
    }

    /// AdamW against an f64 evaluation of the same formula: the f32 sequence must be within a few ulps.
    #[test]
    fn adamw_matches_reference_closely_and_is_deterministic() {
        let rule = UpdateRule::AdamW {
            beta1: 0.9f32.to_bits(),
            beta2: 0.999f32.to_bits(),
            epsilon: 1e-8f32.to_bits(),
            weight_decay: 0.01f32.to_bits(),
        };
        let s = StepScalars {
            learning_rate: 1e-3f32.to_bits(),
            gradient_scale: 0.5f32.to_bits(),
            bias_correction1: 10.0f32.to_bits(),
            bias_correction2: 1000.0f32.to_bits(),
        };
        let n = 64;
        let w: Vec<f32> = (0..n).map(|i| (i as f32 - 32.0) / 16.0).collect();
        let m: Vec<f32> = (0..n).map(|i| (i as f32) * 1e-3).collect();
        let v: Vec<f32> = (0..n).map(|i| (i as f32) * 1e-5).collect();
        let g: Vec<f32> = (0..n).map(|i| ((i * 37 % 64) as f32 - 30.0) / 10.0).collect();
        let mut leaf = StateLeaf { n, values: [w.clone(), m.clone(), v.clone()].concat() };
        let mut again = leaf.clone();
        apply_step(&rule, &s, &mut leaf, &g).unwrap();
        apply_step(&rule, &s, &mut again, &g).unwrap();
        assert_eq!(leaf, again);
        for i in 0..n {
            let g = f64::from(g[i]) * 0.5;
            let m2 = 0.9 * f64::from(m[i]) + 0.1 * g;
            let v2 = 0.999 * f64::from(v[i]) + 0.001 * g * g;
            let w2 = f64::from(w[i]) * (1.0 - 1e-5) - 1e-3 * m2 * 10.0 / ((v2 * 1000.0).sqrt() + 1e-8);
            assert!((f64::from(leaf.values[i]) - w2).abs() <= 1e-6 * w2.abs().max(1e-3), "w[{i}]");
        }
    }

    #[test]
    fn non_finite_results_and_bad_input_leave_the_leaf_unchanged() {
        let rule = UpdateRule::Sgd { weight_decay: 0 };
        let mut leaf = StateLeaf { n: 2, values: vec![1.0, f32::MAX] };
        let before = leaf.clone();
        assert_eq!(
            apply_step(&rule, &scalars(1.0), &mut leaf, &[0.0, -f32::MAX]),
            Err(UpdateError::NonFinite { index: 1 })
        );
        assert_eq!(leaf, before);
        assert_eq!(apply_step(&rule, &scalars(1.0), &mut leaf, &[0.0]), Err(UpdateError::WrongGradientLength));
        assert_eq!(apply_step(&rule, &scalars(f32::NAN), &mut leaf, &[0.0, 0.0]), Err(UpdateError::BadScalars));
        let mut s = scalars(1.0);
        s.bias_correction1 = 2.0f32.to_bits();
        assert_eq!(apply_step(&rule, &s, &mut leaf, &[0.0, 0.0]), Err(UpdateError::BadScalars));
        let momentum = UpdateRule::Momentum { momentum: 0, weight_decay: 0 };
        assert_eq!(apply_step(&momentum, &scalars(1.0), &mut leaf, &[0.0, 0.0]), Err(UpdateError::WrongLeafShape));
        assert_eq!(leaf, before);
    }

    #[test]
    fn clipping_factor_of_a_gradient() {
        assert_eq!(gradient_scale(0.0, 0, &[100.0f32]), Some(1.0), "disabled: the gradient is not read");
        assert_eq!(gradient_scale(10.0, 4, &[3.0f32, 4.0]), Some(1.0));
        let f = gradient_scale(1.0, 4, &[3.0f32, 4.0]).unwrap();
        assert_eq!(f, (1.0f64 / (5.0 + 1e-6)) as f32);
        assert_eq!(gradient_scale(1.0, 1, &[3.0f32, 4.0]), Some(f), "exact sums: any leaf size");
        let big = gradient_scale(1.0, 4, &[1e30f32; 4]).unwrap();
        assert!(big > 0.0 && big < 1e-29);
        assert_eq!(gradient_scale(1.0, 0, &[1.0]), None, "no leaves of size 0");
        assert_eq!(gradient_scale(1.0, 4, &[1.0, f32::INFINITY]), None);
    }

    #[test]
    fn squares_are_summed_per_leaf_then_in_leaf_order() {
        // 2^60 absorbs each single 1.0 (its f64 ulp is 256) but not a leaf's 256 of them summed first.
        let mut g = vec![1.0f32; 257];
        g[0] = (1u64 << 30) as f32;
        let one_leaf = gradient_square_sum(257, &g).unwrap();
        let leaves = gradient_square_sum(1, &g[..1]).unwrap() + gradient_square_sum(256, &g[1..]).unwrap();
        assert_eq!(one_leaf, (1u64 << 60) as f64);
        assert_eq!(gradient_square_sum(1, &g), Some(one_leaf), "leaves of one value: the sequential sum");
        let mut split = g.clone();
        split.rotate_left(1); // the 256 ones first, in one leaf of 256, then 2^30 alone
        assert_eq!(gradient_square_sum(256, &split), Some(leaves));
        assert_eq!(leaves, (1u64 << 60) as f64 + 256.0);
        assert_eq!(combine_leaf_sums([leaf_square_sum(&split[..256]), leaf_square_sum(&split[256..])]), leaves);
    }
}
