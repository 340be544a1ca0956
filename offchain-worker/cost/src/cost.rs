//! The cost model: what a miner and a verifier spend on one round, in both verification modes, and the
//! detection probabilities.
//!
//! Costs are **node-seconds** on the stated node (its GPUs at their stated peak, its CPU cores at the
//! measured per-core rates, its network link at the stated bandwidth), phases added without overlap. A
//! model too large for one node runs on `M` nodes; node-seconds do not depend on `M` (perfect scaling),
//! except the one serial part of the protocol: the clipping norm's combination of its leaves' square sums
//! (protocol version 3, section 7), one f64 addition per leaf in leaf order on one core, whatever `M` is.
//! The leaves' sums themselves are independent and run on every core like the rest of the bookkeeping.
//!
//! * **Miner**, per round: `T` training steps (`6·P·tokens` flop each) and per step the bookkeeping
//!   (quantize, dequantize, clipping norm, exact AdamW, gradient root), plus a state root per checkpoint.
//! * **Verifier, full replay** (mode a, protocol section 11, `VerificationMode::FullReplay`): download the
//!   base state, every step's gradient and the records; check the base root; replay every step (gradient
//!   root, dequantize, clipping norm, exact AdamW) and every checkpoint root; recompute `k` steps; evaluate
//!   both states.
//! * **Verifier, sampled replay** (mode b, protocol section 11b, `VerificationMode::SampledReplay`): download
//!   the records, the base and the final state (for the evaluation), `k_l` leaves of every step's gradient
//!   and of every segment's start and end state with their proofs, and for each of the `k` sampled steps the
//!   checkpoint its segment starts from, the gradients from there to the step and the step's own gradient;
//!   replay the `k_l` leaves through all `T` steps (`fraud::verify` per leaf and segment) and the full state
//!   from the checkpoint to each sampled step; check each sampled step's clipping factor; recompute the `k`
//!   steps; evaluate both states.

use crate::{
    measured::CpuConstants,
    sizes::{RoundSizes, StepSizes},
    stated::Stated,
};

/// Training flop per parameter and token (forward and backward, the usual `6·P·tokens`).
pub const TRAIN_FLOP_PER_PARAM_TOKEN: f64 = 6.0;
/// Forward-pass flop per parameter and token (evaluation).
pub const FORWARD_FLOP_PER_PARAM_TOKEN: f64 = 2.0;
/// Bytes of one f32 value.
pub const F32_BYTES: f64 = 4.0;

/// The rates of one node: stated hardware and measured CPU rates scaled to its cores.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeRates {
    /// GPU flop/s of the node at the precision priced.
    pub flops: f64,
    /// Download, bytes/s.
    pub download: f64,
    /// Cores of the node.
    pub cores: f64,
    /// State root, bytes/s on all cores.
    pub state_root: f64,
    /// Gradient root, bytes/s on all cores.
    pub gradient_root: f64,
    /// Quantize, params/s on all cores.
    pub quantize: f64,
    /// Dequantize, params/s on all cores.
    pub dequantize: f64,
    /// Exact AdamW, params/s on all cores.
    pub exact_adamw: f64,
    /// Merkle node hashes per second on all cores (proofs checked in parallel).
    pub node_hash: f64,
    /// The clipping norm's per-leaf square sums, params/s on all cores (the leaves are independent).
    pub clipping_norm_leaf_sums: f64,
    /// Adding the leaves' square sums in leaf order, leaf sums per second on one core: the protocol's one
    /// serial step. Estimated as the measured per-core rate of the leaf sums (one f64 addition per element
    /// is what summing a leaf costs a core; combining is one f64 addition per leaf).
    pub leaf_sum_combine: f64,
}

