//! The calls' logic: `do_*` functions behind the thin dispatchables in `lib.rs`.

use crate::{finalize::{Excuse, Winner}, pallet::*, types::*, weights::WeightInfo, LOG_TARGET};
use codec::Encode;
use frame_support::{
    dispatch::{DispatchResultWithPostInfo, Pays, PostDispatchInfo},
    pallet_prelude::*,
    traits::Get,
};
use frame_system::pallet_prelude::BlockNumberFor;
use pogo_primitives::{
    fraud::{self, FraudProof},
    verdict::{verdict_commitment, Verdict},
    Hash, RoundCommitment, TrainingSpec,
};
use polkadot_sdk::{frame_support, frame_system, sp_runtime};
use sp_runtime::{
    traits::{CheckedAdd, CheckedMul, Zero},
    Saturating,
};

impl<T: Config> Pallet<T> {
    /// Checks a spec and its parameters against the pallet's bounds.
    pub(crate) fn validate_task(spec: &TrainingSpec, params: &TaskParamsOf<T>) -> DispatchResult {
        spec.validate().map_err(|e| {
            log::debug!(target: LOG_TARGET, "create_task: invalid spec: {e}");
            Error::<T>::from(e)
        })?;
        ensure!(
            spec.checkpoint_interval <= T::MaxCheckpointInterval::get() &&
                fraud::max_encoded_len(spec) <= u64::from(T::MaxFraudProofLen::get()),
            Error::<T>::CheckpointIntervalTooLarge
        );
        let total = params.verifiers.checked_add(params.escalation_verifiers).ok_or(Error::<T>::InvalidTaskParams)?;
        let window_ok = |w: BlockNumberFor<T>| w >= T::MinWindow::get() && w <= T::MaxWindow::get();
        ensure!(
            params.verifiers > 0 &&
                params.escalation_verifiers > params.verifiers &&
                total <= T::MaxAssigned::get() &&
                window_ok(params.commit_window) &&
                window_ok(params.reveal_window) &&
                params.tolerance.is_valid() &&
                params.min_improvement_ppm <= 1_000_000,
            Error::<T>::InvalidTaskParams
        );
        ensure!(
            params.samples.is_within(spec.steps_per_round, spec.leaf_count(), spec.eval_examples),
            Error::<T>::SampleSizesOutOfRange
        );
        ensure!(
            params.verification != VerificationMode::SampledReplay || params.samples.leaves > 0,
            Error::<T>::NoLeavesForSampledReplay
        );
        Ok(())
    }

    /// Escrow one submission of the task commits: the reward plus the most verifier pay it can owe.
    pub(crate) fn round_cost(params: &TaskParamsOf<T>) -> Result<BalanceOf<T>, Error<T>> {
        let verifiers: BalanceOf<T> = params.verifiers.saturating_add(params.escalation_verifiers).into();
        params
            .verifier_pay
            .checked_mul(&verifiers)
            .and_then(|p| p.checked_add(&params.reward))
            .ok_or(Error::<T>::Overflow)
    }

    pub(crate) fn do_create_task(
        owner: T::AccountId,
        spec: TrainingSpec,
        model: ModelOf,
        params: TaskParamsOf<T>,
        initial_root: Hash,
        dataset: DatasetOf<T>,
        escrow: BalanceOf<T>,
    ) -> DispatchResult {
        Self::validate_task(&spec, &params)?;
        let descriptor = model.to_descriptor();
        descriptor.validate(spec.param_count).map_err(|e| {
            log::debug!(target: LOG_TARGET, "create_task: invalid model descriptor: {e}");
            Error::<T>::from(e)
        })?;
        ensure!(descriptor.hash() == spec.model, Error::<T>::ModelHashMismatch);
        Self::round_cost(&params)?;
        let id = NextTaskId::<T>::get();
        let next = id.checked_add(1).ok_or(Error::<T>::Overflow)?;
        // The task record and its model are paid for: no free storage, however small the escrow.
        let model_bytes: BalanceOf<T> = u32::try_from(model.encoded_size()).map_err(|_| Error::<T>::Overflow)?.into();
        let deposit = T::ModelByteDeposit::get()
            .checked_mul(&model_bytes)
            .and_then(|d| d.checked_add(&T::TaskDeposit::get()))
            .ok_or(Error::<T>::Overflow)?;
        Self::hold(HoldReason::TaskDeposit, &owner, deposit)?;
        if !escrow.is_zero() {
            Self::hold(HoldReason::TaskEscrow, &owner, escrow)?;
        }
        let task = TaskInfo {
            owner: owner.clone(),
            spec,
            params,
            dataset,
            state_root: initial_root,
            model_locator: BoundedVec::new(),
            initial_root,
            round: 0,
            steps_done: 0,
            status: TaskStatus::Active,
            escrow,
            committed: Zero::zero(),
            pending: 0,
            root_set_at: frame_system::Pallet::<T>::block_number(),
            deposit,
        };
        Tasks::<T>::insert(id, task);
        TaskModels::<T>::insert(id, model);
        NextTaskId::<T>::put(next);
        Self::deposit_event(Event::TaskCreated { task: id, owner, state_root: initial_root, escrow });
        Ok(())
    }

