//! The parallel bookkeeping against the single-threaded reference, byte for byte, on 1 to 4 threads.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use pogo_bookkeeping::{
    apply_in_place,
    codec::{dequantize_leaf, quantize_leaf, quantize_leaf_on, Simd},
    quantize, quantize_into, state_leaf_hash, tree_of_leaves, ParallelRound,
};
use pogo_primitives::{
    builder::{BuildError, RoundBuilder},
    merkle::leaf_hash,
    quant::{self, QuantError},
    spec::{StepScalars, UpdateRule},
    state::{leaf_bytes, StateLeaf},
    update::apply_step,
    MerkleTree,
};

mod common;

use common::{pool, specs, Rng};

#[test]
fn rounds_are_byte_identical_to_the_round_builder() {
    for spec in specs() {
        for threads in [1, 2, 3, 4] {
            let mut rng = Rng(spec.param_count ^ threads as u64);
            let p = spec.param_count as usize;
            let weights: Vec<f32> = (0..p).map(|_| rng.value(0.2)).collect();
            let slots = vec![vec![0.0f32; p]; spec.rule.slots()];
            let mut reference = RoundBuilder::new(spec, weights.clone(), slots.clone(), 5).unwrap();
            let mut parallel = ParallelRound::new(spec, weights, slots, 5).unwrap();
            // Half the runs keep the checkpoint leaves (the miner's way): the same roots either way.
            let keep = threads % 2 == 0;
            if keep {
                parallel = parallel.keeping_checkpoint_leaves();
            }
            pool(threads).install(|| {
                assert_eq!(parallel.state_tree().unwrap().root(), reference.base_root(), "base root");
                for step in 0..spec.steps_per_round {
                    let scale = if step % 2 == 0 { 10.0 } else { 1e-3 };
                    let g: Vec<f32> = (0..p).map(|_| rng.value(scale)).collect();
                    let want = reference.step(&g, 1.5).unwrap();
                    // Odd thread counts step in two halves, as the miner does (update, then finish).
                    let got = if threads % 2 == 1 {
                        let updated = parallel.update(&g, 1.5).unwrap();
                        assert_eq!((updated.step(), updated.train_loss()), (step, 1.5));
                        parallel.finish(updated).unwrap()
                    } else {
                        parallel.step(&g, 1.5).unwrap()
                    };
                    let at = format!("{:?} p {p} threads {threads} step {step}", spec.rule);
                    assert_eq!(got.record, want, "{at}: record");
                    assert_eq!(got.gradient_leaves.as_slice(), reference.gradient_leaves(step).unwrap(), "{at}: gradient leaves");
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(parallel.weights()), bits(reference.weights()), "{at}: weights");
                    for (a, b) in parallel.slots().iter().zip(reference.slots()) {
                        assert_eq!(bits(a), bits(b), "{at}: slots");
                    }
                    assert_eq!(got.gradient_tree.root(), want.gradient_root, "{at}: gradient tree");
                    assert_eq!(got.checkpoint.as_ref().map(MerkleTree::root), want.checkpoint_root, "{at}: checkpoint");
                    let want_leaves = want.checkpoint_root.and_then(|_| reference.checkpoint_leaves(Some(step))).map(|(l, _)| l.to_vec());
                    assert_eq!(got.checkpoint_leaves, if keep { want_leaves.clone() } else { None }, "{at}: checkpoint leaves");
                    if let Some(leaves) = want_leaves {
                        assert_eq!(parallel.state_leaves().unwrap(), leaves, "{at}: state leaves");
                    }
                }
            });
        }
    }
}

