//! The tolerance rule: when a recomputed gradient agrees with a committed 4-bit gradient.
//!
//! Honest recomputations on other hardware or thread counts differ in the last bits (reduction order,
//! kernels). The rule absorbs exactly that and leaves the miner no free choice beyond it: every
//! committed value is judged on its own against the verifier's recomputation, with no budget of codes
//! that may be wrong.
//!
//! Inputs: the committed leaf (decoded blocks: scale `s_c`, codes `c`), the verifier's recomputed
//! values `v` of the same parameters, the verifier's block scales `s_r` (the codec's `max |v| / 7` over
//! the same block), and the **reference magnitude** `M`: the largest `|v|` over the verifier's whole
//! recomputed gradient of the step ([`reference_magnitude`]). All arithmetic is IEEE-754 binary64,
//! round to nearest, in the order written; f32 inputs convert exactly; `ppm(k, x)` is `(k · x) / 10⁶`
//! (for a valid `k ≤ 10⁶` and an f32 `x` the product is exact, so one rounding).
//!
//! * noise floor `F = ppm(noise_floor_ppm, M)`, in value units;
//! * **scale** of each block: `|s_c − s_r| ≤ ppm(max_scale_error_ppm, max(s_c, s_r)) + F / 7`;
//! * **codes**, when `s_c > 0`: with `p = v / s_c`, every value needs
//!   `|p − c| ≤ 0.5 + boundary_margin_ppm / 10⁶ + F / s_c`. A code may therefore differ from the
//!   verifier's own rounding of `p` only where `p` lies within the margin of the rounding boundary
//!   between the two codes; away from the boundary, and by two or more, it never may (while the floor
//!   term stays below half a step). When `s_c = 0` the codes are all 0 (canonical form) and only the
//!   scale check applies.
//!
//! A step passes iff no block of any compared leaf breaks either check. What the rule lets a miner
//! choose is bounded per value: `|c·s_c − v| ≤ (0.5 + margin)·s_c + F`, i.e. at most `margin·s_c + F`
//! beyond honest rounding, and every block's scale within the scale bound. `docs/protocol.md` §11 and
//! `docs/worker.md` ("Tolerance") give the measurements behind [`Tolerance::DEFAULT`].

use crate::quant::{block_scale, code_of, decode, QuantError};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Task parameters of the tolerance rule (module docs). Each is at most 10⁶ ([`Tolerance::is_valid`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub struct Tolerance {
    /// How close to a rounding boundary (in millionths of a code step) a value must lie for its code to
    /// differ by one from the verifier's rounding.
    pub boundary_margin_ppm: u32,
    /// Largest relative difference of a block's scales, in parts per million of the larger scale.
    pub max_scale_error_ppm: u32,
    /// Absolute noise floor, in parts per million of the step's reference magnitude `M`.
    pub noise_floor_ppm: u32,
}

impl Tolerance {
    /// Defaults: codes within 0.001 of a code step of a boundary, scales within 50 ppm, a floor of
    /// 20 ppm of the step's largest gradient value. Set from the worker's measurements (docs/worker.md,
    /// "Tolerance"): honest CPU recomputations on 1, 2 and 4 threads and with the batch split in two use
    /// at most a small fraction of every bound ([`Comparison::worst_bound_use`]); half batches, stale
    /// weights, bf16- and TF32-rounded weights, gradients rescaled by 10⁻⁴ and any code moved off its
    /// boundary break them.
    pub const DEFAULT: Tolerance =
        Tolerance { boundary_margin_ppm: 1_000, max_scale_error_ppm: 50, noise_floor_ppm: 20 };

    /// Whether every parameter is at most 10⁶ (one code step, 100%, the whole reference magnitude).
    pub fn is_valid(&self) -> bool {
        self.boundary_margin_ppm <= 1_000_000 &&
            self.max_scale_error_ppm <= 1_000_000 &&
            self.noise_floor_ppm <= 1_000_000
    }
}

/// `(k · x) / 10⁶` in binary64.
fn ppm(k: u32, x: f64) -> f64 {
    f64::from(k) * x / 1_000_000.0
}

/// Why a comparison could not be made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToleranceError {
    /// The committed leaf does not decode (the miner's fault): not canonical, or the wrong length.
    Committed(QuantError),
    /// A recomputed value is NaN or infinite (the verifier's): its index in the slice given.
    NonFiniteValue {
        /// Index of the first non-finite value.
        index: u64,
    },
    /// The reference magnitude is NaN or infinite.
    NonFiniteReference,
}

impl core::fmt::Display for ToleranceError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ToleranceError::Committed(e) => write!(f, "committed leaf: {e}"),
            ToleranceError::NonFiniteValue { index } => write!(f, "recomputed value {index} is NaN or infinite"),
            ToleranceError::NonFiniteReference => f.write_str("the reference magnitude is NaN or infinite"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ToleranceError {}

/// The first non-finite value of `values`, as an error.
fn all_finite(values: &[f32]) -> Result<(), ToleranceError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(ToleranceError::NonFiniteValue { index: u64::try_from(index).unwrap_or(u64::MAX) }),
        None => Ok(()),
    }
}

