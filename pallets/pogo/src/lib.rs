//! # pallet-pogo
//!
//! PoGO — Proof of Gradient Optimization — on chain.
//!
//! ## Overview
//!
//! A *task* owner funds the training of a model whose parameters are committed as a Merkle *state root*.
//! *Miners* train for a round of steps on data fixed by a seed they cannot choose, then submit a
//! [`RoundCommitment`](pogo_primitives::RoundCommitment): the base root, a root over per-step records (each
//! with the root of that step's 4-bit gradients), and the final root. After the submission, relay-chain
//! randomness that did not exist before it fixes a *challenge*: a stake-weighted sample of *verifiers*
//! from the stake snapshot taken at submission, each with its own steps to recompute and leaves to open.
//! Verifiers commit verdicts, then reveal them. At level 0, two thirds of the assigned stake positive and
//! no negative verdict accepts the round (the task root advances, provisionally for a fraud window);
//! anything else escalates it to a larger level-1 set drawn with fresh relay randomness, which recomputes
//! the disputed steps and decides alone: two thirds positive accepts, two thirds negative rejects and
//! slashes the miner's bond, anything else expires the round. Verifiers are settled when the outcome is
//! final (an accepted round's at the end of its fraud window). Anyone can prove a bad state transition
//! of one leaf with a fraud proof, checked here with `pogo-primitives`, until the fraud window closes.
//!
//! ## Design
//!
//! * Every rule about bytes (hashing, codec, update rules, seeds, assignment, tally, fraud proofs) is in
//!   `pogo-primitives`, shared with the worker; this pallet keeps state and money.
//! * Bonds, storage deposits and task escrow are `fungible` holds, one per account and [`HoldReason`]; the
//!   pallet's ledgers record what each account has at stake in pending submissions, and unbonding waits
//!   longer than every window so no bond escapes a pending slash.
//! * Work per call is bounded: every queue is a `BoundedVec`, settlement of a submission touches at most
//!   `MaxAssigned` verifiers, a fraud proof marks at most `MaxPendingPerTask` accepted rounds voided,
//!   and stale or voided rounds are removed one by one when next advanced.
//! * Progress needs no keeper: `on_idle` advances due submissions oldest first within the block's spare
//!   weight (at most `MaxIdleAdvances` a block); the permissionless [`Call::advance`] stays the fallback.
//! * Only eligible stake (at least `MinVerifierBond`) holds one of the `MaxVerifiers` registry slots; a
//!   larger bond evicts the smallest when the registry is full.
//!
//! ## Terms
//!
//! * **Round** — `steps_per_round` optimizer steps from the task's current root.
//! * **Stake at risk** — the part of a bond a pending submission may still slash.
//! * **Fraud window** — blocks after acceptance during which a fraud proof overturns the round.
//! * **Stale** — a pending round whose base root is no longer the task's root.
//!
//! The protocol is specified in `docs/protocol.md`; the lifecycle diagram is in `docs/pallet.md`.

#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::panic
    )
)]

extern crate alloc;

pub use api::MAX_API_PAGE;
pub use pallet::*;

mod api;
mod bonds;
mod dispatchable_impls;
mod errors;
mod finalize;
mod idle;
mod invariants;
pub mod migrations;
mod registry;
pub mod types;
pub mod weights;

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

pub use types::*;
pub use weights::WeightInfo;

/// The log target of this pallet.
pub const LOG_TARGET: &str = "runtime::pogo";

use polkadot_sdk::{frame_support, frame_system, sp_runtime};

/// The pallet: declarations and thin calls. The logic lives in `dispatchable_impls`, `finalize` and
/// `bonds`, where the runtime lints (no `unwrap`/`expect`/indexing/unchecked arithmetic) apply in full;
/// here they are relaxed only because FRAME's macro expansions (storage metadata, call decoding) use
/// `expect` on values they construct themselves.
///
/// Challenges use relay-chain epoch randomness. On a `--dev` chain the relay chain is mocked and this
/// randomness is predictable: development only.
#[frame_support::pallet]
#[allow(clippy::expect_used, clippy::unwrap_used)]
pub mod pallet {
    use super::*;
    use alloc::boxed::Box;
    use frame_support::{
        pallet_prelude::*,
        traits::{
            fungible::{self, Credit},
            OnUnbalanced,
        },
    };
    use frame_system::pallet_prelude::*;
    use pogo_primitives::{
        fraud::FraudProof, verdict::Verdict, Hash, RoundCommitment, TrainingSpec,
    };
    use sp_runtime::Perbill;

