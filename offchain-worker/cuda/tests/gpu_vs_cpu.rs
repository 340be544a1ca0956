//! The GPU kernels against the CPU reference, bit for bit. Each test prints `skipped: no CUDA device` and
//! passes on a machine without one; with a device, any difference fails.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{gpu, rules, scalars, Rng};
use pogo_cuda::{Bookkeeping, CpuBookkeeper};
use pogo_primitives::state::StateLeaf;

const SHAPES: [(usize, usize); 7] = [(64, 64), (4096, 64), (4096, 128), (65_536, 64), (130, 64), (7, 2), (5000, 4096)];

#[test]
fn quantize_is_bit_identical() {
    let Some(gpu) = gpu("quantize_is_bit_identical") else { return };
    let mut rng = Rng(1);
    let mut bytes = 0usize;
    for (n, block) in SHAPES {
        for _ in 0..8 {
            let x = rng.vector(n);
            let want = CpuBookkeeper.quantize(&x, block);
            let got = gpu.quantize(&x, block);
            assert_eq!(got, want, "n {n}, block {block}");
            bytes += want.map(|v| v.len()).unwrap_or(0);
        }
    }
    // Non-finite values: the same first index.
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        let mut x = rng.vector(10_000);
        x[7777] = bad;
        x[9000] = f32::NAN;
        assert_eq!(gpu.quantize(&x, 64), CpuBookkeeper.quantize(&x, 64));
    }
    eprintln!("quantize_is_bit_identical: {bytes} encoded bytes compared, 0 differ");
}

#[test]
fn update_rules_are_bit_identical() {
    let Some(gpu) = gpu("update_rules_are_bit_identical") else { return };
    let mut rng = Rng(2);
    for rule in rules() {
        for (n, block) in SHAPES {
            let codes = CpuBookkeeper.quantize(&rng.vector(n), block).unwrap();
            let values: Vec<f32> = (0..n * (1 + rule.slots()))
                .map(|i| if i >= n && rule.slots() == 2 && i >= 2 * n { rng.unit() * 1e-3 } else { rng.value().clamp(-10.0, 10.0) })
                .collect();
            for (step, lr, gs) in [(0, 1e-2f32, 1.0f32), (9, 3e-4, 0.37), (999, 1.0, 1e-30)] {
                let s = scalars(&rule, step, lr, gs);
                let mut on_gpu = StateLeaf { n, values: values.clone() };
                let mut on_cpu = on_gpu.clone();
                let a = gpu.apply_step(&rule, &s, &mut on_gpu, &codes, block);
                let b = CpuBookkeeper.apply_step(&rule, &s, &mut on_cpu, &codes, block);
                assert_eq!(a, b, "{rule:?} n {n} block {block} step {step}");
                let diff = on_gpu.values.iter().zip(&on_cpu.values).filter(|(x, y)| x.to_bits() != y.to_bits()).count();
                assert_eq!(diff, 0, "{rule:?} n {n} block {block} step {step}: {diff} values differ");
            }
        }
    }
}

