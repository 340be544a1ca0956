#![allow(missing_docs)] // criterion_group! generates undocumented functions
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark aborts on a failed step
//! What PoGO's bookkeeping costs a miner, as a share of a plain tch training step of the same model
//! (issue 15's goal: at most 5 % for the 10.9 M-parameter byte GPT and for a ≥ 100 M-parameter one).
//!
//! Per model, on the CPU with the pinned settings, `POGO_BENCH_THREADS` threads (default 2) for libtorch
//! and the rayon pool alike, a round of `C` steps (one segment, `C` = the task's checkpoint interval, so
//! the checkpoint's state leaves and root are amortized as in a real round):
//!
//! - **plain tch step**: `PlainTrainer::step`, forward, backward, clipping and libtorch's own AdamW;
//! - **gradient**: `Engine::step_gradient`, forward and backward and the gradient copied to a `Vec<f32>`:
//!   what the miner asks of libtorch;
//! - **bookkeeping**: everything the miner then does with it (`roles/miner/train.rs`): the finiteness scan
//!   and `ParallelRound::step` (4-bit codec, clipping factor, exact AdamW, gradient root, the checkpoint's
//!   state root hashed in place), the time of the round's `C` steps over `C`; the round-store writes
//!   (`put_gradient_with_tree`, `put_state_with_tree`: the leaves written with the trees the step already
//!   computed) are timed apart (disk, not compute);
//! - **reference**: the same bookkeeping single-threaded (`RoundBuilder::step`), what the miner ran before;
//! - **whole step, sequential and overlapped**: the miner's step as `train.rs` runs it (`StepPipeline`),
//!   gradient, bookkeeping and store writes, with each step's trees and writes after its update
//!   (`--overlap off`) or beside the next step's forward and backward pass (`--overlap on`), and how much
//!   longer than the plain tch step the overlapped one is.
//!
//! Summary lines (`summary: NAME VALUE UNIT GOAL met|not-met|info`): the bookkeeping as % of the plain step
//! per model (goal ≤ 5), and the absolute times. Models: `POGO_BENCH_MODELS` = a comma list of `10m`,
//! `100m` (default both under `--bench`; under `cargo test` the 0.14 M GPT once, to keep the bench built
//! and working). `100m` is `GptConfig::BENCH_100M` (106.8 M parameters); batch 8 for both.
//!
//! ```text
//! cargo bench --manifest-path offchain-worker/Cargo.toml --profile testnet -p pogo-worker --bench miner_share
//! ```
//! Needs the Shakespeare data (scripts/setup.sh).

mod common;

use common::{median, text_engine};
use criterion::{criterion_group, criterion_main, Criterion};
use pogo_bookkeeping::ParallelRound;
use pogo_engine::{measure::PlainTrainer, model::GptConfig, model::Model, pin_torch_settings, Engine};
use pogo_primitives::builder::RoundBuilder;
use pogo_store::RoundStore;
use pogo_worker::roles::miner::pipeline::{Overlap, StepPipeline};
use std::{
    hint::black_box,
    time::{Duration, Instant},
};

const SEED: [u8; 32] = [2; 32];

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

struct Measured {
    label: String,
    params: u64,
    plain: f64,
    gradient: f64,
    bookkeeping: f64,
    reference: f64,
    store: f64,
    step_sequential: f64,
    step_overlapped: f64,
}

fn measure<M: Model>(label: &str, engine: &Engine<M>, reps: usize) -> Measured {
    let spec = *engine.spec();
    let c = spec.checkpoint_interval;
    let w0 = engine.model().layout().init(&[1; 32]);
    let slots = vec![vec![0.0f32; w0.len()]; spec.rule.slots()];

    // The plain tch loop: warm up once, then the median step.
    let mut plain = PlainTrainer::new(engine, &w0, 1e-3).unwrap();
    plain.step(&engine.batch_indices(&SEED, 0)).unwrap();
    let plain_steps: Vec<f64> = (0..reps)
        .map(|s| {
            let indices = engine.batch_indices(&SEED, s as u32 + 1);
            let t = Instant::now();
            black_box(plain.step(&indices).unwrap());
            secs(t.elapsed())
        })
        .collect();

    // The gradients of one segment, at the weights the PoGO round reaches (taken once, reused below so
    // the bookkeeping is timed on real gradients without re-running libtorch).
    let mut round = ParallelRound::new(spec, w0.clone(), slots.clone(), 1).unwrap();
    let mut gradients = Vec::new();
    let mut gradient_times = Vec::new();
    for s in 0..c {
        let t = Instant::now();
        let g = engine.step_gradient(round.weights(), &SEED, s).unwrap();
        gradient_times.push(secs(t.elapsed()));
        round.step(&g.values, g.loss).unwrap();
        gradients.push(g);
    }

    // The miner's bookkeeping of that segment, `reps` times from the same start.
    let mut book = Vec::new();
    let mut store_times = Vec::new();
    for _ in 0..reps {
        // A fresh store each time: a store skips objects it already holds.
        let dir = tempfile::tempdir().unwrap();
        let store = RoundStore::open(dir.path()).unwrap();
        let mut round = ParallelRound::new(spec, w0.clone(), slots.clone(), 1).unwrap();
        let mut compute = 0.0;
        let mut disk = 0.0;
        for g in &gradients {
            let t = Instant::now();
            assert!(g.loss.is_finite() && pogo_bookkeeping::all_finite_parallel(&g.values));
            let built = round.step(&g.values, g.loss).unwrap();
            compute += secs(t.elapsed());
            let t = Instant::now();
            store.put_gradient_with_tree(&spec, built.gradient_tree, &built.gradient_leaves).unwrap();
            if let Some(tree) = built.checkpoint {
                store.put_state_with_tree(&spec, tree, round.weights(), round.slots()).unwrap();
            }
            disk += secs(t.elapsed());
        }
        book.push(compute / f64::from(c));
        store_times.push(disk / f64::from(c));
    }
    // The single-threaded reference, once (it is the slow one).
    let mut reference = RoundBuilder::new(spec, w0.clone(), slots.clone(), 1).unwrap();
    let t = Instant::now();
    for g in &gradients {
        reference.step(&g.values, g.loss).unwrap();
    }
    let reference_step = secs(t.elapsed()) / f64::from(c);

    // The miner's whole step as `roles/miner/train.rs` runs it (`StepPipeline`): gradient, finiteness
    // scan and update, and the trees and store writes either beside the next step's gradient or after the
    // update. Alternated, so that a pair shares this VM's drift; per step over the segment.
    let whole_step = |overlap: Overlap| -> f64 {
        let dir = tempfile::tempdir().unwrap();
        let store = RoundStore::open(dir.path()).unwrap();
        let mut round = ParallelRound::new(spec, w0.clone(), slots.clone(), 1).unwrap();
        let mut steps = StepPipeline::new(&store, spec, overlap);
        let t = Instant::now();
        for s in 0..c {
            let g = steps.gradient(&round, |w| engine.step_gradient(w, &SEED, s)).unwrap();
            assert!(g.loss.is_finite() && pogo_bookkeeping::all_finite_parallel(&g.values));
            steps.update(&mut round, &g.values, g.loss).unwrap();
        }
        let records = steps.finish_all(&round).unwrap();
        let per_step = secs(t.elapsed()) / f64::from(c);
        assert_eq!(records.len(), c as usize);
        per_step
    };
    let (mut overlapped, mut sequential) = (Vec::new(), Vec::new());
    for _ in 0..reps.div_ceil(2) {
        sequential.push(whole_step(Overlap::Off));
        overlapped.push(whole_step(Overlap::On));
    }
    Measured {
        label: label.to_string(),
        params: spec.param_count,
        plain: median(plain_steps),
        gradient: median(gradient_times),
        bookkeeping: median(book),
        reference: reference_step,
        store: median(store_times),
        step_sequential: median(sequential),
        step_overlapped: median(overlapped),
    }
}

