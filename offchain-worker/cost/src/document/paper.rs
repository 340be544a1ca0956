//! Sections 9 and 10: where the paper's conclusions hold and where ours disagree, and what is not measured.

use super::{detection::verifier_counts, Md};
use crate::{
    cost::{faked_steps_miss, tampered_leaves_miss},
    format::{bytes, count, detection, int, percent, rate, seconds, sig},
    measured::{PROTOCOL_V2_CLIPPING_NORM_ONE_CORE, PROTOCOL_V2_CLIPPING_NORM_SOURCE},
    report::{ModelReport, Report, RoundReport},
    sizes::OnChainSizes,
};

/// The round shape the comparison quotes: the first one whose `T` is the median of the distinct `T`s.
fn reference_round(m: &ModelReport) -> Option<&RoundReport> {
    let mut steps: Vec<u32> = m.rounds.iter().map(|r| r.choice.steps).collect();
    steps.sort_unstable();
    steps.dedup();
    let median = *steps.get(steps.len() / 2)?;
    m.rounds.iter().find(|r| r.choice.steps == median)
}

fn shape(round: &RoundReport) -> String {
    let c = round.choice;
    format!("T = {}, k = {}, V = {}", int(u64::from(c.steps)), c.sampled_steps, c.verifiers)
}

pub(super) fn comparison(md: &mut Md, r: &Report) {
    let a = &r.inputs.stated.analysis;
    md.line("## 9. Where the paper's conclusions hold and where ours disagree");
    md.blank();
    md.line(
        "The paper's own text and figures could not be retrieved where this tool was written (a search of stored \
         web pages and documentation for arXiv 2504.07540 and its title found nothing). **No figure of the paper is \
         quoted here**: the comparison is against the paper's claims as README.md and docs/protocol.md summarise \
         them. Numbers are for each model's reference round shape, the first with the median `T` of section 7.",
    );
    md.blank();
    let on_chain = OnChainSizes::new(usize::try_from(a.locator_bytes).unwrap_or(usize::MAX));
    md.line(
        "1. **\"The on-chain part of a round is O(1) in model size and round length\"** (protocol section 8). \
             *Holds.*",
    );
    for m in &r.models {
        let Some(round) = reference_round(m) else { continue };
        md.line(format!(
            "   * {} at {}: {} of call data on chain against {} of gradients off chain.",
            m.model.name,
            shape(round),
            bytes(on_chain.per_round(round.choice.verifiers) as f64),
            bytes(f64::from(round.choice.steps) * m.workload.sizes.gradient_bytes as f64)
        ));
    }
    md.line(
        "2. **\"Verifiers recompute a few randomly chosen steps\"**, so a verifier's accelerator work is a small \
             share of training. *Holds*: the share is `k/T` plus the evaluation.",
    );
    for m in &r.models {
        let Some(round) = reference_round(m) else { continue };
        let k_over_t = f64::from(round.choice.sampled_steps) / f64::from(round.choice.steps);
        md.line(format!(
            "   * {} at {}: verifier GPU / miner GPU = {} (k/T = {}; one evaluation of {} examples on both states is {} \
             of a training step).",
            m.model.name,
            shape(round),
            sig(round.full.gpu / round.miner.gpu, 3),
            sig(k_over_t, 3),
            a.eval_examples,
            percent(m.workload.evaluation(&r.fp32, a.eval_examples) / m.workload.train_step(&r.fp32))
        ));
    }
    md.line(
        "3. **\"Each verifier replays the whole update chain: cheap, element-wise\"** (README; protocol section 11, \
             step 3). *Holds for compute, not for data.* Replaying a step is a small share of training it, but a full \
             replay must first download every step's gradient, and the miner must send it to every verifier \
             (protocol section 18, item 13, already notes this at 10⁹ parameters):",
    );
    for m in &r.models {
        let Some(round) = reference_round(m) else { continue };
        let w = &m.workload;
        let replay = w.replay_step(&r.fp32) + w.clipping_norm(&r.fp32);
        md.line(format!(
            "   * {}: replaying one step takes {} of node time against {} to train it in fp32 ({}); at {}, a \
             full-replay verifier downloads {} ({} at the stated link, {} of its time), and the miner sends {}.",
            m.model.name,
            seconds(replay),
            seconds(w.train_step(&r.fp32)),
            percent(replay / w.train_step(&r.fp32)),
            shape(round),
            bytes(round.full.download_bytes),
            seconds(round.full.network),
            percent(round.full.network / round.full.total()),
            bytes(f64::from(round.choice.verifiers) * round.full.download_bytes)
        ));
    }
    norm_finding(md, r);
    md.line(format!(
        "5. **Determinism costs precision throughput.** Our pinned settings (protocol section 11) forbid TF32 and \
         BF16, so training runs at the fp32 peak, {} times slower than dense BF16 on the same accelerator. Rounds \
         take that much longer, and the verifier's *relative* cost shrinks because the miner's grows:",
        sig(r.bf16.flops / r.fp32.flops, 3)
    ));
    for m in &r.models {
        let Some(round) = reference_round(m) else { continue };
        md.line(format!(
            "   * {} at {}: miner round {} in fp32 against {} in BF16; ratio (a) {} in fp32, {} if the miner and the \
             verifier both used BF16.",
            m.model.name,
            shape(round),
            seconds(round.miner.wall(m.nodes)),
            seconds(round.miner_bf16.wall(m.nodes)),
            sig(round.full_ratio(), 3),
            sig(round.full_bf16.total() / round.miner_bf16.total(), 3)
        ));
    }
    md.line(
        "6. **A single faked step is caught only with probability `1 − (1 − k/T)^V`** (protocol section 16). \
             *Holds as stated there*: sampling bounds lazy miners, not a one-step poisoning.",
    );
    for m in r.models.iter().take(1) {
        let Some(round) = reference_round(m) else { continue };
        let c = round.choice;
        md.line(format!(
            "   * At {}: {}.",
            shape(round),
            detection(faked_steps_miss(c.steps, 1, c.sampled_steps, c.verifiers))
        ));
    }
    md.line(
        "7. **Sampled replay** (mode b, protocol section 11b) trades the certainty of the update chain against any \
         single verifier for bytes, leaving narrow forgeries to watchers and fraud proofs. With the largest allowed \
         checkpoint interval it is cheaper only for long rounds (section 7), because each sampled step needs its \
         checkpoint state and the gradients from there, and it detects a tampered fraction `f` of leaves only with \
         `1 − (1 − f)^(V·k_l)`:",
    );
    let smallest_f = a.tampered_fractions.iter().copied().fold(f64::INFINITY, f64::min);
    let v = verifier_counts(r).first().copied().unwrap_or(1);
    for m in &r.models {
        let Some(round) = reference_round(m) else { continue };
        md.line(format!(
            "   * {} at {}: ratio (b) {} against (a) {}; with `k_l` = {} and V = {}, a tampered fraction of {} is \
             caught with {} (a single leaf: {}).",
            m.model.name,
            shape(round),
            sig(round.sampled_ratio(), 3),
            sig(round.full_ratio(), 3),
            a.replay_leaves,
            v,
            sig(smallest_f, 1),
            detection(tampered_leaves_miss(m.workload.sizes.tree.leaves, smallest_f, a.replay_leaves, v)),
            detection(tampered_leaves_miss(m.workload.sizes.tree.leaves, 0.0, a.replay_leaves, v))
        ));
    }
    md.blank();
}

