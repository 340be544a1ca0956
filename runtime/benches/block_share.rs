//! Every pallet-pogo extrinsic's generated weight at the runtime's configured maxima as a share of the
//! block (`RuntimeBlockWeights::max_block`): ref_time and proof size, one `summary:` line each (goal: at
//! most a tenth of a block, the bound the runtime's test enforces), and the largest fraud proof's
//! verification time in the wasm runtime (`report_fraud` at the maximum checkpoint interval and pending
//! rounds; the weights were measured on the wasm runtime, `pallets/pogo/src/weights.rs`).
//!
//! Not a timing benchmark: it reads the generated weights, so it runs the same under `cargo test`.

use pogo_runtime::limits::{max_block, percent, pogo_weights_at_maxima, MAX_SHARE_PERCENT};

/// Picoseconds of ref_time per millisecond.
const PS_PER_MS: f64 = 1e9;

fn main() {
    let max = max_block();
    println!(
        "pallet-pogo weights at the configured maxima against the block: {:.1} ms ref_time, {} bytes of proof{}",
        max.ref_time() as f64 / PS_PER_MS,
        max.proof_size(),
        if cfg!(feature = "fast-runtime") { " (fast-runtime build)" } else { "" }
    );
    println!("{:<26} {:<18} {:>12} {:>8} {:>12} {:>8}", "extrinsic", "at", "ref_time ms", "% block", "proof bytes", "% block");
    let goal = MAX_SHARE_PERCENT as f64;
    let mut lines = Vec::new();
    for w in pogo_weights_at_maxima() {
        let (rt, ps) = (percent(w.weight.ref_time(), max.ref_time()), percent(w.weight.proof_size(), max.proof_size()));
        println!(
            "{:<26} {:<18} {:>12.2} {:>8.2} {:>12} {:>8.2}",
            w.name,
            w.components,
            w.weight.ref_time() as f64 / PS_PER_MS,
            rt,
            w.weight.proof_size(),
            ps
        );
        let key: String = w.name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
        let key = key.trim_end_matches('_').replace("__", "_");
        for (what, value) in [("ref_time", rt), ("proof_size", ps)] {
            let met = if value <= goal { "met" } else { "not-met" };
            lines.push(format!("summary: block_share_{key}_{what} {value:.3} % <={goal} {met}"));
        }
        if w.name == "report_fraud (declared)" {
            let ms = w.weight.ref_time() as f64 / PS_PER_MS;
            println!("largest fraud proof ({}): {ms:.2} ms of wasm execution and storage access", w.components);
            lines.push(format!("summary: fraud_proof_largest_wasm_time {ms:.2} ms - info"));
        }
    }
    for line in lines {
        println!("{line}");
    }
}