#[test]
fn refusals_are_the_same_and_leave_the_leaf_unchanged() {
    let Some(gpu) = gpu("refusals_are_the_same_and_leave_the_leaf_unchanged") else { return };
    let mut rng = Rng(3);
    let sgd = rules()[0];
    let n = 256;
    let good = CpuBookkeeper.quantize(&rng.vector(n), 64).unwrap();
    let mut cases: Vec<Vec<u8>> = Vec::new();
    let mut minus_eight = good.clone();
    minus_eight[4 + 3] = 0x80; // a -8 nibble
    cases.push(minus_eight);
    let mut negative_scale = good.clone();
    negative_scale[3] |= 0x80;
    cases.push(negative_scale);
    let mut nan_scale = good.clone();
    nan_scale[..4].copy_from_slice(&f32::NAN.to_bits().to_le_bytes());
    cases.push(nan_scale);
    let mut codes_under_zero = good.clone();
    codes_under_zero[..4].copy_from_slice(&[0, 0, 0, 0]);
    codes_under_zero[4] = 0x11;
    cases.push(codes_under_zero);
    cases.push(good[..good.len() - 1].to_vec()); // wrong length
    for codes in &cases {
        let mut a = StateLeaf { n, values: vec![0.5; n] };
        let mut b = a.clone();
        let before = a.clone();
        let s = scalars(&sgd, 0, 1.0, 1.0);
        assert_eq!(gpu.apply_step(&sgd, &s, &mut a, codes, 64), CpuBookkeeper.apply_step(&sgd, &s, &mut b, codes, 64));
        assert_eq!(a, before);
    }
    // A padding nibble in an odd-length leaf.
    let odd = CpuBookkeeper.quantize(&rng.vector(7), 64).unwrap();
    let mut padded = odd.clone();
    *padded.last_mut().unwrap() |= 0x10;
    let mut a = StateLeaf { n: 7, values: vec![0.5; 7] };
    let mut b = a.clone();
    let s = scalars(&sgd, 0, 1.0, 1.0);
    assert_eq!(gpu.apply_step(&sgd, &s, &mut a, &padded, 64), CpuBookkeeper.apply_step(&sgd, &s, &mut b, &padded, 64));
    // Overflow to infinity: the same first index.
    let mut a = StateLeaf { n, values: vec![f32::MAX; n] };
    let mut b = a.clone();
    let s = scalars(&sgd, 0, -1.0, 1.0);
    let huge = CpuBookkeeper.quantize(&vec![f32::MAX; n], 64).unwrap();
    let r = gpu.apply_step(&sgd, &s, &mut a, &huge, 64);
    assert_eq!(r, CpuBookkeeper.apply_step(&sgd, &s, &mut b, &huge, 64));
    assert!(r.is_err());
}

/// The miner's loop with the leaf resident on the device: 20 steps, codes and the final leaf equal to the
/// CPU's quantize + apply_step at every step.
#[test]
fn resident_steps_match_the_cpu_loop() {
    let Some(gpu) = gpu("resident_steps_match_the_cpu_loop") else { return };
    let mut rng = Rng(4);
    for rule in rules() {
        let n = 4096;
        let mut cpu_leaf = StateLeaf { n, values: (0..n * (1 + rule.slots())).map(|i| if i < n { rng.unit() - 0.5 } else { 0.0 }).collect() };
        let mut resident = gpu.upload_leaf(&rule, &cpu_leaf).unwrap();
        for step in 0..20 {
            let g = rng.vector(n).into_iter().map(|v| v.clamp(-1.0, 1.0)).collect::<Vec<_>>();
            let s = scalars(&rule, step, 1e-3, 1.0);
            let codes = gpu.step_resident(&rule, &s, &mut resident, &g, 64).unwrap();
            let want = CpuBookkeeper.quantize(&g, 64).unwrap();
            assert_eq!(codes, want, "{rule:?} step {step}");
            CpuBookkeeper.apply_step(&rule, &s, &mut cpu_leaf, &want, 64).unwrap();
        }
        assert_eq!(gpu.download_leaf(&resident).unwrap(), cpu_leaf, "{rule:?}");
    }
}

#[test]
fn leaf_square_sums_are_bit_identical() {
    let Some(gpu) = gpu("leaf_square_sums_are_bit_identical") else { return };
    let mut rng = Rng(3);
    let mut leaves = 0usize;
    for (n, block, leaf_size) in [(64, 64, 64), (100_000, 64, 4096), (4097, 2, 256), (7, 2, 2), (130, 64, 128), (1, 64, 4096)] {
        let codes = CpuBookkeeper.quantize(&rng.vector(n), block).unwrap();
        let want = CpuBookkeeper.leaf_square_sums(&codes, n, block, leaf_size).unwrap();
        let got = gpu.leaf_square_sums(&codes, n, block, leaf_size).unwrap();
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&want), "n {n}, block {block}, leaf {leaf_size}");
        leaves += want.len();
        // A non-canonical block: the same error.
        let mut bad = codes.clone();
        bad[3] |= 0x80; // a negative scale
        assert_eq!(gpu.leaf_square_sums(&bad, n, block, leaf_size), CpuBookkeeper.leaf_square_sums(&bad, n, block, leaf_size));
    }
    eprintln!("leaf_square_sums_are_bit_identical: {leaves} leaf sums compared, 0 differ");
}
