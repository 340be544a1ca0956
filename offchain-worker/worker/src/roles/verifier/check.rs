//! The checks of protocol section 11 on a round whose data is at hand, with no chain and no network:
//! the full replay of the committed update chain (step 3), the recomputation of the sampled steps'
//! gradients from the *replayed* state under the tolerance rule (step 4), and the evaluation of the base
//! and final states on the verifier's eval sample (step 5). Fetching (steps 1, 2 and 6) is
//! [`super::fetch`]'s; the simulator and the watcher run this same code.
//!
//! Precedence of reasons when several apply: a replay fault (`InconsistentUpdate`, the only objective,
//! often fraud-provable one) before a failed recomputation (`BadGradient`, the first failing step)
//! before `NoProgress`.

use pogo_bookkeeping::ParallelKernels;
use pogo_engine::{model::descriptor::AnyModel, variants::judge_leaves, Engine, EngineError, ModelState};
use pogo_primitives::{
    builder::{BuildError, RoundBuilder},
    replay::ReplayFault,
    tolerance::{Comparison, Tolerance, ToleranceError},
    verdict::NegativeReason,
    Hash, RoundCommitment, StepRecord, TrainingSpec, Verdict,
};
use std::time::{Duration, Instant};

/// Everything a round's checks read, every byte already verified against the commitment.
pub struct RoundData {
    /// The task's spec.
    pub spec: TrainingSpec,
    /// The commitment on chain.
    pub commitment: RoundCommitment,
    /// Every step's record (they give `commitment.trace_root`).
    pub records: Vec<StepRecord>,
    /// The round seed (from the chain's task, round, base root and miner).
    pub round_seed: Hash,
    /// Global step number (1-based) of the round's first step: `round · T + 1`.
    pub first_global_step: u64,
    /// The base state (its root is `commitment.base_root`).
    pub base: ModelState,
    /// Every step's gradient leaves (each step's hash to its record's gradient root).
    pub gradients: Vec<Vec<Vec<u8>>>,
}

/// What to check beyond the replay.
#[derive(Clone, Debug)]
pub struct CheckPlan {
    /// Steps whose gradients are recomputed (sampled and disputed), ascending, no repeats.
    pub steps: Vec<u32>,
    /// Eval-split indices of the verifier's evaluation sample (empty: no evaluation).
    pub eval_examples: Vec<u64>,
    /// The task's tolerance.
    pub tolerance: Tolerance,
    /// The task's required improvement, in millionths of the loss before.
    pub min_improvement_ppm: u32,
}

/// The evaluation of a round on one eval sample (section 11, step 5).
#[derive(Clone, Debug, PartialEq)]
pub struct EvalCheck {
    /// Records in the sample.
    pub examples: usize,
    /// Mean loss of the base state on the sample.
    pub before: f64,
    /// Mean loss of the final state on the sample.
    pub after: f64,
    /// The claimed whole-split losses (the commitment's).
    pub claimed_before: f32,
    /// The claimed loss after.
    pub claimed_after: f32,
    /// How far a claim may sit from the sample mean: the bound of [`claim_bound`] for each state.
    pub bound_before: f64,
    /// The bound for the final state.
    pub bound_after: f64,
    /// Whether both claims are consistent with the sample and the claimed improvement is enough.
    pub passes: bool,
}

/// One recomputed step.
#[derive(Clone, Debug, PartialEq)]
pub struct StepCheck {
    /// Step in the round.
    pub step: u32,
    /// The merged comparison of its leaves.
    pub comparison: Comparison,
}

/// The outcome of the checks.
pub struct Report {
    /// The verdict the protocol prescribes.
    pub verdict: Verdict,
    /// The replay's first fault, if any.
    pub fault: Option<ReplayFault>,
    /// Every recomputed step (up to a replay fault).
    pub steps: Vec<StepCheck>,
    /// The evaluation (absent after a replay fault or a bad gradient, or with no eval sample).
    pub eval: Option<EvalCheck>,
    /// The replay: its checkpoints and the miner's records, for fraud proofs.
    pub replay: RoundBuilder,
    /// Time spent replaying (exact update, hashing).
    pub replay_time: Duration,
    /// Time spent recomputing gradients.
    pub recompute_time: Duration,
    /// Time spent evaluating.
    pub eval_time: Duration,
}

