#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! The formulas against values worked out by hand from docs/protocol.md, and against the protocol code.

use codec::Encode;
use pogo_cost::{
    cost::{self, NodeRates, RoundPlan, Workload},
    measured::CpuConstants,
    sizes::{adamw_spec, checkpoint_interval, proof_bytes, tree_depth, OnChainSizes, RoundSizes, StepSizes},
    stated::Stated,
};
use pogo_primitives::{detection, quant, state, MerkleProof, MerkleTree};

/// 10,000 parameters, leaf 4096, block 64, AdamW: leaves of 4096, 4096 and 1808 parameters.
fn small() -> StepSizes {
    StepSizes::of(&adamw_spec(10_000, 4096, 1, 1).unwrap()).unwrap()
}

#[test]
fn step_sizes_of_a_small_spec_by_hand() {
    let s = small();
    // Section 4: ceil(10,000 / 4096) = 3 leaves; 4·n·(1 + 2) bytes each.
    assert_eq!(s.tree.leaves, 3);
    assert_eq!(s.state_leaf_bytes, 4 * 4096 * 3);
    assert_eq!(s.state_bytes, 2 * 49_152 + 4 * 1808 * 3);
    assert_eq!(s.state_bytes, 12 * 10_000);
    // Section 6: a full leaf is 64 blocks of 4 + 32 bytes; the last leaf of 1808 = 28·64 + 16 values is
    // 28 blocks of 36 bytes and one of 4 + 8.
    assert_eq!(s.gradient_leaf_bytes, 2304);
    assert_eq!(s.gradient_bytes, 2 * 2304 + 28 * 36 + 4 + 8);
    // Section 5: depth ceil(log2 3) = 2, proof 8 + 8 + 1 + 2·32.
    assert_eq!(s.tree.depth, 2);
    assert_eq!(s.tree.proof_bytes, 81);
    assert!((s.gradient_bits_per_param() - 8.0 * 5628.0 / 10_000.0).abs() < 1e-12);
}

#[test]
fn leaf_lengths_are_those_of_the_real_leaves() {
    let spec = adamw_spec(10_000, 4096, 1, 1).unwrap();
    let weights: Vec<f32> = (0..10_000).map(|i| i as f32 * 1e-3).collect();
    let slots = [weights.clone(), weights.clone()];
    let slot_refs: Vec<&[f32]> = slots.iter().map(Vec::as_slice).collect();
    let state_total: usize = (0..3).map(|i| state::leaf_bytes(&spec, &weights, &slot_refs, i).unwrap().len()).sum();
    let gradient_total: usize = weights.chunks(4096).map(|leaf| quant::quantize(leaf, 64).unwrap().len()).sum();
    let s = small();
    assert_eq!(state_total as u64, s.state_bytes);
    assert_eq!(gradient_total as u64, s.gradient_bytes);
}

#[test]
fn proof_sizes_match_the_protocol_bound_and_real_proofs() {
    for leaves in [1u64, 2, 3, 5, 8, 9, 1000, 42_724_610] {
        assert_eq!(proof_bytes(leaves), MerkleProof::max_encoded_len_for(leaves), "{leaves} leaves");
        assert_eq!(u64::from(tree_depth(leaves)), (proof_bytes(leaves) - 17) / 32);
    }
    // A real tree: leaf 0 has a full path.
    for n in [2usize, 3, 5, 9, 33] {
        let leaves: Vec<Vec<u8>> = (0..n).map(|i| vec![i as u8; 3]).collect();
        let tree = MerkleTree::from_leaves(leaves.iter().map(Vec::as_slice)).unwrap();
        assert_eq!(tree.proof(0).unwrap().encoded_size() as u64, proof_bytes(n as u64), "{n} leaves");
    }
}

#[test]
fn round_sizes_by_hand() {
    // T = 10, c = 4: checkpoints after steps 3, 7 and 9 (section 8).
    let r = RoundSizes::of(&adamw_spec(10_000, 4096, 10, 4).unwrap());
    assert_eq!(r.checkpoints, 3);
    assert_eq!(r.trace_bytes, 7 * 57 + 3 * 89);
    assert_eq!(r.trace.depth, 4);
    assert_eq!(r.first_segment_steps, 4);
    // Segments of 4, 4 and 2 steps: offsets 0+1+2+3, 0+1+2+3, 0+1 over 10 steps.
    assert!((r.mean_offset_in_segment - 13.0 / 10.0).abs() < 1e-12);
}

