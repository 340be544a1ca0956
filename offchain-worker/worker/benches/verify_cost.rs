#![allow(missing_docs)] // criterion_group! generates undocumented functions
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark aborts on a failed step
//! What one verifier pays for a round next to what the miner paid to build it (docs/measurements/
//! verifier-cost.md). Per model, on the CPU with the pinned settings and 2 intra-op threads (`POGO_BENCH_THREADS`):
//!
//! - **miner**: a round of T steps from the task's initial state as the miner computes it (T ×
//!   `Engine::step_gradient`: seeded batch, forward/backward; `ParallelRound::step` on every core: 4-bit
//!   codec, exact AdamW, Merkle trees; store writes not counted). The miner's whole-split evaluation (`eval_loss` before and after) is *not* counted:
//!   leaving it out makes the ratio larger, so the comparison errs against the verifier;
//! - **verifier**: `check_round` with the protocol's default samples (docs/protocol.md §17: 4 steps,
//!   256 eval examples per verifier): full replay of the T steps (`ParallelKernels`, every core), recomputation of the sampled steps,
//!   evaluation of the base and final states on the eval sample. Fetching is not timed;
//! - **bytes**: what the verifier downloads (every step's gradient leaves, the base state, the manifest,
//!   16 opened final-state leaves) against what the miner writes to its round store (gradient leaves,
//!   every checkpoint including the final state, the manifest).
//!
//! - **sampled replay** (protocol section 11b): the same round stored, served by a DA server on loopback and
//!   checked once with `check_sampled` (the verifier's `leaves` sample replayed across all T steps from
//!   Merkle openings, the sampled steps from their nearest checkpoint, the final state fetched for the
//!   evaluation): time, fetch time included, and bytes, against full replay's.
//!
//! Models: the digits MLP (9,610 parameters, T = 20, batch 32: the task's defaults) and the 10.9 M-parameter
//! byte GPT of `engine/benches/step.rs` (`GptConfig::BENCH_10M`, batch 8, T = `POGO_VERIFY_T`, default 20,
//! a checkpoint every 5; 4 under `cargo test`). Summary lines (`summary: NAME VALUE UNIT - info`) give both modes' verifier/miner
//! time ratio and bytes per model.
//! After criterion's own report, a summary prints the medians, the ratio verifier/miner, the
//! per-step costs (miner step c, replay step r, recomputed step g, evaluation e, fixed overhead o) and
//! the smallest T that keeps one verifier at 5 % of the miner's compute for k = 1, 2, 4:
//! `T ≥ (k·g + e + o) / (0.05·c − r)`.
//!
//! ```text
//! cargo bench --manifest-path offchain-worker/Cargo.toml --profile testnet -p pogo-worker --bench verify_cost
//! ```
//! Needs the default data (scripts/setup.sh).

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode};
use pogo_bookkeeping::ParallelRound;
use pogo_engine::{model::descriptor::AnyModel, model::GptConfig, pin_torch_settings, tasks, Engine, ModelState};
use pogo_primitives::{
    builder::RoundBuilder,
    seed::{verifier_samples, SampleSizes},
    tolerance::Tolerance,
    RoundCommitment, StepRecord, TrainingSpec, Verdict,
};
use pogo_store::{router, serve, ClientLimits, DaClient, RoundIdentity, RoundManifest, RoundStore, ServerCounters, ServerLimits};
use pogo_worker::{
    local_task::initial_state,
    roles::verifier::{
        check::{check_round, CheckPlan, RoundData},
        sampled_check::{check_sampled, SampledRound},
    },
};
use std::{
    cell::RefCell,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::net::TcpListener;
use tch::Device;

/// The protocol's default samples per verifier (docs/protocol.md §17).
const DEFAULT_SAMPLES: SampleSizes = SampleSizes { steps: 4, leaves: 16, eval_examples: 256 };
/// Verifiers per round at level 0 (docs/protocol.md §17).
const DEFAULT_VERIFIERS: u32 = 5;
/// The share of the miner's compute one verifier may use.
const BUDGET: f64 = 0.05;
const ROUND_SEED: [u8; 32] = [2; 32];

struct Built {
    builder: RoundBuilder,
    commitment: RoundCommitment,
    records: Vec<StepRecord>,
    gradients: Vec<Vec<Vec<u8>>>,
    gradient_bytes: u64,
    base_bytes: u64,
    checkpoint_bytes: u64,
    final_leaf_bytes: u64,
    manifest_bytes: u64,
}

fn build(engine: &Engine<AnyModel>, spec: TrainingSpec, base: &ModelState) -> (RoundBuilder, RoundCommitment) {
    let mut builder = RoundBuilder::new(spec, base.weights.clone(), base.slots.clone(), 1).unwrap();
    for s in 0..spec.steps_per_round {
        engine.step(&mut builder, &ROUND_SEED, s).unwrap();
    }
    let (commitment, _trace) = builder.commitment(2.0, 1.0).unwrap();
    (builder, commitment)
}

/// The round as the miner computes it (`roles/miner/train.rs`): T × (`Engine::step_gradient`, the
/// finiteness scan, `ParallelRound::step` on every core), byte for byte [`build`]'s records.
fn mine(engine: &Engine<AnyModel>, spec: TrainingSpec, base: &ModelState) -> Vec<StepRecord> {
    let mut round = ParallelRound::new(spec, base.weights.clone(), base.slots.clone(), 1).unwrap();
    (0..spec.steps_per_round)
        .map(|s| {
            let g = engine.step_gradient(round.weights(), &ROUND_SEED, s).unwrap();
            assert!(g.loss.is_finite() && pogo_bookkeeping::all_finite_parallel(&g.values));
            round.step(&g.values, g.loss).unwrap().record
        })
        .collect()
}

fn leaf_bytes(leaves: &[Vec<u8>]) -> u64 {
    leaves.iter().map(|l| l.len() as u64).sum()
}

fn built(engine: &Engine<AnyModel>, spec: TrainingSpec, base: &ModelState, eval_sample: &[u64]) -> Built {
    let (builder, _) = build(engine, spec, base);
    // Claimed losses the verifier's evaluation accepts: the means over its own sample (the miner's
    // whole-split evaluation would cost minutes for the GPT and is not what is measured here).
    let mean = |w: &[f32]| {
        let l = engine.eval_losses(w, eval_sample).unwrap();
        (l.iter().map(|x| f64::from(*x)).sum::<f64>() / l.len().max(1) as f64) as f32
    };
    let (commitment, _trace) = builder.commitment(mean(&base.weights), mean(builder.weights())).unwrap();
    let records = builder.records();
    let gradients: Vec<Vec<Vec<u8>>> =
        (0..spec.steps_per_round).map(|s| builder.gradient_leaves(s).unwrap().to_vec()).collect();
    let gradient_bytes = gradients.iter().map(|g| leaf_bytes(g)).sum();
    let (base_leaves, _) = builder.checkpoint_leaves(None).unwrap();
    let base_bytes = leaf_bytes(base_leaves);
    let checkpoint_bytes = builder.checkpoint_steps().iter().map(|s| leaf_bytes(builder.checkpoint_leaves(Some(*s)).unwrap().0)).sum();
    let (final_leaves, _) = builder.checkpoint_leaves(Some(spec.steps_per_round - 1)).unwrap();
    let opened = usize::try_from(DEFAULT_SAMPLES.leaves).unwrap().min(final_leaves.len());
    let final_leaf_bytes = leaf_bytes(&final_leaves[..opened]);
    let identity = RoundIdentity { task: 0, round: 0, miner: [7; 32], first_global_step: 1 };
    let manifest = RoundManifest::new(identity, &spec, &commitment, &records);
    let manifest_bytes = serde_json::to_vec(&manifest).unwrap().len() as u64;
    Built { builder, commitment, records, gradients, gradient_bytes, base_bytes, checkpoint_bytes, final_leaf_bytes, manifest_bytes }
}

fn median(v: &[Duration]) -> f64 {
    let mut s: Vec<f64> = v.iter().map(Duration::as_secs_f64).collect();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return f64::NAN;
    }
    let n = s.len();
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

fn mib(b: u64) -> String {
    format!("{:.2} MiB", b as f64 / (1024.0 * 1024.0))
}

fn bench_task(c: &mut Criterion, label: &str, engine: &Engine<AnyModel>, t: u32, measurement: Duration) -> String {
    let mut spec = *engine.spec();
    spec.steps_per_round = t;
    spec.checkpoint_interval = spec.checkpoint_interval.min(t);
    let base = initial_state(&spec, engine.model().as_model());
    let samples = verifier_samples(&[9; 32], &DEFAULT_SAMPLES, t, spec.leaf_count(), spec.eval_examples);
    let round = built(engine, spec, &base, &samples.eval_examples);
    let plan = CheckPlan {
        steps: samples.steps.clone(),
        eval_examples: samples.eval_examples.clone(),
        tolerance: Tolerance::DEFAULT,
        min_improvement_ppm: 0,
    };
    let data = || RoundData {
        spec,
        commitment: round.commitment.clone(),
        records: round.records.clone(),
        round_seed: ROUND_SEED,
        first_global_step: 1,
        base: base.clone(),
        gradients: round.gradients.clone(),
    };
    assert_eq!(mine(engine, spec, &base), round.records, "the miner's parallel round is the reference's");
    let miner = RefCell::new(Vec::new());
    let verifier = RefCell::new(Vec::new());
    let parts = RefCell::new((Vec::new(), Vec::new(), Vec::new()));
    let verdicts = RefCell::new(Vec::new());

    let k = plan.steps.len();
    let mut group = c.benchmark_group(format!("verify cost/{label}, T = {t}"));
    group
        .sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(1))
        .measurement_time(measurement);
    group.bench_function(format!("miner: round of {t} steps"), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t0 = Instant::now();
                let out = mine(engine, spec, &base);
                let d = t0.elapsed();
                drop(out);
                miner.borrow_mut().push(d);
                total += d;
            }
            total
        })
    });
    group.bench_function(format!("verifier: check_round ({k} steps, {} eval)", plan.eval_examples.len()), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let input = data();
                let t0 = Instant::now();
                let report = check_round(engine, input, &plan, |_| {}).unwrap();
                let d = t0.elapsed();
                verdicts.borrow_mut().push(report.verdict);
                let mut p = parts.borrow_mut();
                p.0.push(report.replay_time);
                p.1.push(report.recompute_time);
                p.2.push(report.eval_time);
                drop(report);
                verifier.borrow_mut().push(d);
                total += d;
            }
            total
        })
    });
    group.finish();
    let sampled = sampled_check(engine, spec, &round, &base, &plan, &samples.leaves);

    let (m, v) = (median(&miner.borrow()), median(&verifier.borrow()));
    let p = parts.borrow();
    let (replay, recompute, eval) = (median(&p.0), median(&p.1), median(&p.2));
    let overhead = (v - replay - recompute - eval).max(0.0);
    let (tf, kf) = (f64::from(t), k as f64);
    let (cs, r, g) = (m / tf, replay / tf, recompute / kf);
    let download = round.gradient_bytes + round.base_bytes;
    let written = round.gradient_bytes + round.checkpoint_bytes + round.manifest_bytes;
    let mut out = String::new();
    let line = |out: &mut String, s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(&mut out, format!("## {label}: {} parameters, T = {t}, batch {}, checkpoint every {}", spec.param_count, spec.batch_size, spec.checkpoint_interval));
    let positive = verdicts.borrow().iter().filter(|v| **v == Verdict::Positive).count();
    line(&mut out, format!("samples: miner {} rounds, verifier {} checks ({positive} Positive; medians below)", miner.borrow().len(), verifier.borrow().len()));
    line(&mut out, format!("miner round            {m:10.4} s   ({cs:.4} s per step)"));
    line(&mut out, format!("verifier check_round   {v:10.4} s   (k = {k} of T = {t} steps, {} eval examples)", plan.eval_examples.len()));
    line(&mut out, format!("  replay               {replay:10.4} s   ({r:.5} s per step, {:.1} % of a miner step)", 100.0 * r / cs));
    line(&mut out, format!("  recompute            {recompute:10.4} s   ({g:.4} s per sampled step)"));
    line(&mut out, format!("  eval                 {eval:10.4} s"));
    line(&mut out, format!("  other (base tree, …) {overhead:10.4} s"));
    line(&mut out, format!("ratio verifier/miner   {:.3}   (all {DEFAULT_VERIFIERS} verifiers: {:.3}); budget {BUDGET}: {}", v / m, f64::from(DEFAULT_VERIFIERS) * v / m, if v / m <= BUDGET { "within" } else { "OVER" }));
    line(&mut out, format!("bytes: verifier downloads {} (gradients {} + base {}; + manifest {} + {} opened leaves {})", mib(download), mib(round.gradient_bytes), mib(round.base_bytes), round.manifest_bytes, DEFAULT_SAMPLES.leaves, mib(round.final_leaf_bytes)));
    line(&mut out, format!("       miner writes       {} (gradients {} + checkpoints {} + manifest {}); ratio {:.3}", mib(written), mib(round.gradient_bytes), mib(round.checkpoint_bytes), round.manifest_bytes, download as f64 / written as f64));
    let full_bytes = download + round.manifest_bytes + round.final_leaf_bytes;
    line(&mut out, format!(
        "sampled replay (protocol 11b, k_l = {} leaves): verdict {:?}, {:.4} s ({:.4} s leaf replay, {:.4} s fetching over loopback, {:.4} s replay to sampled steps, {:.4} s recompute, {:.4} s eval); ratio verifier/miner {:.3}",
        sampled.leaves, sampled.verdict, sampled.total, sampled.leaf_time, sampled.fetch, sampled.replay, sampled.recompute, sampled.eval, sampled.total / m
    ));
    line(&mut out, format!(
        "       bytes {} ({} leaf openings, {} of them {}), {:.3} of full replay's {}",
        mib(sampled.bytes), sampled.openings, sampled.leaves, mib(sampled.leaf_bytes), sampled.bytes as f64 / full_bytes as f64, mib(full_bytes)
    ));
    let key = label.replace([' ', '.'], "_");
    for (name, value, unit) in [
        ("verifier_miner_time_full", v / m, "ratio"),
        ("verifier_miner_time_sampled", sampled.total / m, "ratio"),
        ("verifier_bytes_full", full_bytes as f64, "bytes"),
        ("verifier_bytes_sampled", sampled.bytes as f64, "bytes"),
        ("miner_bytes_written", written as f64, "bytes"),
    ] {
        line(&mut out, format!("summary: {name}_{key} {value:.4e} {unit} - info"));
    }
    for k in [1u32, 2, 4] {
        let denom = BUDGET * cs - r;
        let need = (f64::from(k) * g + eval + overhead) / denom;
        let need = if denom > 0.0 { format!("T ≥ {:.0}", need.ceil()) } else { "none: replay per step exceeds 5 % of a miner step".into() };
        let at_t = (tf * r + f64::from(k) * g + eval + overhead) / m;
        line(&mut out, format!("k = {k}: verifier/miner at T = {t}: {at_t:.3}; for ≤ {BUDGET}: {need}"));
    }
    out
}

