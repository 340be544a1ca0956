//! The tolerance rule: when a recomputed gradient "agrees" with a committed 4-bit gradient.
//!
//! Honest recomputations on different hardware differ in the last bits (reduction order, kernels), which
//! moves a block's maximum and flips codes that sit near a rounding boundary by one. The verifier
//! quantizes its own gradient with the same codec and compares block by block:
//!
//! * `off_by_one`: codes with `|a − b| = 1`; `off_by_more`: codes with `|a − b| ≥ 2`;
//! * `bad_scales`: blocks whose scales differ by more than `max_scale_error_ppm · 10⁻⁶ · max(sa, sb)`
//!   (f64 arithmetic; two zero scales agree).
//!
//! The step passes when `off_by_one · 10⁶ ≤ max_off_by_one_ppm · codes`, likewise for `off_by_more`
//! (integer arithmetic), and no block has a bad scale.

use crate::quant::{decode, quantize, QuantError};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Task parameters of the tolerance rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub struct Tolerance {
    /// Largest share of codes off by exactly one, in parts per million.
    pub max_off_by_one_ppm: u32,
    /// Largest share of codes off by two or more, in parts per million.
    pub max_off_by_more_ppm: u32,
    /// Largest relative difference of a block's scales, in parts per million.
    pub max_scale_error_ppm: u32,
}

impl Tolerance {
    /// Defaults: 1% of codes off by one, 0.1% off by more, scales within 0.1%. From the worker's
    /// measurements (docs/worker.md, "Tolerance"): honest CPU recomputations (repeats, 1 vs 2 threads,
    /// batches of 8–128, two models, fresh and trained states) flipped 0 of 7.0 M codes, with block scales
    /// within 3.6e-6 and values within 5.2e-7 of the block maximum; the defaults leave a margin of over
    /// 100× for recomputations on other hardware, which are not measured yet.
    pub const DEFAULT: Tolerance =
        Tolerance { max_off_by_one_ppm: 10_000, max_off_by_more_ppm: 1_000, max_scale_error_ppm: 1_000 };
}

/// Counts of disagreement between a committed and a recomputed gradient.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Comparison {
    /// Codes compared.
    pub codes: u64,
    /// Codes off by exactly one.
    pub off_by_one: u64,
    /// Codes off by two or more.
    pub off_by_more: u64,
    /// Blocks compared.
    pub blocks: u64,
    /// Blocks whose scales differ beyond the tolerance.
    pub bad_scales: u64,
}

impl Comparison {
    /// Compares one committed gradient leaf with the verifier's recomputed values for the same parameters.
    /// A non-canonical committed leaf is an error (the miner's fault); a non-finite recomputation too.
    pub fn of_leaf(
        committed: &[u8],
        recomputed: &[f32],
        block: usize,
        tolerance: &Tolerance,
    ) -> Result<Self, QuantError> {
        let ours = quantize(recomputed, block)?;
        let a = decode(committed, recomputed.len(), block)?;
        let b = decode(&ours, recomputed.len(), block)?;
        let mut c = Comparison::default();
        let limit = f64::from(tolerance.max_scale_error_ppm) * 1e-6;
        for (x, y) in a.iter().zip(&b) {
            c.blocks = c.blocks.saturating_add(1);
            let (sa, sb) = (f64::from(x.scale), f64::from(y.scale));
            if (sa - sb).abs() > limit * sa.max(sb) {
                c.bad_scales = c.bad_scales.saturating_add(1);
            }
            for (p, q) in x.codes.iter().zip(&y.codes) {
                c.codes = c.codes.saturating_add(1);
                match p.abs_diff(*q) {
                    0 => {},
                    1 => c.off_by_one = c.off_by_one.saturating_add(1),
                    _ => c.off_by_more = c.off_by_more.saturating_add(1),
                }
            }
        }
        Ok(c)
    }

