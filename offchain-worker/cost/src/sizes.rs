//! Sizes the protocol fixes, computed with `pogo-primitives` and its real types: leaves, state and gradient
//! bytes, Merkle depths and proofs (docs/protocol.md sections 4–6), step records and the trace (section 8),
//! the fraud-proof bound (section 15) and what goes on chain per round (sections 8 and 12).

use codec::{Encode, MaxEncodedLen};
use pogo_primitives::{
    fraud,
    merkle::MerkleProof,
    round::{RoundCommitment, StepRecord},
    spec::{LrSchedule, SpecError, StepScalars, TrainingSpec, UpdateRule, DEFAULT_CODEC_BLOCK},
    verdict::Verdict,
    views::{SubmissionId, TaskId},
    Hash,
};
use thiserror::Error;

/// Why sizes could not be computed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SizeError {
    /// The spec built for a model is not valid.
    #[error("the training spec for {params} parameters, leaf size {leaf_size} is invalid: {error}")]
    Spec {
        /// Parameters.
        params: u64,
        /// Leaf size.
        leaf_size: u32,
        /// The protocol's reason.
        error: SpecError,
    },
    /// Not even a one-step segment's fraud proof fits the runtime's bound.
    #[error(
        "no checkpoint interval keeps the fraud proof of {params} parameters, {steps} steps within {max_len} bytes"
    )]
    NoCheckpointInterval {
        /// Parameters.
        params: u64,
        /// Steps per round.
        steps: u32,
        /// `MaxFraudProofLen`.
        max_len: u64,
    },
    /// A leaf length did not fit the protocol's arithmetic.
    #[error("leaf {index} has no length (past the end or overflowing)")]
    NoLeaf {
        /// The leaf.
        index: u64,
    },
}

/// An AdamW training spec (the optimizer of both models) with `params` parameters, leaf size
/// `leaf_size`, the default codec block, `steps` per round and a checkpoint every `checkpoint_interval`.
/// The hyper-parameters (GPT-3's AdamW: β1 0.9, β2 0.95, ε 1e-8, weight decay 0.1) and the data fields
/// do not change any size; they only make the spec valid.
pub fn adamw_spec(
    params: u64,
    leaf_size: u32,
    steps: u32,
    checkpoint_interval: u32,
) -> Result<TrainingSpec, SizeError> {
    let spec = TrainingSpec {
        model: [0; 32],
        param_count: params,
        leaf_size,
        codec_block: DEFAULT_CODEC_BLOCK,
        rule: UpdateRule::AdamW {
            beta1: 0.9f32.to_bits(),
            beta2: 0.95f32.to_bits(),
            epsilon: 1e-8f32.to_bits(),
            weight_decay: 0.1f32.to_bits(),
        },
        schedule: LrSchedule::Constant { lr: 6e-5f32.to_bits() },
        max_grad_norm: 1.0f32.to_bits(),
        steps_per_round: steps,
        checkpoint_interval,
        batch_size: 1,
        train_examples: 1,
        eval_examples: 1,
    };
    spec.validate().map_err(|error| SizeError::Spec { params, leaf_size, error })?;
    Ok(spec)
}

/// Levels of a tree of `leaves` leaves: how often the width halves (rounded up) until one node is left,
/// the loop of `MerkleProof::verify_hash` (section 5): `ceil(log2 leaves)`, 0 for one leaf.
pub fn tree_depth(leaves: u64) -> u32 {
    let mut width = leaves;
    let mut depth = 0;
    while width > 1 {
        width = width.div_ceil(2);
        depth += 1;
    }
    depth
}

/// SCALE size of a Merkle proof with a full path in a tree of `leaves` leaves: a real `MerkleProof`
/// with `tree_depth(leaves)` siblings, encoded.
pub fn proof_bytes(leaves: u64) -> u64 {
    let depth = usize::try_from(tree_depth(leaves)).unwrap_or(usize::MAX);
    let proof =
        MerkleProof { leaf_index: leaves.saturating_sub(1), leaf_count: leaves, siblings: vec![[0u8; 32]; depth] };
    proof.encoded_size() as u64
}

/// A Merkle tree's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeShape {
    /// Leaves.
    pub leaves: u64,
    /// Levels above the leaves.
    pub depth: u32,
    /// SCALE bytes of a proof with a full path.
    pub proof_bytes: u64,
}