    pub(crate) fn do_top_up(who: T::AccountId, id: TaskId, amount: BalanceOf<T>) -> DispatchResult {
        ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
        let mut task = Tasks::<T>::get(id).ok_or(Error::<T>::UnknownTask)?;
        // Escrow is held on the owner; a third party funds it by transfer first.
        if who != task.owner {
            use frame_support::traits::{fungible::Mutate, tokens::Preservation};
            T::Currency::transfer(&who, &task.owner, amount, Preservation::Preserve)
                .map_err(|_| Error::<T>::InsufficientBalance)?;
        }
        Self::hold(HoldReason::TaskEscrow, &task.owner, amount)?;
        task.escrow = task.escrow.checked_add(&amount).ok_or(Error::<T>::Overflow)?;
        let escrow = task.escrow;
        Tasks::<T>::insert(id, task);
        Self::deposit_event(Event::TaskToppedUp { task: id, amount, escrow });
        Ok(())
    }

    pub(crate) fn do_set_task_status(who: T::AccountId, id: TaskId, status: TaskStatus) -> DispatchResult {
        let mut task = Tasks::<T>::get(id).ok_or(Error::<T>::UnknownTask)?;
        ensure!(task.owner == who, Error::<T>::NotTaskOwner);
        ensure!(task.status != status, Error::<T>::TaskStatusUnchanged);
        // Only tasks from before protocol version 2 lack a model (migrations::v2 sets their `model` to
        // zeros, which no descriptor hashes to); workers cannot serve them. Reading the spec, not
        // `TaskModels`, keeps the descriptor out of this call's proof.
        ensure!(status != TaskStatus::Active || task.spec.model != NO_MODEL, Error::<T>::TaskHasNoModel);
        task.status = status;
        Tasks::<T>::insert(id, task);
        Self::deposit_event(Event::TaskStatusChanged { task: id, status });
        Ok(())
    }

    pub(crate) fn do_close_task(who: T::AccountId, id: TaskId) -> DispatchResult {
        let task = Tasks::<T>::get(id).ok_or(Error::<T>::UnknownTask)?;
        ensure!(task.owner == who, Error::<T>::NotTaskOwner);
        ensure!(task.pending == 0, Error::<T>::TaskHasPendingSubmissions);
        let released = Self::release(HoldReason::TaskEscrow, &who, task.escrow);
        Self::release(HoldReason::TaskDeposit, &who, task.deposit);
        Tasks::<T>::remove(id);
        TaskModels::<T>::remove(id);
        PendingByTask::<T>::remove(id);
        Self::deposit_event(Event::TaskClosed { task: id, released });
        Ok(())
    }

    pub(crate) fn do_bond(who: T::AccountId, role: Role, amount: BalanceOf<T>) -> DispatchResult {
        ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
        let mut ledger = Self::ledger(role, &who).unwrap_or_default();
        ledger.held = ledger.held.checked_add(&amount).ok_or(Error::<T>::Overflow)?;
        // A miner may only build on roots set after this block (see `do_submit_round`).
        ledger.bonded_at = frame_system::Pallet::<T>::block_number();
        if role == Role::Verifier {
            ensure!(Self::active_bond(&ledger) >= T::MinVerifierBond::get(), Error::<T>::BondTooSmall);
        }
        ensure!(Self::reducible(&who) >= amount, Error::<T>::InsufficientBalance);
        Self::hold(HoldReason::of(role), &who, amount)?;
        Self::put_ledger(role, &who, ledger);
        if role == Role::Verifier {
            // Takes a registry slot, evicting a smaller bond when full (the call fails otherwise and
            // nothing above is kept).
            Self::sync_registry(&who, true)?;
        }
        Self::deposit_event(Event::Bonded { who, role, amount });
        Ok(())
    }