/// The reference magnitude `M` of a recomputed step gradient: the largest `|v|` (0 for an empty or
/// all-zero gradient). A non-finite value is [`ToleranceError::NonFiniteValue`] with its index.
pub fn reference_magnitude(step_gradient: &[f32]) -> Result<f32, ToleranceError> {
    all_finite(step_gradient)?;
    Ok(step_gradient.iter().fold(0.0f32, |m, v| m.max(v.abs())))
}

/// `used / bound` for diagnostics: 0 for nothing used, infinite for something under a zero bound.
fn share(used: f64, bound: f64) -> f64 {
    if used <= 0.0 {
        0.0
    } else if bound > 0.0 {
        used / bound
    } else {
        f64::INFINITY
    }
}

/// What the comparison of one or more leaves found.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Comparison {
    /// Values compared.
    pub codes: u64,
    /// Committed codes within the bound that differ from the codec's code of `v` under the committed
    /// scale (`quant`: `clamp(rne(v / s_c))` in f32): honest boundary flips. Diagnostic only.
    pub boundary_flips: u64,
    /// Values outside the code bound.
    pub bad_codes: u64,
    /// Blocks compared.
    pub blocks: u64,
    /// Blocks outside the scale bound.
    pub bad_scales: u64,
    /// Largest `|p − c| − 0.5` seen, at least 0, in code steps (how far past honest rounding a code sits).
    pub worst_code_excess: f64,
    /// Largest `|s_c − s_r| / max(s_c, s_r)` seen.
    pub worst_scale_error: f64,
    /// Largest share of its bound that any value's excess `|p − c| − 0.5` or any block's scale
    /// difference uses: 0 when everything is exact, 1 at a bound, above 1 for a failure (infinite for a
    /// difference under a zero bound). How close a recomputation came to being rejected.
    pub worst_bound_use: f64,
}

impl Comparison {
    /// Compares one committed gradient leaf (block size `block`) with the verifier's recomputed values
    /// of the same parameters, under reference magnitude `reference` ([`reference_magnitude`] of the
    /// whole step). A non-canonical committed leaf or a wrong length is an error (the miner's fault);
    /// a non-finite recomputed value or reference too (the verifier's).
    pub fn of_leaf(
        committed: &[u8],
        recomputed: &[f32],
        block: usize,
        reference: f32,
        tolerance: &Tolerance,
    ) -> Result<Self, ToleranceError> {
        if !reference.is_finite() {
            return Err(ToleranceError::NonFiniteReference);
        }
        all_finite(recomputed)?;
        let blocks = decode(committed, recomputed.len(), block).map_err(ToleranceError::Committed)?;
        let floor = ppm(tolerance.noise_floor_ppm, f64::from(reference.abs()));
        let margin = 0.5 + f64::from(tolerance.boundary_margin_ppm) / 1_000_000.0;
        let mut c = Comparison::default();
        for (b, values) in blocks.iter().zip(recomputed.chunks(block.max(1))) {
            c.blocks = c.blocks.saturating_add(1);
            let ours = block_scale(values);
            let (sc, sr) = (f64::from(b.scale), f64::from(ours));
            let larger = sc.max(sr);
            let scale_error = (sc - sr).abs();
            if larger > 0.0 {
                c.worst_scale_error = c.worst_scale_error.max(scale_error / larger);
            }
            let scale_bound = ppm(tolerance.max_scale_error_ppm, larger) + floor / 7.0;
            c.worst_bound_use = c.worst_bound_use.max(share(scale_error, scale_bound));
            if scale_error > scale_bound {
                c.bad_scales = c.bad_scales.saturating_add(1);
            }
            for (code, v) in b.codes.iter().zip(values) {
                c.codes = c.codes.saturating_add(1);
                if sc == 0.0 {
                    continue; // canonical: every code is 0; the scale check decides
                }
                let p = f64::from(*v) / sc;
                let distance = (p - f64::from(*code)).abs();
                let bound = margin + floor / sc;
                c.worst_code_excess = c.worst_code_excess.max(distance - 0.5);
                c.worst_bound_use = c.worst_bound_use.max(share(distance - 0.5, bound - 0.5));
                if distance > bound {
                    c.bad_codes = c.bad_codes.saturating_add(1);
                } else if *code != code_of(*v, b.scale) {
                    c.boundary_flips = c.boundary_flips.saturating_add(1);
                }
            }
        }
        Ok(c)
    }

