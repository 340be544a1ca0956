//! The measurements behind `docs/worker.md`: how honest and cheating recomputations of a gradient fare
//! under the tolerance rule (tolerance), what the 4-bit codec costs in gradient fidelity and in training loss
//! (quality), and the plain fp32 baseline those are compared with.

use crate::{engine::Engine, model::Model, variants::judge, EngineError};
use pogo_primitives::{
    builder::RoundBuilder,
    quant::{dequantize, quantize},
    spec::TrainingSpec,
    tolerance::{Comparison, Tolerance, ToleranceError},
    Hash,
};
use serde::Serialize;
use tch::{nn, nn::OptimizerConfig, Device, Kind, Tensor};

/// What the tolerance rule finds when gradient `committed` (quantized, as a miner commits it) is judged
/// against `recomputed` (the verifier's), plus the raw fp32 differences behind it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Disagreement {
    /// Values compared.
    pub codes: u64,
    /// Codes that differ from the verifier's rounding but lie within the boundary margin.
    pub boundary_flips: u64,
    /// Values outside the code bound.
    pub bad_codes: u64,
    /// Blocks compared.
    pub blocks: u64,
    /// Blocks outside the scale bound.
    pub bad_scales: u64,
    /// Largest `|p − c| − 0.5` over the values, at least 0 (code steps past honest rounding).
    pub worst_code_excess: f64,
    /// Largest relative difference of two blocks' scales, `|s_c − s_r| / max(s_c, s_r)`.
    pub worst_scale_error: f64,
    /// Largest share of a bound used by any value or block (1 = at the bound; `Comparison`).
    pub worst_bound_use: f64,
    /// Whether the rule accepts every step.
    pub passes: bool,
    /// Whether the two fp32 gradients are bit-identical.
    pub bit_identical: bool,
    /// Largest `|a − b|` over the values, divided by the step's largest `|a|`.
    pub max_error_of_step_max: f64,
    /// Largest `|a − b|` in a block divided by that block's largest `|a|`, over the blocks.
    pub max_error_of_block_max: f64,
}

impl Disagreement {
    /// An empty record that [`Disagreement::merge`] accumulates into.
    pub fn empty() -> Self {
        Self { passes: true, bit_identical: true, ..Default::default() }
    }

    /// The rule's findings alone (no fp32 differences; `bit_identical` false).
    pub fn of(c: &Comparison) -> Self {
        Self {
            codes: c.codes,
            boundary_flips: c.boundary_flips,
            bad_codes: c.bad_codes,
            blocks: c.blocks,
            bad_scales: c.bad_scales,
            worst_code_excess: c.worst_code_excess,
            worst_scale_error: c.worst_scale_error,
            worst_bound_use: c.worst_bound_use,
            passes: c.passes(),
            ..Default::default()
        }
    }

    /// Adds another step's findings.
    pub fn merge(&mut self, o: &Disagreement) {
        self.codes += o.codes;
        self.boundary_flips += o.boundary_flips;
        self.bad_codes += o.bad_codes;
        self.blocks += o.blocks;
        self.bad_scales += o.bad_scales;
        self.worst_code_excess = self.worst_code_excess.max(o.worst_code_excess);
        self.worst_scale_error = self.worst_scale_error.max(o.worst_scale_error);
        self.worst_bound_use = self.worst_bound_use.max(o.worst_bound_use);
        self.passes &= o.passes;
        self.bit_identical &= o.bit_identical;
        self.max_error_of_step_max = self.max_error_of_step_max.max(o.max_error_of_step_max);
        self.max_error_of_block_max = self.max_error_of_block_max.max(o.max_error_of_block_max);
    }
}

