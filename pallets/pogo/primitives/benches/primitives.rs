//! Measurements behind the protocol's choices (docs/protocol.md, "Hash and leaf size"):
//! * leaf hashing: BLAKE3 (keyed) vs BLAKE2b-256 for leaves of 1,024 / 4,096 / 16,384 parameters
//!   (AdamW leaves: 3 f32 values per parameter);
//! * state root of a 1M-parameter model: pogo's binary BLAKE3 tree vs BLAKE2-256 binary tree vs
//!   sp-trie's 16-ary Patricia trie (LayoutV1, BLAKE2-256);
//! * 4-bit quantization and one AdamW step per leaf.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use blake2::{digest::consts::U32, Blake2b, Digest};
use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pogo_primitives::{
    merkle::{leaf_hash, node_hash, root_of_leaf_hashes},
    quant::quantize,
    spec::{StepScalars, UpdateRule},
    state::StateLeaf,
    update::apply_step,
};
use polkadot_sdk::{sp_core::Blake2Hasher, sp_trie::LayoutV1};
use polkadot_sdk::sp_trie::TrieConfiguration;

fn blake2_256(data: &[u8]) -> [u8; 32] {
    let mut h = Blake2b::<U32>::new();
    h.update(data);
    h.finalize().into()
}

fn values(n: usize) -> Vec<u8> {
    (0..n).flat_map(|i| ((i as f32) * 0.001).to_le_bytes()).collect()
}

fn leaf_hashing(c: &mut Criterion) {
    let mut g = c.benchmark_group("leaf_hash");
    for params in [1024usize, 4096, 16384] {
        let bytes = values(params * 3);
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_with_input(BenchmarkId::new("blake3", params), &bytes, |b, d| b.iter(|| leaf_hash(black_box(d))));
        g.bench_with_input(BenchmarkId::new("blake2b_256", params), &bytes, |b, d| b.iter(|| blake2_256(black_box(d))));
    }
    g.finish();
}

fn state_root(c: &mut Criterion) {
    const PARAMS: usize = 1 << 20;
    const LEAF: usize = 4096;
    let model = values(PARAMS * 3); // AdamW: weights, m, v
    let leaves: Vec<&[u8]> = model.chunks(LEAF * 3 * 4).collect();
    let mut g = c.benchmark_group("state_root_1M_params_adamw");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(model.len() as u64));
    g.bench_function("pogo_binary_blake3", |b| {
        b.iter(|| root_of_leaf_hashes(&leaves.iter().map(|l| leaf_hash(l)).collect::<Vec<_>>()).unwrap())
    });
    g.bench_function("binary_blake2b_256", |b| {
        b.iter(|| {
            let mut level: Vec<[u8; 32]> = leaves.iter().map(|l| blake2_256(l)).collect();
            while level.len() > 1 {
                level = level
                    .chunks(2)
                    .map(|p| if p.len() == 2 { blake2_256(&[p[0], p[1]].concat()) } else { p[0] })
                    .collect();
            }
            level[0]
        })
    });
    g.bench_function("sp_trie_16ary_blake2", |b| {
        b.iter(|| {
            LayoutV1::<Blake2Hasher>::trie_root(
                leaves.iter().enumerate().map(|(i, l)| ((i as u64).to_be_bytes(), l.to_vec())),
            )
        })
    });
    g.finish();
    // keep node_hash linked for the node-cost line below
    c.bench_function("merkle_node_hash", |b| b.iter(|| node_hash(black_box(&[1; 32]), black_box(&[2; 32]))));
}

fn codec_and_update(c: &mut Criterion) {
    let n = 4096usize;
    let grad: Vec<f32> = (0..n).map(|i| ((i * 7919 % 2003) as f32 - 1000.0) * 1e-4).collect();
    let mut g = c.benchmark_group("per_leaf_4096");
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function("quantize_int4_block64", |b| b.iter(|| quantize(black_box(&grad), 64).unwrap()));
    let rule = UpdateRule::AdamW {
        beta1: 0.9f32.to_bits(),
        beta2: 0.999f32.to_bits(),
        epsilon: 1e-8f32.to_bits(),
        weight_decay: 0.01f32.to_bits(),
    };
    let scalars = StepScalars {
        learning_rate: 1e-3f32.to_bits(),
        gradient_scale: 1.0f32.to_bits(),
        bias_correction1: 10.0f32.to_bits(),
        bias_correction2: 1000.0f32.to_bits(),
    };
    let leaf = StateLeaf { n, values: vec![0.01; 3 * n] };
    g.bench_function("adamw_step", |b| {
        b.iter_batched(|| leaf.clone(), |mut l| apply_step(&rule, &scalars, &mut l, &grad).unwrap(), criterion::BatchSize::SmallInput)
    });
    g.finish();
}

criterion_group!(benches, leaf_hashing, state_root, codec_and_update);
criterion_main!(benches);