/// What one sampled-replay check (protocol section 11b) cost.
struct SampledCost {
    verdict: Verdict,
    leaves: usize,
    total: f64,
    leaf_time: f64,
    fetch: f64,
    replay: f64,
    recompute: f64,
    eval: f64,
    bytes: u64,
    openings: u64,
    leaf_bytes: u64,
}

/// The round served by a DA server on loopback and checked once in sampled-replay mode.
fn sampled_check(engine: &Engine<AnyModel>, spec: TrainingSpec, round: &Built, base: &ModelState, plan: &CheckPlan, leaves: &[u64]) -> SampledCost {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(RoundStore::open(dir.path()).unwrap());
    let identity = RoundIdentity { task: 0, round: 0, miner: [7; 32], first_global_step: 1 };
    let manifest = RoundManifest::new(identity, &spec, &round.commitment, &round.records);
    store.put_builder_round(&round.builder, &manifest).unwrap();
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve(listener, router(store, ServerLimits::default(), Arc::new(ServerCounters::default())), async move {
            let _ = stopped.await;
        }));
        let client = DaClient::new(&url, ClientLimits { timeout: Duration::from_secs(60), max_bytes: 1 << 30 }).unwrap();
        let input = SampledRound {
            spec,
            commitment: &round.commitment,
            records: &round.records,
            round_seed: ROUND_SEED,
            first_global_step: 1,
            base,
        };
        let t0 = Instant::now();
        let report = check_sampled(engine, &client, input, plan, leaves, Duration::from_secs(3600)).await.unwrap();
        let total = t0.elapsed().as_secs_f64();
        SampledCost {
            verdict: report.verdict,
            leaves: leaves.len(),
            total,
            leaf_time: (report.leaves.fetch_time + report.leaves.replay_time).as_secs_f64(),
            fetch: report.fetch_time.as_secs_f64(),
            replay: report.replay_time.as_secs_f64(),
            recompute: report.recompute_time.as_secs_f64(),
            eval: report.eval_time.as_secs_f64(),
            bytes: report.bytes,
            openings: report.leaves.openings,
            leaf_bytes: report.leaves.bytes,
        }
    })
}

