//! Sections 3–5: sizes per step and per round, hashing time per commitment, bytes on chain.

use super::Md;
use crate::{
    format::{bytes, count, int, rate, seconds, sig},
    report::{ModelReport, Report},
    sizes::{OnChainSizes, StepSizes},
};

/// The distinct step counts of the stated round shapes, in order.
pub(super) fn distinct_steps(m: &ModelReport) -> Vec<usize> {
    let mut seen: Vec<u32> = Vec::new();
    let mut out = Vec::new();
    for (i, round) in m.rounds.iter().enumerate() {
        if !seen.contains(&round.choice.steps) {
            seen.push(round.choice.steps);
            out.push(i);
        }
    }
    out
}

pub(super) fn step_sizes(md: &mut Md, r: &Report) {
    md.line("## 3. Sizes per step (protocol)");
    md.blank();
    md.line(
        "Computed with `pogo-primitives`: `TrainingSpec::leaf_count` and `leaf_range`, `state_leaf_len` \
         (`4 · n · (1 + slots)`, the layout of `state::leaf_bytes`, AdamW: 2 slots), `gradient_leaf_len` (the codec's \
         `quant::encoded_len`: per block of 64 values a 4-byte scale and 32 bytes of codes), summed over every leaf; \
         the depth is the number of halvings of `MerkleProof::verify_hash` (section 5), and the proof size is the \
         SCALE size of a real `MerkleProof` with a full path.",
    );
    md.blank();
    let mut columns: Vec<(String, &StepSizes)> = Vec::new();
    for m in &r.models {
        columns.push((
            format!("{}, leaf {}", m.model.name, int(u64::from(m.workload.sizes.leaf_size))),
            &m.workload.sizes,
        ));
        columns.push((format!("{}, leaf {}", m.model.name, int(u64::from(m.alternative.leaf_size))), &m.alternative));
    }
    type Row = (&'static str, fn(&StepSizes) -> String);
    let rows: [Row; 9] = [
        ("leaves (state and gradient trees)", |s| int(s.tree.leaves)),
        ("tree depth", |s| s.tree.depth.to_string()),
        ("proof, full path (bytes)", |s| int(s.tree.proof_bytes)),
        ("state leaf (bytes)", |s| int(s.state_leaf_bytes)),
        ("gradient leaf (bytes)", |s| int(s.gradient_leaf_bytes)),
        ("state: weights, m, v (f32)", |s| bytes(s.state_bytes as f64)),
        ("4-bit gradient per step", |s| bytes(s.gradient_bytes as f64)),
        ("gradient bits per parameter", |s| sig(s.gradient_bits_per_param(), 4)),
        ("state / gradient", |s| sig(s.state_bytes as f64 / s.gradient_bytes as f64, 4)),
    ];
    let mut header = vec!["per step"];
    header.extend(columns.iter().map(|(name, _)| name.as_str()));
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|(name, value)| {
            let mut row = vec![(*name).to_string()];
            row.extend(columns.iter().map(|(_, s)| value(s)));
            row
        })
        .collect();
    md.table(&header, &format!("l{}", "r".repeat(columns.len())), &table);
    let s = &r.inputs.stated;
    for m in &r.models {
        md.line(format!(
            "* {}: the state and one f32 gradient ({}) need **{} node(s)** of {} × {} accelerator memory \
             (activations not counted).",
            m.model.name,
            bytes(m.workload.sizes.state_bytes as f64 + 4.0 * m.workload.sizes.params as f64),
            count(m.nodes),
            count(s.node.gpus.value),
            bytes(s.accelerator.memory.value)
        ));
    }
    md.line(
        "* A larger leaf shortens proofs by two levels per factor 4 but makes every fraud proof and every opened \
         leaf 4 times larger (section 15); the per-step bytes do not change.",
    );
    md.blank();
}

pub(super) fn round_sizes(md: &mut Md, r: &Report) {
    md.line("## 3a. Sizes per round (protocol)");
    md.blank();
    md.line(
        "The checkpoint interval `c` is the largest a task may use: `min(MaxCheckpointInterval, \
         fraud::max_checkpoint_interval(spec, MaxFraudProofLen), T)` (section 15). Records are SCALE `StepRecord`s \
         (57 bytes, 89 at a checkpoint); the largest fraud proof is `fraud::max_encoded_len`.",
    );
    md.blank();
    let mut rows = Vec::new();
    for m in &r.models {
        for i in distinct_steps(m) {
            let Some(round) = m.rounds.get(i) else { continue };
            let p = &round.plan.round;
            rows.push(vec![
                m.model.name.clone(),
                int(u64::from(p.steps)),
                int(u64::from(p.checkpoint_interval)),
                int(u64::from(p.checkpoints)),
                p.trace.depth.to_string(),
                int(p.trace.proof_bytes),
                bytes(p.trace_bytes as f64),
                bytes(p.fraud_proof_bytes as f64),
                bytes(f64::from(p.steps) * m.workload.sizes.gradient_bytes as f64),
            ]);
        }
    }
    md.table(
        &[
            "model",
            "T",
            "c",
            "checkpoints",
            "trace depth",
            "record proof (bytes)",
            "all records",
            "largest fraud proof",
            "gradients of the round",
        ],
        "lrrrrrrrr",
        &rows,
    );
}