#[test]
fn errors_are_the_references() {
    let spec = specs()[1];
    let p = spec.param_count as usize;
    let slots = vec![vec![0.0f32; p]; 1];
    let mut reference = RoundBuilder::new(spec, vec![0.5; p], slots.clone(), 1).unwrap();
    let mut parallel = ParallelRound::new(spec, vec![0.5; p], slots, 1).unwrap();
    let mut g = vec![0.25f32; p];
    g[50_000] = f32::NAN;
    g[3] = f32::INFINITY; // the first one in leaf order wins
    let want = reference.step(&g, 0.0).err();
    let got = parallel.step(&g, 0.0).err();
    assert!(want.is_some());
    assert_eq!(got, want);
    assert!(parallel.step(&[0.0; 3], 0.0).is_err(), "wrong gradient length");
    // A step finished after the state moved on is refused: its checkpoint would hash another state.
    let mut round = ParallelRound::new(spec, vec![0.5; p], vec![vec![0.0f32; p]; 1], 1).unwrap();
    let first = round.update(&vec![0.25f32; p], 0.0).unwrap();
    let second = round.update(&vec![0.5f32; p], 0.0).unwrap();
    assert_eq!(round.finish(first).err(), Some(BuildError::Shape));
    assert!(round.finish(second).is_ok());
    assert!(ParallelRound::new(spec, vec![0.0; 3], vec![], 1).is_err(), "wrong state size");
}

#[test]
fn quantize_and_trees_match() {
    let mut rng = Rng(5);
    for threads in [1, 2, 4] {
        pool(threads).install(|| {
            for (n, block) in [(1usize, 2usize), (100_000, 64), (65_537, 4096), (16_384 * 3 + 10, 128)] {
                let x: Vec<f32> = (0..n).map(|_| rng.value(3.0)).collect();
                assert_eq!(quantize(&x, block), quant::quantize(&x, block), "n {n} block {block}");
            }
            // One leaf on the calling thread, odd and short blocks, subnormal and signed-zero blocks.
            let tiny = [f32::from_bits(1), -f32::from_bits(1), 0.0, -0.0, f32::from_bits(3), 1e-40];
            for (n, block) in [(1usize, 2usize), (7, 2), (130, 64), (4096, 64), (4097, 4096), (3, 3)] {
                let mut x: Vec<f32> = (0..n).map(|_| rng.value(3.0)).collect();
                assert_eq!(quantize_leaf(&x, block), quant::quantize(&x, block), "leaf n {n} block {block}");
                for (v, t) in x.iter_mut().zip(tiny.iter().cycle()) {
                    *v = *t;
                }
                assert_eq!(quantize_leaf(&x, block), quant::quantize(&x, block), "tiny leaf n {n} block {block}");
                assert_eq!(quantize(&x, block), quant::quantize(&x, block), "tiny n {n} block {block}");
            }
            // Every instruction set this CPU has: the same bytes, and the dequantized values dequantize's.
            for simd in Simd::available() {
                for (n, block) in [(1usize, 2usize), (7, 2), (130, 64), (4096, 64), (4097, 4096), (3, 3), (100_001, 128)] {
                    let mut x: Vec<f32> = (0..n).map(|_| rng.value(3.0)).collect();
                    if n > 200 {
                        x[256..384].fill(0.0); // all-zero blocks (of 64 and of 128)
                        x[170] = f32::from_bits(1); // a subnormal
                    }
                    let want = quant::quantize(&x, block).unwrap();
                    let (bytes, deq) = quantize_leaf_on(simd, &x, block, true).unwrap();
                    assert_eq!(bytes, want, "{simd:?} n {n} block {block}");
                    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&deq), bits(&quant::dequantize(&want, n, block).unwrap()), "{simd:?} deq n {n} block {block}");
                }
                assert_eq!(quantize_leaf_on(simd, &[1.0, f32::NAN, 2.0], 2, true), Err(QuantError::NonFinite { index: 1 }));
            }
            assert_eq!(quantize_leaf(&[1.0, f32::INFINITY], 2), Err(QuantError::NonFinite { index: 1 }));
            assert_eq!(quantize_leaf(&[1.0], 0), Err(QuantError::ZeroBlockSize));
            // exact ties of the rounding: halves under a scale of exactly 1.0 (max |x| = 7)
            let ties: Vec<f32> = (0..40_000).map(|i| (i % 29) as f32 * 0.5 - 7.0).collect();
            assert_eq!(quantize(&ties, 64), quant::quantize(&ties, 64));
            let mut x: Vec<f32> = (0..100_000).map(|_| rng.value(1.0)).collect();
            x[70_001] = f32::NAN;
            x[40_000] = f32::NEG_INFINITY;
            assert_eq!(quantize(&x, 64), Err(QuantError::NonFinite { index: 40_000 }));
            assert_eq!(quantize(&x, 0), Err(QuantError::ZeroBlockSize));
            // Into a kept buffer: whatever it held is overwritten with the same bytes; a buffer of another
            // length is refused.
            let y: Vec<f32> = (0..100_001).map(|_| rng.value(2.0)).collect();
            let mut kept = vec![0xA5u8; quant::encoded_len(y.len(), 64).unwrap()];
            quantize_into(&y, 64, &mut kept).unwrap();
            assert_eq!(kept, quant::quantize(&y, 64).unwrap());
            let mut for_x = vec![0u8; quant::encoded_len(x.len(), 64).unwrap()];
            assert_eq!(quantize_into(&x, 64, &mut for_x), Err(QuantError::NonFinite { index: 40_000 }));
            let mut short = vec![0u8; kept.len() - 1];
            assert_eq!(quantize_into(&y, 64, &mut short), Err(QuantError::WrongLength));
            assert_eq!(quantize_into(&y, 0, &mut kept), Err(QuantError::ZeroBlockSize));
            let leaves: Vec<Vec<u8>> = (0..1000).map(|i| vec![i as u8; (i % 97) + 1]).collect();
            let want = MerkleTree::from_leaves(leaves.iter().map(|l| l.as_slice())).unwrap();
            assert_eq!(tree_of_leaves(&leaves).unwrap().root(), want.root());
            // Leaves of one length (a step's gradient leaves: 2,304 bytes, the last shorter) go through
            // the SIMD lanes; every level of the tree, so every proof, is the reference's.
            let leaves: Vec<Vec<u8>> =
                (0..1001u32).map(|i| (0..if i == 1000 { 260 } else { 2304 }).map(|j| (i * 7 + j) as u8).collect()).collect();
            let want = MerkleTree::from_leaves(leaves.iter().map(|l| l.as_slice())).unwrap();
            let got = tree_of_leaves(&leaves).unwrap();
            assert_eq!(got.root(), want.root());
            for i in [0u64, 1, 15, 16, 17, 511, 999, 1000] {
                assert_eq!(got.proof(i), want.proof(i), "proof {i}");
            }
        });
    }
}

