#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test on error
//! The tolerance rule on real gradients (scikit-learn digits MLP, byte-level GPT on Shakespeare):
//! honest recomputations on other thread counts and batch splits pass; every cheap cheat fails —
//! half a batch, stale weights, bf16- and TF32-rounded weights, rescaled gradients, codes moved off
//! their rounding boundary — while moving only codes within the boundary margin stays allowed.

use pogo_primitives::tolerance::Tolerance;
use pogo_engine::{
    model::{GptConfig, Model},
    pin_torch_settings, tasks,
    variants::{self, Variant},
    Engine,
};
use std::sync::{Mutex, MutexGuard};
use tch::Device;

static TORCH: Mutex<()> = Mutex::new(());

fn torch() -> MutexGuard<'static, ()> {
    TORCH.lock().unwrap_or_else(|e| e.into_inner())
}

/// Trains `steps` steps of a round and returns the weights before and after the last one.
fn states<M: Model>(e: &Engine<M>, steps: u32) -> (Vec<f32>, Vec<f32>) {
    let spec = *e.spec();
    let w0 = e.model().layout().init(&[1; 32]);
    let slots = vec![vec![0.0f32; w0.len()]; spec.rule.slots()];
    let mut b = pogo_primitives::builder::RoundBuilder::new(spec, w0, slots, 1).unwrap();
    let mut before = b.weights().to_vec();
    for s in 0..steps {
        before = b.weights().to_vec();
        e.step(&mut b, &[2; 32], s).unwrap();
    }
    (before, b.weights().to_vec())
}

fn check_all<M: Model>(e: &Engine<M>) {
    let spec = *e.spec();
    let t = Tolerance::DEFAULT;
    let (before, w) = states(e, 3);
    for sample in 0..2u32 {
        let idx = e.batch_indices(&[9; 32], sample);
        let verifier = variants::gradient(e, Variant::Threads(2), &w, &before, &idx).unwrap();
        for v in Variant::HONEST {
            let g = variants::gradient(e, v, &w, &before, &idx).unwrap();
            let c = variants::judge(&spec, &g, &verifier, &t).unwrap();
            assert!(c.passes(), "{}: {} must pass: {c:?}", e.model().name(), v.label());
        }
        for v in Variant::CHEATS {
            let g = variants::gradient(e, v, &w, &before, &idx).unwrap();
            let c = variants::judge(&spec, &g, &verifier, &t).unwrap();
            assert!(!c.passes(), "{}: {} must fail: {c:?}", e.model().name(), v.label());
        }
        // 0.1% of the codes moved by one, wherever the miner likes: caught
        let (leaves, moved) = variants::poison(&spec, &verifier, 0.5, verifier.len() / 1000).unwrap();
        assert!(moved > 0);
        let c = variants::judge_leaves(&spec, &leaves, &verifier, &t).unwrap();
        assert!(!c.passes() && c.bad_codes > 0, "{c:?}");
        // a single moved code is enough
        let (leaves, moved) = variants::poison(&spec, &verifier, 0.5, 1).unwrap();
        assert_eq!(moved, 1);
        assert_eq!(variants::judge_leaves(&spec, &leaves, &verifier, &t).unwrap().bad_codes, 1);
        // what stays allowed: codes within the margin of their boundary
        let (leaves, _) = variants::poison(&spec, &verifier, 1e-3, usize::MAX).unwrap();
        assert!(variants::judge_leaves(&spec, &leaves, &verifier, &t).unwrap().passes());
    }
    pin_torch_settings(2);
}

#[test]
fn honest_recomputations_pass_and_every_cheat_fails_on_the_digits_mlp() {
    let _torch = torch();
    let (m, d, s) = tasks::digits_task(None).expect("digits data (run scripts/setup.sh)");
    check_all(&Engine::new(m, d, s, Device::Cpu).unwrap());
}

#[test]
fn honest_recomputations_pass_and_every_cheat_fails_on_the_byte_gpt() {
    let _torch = torch();
    let (m, d, s) = tasks::text_task(None, GptConfig::SMALL).expect("Shakespeare data (run scripts/setup.sh)");
    check_all(&Engine::new(m, d, s, Device::Cpu).unwrap());
}
