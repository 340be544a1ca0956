//! Storage migrations. [`v1::MigrateV0ToV1`] and [`v2::MigrateV1ToV2`] are in the runtime's
//! `Migrations`, in that order; each version's old types live in its module so a chain at any earlier
//! version can be brought forward.

use crate::{pallet::*, types::*};
use frame_support::{
    migrations::VersionedMigration, pallet_prelude::*, traits::UncheckedOnRuntimeUpgrade, weights::Weight,
};
use polkadot_sdk::{frame_support, frame_system, sp_runtime};

/// Version 0 (the first release) to version 1 (the hardening of issue 10).
pub mod v1 {
    use super::*;
    use alloc::vec::Vec;
    use frame_system::pallet_prelude::BlockNumberFor;
    use pogo_primitives::{Hash, RoundCommitment};
    use sp_runtime::{traits::Zero, Saturating};

    /// The types of version 0, as they were encoded.
    pub mod v0 {
        use super::*;

        /// A bond ledger of version 0: unbonding without the submission it waits for, no bond block.
        #[derive(Encode, Decode, TypeInfo, MaxEncodedLen, Clone, Debug, PartialEq, Eq)]
        pub struct BondLedger<Balance, BlockNumber> {
            /// Held.
            pub held: Balance,
            /// At risk.
            pub at_risk: Balance,
            /// Unbonding amount and unlock block.
            pub unbonding: Option<(Balance, BlockNumber)>,
        }

        /// A task of version 0: no root block, no storage deposit.
        #[derive(Encode, Decode)]
        pub struct TaskInfo<AccountId, Balance, BlockNumber, MaxLocatorLen: Get<u32>> {
            /// Owner.
            pub owner: AccountId,
            /// Spec.
            pub spec: super::frozen::TrainingSpec,
            /// Params.
            pub params: TaskParams<Balance, BlockNumber>,
            /// Data.
            pub dataset: DatasetCommitment<MaxLocatorLen>,
            /// Root.
            pub state_root: Hash,
            /// Initial root.
            pub initial_root: Hash,
            /// Round.
            pub round: u32,
            /// Steps.
            pub steps_done: u64,
            /// Status.
            pub status: TaskStatus,
            /// Escrow.
            pub escrow: Balance,
            /// Committed escrow.
            pub committed: Balance,
            /// Pending count.
            pub pending: u32,
        }

        /// A submission of version 0: one challenge for both levels.
        #[derive(Encode, Decode)]
        pub struct Submission<AccountId, Balance, BlockNumber, MaxLocatorLen: Get<u32>, MaxAssigned: Get<u32>> {
            /// Task.
            pub task: TaskId,
            /// Miner.
            pub miner: AccountId,
            /// Commitment.
            pub commitment: RoundCommitment,
            /// Round.
            pub round: u32,
            /// Locator.
            pub locator: BoundedVec<u8, MaxLocatorLen>,
            /// Inclusion block.
            pub submitted_at: BlockNumber,
            /// Relay epoch.
            pub relay_epoch: u64,
            /// Phase.
            pub phase: Phase<BlockNumber>,
            /// Miner bond.
            pub bond: Balance,
            /// Deposit.
            pub deposit: Balance,
            /// Escrow.
            pub escrow: Balance,
            /// Challenge.
            pub challenge: Option<Hash>,
            /// Level.
            pub level: u8,
            /// Assigned.
            pub assigned: BoundedVec<Assignment<AccountId, Balance>, MaxAssigned>,
            /// Disputed steps.
            pub disputed_steps: BoundedVec<u32, MaxAssigned>,
        }
    }

    /// The types of version 1 that version 2 changed, as they were encoded.
    pub mod frozen {
        use super::*;
        use pogo_primitives::spec::{LrSchedule, UpdateRule};

        /// A training spec of protocol version 1: no model hash.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo, MaxEncodedLen)]
        pub struct TrainingSpec {
            /// Parameters.
            pub param_count: u64,
            /// Leaf size.
            pub leaf_size: u32,
            /// Codec block.
            pub codec_block: u32,
            /// Optimizer.
            pub rule: UpdateRule,
            /// Schedule.
            pub schedule: LrSchedule,
            /// Clipping.
            pub max_grad_norm: u32,
            /// Steps per round.
            pub steps_per_round: u32,
            /// Checkpoint interval.
            pub checkpoint_interval: u32,
            /// Batch size.
            pub batch_size: u32,
            /// Train split.
            pub train_examples: u64,
            /// Eval split.
            pub eval_examples: u64,
        }

