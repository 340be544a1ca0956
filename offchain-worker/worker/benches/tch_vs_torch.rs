#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark aborts on a failed step
//! The plain tch loop against the same model in PyTorch (Python), issue 15: what tch costs or saves.
//!
//! Per model, on the CPU with the pinned settings and `POGO_BENCH_THREADS` intra-op threads (default 2):
//!
//! - **tch**: `PlainTrainer::step` (forward, cross-entropy, backward, tch's gradient-norm clipping at 1,
//!   libtorch's C++ AdamW), `W` warm-up steps, then the median of `N` timed steps;
//! - **pytorch**: `python3 scripts/torch_step.py` as a subprocess, the same byte GPT written op for op in
//!   PyTorch (one flat parameter vector with the worker's views, the same attention, GELU, LayerNorms and
//!   loss), the same step (tch's clipping, `torch.optim.AdamW` with the same hyper-parameters), the same
//!   pinned settings and thread count, and the very same initial weights and batches (written by this bench
//!   to a temporary directory), timed the same way.
//!
//! Both sides run the same libtorch (tch links the PyTorch wheel's, `LIBTORCH_USE_PYTORCH=1`; the bench
//! prints both library paths), so the difference is the front end: Rust and tch's C API against Python and
//! its dispatcher, and libtorch's C++ AdamW against PyTorch's Python AdamW. Both sides' losses are compared
//! step by step (the table counts the bit-identical ones): the first (same weights, same batch, before any
//! update) must agree to 1e-5 relative, the later ones to 1e-3 (room for the two AdamW implementations,
//! which may round differently).
//!
//! Summary lines (`summary: NAME VALUE UNIT - info`): `tch_step_ms_<model>`, `pytorch_step_ms_<model>`,
//! `tch_over_pytorch_<model>` (below 1: tch is faster) and `tch_pytorch_loss_diff_<model>`. Models:
//! `POGO_BENCH_MODELS` = a comma list of `small`, `10m`, `100m` (default `10m,100m` under `--bench`: 1
//! warm-up and 5 timed steps for `10m`, 3 for `100m`; under `cargo test` `small` once with 2 steps, to keep
//! the bench built and working). `POGO_BENCH_STEPS` overrides the timed steps, `POGO_BENCH_BATCH` the
//! batch (default 8, as `miner_share`), `POGO_PYTHON` the interpreter (default `python3`). Without python3
//! or torch it prints `skipped: <reason>` and succeeds.
//!
//! ```text
//! cargo bench --manifest-path offchain-worker/Cargo.toml --profile testnet -p pogo-worker --bench tch_vs_torch
//! ```
//! Needs the Shakespeare data (scripts/setup.sh).

mod common;

use common::{median, text_engine};
use pogo_engine::{
    measure::PlainTrainer,
    model::{Gpt, GptConfig, Model},
    pin_torch_settings, Engine,
};
use std::{
    collections::HashMap,
    hint::black_box,
    io::{BufWriter, Write},
    path::Path,
    process::Command,
    time::Instant,
};

const SEED: [u8; 32] = [2; 32];
const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/torch_step.py");

