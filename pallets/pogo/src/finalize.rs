//! Block-driven progress of a submission (the analogue of pallet-broker's `tick_impls.rs`): challenge,
//! reveal, tally, settlement, escalation, expiry, staleness and the end of the fraud window. Driven by the
//! permissionless `advance` call; every step touches one submission and at most `MaxAssigned` verifiers
//! (accepting a round also marks at most `MaxPendingPerTask` others stale).

use crate::{pallet::*, types::*, weights::WeightInfo};
use alloc::vec::Vec;
use frame_support::{dispatch::DispatchResultWithPostInfo, pallet_prelude::*, traits::Get};
use pogo_primitives::{
    assign::assign,
    seed::challenge_seed,
    verdict::{tally, NegativeReason, Outcome, Ratio, Verdict},
};
use polkadot_sdk::{frame_support, frame_system, sp_runtime};
use sp_runtime::{
    traits::{Saturating, UniqueSaturatedInto, Zero},
    Perbill,
};

/// Whether a challenge's randomness is available.
pub(crate) enum ChallengeRandomness {
    /// The value to use.
    Ready(pogo_primitives::Hash),
    /// The target epoch has not been reached.
    NotYet,
    /// The target epoch's value was pruned: the round can no longer be challenged.
    Pruned,
}

/// Which revealed verdicts are on the winning side.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Winner {
    Positive,
    Negative,
    /// Expiry: every revealed verdict is paid, none is slashed for its side.
    Nobody,
}

impl<T: Config> Pallet<T> {
    /// The weight `advance` declares: its heaviest branch at this runtime's bounds (fixing a challenge
    /// over `MaxVerifiers`, tallying `MaxAssigned` verifiers and marking `MaxPendingPerTask − 1` other
    /// rounds stale, or finalizing). The call refunds down to the branch it took.
    pub fn advance_worst_case_weight() -> Weight {
        let others = T::MaxPendingPerTask::get().saturating_sub(1);
        T::WeightInfo::advance_challenge(T::MaxVerifiers::get())
            .max(T::WeightInfo::advance_tally(T::MaxAssigned::get(), others))
            .max(T::WeightInfo::advance_finalize())
    }

    fn now() -> frame_system::pallet_prelude::BlockNumberFor<T> {
        frame_system::Pallet::<T>::block_number()
    }

    /// The largest share of its stake a verifier can lose on one assignment.
    pub(crate) fn max_verifier_slash() -> Perbill {
        T::NonRevealSlash::get().max(T::LosingVoteSlash::get())
    }

    pub(crate) fn do_advance(id: SubmissionId) -> DispatchResultWithPostInfo {
        let mut sub = Submissions::<T>::get(id).ok_or(Error::<T>::UnknownSubmission)?;
        let task_id = sub.task;
        let mut task = Tasks::<T>::get(task_id).ok_or(Error::<T>::UnknownTask)?;
        let now = Self::now();
        let actual: Weight;
        match sub.phase {
            Phase::AwaitingChallenge => {
                let target = sub.relay_epoch.saturating_add(T::ChallengeEpochDelay::get());
                let randomness = match Self::challenge_randomness(target) {
                    ChallengeRandomness::Ready(r) => r,
                    ChallengeRandomness::NotYet => return Err(Error::<T>::ChallengeNotReady.into()),
                    ChallengeRandomness::Pruned => {
                        // Liveness: nobody advanced the round while its randomness was kept; it can
                        // no longer be challenged fairly, so it expires (no pay, no slash).
                        let weight = Self::tally_weight(&sub);
                        Self::expire(id, sub, &mut task);
                        Tasks::<T>::insert(task_id, task);
                        return Ok(Some(weight).into());
                    },
                };
                let snapshot_len = Snapshots::<T>::decode_len(id).unwrap_or(0);
                actual = T::WeightInfo::advance_challenge(u32::try_from(snapshot_len).unwrap_or(u32::MAX));
                let challenge = challenge_seed(&randomness, id);
                sub.challenge = Some(challenge);
                let drawn = Self::draw_verifiers(id, &mut sub, 0, task.params.verifiers);
                if drawn == 0 {
                    // Nobody can verify: the round cannot be decided.
                    Self::expire(id, sub, &mut task);
                } else {
                    sub.phase = Phase::Committing(now.saturating_add(task.params.commit_window));
                    Submissions::<T>::insert(id, sub);
                    Self::deposit_event(Event::ChallengeFixed { submission: id, challenge, level: 0, verifiers: drawn });
                }
            },
            Phase::Committing(until) => {
                let all_committed = sub
                    .assigned
                    .iter()
                    .filter(|a| a.level == sub.level)
                    .all(|a| Attestations::<T>::contains_key(id, &a.who));
                ensure!(now > until || all_committed, Error::<T>::TooEarly);
                actual = Self::tally_weight(&sub);
                let until = now.saturating_add(task.params.reveal_window);
                sub.phase = Phase::Revealing(until);
                Submissions::<T>::insert(id, sub);
                Self::deposit_event(Event::RevealStarted { submission: id, until });
            },
            Phase::Revealing(until) => {
                let all_revealed = sub
                    .assigned
                    .iter()
                    .filter(|a| a.level == sub.level)
                    .all(|a| Attestations::<T>::get(id, &a.who).is_none_or(|att| att.revealed.is_some()));
                ensure!(now > until || all_revealed, Error::<T>::TooEarly);
                actual = Self::tally_weight(&sub);
                Self::decide(id, sub, &mut task);
            },
            Phase::Accepted(final_at) => {
                ensure!(now >= final_at, Error::<T>::TooEarly);
                actual = T::WeightInfo::advance_finalize();
                let owed = task.params.reward;
                let reward = Self::pay_from_escrow(&mut task, &sub.miner, owed);
                Self::release_risk(Role::Miner, &sub.miner, sub.bond);
                let (task_id, miner) = (sub.task, sub.miner.clone());
                Self::remove_submission(id, sub, &mut task);
                Self::deposit_event(Event::RoundFinalized { submission: id, task: task_id, miner, reward });
            },
        }
        Tasks::<T>::insert(task_id, task);
        Ok(Some(actual).into())
    }

