//! Sections 6 and 7: round times on the stated hardware, and what a verifier spends next to the miner in
//! both verification modes.

use super::{sizes::distinct_steps, Md, IMAGE_DIR, RATIO_PLOT};
use crate::{
    cost::Cost,
    format::{bytes, count, int, percent, rate, seconds, sig},
    report::Report,
};

pub(super) fn round_times(md: &mut Md, r: &Report) {
    let s = &r.inputs.stated;
    md.line("## 6. Round times on the stated hardware");
    md.blank();
    md.line(format!(
        "Section 11's pinned compute settings (TF32 off, no autocast, no BF16 or FP16: fp32 throughout) put \
         training on the accelerator's fp32 units: {} per {}, against {} for dense BF16 on its tensor cores, \
         {} times more. The BF16 columns show what a mixed-precision trainer would get; pogo does not allow it.",
        rate(s.accelerator.fp32_flops.value, "flop/s"),
        s.accelerator.name,
        rate(s.accelerator.bf16_dense_flops.value, "flop/s"),
        sig(s.accelerator.bf16_dense_flops.value / s.accelerator.fp32_flops.value, 3)
    ));
    md.blank();
    let mut header = vec!["per step".to_string()];
    for m in &r.models {
        header.push(format!("{}, fp32", m.model.name));
        header.push(format!("{}, BF16", m.model.name));
    }
    type Row<'a> = (&'static str, Box<dyn Fn(&crate::report::ModelReport, bool) -> String + 'a>);
    let rows: Vec<Row<'_>> = vec![
        ("training flop", Box::new(|m, _| sig(m.workload.train_flop(), 3))),
        (
            "training step, one node",
            Box::new(|m, bf| seconds(m.workload.train_step(if bf { &r.bf16 } else { &r.fp32 }))),
        ),
        ("nodes M (memory, section 3)", Box::new(|m, _| count(m.nodes))),
        (
            "training step on M nodes",
            Box::new(|m, bf| seconds(m.workload.train_step(if bf { &r.bf16 } else { &r.fp32 }) / m.nodes)),
        ),
        (
            "bookkeeping (codec, update, gradient root), one node",
            Box::new(|m, _| seconds(m.workload.miner_bookkeeping(&r.fp32))),
        ),
        (
            "clipping norm: leaves' square sums, one node",
            Box::new(|m, _| seconds(m.workload.clipping_norm_leaf_sums(&r.fp32))),
        ),
        (
            "clipping norm: adding the leaf sums, one core (any M)",
            Box::new(|m, _| seconds(m.workload.leaf_sum_combine(&r.fp32))),
        ),
        ("state root at a checkpoint, one node", Box::new(|m, _| seconds(m.workload.state_root(&r.fp32)))),
    ];
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|(name, value)| {
            let mut row = vec![(*name).to_string()];
            for m in &r.models {
                row.push(value(m, false));
                row.push(value(m, true));
            }
            row
        })
        .collect();
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    md.table(&header, &format!("l{}", "r".repeat(2 * r.models.len())), &table);
    md.line(
        "Whole rounds, wall-clock on the `M` nodes the state needs (node-seconds divided by `M`, plus the \
         serial addition of the clipping norm's leaf sums), miner and one verifier:",
    );
    md.blank();
    let mut rows = Vec::new();
    for m in &r.models {
        for round in &m.rounds {
            let c = round.choice;
            rows.push(vec![
                m.model.name.clone(),
                format!("{} / {} / {}", int(u64::from(c.steps)), c.sampled_steps, c.verifiers),
                seconds(round.miner.wall(m.nodes)),
                seconds(round.miner_bf16.wall(m.nodes)),
                seconds(round.full.wall(m.nodes)),
                seconds(round.sampled.wall(m.nodes)),
            ]);
        }
    }
    md.table(
        &["model", "T / k / V", "miner, fp32", "miner, BF16", "verifier (a), fp32", "verifier (b), fp32"],
        "llrrrr",
        &rows,
    );
}

