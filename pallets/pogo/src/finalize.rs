//! Block-driven progress of a submission (the analogue of pallet-broker's `tick_impls.rs`): challenge,
//! reveal, tally, settlement, escalation, expiry, staleness and the end of the fraud window. Driven by
//! `on_idle` (see `idle.rs`) and the permissionless `advance` call; every step touches one submission and
//! at most `MaxAssigned` verifiers; rounds another acceptance made stale are found and removed lazily.

use crate::{pallet::*, types::*, weights::WeightInfo};
use alloc::vec::Vec;
use frame_support::{dispatch::DispatchResultWithPostInfo, pallet_prelude::*, traits::Get};
use pogo_primitives::{
    assign::assign,
    seed::{challenge_seed, sampled_steps, verifier_seed},
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

/// Which losing verdicts a settlement forgives.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Excuse {
    /// None: every losing verdict costs `LosingVoteSlash`.
    Nobody,
    /// A level-0 `Positive` verdict whose verifier sampled none of the disputed steps.
    UnsampledLevel0,
}

/// Which revealed verdicts are on the winning side.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Winner {
    Positive,
    Negative,
    /// Expiry: revealed verdicts are released without pay or slash.
    Nobody,
}

impl<T: Config> Pallet<T> {
    /// The weight `advance` declares: its heaviest branch at this runtime's bounds (fixing a challenge
    /// over `MaxVerifiers`, accepting with `MaxAssigned` verdicts, rejecting or finalizing with
    /// `MaxAssigned` verifiers settled, or removing a stale or voided round with `MaxAssigned` verifiers
    /// released). The call refunds down to the branch it took.
    pub fn advance_worst_case_weight() -> Weight {
        let a = T::MaxAssigned::get();
        T::WeightInfo::advance_challenge(T::MaxVerifiers::get())
            .max(T::WeightInfo::advance_tally(a))
            .max(T::WeightInfo::advance_reject(a))
            .max(T::WeightInfo::advance_finalize(a))
            .max(T::WeightInfo::advance_void(a))
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
        if let Some(event) = Self::invalidation(id, &sub, &task) {
            // Voided, or stale: its base is no longer the task's root, so it can never be accepted.
            let weight = T::WeightInfo::advance_void(u32::try_from(sub.assigned.len()).unwrap_or(u32::MAX));
            Self::release_assignments(&sub);
            Self::release_risk(Role::Miner, &sub.miner, sub.bond);
            Self::remove_submission(id, sub, &mut task);
            Tasks::<T>::insert(task_id, task);
            Self::deposit_event(event);
            return Ok(Some(weight).into());
        }
        let actual: Weight;
        match sub.phase {
            Phase::Voided => return Err(Error::<T>::WrongPhase.into()),
            Phase::AwaitingChallenge => {
                // Level 0 waits for randomness from after the submission, level 1 for randomness from
                // after the escalation: nobody could change the snapshot's stake once it existed.
                let randomness = match Self::challenge_randomness(Self::challenge_epoch(&sub)) {
                    ChallengeRandomness::Ready(r) => r,
                    ChallengeRandomness::NotYet => return Err(Error::<T>::ChallengeNotReady.into()),
                    ChallengeRandomness::Pruned => {
                        // Liveness: nobody advanced the round while its randomness was kept; it can
                        // no longer be challenged fairly, so it expires.
                        let weight = Self::tally_weight(&sub);
                        Self::expire(id, sub, &mut task);
                        Tasks::<T>::insert(task_id, task);
                        return Ok(Some(weight).into());
                    },
                };
                let snapshot_len = Snapshots::<T>::decode_len(id).unwrap_or(0);
                actual = T::WeightInfo::advance_challenge(u32::try_from(snapshot_len).unwrap_or(u32::MAX));
                let challenge = challenge_seed(&randomness, id);
                let (level, count) = if sub.level == 0 {
                    sub.challenge = Some(challenge);
                    (0, task.params.verifiers)
                } else {
                    sub.escalation_challenge = Some(challenge);
                    (1, task.params.escalation_verifiers)
                };
                let drawn = Self::draw_verifiers(id, &mut sub, level, count);
                if drawn == 0 {
                    // Nobody can verify: the round cannot be decided.
                    Self::expire(id, sub, &mut task);
                } else {
                    sub.phase = Phase::Committing(now.saturating_add(task.params.commit_window));
                    Submissions::<T>::insert(id, sub);
                    Self::deposit_event(Event::ChallengeFixed { submission: id, challenge, level, verifiers: drawn });
                }
            },
            Phase::Committing(until) => {
                ensure!(now > until || Self::all_committed(id, &sub), Error::<T>::TooEarly);
                actual = Self::tally_weight(&sub);
                let until = now.saturating_add(task.params.reveal_window);
                sub.phase = Phase::Revealing(until);
                Submissions::<T>::insert(id, sub);
                Self::deposit_event(Event::RevealStarted { submission: id, until });
            },
            Phase::Revealing(until) => {
                ensure!(now > until || Self::all_revealed(id, &sub), Error::<T>::TooEarly);
                actual = Self::tally_weight(&sub);
                Self::decide(id, sub, &mut task);
            },
            Phase::Accepted(final_at) => {
                ensure!(now >= final_at, Error::<T>::TooEarly);
                actual = T::WeightInfo::advance_finalize(u32::try_from(sub.assigned.len()).unwrap_or(u32::MAX));
                // The fraud window closed without a proof: Positive verdicts were right.
                Self::settle_verifiers(id, &mut sub, &mut task, Winner::Positive, Excuse::Nobody);
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

    /// Whether `advance` would move submission `sub` now (its deadline passed or its condition holds),
    /// judged from the submission alone (no relay randomness lookup beyond one read).
    pub(crate) fn is_due(id: SubmissionId, sub: &SubmissionOf<T>) -> bool {
        let now = Self::now();
        let stale = Tasks::<T>::get(sub.task).is_none_or(|t| Self::invalidation(id, sub, &t).is_some());
        if stale {
            return true;
        }
        match sub.phase {
            Phase::Voided => true,
            Phase::AwaitingChallenge => {
                !matches!(Self::challenge_randomness(Self::challenge_epoch(sub)), ChallengeRandomness::NotYet)
            },
            Phase::Committing(until) => now > until || Self::all_committed(id, sub),
            Phase::Revealing(until) => now > until || Self::all_revealed(id, sub),
            Phase::Accepted(final_at) => now >= final_at,
        }
    }

    /// The relay epoch whose randomness fixes the challenge of `sub`'s current level: level 0 counts from
    /// the submission's epoch, level 1 from the escalation's.
    fn challenge_epoch(sub: &SubmissionOf<T>) -> u64 {
        let from = if sub.level == 0 { sub.relay_epoch } else { sub.escalated_epoch.unwrap_or(sub.relay_epoch) };
        from.saturating_add(T::ChallengeEpochDelay::get())
    }

    /// Whether every verifier assigned at the current level has committed.
    fn all_committed(id: SubmissionId, sub: &SubmissionOf<T>) -> bool {
        sub.assigned
            .iter()
            .filter(|a| a.level == sub.level)
            .all(|a| Attestations::<T>::contains_key(id, &a.who))
    }

    /// Whether every verifier that committed at the current level has revealed.
    fn all_revealed(id: SubmissionId, sub: &SubmissionOf<T>) -> bool {
        sub.assigned
            .iter()
            .filter(|a| a.level == sub.level)
            .all(|a| Attestations::<T>::get(id, &a.who).is_none_or(|att| att.revealed.is_some()))
    }

    /// Why `sub` can no longer be decided, as the event its removal emits: voided by a fraud proof
    /// under it, or stale (not accepted, and the task's root moved away from its base). Stale rounds are
    /// found here, when they are next advanced, rather than when another round is accepted: accepting
    /// costs the same however many rounds it makes stale.
    pub(crate) fn invalidation(id: SubmissionId, sub: &SubmissionOf<T>, task: &TaskOf<T>) -> Option<Event<T>> {
        match sub.phase {
            Phase::Voided => Some(Event::RoundVoided { submission: id, task: sub.task }),
            Phase::Accepted(_) => None,
            _ if sub.commitment.base_root != task.state_root => Some(Event::RoundStale { submission: id, task: sub.task }),
            _ => None,
        }
    }

    /// Weight of a tally-like step of `sub` (opening the reveal, deciding, expiring): its assigned
    /// verifiers read, and on rejection or expiry settled.
    fn tally_weight(sub: &SubmissionOf<T>) -> Weight {
        let assigned = u32::try_from(sub.assigned.len()).unwrap_or(u32::MAX);
        T::WeightInfo::advance_tally(assigned).max(T::WeightInfo::advance_reject(assigned))
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

    /// Draws up to `count` verifiers at `level` from the submission's stake snapshot, skipping anyone
    /// already assigned. The draw depends on nothing but the snapshot and the level's challenge: no live
    /// ledger is consulted, so bonding or unbonding after the snapshot cannot steer it. Each drawn
    /// verifier has `max_verifier_slash × stake` put at risk; its funds cannot leave before the
    /// submission settles (see `do_withdraw_unbonded`). Returns how many were drawn.
    pub(crate) fn draw_verifiers(id: SubmissionId, sub: &mut SubmissionOf<T>, level: u8, count: u32) -> u32 {
        let Some(challenge) = sub.challenge_at(level) else { return 0 };
        let snapshot = Snapshots::<T>::get(id).unwrap_or_default();
        let max_slash = Self::max_verifier_slash();
        let stakes: Vec<u128> = snapshot
            .iter()
            .map(|(who, stake)| {
                if sub.assigned.iter().any(|a| &a.who == who) {
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
            let entry = Assignment { who: who.clone(), stake: *stake, at_risk, level };
            if sub.assigned.try_push(entry).is_err() {
                break;
            }
            Self::add_risk(Role::Verifier, who, at_risk);
            drawn = drawn.saturating_add(1);
        }
        drawn
    }

    /// Tallies the revealed verdicts of the current level and accepts, rejects, escalates or expires.
    ///
    /// * Level 0 can only accept: two thirds of its stake Positive and no Negative verdict. Anything else
    ///   (any Negative verdict, or too little Positive stake) escalates; the steps named by `BadGradient`
    ///   verdicts become the disputed steps every level-1 verifier recomputes.
    /// * Level 1 decides alone, on its own stake: two thirds Positive accepts, two thirds Negative rejects
    ///   (the full bond when two thirds name a provable reason, `DataUnavailableSlash` otherwise),
    ///   anything else expires the round.
    fn decide(id: SubmissionId, mut sub: SubmissionOf<T>, task: &mut TaskOf<T>) {
        let level = sub.level;
        let mut assigned: u128 = 0;
        let mut positive: u128 = 0;
        let mut negative: u128 = 0;
        let mut provable: u128 = 0;
        let mut inconsistent: u128 = 0;
        for a in sub.assigned.iter().filter(|a| a.level == level) {
            let stake: u128 = a.stake.unique_saturated_into();
            assigned = assigned.saturating_add(stake);
            match Attestations::<T>::get(id, &a.who).and_then(|att| att.revealed) {
                Some(Verdict::Positive) => positive = positive.saturating_add(stake),
                Some(Verdict::Negative(reason)) => {
                    negative = negative.saturating_add(stake);
                    if reason != NegativeReason::DataUnavailable {
                        provable = provable.saturating_add(stake);
                    }
                    if reason == NegativeReason::InconsistentUpdate {
                        inconsistent = inconsistent.saturating_add(stake);
                    }
                    if let NegativeReason::BadGradient { step } = reason {
                        if level == 0 && step < task.spec.steps_per_round && !sub.disputed_steps.contains(&step) {
                            let _ = sub.disputed_steps.try_push(step);
                        }
                    }
                },
                None => {},
            }
        }
        let outcome = if level == 0 {
            if negative == 0 && Ratio::TWO_THIRDS.reached_by(positive, assigned) {
                Outcome::Accept
            } else {
                Outcome::Undecided
            }
        } else {
            tally(assigned, positive, negative, Ratio::TWO_THIRDS, Ratio::TWO_THIRDS)
        };
        match outcome {
            Outcome::Accept => {
                // Verifiers stay at risk through the fraud window: a proven fraud slashes the Positive
                // voters; otherwise they are paid when the round finalizes.
                let final_at = Self::now().saturating_add(T::FraudWindow::get());
                task.state_root = sub.commitment.final_root;
                // The root was public from the round's inclusion: accounts bonded since cannot use it.
                task.root_set_at = sub.submitted_at;
                task.model_locator = sub.locator.clone();
                task.round = task.round.saturating_add(1);
                task.steps_done = task.steps_done.saturating_add(u64::from(sub.commitment.steps));
                sub.phase = Phase::Accepted(final_at);
                let (task_id, root) = (sub.task, sub.commitment.final_root);
                Submissions::<T>::insert(id, sub);
                Self::deposit_event(Event::RoundAccepted { submission: id, task: task_id, state_root: root, final_at });
                // Other rounds on the old base are now stale; each is removed when next advanced.
            },
            Outcome::Reject => {
                // Every verifier replays the whole chain, so a Positive vote on an inconsistent update
                // is negligence; a fault in steps a level-0 verifier did not sample is bad luck.
                let excuse = if Ratio::TWO_THIRDS.reached_by(inconsistent, assigned) {
                    Excuse::Nobody
                } else {
                    Excuse::UnsampledLevel0
                };
                Self::settle_verifiers(id, &mut sub, task, Winner::Negative, excuse);
                let full = Ratio::TWO_THIRDS.reached_by(provable, assigned);
                let amount = if full { sub.bond } else { T::DataUnavailableSlash::get().mul_floor(sub.bond) };
                let slashed = Self::slash_to_sink(Role::Miner, &sub.miner, sub.bond, amount);
                let task_id = sub.task;
                Self::remove_submission(id, sub, task);
                Self::deposit_event(Event::RoundRejected { submission: id, task: task_id, slashed });
            },
            Outcome::Undecided if level == 0 => {
                let epoch = Self::current_epoch();
                sub.level = 1;
                sub.escalated_epoch = Some(epoch);
                sub.phase = Phase::AwaitingChallenge;
                let disputed_steps = u32::try_from(sub.disputed_steps.len()).unwrap_or(u32::MAX);
                Submissions::<T>::insert(id, sub);
                Self::deposit_event(Event::RoundEscalated { submission: id, epoch, disputed_steps });
            },
            Outcome::Undecided => Self::expire(id, sub, task),
        }
    }

    /// The relay epoch of this block: from the relay state proof, else the newest recorded one.
    fn current_epoch() -> u64 {
        T::RelayRandomness::epoch_randomness()
            .map(|(epoch, _)| epoch)
            .or_else(LastRecordedEpoch::<T>::get)
            .unwrap_or_default()
    }

    /// No decision: the miner keeps its bond; revealing verifiers are released without pay, silent ones
    /// are slashed.
    fn expire(id: SubmissionId, mut sub: SubmissionOf<T>, task: &mut TaskOf<T>) {
        Self::settle_verifiers(id, &mut sub, task, Winner::Nobody, Excuse::Nobody);
        Self::release_risk(Role::Miner, &sub.miner, sub.bond);
        let task_id = sub.task;
        Self::remove_submission(id, sub, task);
        Self::deposit_event(Event::RoundExpired { submission: id, task: task_id });
    }

    /// Pays, slashes and releases every assigned verifier of both levels once, for the final outcome;
    /// their stake at risk is cleared.
    ///
    /// * No revealed verdict (never committed, or committed and never revealed): `NonRevealSlash`.
    /// * A verdict on the winning side: released and paid `verifier_pay`.
    /// * A verdict on the losing side: `LosingVoteSlash` (at most `NonRevealSlash`, so withholding a
    ///   losing reveal never pays).
    /// * Expiry (`Winner::Nobody`): revealed verdicts are released without pay or slash.
    /// * [`Excuse::UnsampledLevel0`] (a level-1 rejection not for an inconsistent update): a level-0
    ///   `Positive` verdict whose sampled steps hold none of the disputed steps is released without pay
    ///   or slash; its verifier could not have seen the fault. The steps are recomputed here from the
    ///   level-0 challenge ([`pogo_primitives::seed::sampled_steps`]).
    pub(crate) fn settle_verifiers(
        id: SubmissionId,
        sub: &mut SubmissionOf<T>,
        task: &mut TaskOf<T>,
        winner: Winner,
        excuse: Excuse,
    ) {
        let pay = task.params.verifier_pay;
        let (challenge, k, steps_per_round) = (sub.challenge, task.params.samples.steps, task.spec.steps_per_round);
        let disputed = sub.disputed_steps.clone();
        let excused = |who: &T::AccountId| match (excuse, challenge) {
            (Excuse::UnsampledLevel0, Some(challenge)) => {
                let seed = verifier_seed(&challenge, &who.encode());
                !sampled_steps(&seed, k, steps_per_round).iter().any(|s| disputed.contains(s))
            },
            _ => false,
        };
        for a in sub.assigned.iter_mut() {
            if a.at_risk.is_zero() {
                continue;
            }
            let (slash, paid) = match Attestations::<T>::get(id, &a.who).and_then(|x| x.revealed) {
                None => (T::NonRevealSlash::get(), false),
                Some(v) => match (winner, v) {
                    (Winner::Nobody, _) => (Perbill::zero(), false),
                    (Winner::Positive, Verdict::Positive) | (Winner::Negative, Verdict::Negative(_)) => {
                        (Perbill::zero(), true)
                    },
                    (Winner::Negative, Verdict::Positive) if a.level == 0 && excused(&a.who) => (Perbill::zero(), false),
                    _ => (T::LosingVoteSlash::get(), false),
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

    /// Removes a settled submission and everything keyed by it; releases its deposit and whatever escrow
    /// it still had committed. Stake at risk must already be settled or released by the caller.
    pub(crate) fn remove_submission(id: SubmissionId, sub: SubmissionOf<T>, task: &mut TaskOf<T>) {
        Self::release(HoldReason::SubmissionDeposit, &sub.miner, sub.deposit);
        SubmissionQueue::<T>::remove(id.to_be_bytes());
        task.committed = task.committed.saturating_sub(sub.escrow);
        task.pending = task.pending.saturating_sub(1);
        PendingByTask::<T>::mutate(sub.task, |p| p.retain(|x| *x != id));
        let _ = Attestations::<T>::clear_prefix(id, T::MaxAssigned::get(), None);
        Snapshots::<T>::remove(id);
        Submissions::<T>::remove(id);
    }
}
