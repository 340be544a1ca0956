//! Ways to compute one step's gradient, honest and not, and how the protocol's tolerance rule judges
//! them (`pogo_primitives::tolerance`). The measurements behind the rule's defaults (`pogo-measure
//! tolerance`, docs/worker.md "Tolerance") and the worker's tests of every cheat use this one module.
//!
//! Every variant is judged the way a verifier judges a miner: the *committed* gradient is the variant's
//! (quantized with the protocol codec), the *recomputed* one is the verifier's honest gradient
//! (pinned settings, 2 threads, whole batch, current weights), compared leaf by leaf under the step's
//! reference magnitude.

use crate::{engine::Engine, model::Model, pin_torch_settings, EngineError};
use pogo_primitives::{
    quant::{decode, encode_block_into, quantize, QuantError},
    spec::TrainingSpec,
    tolerance::{reference_magnitude, Comparison, Tolerance, ToleranceError},
};

/// A way to compute the gradient of a step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Variant {
    /// Honest: the pinned settings with this many intra-op threads.
    Threads(usize),
    /// Honest: computed on the first CUDA device with the pinned settings (only where one exists).
    Cuda,
    /// Honest: the batch's two halves computed separately and combined as
    /// `(n₁·g₁ + n₂·g₂) / (n₁ + n₂)` in f32: the same mean gradient, another reduction order.
    SplitBatch,
    /// Cheat: the gradient of the first half of the batch only (half the compute).
    HalfBatch,
    /// Cheat: the gradient at the previous step's weights (skipping a forward/backward per step).
    StaleWeights,
    /// Cheat: weights rounded to bfloat16 (8 significant bits, round to nearest even) before the forward
    /// pass: the input rounding of a bf16 matmul, emulated on the CPU.
    Bf16Weights,
    /// Cheat: weights rounded to TF32 (11 significant bits) before the forward pass: the input rounding
    /// of a TF32 matmul, emulated on the CPU.
    Tf32Weights,
    /// Cheat: the honest gradient multiplied by this factor.
    Rescaled(f32),
}

impl Variant {
    /// The honest variants a verifier must accept.
    pub const HONEST: [Variant; 4] = [Variant::Threads(1), Variant::Threads(2), Variant::Threads(4), Variant::SplitBatch];
    /// The cheats it must reject.
    pub const CHEATS: [Variant; 6] = [
        Variant::HalfBatch,
        Variant::StaleWeights,
        Variant::Bf16Weights,
        Variant::Tf32Weights,
        Variant::Rescaled(1.001),
        Variant::Rescaled(0.9999),
    ];

    /// Whether a verifier must accept it.
    pub fn is_honest(&self) -> bool {
        matches!(self, Variant::Threads(_) | Variant::Cuda | Variant::SplitBatch)
    }

    /// A short label for tables.
    pub fn label(&self) -> String {
        match self {
            Variant::Threads(n) => format!("honest, {n} thread(s)"),
            Variant::Cuda => "honest, CUDA".into(),
            Variant::SplitBatch => "honest, batch in two halves".into(),
            Variant::HalfBatch => "cheat: half the batch".into(),
            Variant::StaleWeights => "cheat: previous step's weights".into(),
            Variant::Bf16Weights => "cheat: bf16-rounded weights".into(),
            Variant::Tf32Weights => "cheat: TF32-rounded weights".into(),
            Variant::Rescaled(k) => format!("cheat: gradient × {k}"),
        }
    }
}

/// Rounds `x` to `bits` significant bits (round to nearest, ties to even); finite inputs only.
pub fn round_significand(x: f32, bits: u32) -> f32 {
    let drop = 24u32.saturating_sub(bits);
    if drop == 0 || !x.is_finite() {
        return x;
    }
    let b = x.to_bits();
    let half = 1u32 << (drop - 1);
    let keep_odd = (b >> drop) & 1;
    let rounded = b.wrapping_add(half - 1 + keep_odd) & !((1u32 << drop) - 1);
    f32::from_bits(rounded)
}