/// Judges `committed` against `recomputed` with the protocol's rule (`spec`'s leaves and blocks) and
/// records the raw differences.
pub fn compare(spec: &TrainingSpec, committed: &[f32], recomputed: &[f32], tolerance: &Tolerance) -> Result<Disagreement, ToleranceError> {
    let c = judge(spec, committed, recomputed, tolerance)?;
    let block = spec.codec_block as usize;
    let peak = committed.iter().fold(0.0f32, |m, v| m.max(v.abs())) as f64;
    let err = |a: &[f32], b: &[f32]| a.iter().zip(b).fold(0.0f64, |m, (p, q)| m.max(f64::from((p - q).abs())));
    let mut per_block = 0.0f64;
    for (a, b) in committed.chunks(block).zip(recomputed.chunks(block)) {
        let m = a.iter().fold(0.0f32, |m, v| m.max(v.abs())) as f64;
        if m > 0.0 {
            per_block = per_block.max(err(a, b) / m);
        }
    }
    Ok(Disagreement {
        bit_identical: committed.iter().zip(recomputed).all(|(p, q)| p.to_bits() == q.to_bits()),
        max_error_of_step_max: err(committed, recomputed) / peak.max(f64::MIN_POSITIVE),
        max_error_of_block_max: per_block,
        ..Disagreement::of(&c)
    })
}

/// Fidelity of the 4-bit codec on one gradient.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct CodecError {
    /// ‖q − g‖ / ‖g‖.
    pub relative_l2: f64,
    /// cos(q, g).
    pub cosine: f64,
}

/// The codec's error on gradient `g` (`q` = dequantize(quantize(g))).
pub fn codec_error(g: &[f32], block: usize) -> Result<CodecError, pogo_primitives::quant::QuantError> {
    let q = dequantize(&quantize(g, block)?, g.len(), block)?;
    let (mut dd, mut gg, mut qq, mut gq) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    for (a, b) in g.iter().zip(&q) {
        let (a, b) = (f64::from(*a), f64::from(*b));
        dd += (b - a) * (b - a);
        gg += a * a;
        qq += b * b;
        gq += a * b;
    }
    Ok(CodecError {
        relative_l2: (dd / gg.max(f64::MIN_POSITIVE)).sqrt(),
        cosine: gq / (gg.sqrt() * qq.sqrt()).max(f64::MIN_POSITIVE),
    })
}

/// The measurements' stand-in for the next round's seed (on chain it depends on the new base root and
/// the miner; here both runs only need the same, fresh batches per round).
fn next_round_seed(seed: &Hash) -> Hash {
    blake3::hash(seed).into()
}

/// One point of a training curve.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct CurvePoint {
    /// Steps done.
    pub step: u32,
    /// Training loss of this step's batch.
    pub train_loss: f32,
    /// Loss on the whole eval split (only at evaluation points).
    pub eval_loss: Option<f64>,
}

/// A training run's curve, the codec's error on every gradient (PoGO only) and the final weights.
pub struct Run {
    /// Loss curve.
    pub curve: Vec<CurvePoint>,
    /// Codec error of every gradient (empty for the fp32 baseline).
    pub codec_errors: Vec<CodecError>,
    /// Weights after the last step.
    pub weights: Vec<f32>,
}

/// Trains `steps` PoGO steps from `weights` (4-bit gradients, the protocol's exact AdamW), rounds of
/// `spec.steps_per_round` chained as on chain; evaluates every `eval_every` steps.
pub fn pogo_curve<M: Model>(
    engine: &Engine<M>,
    weights: Vec<f32>,
    seed: &Hash,
    steps: u32,
    eval_every: u32,
) -> Result<Run, EngineError> {
    let spec: TrainingSpec = *engine.spec();
    let slots = vec![vec![0.0f32; weights.len()]; spec.rule.slots()];
    let mut builder = RoundBuilder::new(spec, weights, slots, 1).map_err(EngineError::Build)?;
    let mut curve = vec![CurvePoint { step: 0, train_loss: f32::NAN, eval_loss: Some(engine.eval_loss(builder.weights(), 256)?) }];
    let mut errors = Vec::new();
    let mut round_seed = *seed;
    for s in 0..steps {
        let in_round = s % spec.steps_per_round;
        if s > 0 && in_round == 0 {
            // A new round starts from the last one's state (its slots and global step carry over).
            let next = RoundBuilder::new(spec, builder.weights().to_vec(), builder.slots().to_vec(), u64::from(s) + 1)
                .map_err(EngineError::Build)?;
            builder = next;
            round_seed = next_round_seed(&round_seed);
        }
        let g = engine.step_gradient(builder.weights(), &round_seed, in_round)?;
        errors.push(codec_error(&g.values, spec.codec_block as usize).map_err(|e| EngineError::Spec(format!("{e:?}")))?);
        builder.step(&g.values, g.loss).map_err(EngineError::Build)?;
        let done = s + 1;
        let eval_loss = if done % eval_every == 0 || done == steps { Some(engine.eval_loss(builder.weights(), 256)?) } else { None };
        curve.push(CurvePoint { step: done, train_loss: g.loss, eval_loss });
    }
    Ok(Run { curve, codec_errors: errors, weights: builder.weights().to_vec() })
}