    /// Balance of the currency.
    pub type BalanceOf<T> =
        <<T as Config>::Currency as fungible::Inspect<<T as frame_system::Config>::AccountId>>::Balance;
    /// A credit (imbalance) of the currency.
    pub type CreditOf<T> = Credit<<T as frame_system::Config>::AccountId, <T as Config>::Currency>;
    /// A task record.
    pub type TaskOf<T> = TaskInfo<T>;
    /// Task parameters.
    pub type TaskParamsOf<T> = TaskParams<BalanceOf<T>, BlockNumberFor<T>>;
    /// A submission record.
    pub type SubmissionOf<T> = Submission<T>;
    /// A task's model descriptor as stored.
    pub type ModelOf = BoundedModelDescriptor;
    /// A dataset commitment.
    pub type DatasetOf<T> = DatasetCommitment<<T as Config>::MaxLocatorLen>;
    /// A bond ledger.
    pub type LedgerOf<T> = BondLedger<BalanceOf<T>, BlockNumberFor<T>>;

    /// The storage layout version (see `migrations`).
    pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(2);

    #[pallet::pallet]
    #[pallet::storage_version(STORAGE_VERSION)]
    pub struct Pallet<T>(_);

    /// Why the pallet holds funds.
    #[pallet::composite_enum]
    pub enum HoldReason {
        /// A miner's bond.
        MinerBond,
        /// A verifier's bond.
        VerifierBond,
        /// A task owner's escrow for rewards and verifier pay.
        TaskEscrow,
        /// A miner's storage deposit for a pending submission.
        SubmissionDeposit,
        /// A task owner's storage deposit for the task record.
        TaskDeposit,
    }

    #[pallet::config]
    pub trait Config: polkadot_sdk::frame_system::Config<RuntimeEvent: From<Event<Self>>> {
        /// The currency bonds, escrow and rewards are paid in.
        type Currency: fungible::Inspect<Self::AccountId>
            + fungible::Mutate<Self::AccountId>
            + fungible::MutateHold<Self::AccountId, Reason = Self::RuntimeHoldReason>
            + fungible::BalancedHold<Self::AccountId>;
        /// The overarching hold reason.
        type RuntimeHoldReason: From<HoldReason>;
        /// Where slashed funds go (e.g. the treasury): every slash, of miners and of verifiers.
        type Slashed: OnUnbalanced<CreditOf<Self>>;
        /// Relay-chain epoch randomness for challenges. In `--dev` mode the relay chain is mocked and
        /// this randomness is predictable: development only.
        type RelayRandomness: RelayRandomness;
        /// Weights of the calls.
        type WeightInfo: WeightInfo;

