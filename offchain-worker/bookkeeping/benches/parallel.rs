#![allow(missing_docs)] // criterion_group! generates undocumented functions
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark aborts on a failed call
//! The bookkeeping on all cores against the bandwidth bounds the issue sets as goals, on the state of the
//! 10.9 M-parameter byte GPT with AdamW (leaf 4096, codec block 64; 131 MB of state):
//!
//! | measured | bound | goal |
//! |---|---|---|
//! | state root (leaf bytes cut from the state, hashed, tree) | BLAKE3 `update_rayon` over the same bytes | ≥ 80 % |
//! | gradient root (the 4-bit leaves, hashed, tree) | BLAKE3 `update_rayon` over the same bytes | ≥ 80 % |
//! | quantize + pack (`quantize_into` a kept buffer) | `memcpy` of the f32 gradient on all cores, into a warm buffer | ≥ 50 % |
//! | exact AdamW update (the fused in-place pass, bit for bit `apply_step`) | the same AdamW as a plain f32 loop, all cores | ≥ 50 % |
//!
//! One run prints a table and one `summary:` line per ratio (name, value, unit, goal, met / not met) that a
//! script can read. Each ratio is the median over 31 pairs of runs, the bound then the measured code, of
//! the pair's ratio: this shared VM's speed drifts by tens of percent within seconds, and a pair shares it. It also prints `summary:` info lines, with goal `-` and status `info`, for the absolute
//! throughputs the cost model of `pogo-cost` needs (docs/cost-analysis.md): the run's parameter count and
//! thread count, state-root and gradient-root hashing (bytes/s), raw BLAKE3 `update_rayon` (bytes/s),
//! quantize + pack, dequantize, the exact AdamW update and the protocol's clipping norm (per-leaf f64 square
//! sums on the pool, 8 leaves interleaved per thread, combined in leaf order: `update::leaf_square_sum`,
//! `combine_leaf_sums`) (params/s, all cores), Merkle node hashes (`merkle::node_hash`, 64 bytes each, a
//! chain on one core, hashes/s) and one chain of dependent f64 additions on one core (the norm's serial
//! part, additions/s). A criterion group also times the gradient leaf hashes on one core: BLAKE3 one leaf
//! at a time against the SIMD lanes of `lanes.rs` on every instruction set the CPU has.
//! `POGO_BENCH_PARAMS=N` sets the parameter count (e.g. 100000000 for the ≥ 100 M configuration). Under
//! `cargo test` (criterion's test mode) it runs once on 100 k parameters.

use criterion::{criterion_group, criterion_main, Criterion};
use pogo_bookkeeping::{
    codec::{dequantize_leaf, Simd},
    lanes::{keyed_hashes_on, Prefetch},
    norm::{leaf_square_sums, SUM_LANES},
    quantize, quantize_into, tree_of_leaves, ParallelRound,
};
use pogo_primitives::{
    hash::MERKLE_LEAF_KEY,
    merkle::node_hash,
    spec::{LrSchedule, StepScalars, TrainingSpec, UpdateRule},
    state::leaf_bytes,
    update::{clipping_factor, combine_leaf_sums},
};
use std::{hint::black_box, time::Instant};

fn spec(params: u64) -> TrainingSpec {
    TrainingSpec {
        model: [1; 32],
        param_count: params,
        leaf_size: 4096,
        codec_block: 64,
        rule: UpdateRule::AdamW {
            beta1: 0.9f32.to_bits(),
            beta2: 0.999f32.to_bits(),
            epsilon: 1e-8f32.to_bits(),
            weight_decay: 0.1f32.to_bits(),
        },
        schedule: LrSchedule::Constant { lr: 3e-4f32.to_bits() },
        max_grad_norm: 1.0f32.to_bits(),
        steps_per_round: 4,
        checkpoint_interval: 4,
        batch_size: 32,
        train_examples: 1000,
        eval_examples: 100,
    }
}

