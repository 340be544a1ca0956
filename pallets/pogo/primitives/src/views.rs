//! The records a client decodes: what pallet-pogo stores about tasks, bonds and submissions and what
//! its runtime API (`PogoApi`) answers. They live here, not in the pallet, so an off-chain client (the
//! worker's subxt client, through `subxt::utils::Static`) decodes them without FRAME. Their SCALE
//! encoding is the chain's; the pallet re-exports them.

use crate::{seed::{SampleSizes, VerifierSamples}, tolerance::Tolerance, Hash, RoundCommitment, TrainingSpec};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Task identifier.
pub type TaskId = u32;
/// Submission identifier (global counter).
pub type SubmissionId = u64;

/// What a task offers and requires, beyond the training rules of its [`TrainingSpec`].
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub struct TaskParams<Balance, BlockNumber> {
    /// Paid to the miner of an accepted round once its fraud window closes.
    pub reward: Balance,
    /// Paid to each verifier whose revealed verdict agrees with the final outcome, when it is final
    /// (an accepted round's at the end of its fraud window). Nobody is paid for an expired round.
    pub verifier_pay: Balance,
    /// Stake a miner puts at risk per submission (slashed in full on a proven bad round).
    pub miner_bond: Balance,
    /// Verifiers assigned to a submission.
    pub verifiers: u32,
    /// Verifiers added when a round is escalated.
    pub escalation_verifiers: u32,
    /// What each verifier samples.
    pub samples: SampleSizes,
    /// When a recomputed gradient agrees with the committed one.
    pub tolerance: Tolerance,
    /// Relative evaluation-loss improvement a round must show on a verifier's sample, in parts per
    /// million of the loss before (0: no improvement required, e.g. fine-tuning for stability).
    pub min_improvement_ppm: u32,
    /// Blocks verifiers have to commit their verdicts.
    pub commit_window: BlockNumber,
    /// Blocks verifiers have to reveal them.
    pub reveal_window: BlockNumber,
    /// How a verifier checks the round's state evolution (protocol sections 11 and 11b).
    pub verification: VerificationMode,
}

/// How an assigned verifier checks a round's state evolution: every leaf of every step, or its sampled
/// leaves across every step with its sampled steps replayed from their nearest checkpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub enum VerificationMode {
    /// Protocol section 11: every verifier replays the whole update chain (`T·N` work and bytes per
    /// verifier); every accepted state evolution is exact.
    #[default]
    FullReplay,
    /// Protocol section 11b: every verifier replays its `samples.leaves` sampled leaves across all steps
    /// from Merkle openings and its sampled steps from their nearest checkpoint (cost does not grow with
    /// `T·N`); a forgery confined to a few leaves is left to watchers and fraud proofs. Needs
    /// `samples.leaves ≥ 1`.
    SampledReplay,
}

/// Whether a task takes submissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub enum TaskStatus {
    /// Submissions are accepted.
    Active,
    /// No new submissions; pending ones finish.
    Paused,
}

/// The two bonded roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub enum Role {
    /// Trains and submits rounds.
    Miner,
    /// Checks rounds and attests.
    Verifier,
}

/// An account's bond in one role.
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct BondLedger<Balance, BlockNumber> {
    /// Held under the role's hold reason.
    pub held: Balance,
    /// Part of `held` that pending submissions may slash. A verifier's may exceed its free bond: its
    /// assignments are drawn from stake snapshots, never from the live ledger.
    pub at_risk: Balance,
    /// Part of `held` on its way out.
    pub unbonding: Option<Unbonding<Balance, BlockNumber>>,
    /// Block of the latest `bond` call.
    pub bonded_at: BlockNumber,
}

/// An amount on its way out of a bond.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct Unbonding<Balance, BlockNumber> {
    /// The amount.
    pub amount: Balance,
    /// The first block it can be withdrawn in.
    pub unlocks_at: BlockNumber,
    /// A verifier's amount also waits until every submission with an id below this one has settled:
    /// it may be in their stake snapshots.
    pub after_submission: SubmissionId,
}

/// Where a submission is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub enum Phase<BlockNumber> {
    /// Waiting for relay-chain randomness newer than the submission.
    AwaitingChallenge,
    /// Assigned verifiers post verdict commitments until the block given.
    Committing(BlockNumber),
    /// Verifiers reveal until the block given.
    Revealing(BlockNumber),
    /// Accepted; the task's root is this round's final root, provisionally until the block given.
    Accepted(BlockNumber),
    /// Accepted, then built on a round a fraud proof overturned: removed (miner and verifiers released,
    /// nobody paid) when next advanced.
    Voided,
}

/// A task as the runtime API reports it (no bounded types, so clients need no custom definitions).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct TaskView<AccountId, Balance, BlockNumber> {
    /// Task id.
    pub id: TaskId,
    /// Owner.
    pub owner: AccountId,
    /// Training rules.
    pub spec: TrainingSpec,
    /// Rewards, bonds, sampling, windows.
    pub params: TaskParams<Balance, BlockNumber>,
    /// Root of the training split.
    pub train_root: Hash,
    /// Root of the evaluation split.
    pub eval_root: Hash,
    /// Where the data lives.
    pub locator: Vec<u8>,
    /// Current (possibly provisional) state root.
    pub state_root: Hash,
    /// Where the state with `state_root` is served: the locator of the round that set it (empty while
    /// the task is at its initial root, whose state the model descriptor's initialization gives).
    pub model_locator: Vec<u8>,
    /// The round the next submission is for.
    pub round: u32,
    /// Optimizer steps accepted so far.
    pub steps_done: u64,
    /// Active or paused.
    pub status: TaskStatus,
    /// Escrow held.
    pub escrow: Balance,
    /// Escrow owed to unsettled submissions.
    pub committed: Balance,
    /// Unsettled submissions.
    pub pending: u32,
    /// Block from which the state root was public (see `TaskInfo::root_set_at`).
    pub root_set_at: BlockNumber,
}

/// A submission as the runtime API reports it.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct SubmissionView<AccountId, Balance, BlockNumber> {
    /// Submission id.
    pub id: SubmissionId,
    /// Task.
    pub task: TaskId,
    /// Miner.
    pub miner: AccountId,
    /// The round commitment.
    pub commitment: RoundCommitment,
    /// Round number.
    pub round: u32,
    /// Where the miner serves the data.
    pub locator: Vec<u8>,
    /// Block of inclusion.
    pub submitted_at: BlockNumber,
    /// Phase.
    pub phase: Phase<BlockNumber>,
    /// Level-0 challenge seed, once fixed.
    pub challenge: Option<Hash>,
    /// Level-1 challenge seed, once fixed.
    pub escalation_challenge: Option<Hash>,
    /// Escalation level.
    pub level: u8,
    /// Assigned verifiers: account, snapshot stake, level.
    pub assigned: Vec<(AccountId, Balance, u8)>,
    /// Steps every escalation verifier recomputes.
    pub disputed_steps: Vec<u32>,
}

/// What one verifier must check for one submission.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct VerifierDuty {
    /// The challenge seed of the verifier's level.
    pub challenge: Hash,
    /// The verifier's private seed.
    pub verifier_seed: Hash,
    /// The level it was assigned at.
    pub level: u8,
    /// Its samples: steps to recompute, final-state leaves to open, evaluation examples.
    pub samples: VerifierSamples,
    /// Disputed steps it must also recompute (escalation only).
    pub disputed_steps: Vec<u32>,
    /// Whether it has committed a verdict.
    pub committed: bool,
    /// Whether it has revealed it.
    pub revealed: bool,
}