        /// Relay epochs between a submission's relay parent and the epoch whose randomness fixes its
        /// challenge (2: the randomness comes from VRF outputs all produced after the submission).
        #[pallet::constant]
        type ChallengeEpochDelay: Get<u64>;
        /// Blocks after acceptance during which a fraud proof overturns a round.
        #[pallet::constant]
        type FraudWindow: Get<BlockNumberFor<Self>>;
        /// Blocks an unbonding amount waits before it can be withdrawn; longer than every window.
        #[pallet::constant]
        type UnbondingPeriod: Get<BlockNumberFor<Self>>;
        /// Shortest commit or reveal window a task may set.
        #[pallet::constant]
        type MinWindow: Get<BlockNumberFor<Self>>;
        /// Longest commit or reveal window a task may set.
        #[pallet::constant]
        type MaxWindow: Get<BlockNumberFor<Self>>;
        /// Storage deposit per submission, held from the miner until it settles.
        #[pallet::constant]
        type SubmissionDeposit: Get<BalanceOf<Self>>;
        /// Storage deposit per task, held from the owner until the task is closed.
        #[pallet::constant]
        type TaskDeposit: Get<BalanceOf<Self>>;
        /// Storage deposit per byte of a task's model descriptor, held with `TaskDeposit`.
        #[pallet::constant]
        type ModelByteDeposit: Get<BalanceOf<Self>>;
        /// Smallest verifier bond that is eligible for assignment.
        #[pallet::constant]
        type MinVerifierBond: Get<BalanceOf<Self>>;
        /// Share of its stake a verifier loses for not revealing a verdict (silent or committed only).
        /// At least `LosingVoteSlash`, so withholding a losing verdict never pays.
        #[pallet::constant]
        type NonRevealSlash: Get<Perbill>;
        /// Share of its stake a verifier loses for a verdict against the outcome.
        #[pallet::constant]
        type LosingVoteSlash: Get<Perbill>;
        /// Share of the miner bond lost when a round is rejected only for unavailable data.
        #[pallet::constant]
        type DataUnavailableSlash: Get<Perbill>;
        /// Longest data locator (URI) in bytes.
        #[pallet::constant]
        type MaxLocatorLen: Get<u32>;
        /// Most verifiers assigned to one submission over both levels.
        #[pallet::constant]
        type MaxAssigned: Get<u32>;
        /// Most registered verifiers (the size of a stake snapshot).
        #[pallet::constant]
        type MaxVerifiers: Get<u32>;
        /// Most unsettled submissions per task.
        #[pallet::constant]
        type MaxPendingPerTask: Get<u32>;
        /// Largest checkpoint interval a task may use (bounds fraud-proof work).
        #[pallet::constant]
        type MaxCheckpointInterval: Get<u32>;
        /// Largest encoded fraud proof accepted, in bytes.
        #[pallet::constant]
        type MaxFraudProofLen: Get<u32>;
        /// Relay epochs of randomness kept for challenges not yet fixed.
        #[pallet::constant]
        type RandomnessRetention: Get<u64>;
        /// Most submissions `on_idle` advances in one block.
        #[pallet::constant]
        type MaxIdleAdvances: Get<u32>;
        /// Sets up relay-chain data for benchmarks.
        #[cfg(feature = "runtime-benchmarks")]
        type BenchmarkHelper: BenchmarkHelper;
    }

    /// The next task id.
    #[pallet::storage]
    pub type NextTaskId<T> = StorageValue<_, TaskId, ValueQuery>;

    /// Tasks by id.
    #[pallet::storage]
    pub type Tasks<T: Config> = CountedStorageMap<_, Blake2_128Concat, TaskId, TaskOf<T>>;

    /// The model each task trains (its hash is the task spec's `model`); removed with the task.
    #[pallet::storage]
    pub type TaskModels<T: Config> = StorageMap<_, Blake2_128Concat, TaskId, ModelOf>;

    /// Unsettled submissions of each task.
    #[pallet::storage]
    pub type PendingByTask<T: Config> =
        StorageMap<_, Blake2_128Concat, TaskId, BoundedVec<SubmissionId, T::MaxPendingPerTask>, ValueQuery>;

    /// The next submission id.
    #[pallet::storage]
    pub type NextSubmissionId<T> = StorageValue<_, SubmissionId, ValueQuery>;

    /// Unsettled submissions by id.
    #[pallet::storage]
    pub type Submissions<T: Config> = CountedStorageMap<_, Blake2_128Concat, SubmissionId, SubmissionOf<T>>;

    /// Verifier stake snapshot of a submission, taken at inclusion (accounts ascending); both levels'
    /// assignments are drawn from it. Removed with the submission.
    #[pallet::storage]
    pub type Snapshots<T: Config> = StorageMap<
        _,
        Blake2_128Concat,
        SubmissionId,
        BoundedVec<(T::AccountId, BalanceOf<T>), T::MaxVerifiers>,
    >;

    /// Attestations by submission and verifier.
    #[pallet::storage]
    pub type Attestations<T: Config> =
        StorageDoubleMap<_, Blake2_128Concat, SubmissionId, Blake2_128Concat, T::AccountId, Attestation>;

    /// Miner bonds.
    #[pallet::storage]
    pub type MinerBonds<T: Config> = StorageMap<_, Blake2_128Concat, T::AccountId, LedgerOf<T>>;

    /// Relay-chain `ONE_EPOCH_AGO_RANDOMNESS` by relay epoch index, recorded in the first block that saw
    /// each epoch and kept for `RandomnessRetention` epochs. A challenge uses the value recorded for
    /// exactly its target epoch, so the block in which `advance` is called does not matter.
    #[pallet::storage]
    pub type EpochRandomness<T> = StorageMap<_, Twox64Concat, u64, Hash>;

    /// The newest relay epoch recorded in [`EpochRandomness`].
    #[pallet::storage]
    pub type LastRecordedEpoch<T> = StorageValue<_, u64>;