impl NodeRates {
    /// The node's rates: each parallel CPU rate is the measured rate divided by the bench's threads and
    /// multiplied by the node's cores (linear scaling, an estimate); the one serial rate, combining the
    /// clipping norm's leaf sums, is the measured clipping-norm rate per bench thread; the GPU rate is
    /// `gpus · flops_per_gpu`.
    pub fn new(cpu: &CpuConstants, stated: &Stated, flops_per_gpu: f64) -> Self {
        let cores = stated.node.cpu_cores.value;
        let scale = cores / cpu.threads;
        Self {
            flops: stated.node.gpus.value * flops_per_gpu,
            download: stated.network.download.value,
            cores,
            state_root: cpu.state_root * scale,
            gradient_root: cpu.gradient_root * scale,
            quantize: cpu.quantize * scale,
            dequantize: cpu.dequantize * scale,
            exact_adamw: cpu.exact_adamw * scale,
            node_hash: cpu.node_hash_one_core * cores,
            clipping_norm_leaf_sums: cpu.clipping_norm * scale,
            leaf_sum_combine: cpu.f64_chain_one_core,
        }
    }
}

/// What one party spends on one round, in node-seconds per resource.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Cost {
    /// GPU work (training, recomputation, evaluation) at the stated peak.
    pub gpu: f64,
    /// CPU work that runs on every core (codec, update, hashing, the clipping norm's leaf sums).
    pub cpu: f64,
    /// The serial part: combining the clipping norm's leaf sums, one core (the node waits for it).
    pub serial: f64,
    /// Download at the stated link.
    pub network: f64,
    /// Bytes downloaded.
    pub download_bytes: f64,
}

impl Cost {
    /// Node-seconds in all.
    pub fn total(&self) -> f64 {
        self.gpu + self.cpu + self.serial + self.network
    }

    /// Wall-clock seconds on `nodes` nodes: everything but the serial combination of the leaf sums divides
    /// among them.
    pub fn wall(&self, nodes: f64) -> f64 {
        (self.gpu + self.cpu + self.network) / nodes.max(1.0) + self.serial
    }
}

/// One model's workload: sizes and the published token counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// Per-step sizes (default leaf size).
    pub sizes: StepSizes,
    /// Tokens per step.
    pub tokens_per_step: f64,
    /// Tokens per evaluation example.
    pub eval_tokens: f64,
}

impl Workload {
    fn params(&self) -> f64 {
        self.sizes.params as f64
    }

    /// Training flop of one step.
    pub fn train_flop(&self) -> f64 {
        TRAIN_FLOP_PER_PARAM_TOKEN * self.params() * self.tokens_per_step
    }

    /// Node-seconds of one training step.
    pub fn train_step(&self, node: &NodeRates) -> f64 {
        self.train_flop() / node.flops
    }

    /// Node-seconds of hashing the whole state into a state root.
    pub fn state_root(&self, node: &NodeRates) -> f64 {
        self.sizes.state_bytes as f64 / node.state_root
    }

    /// Node-seconds of one step's gradient root.
    pub fn gradient_root(&self, node: &NodeRates) -> f64 {
        self.sizes.gradient_bytes as f64 / node.gradient_root
    }

    /// Parallel CPU node-seconds of the miner's bookkeeping of one step (no checkpoint).
    pub fn miner_bookkeeping(&self, node: &NodeRates) -> f64 {
        let p = self.params();
        p / node.quantize + p / node.dequantize + p / node.exact_adamw + self.gradient_root(node)
    }

    /// Parallel CPU node-seconds of replaying one step (no checkpoint): gradient root, dequantize, update.
    pub fn replay_step(&self, node: &NodeRates) -> f64 {
        let p = self.params();
        self.gradient_root(node) + p / node.dequantize + p / node.exact_adamw
    }

    /// Parallel CPU node-seconds of the clipping norm's per-leaf square sums of one step.
    pub fn clipping_norm_leaf_sums(&self, node: &NodeRates) -> f64 {
        self.params() / node.clipping_norm_leaf_sums
    }

    /// Seconds of the serial part of one step's clipping norm: its leaves' square sums added in leaf
    /// order on one core, one f64 addition per leaf.
    pub fn leaf_sum_combine(&self, node: &NodeRates) -> f64 {
        self.sizes.tree.leaves as f64 / node.leaf_sum_combine
    }

    /// Node-seconds of one step's whole clipping norm on one node: leaf sums and their combination.
    pub fn clipping_norm(&self, node: &NodeRates) -> f64 {
        self.clipping_norm_leaf_sums(node) + self.leaf_sum_combine(node)
    }

