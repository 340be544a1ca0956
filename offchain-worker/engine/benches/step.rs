#![allow(missing_docs)] // criterion_group! generates undocumented functions
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark aborts on a failed step
//! One PoGO round of 4 steps (batch from the seed, forward/backward, gradient to the CPU, 4-bit codec,
//! exact AdamW, gradient and checkpoint Merkle trees, base state tree) against the same 4 steps in a
//! plain tch loop (libtorch AdamW on the device, no commitments). Models: the digits MLP (9,610
//! parameters), the small byte GPT (136,960) and a 10.9 M-parameter byte GPT (context 128, width 384,
//! 6 blocks), on the CPU with 2 threads and the pinned settings. Needs the default data (scripts/setup.sh).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use pogo_primitives::{builder::RoundBuilder, spec::TrainingSpec};
use pogo_engine::{measure::PlainTrainer, model::{GptConfig, Model}, pin_torch_settings, tasks, Engine};
use std::time::Duration;
use tch::Device;

const STEPS: u32 = 4;

fn round_spec(mut spec: TrainingSpec, batch: u32) -> TrainingSpec {
    spec.steps_per_round = STEPS;
    spec.checkpoint_interval = STEPS;
    spec.batch_size = batch;
    spec
}

fn bench_model<M: Model>(c: &mut Criterion, label: &str, engine: Engine<M>) {
    let spec = *engine.spec();
    let w0 = engine.model().layout().init(&[1; 32]);
    let mut group = c.benchmark_group(format!("round of {STEPS} steps/{label}"));
    group.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(5));
    group.bench_function("plain tch AdamW", |b| {
        b.iter_batched(
            || PlainTrainer::new(&engine, &w0, 1e-3).unwrap(),
            |mut t| {
                for s in 0..STEPS {
                    t.step(&engine.batch_indices(&[2; 32], s)).unwrap();
                }
                t
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("PoGO (commitments, exact update)", |b| {
        b.iter_batched(
            || (w0.clone(), vec![vec![0.0f32; w0.len()]; spec.rule.slots()]),
            |(w, slots)| {
                let mut builder = RoundBuilder::new(spec, w, slots, 1).unwrap();
                for s in 0..STEPS {
                    engine.step(&mut builder, &[2; 32], s).unwrap();
                }
                builder.commitment(1.0, 0.5).unwrap()
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    pin_torch_settings(2);
    let (m, d, s) = tasks::digits_task(None).expect("digits data: run scripts/setup.sh");
    bench_model(c, "mlp-digits 9.6k", Engine::new(m, d, round_spec(s, 32), Device::Cpu).unwrap());
    let (m, d, s) = tasks::text_task(None, GptConfig::SMALL).expect("Shakespeare data: run scripts/setup.sh");
    bench_model(c, "gpt-bytes 0.14M", Engine::new(m, d, round_spec(s, 16), Device::Cpu).unwrap());
    let (m, d, s) = tasks::text_task(None, GptConfig::BENCH_10M).expect("Shakespeare data");
    bench_model(c, "gpt-bytes 10.9M", Engine::new(m, d, round_spec(s, 8), Device::Cpu).unwrap());
}

criterion_group!(step, benches);
criterion_main!(step);