pub(super) fn verifier_costs(md: &mut Md, r: &Report) {
    md.line("## 7. A verifier next to the miner: full replay and sampled replay");
    md.blank();
    md.line(
        "Mode (a) is full replay, protocol section 11 (`VerificationMode::FullReplay`, the default): every verifier \
         downloads every step's gradient and replays every leaf. Mode (b) is sampled replay, section 11b \
         (`SampledReplay`): each verifier replays its `k_l` sampled leaves through all `T` steps from Merkle-proven \
         openings, checked per leaf and segment with `fraud::verify`, and replays the whole state only from a \
         sampled step's checkpoint to the step. With `P` parameters, `S` state bytes, `G` gradient bytes per step, \
         `R` record bytes, `c` the checkpoint interval, `t_x` the node time of `x` at the rates above and `bw` the \
         stated link:",
    );
    md.blank();
    md.line("```");
    md.line("miner        = T·(t_train + t_codec + t_update + t_groot + t_norm) + ceil(T/c)·t_sroot");
    md.line("(a) full     = (S + T·G + R + o·(s + π_s))/bw                       download: base state, every gradient");
    md.line("             + t_sroot + T·(t_groot + t_deq + t_update + t_norm)     base root, replay of every step");
    md.line("             + ceil(T/c)·t_sroot + (2T − 1)·t_node                   checkpoint roots, trace root");
    md.line("             + k·(t_train + t_deq) + t_eval                          k recomputed steps, evaluation");
    md.line("(b) sampled  = (2S + k·(q·S + (d+1)·G) + k_l·(T·(g + π_g) + (ceil(T/c) + 1)·(s + π_s)) + R)/bw");
    md.line("             + (2 + k·q)·t_sroot + k·(d·(t_groot + t_deq + t_update) + t_groot + t_deq)");
    md.line("             + k_l·T·t_leaf + (k_l·((T + ceil(T/c) + 1)·depth + T·depth_T) + 2T − 1)·t_node");
    md.line("             + k·t_norm + k·t_train + t_eval");
    md.line("```");
    md.blank();
    md.line(
        "`g`, `s` are one gradient and one state leaf, `π_g`, `π_s` their proofs, `depth` and `depth_T` the \
         depths of the state and trace trees, `o` the opened final-state leaves, `t_leaf` the replay of one leaf \
         for one step, `t_node` one Merkle node hash, `t_norm` the clipping norm of one step (its leaves' square \
         sums on every core, then their addition in leaf order on one core, the only serial term). In (b) a \
         sampled step starts from its segment's checkpoint: `q` is the share of steps outside segment 0 (which \
         starts at the base state) and `d` the mean number of steps from a segment's start to a uniformly drawn \
         step (computed from `TrainingSpec::segment_steps`); only the sampled step's clipping factor is checked \
         against its whole gradient. Both modes download the base state and (b) the final state too, for the \
         evaluation (section 11b's own estimate leaves the base out: a verifier may hold it from the previous \
         round). The ratio is verifier / miner node-seconds for **one** verifier; `V ×` is all verifiers of a \
         level-0 set.",
    );
    md.blank();
    let mut rows = Vec::new();
    for m in &r.models {
        for round in &m.rounds {
            let c = round.choice;
            let v = f64::from(c.verifiers);
            rows.push(vec![
                m.model.name.clone(),
                format!("{} / {} / {}", int(u64::from(c.steps)), c.sampled_steps, c.verifiers),
                int(u64::from(round.plan.round.checkpoint_interval)),
                seconds(round.miner.total()),
                seconds(round.full.total()),
                sig(round.full_ratio(), 3),
                sig(v * round.full_ratio(), 3),
                seconds(round.sampled.total()),
                sig(round.sampled_ratio(), 3),
                sig(v * round.sampled_ratio(), 3),
            ]);
        }
    }
    md.line(format!(
        "Node-time per round (fp32; mode (b) with `k_l` = {} leaves):",
        r.inputs.stated.analysis.replay_leaves
    ));
    md.blank();
    md.table(
        &[
            "model",
            "T / k / V",
            "c",
            "miner",
            "verifier (a)",
            "ratio (a)",
            "V × (a)",
            "verifier (b)",
            "ratio (b)",
            "V × (b)",
        ],
        "llrrrrrrrr",
        &rows,
    );
    let mut rows = Vec::new();
    for m in &r.models {
        for round in &m.rounds {
            let c = round.choice;
            let v = f64::from(c.verifiers);
            rows.push(vec![
                m.model.name.clone(),
                format!("{} / {} / {}", int(u64::from(c.steps)), c.sampled_steps, c.verifiers),
                bytes(round.full.download_bytes),
                bytes(round.sampled.download_bytes),
                bytes(v * round.full.download_bytes),
                bytes(v * round.sampled.download_bytes),
                bytes(
                    f64::from(round.plan.round.checkpoints) * m.workload.sizes.state_bytes as f64
                        + f64::from(c.steps) * m.workload.sizes.gradient_bytes as f64,
                ),
                percent(round.full.network / round.full.total()),
            ]);
        }
    }
    md.line(
        "Bytes each verifier downloads, what the miner's data-availability server sends to the whole set, what it \
             stores for the round (every checkpoint state and every gradient, for verifiers and fraud proofs), and \
             the share of the download in a full-replay verifier's time:",
    );
    md.blank();
    md.table(
        &[
            "model",
            "T / k / V",
            "per verifier (a)",
            "per verifier (b)",
            "miner sends (a)",
            "miner sends (b)",
            "miner stores",
            "network share of (a)",
        ],
        "llrrrrrr",
        &rows,
    );
    breakdown(md, r);
    md.line(format!("![verifier / miner ratio against T]({IMAGE_DIR}/{RATIO_PLOT})"));
    md.blank();
    if let Some(first) = r.models.first().and_then(|m| m.rounds.first()) {
        md.line(format!(
            "The plot uses k = {}, V = {} and `k_l` = {} for every T (k capped at T), with the largest allowed \
             checkpoint interval at each T.",
            first.choice.sampled_steps, first.choice.verifiers, r.inputs.stated.analysis.replay_leaves
        ));
    }
    for m in &r.models {
        let first = m.ratio_curve.iter().position(|(_, full, sampled)| sampled < full);
        let cheaper = match first {
            None => "at no plotted T".to_string(),
            Some(i) => {
                let t = m.ratio_curve.get(i).map(|p| int(p.0 as u64)).unwrap_or_default();
                if m.ratio_curve.iter().skip(i).all(|(_, full, sampled)| sampled < full) {
                    format!("from T = {t} on (of the plotted T)")
                } else {
                    format!("first at T = {t}, though not at every larger plotted T")
                }
            },
        };
        let s = &m.workload.sizes;
        md.line(format!(
            "* {}: sampled replay costs less than full replay {cheaper}. It downloads at least two full states \
             (base and final, for the evaluation) and per sampled step outside segment 0 a checkpoint state, plus \
             up to `c` gradients per sampled step (fewer with a smaller `c`), while full replay downloads one state \
             and `T` gradients; one state is {} gradients of a step.",
            m.model.name,
            sig(s.state_bytes as f64 / s.gradient_bytes as f64, 3)
        ));
    }
    md.blank();
}