    /// Node-seconds of evaluating `examples` examples on both the base and the final state.
    pub fn evaluation(&self, node: &NodeRates, examples: u32) -> f64 {
        2.0 * f64::from(examples) * FORWARD_FLOP_PER_PARAM_TOKEN * self.params() * self.eval_tokens / node.flops
    }

    /// Nodes needed to hold the state and one f32 gradient in accelerator memory (activations not
    /// counted): `ceil((state + 4·P) / (gpus · memory))`.
    pub fn nodes_for_memory(&self, stated: &Stated) -> f64 {
        let need = self.sizes.state_bytes as f64 + F32_BYTES * self.params();
        (need / (stated.node.gpus.value * stated.accelerator.memory.value)).ceil().max(1.0)
    }
}

/// A round to price.
#[derive(Debug, Clone, PartialEq)]
pub struct RoundPlan {
    /// Trace and checkpoint sizes (`T`, `c`).
    pub round: RoundSizes,
    /// Steps each verifier recomputes `k`.
    pub sampled_steps: u32,
    /// Leaves each verifier replays in mode b, `k_l`.
    pub replay_leaves: u32,
    /// Evaluation examples per verifier.
    pub eval_examples: u32,
    /// Final-state leaves opened per verifier.
    pub opened_leaves: u32,
}

/// The miner's round.
pub fn miner(w: &Workload, plan: &RoundPlan, node: &NodeRates) -> Cost {
    let t = f64::from(plan.round.steps);
    Cost {
        gpu: t * w.train_step(node),
        cpu: t * (w.miner_bookkeeping(node) + w.clipping_norm_leaf_sums(node))
            + f64::from(plan.round.checkpoints) * w.state_root(node),
        serial: t * w.leaf_sum_combine(node),
        network: 0.0,
        download_bytes: 0.0,
    }
}

/// GPU node-seconds every verifier spends in both modes: `k` recomputed steps and the evaluation.
fn verifier_gpu(w: &Workload, plan: &RoundPlan, node: &NodeRates) -> f64 {
    f64::from(plan.sampled_steps) * w.train_step(node) + w.evaluation(node, plan.eval_examples)
}

/// Hashes of rebuilding the trace tree from the `T` records: one leaf hash per record (57 or 89 bytes,
/// priced as a node hash) and `T − 1` node hashes.
fn trace_hashes(plan: &RoundPlan) -> f64 {
    2.0 * f64::from(plan.round.steps) - 1.0
}

/// Mode a: every verifier replays every leaf of every step.
pub fn full_replay(w: &Workload, plan: &RoundPlan, node: &NodeRates) -> Cost {
    let s = &w.sizes;
    let t = f64::from(plan.round.steps);
    let k = f64::from(plan.sampled_steps);
    let opened = f64::from(plan.opened_leaves) * (s.state_leaf_bytes + s.tree.proof_bytes) as f64;
    let bytes = s.state_bytes as f64 + t * s.gradient_bytes as f64 + plan.round.trace_bytes as f64 + opened;
    // Base root checked once; every step replayed; every checkpoint root; each sampled step's committed
    // leaves decoded once more for the comparison.
    let cpu = w.state_root(node)
        + t * (w.replay_step(node) + w.clipping_norm_leaf_sums(node))
        + f64::from(plan.round.checkpoints) * w.state_root(node)
        + k * w.params() / node.dequantize
        + trace_hashes(plan) / node.node_hash;
    Cost {
        gpu: verifier_gpu(w, plan, node),
        cpu,
        serial: t * w.leaf_sum_combine(node),
        network: bytes / node.download,
        download_bytes: bytes,
    }
}

