//! The CPU backend and the host-side preparation the kernels rely on, on every machine.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{rules, scalars, Rng};
use pogo_cuda::{Bookkeeping, BookkeepingError, CpuBookkeeper, PreparedScalars};
use pogo_primitives::{quant, quant::QuantError, spec::StepScalars, state::StateLeaf, update, update::UpdateError};

/// `PreparedScalars::new` refuses exactly the scalars `update::apply_step` refuses, and derives the
/// per-step constants with update.rs's f32 operations (checked through a one-parameter step computed
/// by hand from the prepared values).
#[test]
fn prepared_scalars_refuse_what_the_reference_refuses() {
    let mut rng = Rng(7);
    let specials = [0.0f32, 1.0, -1.0, 0.5, f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e-3, 2.0];
    for rule in rules() {
        for _ in 0..400 {
            let pick = |rng: &mut Rng| specials[(rng.next() % specials.len() as u64) as usize].to_bits();
            let s = StepScalars {
                learning_rate: pick(&mut rng),
                gradient_scale: pick(&mut rng),
                bias_correction1: pick(&mut rng),
                bias_correction2: pick(&mut rng),
            };
            let mut leaf = StateLeaf { n: 1, values: vec![0.25; 1 + rule.slots()] };
            let reference = update::apply_step(&rule, &s, &mut leaf, &[0.0]);
            let prepared = PreparedScalars::new(&rule, &s);
            assert_eq!(
                prepared.is_err(),
                reference == Err(UpdateError::BadScalars),
                "{rule:?} {s:?}: prepared {prepared:?}, reference {reference:?}"
            );
        }
    }
    let adamw = rules()[2];
    let p = PreparedScalars::new(&adamw, &scalars(&adamw, 3, 1e-3, 0.5)).unwrap();
    assert_eq!((p.rule, p.slots), (2, 2));
    assert_eq!(p.omb1, 1.0f32 - 0.9f32);
    assert_eq!(p.omb2, 1.0f32 - 0.999f32);
    assert_eq!(p.decay, 1.0f32 - 1e-3f32 * 0.1f32);
}

/// The CPU backend is the reference: same bytes, same leaves, same errors, leaf untouched on error.
#[test]
fn cpu_backend_is_the_reference() {
    let cpu = CpuBookkeeper;
    let mut rng = Rng(11);
    for rule in rules() {
        for (n, block) in [(64usize, 64usize), (4096, 64), (130, 64), (7, 2)] {
            let g = rng.vector(n);
            let codes = cpu.quantize(&g, block).unwrap();
            assert_eq!(codes, quant::quantize(&g, block).unwrap());
            let values: Vec<f32> = (0..n * (1 + rule.slots())).map(|_| rng.unit() - 0.5).collect();
            let mut leaf = StateLeaf { n, values };
            let mut reference = leaf.clone();
            let s = scalars(&rule, 0, 1e-2, 1.0);
            let got = cpu.apply_step(&rule, &s, &mut leaf, &codes, block);
            let deq = quant::dequantize(&codes, n, block).unwrap();
            assert_eq!(got.map_err(|e| e.to_string()), update::apply_step(&rule, &s, &mut reference, &deq).map_err(|e| format!("update: {e:?}")));
            assert_eq!(leaf, reference);
        }
    }
    let mut leaf = StateLeaf { n: 2, values: vec![1.0, 2.0] };
    let before = leaf.clone();
    let sgd = rules()[0];
    assert_eq!(cpu.quantize(&[1.0, f32::NAN], 2), Err(BookkeepingError::Codec(QuantError::NonFinite { index: 1 })));
    assert_eq!(
        cpu.apply_step(&sgd, &scalars(&sgd, 0, 1.0, 1.0), &mut leaf, &[0, 0, 0x80, 0x3f, 0x08], 2),
        Err(BookkeepingError::Codec(QuantError::NonCanonical))
    );
    assert_eq!(
        cpu.apply_step(&sgd, &scalars(&sgd, 0, 1.0, 1.0), &mut leaf, &[0, 0], 2),
        Err(BookkeepingError::Codec(QuantError::WrongLength))
    );
    assert_eq!(leaf, before);
}

/// The CPU backend's square sums are pogo-primitives' clipping norm, leaf by leaf, and refuse what the
/// GPU refuses before reading a byte.
#[test]
fn cpu_square_sums_are_the_clipping_norm() {
    let cpu = CpuBookkeeper;
    let mut rng = Rng(13);
    for (n, block, leaf_size) in [(100_000usize, 64usize, 4096usize), (4097, 2, 256), (7, 2, 2)] {
        let codes = cpu.quantize(&rng.vector(n), block).unwrap();
        let sums = cpu.leaf_square_sums(&codes, n, block, leaf_size).unwrap();
        assert_eq!(sums.len(), n.div_ceil(leaf_size));
        let deq = quant::dequantize(&codes, n, block).unwrap();
        let whole = update::gradient_square_sum(leaf_size as u32, &deq).unwrap();
        assert_eq!(update::combine_leaf_sums(sums.iter().copied()).to_bits(), whole.to_bits(), "n {n}");
        assert_eq!(
            update::clipping_factor(1.0, update::combine_leaf_sums(sums)),
            update::gradient_scale(1.0, leaf_size as u32, &deq)
        );
    }
    assert_eq!(cpu.leaf_square_sums(&[], 0, 0, 64), Err(BookkeepingError::Codec(QuantError::ZeroBlockSize)));
    assert_eq!(cpu.leaf_square_sums(&[], 0, 64, 96), Err(BookkeepingError::LeafSize { leaf_size: 96, block: 64 }));
    assert_eq!(cpu.leaf_square_sums(&[0, 0, 0x80, 0x3f, 0x08], 2, 2, 2), Err(BookkeepingError::Codec(QuantError::NonCanonical)));
    assert_eq!(cpu.leaf_square_sums(&[0, 0], 2, 2, 2), Err(BookkeepingError::Codec(QuantError::WrongLength)));
}
