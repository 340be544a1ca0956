//! Record types of the pallet: tasks, ledgers, submissions, attestations.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use crate::pallet::{BalanceOf, Config};
use frame_support::{
    pallet_prelude::*, BoundedVec, CloneNoBound, EqNoBound, PartialEqNoBound, DebugNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use pogo_primitives::{
    model::{MAX_ARCHITECTURE_LEN, MAX_TENSORS, MAX_TENSOR_NAME_LEN, MAX_TENSOR_RANK},
    seed::SampleSizes,
    tolerance::Tolerance,
    verdict::Verdict,
    Hash, ModelDescriptor, RoundCommitment, TensorDescriptor, TrainingSpec,
};
use scale_info::TypeInfo;

use polkadot_sdk::{frame_support, frame_system};

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
}

/// Where the task's data lives and what it is.
#[derive(
    CloneNoBound,
    DebugNoBound,
    PartialEqNoBound,
    EqNoBound,
    Encode,
    Decode,
    DecodeWithMemTracking,
    TypeInfo,
    MaxEncodedLen,
)]
#[scale_info(skip_type_params(MaxLocatorLen))]
pub struct DatasetCommitment<MaxLocatorLen: Get<u32>> {
    /// Merkle root of the training split (one leaf per example, in index order).
    pub train_root: Hash,
    /// Merkle root of the evaluation split.
    pub eval_root: Hash,
    /// Where the data (and the initial model) can be fetched: a URI, UTF-8.
    pub locator: BoundedVec<u8, MaxLocatorLen>,
}

/// The `model` of a task created before protocol version 2, which has no descriptor (no
/// `TaskModels` entry): all zeros, which no descriptor hashes to.
pub const NO_MODEL: Hash = [0; 32];

/// One trainable tensor of a task's model, as stored on chain (same SCALE encoding as
/// [`TensorDescriptor`]).
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub struct BoundedTensorDescriptor {
    /// UTF-8 name, as in a PyTorch `state_dict` (`h0.attn.qkv.w`).
    pub name: BoundedVec<u8, ConstU32<MAX_TENSOR_NAME_LEN>>,
    /// Dimensions, row-major.
    pub shape: BoundedVec<u64, ConstU32<MAX_TENSOR_RANK>>,
}

/// What a task trains (protocol: `model::ModelDescriptor`, whose hash is the spec's `model`): the
/// architecture string and the tensors in flattening order. Same SCALE encoding as
/// [`ModelDescriptor`], with the protocol's limits as bounds, so polkadot.js reads it from metadata.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub struct BoundedModelDescriptor {
    /// UTF-8: a family name, a space, its JSON configuration.
    pub architecture: BoundedVec<u8, ConstU32<MAX_ARCHITECTURE_LEN>>,
    /// The tensors in flattening order.
    pub tensors: BoundedVec<BoundedTensorDescriptor, ConstU32<MAX_TENSORS>>,
}

impl BoundedModelDescriptor {
    /// The protocol's (unbounded) descriptor with the same fields.
    pub fn to_descriptor(&self) -> ModelDescriptor {
        ModelDescriptor {
            architecture: self.architecture.to_vec(),
            tensors: self
                .tensors
                .iter()
                .map(|t| TensorDescriptor { name: t.name.to_vec(), shape: t.shape.to_vec() })
                .collect(),
        }
    }
}

#[cfg(any(test, feature = "runtime-benchmarks"))]
impl BoundedModelDescriptor {
    /// A valid descriptor of `tensors` tensors (at least 1, at most `param_count`) holding `param_count`
    /// parameters: every tensor but the last has one element. `widest` makes it the largest of its
    /// tensor count: a full-length architecture string, full-length names, full rank.
    pub fn synthetic(tensors: u32, param_count: u64, widest: bool) -> Self {
        use alloc::{format, vec, vec::Vec};
        let rank = if widest { MAX_TENSOR_RANK as usize } else { 1 };
        let name = |i: u32| -> Vec<u8> {
            let mut n = format!("layer{i}.weight").into_bytes();
            if widest {
                n.resize(MAX_TENSOR_NAME_LEN as usize, b'_');
            }
            n
        };
        let mut list = Vec::new();
        for i in 0..tensors {
            let mut shape = vec![1u64; rank];
            if i.saturating_add(1) == tensors {
                if let Some(first) = shape.first_mut() {
                    *first = param_count.saturating_sub(u64::from(tensors).saturating_sub(1));
                }
            }
            list.push(BoundedTensorDescriptor {
                name: BoundedVec::truncate_from(name(i)),
                shape: BoundedVec::truncate_from(shape),
            });
        }
        let mut architecture = b"mlp {\"synthetic\":true}".to_vec();
        if widest {
            architecture.resize(MAX_ARCHITECTURE_LEN as usize, b' ');
        }
        Self { architecture: BoundedVec::truncate_from(architecture), tensors: BoundedVec::truncate_from(list) }
    }
}

/// Whether a task takes submissions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub enum TaskStatus {
    /// Submissions are accepted.
    Active,
    /// No new submissions; pending ones finish.
    Paused,
}