        /// A task of version 1 (its spec without a model; its tolerance the counting rule of protocol
        /// version 1, three u32 in the same places as version 2's).
        #[derive(Encode, Decode, TypeInfo, MaxEncodedLen)]
        #[scale_info(skip_type_params(MaxLocatorLen))]
        pub struct TaskInfo<AccountId, Balance, BlockNumber, MaxLocatorLen: Get<u32>> {
            /// Owner.
            pub owner: AccountId,
            /// Spec.
            pub spec: TrainingSpec,
            /// Params.
            pub params: TaskParams<Balance, BlockNumber>,
            /// Data.
            pub dataset: DatasetCommitment<MaxLocatorLen>,
            /// Root.
            pub state_root: Hash,
            /// Initial root.
            pub initial_root: Hash,
            /// Round.
            pub round: u32,
            /// Steps.
            pub steps_done: u64,
            /// Status.
            pub status: TaskStatus,
            /// Escrow.
            pub escrow: Balance,
            /// Committed escrow.
            pub committed: Balance,
            /// Pending count.
            pub pending: u32,
            /// Root block.
            pub root_set_at: BlockNumber,
            /// Deposit.
            pub deposit: Balance,
        }

        /// A submission of version 1: no `base_locator`.
        #[derive(Encode, Decode, TypeInfo, MaxEncodedLen)]
        #[scale_info(skip_type_params(MaxLocatorLen, MaxAssigned))]
        pub struct Submission<AccountId, Balance, BlockNumber, MaxLocatorLen: Get<u32>, MaxAssigned: Get<u32>> {
            /// Task.
            pub task: TaskId,
            /// Miner.
            pub miner: AccountId,
            /// Commitment.
            pub commitment: RoundCommitment,
            /// Round.
            pub round: u32,
            /// Base root block.
            pub base_root_set_at: BlockNumber,
            /// Locator.
            pub locator: BoundedVec<u8, MaxLocatorLen>,
            /// Inclusion block.
            pub submitted_at: BlockNumber,
            /// Relay epoch.
            pub relay_epoch: u64,
            /// Escalation epoch.
            pub escalated_epoch: Option<u64>,
            /// Phase.
            pub phase: Phase<BlockNumber>,
            /// Miner bond.
            pub bond: Balance,
            /// Deposit.
            pub deposit: Balance,
            /// Escrow.
            pub escrow: Balance,
            /// Level-0 challenge.
            pub challenge: Option<Hash>,
            /// Level-1 challenge.
            pub escalation_challenge: Option<Hash>,
            /// Level.
            pub level: u8,
            /// Assigned.
            pub assigned: BoundedVec<Assignment<AccountId, Balance>, MaxAssigned>,
            /// Disputed steps.
            pub disputed_steps: BoundedVec<u32, MaxAssigned>,
        }

        /// The version-1 submission record of a runtime.
        pub type SubmissionOf<T> = Submission<
            <T as frame_system::Config>::AccountId,
            BalanceOf<T>,
            BlockNumberFor<T>,
            <T as Config>::MaxLocatorLen,
            <T as Config>::MaxAssigned,
        >;

        /// The version-1 task record of a runtime.
        pub type TaskOf<T> = TaskInfo<
            <T as frame_system::Config>::AccountId,
            BalanceOf<T>,
            BlockNumberFor<T>,
            <T as Config>::MaxLocatorLen,
        >;

        pub use alias::{Submissions, Tasks};

        #[allow(missing_docs)] // the counter prefix type `storage_alias` generates has no docs
        mod alias {
            use super::*;

            /// `Tasks` with version-1 records.
            #[frame_support::storage_alias]
            pub type Tasks<T: Config> = CountedStorageMap<Pallet<T>, Blake2_128Concat, TaskId, TaskOf<T>>;

            /// `Submissions` with version-1 records.
            #[frame_support::storage_alias]
            pub type Submissions<T: Config> =
                CountedStorageMap<Pallet<T>, Blake2_128Concat, SubmissionId, SubmissionOf<T>>;
        }
    }

    type OldLedger<T> = v0::BondLedger<BalanceOf<T>, BlockNumberFor<T>>;
    type OldTask<T> = v0::TaskInfo<<T as frame_system::Config>::AccountId, BalanceOf<T>, BlockNumberFor<T>, <T as Config>::MaxLocatorLen>;
    type OldSubmission<T> = v0::Submission<
        <T as frame_system::Config>::AccountId,
        BalanceOf<T>,
        BlockNumberFor<T>,
        <T as Config>::MaxLocatorLen,
        <T as Config>::MaxAssigned,
    >;

    /// The migration's body; use [`MigrateV0ToV1`], which runs it once, at version 0 only.
    pub struct InnerMigrateV0ToV1<T>(core::marker::PhantomData<T>);

    impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV0ToV1<T> {
        /// * Ledgers: an unbonding amount waits for every submission unsettled at the upgrade; the
        ///   bond block is 0 (existing miners may build on the current roots).
        /// * Tasks: the current root counts as set at the upgrade; tasks created before carry no deposit.
        /// * Submissions: a level-1 round keeps the challenge it was drawn with; all enter the queue.
        /// * The registry is built from the eligible verifier ledgers, largest stakes first.
        fn on_runtime_upgrade() -> Weight {
            let now = frame_system::Pallet::<T>::block_number();
            let next_submission = NextSubmissionId::<T>::get();
            let (mut reads, mut writes) = (1u64, 0u64);
            let ledger = |old: OldLedger<T>| LedgerOf::<T> {
                held: old.held,
                at_risk: old.at_risk,
                unbonding: old.unbonding.map(|(amount, unlocks_at)| Unbonding {
                    amount,
                    unlocks_at,
                    after_submission: next_submission,
                }),
                bonded_at: Zero::zero(),
            };
            MinerBonds::<T>::translate::<OldLedger<T>, _>(|_, old| {
                reads.saturating_inc();
                writes.saturating_inc();
                Some(ledger(old))
            });
            let mut eligible: Vec<(T::AccountId, BalanceOf<T>)> = Vec::new();
            VerifierBonds::<T>::translate::<OldLedger<T>, _>(|who, old| {
                reads.saturating_inc();
                writes.saturating_inc();
                let new = ledger(old);
                let stake = Pallet::<T>::active_bond(&new);
                if stake >= T::MinVerifierBond::get() {
                    eligible.push((who, stake));
                }
                Some(new)
            });
            eligible.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            eligible.truncate(T::MaxVerifiers::get() as usize);
            eligible.sort_by(|a, b| a.0.cmp(&b.0));
            VerifierRegistry::<T>::put(BoundedVec::truncate_from(eligible));
            writes.saturating_inc();
            frozen::Tasks::<T>::translate::<OldTask<T>, _>(|_, old| {
                reads.saturating_inc();
                writes.saturating_inc();
                Some(frozen::TaskInfo {
                    owner: old.owner,
                    spec: old.spec,
                    params: old.params,
                    dataset: old.dataset,
                    state_root: old.state_root,
                    initial_root: old.initial_root,
                    round: old.round,
                    steps_done: old.steps_done,
                    status: old.status,
                    escrow: old.escrow,
                    committed: old.committed,
                    pending: old.pending,
                    root_set_at: now,
                    deposit: Zero::zero(),
                })
            });
            frozen::Submissions::<T>::translate::<OldSubmission<T>, _>(|id, old| {
                reads.saturating_inc();
                writes = writes.saturating_add(2);
                SubmissionQueue::<T>::insert(id.to_be_bytes(), ());
                Some(frozen::Submission {
                    task: old.task,
                    miner: old.miner,
                    commitment: old.commitment,
                    round: old.round,
                    base_root_set_at: now,
                    locator: old.locator,
                    submitted_at: old.submitted_at,
                    relay_epoch: old.relay_epoch,
                    escalated_epoch: (old.level > 0).then_some(old.relay_epoch),
                    phase: old.phase,
                    bond: old.bond,
                    deposit: old.deposit,
                    escrow: old.escrow,
                    challenge: old.challenge,
                    escalation_challenge: if old.level > 0 { old.challenge } else { None },
                    level: old.level,
                    assigned: old.assigned,
                    disputed_steps: old.disputed_steps,
                })
            });
            T::DbWeight::get().reads_writes(reads, writes)
        }

        #[cfg(feature = "try-runtime")]
        fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
            let counts = (
                frozen::Tasks::<T>::count(),
                Submissions::<T>::count(),
                MinerBonds::<T>::iter_keys().count() as u32,
                VerifierBonds::<T>::count(),
            );
            Ok(counts.encode())
        }

        #[cfg(feature = "try-runtime")]
        fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
            let (tasks, submissions, miners, verifiers): (u32, u32, u32, u32) =
                Decode::decode(&mut &state[..]).map_err(|_| "pre_upgrade state does not decode")?;
            ensure!(frozen::Tasks::<T>::iter_values().count() as u32 == tasks, "a task was lost");
            ensure!(frozen::Submissions::<T>::iter_values().count() as u32 == submissions, "a submission was lost");
            ensure!(MinerBonds::<T>::iter_values().count() as u32 == miners, "a miner ledger was lost");
            ensure!(VerifierBonds::<T>::iter_values().count() as u32 == verifiers, "a verifier ledger was lost");
            ensure!(SubmissionQueue::<T>::iter_keys().count() as u32 == submissions, "queue != submissions");
            Ok(())
        }
    }

    /// Version 0 → 1, run once when the on-chain storage version is 0.
    pub type MigrateV0ToV1<T> = VersionedMigration<
        0,
        1,
        InnerMigrateV0ToV1<T>,
        Pallet<T>,
        <T as frame_system::Config>::DbWeight,
    >;
}