#[test]
fn checkpoint_interval_follows_the_fraud_bound_of_section_15() {
    // The worked example of section 15: 10⁹ parameters, T = 10,000 give c ≤ 274 under 1 MiB.
    assert_eq!(checkpoint_interval(1_000_000_000, 4096, 10_000, u32::MAX, 1 << 20).unwrap(), 274);
    assert_eq!(checkpoint_interval(1_000_000_000, 4096, 10_000, 100, 1 << 20).unwrap(), 100);
    assert_eq!(checkpoint_interval(1_000_000_000, 4096, 50, u32::MAX, 1 << 20).unwrap(), 50);
    assert!(checkpoint_interval(1_000_000_000, 4096, 10_000, u32::MAX, 1000).is_err());
}

#[test]
fn on_chain_sizes_by_hand() {
    // Sections 8 and 12: TaskId u32, RoundCommitment 108 bytes, locator compact(32) + 32; SubmissionId u64,
    // hashes of 32 bytes; Positive is 1 byte, Negative(BadGradient { step }) 6.
    let s = OnChainSizes::new(32);
    assert_eq!(s.round_commitment, 108);
    assert_eq!(s.submit_round, 4 + 108 + 1 + 32);
    assert_eq!(s.commit_verdict, 40);
    assert_eq!(s.reveal_positive, 41);
    assert_eq!(s.reveal_largest, 46);
    assert_eq!(s.per_round(5), (145 + 2) + 5 * ((40 + 2) + (41 + 2)));
    // A locator of 64 bytes needs a 2-byte compact length.
    assert_eq!(OnChainSizes::new(64).locator, 66);
}

#[test]
fn detection_formulas() {
    // One faked step of T, k distinct samples, V verifiers: miss = (1 − k/T)^V.
    let miss = cost::faked_steps_miss(1000, 1, 4, 5);
    assert!((miss - (1.0f64 - 4.0 / 1000.0).powi(5)).abs() < 1e-15);
    // The leaf form agrees with the protocol's step form where both apply.
    for (n, bad, k, v) in [(100u32, 2u32, 2u32, 1u32), (1000, 10, 4, 5), (50, 50, 1, 3), (10, 0, 3, 2)] {
        let ours = cost::miss_probability_all(u64::from(n), u64::from(bad), u64::from(k), v);
        assert!((ours - detection::miss_probability_all(n, bad, k, v)).abs() < 1e-15);
    }
    // One tampered leaf of 100, 10 replayed leaves: missed with 90/100.
    assert!((cost::tampered_leaves_miss(100, 0.0, 10, 1) - 0.9).abs() < 1e-15);
    // F = ceil(f·N) leaves; the approximation (1 − f)^(V·k_l).
    assert!((cost::tampered_leaves_miss(1000, 0.0105, 1, 1) - (1.0 - 11.0 / 1000.0)).abs() < 1e-15);
    assert!((cost::tampered_leaves_miss_approx(0.01, 100.0) - 0.99f64.powi(100)).abs() < 1e-15);
}

fn rates() -> NodeRates {
    NodeRates {
        flops: 1e15,
        download: 1e9,
        cores: 100.0,
        state_root: 1e11,
        gradient_root: 5e10,
        quantize: 1e11,
        dequantize: 2e11,
        exact_adamw: 4e11,
        node_hash: 1e8,
        clipping_norm_leaf_sums: 8e10,
        leaf_sum_combine: 1e9,
    }
}

#[test]
fn miner_and_full_replay_by_hand() {
    let sizes = small();
    let (p, s, g) = (10_000.0, sizes.state_bytes as f64, sizes.gradient_bytes as f64);
    let w = Workload { sizes, tokens_per_step: 1000.0, eval_tokens: 10.0 };
    let round = RoundSizes::of(&adamw_spec(10_000, 4096, 10, 4).unwrap());
    let plan =
        RoundPlan { round: round.clone(), sampled_steps: 2, replay_leaves: 1, eval_examples: 3, opened_leaves: 0 };
    let n = rates();
    let train = 6.0 * p * 1000.0 / 1e15;
    let miner = cost::miner(&w, &plan, &n);
    assert!((miner.gpu - 10.0 * train).abs() < 1e-18);
    // Bookkeeping plus the norm's leaf sums on all cores; only adding the 3 leaf sums is serial.
    let book = p / 1e11 + p / 2e11 + p / 4e11 + g / 5e10 + p / 8e10;
    assert!((miner.cpu - (10.0 * book + 3.0 * s / 1e11)).abs() < 1e-15);
    assert!((miner.serial - 10.0 * 3.0 / 1e9).abs() < 1e-18);
    let full = cost::full_replay(&w, &plan, &n);
    let eval = 2.0 * 3.0 * 2.0 * p * 10.0 / 1e15;
    assert!((full.gpu - (2.0 * train + eval)).abs() < 1e-18);
    let bytes = s + 10.0 * g + round.trace_bytes as f64;
    assert!((full.download_bytes - bytes).abs() < 1e-9);
    assert!((full.network - bytes / 1e9).abs() < 1e-15);
    let replay = g / 5e10 + p / 2e11 + p / 4e11 + p / 8e10;
    let cpu = s / 1e11 + 10.0 * replay + 3.0 * s / 1e11 + 2.0 * p / 2e11 + 19.0 / 1e8;
    assert!((full.cpu - cpu).abs() < 1e-15);
    assert!((full.serial - miner.serial).abs() < 1e-18);
    // Wall time: everything but the serial addition of the leaf sums divides among nodes.
    assert!((miner.wall(2.0) - ((miner.gpu + miner.cpu) / 2.0 + miner.serial)).abs() < 1e-15);
}