    /// Verifier bonds (any size; only those in [`VerifierRegistry`] are drawn).
    #[pallet::storage]
    pub type VerifierBonds<T: Config> = CountedStorageMap<_, Blake2_128Concat, T::AccountId, LedgerOf<T>>;

    /// The verifiers eligible for assignment, with their active bond, accounts ascending: every entry has
    /// at least `MinVerifierBond`. A submission's stake snapshot is a copy of it.
    #[pallet::storage]
    pub type VerifierRegistry<T: Config> =
        StorageValue<_, BoundedVec<(T::AccountId, BalanceOf<T>), T::MaxVerifiers>, ValueQuery>;

    /// Every unsettled submission, keyed by its id in big-endian bytes so that iteration runs oldest
    /// first (`on_idle`, and the unbonding rule that waits for every older submission).
    #[pallet::storage]
    pub type SubmissionQueue<T> = StorageMap<_, Identity, [u8; 8], ()>;

    /// Where `on_idle` continues its scan of [`SubmissionQueue`] (the last id it looked at).
    #[pallet::storage]
    pub type IdleCursor<T> = StorageValue<_, SubmissionId>;

    #[pallet::event]
    #[pallet::generate_deposit(pub(super) fn deposit_event)]
    #[allow(missing_docs)] // field names say what they hold; variants are documented
    pub enum Event<T: Config> {
        /// A task was created.
        TaskCreated { task: TaskId, owner: T::AccountId, state_root: Hash, escrow: BalanceOf<T> },
        /// A task's escrow grew.
        TaskToppedUp { task: TaskId, amount: BalanceOf<T>, escrow: BalanceOf<T> },
        /// A task stopped or resumed taking submissions.
        TaskStatusChanged { task: TaskId, status: TaskStatus },
        /// A task was closed and its escrow released.
        TaskClosed { task: TaskId, released: BalanceOf<T> },
        /// An account bonded funds in a role.
        Bonded { who: T::AccountId, role: Role, amount: BalanceOf<T> },
        /// An account started unbonding.
        Unbonding { who: T::AccountId, role: Role, amount: BalanceOf<T>, unlocks_at: BlockNumberFor<T> },
        /// An account withdrew unbonded funds.
        Withdrawn { who: T::AccountId, role: Role, amount: BalanceOf<T> },
        /// A miner submitted a round.
        RoundSubmitted {
            submission: SubmissionId,
            task: TaskId,
            miner: T::AccountId,
            round: u32,
            base_root: Hash,
            final_root: Hash,
        },
        /// The challenge of a submission was fixed and verifiers were assigned.
        ChallengeFixed { submission: SubmissionId, challenge: Hash, level: u8, verifiers: u32 },
        /// A verifier committed a verdict.
        VerdictCommitted { submission: SubmissionId, verifier: T::AccountId },
        /// The commit window closed; verifiers reveal until the block given.
        RevealStarted { submission: SubmissionId, until: BlockNumberFor<T> },
        /// A verifier revealed its verdict.
        VerdictRevealed { submission: SubmissionId, verifier: T::AccountId, verdict: Verdict },
        /// A round was accepted; the task root is provisional until `final_at`.
        RoundAccepted { submission: SubmissionId, task: TaskId, state_root: Hash, final_at: BlockNumberFor<T> },
        /// A round was rejected by votes; the miner lost `slashed`.
        RoundRejected { submission: SubmissionId, task: TaskId, slashed: BalanceOf<T> },
        /// A round was escalated: a larger verifier set, drawn with relay randomness from after
        /// `epoch + ChallengeEpochDelay`, decides it and also recomputes `disputed_steps`.
        RoundEscalated { submission: SubmissionId, epoch: u64, disputed_steps: u32 },
        /// A round reached no decision and expired.
        RoundExpired { submission: SubmissionId, task: TaskId },
        /// A round became stale: another round moved the task root.
        RoundStale { submission: SubmissionId, task: TaskId },
        /// A round was voided because the root it built on was overturned.
        RoundVoided { submission: SubmissionId, task: TaskId },
        /// An accepted round's fraud window closed; the miner was paid.
        RoundFinalized { submission: SubmissionId, task: TaskId, miner: T::AccountId, reward: BalanceOf<T> },
        /// A fraud proof was accepted.
        FraudProven {
            submission: SubmissionId,
            reporter: T::AccountId,
            fraud: pogo_primitives::fraud::Fraud,
            slashed: BalanceOf<T>,
        },
        /// The task root was reverted by a fraud proof.
        StateRootReverted { task: TaskId, state_root: Hash },
        /// A bonded account was slashed.
        Slashed { who: T::AccountId, role: Role, amount: BalanceOf<T> },
        /// A verifier was paid.
        VerifierPaid { submission: SubmissionId, verifier: T::AccountId, amount: BalanceOf<T> },
        /// A verifier left the registry (its eligible stake fell below `MinVerifierBond`, or a larger
        /// bond took its slot).
        VerifierDeregistered { who: T::AccountId },
    }