fn benches(c: &mut Criterion) {
    // `POGO_BENCH_THREADS` (default 2, as engine/benches/step.rs): 1 on a machine shared with other
    // work, where two spinning intra-op threads on two busy cores make every timing noisy.
    let threads = std::env::var("POGO_BENCH_THREADS").ok().and_then(|t| t.parse().ok()).unwrap_or(2);
    pin_torch_settings(threads);
    let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();
    let mut summary = format!("libtorch intra-op threads: {threads}\n");
    let (m, d, s) = tasks::digits_task(None).expect("digits data: run scripts/setup.sh");
    let engine = Engine::new(AnyModel::Mlp(m), d, s, Device::Cpu).unwrap();
    summary += &bench_task(c, "mlp-digits 9.6k", &engine, s.steps_per_round, Duration::from_secs(3));
    drop(engine);
    let (m, d, mut s) = tasks::text_task(None, GptConfig::BENCH_10M).expect("Shakespeare data: run scripts/setup.sh");
    s.batch_size = 8;
    let engine = Engine::new(AnyModel::Gpt(m), d, s, Device::Cpu).unwrap();
    // T = 20 with a checkpoint every 5 (the task's defaults): long enough that the two modes differ
    // (4 under `cargo test`, which runs each bench once to keep it working).
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let t: u32 = std::env::var("POGO_VERIFY_T").ok().and_then(|v| v.parse().ok()).unwrap_or(if bench_mode { 20 } else { 4 });
    summary += &bench_task(c, "gpt-bytes 10.9M", &engine, t, Duration::from_millis(10));
    println!("\n# verifier cost summary (medians)\n{summary}");
}

criterion_group!(verify_cost, benches);
criterion_main!(verify_cost);