impl TreeShape {
    /// The shape of a tree over `leaves` leaves.
    pub fn of(leaves: u64) -> Self {
        Self { leaves, depth: tree_depth(leaves), proof_bytes: proof_bytes(leaves) }
    }
}

/// Per-step sizes of one model under one leaf size.
#[derive(Debug, Clone, PartialEq)]
pub struct StepSizes {
    /// Parameters.
    pub params: u64,
    /// Parameters per leaf.
    pub leaf_size: u32,
    /// Values per codec block.
    pub codec_block: u32,
    /// Optimizer slots per parameter (AdamW: 2).
    pub slots: usize,
    /// The state and gradient trees (same leaf count).
    pub tree: TreeShape,
    /// Bytes of a full state leaf (`4 · n · (1 + slots)`).
    pub state_leaf_bytes: u64,
    /// Bytes of a full gradient leaf (the codec's `encoded_len`).
    pub gradient_leaf_bytes: u64,
    /// Bytes of the whole state: weights and slots, f32, summed over every leaf.
    pub state_bytes: u64,
    /// Bytes of one step's 4-bit gradient, summed over every leaf.
    pub gradient_bytes: u64,
}

impl StepSizes {
    /// The sizes of `spec`, leaf by leaf lengths from `TrainingSpec::state_leaf_len` and
    /// `gradient_leaf_len` (every leaf but the last is full).
    pub fn of(spec: &TrainingSpec) -> Result<Self, SizeError> {
        let leaves = spec.leaf_count();
        let last = leaves.saturating_sub(1);
        let state = |i: u64| spec.state_leaf_len(i).map(|n| n as u64).ok_or(SizeError::NoLeaf { index: i });
        let gradient = |i: u64| spec.gradient_leaf_len(i).map(|n| n as u64).ok_or(SizeError::NoLeaf { index: i });
        let (state_leaf, gradient_leaf) = (state(0)?, gradient(0)?);
        Ok(Self {
            params: spec.param_count,
            leaf_size: spec.leaf_size,
            codec_block: spec.codec_block,
            slots: spec.rule.slots(),
            tree: TreeShape::of(leaves),
            state_leaf_bytes: state_leaf,
            gradient_leaf_bytes: gradient_leaf,
            state_bytes: last.saturating_mul(state_leaf).saturating_add(state(last)?),
            gradient_bytes: last.saturating_mul(gradient_leaf).saturating_add(gradient(last)?),
        })
    }

    /// Bits of committed gradient per parameter.
    pub fn gradient_bits_per_param(&self) -> f64 {
        self.gradient_bytes as f64 * 8.0 / self.params as f64
    }
}

/// Sizes of a round's trace and fraud proofs for one spec (its `T` and checkpoint interval).
#[derive(Debug, Clone, PartialEq)]
pub struct RoundSizes {
    /// Steps `T`.
    pub steps: u32,
    /// Checkpoint interval `c`.
    pub checkpoint_interval: u32,
    /// Checkpoints (segments): `ceil(T / c)`.
    pub checkpoints: u32,
    /// The trace tree over the T step records.
    pub trace: TreeShape,
    /// SCALE bytes of all T step records (57 bytes each, 32 more at a checkpoint).
    pub trace_bytes: u64,
    /// `fraud::max_encoded_len`: the largest fraud proof at this interval.
    pub fraud_proof_bytes: u64,
    /// Mean steps from a segment's start to a uniformly drawn step (what a verifier replays before
    /// recomputing a sampled step when it starts at the step's checkpoint).
    pub mean_offset_in_segment: f64,
    /// Steps of segment 0 (which starts at the base state, not at a checkpoint).
    pub first_segment_steps: u32,
}