/// A failure of the verifier itself: no verdict on the miner follows from it.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The engine failed (libtorch).
    #[error("engine: {0}")]
    Engine(#[from] EngineError),
    /// The recomputed gradient has a non-finite value (the verifier's own failure, section 11).
    #[error("recomputed gradient of step {step}: {error:?}")]
    Recomputed {
        /// Step.
        step: u32,
        /// The tolerance rule's error.
        error: ToleranceError,
    },
    /// The data do not have the spec's shape (a bug of the caller: fetched data are checked).
    #[error("round data: {0:?}")]
    Shape(BuildError),
}

/// Standard errors of the mean a claimed whole-split loss may sit from the sample mean. Six, not four:
/// per-record cross-entropy is skewed, and at four an honest round failed about 2.5·10⁻⁴ of checks
/// (docs/detection.md), each costing an honest verifier `LosingVoteSlash` once the round is accepted.
pub const CLAIM_Z: f64 = 6.0;
/// Relative allowance for summation order (the miner's batched mean against per-record losses).
pub const CLAIM_RELATIVE: f64 = 1e-4;

/// How far a claimed whole-split mean loss may be from the mean of `losses`, a sample without
/// replacement of `losses.len()` records out of `split` (section 11, step 5):
/// `CLAIM_Z · s/√m · √((N−m)/(N−1)) + CLAIM_RELATIVE · |mean| + 1e-6`, `s` the sample standard deviation.
pub fn claim_bound(losses: &[f32], split: u64) -> (f64, f64) {
    let m = losses.len() as f64;
    if losses.is_empty() {
        return (0.0, f64::INFINITY);
    }
    let mean = losses.iter().map(|l| f64::from(*l)).sum::<f64>() / m;
    let var = if losses.len() > 1 {
        losses.iter().map(|l| (f64::from(*l) - mean).powi(2)).sum::<f64>() / (m - 1.0)
    } else {
        f64::INFINITY
    };
    let n = split as f64;
    let fpc = if n > 1.0 { ((n - m).max(0.0) / (n - 1.0)).sqrt() } else { 0.0 };
    let sem = if fpc == 0.0 { 0.0 } else { (var / m).sqrt() * fpc };
    (mean, CLAIM_Z * sem + CLAIM_RELATIVE * mean.abs() + 1e-6)
}

/// Evaluates the base (`before`) and final (`after`) weights on the plan's eval sample against the
/// commitment's claims (section 11, step 5); `None` with no eval sample.
pub fn evaluate(
    engine: &Engine<AnyModel>,
    spec: &TrainingSpec,
    commitment: &RoundCommitment,
    before: &[f32],
    after: &[f32],
    plan: &CheckPlan,
) -> Result<Option<EvalCheck>, CheckError> {
    if plan.eval_examples.is_empty() {
        return Ok(None);
    }
    let losses_before = engine.eval_losses(before, &plan.eval_examples)?;
    let losses_after = engine.eval_losses(after, &plan.eval_examples)?;
    let (mb, bb) = claim_bound(&losses_before, spec.eval_examples);
    let (ma, ba) = claim_bound(&losses_after, spec.eval_examples);
    let claimed_before = f32::from_bits(commitment.eval_loss_before);
    let claimed_after = f32::from_bits(commitment.eval_loss_after);
    let consistent = (f64::from(claimed_before) - mb).abs() <= bb && (f64::from(claimed_after) - ma).abs() <= ba;
    let required = f64::from(plan.min_improvement_ppm) * 1e-6 * f64::from(claimed_before);
    let improved = f64::from(claimed_before) - f64::from(claimed_after) >= required;
    Ok(Some(EvalCheck {
        examples: plan.eval_examples.len(),
        before: mb,
        after: ma,
        claimed_before,
        claimed_after,
        bound_before: bb,
        bound_after: ba,
        passes: consistent && improved,
    }))
}

