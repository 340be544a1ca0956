#![allow(missing_docs)] // criterion_group! generates undocumented functions
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark aborts on a failed call
//! Bookkeeping throughput per backend, on one leaf-sized and one model-sized vector (1 Mi parameters):
//! quantize+pack and the fused dequantize + AdamW step, against `memcpy` of the same f32 bytes (the
//! bandwidth bound). The GPU group runs when a CUDA device is present and prints
//! `skipped: no CUDA device` otherwise. GPU timings include the host<->device copies of the generic
//! [`Bookkeeping`] calls; `resident step` is the miner's path, with only the gradient going up and the
//! 4-bit codes coming back.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pogo_cuda::{Bookkeeping, CpuBookkeeper, CudaBookkeeper};
use pogo_primitives::{
    spec::{StepScalars, UpdateRule},
    state::StateLeaf,
};
use std::{hint::black_box, time::Duration};

const N: usize = 1 << 20;
const BLOCK: usize = 64;

fn inputs() -> (Vec<f32>, UpdateRule, StepScalars, StateLeaf) {
    let g: Vec<f32> = (0..N).map(|i| ((i.wrapping_mul(2_654_435_761) % 2001) as f32 - 1000.0) * 1e-4).collect();
    let rule = UpdateRule::AdamW {
        beta1: 0.9f32.to_bits(),
        beta2: 0.999f32.to_bits(),
        epsilon: 1e-8f32.to_bits(),
        weight_decay: 0.1f32.to_bits(),
    };
    let s = StepScalars {
        learning_rate: 1e-3f32.to_bits(),
        gradient_scale: 1.0f32.to_bits(),
        bias_correction1: 10.0f32.to_bits(),
        bias_correction2: 1000.0f32.to_bits(),
    };
    let leaf = StateLeaf { n: N, values: (0..3 * N).map(|i| if i < N { g[i] * 10.0 } else { 1e-6 }).collect() };
    (g, rule, s, leaf)
}

fn bench_backend(c: &mut Criterion, label: &str, b: &dyn Bookkeeping) {
    let (g, rule, s, leaf) = inputs();
    let codes = CpuBookkeeper.quantize(&g, BLOCK).unwrap();
    let mut group = c.benchmark_group(format!("bookkeeping 1Mi/{label}"));
    group.sample_size(10).warm_up_time(Duration::from_millis(300)).measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Bytes((N * 4) as u64));
    group.bench_function("memcpy f32 (bound)", |bn| bn.iter(|| black_box(g.clone())));
    group.bench_function("quantize+pack", |bn| bn.iter(|| b.quantize(black_box(&g), BLOCK).unwrap()));
    group.bench_function("dequantize+AdamW", |bn| {
        bn.iter_batched(
            || leaf.clone(),
            |mut l| {
                b.apply_step(&rule, &s, &mut l, &codes, BLOCK).unwrap();
                l
            },
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_backend(c, "cpu", &CpuBookkeeper);
    match CudaBookkeeper::open(0) {
        Ok(gpu) => {
            eprintln!("bookkeeping on {:?}", gpu.info());
            bench_backend(c, "cuda", &gpu);
            let (g, rule, s, leaf) = inputs();
            let mut resident = gpu.upload_leaf(&rule, &leaf).unwrap();
            let mut group = c.benchmark_group("bookkeeping 1Mi/cuda");
            group.throughput(Throughput::Bytes((N * 4) as u64));
            group.bench_function("resident step (quantize + AdamW, codes back)", |bn| {
                bn.iter(|| gpu.step_resident(&rule, &s, &mut resident, black_box(&g), BLOCK).unwrap())
            });
            group.finish();
        },
        Err(e) => eprintln!("bookkeeping on cuda: skipped: no CUDA device ({e})"),
    }
}

criterion_group!(kernel_benches, benches);
criterion_main!(kernel_benches);
