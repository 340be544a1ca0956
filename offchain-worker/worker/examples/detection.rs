#![allow(clippy::unwrap_used, clippy::expect_used)] // a simulator aborts on a failed step
//! Detection simulator: how often do sampling verifiers catch a miner who fakes some steps' gradients,
//! measured with the real code, against the protocol's formula (`detection::miss_probability_all`,
//! docs/protocol.md §16). No chain and no network: everything a verifier would fetch is at hand.
//!
//! Per simulated round, for the digits task (`tasks::digits_task`, T steps, checkpoints every 5):
//!
//! 1. a cheating miner builds a real round with `RoundBuilder` from one fixed base state (the task's
//!    initial state) and a fresh random round seed: the faked steps (`MinerAdversary::faked_steps`, a
//!    random shift per round) commit a fake gradient (`zero`, `random`, `stale` or `rescaled`, the same
//!    fakes as `pogo-worker mine --adversary fake-steps:F:KIND`), every other step the engine's honest
//!    gradient at the current weights; the claimed eval losses are the true whole-split losses;
//! 2. for each verifier configuration (k steps per verifier, V verifiers), a fresh random relay
//!    randomness gives `challenge_seed`, each verifier `verifier_seed` and `verifier_samples` (k steps,
//!    `--eval` eval examples);
//! 3. each verifier runs `check_round` (full replay, recomputation of its sampled steps under
//!    `Tolerance::DEFAULT`, evaluation with `min_improvement_ppm = 0`) on the round's data.
//!
//! A round is detected when at least one of its V verifiers returns a `Negative` verdict. The measured
//! rate (Wilson 95 % interval) is compared with `1 − miss_probability_all(T, m, k, V)`. Honest rounds
//! (m = 0) give the false-positive rate.
//!
//! ```text
//! cargo run --profile testnet --manifest-path offchain-worker/Cargo.toml -p pogo-worker \
//!     --example detection -- --rounds 200 --out docs/measurements/detection.csv
//! ```
//!
//! Options: `--rounds N` (rounds per cell, default 100), `--honest N` (honest rounds per T, default
//! `--rounds`), `--out FILE` (CSV; default `detection.csv`), `--seed S` (default 1), `--eval N` (eval
//! examples per verifier, default 64), `--kinds zero,random[,stale,rescaled]` (`honest`: honest rounds only), `--steps 10,20`,
//! `--samples 1,2` (k), `--verifiers 1,3` (V), `--threads N` (libtorch intra-op threads, default 1).

use pogo_engine::{model::descriptor::AnyModel, pin_torch_settings, tasks, Engine, Gradient, ModelState};
use pogo_primitives::{
    builder::RoundBuilder,
    detection::miss_probability_all,
    seed::{challenge_seed, verifier_samples, verifier_seed, SampleSizes},
    tolerance::Tolerance,
    Hash, NegativeReason, RoundCommitment, StepRecord, TrainingSpec, Verdict,
};
use pogo_worker::{
    adversary::{FakeGradient, MinerAdversary, Noise},
    local_task::initial_state,
    roles::verifier::check::{check_round, CheckPlan, RoundData},
};
use std::{
    collections::BTreeSet,
    fmt::Write as _,
    io::Write as _,
    time::{Duration, Instant},
};
use tch::Device;

/// The simulator's randomness (SplitMix64): round seeds, relay randomness, fake placement.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn hash(&mut self) -> Hash {
        let mut h = [0u8; 32];
        for chunk in h.chunks_mut(8) {
            chunk.copy_from_slice(&self.next_u64().to_le_bytes());
        }
        h
    }
}

/// Command-line options.
struct Options {
    rounds: u32,
    honest: u32,
    out: String,
    seed: u64,
    eval: u32,
    kinds: Vec<FakeGradient>,
    steps: Vec<u32>,
    samples: Vec<u32>,
    verifiers: Vec<u32>,
    threads: usize,
}

fn list<T: std::str::FromStr>(s: &str) -> Vec<T> {
    s.split(',').map(|x| x.trim().parse().ok().expect("a comma-separated list of numbers")).collect()
}

fn kind_of(s: &str) -> FakeGradient {
    match s {
        "zero" => FakeGradient::Zero,
        "random" => FakeGradient::Random,
        "stale" => FakeGradient::Stale,
        "rescaled" => FakeGradient::Rescaled,
        _ => panic!("unknown kind {s:?}: zero, random, stale, rescaled"),
    }
}