/// Per resource, for each distinct T (its first round shape).
fn breakdown(md: &mut Md, r: &Report) {
    md.line("Where the time goes (node-time per round, fp32):");
    md.blank();
    let mut rows = Vec::new();
    for m in &r.models {
        for i in distinct_steps(m) {
            let Some(round) = m.rounds.get(i) else { continue };
            let c = round.choice;
            let shape = format!("{} / {} / {}", int(u64::from(c.steps)), c.sampled_steps, c.verifiers);
            for (party, cost) in
                [("miner", &round.miner), ("verifier (a)", &round.full), ("verifier (b)", &round.sampled)]
            {
                rows.push(resource_row(&m.model.name, &shape, party, cost));
            }
        }
    }
    md.table(
        &["model", "T / k / V", "party", "GPU", "CPU, all cores", "adding leaf sums, one core", "download", "total"],
        "lllrrrrr",
        &rows,
    );
}

fn resource_row(model: &str, shape: &str, party: &str, c: &Cost) -> Vec<String> {
    let or_dash = |x: f64| if x > 0.0 { seconds(x) } else { "–".to_string() };
    vec![
        model.to_string(),
        shape.to_string(),
        party.to_string(),
        or_dash(c.gpu),
        or_dash(c.cpu),
        or_dash(c.serial),
        or_dash(c.network),
        seconds(c.total()),
    ]
}
