#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers fail the test on error
//! The engine on the real default data sets (scikit-learn digits, Shakespeare; `scripts/setup.sh`
//! installs them): reproducible gradients and codes, exact state files, rounds a verifier recomputes,
//! and typed errors for mismatched specs and data.

use pogo_primitives::{
    builder::RoundBuilder,
    quant::quantize,
    seed::batch,
    tolerance::Tolerance,
};
use pogo_engine::{
    data::{self, DataError},
    model::{BatchError, Gpt, GptConfig, Mlp, MlpConfig, Model},
    pin_torch_settings, tasks, variants, Engine, EngineError, ModelState, StateFileError, TorchSettings,
};
use std::sync::{Mutex, MutexGuard};
use tch::Device;

/// libtorch's settings (threads, determinism) are process-wide: tests that compute take this lock so
/// one test switching thread counts cannot change another's results.
static TORCH: Mutex<()> = Mutex::new(());

fn torch() -> MutexGuard<'static, ()> {
    TORCH.lock().unwrap_or_else(|e| e.into_inner())
}

fn digits_engine() -> Engine<Mlp> {
    let (m, d, s) = tasks::digits_task(None).expect("digits data (run scripts/setup.sh)");
    Engine::new(m, d, s, Device::Cpu).unwrap()
}

fn text_engine() -> Engine<Gpt> {
    let (m, d, s) = tasks::text_task(None, GptConfig::SMALL).expect("Shakespeare data (run scripts/setup.sh)");
    Engine::new(m, d, s, Device::Cpu).unwrap()
}

#[test]
fn the_worker_pins_the_protocol_torch_settings() {
    let _torch = torch();
    let s = pin_torch_settings(2);
    assert!(s.is_pinned(), "{s:?}");
    assert_eq!(s.threads, 2);
    assert_eq!(TorchSettings::current(), s);
    assert_eq!(std::env::var("CUBLAS_WORKSPACE_CONFIG").unwrap(), ":4096:8");
    let one = pin_torch_settings(1);
    assert!(one.is_pinned() && one.threads == 1);
    pin_torch_settings(2);
}

#[test]
fn data_sets_are_real_and_committed_by_stable_roots() {
    let _torch = torch();
    let digits = data::digits(None).unwrap();
    assert_eq!((digits.train.len(), digits.eval.len()), (1498, 299));
    // First record of the UCI file: a zero.
    assert_eq!(digits.train.record(0).unwrap()[64], 0);
    assert_eq!(digits.roots().unwrap(), data::digits(None).unwrap().roots().unwrap());
    let text = data::text_corpus(None, 64).unwrap();
    assert!(text.train.len() > 50_000, "{} windows", text.train.len());
    let first = String::from_utf8_lossy(text.train.record(0).unwrap()).to_string();
    assert!(!first.is_empty());
    let (tr, ev) = text.roots().unwrap();
    assert_ne!(tr, ev);
    assert!(matches!(text.train.record(text.train.len()), Err(DataError::OutOfRange { .. })));
    assert!(matches!(data::digits(Some(std::path::Path::new("/nonexistent/digits.csv"))), Err(DataError::Io { .. })));
}

#[test]
fn same_seed_on_cpu_gives_bit_identical_gradients_and_codes() {
    let _torch = torch();
    pin_torch_settings(2);
    for (name, a, b, block) in [
        {
            let e = digits_engine();
            let w = e.model().layout().init(&[9; 32]);
            let a = e.step_gradient(&w, &[4; 32], 3).unwrap();
            let b = digits_engine().step_gradient(&w, &[4; 32], 3).unwrap();
            ("mlp", a, b, e.spec().codec_block as usize)
        },
        {
            let e = text_engine();
            let w = e.model().layout().init(&[9; 32]);
            let a = e.step_gradient(&w, &[4; 32], 3).unwrap();
            let b = e.step_gradient(&w, &[4; 32], 3).unwrap();
            ("gpt", a, b, e.spec().codec_block as usize)
        },
    ] {
        assert_eq!(a.loss.to_bits(), b.loss.to_bits(), "{name} loss");
        assert!(a.values.iter().zip(&b.values).all(|(x, y)| x.to_bits() == y.to_bits()), "{name} gradient");
        assert_eq!(quantize(&a.values, block).unwrap(), quantize(&b.values, block).unwrap(), "{name} codes");
        assert!(a.values.iter().any(|v| *v != 0.0), "{name}: a real gradient");
    }
}

#[test]
fn batches_come_from_the_round_seed() {
    let _torch = torch();
    let e = digits_engine();
    let idx = e.batch_indices(&[7; 32], 5);
    assert_eq!(idx, batch(&[7; 32], 5, e.spec().batch_size, e.spec().train_examples));
    assert_ne!(idx, e.batch_indices(&[7; 32], 6));
}

