//! Record types of the pallet: tasks, ledgers, submissions, attestations.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use crate::pallet::{BalanceOf, Config};
use frame_support::{
    pallet_prelude::*, BoundedVec, CloneNoBound, EqNoBound, PartialEqNoBound, DebugNoBound,
};
use frame_system::pallet_prelude::BlockNumberFor;
use pogo_primitives::{
    model::{MAX_ARCHITECTURE_LEN, MAX_TENSORS, MAX_TENSOR_NAME_LEN, MAX_TENSOR_RANK},
    verdict::Verdict,
    Hash, ModelDescriptor, RoundCommitment, TensorDescriptor, TrainingSpec,
};
use scale_info::TypeInfo;

pub use pogo_primitives::views::{
    BondLedger, Phase, Role, SubmissionId, SubmissionView, TaskId, TaskParams, TaskStatus, TaskView, Unbonding,
    VerificationMode, VerifierDuty,
};

use polkadot_sdk::{frame_support, frame_system};

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
    /// Where the state with `state_root` is served: the locator of the accepted round that set it
    /// (empty at the initial root, whose state the model descriptor's initialization gives).
    pub model_locator: BoundedVec<u8, T::MaxLocatorLen>,
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
    /// Where the miner serves the round's data and final state.
    pub locator: BoundedVec<u8, T::MaxLocatorLen>,
    /// The task's `model_locator` when this was submitted: restored with the base root if a fraud
    /// proof overturns this round.
    pub base_locator: BoundedVec<u8, T::MaxLocatorLen>,
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