pub(super) fn hashing(md: &mut Md, r: &Report) {
    let cpu = &r.inputs.cpu;
    let s = &r.inputs.stated;
    md.line("## 4. Hashing time per commitment");
    md.blank();
    md.line(format!(
        "CPU: the measured throughput of the state root ({}) and of the gradient root ({}) on the bench machine \
         ({} threads), per core, and scaled linearly to the node's {} cores (an estimate). GPU: **not measured**; \
         pogo has no BLAKE3 kernel (docs/cuda.md). The GPU column is an estimate, the bytes divided by the stated \
         memory bandwidth ({}), a lower bound that assumes hashing keeps pace with one read of the accelerator's \
         memory.",
        rate(cpu.state_root, "B/s"),
        rate(cpu.gradient_root, "B/s"),
        count(cpu.threads),
        count(s.node.cpu_cores.value),
        rate(s.accelerator.memory_bandwidth.value, "B/s"),
    ));
    md.blank();
    let per_core = |rate: f64| rate / cpu.threads;
    let mut rows = Vec::new();
    for m in &r.models {
        let z = &m.workload.sizes;
        for (what, amount, rate_measured) in [
            ("state root", z.state_bytes as f64, cpu.state_root),
            ("gradient root", z.gradient_bytes as f64, cpu.gradient_root),
        ] {
            let bandwidth = s.accelerator.memory_bandwidth.value;
            rows.push(vec![
                m.model.name.clone(),
                what.to_string(),
                bytes(amount),
                seconds(amount / rate_measured),
                seconds(amount / per_core(rate_measured)),
                seconds(amount / (per_core(rate_measured) * s.node.cpu_cores.value)),
                seconds(amount / bandwidth),
                seconds(amount / (bandwidth * s.node.gpus.value)),
            ]);
        }
    }
    let bench = format!("bench machine, {} threads (measured rate)", count(cpu.threads));
    let node = format!("node, {} cores (estimate)", count(s.node.cpu_cores.value));
    let gpus = format!("{} accelerators (estimate)", count(s.node.gpus.value));
    md.table(
        &["model", "commitment", "bytes", &bench, "one core", &node, "one accelerator (estimate)", &gpus],
        "llrrrrrr",
        &rows,
    );
    let goal = |name: &str| {
        r.inputs.measured.get(name).map(|s| s.value_text.clone()).unwrap_or_else(|| "(not in the file)".to_string())
    };
    md.line(format!(
        "A state root is computed at every checkpoint by the miner and by every full-replay verifier; a gradient \
         root at every step. On the bench machine the state root ran at {} and the gradient root at {} of raw \
         BLAKE3 over the same bytes (the goal lines of section 1.1; docs/performance.md explains the gaps).",
        goal("state_root_vs_blake3"),
        goal("gradient_root_vs_blake3"),
    ));
    md.blank();
}

pub(super) fn on_chain(md: &mut Md, r: &Report) {
    let a = &r.inputs.stated.analysis;
    let sizes = OnChainSizes::new(usize::try_from(a.locator_bytes).unwrap_or(usize::MAX));
    md.line("## 5. Bytes on chain per round");
    md.blank();
    md.line(format!(
        "SCALE sizes of the call arguments, from the real types (`TaskId`, `SubmissionId`, `RoundCommitment`, \
         `Verdict`, `Hash`), plus {} bytes of pallet and call index; the signed extrinsic's envelope (signer, \
         signature, extensions) is the same for every call and not counted. The locator (the miner's \
         data-availability address) is taken as {} bytes (an assumption; the runtime bounds it by `MaxLocatorLen`).",
        sizes.call_index, a.locator_bytes
    ));
    md.blank();
    let call = |args: u64| int(args.saturating_add(sizes.call_index));
    let rows = vec![
        vec![
            "`submit_round(task, commitment, locator)`".to_string(),
            format!("{} + {} + {}", sizes.task, sizes.round_commitment, sizes.locator),
            call(sizes.submit_round),
        ],
        vec![
            "`commit_verdict(submission, commitment)`".to_string(),
            format!("{} + {}", sizes.submission, sizes.hash),
            call(sizes.commit_verdict),
        ],
        vec![
            "`reveal_verdict(submission, Positive, salt)`".to_string(),
            format!("{} + {} + {}", sizes.submission, sizes.verdict_positive, sizes.hash),
            call(sizes.reveal_positive),
        ],
        vec![
            "`reveal_verdict(submission, Negative(BadGradient), salt)`".to_string(),
            format!("{} + {} + {}", sizes.submission, sizes.verdict_largest, sizes.hash),
            call(sizes.reveal_largest),
        ],
    ];
    md.table(&["call", "arguments (bytes)", "call data (bytes)"], "llr", &rows);
    let mut verifier_counts: Vec<u32> = Vec::new();
    for round in r.models.iter().flat_map(|m| m.rounds.iter()) {
        if !verifier_counts.contains(&round.choice.verifiers) {
            verifier_counts.push(round.choice.verifiers);
        }
    }
    let per_round: Vec<String> =
        verifier_counts.iter().map(|&v| format!("{} bytes with V = {v}", int(sizes.per_round(v)))).collect();
    md.line(format!(
        "A round decided at level 0 (one submission, a commit and a `Positive` reveal per verifier; progress by \
         `on_idle` or a permissionless `advance`) puts {} on chain, whatever the model or `T`.",
        per_round.join(", ")
    ));
    if let (Some(m), Some(round)) = (r.models.first(), r.models.first().and_then(|m| m.rounds.first())) {
        let off_chain = f64::from(round.choice.steps) * m.workload.sizes.gradient_bytes as f64;
        md.line(format!(
            "A round of {} at T = {} commits {} of gradients off chain: {} times its bytes on chain with V = {}.",
            m.model.name,
            int(u64::from(round.choice.steps)),
            bytes(off_chain),
            sig(off_chain / sizes.per_round(round.choice.verifiers) as f64, 3),
            round.choice.verifiers
        ));
    }
    md.blank();
}