    pub(crate) fn do_unbond(who: T::AccountId, role: Role, amount: BalanceOf<T>) -> DispatchResult {
        ensure!(!amount.is_zero(), Error::<T>::ZeroAmount);
        let mut ledger = Self::ledger(role, &who).ok_or(Error::<T>::NotBonded)?;
        ensure!(Self::free_bond(&ledger) >= amount, Error::<T>::InsufficientFreeBond);
        let unlocks_at = frame_system::Pallet::<T>::block_number().saturating_add(T::UnbondingPeriod::get());
        let already = ledger.unbonding.map(|u| u.amount).unwrap_or_default();
        ledger.unbonding = Some(Unbonding {
            amount: already.saturating_add(amount),
            unlocks_at,
            after_submission: NextSubmissionId::<T>::get(),
        });
        Self::put_ledger(role, &who, ledger);
        if role == Role::Verifier {
            Self::sync_registry(&who, false)?;
        }
        Self::deposit_event(Event::Unbonding { who, role, amount, unlocks_at });
        Ok(())
    }

    pub(crate) fn do_withdraw_unbonded(who: T::AccountId, role: Role) -> DispatchResult {
        let mut ledger = Self::ledger(role, &who).ok_or(Error::<T>::NotBonded)?;
        let unbonding = ledger.unbonding.ok_or(Error::<T>::NothingUnbonding)?;
        let amount = unbonding.amount;
        ensure!(frame_system::Pallet::<T>::block_number() >= unbonding.unlocks_at, Error::<T>::StillUnbonding);
        if role == Role::Verifier {
            // The amount was in the stake snapshots of every submission older than the unbonding: it
            // stays until they have all settled, so no drawn verifier's stake is gone when it is slashed.
            ensure!(
                Self::oldest_unsettled().is_none_or(|oldest| oldest >= unbonding.after_submission),
                Error::<T>::UnbondingAwaitsSubmissions
            );
        }
        let released = Self::release(HoldReason::of(role), &who, amount);
        ledger.held = ledger.held.saturating_sub(released);
        ledger.unbonding = None;
        Self::put_ledger(role, &who, ledger);
        Self::deposit_event(Event::Withdrawn { who, role, amount: released });
        Ok(())
    }

    /// The verifier stake snapshot: the registry (accounts ascending, each at least `MinVerifierBond`)
    /// without `miner`.
    pub(crate) fn stake_snapshot(miner: &T::AccountId) -> BoundedVec<(T::AccountId, BalanceOf<T>), T::MaxVerifiers> {
        let mut registry = VerifierRegistry::<T>::get();
        registry.retain(|(who, _)| who != miner);
        registry
    }

    /// The id of the oldest unsettled submission.
    pub(crate) fn oldest_unsettled() -> Option<SubmissionId> {
        SubmissionQueue::<T>::iter_keys().next().map(SubmissionId::from_be_bytes)
    }