fn benches(_c: &mut Criterion) {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let threads: usize = std::env::var("POGO_BENCH_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(2);
    pin_torch_settings(threads);
    let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();
    let models = std::env::var("POGO_BENCH_MODELS").unwrap_or_else(|_| if bench_mode { "10m,100m".into() } else { "small".into() });
    let mut results = Vec::new();
    for name in models.split(',').map(str::trim) {
        let (label, config, reps) = match name {
            "small" => ("gpt 0.14M", GptConfig::SMALL, 1),
            "10m" => ("gpt 10.9M", GptConfig::BENCH_10M, 5),
            "100m" => ("gpt 107M", GptConfig::BENCH_100M, 3),
            other => panic!("POGO_BENCH_MODELS: unknown model {other} (small, 10m, 100m)"),
        };
        let engine = text_engine(config, 8);
        eprintln!("miner_share: {label}, {} parameters, {threads} threads ...", engine.spec().param_count);
        results.push(measure(label, &engine, reps));
    }
    println!("\nminer bookkeeping against a plain tch step, {threads} threads, batch 8, medians");
    println!(
        "{:<10} {:>12} {:>12} {:>12} {:>12} {:>12} {:>10} {:>12}",
        "model", "params", "plain (ms)", "grad (ms)", "book (ms)", "store (ms)", "book %", "1-core ref %"
    );
    for r in &results {
        let share = 100.0 * r.bookkeeping / r.plain;
        println!(
            "{:<10} {:>12} {:>12.1} {:>12.1} {:>12.1} {:>12.1} {:>10.2} {:>12.2}",
            r.label,
            r.params,
            r.plain * 1e3,
            r.gradient * 1e3,
            r.bookkeeping * 1e3,
            r.store * 1e3,
            share,
            100.0 * r.reference / r.plain
        );
    }
    println!("\nthe miner's whole step (gradient, bookkeeping, store writes), medians");
    println!("{:<10} {:>16} {:>16} {:>16} {:>16}", "model", "plain (ms)", "sequential (ms)", "overlapped (ms)", "over plain %");
    for r in &results {
        println!(
            "{:<10} {:>16.1} {:>16.1} {:>16.1} {:>16.2}",
            r.label,
            r.plain * 1e3,
            r.step_sequential * 1e3,
            r.step_overlapped * 1e3,
            100.0 * (r.step_overlapped / r.plain - 1.0)
        );
    }
    for r in &results {
        let key = r.label.replace([' ', '.'], "_");
        let share = 100.0 * r.bookkeeping / r.plain;
        println!("summary: miner_bookkeeping_share_{key} {share:.3} % <=5 {}", if share <= 5.0 { "met" } else { "not-met" });
        println!("summary: miner_reference_share_{key} {:.3} % - info", 100.0 * r.reference / r.plain);
        println!("summary: plain_tch_step_{key} {:.4e} s - info", r.plain);
        println!("summary: miner_gradient_{key} {:.4e} s - info", r.gradient);
        println!("summary: miner_bookkeeping_{key} {:.4e} s - info", r.bookkeeping);
        println!("summary: miner_store_writes_{key} {:.4e} s - info", r.store);
        println!("summary: miner_step_sequential_{key} {:.4e} s - info", r.step_sequential);
        println!("summary: miner_step_overlapped_{key} {:.4e} s - info", r.step_overlapped);
        println!("summary: miner_step_over_plain_{key} {:.3} % - info", 100.0 * (r.step_overlapped / r.plain - 1.0));
    }
}

criterion_group!(miner_share, benches);
criterion_main!(miner_share);