/// The verifier's decoder against `quant::dequantize`: the same values for every canonical encoding, the
/// same error for every refused one (bytes flipped at random, the refusals named one by one).
#[test]
fn dequantize_is_the_references() {
    let mut rng = Rng(23);
    let bits = |r: Result<Vec<f32>, QuantError>| r.map(|v| v.iter().map(|x| x.to_bits()).collect::<Vec<u32>>());
    for (n, block) in [(1usize, 2usize), (7, 2), (7, 3), (130, 64), (4096, 64), (4097, 4096), (3, 3), (10_001, 128)] {
        let mut x: Vec<f32> = (0..n).map(|_| rng.value(3.0)).collect();
        if n > 200 {
            x[64..128].fill(0.0); // a zero-scale block
        }
        let bytes = quant::quantize(&x, block).unwrap();
        assert_eq!(bits(dequantize_leaf(&bytes, n, block)), bits(quant::dequantize(&bytes, n, block)), "n {n} block {block}");
        for _ in 0..200 {
            let mut bad = bytes.clone();
            let at = (rng.next() % bad.len() as u64) as usize;
            bad[at] ^= 1 << (rng.next() % 8);
            assert_eq!(bits(dequantize_leaf(&bad, n, block)), bits(quant::dequantize(&bad, n, block)), "n {n} block {block} byte {at}");
        }
    }
    // Each refusal by name: a nibble -8, a nonzero padding nibble, a code under a zero scale, a negative
    // zero, NaN or infinite scale, a wrong length, a zero block.
    let scale = 1.0f32.to_le_bytes();
    let block_of = |scale: [u8; 4], codes: &[u8]| [scale.as_slice(), codes].concat();
    for (bytes, n) in [
        (block_of(scale, &[0x08]), 2),
        (block_of(scale, &[0x80]), 2),
        (block_of(scale, &[0x11, 0x10]), 3),
        (block_of(0.0f32.to_le_bytes(), &[0x01]), 2),
        (block_of((-0.0f32).to_le_bytes(), &[0x00]), 2),
        (block_of(f32::NAN.to_le_bytes(), &[0x00]), 2),
        (block_of(f32::INFINITY.to_le_bytes(), &[0x00]), 2),
        (block_of(scale, &[0x00, 0x00]), 2),
    ] {
        let want = quant::dequantize(&bytes, n, 4).unwrap_err();
        assert_eq!(dequantize_leaf(&bytes, n, 4), Err(want), "{bytes:?}");
    }
    assert_eq!(dequantize_leaf(&[0; 5], 2, 0), Err(QuantError::ZeroBlockSize));
}