    /// Weight of a tally-like step of `sub` (opening the reveal, deciding, expiring): its assigned
    /// verifiers, and on acceptance the other pending rounds of its task marked stale.
    fn tally_weight(sub: &SubmissionOf<T>) -> Weight {
        let assigned = u32::try_from(sub.assigned.len()).unwrap_or(u32::MAX);
        let others = PendingByTask::<T>::decode_len(sub.task).unwrap_or(0).saturating_sub(1);
        T::WeightInfo::advance_tally(assigned, u32::try_from(others).unwrap_or(u32::MAX))
    }

    /// Records the relay chain's epoch randomness the first time a block sees its epoch, and prunes
    /// entries older than `RandomnessRetention` epochs.
    pub(crate) fn record_epoch_randomness() {
        let Some((epoch, randomness)) = T::RelayRandomness::epoch_randomness() else { return };
        if LastRecordedEpoch::<T>::get().is_some_and(|last| last >= epoch) {
            return;
        }
        EpochRandomness::<T>::insert(epoch, randomness);
        LastRecordedEpoch::<T>::put(epoch);
        if let Some(old) = epoch.checked_sub(T::RandomnessRetention::get()) {
            EpochRandomness::<T>::remove(old);
        }
    }

    /// The randomness of epoch `target`, or of the first recorded epoch after it when no block of the
    /// parachain saw `target` (chain halted). Retained epochs are `(last − retention, last]`; a target
    /// older than that is [`ChallengeRandomness::Pruned`], never replaced by a later epoch's value (that
    /// would let the caller's timing choose the challenge).
    pub(crate) fn challenge_randomness(target: u64) -> ChallengeRandomness {
        let Some(last) = LastRecordedEpoch::<T>::get() else { return ChallengeRandomness::NotYet };
        if target > last {
            return ChallengeRandomness::NotYet;
        }
        if target.saturating_add(T::RandomnessRetention::get()) <= last {
            return ChallengeRandomness::Pruned;
        }
        let mut epoch = target;
        while epoch <= last {
            if let Some(r) = EpochRandomness::<T>::get(epoch) {
                return ChallengeRandomness::Ready(r);
            }
            epoch = epoch.saturating_add(1);
        }
        ChallengeRandomness::Pruned
    }

