//! The functions behind `pogo-runtime-api` (`api.call.pogoApi.*` in polkadot.js).

use crate::{pallet::*, types::*};
use alloc::vec::Vec;
use codec::Encode;
use frame_system::pallet_prelude::BlockNumberFor;
use pogo_primitives::{
    seed::{round_seed, verifier_samples, verifier_seed},
    verdict::{verdict_commitment, Verdict},
    Hash,
};
use polkadot_sdk::frame_system;

/// Most task ids one `task_ids` call returns.
pub const MAX_API_PAGE: u32 = 1000;

impl<T: Config> Pallet<T> {
    /// A task.
    pub fn api_task(id: TaskId) -> Option<TaskView<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
        let t = Tasks::<T>::get(id)?;
        Some(TaskView {
            id,
            owner: t.owner,
            spec: t.spec,
            params: t.params,
            train_root: t.dataset.train_root,
            eval_root: t.dataset.eval_root,
            locator: t.dataset.locator.into_inner(),
            state_root: t.state_root,
            model_locator: t.model_locator.into_inner(),
            round: t.round,
            steps_done: t.steps_done,
            status: t.status,
            escrow: t.escrow,
            committed: t.committed,
            pending: t.pending,
            root_set_at: t.root_set_at,
        })
    }

    /// The ids of live tasks in `[start, start + min(limit, MAX_API_PAGE))`, ascending: at most
    /// `MAX_API_PAGE` reads whatever the number of tasks (the next page starts at
    /// `start + min(limit, MAX_API_PAGE)`; a page may be empty where tasks were closed).
    pub fn api_task_ids(start: TaskId, limit: u32) -> Vec<TaskId> {
        let end = start.saturating_add(limit.min(MAX_API_PAGE)).min(NextTaskId::<T>::get());
        (start..end).filter(|id| Tasks::<T>::contains_key(id)).collect()
    }

    /// A task's current state root.
    pub fn api_state_root(id: TaskId) -> Option<Hash> {
        Tasks::<T>::get(id).map(|t| t.state_root)
    }

    /// An unsettled submission.
    pub fn api_submission(id: SubmissionId) -> Option<SubmissionView<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
        let s = Submissions::<T>::get(id)?;
        Some(SubmissionView {
            id,
            task: s.task,
            miner: s.miner,
            commitment: s.commitment,
            round: s.round,
            locator: s.locator.into_inner(),
            submitted_at: s.submitted_at,
            phase: s.phase,
            challenge: s.challenge,
            escalation_challenge: s.escalation_challenge,
            level: s.level,
            assigned: s.assigned.into_iter().map(|a| (a.who, a.stake, a.level)).collect(),
            disputed_steps: s.disputed_steps.into_inner(),
        })
    }

    /// The unsettled submissions of a task.
    pub fn api_pending_submissions(task: TaskId) -> Vec<SubmissionView<T::AccountId, BalanceOf<T>, BlockNumberFor<T>>> {
        PendingByTask::<T>::get(task).into_iter().filter_map(Self::api_submission).collect()
    }

    /// The seed that fixes the batches of `miner`'s next round of `task`.
    pub fn api_round_seed(task: TaskId, miner: T::AccountId) -> Option<Hash> {
        let t = Tasks::<T>::get(task)?;
        Some(round_seed(task, t.round, &t.state_root, &miner.encode()))
    }

    /// What `verifier` must check for submission `id`, once its challenge is fixed and it is assigned.
    pub fn api_verifier_duty(id: SubmissionId, verifier: T::AccountId) -> Option<VerifierDuty> {
        let s = Submissions::<T>::get(id)?;
        let t = Tasks::<T>::get(s.task)?;
        let a = s.assigned.iter().find(|a| a.who == verifier)?;
        let challenge = s.challenge_at(a.level)?;
        let seed = verifier_seed(&challenge, &verifier.encode());
        let samples =
            verifier_samples(&seed, &t.params.samples, t.spec.steps_per_round, t.spec.leaf_count(), t.spec.eval_examples);
        let att = Attestations::<T>::get(id, &verifier);
        Some(VerifierDuty {
            challenge,
            verifier_seed: seed,
            level: a.level,
            samples,
            disputed_steps: if a.level > 0 { s.disputed_steps.into_inner() } else { Vec::new() },
            committed: att.is_some(),
            revealed: att.is_some_and(|x| x.revealed.is_some()),
        })
    }

    /// The commitment `verifier` posts with `commit_verdict(id, _)` to reveal `(verdict, salt)` later:
    /// the hash `reveal_verdict` recomputes (the account SCALE-encoded, as `do_reveal_verdict` does).
    pub fn api_verdict_commitment(id: SubmissionId, verifier: T::AccountId, verdict: Verdict, salt: Hash) -> Hash {
        verdict_commitment(id, &verifier.encode(), &verdict, &salt)
    }

    /// An account's bond ledger in a role.
    pub fn api_bond(who: T::AccountId, role: Role) -> Option<LedgerOf<T>> {
        Self::ledger(role, &who)
    }
}