    #[pallet::error]
    pub enum Error<T> {
        /// The spec has no parameters.
        SpecHasNoParameters,
        /// The spec's leaf size is zero or above the protocol's maximum.
        SpecLeafSizeOutOfRange,
        /// The spec's codec block is zero, odd, above the maximum or does not divide the leaf size.
        SpecCodecBlockInvalid,
        /// The spec's update rule has a parameter out of range.
        SpecUpdateRuleInvalid,
        /// The spec's learning-rate schedule has a parameter out of range.
        SpecScheduleInvalid,
        /// The spec's gradient clipping norm is negative or not finite.
        SpecClippingInvalid,
        /// The spec's steps per round or checkpoint interval are zero, inconsistent or too large.
        SpecRoundShapeInvalid,
        /// The spec's batch size or example counts are zero, inconsistent or too large.
        SpecDataInvalid,
        /// The spec's parameter count is above the protocol's maximum.
        SpecTooManyParameters,
        /// The checkpoint interval exceeds `MaxCheckpointInterval` or makes fraud proofs too large.
        CheckpointIntervalTooLarge,
        /// Task parameters are invalid: zero verifiers, an escalation set not larger than level 0, more
        /// than `MaxAssigned` in all, a window out of range, or a share above one million ppm.
        InvalidTaskParams,
        /// The model descriptor's architecture string is empty, too long or not UTF-8.
        ModelArchitectureInvalid,
        /// The model descriptor has no tensors, or a tensor with an empty, non-UTF-8 or repeated name,
        /// or a zero dimension.
        ModelTensorsInvalid,
        /// The model descriptor's tensors do not hold exactly the spec's `param_count` parameters.
        ModelParamCountMismatch,
        /// The model descriptor does not hash to the spec's `model`.
        ModelHashMismatch,
        /// The task has no model descriptor (created before protocol version 2) and cannot be resumed.
        TaskHasNoModel,
        /// A task's sample sizes are out of range (steps above steps per round, leaves or eval examples
        /// above the protocol's maxima or the model's/data's size).
        SampleSizesOutOfRange,
        /// No task with this id.
        UnknownTask,
        /// Only the task owner may do this.
        NotTaskOwner,
        /// The task is paused.
        TaskPaused,
        /// The task already has this status.
        TaskStatusUnchanged,
        /// The task has unsettled submissions.
        TaskHasPendingSubmissions,
        /// The task's free escrow does not cover the round's reward and verifier pay.
        TaskUnderfunded,
        /// An amount of zero.
        ZeroAmount,
        /// Not enough free balance for the hold.
        InsufficientBalance,
        /// The account has no bond in this role.
        NotBonded,
        /// The amount exceeds the bond that is neither at risk nor unbonding.
        InsufficientFreeBond,
        /// Nothing is unbonding.
        NothingUnbonding,
        /// The unbonding period has not passed.
        StillUnbonding,
        /// The verifier registry is full of bonds at least as large.
        TooManyVerifiers,
        /// The bond is below `MinVerifierBond`.
        BondTooSmall,
        /// The commitment's base root is not the task's current root.
        WrongBaseRoot,
        /// The miner's bond was last increased after the task's root was set (no grinding of the round
        /// seed by fresh accounts): wait for the next root.
        BondNewerThanBaseRoot,
        /// Unbonded verifier stake waits until every submission older than the unbonding has settled.
        UnbondingAwaitsSubmissions,
        /// The commitment's step count is not the task's steps per round.
        WrongStepCount,
        /// The task has `MaxPendingPerTask` unsettled submissions.
        TooManyPendingSubmissions,
        /// No such unsettled submission.
        UnknownSubmission,
        /// The submission is not in the phase this call needs.
        WrongPhase,
        /// The window for this call has closed.
        WindowClosed,
        /// The caller is not assigned to this submission at its current level.
        NotAssigned,
        /// The verifier already committed.
        AlreadyCommitted,
        /// The verifier has not committed.
        NotCommitted,
        /// The verifier already revealed.
        AlreadyRevealed,
        /// The revealed verdict and salt do not match the commitment.
        RevealMismatch,
        /// The relay-chain randomness for the challenge is not known yet.
        ChallengeNotReady,
        /// The submission's deadline has not passed and its condition does not hold yet.
        TooEarly,
        /// The fraud proof names a step or leaf outside the round or the model.
        FraudProofOutOfRange,
        /// The fraud proof's start state is not a checkpoint of the round.
        FraudProofWrongAnchor,
        /// The fraud proof's step records are not the consecutive steps from its anchor.
        FraudProofWrongSteps,
        /// A step record's Merkle opening does not match the round's record root.
        FraudProofBadRecordOpening,
        /// A gradient leaf's Merkle opening does not match its step's gradient root.
        FraudProofBadGradientOpening,
        /// The start leaf's Merkle opening does not match the anchor's state root.
        FraudProofBadStartOpening,
        /// The end leaf's Merkle opening does not match the committed state root.
        FraudProofBadEndOpening,
        /// The start leaf's bytes are not a valid state leaf.
        FraudProofBadStartLeaf,
        /// The end leaf's bytes are not a valid state leaf.
        FraudProofBadEndLeaf,
        /// Every opening checks out and the replay agrees: the proof shows no fraud.
        FraudProofShowsNoFraud,
        /// The fraud proof is larger than `MaxFraudProofLen`.
        FraudProofTooLarge,
        /// The fraud window of this round has closed.
        FraudWindowClosed,
        /// An arithmetic overflow.
        Overflow,
        /// The task asks for sampled replay (`VerificationMode::SampledReplay`) with no sampled leaves to
        /// replay (`samples.leaves = 0`).
        NoLeavesForSampledReplay,
    }