/// The median of `reps` timed runs of `f`, in seconds.
fn median<T>(reps: usize, mut f: impl FnMut() -> T) -> f64 {
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

/// `bound` and `measured` timed alternately `pairs` times: the median time of each, and the median of the
/// per-pair ratios `bound / measured`.
fn paired<A, B>(pairs: usize, mut bound: impl FnMut() -> A, mut measured: impl FnMut() -> B) -> (f64, f64, f64) {
    let (mut tb, mut tm, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..pairs {
        let t = Instant::now();
        black_box(bound());
        let b = t.elapsed().as_secs_f64();
        let t = Instant::now();
        black_box(measured());
        let m = t.elapsed().as_secs_f64();
        tb.push(b);
        tm.push(m);
        ratios.push(b / m);
    }
    let mid = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    (mid(tb), mid(tm), mid(ratios))
}

/// AdamW as anyone would write it: one pass, f32, every core; the bound for the exact update.
fn plain_adamw(w: &mut [f32], m: &mut [f32], v: &mut [f32], g: &[f32]) {
    use rayon::prelude::*;
    let (lr, b1, b2, eps, wd) = (3e-4f32, 0.9f32, 0.999f32, 1e-8f32, 0.1f32);
    w.par_chunks_mut(4096).zip(m.par_chunks_mut(4096)).zip(v.par_chunks_mut(4096)).zip(g.par_chunks(4096)).for_each(
        |(((w, m), v), g)| {
            for (((w, m), v), g) in w.iter_mut().zip(m.iter_mut()).zip(v.iter_mut()).zip(g) {
                *m = b1 * *m + (1.0 - b1) * g;
                *v = b2 * *v + (1.0 - b2) * g * g;
                *w = *w * (1.0 - lr * wd) - lr * *m / (v.sqrt() + eps);
            }
        },
    );
}

fn benches(c: &mut Criterion) {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let params: u64 = std::env::var("POGO_BENCH_PARAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if bench_mode { 10_900_000 } else { 100_000 });
    let reps = if bench_mode { 7 } else { 1 };
    let s = spec(params);
    let p = params as usize;
    let g: Vec<f32> = (0..p).map(|i| ((i.wrapping_mul(2_654_435_761) % 2001) as f32 - 1000.0) * 1e-5).collect();
    let weights: Vec<f32> = g.iter().map(|x| x * 100.0).collect();
    let mut round = ParallelRound::new(s, weights.clone(), vec![vec![0.0; p], vec![1e-8; p]], 1).unwrap();
    let scalars = StepScalars {
        learning_rate: 3e-4f32.to_bits(),
        gradient_scale: 1.0f32.to_bits(),
        bias_correction1: 10.0f32.to_bits(),
        bias_correction2: 1000.0f32.to_bits(),
    };
    let slot_refs: Vec<&[f32]> = round.slots().iter().map(|x| x.as_slice()).collect();
    let state_bytes: Vec<u8> = (0..s.leaf_count()).flat_map(|i| leaf_bytes(&s, round.weights(), &slot_refs, i).unwrap()).collect();
    drop(slot_refs);
    let gradient_leaves: Vec<Vec<u8>> = g.chunks(4096).map(|l| quantize(l, 64).unwrap()).collect();
    let gradient_bytes: Vec<u8> = gradient_leaves.concat();

    let mut group = c.benchmark_group(format!("bookkeeping on {} threads, {params} params", rayon::current_num_threads()));
    group.sample_size(10);
    group.bench_function("state root", |b| b.iter(|| round.state_tree().unwrap().root()));
    // Into a kept buffer, as the bound copies into one (`quantize_into`).
    let mut codes = vec![0u8; gradient_bytes.len()];
    group.bench_function("quantize+pack", |b| b.iter(|| quantize_into(black_box(&g), 64, &mut codes).unwrap()));
    group.finish();

    // The leaf hashes alone, on one core: BLAKE3 one leaf at a time against the lanes of each path.
    let leaf_refs: Vec<&[u8]> = gradient_leaves.iter().map(Vec::as_slice).collect();
    let mut lanes_group = c.benchmark_group(format!("gradient leaf hashes, one core, {} leaves", leaf_refs.len()));
    lanes_group.throughput(criterion::Throughput::Bytes(gradient_bytes.len() as u64));
    lanes_group.sample_size(10);
    lanes_group.bench_function("blake3, one leaf at a time", |b| {
        b.iter(|| leaf_refs.iter().map(|l| blake3::keyed_hash(&MERKLE_LEAF_KEY, l)).collect::<Vec<_>>())
    });
    for simd in Simd::available() {
        let prefetch = Prefetch::for_input_bytes(gradient_bytes.len());
        lanes_group.bench_function(format!("lanes, {simd:?}"), |b| b.iter(|| keyed_hashes_on(simd, prefetch, &MERKLE_LEAF_KEY, &leaf_refs)));
    }
    lanes_group.finish();

    // The ratios: bound and measured timed alternately, `pairs` times, and the median of the per-pair
    // ratios (this VM's speed drifts by tens of percent over seconds; a pair shares the drift).
    let pairs = if bench_mode { 31 } else { 1 };
    let (t_raw_state, t_state, r_state) =
        paired(pairs, || blake3::Hasher::new().update_rayon(&state_bytes).finalize(), || round.state_tree().unwrap().root());
    let (t_raw_grad, t_grad, r_grad) = paired(
        pairs,
        || blake3::Hasher::new().update_rayon(&gradient_bytes).finalize(),
        || tree_of_leaves(&gradient_leaves).unwrap().root(),
    );
    let mut copy = vec![0.0f32; p];
    // The bound on every core, as the quantizer runs: the same 64 KiB pieces, one copy each.
    let (t_memcpy, t_quant, r_quant) = paired(
        pairs,
        || {
            use rayon::prelude::*;
            copy.par_chunks_mut(16_384).zip(black_box(&g).par_chunks(16_384)).for_each(|(d, s)| d.copy_from_slice(s))
        },
        || quantize_into(&g, 64, &mut codes).unwrap(),
    );
    let (mut w2, mut m2, mut v2) = (weights.clone(), vec![0.0f32; p], vec![1e-8f32; p]);
    let (t_plain, t_exact, r_exact) =
        paired(pairs, || plain_adamw(&mut w2, &mut m2, &mut v2, &g), || round.apply(&scalars, &g).unwrap());
    let t_dequant = median(reps, || dequantize_leaves(&gradient_leaves, p));
    let t_norm = median(reps, || {
        use rayon::prelude::*;
        let sums: Vec<f64> = black_box(&g)
            .par_chunks(4096 * SUM_LANES)
            .flat_map_iter(|group| leaf_square_sums(&group.chunks(4096).collect::<Vec<_>>()))
            .collect();
        clipping_factor(1.0, combine_leaf_sums(sums))
    });
    // The clipping norm's serial part: one chain of dependent f64 additions on one core.
    let t_chain = median(reps, || combine_leaf_sums(black_box(&g).iter().map(|&x| f64::from(x))));
    let node_hashes = 1_000_000usize;
    let t_nodes = median(reps, || (0..node_hashes).fold([0u8; 32], |acc, _| node_hash(black_box(&acc), &acc)));
    let gb = |bytes: usize, t: f64| bytes as f64 / t / 1e9;
    println!("\nbookkeeping, {params} parameters, AdamW, {} threads", rayon::current_num_threads());
    println!("{:<50} {:>10} {:>12}", "", "time (ms)", "GB/s");
    for (name, bytes, t) in [
        ("BLAKE3 update_rayon over the state bytes", state_bytes.len(), t_raw_state),
        ("state root (parallel)", state_bytes.len(), t_state),
        ("BLAKE3 update_rayon over the gradient bytes", gradient_bytes.len(), t_raw_grad),
        ("gradient root (parallel)", gradient_bytes.len(), t_grad),
        ("memcpy of the f32 gradient (parallel, warm buffer)", p * 4, t_memcpy),
        ("quantize+pack (parallel)", p * 4, t_quant),
        ("plain f32 AdamW (parallel)", p * 16, t_plain),
        ("exact AdamW, fused in place (parallel)", p * 16, t_exact),
        ("dequantize, per leaf (parallel)", p * 4, t_dequant),
        ("clipping norm, f64 per leaf (parallel)", p * 4, t_norm),
    ] {
        println!("{name:<50} {:>10.2} {:>12.2}", t * 1e3, gb(bytes, t));
    }
    for (name, ratio, goal) in [
        ("state_root_vs_blake3", r_state, 0.8),
        ("gradient_root_vs_blake3", r_grad, 0.8),
        ("quantize_vs_memcpy", r_quant, 0.5),
        ("exact_update_vs_plain_loop", r_exact, 0.5),
    ] {
        println!("summary: {name} {ratio:.3} ratio >={goal} {}", if ratio >= goal { "met" } else { "not-met" });
    }
    // The absolute throughputs, for the cost model (pogo-cost): goal `-`, status `info`.
    let per_s = |amount: usize, t: f64| amount as f64 / t;
    for (name, value, unit) in [
        ("bench_params", p as f64, "params"),
        ("bench_threads", rayon::current_num_threads() as f64, "threads"),
        ("state_root_throughput", per_s(state_bytes.len(), t_state), "bytes/s"),
        ("gradient_root_throughput", per_s(gradient_bytes.len(), t_grad), "bytes/s"),
        ("blake3_throughput", per_s(state_bytes.len(), t_raw_state), "bytes/s"),
        ("quantize_throughput", per_s(p, t_quant), "params/s"),
        ("dequantize_throughput", per_s(p, t_dequant), "params/s"),
        ("exact_adamw_throughput", per_s(p, t_exact), "params/s"),
        ("clipping_norm_throughput", per_s(p, t_norm), "params/s"),
        ("merkle_node_hash_throughput", per_s(node_hashes, t_nodes), "hashes/s"),
        ("f64_chain_throughput", per_s(p, t_chain), "additions/s"),
    ] {
        println!("summary: {name} {value:.4e} {unit} - info");
    }
}

/// Every gradient leaf dequantized on the rayon pool, as a verifier's replay does before the update.
fn dequantize_leaves(leaves: &[Vec<u8>], params: usize) -> usize {
    use rayon::prelude::*;
    leaves
        .par_iter()
        .enumerate()
        .map(|(i, leaf)| dequantize_leaf(leaf, 4096.min(params - i * 4096), 64).unwrap().len())
        .sum()
}

criterion_group!(parallel_benches, benches);
criterion_main!(parallel_benches);