    /// Draws up to `count` verifiers at `level` from the snapshot, skipping anyone already assigned or
    /// whose free bond cannot cover what the assignment puts at risk. Returns how many were drawn.
    pub(crate) fn draw_verifiers(id: SubmissionId, sub: &mut SubmissionOf<T>, level: u8, count: u32) -> u32 {
        let Some(challenge) = sub.challenge else { return 0 };
        let snapshot = Snapshots::<T>::get(id).unwrap_or_default();
        let max_slash = Self::max_verifier_slash();
        let stakes: Vec<u128> = snapshot
            .iter()
            .map(|(who, stake)| {
                let taken = sub.assigned.iter().any(|a| &a.who == who);
                let covered = Self::ledger(Role::Verifier, who)
                    .is_some_and(|l| Self::free_bond(&l) >= max_slash.mul_ceil(*stake));
                if taken || !covered {
                    0
                } else {
                    (*stake).unique_saturated_into()
                }
            })
            .collect();
        let room = (T::MaxAssigned::get() as usize).saturating_sub(sub.assigned.len());
        let picks = assign(&challenge, level, &stakes, (count as usize).min(room));
        let mut drawn = 0u32;
        for index in picks {
            let Some((who, stake)) = snapshot.get(index) else { continue };
            let at_risk = max_slash.mul_ceil(*stake);
            if Self::put_at_risk(Role::Verifier, who, at_risk).is_err() {
                continue;
            }
            let entry = Assignment { who: who.clone(), stake: *stake, at_risk, level };
            if sub.assigned.try_push(entry).is_err() {
                Self::release_risk(Role::Verifier, who, at_risk);
                break;
            }
            drawn = drawn.saturating_add(1);
        }
        drawn
    }

    /// Tallies revealed verdicts and accepts, rejects, escalates or expires.
    fn decide(id: SubmissionId, mut sub: SubmissionOf<T>, task: &mut TaskOf<T>) {
        let mut assigned: u128 = 0;
        let mut positive: u128 = 0;
        let mut negative: u128 = 0;
        let mut provable: u128 = 0;
        for a in sub.assigned.iter() {
            let stake: u128 = a.stake.unique_saturated_into();
            assigned = assigned.saturating_add(stake);
            match Attestations::<T>::get(id, &a.who).and_then(|att| att.revealed) {
                Some(Verdict::Positive) => positive = positive.saturating_add(stake),
                Some(Verdict::Negative(reason)) => {
                    negative = negative.saturating_add(stake);
                    if reason != NegativeReason::DataUnavailable {
                        provable = provable.saturating_add(stake);
                    }
                },
                None => {},
            }
        }
        let mut outcome = tally(assigned, positive, negative, Ratio::TWO_THIRDS, Ratio::ONE_THIRD);
        // Dispute narrowing: a level-0 verifier that found a bad gradient is not simply outvoted; the
        // escalation set recomputes the steps it named (also when level 0 was merely undecided).
        if outcome != Outcome::Reject && sub.level == 0 && task.params.escalation_verifiers > 0 {
            for a in sub.assigned.iter() {
                if let Some(Verdict::Negative(NegativeReason::BadGradient { step })) =
                    Attestations::<T>::get(id, &a.who).and_then(|att| att.revealed)
                {
                    if step < task.spec.steps_per_round && !sub.disputed_steps.contains(&step) {
                        let _ = sub.disputed_steps.try_push(step);
                    }
                }
            }
            if !sub.disputed_steps.is_empty() {
                outcome = Outcome::Undecided;
            }
        }
        match outcome {
            Outcome::Accept => {
                Self::settle_verifiers(id, &mut sub, task, Winner::Positive);
                let final_at = Self::now().saturating_add(T::FraudWindow::get());
                task.state_root = sub.commitment.final_root;
                task.round = task.round.saturating_add(1);
                task.steps_done = task.steps_done.saturating_add(u64::from(sub.commitment.steps));
                // The reward stays committed until the fraud window closes; verifier pay is settled.
                let reward = task.params.reward;
                task.committed = task.committed.saturating_sub(sub.escrow.saturating_sub(reward));
                sub.escrow = reward;
                sub.phase = Phase::Accepted(final_at);
                let (task_id, root) = (sub.task, sub.commitment.final_root);
                Submissions::<T>::insert(id, sub);
                Self::deposit_event(Event::RoundAccepted { submission: id, task: task_id, state_root: root, final_at });
                Self::mark_stale(task_id, id, task);
            },
            Outcome::Reject => {
                Self::settle_verifiers(id, &mut sub, task, Winner::Negative);
                let full = Ratio::ONE_THIRD.reached_by(provable, assigned);
                let amount = if full { sub.bond } else { T::DataUnavailableSlash::get().mul_floor(sub.bond) };
                let slashed = Self::slash_to_sink(Role::Miner, &sub.miner, sub.bond, amount);
                let task_id = sub.task;
                Self::remove_submission(id, sub, task);
                Self::deposit_event(Event::RoundRejected { submission: id, task: task_id, slashed });
            },
            Outcome::Undecided if sub.level == 0 && task.params.escalation_verifiers > 0 => {
                let drawn = Self::draw_verifiers(id, &mut sub, 1, task.params.escalation_verifiers);
                if drawn == 0 {
                    Self::expire(id, sub, task);
                } else {
                    sub.level = 1;
                    sub.phase = Phase::Committing(Self::now().saturating_add(task.params.commit_window));
                    let disputed_steps = sub.disputed_steps.len() as u32;
                    Submissions::<T>::insert(id, sub);
                    Self::deposit_event(Event::RoundEscalated { submission: id, verifiers: drawn, disputed_steps });
                }
            },
            Outcome::Undecided => Self::expire(id, sub, task),
        }
    }