/// A training task.
#[derive(CloneNoBound, DebugNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo, MaxEncodedLen)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound(T: Config))]
pub struct TaskInfo<T: Config> {
    /// The account that created and funds the task.
    pub owner: T::AccountId,
    /// The training rules.
    pub spec: TrainingSpec,
    /// Rewards, bonds, sampling, windows.
    pub params: TaskParams<BalanceOf<T>, BlockNumberFor<T>>,
    /// The data.
    pub dataset: DatasetCommitment<T::MaxLocatorLen>,
    /// The current model state root (provisional while the round that set it is in its fraud window).
    pub state_root: Hash,
    /// The root the task started from.
    pub initial_root: Hash,
    /// Accepted rounds so far (the next round's number).
    pub round: u32,
    /// Optimizer steps accepted so far (the next round starts at global step `steps_done + 1`).
    pub steps_done: u64,
    /// Active or paused.
    pub status: TaskStatus,
    /// Funds held from the owner for this task (reason `TaskEscrow`).
    pub escrow: BalanceOf<T>,
    /// Part of `escrow` owed to pending submissions (reward plus the most verifier pay they can earn).
    pub committed: BalanceOf<T>,
    /// Submissions of this task not yet settled.
    pub pending: u32,
    /// Block from which `state_root` was public: the task's creation, or the inclusion of the round that
    /// proposed it (not its acceptance: the final root is known from `RoundSubmitted` on). A miner may
    /// only build on a root public after its bond was last increased (no grinding of round seeds by
    /// fresh accounts).
    pub root_set_at: BlockNumberFor<T>,
    /// Storage deposit held from the owner (reason `TaskDeposit`) until the task is closed.
    pub deposit: BalanceOf<T>,
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

/// A verifier assigned to a submission, with the stake it had in the snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct Assignment<AccountId, Balance> {
    /// The verifier.
    pub who: AccountId,
    /// Its stake in the submission's snapshot (weight in the tally).
    pub stake: Balance,
    /// Part of its bond this assignment put at risk.
    pub at_risk: Balance,
    /// Escalation level it was drawn at (0 or 1).
    pub level: u8,
}

/// A round submitted by a miner.
#[derive(CloneNoBound, DebugNoBound, PartialEqNoBound, EqNoBound, Encode, Decode, TypeInfo, MaxEncodedLen)]
#[scale_info(skip_type_params(T))]
#[codec(mel_bound(T: Config))]
pub struct Submission<T: Config> {
    /// The task.
    pub task: TaskId,
    /// The miner.
    pub miner: T::AccountId,
    /// The round's commitment.
    pub commitment: RoundCommitment,
    /// The round number it was submitted for.
    pub round: u32,
    /// `root_set_at` of the task when this was submitted: restored if a fraud proof reverts the task
    /// to this round's base root.
    pub base_root_set_at: BlockNumberFor<T>,
    /// Where the miner serves the round's data.
    pub locator: BoundedVec<u8, T::MaxLocatorLen>,
    /// Block of inclusion.
    pub submitted_at: BlockNumberFor<T>,
    /// Relay-chain epoch index at inclusion.
    pub relay_epoch: u64,
    /// Relay-chain epoch index when the round was escalated; the level-1 challenge uses randomness of
    /// `ChallengeEpochDelay` epochs later, which did not exist when anyone could still change its stake.
    pub escalated_epoch: Option<u64>,
    /// Phase.
    pub phase: Phase<BlockNumberFor<T>>,
    /// Miner bond at risk.
    pub bond: BalanceOf<T>,
    /// Storage deposit held from the miner.
    pub deposit: BalanceOf<T>,
    /// Escrow committed to this submission (reward + verifier pay not yet paid).
    pub escrow: BalanceOf<T>,
    /// The level-0 challenge seed, once fixed.
    pub challenge: Option<Hash>,
    /// The level-1 challenge seed, once fixed.
    pub escalation_challenge: Option<Hash>,
    /// Current escalation level.
    pub level: u8,
    /// Assigned verifiers (both levels).
    pub assigned: BoundedVec<Assignment<T::AccountId, BalanceOf<T>>, T::MaxAssigned>,
    /// Steps named by `BadGradient` verdicts at level 0; every escalation verifier recomputes them.
    pub disputed_steps: BoundedVec<u32, T::MaxAssigned>,
}

impl<T: Config> Submission<T> {
    /// The challenge seed of `level`, once fixed.
    pub fn challenge_at(&self, level: u8) -> Option<Hash> {
        if level == 0 {
            self.challenge
        } else {
            self.escalation_challenge
        }
    }
}

/// A verifier's attestation.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
pub struct Attestation {
    /// The committed hash.
    pub commitment: Hash,
    /// The verdict once revealed.
    pub revealed: Option<Verdict>,
}

/// Benchmark set-up the runtime provides.
#[cfg(feature = "runtime-benchmarks")]
pub trait BenchmarkHelper {
    /// Makes `RelayRandomness::epoch_randomness` return `(epoch, randomness)` from now on.
    fn set_relay_randomness(epoch: u64, randomness: Hash);
}

/// Source of relay-chain randomness for challenges (see `docs/protocol.md`, "Seeds and sampling").
pub trait RelayRandomness {
    /// The relay chain's epoch index and its `ONE_EPOCH_AGO_RANDOMNESS` as seen in the relay state
    /// proof of the current block, or `None` when not available.
    fn epoch_randomness() -> Option<(u64, Hash)>;
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
    pub locator: alloc::vec::Vec<u8>,
    /// Current (possibly provisional) state root.
    pub state_root: Hash,
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
    pub locator: alloc::vec::Vec<u8>,
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
    pub assigned: alloc::vec::Vec<(AccountId, Balance, u8)>,
    /// Steps every escalation verifier recomputes.
    pub disputed_steps: alloc::vec::Vec<u32>,
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
    pub samples: pogo_primitives::seed::VerifierSamples,
    /// Disputed steps it must also recompute (escalation only).
    pub disputed_steps: alloc::vec::Vec<u32>,
    /// Whether it has committed a verdict.
    pub committed: bool,
    /// Whether it has revealed it.
    pub revealed: bool,
}