/// The fp32 baseline: the same model, batches and learning rate, trained by libtorch's own AdamW
/// (β = 0.9/0.999, ε = 1e-8, weight decay 0.01, gradient norm clipped at 1) on unquantized gradients.
/// This is also the "plain tch loop" of the overhead benchmark.
pub struct PlainTrainer<'a, M: Model> {
    engine: &'a Engine<M>,
    /// Owns `theta` for the optimizer.
    _vs: nn::VarStore,
    theta: Tensor,
    opt: nn::Optimizer,
}

impl<'a, M: Model> PlainTrainer<'a, M> {
    /// A trainer starting at `weights` with learning rate `lr`.
    pub fn new(engine: &'a Engine<M>, weights: &[f32], lr: f64) -> Result<Self, EngineError> {
        let vs = nn::VarStore::new(engine.device());
        let init = Tensor::from_slice(weights).to_device(engine.device());
        let theta = vs.root().var_copy("theta", &init);
        let opt = nn::AdamW { beta1: 0.9, beta2: 0.999, wd: 0.01, eps: 1e-8, amsgrad: false }.build(&vs, lr)?;
        Ok(Self { engine, _vs: vs, theta, opt })
    }

    /// One step on train records `indices`; returns the batch's loss.
    pub fn step(&mut self, indices: &[u64]) -> Result<f32, EngineError> {
        let records = self.engine.data().train.records(indices)?;
        let batch = self.engine.model().batch(&records, self.engine.device())?;
        let loss = self.engine.model().loss(&self.theta, &batch);
        self.opt.zero_grad();
        loss.backward();
        self.opt.clip_grad_norm(1.0);
        self.opt.step();
        Ok(f32::try_from(loss.detach().to_device(Device::Cpu))?)
    }

    /// The current weights.
    pub fn weights(&self) -> Result<Vec<f32>, EngineError> {
        Ok(Vec::<f32>::try_from(&self.theta.detach().to_device(Device::Cpu).to_kind(Kind::Float))?)
    }
}

/// The fp32 baseline curve over the same batches as [`pogo_curve`].
pub fn plain_curve<M: Model>(engine: &Engine<M>, weights: &[f32], seed: &Hash, steps: u32, eval_every: u32) -> Result<Run, EngineError> {
    let spec = *engine.spec();
    let lr = f64::from(f32::from_bits(match spec.schedule {
        pogo_primitives::spec::LrSchedule::Constant { lr } => lr,
        pogo_primitives::spec::LrSchedule::WarmupCosine { peak_lr, .. } => peak_lr,
    }));
    let mut t = PlainTrainer::new(engine, weights, lr)?;
    let mut curve = vec![CurvePoint { step: 0, train_loss: f32::NAN, eval_loss: Some(engine.eval_loss(weights, 256)?) }];
    let mut round_seed = *seed;
    for s in 0..steps {
        let in_round = s % spec.steps_per_round;
        if s > 0 && in_round == 0 {
            round_seed = next_round_seed(&round_seed);
        }
        let loss = t.step(&engine.batch_indices(&round_seed, in_round))?;
        let done = s + 1;
        let eval_loss = if done % eval_every == 0 || done == steps { Some(engine.eval_loss(&t.weights()?, 256)?) } else { None };
        curve.push(CurvePoint { step: done, train_loss: loss, eval_loss });
    }
    Ok(Run { curve, codec_errors: Vec::new(), weights: t.weights()? })
}

/// Classification accuracy of `weights` on the whole eval split of a digits engine.
pub fn eval_accuracy(engine: &Engine<crate::model::Mlp>, weights: &[f32]) -> Result<f64, EngineError> {
    let _no_grad = tch::no_grad_guard();
    let theta = Tensor::from_slice(weights).to_device(engine.device());
    let records: Vec<&[u8]> = engine.data().eval.iter().collect();
    let batch = engine.model().batch(&records, engine.device())?;
    Ok(crate::model::accuracy(engine.model(), &theta, &batch))
}