    /// No decision: the miner keeps its bond, revealing verifiers are paid.
    fn expire(id: SubmissionId, mut sub: SubmissionOf<T>, task: &mut TaskOf<T>) {
        Self::settle_verifiers(id, &mut sub, task, Winner::Nobody);
        Self::release_risk(Role::Miner, &sub.miner, sub.bond);
        let task_id = sub.task;
        Self::remove_submission(id, sub, task);
        Self::deposit_event(Event::RoundExpired { submission: id, task: task_id });
    }

    /// Pays, slashes and releases every assigned verifier once; their stake at risk is cleared.
    fn settle_verifiers(id: SubmissionId, sub: &mut SubmissionOf<T>, task: &mut TaskOf<T>, winner: Winner) {
        let pay = task.params.verifier_pay;
        for a in sub.assigned.iter_mut() {
            if a.at_risk.is_zero() {
                continue;
            }
            let att = Attestations::<T>::get(id, &a.who);
            let (slash, paid) = match att.map(|x| x.revealed) {
                None => (Perbill::zero(), false),
                Some(None) => (T::NonRevealSlash::get(), false),
                Some(Some(v)) => {
                    let on_winning = matches!(
                        (winner, v),
                        (Winner::Nobody, _) |
                            (Winner::Positive, Verdict::Positive) |
                            (Winner::Negative, Verdict::Negative(_))
                    );
                    if on_winning { (Perbill::zero(), true) } else { (T::LosingVoteSlash::get(), false) }
                },
            };
            if slash.is_zero() {
                Self::release_risk(Role::Verifier, &a.who, a.at_risk);
            } else {
                Self::slash_to_sink(Role::Verifier, &a.who, a.at_risk, slash.mul_floor(a.stake));
            }
            if paid {
                let amount = Self::pay_from_escrow(task, &a.who, pay);
                if !amount.is_zero() {
                    task.committed = task.committed.saturating_sub(amount);
                    sub.escrow = sub.escrow.saturating_sub(amount);
                    Self::deposit_event(Event::VerifierPaid { submission: id, verifier: a.who.clone(), amount });
                }
            }
            a.at_risk = Zero::zero();
        }
    }

    /// Releases the stake at risk of verifiers not yet settled (voided, stale or fraudulent rounds).
    pub(crate) fn release_assignments(sub: &SubmissionOf<T>) {
        for a in sub.assigned.iter().filter(|a| !a.at_risk.is_zero()) {
            Self::release_risk(Role::Verifier, &a.who, a.at_risk);
        }
    }

    /// After `accepted` moved the task root: every other unsettled, not accepted round of the task is on
    /// a stale base and ends without pay or slash.
    fn mark_stale(task_id: TaskId, accepted: SubmissionId, task: &mut TaskOf<T>) {
        for other in PendingByTask::<T>::get(task_id) {
            if other == accepted {
                continue;
            }
            let Some(o) = Submissions::<T>::get(other) else { continue };
            if matches!(o.phase, Phase::Accepted(_)) || o.commitment.base_root == task.state_root {
                continue;
            }
            Self::release_assignments(&o);
            Self::release_risk(Role::Miner, &o.miner, o.bond);
            Self::remove_submission(other, o, task);
            Self::deposit_event(Event::RoundStale { submission: other, task: task_id });
        }
    }

    /// Removes a settled submission and everything keyed by it; releases its deposit and whatever escrow
    /// it still had committed. Stake at risk must already be settled or released by the caller.
    pub(crate) fn remove_submission(id: SubmissionId, sub: SubmissionOf<T>, task: &mut TaskOf<T>) {
        Self::release(HoldReason::SubmissionDeposit, &sub.miner, sub.deposit);
        task.committed = task.committed.saturating_sub(sub.escrow);
        task.pending = task.pending.saturating_sub(1);
        PendingByTask::<T>::mutate(sub.task, |p| p.retain(|x| *x != id));
        let _ = Attestations::<T>::clear_prefix(id, T::MaxAssigned::get(), None);
        Snapshots::<T>::remove(id);
        Submissions::<T>::remove(id);
    }
}