fn kind_name(kind: Option<FakeGradient>) -> &'static str {
    match kind {
        None => "honest",
        Some(FakeGradient::Zero) => "zero",
        Some(FakeGradient::Random) => "random",
        Some(FakeGradient::Stale) => "stale",
        Some(FakeGradient::Rescaled) => "rescaled",
    }
}

fn options() -> Options {
    let mut o = Options {
        rounds: 100,
        honest: 0,
        out: "detection.csv".into(),
        seed: 1,
        eval: 64,
        kinds: vec![FakeGradient::Zero, FakeGradient::Random],
        steps: vec![10, 20],
        samples: vec![1, 2],
        verifiers: vec![1, 3],
        threads: 1,
    };
    let mut honest = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{a} needs a value"));
        match a.as_str() {
            "--rounds" => o.rounds = value().parse().expect("--rounds N"),
            "--honest" => honest = Some(value().parse().expect("--honest N")),
            "--out" => o.out = value(),
            "--seed" => o.seed = value().parse().expect("--seed S"),
            "--eval" => o.eval = value().parse().expect("--eval N"),
            "--kinds" => o.kinds = value().split(',').filter(|k| *k != "honest").map(kind_of).collect(),
            "--steps" => o.steps = list(&value()),
            "--samples" => o.samples = list(&value()),
            "--verifiers" => o.verifiers = list(&value()),
            "--threads" => o.threads = value().parse().expect("--threads N"),
            "--bench" => {}, // cargo passes it to examples run as benches
            other => panic!("unknown option {other}; see the example's doc comment"),
        }
    }
    o.honest = honest.unwrap_or(o.rounds);
    o
}

/// A built round: what a verifier fetches, kept to be handed to every verifier.
struct Round {
    spec: TrainingSpec,
    commitment: RoundCommitment,
    records: Vec<StepRecord>,
    round_seed: Hash,
    gradients: Vec<Vec<Vec<u8>>>,
    faked: Vec<u32>,
}

impl Round {
    fn data(&self, base: &ModelState) -> RoundData {
        RoundData {
            spec: self.spec,
            commitment: self.commitment.clone(),
            records: self.records.clone(),
            round_seed: self.round_seed,
            first_global_step: 1,
            base: base.clone(),
            gradients: self.gradients.clone(),
        }
    }
}

/// The fake a cheating miner commits for a faked step (as `roles::miner::train` does).
fn fake(kind: FakeGradient, honest: &Gradient, previous: Option<&Gradient>, seed: &Hash, step: u32) -> Vec<f32> {
    match kind {
        FakeGradient::Zero => vec![0.0; honest.values.len()],
        FakeGradient::Random => {
            let scale = honest.values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let mut salt = [0u8; 8];
            salt.copy_from_slice(&seed[..8]);
            let mut noise = Noise::new(u64::from(step) ^ u64::from_le_bytes(salt));
            honest.values.iter().map(|_| noise.next_signed() * scale).collect()
        },
        FakeGradient::Stale => previous.map(|p| p.values.clone()).unwrap_or_else(|| vec![0.0; honest.values.len()]),
        FakeGradient::Rescaled => honest.values.iter().map(|v| v * 1.5).collect(),
    }
}

/// The miner's round: `faked` steps commit `kind`'s fake, the rest the honest gradient.
fn build_round(
    engine: &Engine<AnyModel>,
    spec: TrainingSpec,
    base: &ModelState,
    eval_before: f32,
    round_seed: Hash,
    kind: Option<FakeGradient>,
    faked: Vec<u32>,
) -> Round {
    let mut builder = RoundBuilder::new(spec, base.weights.clone(), base.slots.clone(), 1).unwrap();
    let mut previous: Option<Gradient> = None;
    for step in 0..spec.steps_per_round {
        let honest = engine.step_gradient(builder.weights(), &round_seed, step).unwrap();
        let values = match kind {
            Some(kind) if faked.binary_search(&step).is_ok() => fake(kind, &honest, previous.as_ref(), &round_seed, step),
            _ => honest.values.clone(),
        };
        builder.step(&values, honest.loss).unwrap();
        previous = Some(Gradient { values, loss: honest.loss });
    }
    let eval_after = engine.eval_loss(builder.weights(), 1024).unwrap() as f32;
    let (commitment, _trace) = builder.commitment(eval_before, eval_after).unwrap();
    let records = builder.records();
    let gradients = (0..spec.steps_per_round).map(|s| builder.gradient_leaves(s).unwrap().to_vec()).collect();
    Round { spec, commitment, records, round_seed, gradients, faked }
}