    /// Adds another leaf's findings.
    pub fn merge(&mut self, other: &Comparison) {
        self.codes = self.codes.saturating_add(other.codes);
        self.boundary_flips = self.boundary_flips.saturating_add(other.boundary_flips);
        self.bad_codes = self.bad_codes.saturating_add(other.bad_codes);
        self.blocks = self.blocks.saturating_add(other.blocks);
        self.bad_scales = self.bad_scales.saturating_add(other.bad_scales);
        self.worst_code_excess = self.worst_code_excess.max(other.worst_code_excess);
        self.worst_scale_error = self.worst_scale_error.max(other.worst_scale_error);
        self.worst_bound_use = self.worst_bound_use.max(other.worst_bound_use);
    }

    /// Whether nothing broke the rule.
    pub fn passes(&self) -> bool {
        self.bad_codes == 0 && self.bad_scales == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::quantize;
    use alloc::vec::Vec;

    const T: Tolerance = Tolerance::DEFAULT;

    fn grad(n: usize, salt: u32) -> Vec<f32> {
        (0..n).map(|i| (((i as u32).wrapping_mul(2654435761) ^ salt) % 2001) as f32 / 1000.0 - 1.0).collect()
    }

    fn compare(committed: &[u8], v: &[f32]) -> Comparison {
        Comparison::of_leaf(committed, v, 64, reference_magnitude(v).unwrap(), &T).unwrap()
    }

    /// Re-encodes `g` with the code of element `i` replaced.
    fn with_code(g: &[f32], i: usize, code: i8) -> Vec<u8> {
        let mut bytes = quantize(g, 64).unwrap();
        let (blk, k) = (i / 64, i % 64);
        let at = blk * 36 + 4 + k / 2;
        let nib = (code as u8) & 0x0f;
        bytes[at] = if k % 2 == 0 { (bytes[at] & 0xf0) | nib } else { (bytes[at] & 0x0f) | (nib << 4) };
        bytes
    }

    fn code_of(g: &[f32], i: usize) -> i8 {
        let blk = &decode(&quantize(g, 64).unwrap(), g.len(), 64).unwrap()[i / 64];
        blk.codes[i % 64]
    }

    #[test]
    fn identical_gradients_agree_exactly() {
        let g = grad(4096, 1);
        let c = compare(&quantize(&g, 64).unwrap(), &g);
        assert_eq!((c.codes, c.boundary_flips, c.bad_codes, c.blocks, c.bad_scales), (4096, 0, 0, 64, 0));
        assert!(c.passes() && c.worst_bound_use < 1e-3, "{c:?}");
    }

    #[test]
    fn last_bit_noise_passes() {
        let g = grad(4096, 1);
        let committed = quantize(&g, 64).unwrap();
        let noisy: Vec<f32> = g.iter().enumerate().map(|(i, v)| v * (1.0 + if i % 2 == 0 { 1e-6 } else { -1e-6 })).collect();
        assert!(compare(&committed, &noisy).passes());
    }

    #[test]
    fn a_code_moved_away_from_the_boundary_fails_and_one_at_the_boundary_passes() {
        let mut g = grad(256, 5);
        // element 3 sits exactly between codes 2 and 3 of its block (scale = 7/7 = 1 after setting a max)
        g[0] = 7.0;
        g[3] = 2.5;
        assert_eq!(code_of(&g, 3), 2); // ties to even
        let flipped = with_code(&g, 3, 3);
        let c = compare(&flipped, &g);
        assert!(c.passes(), "{c:?}");
        assert_eq!(c.boundary_flips, 1); // |2.5 - 3| = 0.5 exactly: the other side of the tie
        // just past the margin and the floor (0.001 + 20 ppm · 7 / 1 = 0.00114 code steps)
        g[3] = 2.5 - 0.0013;
        let c = compare(&with_code(&g, 3, 3), &g);
        assert_eq!((c.bad_codes, c.passes()), (1, false));
        assert!(c.worst_bound_use > 1.0, "{c:?}");
        // within the margin: 0.0009 past the boundary
        g[3] = 2.5 - 0.0009;
        let c = compare(&with_code(&g, 3, 3), &g);
        assert_eq!((c.bad_codes, c.boundary_flips, c.passes()), (0, 1, true));
        // one code off by two fails wherever it sits
        g[3] = 2.5;
        let c = compare(&with_code(&g, 3, 4), &g);
        assert_eq!((c.bad_codes, c.passes()), (1, false));
    }

    #[test]
    fn scales_are_judged_per_block_with_a_floor_for_near_zero_blocks() {
        let g = grad(4096, 1);
        let committed = quantize(&g, 64).unwrap();
        // a rescaled gradient keeps its codes but fails on scales
        for k in [1.5f32, 1.001, 1.0001] {
            let scaled: Vec<f32> = g.iter().map(|v| v * k).collect();
            let c = compare(&committed, &scaled);
            assert!(c.bad_scales > 0 && !c.passes(), "×{k}: {c:?}");
        }
        // one block rescaled by 0.01% is caught
        let mut one = g.clone();
        one[64..128].iter_mut().for_each(|v| *v *= 1.0001);
        assert_eq!(compare(&committed, &one).bad_scales, 1);
        // a near-zero block: values of 1e-9 against a reference of 1 vary freely within the floor
        let mut z = g.clone();
        z[128..192].iter_mut().enumerate().for_each(|(i, v)| *v = 1e-9 * (i as f32 - 32.0));
        let committed = quantize(&z, 64).unwrap();
        let mut noisy = z.clone();
        noisy[128..192].iter_mut().for_each(|v| *v = -*v * 1.5);
        let c = compare(&committed, &noisy);
        assert!(c.passes(), "{c:?}");
        // but not beyond it
        noisy[128..192].iter_mut().for_each(|v| *v *= 1e4);
        assert!(!compare(&committed, &noisy).passes());
    }

    #[test]
    fn a_different_gradient_fails() {
        let g = grad(4096, 1);
        let other: Vec<f32> = g.iter().rev().copied().collect();
        let c = compare(&quantize(&g, 64).unwrap(), &other);
        assert!(!c.passes() && c.bad_codes > 1000, "{c:?}");
    }

    #[test]
    fn merge_and_errors() {
        let g = grad(128, 3);
        let committed = quantize(&g, 64).unwrap();
        let mut total = Comparison::default();
        let one = compare(&committed, &g);
        total.merge(&one);
        total.merge(&one);
        assert_eq!((total.codes, total.blocks), (256, 4));
        assert_eq!(
            Comparison::of_leaf(&committed, &g[..100], 64, 1.0, &T),
            Err(ToleranceError::Committed(QuantError::WrongLength))
        );
        let mut bad = g.clone();
        bad[5] = f32::NAN;
        assert_eq!(Comparison::of_leaf(&committed, &bad, 64, 1.0, &T), Err(ToleranceError::NonFiniteValue { index: 5 }));
        assert_eq!(reference_magnitude(&bad), Err(ToleranceError::NonFiniteValue { index: 5 }));
        assert_eq!(Comparison::of_leaf(&committed, &g, 64, f32::INFINITY, &T), Err(ToleranceError::NonFiniteReference));
        assert!(T.is_valid() && !Tolerance { noise_floor_ppm: 1_000_001, ..T }.is_valid());
    }
}