/// Finding 4: what protocol version 2's sequential clipping norm cost, and what version 3's per-leaf
/// norm costs (its leaves' sums on every core, their combination on one core).
fn norm_finding(md: &mut Md, r: &Report) {
    md.line(format!(
        "4. **The clipping norm no longer adds a serial floor** (our rule, protocol section 7; the summary of the \
         paper does not mention it). Protocol version 2 summed the squares of the whole gradient in one f64 \
         sequence in flattening order, on one core whatever the node count, for the miner at every step and for \
         a full-replay verifier at every replayed step; it ran at {} ({}). Version 3 sums each leaf's squares on \
         its own (`update::leaf_square_sum`; the leaves are independent and run on every core like the rest of \
         the bookkeeping) and adds only the leaves' sums in leaf order (`update::combine_leaf_sums`): the \
         serial part is one f64 addition per leaf, priced at the measured rate of one chain of dependent f64 \
         additions on one core, {} (`f64_chain_throughput`). *The floor is gone*:",
        rate(PROTOCOL_V2_CLIPPING_NORM_ONE_CORE, "params/s on one core"),
        PROTOCOL_V2_CLIPPING_NORM_SOURCE,
        rate(r.fp32.leaf_sum_combine, "leaf sums/s")
    ));
    for m in &r.models {
        let w = &m.workload;
        let train_fp32 = w.train_step(&r.fp32) / m.nodes;
        let train_bf16 = w.train_step(&r.bf16) / m.nodes;
        let v2 = w.sizes.params as f64 / PROTOCOL_V2_CLIPPING_NORM_ONE_CORE;
        let combine = w.leaf_sum_combine(&r.fp32);
        let v3 = w.clipping_norm_leaf_sums(&r.fp32) / m.nodes + combine;
        md.line(format!(
            "   * {}: version 2 took {} per step, {} of a training step on its {} node(s) in fp32 ({} in BF16). \
             Version 3 takes {} per step on those node(s), of which adding its {} leaf sums on one core takes {}; \
             that is {} of a training step in fp32 ({} in BF16).",
            m.model.name,
            seconds(v2),
            percent(v2 / train_fp32),
            count(m.nodes),
            percent(v2 / train_bf16),
            seconds(v3),
            int(w.sizes.tree.leaves),
            seconds(combine),
            percent(v3 / train_fp32),
            percent(v3 / train_bf16)
        ));
    }
}

pub(super) fn not_measured(md: &mut Md, r: &Report) {
    let s = &r.inputs.stated;
    md.line("## 10. Not measured, and how to redo this");
    md.blank();
    md.line(format!(
        "* **Nothing on a GPU.** Training and recomputation times are the stated {} peak at 100 % utilisation; a real \
         utilisation `u` multiplies every GPU time by `1/u`. Hashing, the codec and the exact update on a GPU \
         (`pogo-cuda`, docs/cuda.md) have not been timed; the GPU hashing column of section 4 is a bandwidth bound.",
        s.accelerator.name
    ));
    md.line(format!(
        "* **The CPU rates come from a {}-core machine** (`{}`) and are scaled linearly to {} cores; shared memory \
         bandwidth makes that optimistic. docs/performance.md reports how much single runs move on that machine.",
        r.inputs.measured.cores,
        r.inputs.measured.machine,
        count(s.node.cpu_cores.value)
    ));
    md.line("* **The network is an assumption**, as is Gemma 3's batch; both are in the stated file with that label.");
    md.line(
        "* **Not counted:** the miner's evaluation of its claimed losses, the cost of storing checkpoint states \
             (section 7 gives their bytes), activations in memory, communication between the `M` nodes, and the \
             signed-extrinsic envelope.",
    );
    md.line(format!(
        "* **To redo:** `scripts/cost.sh --record` on the machine to be priced (it runs the bench and writes \
         `docs/measured/cpu-<date>.txt`; the newest file is used), and edit `{}` for other hardware, models or \
         round shapes; `scripts/cost.sh` alone rewrites this page and its plots.",
        r.inputs.stated_path
    ));
    md.blank();
}