/// One cell of the table: a (T, k, V, kind, m) configuration.
#[derive(Default)]
struct Cell {
    rounds: u32,
    /// Rounds with at least one `Negative` verdict.
    detected: u32,
    /// Rounds with at least one `BadGradient`.
    bad_gradient: u32,
    /// Rounds with at least one `NoProgress`.
    no_progress: u32,
    /// Rounds with at least one `InconsistentUpdate` (or another reason).
    other: u32,
    /// Rounds where some verifier's sample held a faked step.
    sampled: u32,
    /// Of those, rounds without a `BadGradient`: a faked step that the tolerance rule let through.
    slipped: u32,
    /// Verifier checks run, and their total time.
    checks: u32,
    check_time: Duration,
}

fn wilson(x: u32, n: u32) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let (x, n, z) = (f64::from(x), f64::from(n), 1.96f64);
    let p = x / n;
    let d = 1.0 + z * z / n;
    let c = (p + z * z / (2.0 * n)) / d;
    let h = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / d;
    ((c - h).max(0.0), (c + h).min(1.0))
}

fn main() {
    let o = options();
    pin_torch_settings(o.threads);
    let started = Instant::now();
    let (model, data, task_spec) = tasks::digits_task(None).expect("digits data: run scripts/setup.sh");
    let engine = Engine::new(AnyModel::Mlp(model), data, task_spec, Device::Cpu).unwrap();
    let base = initial_state(&task_spec, engine.model().as_model());
    let eval_before = engine.eval_loss(&base.weights, 1024).unwrap() as f32;
    let mut rng = Rng(o.seed);
    let mut submission = 0u64;

    let mut csv = String::from(
        "task,T,k,V,kind,fraction,faked,rounds,detected,rate,wilson_lo,wilson_hi,formula,within_interval,\
         bad_gradient_rounds,no_progress_rounds,other_negative_rounds,sampled_rounds,slipped_rounds,checks,check_ms_mean\n",
    );
    let mut table = String::from(
        "| T | k | V | kind | m (f) | rounds | detected | measured | Wilson 95 % | formula | in interval | BadGradient / NoProgress | sampled but passed |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let configs: Vec<(u32, u32)> = o.samples.iter().flat_map(|k| o.verifiers.iter().map(move |v| (*k, *v))).collect();

    for &t in &o.steps {
        let mut spec = task_spec;
        spec.steps_per_round = t;
        spec.checkpoint_interval = task_spec.checkpoint_interval.min(t);
        let fractions = [1.0 / f64::from(t), 0.1, 0.25, 0.5, 1.0];
        let mut seen = BTreeSet::new();
        let mut cases: Vec<(Option<FakeGradient>, f64)> = vec![(None, 0.0)];
        for &kind in &o.kinds {
            for &f in &fractions {
                let m = MinerAdversary::FakeSteps { fraction: f, kind }.faked_steps(t, 0).len();
                if seen.insert((kind_name(Some(kind)), m)) {
                    cases.push((Some(kind), f));
                }
            }
        }
        for (kind, fraction) in cases {
            let cell_started = Instant::now();
            let rounds = if kind.is_none() { o.honest } else { o.rounds };
            let mut cells: Vec<Cell> = configs.iter().map(|_| Cell::default()).collect();
            let mut m = 0u32;
            for _ in 0..rounds {
                let faked = match kind {
                    Some(kind) => MinerAdversary::FakeSteps { fraction, kind }.faked_steps(t, rng.next_u64()),
                    None => Vec::new(),
                };
                m = faked.len() as u32;
                let round = build_round(&engine, spec, &base, eval_before, rng.hash(), kind, faked);
                for (&(k, v), cell) in configs.iter().zip(cells.iter_mut()) {
                    submission += 1;
                    let challenge = challenge_seed(&rng.hash(), submission);
                    let sizes = SampleSizes { steps: k, leaves: 0, eval_examples: o.eval };
                    let (mut negative, mut bad, mut no_progress, mut other, mut sampled) = (false, false, false, false, false);
                    for i in 0..v {
                        let account = [u8::try_from(i + 1).unwrap_or(u8::MAX); 32];
                        let samples =
                            verifier_samples(&verifier_seed(&challenge, &account), &sizes, t, spec.leaf_count(), spec.eval_examples);
                        sampled |= samples.steps.iter().any(|s| round.faked.binary_search(s).is_ok());
                        let plan = CheckPlan {
                            steps: samples.steps,
                            eval_examples: samples.eval_examples,
                            tolerance: Tolerance::DEFAULT,
                            min_improvement_ppm: 0,
                        };
                        let t0 = Instant::now();
                        let report = check_round(&engine, round.data(&base), &plan, |_| {}).unwrap();
                        cell.check_time += t0.elapsed();
                        cell.checks += 1;
                        match report.verdict {
                            Verdict::Positive => {},
                            Verdict::Negative(reason) => {
                                negative = true;
                                match reason {
                                    NegativeReason::BadGradient { .. } => bad = true,
                                    NegativeReason::NoProgress => {
                                        no_progress = true;
                                        if let Some(e) = &report.eval {
                                            eprintln!(
                                                "NoProgress (T={t} {} faked {:?}, verifier {i}): sample of {}: before {:.5} (claimed {:.5}, bound {:.5}), after {:.5} (claimed {:.5}, bound {:.5})",
                                                kind_name(kind),
                                                round.faked,
                                                e.examples,
                                                e.before,
                                                e.claimed_before,
                                                e.bound_before,
                                                e.after,
                                                e.claimed_after,
                                                e.bound_after
                                            );
                                        }
                                    },
                                    _ => other = true,
                                }
                            },
                        }
                    }
                    cell.rounds += 1;
                    cell.detected += u32::from(negative);
                    cell.bad_gradient += u32::from(bad);
                    cell.no_progress += u32::from(no_progress);
                    cell.other += u32::from(other);
                    cell.sampled += u32::from(sampled);
                    cell.slipped += u32::from(sampled && !bad);
                }
            }
            for (&(k, v), cell) in configs.iter().zip(&cells) {
                let rate = f64::from(cell.detected) / f64::from(cell.rounds.max(1));
                let (lo, hi) = wilson(cell.detected, cell.rounds);
                let formula = 1.0 - miss_probability_all(t, m, k, v);
                let within = formula >= lo - 1e-12 && formula <= hi + 1e-12;
                let name = kind_name(kind);
                let mean_ms = cell.check_time.as_secs_f64() * 1e3 / f64::from(cell.checks.max(1));
                writeln!(
                    csv,
                    "digits,{t},{k},{v},{name},{fraction:.4},{m},{},{},{rate:.4},{lo:.4},{hi:.4},{formula:.4},{within},{},{},{},{},{},{},{mean_ms:.3}",
                    cell.rounds, cell.detected, cell.bad_gradient, cell.no_progress, cell.other, cell.sampled, cell.slipped, cell.checks
                )
                .unwrap();
                writeln!(
                    table,
                    "| {t} | {k} | {v} | {name} | {m} ({:.2}) | {} | {} | {rate:.3} | [{lo:.3}, {hi:.3}] | {formula:.3} | {} | {} / {} | {} |",
                    f64::from(m) / f64::from(t),
                    cell.rounds,
                    cell.detected,
                    if within { "yes" } else { "**no**" },
                    cell.bad_gradient,
                    cell.no_progress,
                    cell.slipped
                )
                .unwrap();
            }
            eprintln!(
                "T={t} {} m={m}: {rounds} rounds in {:.1} s (total {:.0} s)",
                kind_name(kind),
                cell_started.elapsed().as_secs_f64(),
                started.elapsed().as_secs_f64()
            );
        }
    }
    std::fs::File::create(&o.out).unwrap().write_all(csv.as_bytes()).unwrap();
    println!("{table}");
    println!(
        "digits task ({} parameters), eval sample {} per verifier, Tolerance::DEFAULT, seed {}, {} thread(s): {:.0} s; CSV in {}",
        task_spec.param_count,
        o.eval,
        o.seed,
        o.threads,
        started.elapsed().as_secs_f64(),
        o.out
    );
}
