//! `pogo-measure`: the engine's measurements for docs/worker.md.
//!
//!   pogo-measure settings                       the pinned libtorch settings, as libtorch reports them
//!   pogo-measure tolerance [--out FILE.json]    the tolerance rule on honest recomputations (threads, batch
//!                                               split; CUDA when a GPU is present) and cheats (half batch, stale weights, bf16/TF32
//!                                               weights, rescaling, moved codes)
//!   pogo-measure quality [--out FILE.json] [--steps N]
//!                                               codec error on real gradients; loss curves PoGO vs fp32
//!
//! Data come from `$POGO_DATA_DIR` (default `$HOME/.cache/pogo/data`, filled by scripts/setup.sh).

use pogo_engine::{
    measure::{compare, eval_accuracy, plain_curve, pogo_curve, CodecError, CurvePoint, Disagreement},
    model::{GptConfig, Model},
    pin_torch_settings, tasks,
    variants::{self, Variant},
    Engine,
};
use pogo_primitives::{seed::batch, tolerance::Tolerance};
use serde::Serialize;
use std::{error::Error, path::PathBuf};
use tch::Device;

type Result<T> = std::result::Result<T, Box<dyn Error>>;

#[derive(Serialize)]
struct ToleranceRow {
    model: String,
    params: usize,
    scenario: String,
    honest: bool,
    batch_size: usize,
    trained_steps: u32,
    samples: usize,
    #[serde(flatten)]
    disagreement: Disagreement,
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn write_json<T: Serialize>(out: Option<String>, value: &T) -> Result<()> {
    let json = serde_json::to_string_pretty(value)?;
    match out {
        Some(path) => {
            let path = PathBuf::from(path);
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&path, json + "\n")?;
            eprintln!("wrote {}", path.display());
        },
        None => println!("{json}"),
    }
    Ok(())
}

/// Trains `steps` PoGO steps (so later gradients are measured at a trained state, not only at init).
fn trained<M: Model>(engine: &Engine<M>, steps: u32) -> Result<Vec<f32>> {
    let w0 = engine.model().layout().init(&[1; 32]);
    if steps == 0 {
        return Ok(w0);
    }
    let spec = *engine.spec();
    let slots = vec![vec![0.0f32; w0.len()]; spec.rule.slots()];
    let mut b = pogo_primitives::builder::RoundBuilder::new(spec, w0, slots, 1).map_err(|e| format!("{e:?}"))?;
    for s in 0..steps.min(spec.steps_per_round) {
        engine.step(&mut b, &[2; 32], s)?;
    }
    Ok(b.weights().to_vec())
}