    /// Adds another leaf's counts.
    pub fn merge(&mut self, other: &Comparison) {
        self.codes = self.codes.saturating_add(other.codes);
        self.off_by_one = self.off_by_one.saturating_add(other.off_by_one);
        self.off_by_more = self.off_by_more.saturating_add(other.off_by_more);
        self.blocks = self.blocks.saturating_add(other.blocks);
        self.bad_scales = self.bad_scales.saturating_add(other.bad_scales);
    }

    /// Whether the counts are within `tolerance` (integer arithmetic in u128).
    pub fn passes(&self, tolerance: &Tolerance) -> bool {
        let within = |count: u64, ppm: u32| {
            u128::from(count).saturating_mul(1_000_000) <= u128::from(ppm).saturating_mul(u128::from(self.codes))
        };
        within(self.off_by_one, tolerance.max_off_by_one_ppm)
            && within(self.off_by_more, tolerance.max_off_by_more_ppm)
            && self.bad_scales == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn grad(n: usize, salt: u32) -> Vec<f32> {
        (0..n).map(|i| (((i as u32).wrapping_mul(2654435761) ^ salt) % 2001) as f32 / 1000.0 - 1.0).collect()
    }

    #[test]
    fn identical_gradients_agree_exactly() {
        let g = grad(4096, 1);
        let committed = quantize(&g, 64).unwrap();
        let c = Comparison::of_leaf(&committed, &g, 64, &Tolerance::DEFAULT).unwrap();
        assert_eq!((c.codes, c.off_by_one, c.off_by_more, c.bad_scales), (4096, 0, 0, 0));
        assert!(c.passes(&Tolerance::DEFAULT));
    }

    #[test]
    fn last_bit_noise_passes_and_a_different_gradient_fails() {
        let g = grad(4096, 1);
        let committed = quantize(&g, 64).unwrap();
        // relative noise of 1e-6, as from another reduction order
        let noisy: Vec<f32> = g.iter().enumerate().map(|(i, v)| v * (1.0 + if i % 2 == 0 { 1e-6 } else { -1e-6 })).collect();
        let c = Comparison::of_leaf(&committed, &noisy, 64, &Tolerance::DEFAULT).unwrap();
        assert!(c.passes(&Tolerance::DEFAULT), "{c:?}");
        let other: Vec<f32> = g.iter().rev().copied().collect();
        let c = Comparison::of_leaf(&committed, &other, 64, &Tolerance::DEFAULT).unwrap();
        assert!(!c.passes(&Tolerance::DEFAULT), "{c:?}");
        assert!(c.off_by_more > 1000);
        // a scaled gradient keeps its codes but fails on scales
        let scaled: Vec<f32> = g.iter().map(|v| v * 1.5).collect();
        let c = Comparison::of_leaf(&committed, &scaled, 64, &Tolerance::DEFAULT).unwrap();
        assert_eq!(c.bad_scales, 64);
        assert!(!c.passes(&Tolerance::DEFAULT));
        // so does one rescaled by 0.2%, twice the default scale tolerance
        let nudged: Vec<f32> = g.iter().map(|v| v * 1.002).collect();
        let c = Comparison::of_leaf(&committed, &nudged, 64, &Tolerance::DEFAULT).unwrap();
        assert!(c.bad_scales > 0 && !c.passes(&Tolerance::DEFAULT), "{c:?}");
    }

    #[test]
    fn merge_and_errors() {
        let g = grad(128, 3);
        let committed = quantize(&g, 64).unwrap();
        let mut total = Comparison::default();
        let one = Comparison::of_leaf(&committed, &g, 64, &Tolerance::DEFAULT).unwrap();
        total.merge(&one);
        total.merge(&one);
        assert_eq!(total.codes, 256);
        assert_eq!(
            Comparison::of_leaf(&committed, &g[..100], 64, &Tolerance::DEFAULT),
            Err(QuantError::WrongLength)
        );
        let mut bad = g.clone();
        bad[5] = f32::NAN;
        assert_eq!(
            Comparison::of_leaf(&committed, &bad, 64, &Tolerance::DEFAULT),
            Err(QuantError::NonFinite { index: 5 })
        );
    }
}