/// The fused in-place update against `update::apply_step`: the same bits, the same refusals.
#[test]
fn fused_update_is_apply_step() {
    let mut rng = Rng(17);
    for spec in specs() {
        let rule = spec.rule;
        for (lr, gs, weight_scale) in [(1e-3f32, 1.0f32, 1.0f32), (0.5, 0.25, 1e30), (-3e38, 1.0, 3e38)] {
            let n = 1000;
            let deq: Vec<f32> = (0..n).map(|_| rng.value(5.0)).collect();
            let values: Vec<f32> = (0..n * (1 + rule.slots()))
                .map(|i| if i >= 2 * n { rng.value(1.0).abs() } else { rng.value(weight_scale) })
                .collect();
            let s = StepScalars {
                learning_rate: lr.to_bits(),
                gradient_scale: gs.to_bits(),
                bias_correction1: if rule.slots() == 2 { 3.0f32 } else { 1.0 }.to_bits(),
                bias_correction2: if rule.slots() == 2 { 7.0f32 } else { 1.0 }.to_bits(),
            };
            let mut reference = StateLeaf { n, values: values.clone() };
            let want = apply_step(&rule, &s, &mut reference, &deq);
            let mut fused = values.clone();
            let mut parts: Vec<&mut [f32]> = fused.chunks_mut(n).collect();
            let got = apply_in_place(&rule, &s, &mut parts, &deq);
            assert_eq!(got, want, "{rule:?} lr {lr}");
            if want.is_ok() {
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&fused), bits(&reference.values), "{rule:?} lr {lr}");
            }
        }
    }
    let sgd = UpdateRule::Sgd { weight_decay: 0 };
    let bad = StepScalars { learning_rate: f32::NAN.to_bits(), gradient_scale: 1.0f32.to_bits(), bias_correction1: 1.0f32.to_bits(), bias_correction2: 1.0f32.to_bits() };
    let mut w = vec![1.0f32; 4];
    assert_eq!(apply_in_place(&sgd, &bad, &mut [&mut w], &[0.0; 4]), apply_step(&sgd, &bad, &mut StateLeaf { n: 4, values: vec![1.0; 4] }, &[0.0; 4]));
    assert!(apply_in_place(&sgd, &bad, &mut [&mut w], &[0.0; 3]).is_err(), "wrong shape");
}

/// The copy-free state leaf hash against `leaf_hash(leaf_bytes(..))`, and the same refusal.
#[test]
fn state_leaf_hash_is_the_references() {
    let mut rng = Rng(23);
    for (params, leaf) in [(10_000u64, 4096u32), (5000, 1024), (3, 4096)] {
        let mut s = specs()[0];
        s.param_count = params;
        s.leaf_size = leaf;
        let p = params as usize;
        let state: Vec<Vec<f32>> = (0..3).map(|_| (0..p).map(|_| rng.value(2.0)).collect()).collect();
        let refs: Vec<&[f32]> = state.iter().map(|v| v.as_slice()).collect();
        for i in 0..s.leaf_count() {
            let (start, n) = s.leaf_range(i).unwrap();
            let r = start as usize..start as usize + n;
            let parts: Vec<&[f32]> = refs.iter().map(|v| &v[r.clone()]).collect();
            let want = leaf_hash(&leaf_bytes(&s, refs[0], &refs[1..], i).unwrap());
            assert_eq!(state_leaf_hash(&parts).unwrap(), want, "leaf {i} of {params}");
        }
    }
    let w = [1.0f32, 2.0];
    let m = [0.0f32, f32::INFINITY];
    let mut s = specs()[0];
    s.param_count = 2;
    assert_eq!(state_leaf_hash(&[&w, &m, &w]).err(), leaf_bytes(&s, &w, &[&m, &w], 0).err());
}