impl RoundSizes {
    /// The round sizes of `spec`.
    pub fn of(spec: &TrainingSpec) -> Self {
        let t = spec.steps_per_round;
        let records: u64 = (0..t)
            .map(|s| {
                let checkpoint_root = spec.is_checkpoint(s).then_some([0u8; 32]);
                let record = StepRecord {
                    step: s,
                    gradient_root: [0; 32],
                    scalars: StepScalars::default(),
                    train_loss: 0,
                    checkpoint_root,
                };
                record.encoded_size() as u64
            })
            .sum();
        let segments = spec.segment_count();
        let mut offsets = 0.0f64;
        for j in 0..segments {
            if let Some((first, end)) = spec.segment_steps(j) {
                let len = f64::from(end.saturating_sub(first));
                offsets += len * (len - 1.0) / 2.0;
            }
        }
        let first_segment_steps = spec.segment_steps(0).map(|(a, b)| b.saturating_sub(a)).unwrap_or(0);
        Self {
            steps: t,
            checkpoint_interval: spec.checkpoint_interval,
            checkpoints: segments,
            trace: TreeShape::of(u64::from(t)),
            trace_bytes: records,
            fraud_proof_bytes: fraud::max_encoded_len(spec),
            mean_offset_in_segment: offsets / f64::from(t.max(1)),
            first_segment_steps,
        }
    }
}

/// The checkpoint interval a task would use: the largest the runtime allows, `min(MaxCheckpointInterval,
/// fraud::max_checkpoint_interval(spec, MaxFraudProofLen), T)` (section 15).
pub fn checkpoint_interval(
    params: u64,
    leaf_size: u32,
    steps: u32,
    max_interval: u32,
    max_fraud_proof_len: u64,
) -> Result<u32, SizeError> {
    let spec = adamw_spec(params, leaf_size, steps, 1)?;
    match fraud::max_checkpoint_interval(&spec, max_fraud_proof_len).min(max_interval).min(steps) {
        0 => Err(SizeError::NoCheckpointInterval { params, steps, max_len: max_fraud_proof_len }),
        interval => Ok(interval),
    }
}

/// SCALE sizes of the arguments of the calls a round makes on chain (section 8 and 12). The signed
/// extrinsic's envelope (signer, signature, extensions) is the same for every call and not counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnChainSizes {
    /// Pallet index and call index of a `RuntimeCall` (one byte each).
    pub call_index: u64,
    /// A `TaskId`.
    pub task: u64,
    /// A `SubmissionId`.
    pub submission: u64,
    /// A `Hash` (verdict commitment, salt).
    pub hash: u64,
    /// `Verdict::Positive`.
    pub verdict_positive: u64,
    /// The largest `Verdict` (`Verdict::max_encoded_len`).
    pub verdict_largest: u64,
    /// `submit_round(task, commitment, locator)`.
    pub submit_round: u64,
    /// Of which the `RoundCommitment`.
    pub round_commitment: u64,
    /// Of which the locator (compact length and bytes).
    pub locator: u64,
    /// `commit_verdict(submission, commitment)`.
    pub commit_verdict: u64,
    /// `reveal_verdict(submission, verdict, salt)` with a `Positive` verdict.
    pub reveal_positive: u64,
    /// `reveal_verdict` with the largest verdict (`Negative(BadGradient { step })`).
    pub reveal_largest: u64,
}

impl OnChainSizes {
    /// The sizes, with a locator (the miner's data-availability address) of `locator_bytes` bytes.
    pub fn new(locator_bytes: usize) -> Self {
        let task = TaskId::default().encoded_size() as u64;
        let submission = SubmissionId::default().encoded_size() as u64;
        let hash = Hash::default().encoded_size() as u64;
        let verdict_positive = Verdict::Positive.encoded_size() as u64;
        let verdict_largest = Verdict::max_encoded_len() as u64;
        let round_commitment = RoundCommitment::max_encoded_len() as u64;
        let locator = vec![0u8; locator_bytes].encoded_size() as u64;
        Self {
            call_index: 2,
            task,
            submission,
            hash,
            verdict_positive,
            verdict_largest,
            submit_round: task + round_commitment + locator,
            round_commitment,
            locator,
            commit_verdict: submission + hash,
            reveal_positive: submission + verdict_positive + hash,
            reveal_largest: submission + verdict_largest + hash,
        }
    }

    /// Bytes of call data for one round decided at level 0 by `verifiers` verifiers, all revealing
    /// `Positive`: one submission, one commit and one reveal each (progress is made by `on_idle` or a
    /// permissionless `advance`, not counted).
    pub fn per_round(&self, verifiers: u32) -> u64 {
        let v = u64::from(verifiers);
        let each = |args: u64| args.saturating_add(self.call_index);
        each(self.submit_round)
            .saturating_add(v.saturating_mul(each(self.commit_verdict).saturating_add(each(self.reveal_positive))))
    }
}