#[test]
fn a_round_trains_and_a_verifier_recomputes_its_steps_within_tolerance() {
    let _torch = torch();
    pin_torch_settings(2);
    let e = digits_engine();
    let spec = *e.spec();
    let w0 = e.model().layout().init(&[1; 32]);
    let eval0 = e.eval_loss(&w0, 256).unwrap();
    let start = ModelState::fresh(&spec, w0.clone());
    let mut miner = RoundBuilder::new(spec, start.weights.clone(), start.slots.clone(), 1).unwrap();
    let mut states = Vec::new();
    let mut codes = Vec::new();
    let mut records = Vec::new();
    for s in 0..spec.steps_per_round {
        states.push(miner.weights().to_vec());
        let g = e.step_gradient(miner.weights(), &[2; 32], s).unwrap();
        codes.push(variants::commit(&spec, &g.values).unwrap());
        records.push(miner.step(&g.values, g.loss).unwrap());
    }
    // The engine's own step is the same step.
    let mut again = RoundBuilder::new(spec, w0.clone(), start.slots.clone(), 1).unwrap();
    let first = e.step(&mut again, &[2; 32], 0).unwrap();
    assert_eq!(first, records[0]);
    let eval1 = e.eval_loss(miner.weights(), 256).unwrap();
    assert!(eval1 < eval0, "one round of training lowers the eval loss: {eval0} -> {eval1}");
    // A verifier with its own engine recomputes sampled steps from the committed states.
    let v = digits_engine();
    for s in [0usize, 7, 19] {
        let g = v.step_gradient(&states[s], &[2; 32], s as u32).unwrap();
        let c = variants::judge_leaves(&spec, &codes[s], &g.values, &Tolerance::DEFAULT).unwrap();
        assert!(c.passes(), "{c:?}");
        assert_eq!((c.boundary_flips, c.bad_codes, c.bad_scales), (0, 0, 0), "CPU recomputation is exact");
        assert_eq!(g.loss.to_bits(), records[s].train_loss);
    }
}

#[test]
fn state_files_round_trip_exactly_and_refuse_other_specs() {
    let _torch = torch();
    let e = text_engine();
    let spec = *e.spec();
    let mut b = RoundBuilder::new(spec, e.model().layout().init(&[3; 32]), vec![vec![0.0; spec.param_count as usize]; 2], 1).unwrap();
    e.step(&mut b, &[1; 32], 0).unwrap();
    let state = ModelState { weights: b.weights().to_vec(), slots: b.slots().to_vec() };
    let dir = std::env::temp_dir().join(format!("pogo-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.bin");
    state.save(&spec, &path).unwrap();
    let back = ModelState::load(&spec, &path).unwrap();
    assert!(back.weights.iter().zip(&state.weights).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert_eq!(back.slots, state.slots);
    assert_eq!(back.root(&spec).unwrap(), state.root(&spec).unwrap());
    let mut other = spec;
    other.param_count += 1;
    assert!(matches!(ModelState::load(&other, &path), Err(StateFileError::Mismatch(_))));
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.truncate(bytes.len() - 4);
    assert!(matches!(ModelState::from_bytes(&spec, &bytes), Err(StateFileError::Mismatch("truncated"))));
    let nan = f32::NAN.to_le_bytes();
    let mut bad = std::fs::read(&path).unwrap();
    bad[20..24].copy_from_slice(&nan);
    assert!(matches!(ModelState::from_bytes(&spec, &bad), Err(StateFileError::Leaf { index: 0, .. })));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn mismatched_specs_and_bad_records_are_typed_errors() {
    let _torch = torch();
    let (m, d, mut s) = tasks::digits_task(None).unwrap();
    s.param_count += 1;
    assert!(matches!(Engine::new(m, d.clone(), s, Device::Cpu), Err(EngineError::Spec(_))));
    let (_, _, s) = tasks::digits_task(None).unwrap();
    // A model whose records (33 bytes) do not fit the digits (65 bytes).
    let gpt = Gpt::new(GptConfig { context: 32, ..GptConfig::SMALL });
    let mut s2 = s;
    s2.param_count = gpt.layout().len() as u64;
    assert!(matches!(Engine::new(gpt, d, s2, Device::Cpu), Err(EngineError::Spec(_))));
    let mlp = Mlp::new(MlpConfig::DIGITS);
    assert!(matches!(mlp.batch(&[&[0u8; 10]], Device::Cpu), Err(BatchError::RecordLength { index: 0, len: 10, expected: 65 })));
    let mut r = [0u8; 65];
    r[64] = 10;
    assert!(matches!(mlp.batch(&[&r], Device::Cpu), Err(BatchError::Value { index: 0 })));
    assert!(matches!(mlp.batch(&[], Device::Cpu), Err(BatchError::Empty)));
}

/// The verifier's per-record losses come from batched forward passes; each must be the record's own
/// loss (one forward pass on that record alone), and their mean the whole-split loss on those records,
/// for both model families, within float summation order.
#[test]
fn batched_per_record_eval_losses_match_single_record_losses() {
    let _t = torch();
    fn check<M: Model>(e: &Engine<M>, count: u64) {
        let weights = e.model().layout().init(&[7; 32]);
        let indices: Vec<u64> = (0..count).map(|i| (i * 7) % e.data().eval.len()).collect();
        let batched = e.eval_losses(&weights, &indices).unwrap();
        assert_eq!(batched.len(), indices.len());
        let theta = tch::Tensor::from_slice(&weights);
        let _g = tch::no_grad_guard();
        for (i, l) in indices.iter().zip(&batched) {
            let record = e.data().eval.records(&[*i]).unwrap();
            let batch = e.model().batch(&record, Device::Cpu).unwrap();
            let single = f32::try_from(e.model().loss(&theta, &batch)).unwrap();
            assert!((single - l).abs() <= 1e-5 * single.abs().max(1.0), "record {i}: batched {l}, alone {single}");
        }
    }
    check(&digits_engine(), 150);
    check(&text_engine(), 70);
}