/// Mode b: every verifier replays `k_l` leaves through all steps, and the full state only from a
/// checkpoint to each sampled step.
pub fn sampled_replay(w: &Workload, plan: &RoundPlan, node: &NodeRates) -> Cost {
    let s = &w.sizes;
    let r = &plan.round;
    let t = f64::from(r.steps);
    let k = f64::from(plan.sampled_steps);
    let kl = f64::from(plan.replay_leaves);
    let checkpoints = f64::from(r.checkpoints);
    // A sampled step outside segment 0 starts from a checkpoint state (downloaded and checked); in
    // segment 0 it starts from the base state, which the verifier has anyway.
    let outside_first = (t - f64::from(r.first_segment_steps)) / t;
    let replayed_full = r.mean_offset_in_segment;
    let gradient_leaf = (s.gradient_leaf_bytes + s.tree.proof_bytes) as f64;
    let state_leaf = (s.state_leaf_bytes + s.tree.proof_bytes) as f64;
    let bytes = 2.0 * s.state_bytes as f64
        + k * (outside_first * s.state_bytes as f64 + (replayed_full + 1.0) * s.gradient_bytes as f64)
        + kl * (t * gradient_leaf + (checkpoints + 1.0) * state_leaf)
        + r.trace_bytes as f64;
    let leaf = f64::from(s.leaf_size);
    let leaf_step =
        leaf / node.dequantize + leaf / node.exact_adamw + s.gradient_leaf_bytes as f64 / node.gradient_root;
    // Per sampled leaf: every gradient leaf and every segment boundary against the state or gradient
    // tree, and every record against the trace tree (`fraud::verify`); plus the trace rebuilt once.
    let proof_hashes =
        kl * ((t + checkpoints + 1.0) * f64::from(s.tree.depth) + t * f64::from(r.trace.depth)) + trace_hashes(plan);
    let cpu = 2.0 * w.state_root(node)
        + k * (outside_first * w.state_root(node) + replayed_full * w.replay_step(node) + w.gradient_root(node))
        + k * w.params() / node.dequantize
        + kl * t * leaf_step
        + proof_hashes / node.node_hash
        // Only each sampled step's clipping factor is checked against its whole gradient.
        + k * w.clipping_norm_leaf_sums(node);
    Cost {
        gpu: verifier_gpu(w, plan, node),
        cpu,
        serial: k * w.leaf_sum_combine(node),
        network: bytes / node.download,
        download_bytes: bytes,
    }
}

/// `P(one draw of `sampled` distinct items from `population` misses all `bad` ones)`, repeated
/// independently by `draws` verifiers: `(C(N − F, k) / C(N, k))^V`, the product
/// `Π_{i<k} (N − F − i)/(N − i)` in f64, as `pogo_primitives::detection::miss_probability_all` evaluates
/// it for steps, here for counts beyond u32 (leaves).
pub fn miss_probability_all(population: u64, bad: u64, sampled: u64, draws: u32) -> f64 {
    let n = population as f64;
    let f = bad.min(population) as f64;
    let one = (0..sampled.min(population)).fold(1.0f64, |p, i| {
        let i = i as f64;
        p * ((n - f - i).max(0.0) / (n - i))
    });
    (0..draws).fold(1.0, |p, _| p * one)
}

/// Mode b: probability that all `verifiers` verifiers, each replaying `replay_leaves` distinct leaves of
/// `leaves`, miss every one of the `ceil(fraction · leaves)` tampered leaves (at least one). Detection is
/// one minus it.
pub fn tampered_leaves_miss(leaves: u64, fraction: f64, replay_leaves: u32, verifiers: u32) -> f64 {
    let bad = (fraction * leaves as f64).ceil() as u64;
    miss_probability_all(leaves, bad.max(1), u64::from(replay_leaves), verifiers)
}

/// The with-replacement approximation of [`tampered_leaves_miss`]: `(1 − f)^(V·k_l)`.
pub fn tampered_leaves_miss_approx(fraction: f64, samples: f64) -> f64 {
    (1.0 - fraction).powf(samples)
}

/// Both modes: probability that all `verifiers`, each recomputing `sampled_steps` distinct steps of
/// `steps`, miss every one of `faked` faked steps (`pogo_primitives::detection::miss_probability_all`).
pub fn faked_steps_miss(steps: u32, faked: u32, sampled_steps: u32, verifiers: u32) -> f64 {
    pogo_primitives::detection::miss_probability_all(steps, faked, sampled_steps, verifiers)
}