/// The gradient of `variant` at `weights` (and `previous`, the weights one step earlier) over the
/// train records `indices`. Thread-count variants leave libtorch pinned to that count; every other
/// variant runs on 2 threads.
pub fn gradient<M: Model>(
    engine: &Engine<M>,
    variant: Variant,
    weights: &[f32],
    previous: &[f32],
    indices: &[u64],
) -> Result<Vec<f32>, EngineError> {
    pin_torch_settings(match variant {
        Variant::Threads(n) => n,
        _ => 2,
    });
    let rounded = |bits: u32| weights.iter().map(|w| round_significand(*w, bits)).collect::<Vec<f32>>();
    let (first, second) = indices.split_at(indices.len() / 2);
    Ok(match variant {
        Variant::Threads(_) => engine.gradient_at(weights, indices)?.values,
        Variant::Cuda => engine.gradient_on(tch::Device::Cuda(0), weights, indices)?.values,
        Variant::SplitBatch => {
            let (a, b) = (engine.gradient_at(weights, first)?.values, engine.gradient_at(weights, second)?.values);
            let (na, nb) = (first.len() as f32, second.len() as f32);
            a.iter().zip(&b).map(|(x, y)| (na * x + nb * y) / (na + nb)).collect()
        },
        Variant::HalfBatch => engine.gradient_at(weights, first)?.values,
        Variant::StaleWeights => engine.gradient_at(previous, indices)?.values,
        Variant::Bf16Weights => engine.gradient_at(&rounded(8), indices)?.values,
        Variant::Tf32Weights => engine.gradient_at(&rounded(11), indices)?.values,
        Variant::Rescaled(k) => engine.gradient_at(weights, indices)?.values.iter().map(|g| g * k).collect(),
    })
}

/// Judges a committed gradient (its 4-bit leaves, as a miner commits them) against the verifier's
/// recomputed fp32 gradient of the same step: leaf by leaf, merged, under the reference magnitude of
/// the whole recomputation.
pub fn judge_leaves(
    spec: &TrainingSpec,
    committed_leaves: &[Vec<u8>],
    recomputed: &[f32],
    tolerance: &Tolerance,
) -> Result<Comparison, ToleranceError> {
    let reference = reference_magnitude(recomputed)?;
    let block = spec.codec_block as usize;
    let mut total = Comparison::default();
    for (leaf, values) in committed_leaves.iter().zip(recomputed.chunks(spec.leaf_size as usize)) {
        total.merge(&Comparison::of_leaf(leaf, values, block, reference, tolerance)?);
    }
    Ok(total)
}

/// The 4-bit leaves a miner commits for gradient `g`.
pub fn commit(spec: &TrainingSpec, g: &[f32]) -> Result<Vec<Vec<u8>>, QuantError> {
    g.chunks(spec.leaf_size as usize).map(|leaf| quantize(leaf, spec.codec_block as usize)).collect()
}

/// [`judge_leaves`] of `committed` (quantized here; a gradient that cannot be quantized is the
/// committing side's [`ToleranceError::Committed`]) against `recomputed`.
pub fn judge(spec: &TrainingSpec, committed: &[f32], recomputed: &[f32], tolerance: &Tolerance) -> Result<Comparison, ToleranceError> {
    judge_leaves(spec, &commit(spec, committed).map_err(ToleranceError::Committed)?, recomputed, tolerance)
}

/// A poisoning attempt on honest leaves: moves by one the code of every value of `g` whose position
/// `p = v / scale` lies within `window` code steps of the rounding boundary toward which it moves
/// (`window = 0.5` moves every nonzero-remainder value: a free choice anywhere), at most `limit` codes.
/// Returns the altered leaves and how many codes moved.
pub fn poison(spec: &TrainingSpec, g: &[f32], window: f64, limit: usize) -> Result<(Vec<Vec<u8>>, usize), QuantError> {
    let block = spec.codec_block as usize;
    let mut moved = 0usize;
    let mut leaves = Vec::new();
    for leaf in g.chunks(spec.leaf_size as usize) {
        let blocks = decode(&quantize(leaf, block)?, leaf.len(), block)?;
        let mut bytes = Vec::new();
        for (b, values) in blocks.iter().zip(leaf.chunks(block)) {
            let mut codes = b.codes.clone();
            if b.scale > 0.0 {
                for (c, v) in codes.iter_mut().zip(values) {
                    let p = f64::from(*v) / f64::from(b.scale);
                    let toward = if p > f64::from(*c) { 1i8 } else { -1 };
                    let boundary = f64::from(*c) + 0.5 * f64::from(toward);
                    if moved < limit && (boundary - p).abs() <= window && (*c + toward).abs() <= 7 && p != f64::from(*c) {
                        *c += toward;
                        moved += 1;
                    }
                }
            }
            encode_block_into(b.scale, codes, &mut bytes);
        }
        leaves.push(bytes);
    }
    Ok((leaves, moved))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significands_round_to_nearest_even() {
        assert_eq!(round_significand(1.0 + f32::EPSILON, 8), 1.0);
        assert_eq!(round_significand(1.0 + 1.0 / 256.0, 8), 1.0); // tie, to even
        assert_eq!(round_significand(1.0 + 3.0 / 256.0, 8), 1.0 + 4.0 / 256.0); // tie, to even (up)
        assert_eq!(round_significand(-1.5, 8), -1.5);
        assert_eq!(round_significand(0.1, 24), 0.1);
        assert_eq!(round_significand(0.1, 11).to_bits() & 0x1fff, 0);
    }
}
