//! `try_state` invariants, checked after every test and under `try-runtime`.

use crate::{pallet::*, types::*};
use alloc::collections::btree_map::BTreeMap;
use frame_support::{ensure, traits::Get};
use polkadot_sdk::{frame_support, sp_runtime};
use sp_runtime::{traits::Zero, Saturating};

impl<T: Config> Pallet<T> {
    /// Checks the config's bounds (run by `integrity_test`).
    pub(crate) fn check_config() {
        let windows = T::MaxWindow::get().saturating_mul(2u32.into()).saturating_add(T::FraudWindow::get());
        assert!(T::UnbondingPeriod::get() > windows, "UnbondingPeriod must exceed commit + reveal + fraud windows");
        assert!(T::MinWindow::get() > Zero::zero() && T::MinWindow::get() <= T::MaxWindow::get(), "bad windows");
        assert!(T::MaxAssigned::get() > 0, "MaxAssigned must be positive");
        assert!(T::MaxVerifiers::get() > 0, "MaxVerifiers must be positive");
        assert!(T::MaxPendingPerTask::get() > 0, "MaxPendingPerTask must be positive");
        assert!(T::MaxCheckpointInterval::get() > 0, "MaxCheckpointInterval must be positive");
        assert!(T::MaxLocatorLen::get() > 0, "MaxLocatorLen must be positive");
        assert!(T::MaxFraudProofLen::get() >= 1024, "MaxFraudProofLen too small for any proof");
        assert!(T::RandomnessRetention::get() > T::ChallengeEpochDelay::get(), "RandomnessRetention too short");
        assert!(
            T::NonRevealSlash::get() >= T::LosingVoteSlash::get(),
            "NonRevealSlash must be at least LosingVoteSlash: withholding a losing verdict must not pay"
        );
        assert!(T::MaxAssigned::get() >= 3, "MaxAssigned must allow a level-0 verifier and a larger level 1");
        assert!(T::MaxIdleAdvances::get() > 0, "MaxIdleAdvances must be positive");
        // Perbill values are <= 100% by construction.
    }