    pub(crate) fn do_submit_round(
        miner: T::AccountId,
        task_id: TaskId,
        commitment: RoundCommitment,
        locator: BoundedVec<u8, T::MaxLocatorLen>,
    ) -> DispatchResult {
        let mut task = Tasks::<T>::get(task_id).ok_or(Error::<T>::UnknownTask)?;
        ensure!(task.status == TaskStatus::Active, Error::<T>::TaskPaused);
        ensure!(commitment.base_root == task.state_root, Error::<T>::WrongBaseRoot);
        ensure!(commitment.steps == task.spec.steps_per_round, Error::<T>::WrongStepCount);
        let ledger = Self::ledger(Role::Miner, &miner).ok_or(Error::<T>::NotBonded)?;
        // The round seed depends on the miner's account: only a bond placed before the root existed may
        // build on it, so a miner cannot pick among seeds by deriving fresh, freshly bonded accounts.
        ensure!(ledger.bonded_at < task.root_set_at, Error::<T>::BondNewerThanBaseRoot);
        let cost = Self::round_cost(&task.params)?;
        ensure!(task.escrow.saturating_sub(task.committed) >= cost, Error::<T>::TaskUnderfunded);
        let (epoch, _) = T::RelayRandomness::epoch_randomness().ok_or(Error::<T>::ChallengeNotReady)?;
        let id = NextSubmissionId::<T>::get();
        let next = id.checked_add(1).ok_or(Error::<T>::Overflow)?;
        let mut pending = PendingByTask::<T>::get(task_id);
        pending.try_push(id).map_err(|_| Error::<T>::TooManyPendingSubmissions)?;

        Self::put_at_risk(Role::Miner, &miner, task.params.miner_bond)?;
        let deposit = T::SubmissionDeposit::get();
        if let Err(e) = Self::hold(HoldReason::SubmissionDeposit, &miner, deposit) {
            Self::release_risk(Role::Miner, &miner, task.params.miner_bond);
            return Err(e);
        }
        task.committed = task.committed.saturating_add(cost);
        task.pending = task.pending.saturating_add(1);
        let round = task.round;
        let (base_root, final_root) = (commitment.base_root, commitment.final_root);
        Snapshots::<T>::insert(id, Self::stake_snapshot(&miner));
        Submissions::<T>::insert(
            id,
            Submission {
                task: task_id,
                miner: miner.clone(),
                commitment,
                round,
                base_root_set_at: task.root_set_at,
                base_locator: task.model_locator.clone(),
                locator,
                submitted_at: frame_system::Pallet::<T>::block_number(),
                relay_epoch: epoch,
                escalated_epoch: None,
                phase: Phase::AwaitingChallenge,
                bond: task.params.miner_bond,
                deposit,
                escrow: cost,
                challenge: None,
                escalation_challenge: None,
                level: 0,
                assigned: BoundedVec::new(),
                disputed_steps: BoundedVec::new(),
            },
        );
        PendingByTask::<T>::insert(task_id, pending);
        SubmissionQueue::<T>::insert(id.to_be_bytes(), ());
        Tasks::<T>::insert(task_id, task);
        NextSubmissionId::<T>::put(next);
        Self::deposit_event(Event::RoundSubmitted { submission: id, task: task_id, miner, round, base_root, final_root });
        Ok(())
    }

    /// The assignment of `who` at the submission's current level.
    fn assigned_now(sub: &SubmissionOf<T>, who: &T::AccountId) -> bool {
        sub.assigned.iter().any(|a| &a.who == who && a.level == sub.level)
    }

    pub(crate) fn do_commit_verdict(who: T::AccountId, id: SubmissionId, commitment: Hash) -> DispatchResult {
        let sub = Submissions::<T>::get(id).ok_or(Error::<T>::UnknownSubmission)?;
        let Phase::Committing(until) = sub.phase else { return Err(Error::<T>::WrongPhase.into()) };
        ensure!(frame_system::Pallet::<T>::block_number() <= until, Error::<T>::WindowClosed);
        ensure!(Self::assigned_now(&sub, &who), Error::<T>::NotAssigned);
        ensure!(!Attestations::<T>::contains_key(id, &who), Error::<T>::AlreadyCommitted);
        Attestations::<T>::insert(id, &who, Attestation { commitment, revealed: None });
        Self::deposit_event(Event::VerdictCommitted { submission: id, verifier: who });
        Ok(())
    }

    pub(crate) fn do_reveal_verdict(who: T::AccountId, id: SubmissionId, verdict: Verdict, salt: Hash) -> DispatchResult {
        let sub = Submissions::<T>::get(id).ok_or(Error::<T>::UnknownSubmission)?;
        let Phase::Revealing(until) = sub.phase else { return Err(Error::<T>::WrongPhase.into()) };
        ensure!(frame_system::Pallet::<T>::block_number() <= until, Error::<T>::WindowClosed);
        ensure!(Self::assigned_now(&sub, &who), Error::<T>::NotAssigned);
        let mut att = Attestations::<T>::get(id, &who).ok_or(Error::<T>::NotCommitted)?;
        ensure!(att.revealed.is_none(), Error::<T>::AlreadyRevealed);
        ensure!(
            verdict_commitment(id, &who.encode(), &verdict, &salt) == att.commitment,
            Error::<T>::RevealMismatch
        );
        att.revealed = Some(verdict);
        Attestations::<T>::insert(id, &who, att);
        Self::deposit_event(Event::VerdictRevealed { submission: id, verifier: who, verdict });
        Ok(())
    }