    #[pallet::hooks]
    impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
        fn on_initialize(_n: BlockNumberFor<T>) -> Weight {
            // What `on_finalize` will do: read the relay state proof, record a new epoch's randomness
            // and prune the oldest (benchmarked at its worst case).
            T::WeightInfo::record_epoch_randomness()
        }

        fn on_finalize(_n: BlockNumberFor<T>) {
            Self::record_epoch_randomness();
        }

        fn on_idle(_n: BlockNumberFor<T>, remaining: Weight) -> Weight {
            Self::advance_due(remaining)
        }

        fn integrity_test() {
            Self::check_config();
        }

        #[cfg(feature = "try-runtime")]
        fn try_state(_n: BlockNumberFor<T>) -> Result<(), sp_runtime::TryRuntimeError> {
            Self::do_try_state()
        }
    }

    #[pallet::call]
    impl<T: Config> Pallet<T> {
        /// Creates a task that trains `model` (whose hash is `spec.model`) from `initial_root`, with
        /// `escrow` held from the caller and a storage deposit of `TaskDeposit` plus
        /// `ModelByteDeposit` per byte of the model descriptor.
        #[pallet::call_index(0)]
        #[pallet::weight(T::WeightInfo::create_task(model.tensors.len() as u32))]
        pub fn create_task(
            origin: OriginFor<T>,
            spec: TrainingSpec,
            model: ModelOf,
            params: TaskParamsOf<T>,
            initial_root: Hash,
            dataset: DatasetOf<T>,
            escrow: BalanceOf<T>,
        ) -> DispatchResult {
            let who = ensure_signed(origin)?;
            Self::do_create_task(who, spec, model, params, initial_root, dataset, escrow)
        }

        /// Adds `amount` to a task's escrow (anyone may fund a task; the owner keeps control of it).
        #[pallet::call_index(1)]
        #[pallet::weight(T::WeightInfo::top_up())]
        pub fn top_up(origin: OriginFor<T>, task: TaskId, amount: BalanceOf<T>) -> DispatchResult {
            let who = ensure_signed(origin)?;
            Self::do_top_up(who, task, amount)
        }

        /// Pauses or resumes a task (owner only).
        #[pallet::call_index(2)]
        #[pallet::weight(T::WeightInfo::set_task_status())]
        pub fn set_task_status(origin: OriginFor<T>, task: TaskId, status: TaskStatus) -> DispatchResult {
            let who = ensure_signed(origin)?;
            Self::do_set_task_status(who, task, status)
        }

        /// Closes a task with no unsettled submissions and releases its escrow (owner only).
        #[pallet::call_index(3)]
        #[pallet::weight(T::WeightInfo::close_task())]
        pub fn close_task(origin: OriginFor<T>, task: TaskId) -> DispatchResult {
            let who = ensure_signed(origin)?;
            Self::do_close_task(who, task)
        }

        /// Holds `amount` more as the caller's bond in `role`.
        #[pallet::call_index(4)]
        #[pallet::weight(T::WeightInfo::bond())]
        pub fn bond(origin: OriginFor<T>, role: Role, amount: BalanceOf<T>) -> DispatchResult {
            let who = ensure_signed(origin)?;
            Self::do_bond(who, role, amount)
        }

        /// Starts unbonding `amount` of the caller's free bond in `role`.
        #[pallet::call_index(5)]
        #[pallet::weight(T::WeightInfo::unbond())]
        pub fn unbond(origin: OriginFor<T>, role: Role, amount: BalanceOf<T>) -> DispatchResult {
            let who = ensure_signed(origin)?;
            Self::do_unbond(who, role, amount)
        }

        /// Releases the caller's unbonded amount in `role` once the unbonding period passed.
        #[pallet::call_index(6)]
        #[pallet::weight(T::WeightInfo::withdraw_unbonded())]
        pub fn withdraw_unbonded(origin: OriginFor<T>, role: Role) -> DispatchResult {
            let who = ensure_signed(origin)?;
            Self::do_withdraw_unbonded(who, role)
        }

        /// Submits a round against the task's current root.
        #[pallet::call_index(7)]
        #[pallet::weight(T::WeightInfo::submit_round(T::MaxVerifiers::get()))]
        pub fn submit_round(
            origin: OriginFor<T>,
            task: TaskId,
            commitment: RoundCommitment,
            locator: BoundedVec<u8, T::MaxLocatorLen>,
        ) -> DispatchResult {
            let who = ensure_signed(origin)?;
            Self::do_submit_round(who, task, commitment, locator)
        }

        /// Posts the hash of the caller's verdict (see `pogo_primitives::verdict::verdict_commitment`).
        #[pallet::call_index(8)]
        #[pallet::weight(T::WeightInfo::commit_verdict())]
        pub fn commit_verdict(origin: OriginFor<T>, submission: SubmissionId, commitment: Hash) -> DispatchResult {
            let who = ensure_signed(origin)?;
            Self::do_commit_verdict(who, submission, commitment)
        }

        /// Reveals the caller's committed verdict and its salt.
        #[pallet::call_index(9)]
        #[pallet::weight(T::WeightInfo::reveal_verdict())]
        pub fn reveal_verdict(
            origin: OriginFor<T>,
            submission: SubmissionId,
            verdict: Verdict,
            salt: Hash,
        ) -> DispatchResult {
            let who = ensure_signed(origin)?;
            Self::do_reveal_verdict(who, submission, verdict, salt)
        }

        /// Moves a submission to its next phase: fixes the challenge, opens the reveal, tallies, escalates,
        /// expires, or finalizes an accepted round after its fraud window. Anyone may call it.
        #[pallet::call_index(10)]
        #[pallet::weight(Pallet::<T>::advance_worst_case_weight())]
        pub fn advance(origin: OriginFor<T>, submission: SubmissionId) -> DispatchResultWithPostInfo {
            ensure_signed(origin)?;
            Self::do_advance(submission)
        }

        /// Proves a bad state transition in a pending or provisionally accepted round. The miner's bond
        /// goes to `Slashed` in full; a successful report pays no fee (the reporter is made whole, never
        /// paid from the slash, so reporting oneself is never better than being caught).
        #[pallet::call_index(11)]
        #[pallet::weight(Pallet::<T>::report_fraud_worst_case_weight())]
        pub fn report_fraud(
            origin: OriginFor<T>,
            submission: SubmissionId,
            proof: Box<FraudProof>,
        ) -> DispatchResultWithPostInfo {
            let who = ensure_signed(origin)?;
            Self::do_report_fraud(who, submission, *proof)
        }
    }
}