    /// The invariants of the pallet's state.
    pub fn do_try_state() -> Result<(), sp_runtime::TryRuntimeError> {
        // Ledgers match holds, and stake at risk is covered.
        for (role, ledgers) in [
            (Role::Miner, MinerBonds::<T>::iter().collect::<alloc::vec::Vec<_>>()),
            (Role::Verifier, VerifierBonds::<T>::iter().collect()),
        ] {
            for (who, l) in ledgers {
                ensure!(Self::held(HoldReason::of(role), &who) == l.held, "recorded bond != held");
                let unbonding = l.unbonding.map(|u| u.amount).unwrap_or_default();
                ensure!(unbonding <= l.held, "unbonding exceeds bond");
                // A miner's risk is taken from its free bond; a verifier's comes from stake snapshots
                // and may exceed it (slashes never take more than is held).
                if role == Role::Miner {
                    ensure!(l.at_risk.saturating_add(unbonding) <= l.held, "miner stake at risk exceeds bond");
                }
            }
        }
        // The registry: accounts strictly ascending, each with its ledger's active bond, all eligible.
        let registry = VerifierRegistry::<T>::get();
        for pair in registry.windows(2) {
            if let [a, b] = pair {
                ensure!(a.0 < b.0, "registry not strictly ascending");
            }
        }
        for (who, stake) in registry.iter() {
            let l = VerifierBonds::<T>::get(who).ok_or("registered verifier without a ledger")?;
            ensure!(Self::active_bond(&l) == *stake, "registry stake != active bond");
            ensure!(*stake >= T::MinVerifierBond::get(), "ineligible stake in the registry");
        }
        // Stake at risk equals what unsettled submissions put at risk.
        let mut miner_risk: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
        let mut verifier_risk: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
        let mut deposits: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
        let mut per_task: BTreeMap<TaskId, (u32, BalanceOf<T>)> = BTreeMap::new();
        for (id, s) in Submissions::<T>::iter() {
            let m = miner_risk.entry(s.miner.clone()).or_default();
            *m = m.saturating_add(s.bond);
            let d = deposits.entry(s.miner.clone()).or_default();
            *d = d.saturating_add(s.deposit);
            let t = per_task.entry(s.task).or_default();
            t.0 = t.0.saturating_add(1);
            t.1 = t.1.saturating_add(s.escrow);
            for a in s.assigned.iter() {
                let v = verifier_risk.entry(a.who.clone()).or_default();
                *v = v.saturating_add(a.at_risk);
            }
            for (who, _) in Attestations::<T>::iter_prefix(id) {
                ensure!(s.assigned.iter().any(|a| a.who == who), "attester not assigned");
            }
            ensure!(PendingByTask::<T>::get(s.task).contains(&id), "submission missing from its task's list");
            ensure!(SubmissionQueue::<T>::contains_key(id.to_be_bytes()), "submission missing from the queue");
        }
        for (who, l) in MinerBonds::<T>::iter() {
            ensure!(miner_risk.remove(&who).unwrap_or_default() == l.at_risk, "miner stake at risk mismatch");
        }
        ensure!(miner_risk.values().all(|v| v.is_zero()), "stake at risk without a miner ledger");
        for (who, l) in VerifierBonds::<T>::iter() {
            ensure!(verifier_risk.remove(&who).unwrap_or_default() == l.at_risk, "verifier stake at risk mismatch");
        }
        ensure!(verifier_risk.values().all(|v| v.is_zero()), "stake at risk without a verifier ledger");
        for (who, amount) in deposits {
            ensure!(Self::held(HoldReason::SubmissionDeposit, &who) == amount, "deposits != held");
        }
        // Tasks: counters match, escrow covers what is owed, escrow matches holds per owner.
        let mut escrow_by_owner: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
        for (id, task) in Tasks::<T>::iter() {
            let (count, owed) = per_task.remove(&id).unwrap_or_default();
            ensure!(task.pending == count, "task pending counter != submissions");
            ensure!(PendingByTask::<T>::get(id).len() as u32 == count, "pending list != submissions");
            ensure!(task.committed == owed, "committed escrow != owed by submissions");
            ensure!(task.escrow >= task.committed, "escrow below what is owed");
            // A task trains the model its spec commits; only a task from before version 2 has none.
            match TaskModels::<T>::get(id) {
                Some(model) => ensure!(model.to_descriptor().hash() == task.spec.model, "stored model != spec.model"),
                None => ensure!(
                    task.spec.model == NO_MODEL && task.status == TaskStatus::Paused,
                    "a task without a model is active or claims one"
                ),
            }
            let e = escrow_by_owner.entry(task.owner.clone()).or_default();
            *e = e.saturating_add(task.escrow);
        }
        ensure!(per_task.is_empty(), "submission of an unknown task");
        ensure!(TaskModels::<T>::iter_keys().all(Tasks::<T>::contains_key), "model of an unknown task");
        for (who, amount) in escrow_by_owner {
            ensure!(Self::held(HoldReason::TaskEscrow, &who) == amount, "task escrow != held");
        }
        ensure!(Tasks::<T>::count() as usize == Tasks::<T>::iter_keys().count(), "task counter");
        ensure!(Submissions::<T>::count() as usize == Submissions::<T>::iter_keys().count(), "submission counter");
        ensure!(
            SubmissionQueue::<T>::iter_keys().count() == Submissions::<T>::iter_keys().count(),
            "queue != submissions"
        );
        let mut deposit_by_owner: BTreeMap<T::AccountId, BalanceOf<T>> = BTreeMap::new();
        for task in Tasks::<T>::iter_values() {
            let d = deposit_by_owner.entry(task.owner.clone()).or_default();
            *d = d.saturating_add(task.deposit);
        }
        for (who, amount) in deposit_by_owner {
            ensure!(Self::held(HoldReason::TaskDeposit, &who) == amount, "task deposits != held");
        }
        Ok(())
    }
}