    /// The weight `report_fraud` declares: the longest replay the runtime's bounds allow (the benchmark
    /// uses the largest leaf that keeps the proof within `MaxFraudProofLen` for each checkpoint interval)
    /// and an accepted round whose `MaxAssigned` verifiers are settled, with `MaxPendingPerTask − 1`
    /// accepted rounds on top of it marked voided.
    pub fn report_fraud_worst_case_weight() -> Weight {
        T::WeightInfo::report_fraud(T::MaxCheckpointInterval::get(), T::MaxPendingPerTask::get().saturating_sub(1))
    }

    /// The weight of a report on a round of task `task_id`: its other unsettled rounds (each priced as
    /// an accepted round to mark voided), and the replay at `MaxCheckpointInterval`, not at the spec's
    /// interval. The replay's cost is concave in the interval (the largest leaf a valid spec may use
    /// shrinks as the interval grows), so the benchmark's linear fit is exact only at its ends and may
    /// fall short in between; the maximum never does.
    fn report_fraud_weight(task_id: TaskId) -> Weight {
        let others = PendingByTask::<T>::decode_len(task_id).unwrap_or(0);
        T::WeightInfo::report_fraud(
            T::MaxCheckpointInterval::get(),
            u32::try_from(others.saturating_sub(1)).unwrap_or(u32::MAX),
        )
    }

    pub(crate) fn do_report_fraud(
        reporter: T::AccountId,
        id: SubmissionId,
        proof: FraudProof,
    ) -> DispatchResultWithPostInfo {
        ensure!(proof.encoded_size() <= T::MaxFraudProofLen::get() as usize, Error::<T>::FraudProofTooLarge);
        let mut sub = Submissions::<T>::get(id).ok_or(Error::<T>::UnknownSubmission)?;
        if let Phase::Accepted(final_at) = sub.phase {
            ensure!(frame_system::Pallet::<T>::block_number() < final_at, Error::<T>::FraudWindowClosed);
        }
        let mut task = Tasks::<T>::get(sub.task).ok_or(Error::<T>::UnknownTask)?;
        let fraud = fraud::verify(&task.spec, &sub.commitment, &proof).map_err(|e| {
            log::debug!(target: LOG_TARGET, "report_fraud on submission {id}: {e}");
            Error::<T>::from(e)
        })?;
        log::info!(target: LOG_TARGET, "fraud proven on submission {id}: {fraud:?}");
        let voided_weight = Self::report_fraud_weight(sub.task);

        // The miner loses the whole bond this round put at risk, all of it to `Slashed`: the reporter is
        // made whole (no fee) but never paid from the slash, so a miner reporting itself through another
        // account ends exactly where being caught would leave it.
        let slashed = Self::slash_to_sink(Role::Miner, &sub.miner, sub.bond, sub.bond);
        Self::deposit_event(Event::FraudProven { submission: id, reporter, fraud, slashed });

        let was_accepted = matches!(sub.phase, Phase::Accepted(_));
        if was_accepted {
            // The accepted round was wrong: Positive verdicts are slashed, Negative ones paid.
            Self::settle_verifiers(id, &mut sub, &mut task, Winner::Negative, Excuse::Nobody);
        } else {
            // Undecided yet: verifiers are released without pay or slash.
            Self::release_assignments(&sub);
        }
        let task_id = sub.task;
        Self::remove_submission(id, sub.clone(), &mut task);
        if was_accepted {
            // Back to the state before this round: every accepted round has exactly `steps_per_round`
            // steps, so the counters follow from the round number, whatever was built on top since.
            task.state_root = sub.commitment.base_root;
            task.root_set_at = sub.base_root_set_at;
            task.model_locator = sub.base_locator.clone();
            task.round = sub.round;
            task.steps_done = u64::from(sub.round).saturating_mul(u64::from(task.spec.steps_per_round));
            Self::deposit_event(Event::StateRootReverted { task: task_id, state_root: task.state_root });
            // Accepted rounds built on the overturned one are voided (each removed, its miner and
            // verifiers released, when next advanced); rounds not yet accepted on a root that is no
            // longer the task's are stale the same way. Earlier rounds, still in their own fraud window,
            // are what this round was built on: they stay accepted.
            for other in PendingByTask::<T>::get(task_id) {
                if let Some(mut o) = Submissions::<T>::get(other) {
                    if matches!(o.phase, Phase::Accepted(_)) && o.round > sub.round {
                        o.phase = Phase::Voided;
                        Submissions::<T>::insert(other, o);
                    }
                }
            }
        }
        Tasks::<T>::insert(task_id, task);
        Ok(PostDispatchInfo { actual_weight: Some(voided_weight), pays_fee: Pays::No })
    }
}