/// Recomputes step `step`'s gradient at the replayed `weights` and judges the committed leaves against it.
pub(crate) fn recompute(
    engine: &Engine<AnyModel>,
    spec: &TrainingSpec,
    weights: &[f32],
    round_seed: &Hash,
    step: u32,
    committed: &[Vec<u8>],
    tolerance: &Tolerance,
) -> Result<Comparison, CheckError> {
    let g = engine.step_gradient(weights, round_seed, step)?;
    match judge_leaves(spec, committed, &g.values, tolerance) {
        Ok(c) => Ok(c),
        // A committed leaf that does not decode was refused by the replay before this step; the
        // recomputation's own non-finite values are the verifier's failure.
        Err(ToleranceError::Committed(_)) => Ok(Comparison { bad_codes: 1, ..Comparison::default() }),
        Err(error) => Err(CheckError::Recomputed { step, error }),
    }
}

/// Runs the checks. `progress(step)` is called after each replayed step.
pub fn check_round(
    engine: &Engine<AnyModel>,
    data: RoundData,
    plan: &CheckPlan,
    mut progress: impl FnMut(u32),
) -> Result<Report, CheckError> {
    let spec = data.spec;
    let mut replay = RoundBuilder::new(spec, data.base.weights.clone(), data.base.slots.clone(), data.first_global_step)
        .map_err(CheckError::Shape)?;
    let (mut replay_time, mut recompute_time) = (Duration::ZERO, Duration::ZERO);
    let mut steps = Vec::new();
    let mut fault = None;
    for (record, leaves) in data.records.iter().zip(data.gradients) {
        if plan.steps.binary_search(&record.step).is_ok() {
            let t0 = Instant::now();
            let comparison =
                recompute(engine, &spec, replay.weights(), &data.round_seed, record.step, &leaves, &plan.tolerance)?;
            recompute_time += t0.elapsed();
            steps.push(StepCheck { step: record.step, comparison });
        }
        let t0 = Instant::now();
        let found = replay.replay_step_with(record, leaves, &ParallelKernels).map_err(CheckError::Shape)?;
        replay_time += t0.elapsed();
        progress(record.step);
        if found.is_some() {
            fault = found;
            break;
        }
    }
    let final_root = replay.checkpoint_leaves(spec.steps_per_round.checked_sub(1)).map(|(_, root)| root);
    if fault.is_none() && final_root != Some(data.commitment.final_root) {
        // Only reachable with records that do not end in a checkpoint, which the trace check refuses.
        fault = Some(ReplayFault::CheckpointMismatch {
            step: spec.steps_per_round.saturating_sub(1),
            segment: spec.segment_count().saturating_sub(1),
        });
    }
    let bad_step = steps.iter().find(|s| !s.comparison.passes()).map(|s| s.step);
    let t0 = Instant::now();
    let eval = if fault.is_none() && bad_step.is_none() {
        evaluate(engine, &spec, &data.commitment, &data.base.weights, replay.weights(), plan)?
    } else {
        None
    };
    let eval_time = t0.elapsed();
    let verdict = if fault.is_some() {
        Verdict::Negative(NegativeReason::InconsistentUpdate)
    } else if let Some(step) = bad_step {
        Verdict::Negative(NegativeReason::BadGradient { step })
    } else if eval.as_ref().is_some_and(|e| !e.passes) {
        Verdict::Negative(NegativeReason::NoProgress)
    } else {
        Verdict::Positive
    };
    Ok(Report { verdict, fault, steps, eval, replay, replay_time, recompute_time, eval_time })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_claim_bound_shrinks_with_the_sample_and_vanishes_for_the_whole_split() {
        let losses: Vec<f32> = (0..64).map(|i| 1.0 + (i % 8) as f32 * 0.1).collect();
        let (mean, small) = claim_bound(&losses[..16], 1000);
        let (_, large) = claim_bound(&losses, 1000);
        assert!(large < small, "{large} < {small}");
        assert!((mean - 1.35).abs() < 1e-6 || mean > 1.0);
        let (whole_mean, whole) = claim_bound(&losses, 64);
        assert!(whole < 1e-3 && whole > 0.0, "{whole}");
        assert!((whole_mean - 1.35).abs() < 1e-6);
        assert_eq!(claim_bound(&[], 10).1, f64::INFINITY);
    }
}