/// Version 1 to version 2 (protocol version 2, issue 11): a task commits its model, and the tolerance
/// rule judges every value instead of counting codes.
pub mod v2 {
    use super::{v1::frozen, *};
    use alloc::vec::Vec;
    use pogo_primitives::{tolerance::Tolerance, TrainingSpec};
    use sp_runtime::Saturating;

    /// The migration's body; use [`MigrateV1ToV2`], which runs it once, at version 1 only.
    pub struct InnerMigrateV1ToV2<T>(core::marker::PhantomData<T>);

    impl<T: Config> UncheckedOnRuntimeUpgrade for InnerMigrateV1ToV2<T> {
        /// Tasks: the spec's `model` is all zeros, which no descriptor hashes to, and no `TaskModels`
        /// entry exists, so workers refuse the task; it is paused (its pending rounds finish; the owner
        /// may close it and create it again with a model). The tolerance becomes
        /// `Tolerance::DEFAULT`: version 1's code budgets mean nothing under the new rule. Its
        /// `model_locator` is empty (the state is served by the round that set it, which version 1 did
        /// not record). Submissions: `base_locator` is empty.
        fn on_runtime_upgrade() -> Weight {
            let (mut reads, mut writes) = (0u64, 0u64);
            Tasks::<T>::translate::<frozen::TaskOf<T>, _>(|_, old| {
                reads.saturating_inc();
                writes.saturating_inc();
                let s = old.spec;
                let mut params = old.params;
                params.tolerance = Tolerance::DEFAULT;
                Some(TaskInfo {
                    owner: old.owner,
                    spec: TrainingSpec {
                        model: NO_MODEL,
                        param_count: s.param_count,
                        leaf_size: s.leaf_size,
                        codec_block: s.codec_block,
                        rule: s.rule,
                        schedule: s.schedule,
                        max_grad_norm: s.max_grad_norm,
                        steps_per_round: s.steps_per_round,
                        checkpoint_interval: s.checkpoint_interval,
                        batch_size: s.batch_size,
                        train_examples: s.train_examples,
                        eval_examples: s.eval_examples,
                    },
                    params,
                    dataset: old.dataset,
                    state_root: old.state_root,
                    initial_root: old.initial_root,
                    round: old.round,
                    steps_done: old.steps_done,
                    status: TaskStatus::Paused,
                    escrow: old.escrow,
                    committed: old.committed,
                    pending: old.pending,
                    root_set_at: old.root_set_at,
                    deposit: old.deposit,
                    model_locator: BoundedVec::new(),
                })
            });
            Submissions::<T>::translate::<frozen::SubmissionOf<T>, _>(|_, old| {
                reads.saturating_inc();
                writes.saturating_inc();
                Some(Submission {
                    task: old.task,
                    miner: old.miner,
                    commitment: old.commitment,
                    round: old.round,
                    base_root_set_at: old.base_root_set_at,
                    locator: old.locator,
                    base_locator: BoundedVec::new(),
                    submitted_at: old.submitted_at,
                    relay_epoch: old.relay_epoch,
                    escalated_epoch: old.escalated_epoch,
                    phase: old.phase,
                    bond: old.bond,
                    deposit: old.deposit,
                    escrow: old.escrow,
                    challenge: old.challenge,
                    escalation_challenge: old.escalation_challenge,
                    level: old.level,
                    assigned: old.assigned,
                    disputed_steps: old.disputed_steps,
                })
            });
            T::DbWeight::get().reads_writes(reads, writes)
        }

        #[cfg(feature = "try-runtime")]
        fn pre_upgrade() -> Result<Vec<u8>, sp_runtime::TryRuntimeError> {
            Ok((frozen::Tasks::<T>::count(), Submissions::<T>::count()).encode())
        }

        #[cfg(feature = "try-runtime")]
        fn post_upgrade(state: Vec<u8>) -> Result<(), sp_runtime::TryRuntimeError> {
            let (tasks, submissions): (u32, u32) =
                Decode::decode(&mut &state[..]).map_err(|_| "pre_upgrade state does not decode")?;
            ensure!(Tasks::<T>::iter_values().count() as u32 == tasks, "a task was lost");
            ensure!(Submissions::<T>::iter_values().count() as u32 == submissions, "a submission was lost");
            ensure!(
                Tasks::<T>::iter_values().all(|t| t.status == TaskStatus::Paused && t.spec.model == NO_MODEL),
                "a migrated task is active or claims a model"
            );
            Pallet::<T>::do_try_state()
        }
    }

    /// Version 1 → 2, run once when the on-chain storage version is 1.
    pub type MigrateV1ToV2<T> = VersionedMigration<
        1,
        2,
        InnerMigrateV1ToV2<T>,
        Pallet<T>,
        <T as frame_system::Config>::DbWeight,
    >;
}