/// The interpreter's torch version, or why there is none.
fn python_torch(python: &str) -> Result<String, String> {
    if !Path::new(SCRIPT).is_file() {
        return Err(format!("{SCRIPT} not found"));
    }
    let probe = "import warnings; warnings.filterwarnings('ignore'); import torch; print(torch.__version__)";
    let out = Command::new(python).args(["-c", probe]).output().map_err(|e| format!("{python} cannot be run: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!("{python} cannot import torch: {}", err.lines().last().unwrap_or("").trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The directory of the libtorch this process loaded (from /proc/self/maps; Linux only).
fn loaded_libtorch() -> String {
    std::fs::read_to_string("/proc/self/maps")
        .ok()
        .and_then(|maps| {
            maps.lines().find_map(|l| {
                let path = l.split_whitespace().nth(5)?;
                path.ends_with("libtorch_cpu.so").then(|| Path::new(path).parent().map(|p| p.display().to_string()))?
            })
        })
        .unwrap_or_else(|| "unknown".into())
}

struct Side {
    median_ms: f64,
    min_ms: f64,
    losses: Vec<f64>,
}

struct Measured {
    name: String,
    params: u64,
    timed: usize,
    tch: Side,
    torch: Side,
    /// |Δ| of the first loss, and the largest |Δ| over all steps.
    first_diff: f64,
    max_diff: f64,
    /// Steps whose two losses are the same f32.
    equal: usize,
    torch_lib: String,
}

/// The tch side: `PlainTrainer::step` from `w0` on the batches of steps `0..warmup + steps`.
fn measure_tch(engine: &Engine<Gpt>, w0: &[f32], warmup: usize, steps: usize) -> Side {
    let mut plain = PlainTrainer::new(engine, w0, 1e-3).unwrap();
    let mut times = Vec::new();
    let mut losses = Vec::new();
    for s in 0..warmup + steps {
        let indices = engine.batch_indices(&SEED, s as u32);
        let t = Instant::now();
        let loss = black_box(plain.step(&indices).unwrap());
        let dt = t.elapsed().as_secs_f64();
        if s >= warmup {
            times.push(dt);
        }
        losses.push(f64::from(loss));
        eprintln!("  tch step {s}{}: {:.1} ms, loss {loss:.6}", if s < warmup { " (warm-up)" } else { "" }, dt * 1e3);
    }
    let min_ms = times.iter().copied().fold(f64::INFINITY, f64::min) * 1e3;
    Side { median_ms: median(times) * 1e3, min_ms, losses }
}

/// The PyTorch side: scripts/torch_step.py on the same weights and batches; its `torch_step:` line.
#[allow(clippy::too_many_arguments)]
fn measure_torch(
    python: &str,
    name: &str,
    params: u64,
    threads: usize,
    batch: u32,
    warmup: usize,
    steps: usize,
    weights: &Path,
    records: &Path,
) -> (Side, HashMap<String, String>) {
    let out = Command::new(python)
        .arg(SCRIPT)
        .args(["--config", name, "--threads", &threads.to_string(), "--batch", &batch.to_string()])
        .args(["--warmup", &warmup.to_string(), "--steps", &steps.to_string(), "--expect-params", &params.to_string()])
        .arg("--weights")
        .arg(weights)
        .arg("--records")
        .arg(records)
        .output()
        .expect("run scripts/torch_step.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    for line in stdout.lines().filter(|l| !l.starts_with("torch_step: ")) {
        eprintln!("  pytorch | {line}");
    }
    if !out.status.success() {
        panic!("scripts/torch_step.py failed ({}):\n{stdout}\n{}", out.status, String::from_utf8_lossy(&out.stderr));
    }
    let line = stdout.lines().find_map(|l| l.strip_prefix("torch_step: ")).expect("scripts/torch_step.py: no torch_step: line");
    let fields: HashMap<String, String> =
        line.split_whitespace().filter_map(|kv| kv.split_once('=')).map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let num = |k: &str| -> f64 { fields.get(k).and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("torch_step: no {k}")) };
    let losses = fields.get("losses").map(|l| l.split(',').map(|v| v.parse().unwrap()).collect()).unwrap_or_default();
    (Side { median_ms: num("median_ms"), min_ms: num("min_ms"), losses }, fields)
}

/// Writes `values` as raw little-endian f32.
fn write_f32(path: &Path, values: &[f32]) {
    let mut f = BufWriter::new(std::fs::File::create(path).unwrap());
    for chunk in values.chunks(1 << 16) {
        let bytes: Vec<u8> = chunk.iter().flat_map(|v| v.to_le_bytes()).collect();
        f.write_all(&bytes).unwrap();
    }
    f.flush().unwrap();
}

#[allow(clippy::too_many_arguments)]
fn measure(python: &str, name: &str, config: GptConfig, threads: usize, batch: u32, warmup: usize, steps: usize) -> Measured {
    let engine = text_engine(config, batch);
    let params = engine.spec().param_count;
    eprintln!("tch_vs_torch: {name}, {params} parameters, {threads} threads, batch {batch}, {warmup} warm-up + {steps} steps ...");
    let w0 = engine.model().layout().init(&[1; 32]);

    // The weights and every step's records, for the Python side.
    let dir = tempfile::tempdir().unwrap();
    let (weights, records) = (dir.path().join("weights.f32"), dir.path().join("records.u8"));
    write_f32(&weights, &w0);
    let mut bytes = Vec::new();
    for s in 0..warmup + steps {
        for r in engine.data().train.records(&engine.batch_indices(&SEED, s as u32)).unwrap() {
            bytes.extend_from_slice(r);
        }
    }
    std::fs::write(&records, bytes).unwrap();

    let tch = measure_tch(&engine, &w0, warmup, steps);
    drop(w0);
    let (torch, fields) = measure_torch(python, name, params, threads, batch, warmup, steps, &weights, &records);
    assert_eq!(fields.get("params").map(String::as_str), Some(params.to_string().as_str()), "parameter counts differ");
    assert_eq!(fields.get("pinned").map(String::as_str), Some("1"), "scripts/torch_step.py did not pin the settings");
    assert_eq!(tch.losses.len(), torch.losses.len(), "step counts differ");

    let diffs: Vec<f64> = tch.losses.iter().zip(&torch.losses).map(|(a, b)| (a - b).abs()).collect();
    let first_diff = diffs[0];
    let max_diff = diffs.iter().copied().fold(0.0, f64::max);
    let equal = diffs.iter().filter(|&&d| d == 0.0).count();
    Measured {
        name: name.to_string(),
        params,
        timed: steps,
        tch,
        torch,
        first_diff,
        max_diff,
        equal,
        torch_lib: fields.get("torch_lib").cloned().unwrap_or_default(),
    }
}

fn main() {
    let bench_mode = std::env::args().any(|a| a == "--bench");
    let python = std::env::var("POGO_PYTHON").unwrap_or_else(|_| "python3".into());
    let version = match python_torch(&python) {
        Ok(v) => v,
        Err(reason) => {
            println!("skipped: {reason}");
            return;
        },
    };
    let threads: usize = std::env::var("POGO_BENCH_THREADS").ok().and_then(|v| v.parse().ok()).unwrap_or(2);
    let batch: u32 = std::env::var("POGO_BENCH_BATCH").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    let steps_override: Option<usize> = std::env::var("POGO_BENCH_STEPS").ok().and_then(|v| v.parse().ok());
    let settings = pin_torch_settings(threads);
    assert!(settings.is_pinned(), "libtorch refused a pinned setting: {settings:?}");
    let models = std::env::var("POGO_BENCH_MODELS").unwrap_or_else(|_| if bench_mode { "10m,100m".into() } else { "small".into() });

    let mut results = Vec::new();
    for name in models.split(',').map(str::trim) {
        let (config, steps) = match name {
            "small" => (GptConfig::SMALL, 2),
            "10m" => (GptConfig::BENCH_10M, 5),
            "100m" => (GptConfig::BENCH_100M, 3),
            other => panic!("POGO_BENCH_MODELS: unknown model {other} (small, 10m, 100m)"),
        };
        results.push(measure(&python, name, config, threads, batch, 1, steps_override.unwrap_or(steps).max(1)));
    }

    let tch_lib = loaded_libtorch();
    println!(
        "\nplain training step, tch (Rust) against PyTorch {version} (Python), CPU, {threads} intra-op threads, batch {batch}, medians"
    );
    println!("libtorch: tch {tch_lib}");
    if let Some(r) = results.first() {
        let same = if r.torch_lib == tch_lib { "the same" } else { "DIFFERENT" };
        println!("          pytorch {} ({same})", r.torch_lib);
    }
    println!(
        "{:<7} {:>12} {:>6} {:>11} {:>11} {:>14} {:>14} {:>12} {:>12} {:>12} {:>12}",
        "model",
        "params",
        "steps",
        "tch (ms)",
        "tch min",
        "pytorch (ms)",
        "pytorch min",
        "tch/pytorch",
        "|Δloss| 1st",
        "|Δloss| max",
        "equal loss"
    );
    for r in &results {
        println!(
            "{:<7} {:>12} {:>6} {:>11.1} {:>11.1} {:>14.1} {:>14.1} {:>12.3} {:>12.2e} {:>12.2e} {:>12}",
            r.name,
            r.params,
            r.timed,
            r.tch.median_ms,
            r.tch.min_ms,
            r.torch.median_ms,
            r.torch.min_ms,
            r.tch.median_ms / r.torch.median_ms,
            r.first_diff,
            r.max_diff,
            format!("{}/{}", r.equal, r.tch.losses.len())
        );
    }
    for r in &results {
        let n = &r.name;
        println!("summary: tch_step_ms_{n} {:.1} ms - info", r.tch.median_ms);
        println!("summary: pytorch_step_ms_{n} {:.1} ms - info", r.torch.median_ms);
        println!("summary: tch_over_pytorch_{n} {:.3} ratio - info", r.tch.median_ms / r.torch.median_ms);
        println!("summary: tch_pytorch_loss_diff_{n} {:.3e} nats - info", r.max_diff);
    }
    // The comparison is only fair if both sides train the same model: the same loss before any update,
    // and nearly the same after (the two AdamW implementations round differently).
    for r in &results {
        let scale = r.tch.losses[0].abs().max(1.0);
        assert!(r.first_diff <= 1e-5 * scale, "{}: first losses differ by {:.3e}: not the same model", r.name, r.first_diff);
        assert!(r.max_diff <= 1e-3 * scale, "{}: losses drift apart by {:.3e}: not the same step", r.name, r.max_diff);
    }
}