/// Every variant (honest and cheating) at several states and batch sizes, judged against the verifier's
/// honest 2-thread recomputation; plus the poisoning attempts on honest codes.
fn tolerance_rows<M: Model>(engine: &Engine<M>, tolerance: &Tolerance, rows: &mut Vec<ToleranceRow>) -> Result<()> {
    let spec = *engine.spec();
    let n = spec.train_examples;
    let samples = 3u32;
    for trained_steps in [0u32, 20] {
        let before = trained(engine, trained_steps.saturating_sub(1))?;
        let w = trained(engine, trained_steps)?;
        for batch_size in [8usize, 32, 128] {
            let mut found: Vec<(String, bool, Disagreement)> = Vec::new();
            let mut record = |label: String, honest: bool, d: Disagreement| match found.iter_mut().find(|(l, _, _)| *l == label) {
                Some((_, _, total)) => total.merge(&d),
                None => {
                    let mut total = Disagreement::empty();
                    total.merge(&d);
                    found.push((label, honest, total));
                },
            };
            for s in 0..samples {
                let idx = batch(&[3; 32], s, batch_size as u32, n);
                let verifier = variants::gradient(engine, Variant::Threads(2), &w, &before, &idx)?;
                // the same computation again, in this process (a reproducibility check, not a tolerance)
                let again = variants::gradient(engine, Variant::Threads(2), &w, &before, &idx)?;
                record("repeat, same process, 2 threads".into(), true, compare(&spec, &again, &verifier, tolerance)?);
                let cuda = tch::Cuda::is_available().then_some(Variant::Cuda);
                for v in Variant::HONEST.iter().chain(&cuda).chain(&Variant::CHEATS).filter(|v| **v != Variant::Threads(2)) {
                    if trained_steps == 0 && *v == Variant::StaleWeights {
                        continue; // no previous step at the initial state
                    }
                    let g = variants::gradient(engine, *v, &w, &before, &idx)?;
                    record(v.label(), v.is_honest(), compare(&spec, &g, &verifier, tolerance)?);
                }
                // poisoning honest codes: free choice (any value, window 0.5) and boundary-only (the margin)
                for (label, window) in [("cheat: 0.1% of codes moved by one, free choice", 0.5), ("allowed: every code within the margin moved", 1e-3)] {
                    let limit = if window < 0.5 { usize::MAX } else { (verifier.len() / 1000).max(1) };
                    let (leaves, moved) = variants::poison(&spec, &verifier, window, limit)?;
                    let c = variants::judge_leaves(&spec, &leaves, &verifier, tolerance)?;
                    let d = Disagreement { bit_identical: moved == 0, ..Disagreement::of(&c) };
                    record(label.into(), window < 0.5, d);
                }
            }
            for (scenario, honest, d) in found {
                rows.push(ToleranceRow {
                    model: engine.model().name().into(),
                    params: engine.model().layout().len(),
                    scenario,
                    honest,
                    batch_size,
                    trained_steps,
                    samples: samples as usize,
                    disagreement: d,
                });
            }
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct QualityReport {
    model: String,
    params: usize,
    steps: u32,
    codec_error_mean: CodecError,
    codec_error_worst: CodecError,
    pogo: Vec<CurvePoint>,
    fp32: Vec<CurvePoint>,
    /// Eval-split accuracy (classifier only): (initial, PoGO, fp32).
    accuracy: Option<(f64, f64, f64)>,
}

fn quality<M: Model>(engine: &Engine<M>, steps: u32, eval_every: u32) -> Result<(QualityReport, [Vec<f32>; 3])> {
    let w0 = engine.model().layout().init(&[1; 32]);
    let pogo_run = pogo_curve(engine, w0.clone(), &[5; 32], steps, eval_every)?;
    let fp32_run = plain_curve(engine, &w0, &[5; 32], steps, eval_every)?;
    let (pogo, errors, fp32) = (pogo_run.curve, pogo_run.codec_errors, fp32_run.curve);
    let n = errors.len().max(1) as f64;
    let mean = CodecError {
        relative_l2: errors.iter().map(|e| e.relative_l2).sum::<f64>() / n,
        cosine: errors.iter().map(|e| e.cosine).sum::<f64>() / n,
    };
    let worst = CodecError {
        relative_l2: errors.iter().map(|e| e.relative_l2).fold(0.0, f64::max),
        cosine: errors.iter().map(|e| e.cosine).fold(1.0, f64::min),
    };
    let report = QualityReport {
        model: engine.model().name().into(),
        params: engine.model().layout().len(),
        steps,
        codec_error_mean: mean,
        codec_error_worst: worst,
        pogo,
        fp32,
        accuracy: None,
    };
    Ok((report, [w0, pogo_run.weights, fp32_run.weights]))
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let settings = pin_torch_settings(2);
    match args.first().map(String::as_str) {
        Some("settings") => write_json(None, &settings),
        Some("tolerance") => {
            let tolerance = Tolerance::DEFAULT;
            let mut rows = Vec::new();
            let (m, d, s) = tasks::digits_task(None)?;
            tolerance_rows(&Engine::new(m, d, s, Device::Cpu)?, &tolerance, &mut rows)?;
            let (m, d, s) = tasks::text_task(None, GptConfig::SMALL)?;
            tolerance_rows(&Engine::new(m, d, s, Device::Cpu)?, &tolerance, &mut rows)?;
            for r in &rows {
                let d = &r.disagreement;
                eprintln!(
                    "{:<10} {:<48} b={:<4} t={:<3} {} codes={:<8} flips={:<5} bad_codes={:<6} bad_scales={:<5} bound_use={:>8.2e} excess={:>8.2e} scale={:.2e} err/step={:.2e} err/block={:.2e}",
                    r.model, r.scenario, r.batch_size, r.trained_steps, if d.passes { "PASS" } else { "FAIL" }, d.codes,
                    d.boundary_flips, d.bad_codes, d.bad_scales, d.worst_bound_use, d.worst_code_excess, d.worst_scale_error,
                    d.max_error_of_step_max, d.max_error_of_block_max
                );
            }
            write_json(arg(&args, "--out"), &serde_json::json!({ "settings": settings, "tolerance": {
                "boundary_margin_ppm": tolerance.boundary_margin_ppm,
                "max_scale_error_ppm": tolerance.max_scale_error_ppm,
                "noise_floor_ppm": tolerance.noise_floor_ppm,
            }, "rows": rows }))
        },
        Some("quality") => {
            let steps: u32 = arg(&args, "--steps").map(|s| s.parse()).transpose()?.unwrap_or(200);
            let (m, d, s) = tasks::digits_task(None)?;
            let engine = Engine::new(m, d, s, Device::Cpu)?;
            let (mut digits, [w0, wp, wf]) = quality(&engine, steps, 10)?;
            digits.accuracy = Some((eval_accuracy(&engine, &w0)?, eval_accuracy(&engine, &wp)?, eval_accuracy(&engine, &wf)?));
            let (m, d, s) = tasks::text_task(None, GptConfig::SMALL)?;
            let (text, _) = quality(&Engine::new(m, d, s, Device::Cpu)?, steps, 20)?;
            for r in [&digits, &text] {
                let last = |c: &[CurvePoint]| c.iter().rev().find_map(|p| p.eval_loss).unwrap_or(f64::NAN);
                eprintln!(
                    "{:<10} {:>8} params: codec rel. error {:.4} (worst {:.4}), cosine {:.5} (worst {:.5}); eval loss after {} steps: PoGO {:.4}, fp32 {:.4}",
                    r.model, r.params, r.codec_error_mean.relative_l2, r.codec_error_worst.relative_l2, r.codec_error_mean.cosine,
                    r.codec_error_worst.cosine, r.steps, last(&r.pogo), last(&r.fp32)
                );
                if let Some((a0, ap, af)) = r.accuracy {
                    eprintln!("{:<10} eval accuracy: initial {a0:.4}, PoGO {ap:.4}, fp32 {af:.4}", r.model);
                }
            }
            write_json(arg(&args, "--out"), &serde_json::json!({ "settings": settings, "models": [digits, text] }))
        },
        _ => {
            eprintln!("usage: pogo-measure settings | tolerance [--out FILE] | quality [--out FILE] [--steps N]");
            std::process::exit(2);
        },
    }
}
