//! The whole sampled-replay check of docs/protocol.md section 11b on one round: the scalars of every
//! record without the gradient (check 1), the leaf replay ([`super::sampled`], check 2), the sampled
//! steps recomputed from the nearest checkpoint (check 3) and the evaluation with the final state fetched
//! whole (check 4). Every byte comes from the miner's server and is checked against a committed root
//! before it is used. The precedence of reasons is section 11's: `InconsistentUpdate`, then
//! `BadGradient` (first failing step), then `NoProgress`.

use super::{
    check::{evaluate, recompute, CheckError, CheckPlan, EvalCheck, StepCheck},
    fetch::Unavailable,
    sampled::{replay_sampled_leaves, SampledError, SampledReplay},
};
use crate::roles::miner::prepare::short;
use pogo_bookkeeping::{codec::dequantize_leaf, ParallelRound};
use pogo_engine::{model::descriptor::AnyModel, Engine, ModelState};
use pogo_primitives::{
    replay::schedule_scalars_conform,
    spec::f,
    update::gradient_scale,
    verdict::NegativeReason,
    Hash, RoundCommitment, StepRecord, TrainingSpec, Verdict,
};
use pogo_store::DaClient;
use std::time::{Duration, Instant};

/// What the sampled check reads before it fetches anything: the verified manifest's records and the base.
pub struct SampledRound<'a> {
    /// The task's spec.
    pub spec: TrainingSpec,
    /// The commitment on chain.
    pub commitment: &'a RoundCommitment,
    /// Every step's record (verified against the commitment's trace root).
    pub records: &'a [StepRecord],
    /// The round seed.
    pub round_seed: Hash,
    /// Global step (1-based) of the round's first step.
    pub first_global_step: u64,
    /// The base state (its root is `commitment.base_root`).
    pub base: &'a ModelState,
}

/// The outcome of the sampled check.
pub struct SampledReport {
    /// The verdict section 11b prescribes.
    pub verdict: Verdict,
    /// What made it `InconsistentUpdate`, in words (`None` otherwise).
    pub inconsistency: Option<String>,
    /// The leaf replay (with a ready fraud proof if it found one).
    pub leaves: SampledReplay,
    /// Every recomputed step.
    pub steps: Vec<StepCheck>,
    /// The evaluation.
    pub eval: Option<EvalCheck>,
    /// Bytes fetched: leaf openings, whole states and gradients (SCALE / file sizes).
    pub bytes: u64,
    /// Time fetching whole states and gradients (the leaf replay's own fetch time is in `leaves`).
    pub fetch_time: Duration,
    /// Time applying the committed steps before sampled steps.
    pub replay_time: Duration,
    /// Time recomputing gradients.
    pub recompute_time: Duration,
    /// Time evaluating.
    pub eval_time: Duration,
}