#[test]
fn sampled_replay_by_hand() {
    let sizes = small();
    let (p, s, g) = (10_000.0, sizes.state_bytes as f64, sizes.gradient_bytes as f64);
    let (gl, sl, proof) =
        (sizes.gradient_leaf_bytes as f64, sizes.state_leaf_bytes as f64, sizes.tree.proof_bytes as f64);
    let w = Workload { sizes, tokens_per_step: 1000.0, eval_tokens: 10.0 };
    let round = RoundSizes::of(&adamw_spec(10_000, 4096, 10, 4).unwrap());
    let plan =
        RoundPlan { round: round.clone(), sampled_steps: 2, replay_leaves: 1, eval_examples: 3, opened_leaves: 0 };
    let b = cost::sampled_replay(&w, &plan, &rates());
    // q = 6/10 of the steps lie outside segment 0; d = 1.3 steps from a segment's start on average.
    let (q, d) = (0.6, 1.3);
    // One sampled leaf: 10 gradient leaves and 3 + 1 segment boundaries (base included), with proofs.
    let openings = 10.0 * (gl + proof) + 4.0 * (sl + proof);
    let bytes = 2.0 * s + 2.0 * (q * s + (d + 1.0) * g) + openings + round.trace_bytes as f64;
    assert!((b.download_bytes - bytes).abs() < 1e-6);
    // Only the two sampled steps' clipping factors: their leaf sums on all cores, 3 serial additions each.
    assert!((b.serial - 2.0 * 3.0 / 1e9).abs() < 1e-18);
    let leaf_step = 4096.0 / 2e11 + 4096.0 / 4e11 + gl / 5e10;
    // (10 + 4) openings at depth 2, 10 records at trace depth 4, the trace rebuilt (2·10 − 1).
    let hashes = 14.0 * 2.0 + 10.0 * 4.0 + 19.0;
    let replay = g / 5e10 + p / 2e11 + p / 4e11;
    let cpu = 2.0 * s / 1e11
        + 2.0 * (q * s / 1e11 + d * replay + g / 5e10)
        + 2.0 * p / 2e11
        + 10.0 * leaf_step
        + hashes / 1e8
        + 2.0 * p / 8e10;
    assert!((b.cpu - cpu).abs() < 1e-15);
    let full = cost::full_replay(&w, &plan, &rates());
    assert!((b.gpu - full.gpu).abs() < 1e-18);
}

#[test]
fn the_norm_leaf_sums_scale_with_cores_and_only_their_addition_is_serial() {
    let stated_text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/measured/stated.toml")).unwrap();
    let stated = Stated::parse(&stated_text).unwrap();
    let cpu = CpuConstants {
        bench_params: 1e7,
        threads: 2.0,
        state_root: 6e9,
        gradient_root: 2e9,
        blake3: 1e10,
        quantize: 1e9,
        dequantize: 2e9,
        exact_adamw: 3e9,
        clipping_norm: 4e9,
        node_hash_one_core: 1e7,
        f64_chain_one_core: 1.5e9,
    };
    let node = NodeRates::new(&cpu, &stated, 1e12);
    let cores = stated.node.cpu_cores.value;
    // Like the other all-core rates: measured / threads · cores.
    assert!((node.clipping_norm_leaf_sums - 4e9 / 2.0 * cores).abs() < 1e-3);
    assert!((node.quantize - 1e9 / 2.0 * cores).abs() < 1e-3);
    // One addition per leaf at the measured rate of one f64 chain on one core, whatever the node's cores.
    assert_eq!(node.leaf_sum_combine, 1.5e9);
    let w = Workload { sizes: small(), tokens_per_step: 1000.0, eval_tokens: 10.0 };
    assert!((w.leaf_sum_combine(&node) - 3.0 / 1.5e9).abs() < 1e-21);
    assert!((w.clipping_norm(&node) - (10_000.0 / (2e9 * cores) + 3.0 / 1.5e9)).abs() < 1e-18);
}