/// Why the sampled check could not give a verdict on the miner.
#[derive(Debug, thiserror::Error)]
pub enum SampledCheckError {
    /// The leaf replay could not run (an unavailable opening is the miner's `DataUnavailable`).
    #[error(transparent)]
    Sampled(#[from] SampledError),
    /// A whole state or gradient was not served (the miner's `DataUnavailable`).
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    /// The verifier's own engine failed.
    #[error(transparent)]
    Check(#[from] CheckError),
}

/// The first record whose learning rate or bias corrections do not conform (check 1; the clipping factor
/// needs the whole gradient and is checked on sampled steps only).
pub fn first_nonconforming_record(spec: &TrainingSpec, first_global_step: u64, records: &[StepRecord]) -> Option<u32> {
    records
        .iter()
        .find(|r| !schedule_scalars_conform(spec, first_global_step.saturating_add(u64::from(r.step)), &r.scalars))
        .map(|r| r.step)
}

/// One step's gradient dequantized, flat (`param_count` values); `None` if a leaf does not decode.
/// The leaves are decoded on every core (`pogo_bookkeeping::codec::dequantize_leaf`, the reference's values).
fn dequantized(spec: &TrainingSpec, leaves: &[Vec<u8>]) -> Option<Vec<f32>> {
    use rayon::prelude::*;
    let block = usize::try_from(spec.codec_block).ok()?;
    let parts: Vec<Vec<f32>> = leaves
        .par_iter()
        .enumerate()
        .map(|(i, leaf)| {
            let (_, n) = spec.leaf_range(u64::try_from(i).ok()?)?;
            dequantize_leaf(leaf, n, block).ok()
        })
        .collect::<Option<Vec<_>>>()?;
    Some(parts.concat())
}

/// Runs the sampled check of `round` with the plan's steps and eval sample and the sampled `leaves`.
/// Fetching may take `fetch_budget` in all, leaf openings and whole states and gradients together
/// (`Unavailable::Deadline` past it, the miner's `DataUnavailable`); the verifier's own computation does
/// not count against it.
pub async fn check_sampled(
    engine: &Engine<AnyModel>,
    client: &DaClient,
    round: SampledRound<'_>,
    plan: &CheckPlan,
    leaves: &[u64],
    fetch_budget: Duration,
) -> Result<SampledReport, SampledCheckError> {
    let spec = round.spec;
    let mut report = SampledReport {
        verdict: Verdict::Positive,
        inconsistency: None,
        leaves: SampledReplay::default(),
        steps: Vec::new(),
        eval: None,
        bytes: 0,
        fetch_time: Duration::ZERO,
        replay_time: Duration::ZERO,
        recompute_time: Duration::ZERO,
        eval_time: Duration::ZERO,
    };
    let inconsistent = |mut report: SampledReport, why: String| {
        report.verdict = Verdict::Negative(NegativeReason::InconsistentUpdate);
        report.inconsistency = Some(why);
        Ok(report)
    };
    // 1. Scalars of every record.
    if let Some(step) = first_nonconforming_record(&spec, round.first_global_step, round.records) {
        return inconsistent(report, format!("step {step}: learning rate or bias corrections do not conform"));
    }
    // 2. The leaf replay.
    report.leaves = replay_sampled_leaves(client, &spec, round.commitment, round.records, leaves, fetch_budget).await?;
    let over_budget = |report: &SampledReport| report.leaves.fetch_time + report.fetch_time > fetch_budget;
    report.bytes = report.leaves.bytes;
    let proven = report.leaves.fraud.as_ref().map(|(proof, fraud)| {
        format!("leaf {} segment {}: {fraud:?} (fraud proof ready)", proof.leaf_index, proof.segment)
    });
    if let Some(why) = proven {
        return inconsistent(report, why);
    }
    if let Some((leaf, segment)) = report.leaves.malformed {
        return inconsistent(report, format!("leaf {leaf} segment {segment}: a committed state leaf is not valid"));
    }
    // 3. Sampled steps from the nearest checkpoint; steps of one segment share one pass.
    let state_bytes = |spec: &TrainingSpec| spec.param_count.saturating_mul(4).saturating_mul(spec.rule.slots() as u64 + 1);
    let mut steps = plan.steps.clone();
    steps.sort_unstable();
    let c = spec.checkpoint_interval.max(1);
    let mut current: Option<(u32, u32, ParallelRound)> = None; // (segment, next step to apply, state)
    for s in steps {
        let segment = s / c;
        let first = segment.saturating_mul(c);
        let reuse = matches!(&current, Some((seg, next, _)) if *seg == segment && *next <= s);
        if !reuse {
            let t0 = Instant::now();
            let start = if segment == 0 {
                round.base.clone()
            } else {
                let root = round
                    .records
                    .get(usize::try_from(first.saturating_sub(1)).unwrap_or(usize::MAX))
                    .and_then(|r| r.checkpoint_root)
                    .ok_or_else(|| SampledError::Records(format!("no checkpoint before segment {segment}")))?;
                let state = client
                    .fetch_state(&spec, &root)
                    .await
                    .map_err(|e| Unavailable::Base { root: short(&root), reason: e.to_string() })?;
                report.bytes = report.bytes.saturating_add(state_bytes(&spec));
                state
            };
            report.fetch_time += t0.elapsed();
            if over_budget(&report) {
                return Err(Unavailable::Deadline.into());
            }
            let t = round.first_global_step.saturating_add(u64::from(first));
            let state = ParallelRound::new(spec, start.weights, start.slots, t).map_err(CheckError::Shape)?;
            current = Some((segment, first, state));
        }
        let Some((_, next, state)) = current.as_mut() else { continue };
        while *next <= s {
            let record = round
                .records
                .get(usize::try_from(*next).unwrap_or(usize::MAX))
                .ok_or_else(|| SampledError::Records(format!("no record of step {next}")))?;
            let t0 = Instant::now();
            let leaves = client
                .fetch_gradient(&spec, &record.gradient_root)
                .await
                .map_err(|e| Unavailable::Gradient { step: record.step, reason: e.to_string() })?;
            report.bytes = report.bytes.saturating_add(leaves.iter().map(|l| l.len() as u64).sum::<u64>());
            report.fetch_time += t0.elapsed();
            if over_budget(&report) {
                return Err(Unavailable::Deadline.into());
            }
            let Some(deq) = dequantized(&spec, &leaves) else {
                return inconsistent(report, format!("step {}: a gradient leaf does not decode", record.step));
            };
            if *next == s {
                let clip = gradient_scale(f(spec.max_grad_norm), spec.leaf_size, &deq);
                if clip.map(f32::to_bits) != Some(record.scalars.gradient_scale) {
                    return inconsistent(report, format!("step {s}: the clipping factor is not the dequantized gradient's"));
                }
                let t0 = Instant::now();
                let comparison = recompute(engine, &spec, state.weights(), &round.round_seed, s, &leaves, &plan.tolerance)?;
                report.recompute_time += t0.elapsed();
                report.steps.push(StepCheck { step: s, comparison });
            }
            let t0 = Instant::now();
            let applied = state.apply(&record.scalars, &deq);
            report.replay_time += t0.elapsed();
            if let Err(e) = applied {
                return inconsistent(report, format!("step {}: applying the committed step fails: {e:?}", record.step));
            }
            *next = next.saturating_add(1);
        }
    }
    if let Some(step) = report.steps.iter().find(|c| !c.comparison.passes()).map(|c| c.step) {
        report.verdict = Verdict::Negative(NegativeReason::BadGradient { step });
        return Ok(report);
    }
    // 4. The evaluation, with the final state fetched whole and checked against the final root.
    if !plan.eval_examples.is_empty() {
        let t0 = Instant::now();
        let root = round.commitment.final_root;
        let last = client
            .fetch_state(&spec, &root)
            .await
            .map_err(|e| Unavailable::Base { root: short(&root), reason: e.to_string() })?;
        report.bytes = report.bytes.saturating_add(state_bytes(&spec));
        report.fetch_time += t0.elapsed();
        if over_budget(&report) {
            return Err(Unavailable::Deadline.into());
        }
        let t0 = Instant::now();
        report.eval = evaluate(engine, &spec, round.commitment, &round.base.weights, &last.weights, plan)?;
        report.eval_time = t0.elapsed();
        if report.eval.as_ref().is_some_and(|e| !e.passes) {
            report.verdict = Verdict::Negative(NegativeReason::NoProgress);
        }
    }
    Ok(report)
}
