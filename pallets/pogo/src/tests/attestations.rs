//! Challenge, assignment and commit-reveal: who may attest, once, within which window, and when the
//! phases move on.

use super::helpers::*;
use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, traits::Get};
use pogo_primitives::verdict::{NegativeReason, Verdict};
use polkadot_sdk::frame_support;

const P: Option<Verdict> = Some(Verdict::Positive);
const NO_PROGRESS: Verdict = Verdict::Negative(NegativeReason::NoProgress);

fn signed(who: AccountId) -> RuntimeOrigin {
    RuntimeOrigin::signed(who)
}

fn phase(id: SubmissionId) -> Phase<u64> {
    Submissions::<Test>::get(id).unwrap().phase
}

fn commit_until(id: SubmissionId) -> u64 {
    match phase(id) {
        Phase::Committing(until) => until,
        other => unreachable!("not committing: {other:?}"),
    }
}

fn reveal_until(id: SubmissionId) -> u64 {
    match phase(id) {
        Phase::Revealing(until) => until,
        other => unreachable!("not revealing: {other:?}"),
    }
}

fn commit(who: AccountId, id: SubmissionId, v: &Verdict) {
    assert_ok!(Pogo::commit_verdict(signed(who), id, commitment_of(id, who, v)));
}

/// A submission with its challenge fixed; returns it and its assigned verifiers.
fn challenged() -> (SubmissionId, Vec<AccountId>) {
    let (_task, id, _b, _c, _t) = submitted(None);
    fix_challenge(id);
    (id, assigned(id))
}

/// A challenged submission whose verifiers all committed `verdicts[i]`, moved to the reveal phase.
fn revealing(verdicts: [Verdict; 3]) -> (SubmissionId, Vec<AccountId>) {
    let (id, who) = challenged();
    for (w, v) in who.iter().zip(&verdicts) {
        commit(*w, id, v);
    }
    assert_ok!(Pogo::advance(signed(REPORTER), id));
    (id, who)
}

#[test]
fn fixing_the_challenge_assigns_verifiers_and_puts_their_stake_at_risk() {
    test(|| {
        let (_task, id, _b, _c, _t) = submitted(None);
        MockRelay::advance_epochs(2);
        let now = System::block_number() + 1;
        run_to_block(now);
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        let s = Submissions::<Test>::get(id).unwrap();
        let commit_window = params().commit_window;
        assert_eq!(s.phase, Phase::Committing(now + commit_window));
        let challenge = s.challenge.expect("challenge fixed");
        assert!(s.escalation_challenge.is_none());
        assert_eq!(s.assigned.len(), 3);
        for a in s.assigned.iter() {
            assert!(VERIFIERS.contains(&a.who));
            // every verifier bonded 1,000; max(NonRevealSlash 3%, LosingVoteSlash 2%) is the most one can lose
            assert_eq!((a.stake, a.at_risk, a.level), (1_000, 30, 0));
            assert_eq!(VerifierBonds::<Test>::get(a.who).unwrap().at_risk, 30);
        }
        let mut distinct = assigned(id);
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 3);
        assert!(pogo_events().contains(&Event::ChallengeFixed { submission: id, challenge, level: 0, verifiers: 3 }));
        // unassigned verifiers have nothing at risk
        for v in VERIFIERS.iter().filter(|v| !distinct.contains(v)) {
            assert_eq!(VerifierBonds::<Test>::get(v).unwrap().at_risk, 0);
        }
    });
}

#[test]
fn the_draw_uses_the_snapshot_not_the_live_ledger() {
    test(|| {
        let (_task, id, _b, _c, _t) = submitted(None);
        // every verifier unbonds all but 10 after the snapshot: they leave the registry, not the snapshot
        for v in VERIFIERS {
            assert_ok!(Pogo::unbond(signed(v), Role::Verifier, 990));
        }
        assert!(VerifierRegistry::<Test>::get().is_empty());
        fix_challenge(id);
        let s = Submissions::<Test>::get(id).unwrap();
        assert_eq!(s.assigned.len(), 3);
        for a in s.assigned.iter() {
            // drawn with the snapshot stake; 30 at risk although only 10 of the bond is free
            assert_eq!((a.stake, a.at_risk), (1_000, 30));
            let l = VerifierBonds::<Test>::get(a.who).unwrap();
            assert_eq!((l.held, l.at_risk), (1_000, 30));
            assert_eq!(Pogo::free_bond(&l), 0);
        }
    });
}

#[test]
fn an_assigned_verifier_commits_once() {
    test(|| {
        let (id, who) = challenged();
        let hash = commitment_of(id, who[0], &Verdict::Positive);
        assert_ok!(Pogo::commit_verdict(signed(who[0]), id, hash));
        assert_eq!(Attestations::<Test>::get(id, who[0]), Some(Attestation { commitment: hash, revealed: None }));
        assert!(pogo_events().contains(&Event::VerdictCommitted { submission: id, verifier: who[0] }));
        // not even to change its mind
        assert_noop!(
            Pogo::commit_verdict(signed(who[0]), id, commitment_of(id, who[0], &NO_PROGRESS)),
            Error::<Test>::AlreadyCommitted
        );
        assert_eq!(Attestations::<Test>::get(id, who[0]).unwrap().commitment, hash);
    });
}

#[test]
fn only_assigned_verifiers_commit() {
    test(|| {
        let (id, who) = challenged();
        let outsiders: Vec<AccountId> = VERIFIERS.into_iter().filter(|v| !who.contains(v)).collect();
        assert_eq!(outsiders.len(), 5);
        for o in outsiders.iter().copied().chain([MINER, MINER2, OWNER, POOR]) {
            assert_noop!(
                Pogo::commit_verdict(signed(o), id, commitment_of(id, o, &Verdict::Positive)),
                Error::<Test>::NotAssigned
            );
        }
        assert_eq!(Attestations::<Test>::iter_prefix(id).count(), 0);
    });
}

#[test]
fn commits_are_taken_up_to_the_last_block_of_the_window() {
    test(|| {
        let (id, who) = challenged();
        let until = commit_until(id);
        run_to_block(until);
        commit(who[0], id, &Verdict::Positive);
        run_to_block(until + 1);
        assert_noop!(
            Pogo::commit_verdict(signed(who[1]), id, commitment_of(id, who[1], &Verdict::Positive)),
            Error::<Test>::WindowClosed
        );
    });
}

#[test]
fn reveal_starts_early_once_every_assigned_verifier_committed() {
    test(|| {
        let (id, who) = challenged();
        let until = commit_until(id);
        commit(who[0], id, &Verdict::Positive);
        commit(who[1], id, &Verdict::Positive);
        assert_noop!(Pogo::advance(signed(REPORTER), id), Error::<Test>::TooEarly);
        commit(who[2], id, &NO_PROGRESS);
        let now = System::block_number();
        assert!(now < until);
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        let reveal_window: u64 = params().reveal_window;
        assert_eq!(phase(id), Phase::Revealing(now + reveal_window));
        assert!(pogo_events().contains(&Event::RevealStarted { submission: id, until: now + reveal_window }));
    });
}

#[test]
fn otherwise_reveal_starts_after_the_commit_window() {
    test(|| {
        let (id, who) = challenged();
        let until = commit_until(id);
        commit(who[0], id, &Verdict::Positive);
        run_to_block(until);
        assert_noop!(Pogo::advance(signed(REPORTER), id), Error::<Test>::TooEarly);
        run_to_block(until + 1);
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        assert_eq!(phase(id), Phase::Revealing(until + 1 + params().reveal_window));
        // the silent verifiers can no longer commit
        assert_noop!(
            Pogo::commit_verdict(signed(who[1]), id, commitment_of(id, who[1], &Verdict::Positive)),
            Error::<Test>::WrongPhase
        );
    });
}

#[test]
fn reveal_must_match_the_commitment() {
    test(|| {
        let (id, who) = revealing([Verdict::Positive, NO_PROGRESS, Verdict::Positive]);
        let v = who[1];
        assert_noop!(Pogo::reveal_verdict(signed(v), id, Verdict::Positive, salt(v)), Error::<Test>::RevealMismatch);
        assert_noop!(Pogo::reveal_verdict(signed(v), id, NO_PROGRESS, [0; 32]), Error::<Test>::RevealMismatch);
        let other_reason = Verdict::Negative(NegativeReason::InconsistentUpdate);
        assert_noop!(Pogo::reveal_verdict(signed(v), id, other_reason, salt(v)), Error::<Test>::RevealMismatch);
        assert_ok!(Pogo::reveal_verdict(signed(v), id, NO_PROGRESS, salt(v)));
        assert_eq!(Attestations::<Test>::get(id, v).unwrap().revealed, Some(NO_PROGRESS));
        assert!(pogo_events().contains(&Event::VerdictRevealed { submission: id, verifier: v, verdict: NO_PROGRESS }));
        assert_noop!(Pogo::reveal_verdict(signed(v), id, NO_PROGRESS, salt(v)), Error::<Test>::AlreadyRevealed);
    });
}

#[test]
fn a_copied_commitment_cannot_be_revealed_by_the_copier() {
    test(|| {
        let (id, who) = challenged();
        // who[1] posts who[0]'s commitment, then tries to reveal who[0]'s verdict and salt
        let hash = commitment_of(id, who[0], &Verdict::Positive);
        assert_ok!(Pogo::commit_verdict(signed(who[0]), id, hash));
        assert_ok!(Pogo::commit_verdict(signed(who[1]), id, hash));
        commit(who[2], id, &Verdict::Positive);
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        assert_noop!(
            Pogo::reveal_verdict(signed(who[1]), id, Verdict::Positive, salt(who[0])),
            Error::<Test>::RevealMismatch
        );
        assert_ok!(Pogo::reveal_verdict(signed(who[0]), id, Verdict::Positive, salt(who[0])));
    });
}

#[test]
fn a_commitment_is_bound_to_its_submission() {
    test(|| {
        let (id, who) = challenged();
        let v = who[0];
        // a commitment made for another submission id does not open here
        let foreign = pogo_primitives::verdict::verdict_commitment(
            id + 1,
            &codec::Encode::encode(&v),
            &Verdict::Positive,
            &salt(v),
        );
        assert_ok!(Pogo::commit_verdict(signed(v), id, foreign));
        commit(who[1], id, &Verdict::Positive);
        commit(who[2], id, &Verdict::Positive);
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        assert_noop!(Pogo::reveal_verdict(signed(v), id, Verdict::Positive, salt(v)), Error::<Test>::RevealMismatch);
    });
}

#[test]
fn only_committed_assigned_verifiers_reveal() {
    test(|| {
        let (id, who) = challenged();
        commit(who[0], id, &Verdict::Positive);
        commit(who[1], id, &Verdict::Positive);
        run_to_block(commit_until(id) + 1);
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        assert_noop!(
            Pogo::reveal_verdict(signed(who[2]), id, Verdict::Positive, salt(who[2])),
            Error::<Test>::NotCommitted
        );
        let outsider = VERIFIERS.into_iter().find(|v| !who.contains(v)).unwrap();
        assert_noop!(
            Pogo::reveal_verdict(signed(outsider), id, Verdict::Positive, salt(outsider)),
            Error::<Test>::NotAssigned
        );
        assert_ok!(Pogo::reveal_verdict(signed(who[0]), id, Verdict::Positive, salt(who[0])));
    });
}

#[test]
fn reveals_are_taken_up_to_the_last_block_of_the_window() {
    test(|| {
        let (id, who) = revealing([Verdict::Positive; 3]);
        let until = reveal_until(id);
        run_to_block(until);
        assert_ok!(Pogo::reveal_verdict(signed(who[0]), id, Verdict::Positive, salt(who[0])));
        assert_noop!(Pogo::advance(signed(REPORTER), id), Error::<Test>::TooEarly);
        run_to_block(until + 1);
        assert_noop!(
            Pogo::reveal_verdict(signed(who[1]), id, Verdict::Positive, salt(who[1])),
            Error::<Test>::WindowClosed
        );
        // one revealed positive of three: short of two thirds, escalated to await the level-1 challenge
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        let s = Submissions::<Test>::get(id).unwrap();
        assert_eq!((s.level, s.phase), (1, Phase::AwaitingChallenge));
    });
}

#[test]
fn the_tally_happens_as_soon_as_every_committed_verifier_revealed() {
    test(|| {
        let (id, who) = revealing([Verdict::Positive; 3]);
        for v in &who[..2] {
            assert_ok!(Pogo::reveal_verdict(signed(*v), id, Verdict::Positive, salt(*v)));
            if *v == who[0] {
                assert_noop!(Pogo::advance(signed(REPORTER), id), Error::<Test>::TooEarly);
            }
        }
        assert_ok!(Pogo::reveal_verdict(signed(who[2]), id, Verdict::Positive, salt(who[2])));
        let now = System::block_number();
        assert!(now < reveal_until(id));
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        let fraud_window: u64 = <Test as Config>::FraudWindow::get();
        assert_eq!(phase(id), Phase::Accepted(now + fraud_window));
    });
}

#[test]
fn commit_and_reveal_are_refused_outside_their_phase() {
    test(|| {
        let (_task, id, _b, _c, _t) = submitted(None);
        let v = VERIFIERS[0];
        assert_noop!(Pogo::commit_verdict(signed(v), id, [0; 32]), Error::<Test>::WrongPhase);
        assert_noop!(Pogo::reveal_verdict(signed(v), id, Verdict::Positive, salt(v)), Error::<Test>::WrongPhase);
        fix_challenge(id);
        let who = assigned(id);
        commit(who[0], id, &Verdict::Positive);
        assert_noop!(
            Pogo::reveal_verdict(signed(who[0]), id, Verdict::Positive, salt(who[0])),
            Error::<Test>::WrongPhase
        );
    });
}

#[test]
fn escalation_draws_a_fresh_set_up_to_max_assigned_with_later_randomness() {
    test(|| {
        let max_assigned: u32 = <Test as Config>::MaxAssigned::get();
        let mut p = params();
        (p.verifiers, p.escalation_verifiers) = (3, 5);
        bond_all();
        next_block();
        assert_ok!(Pogo::create_task(signed(OWNER), spec(), model(), p, initial_root(), dataset(), 20_000));
        let (_b, c, _t) = first_round(0, None);
        let id = NextSubmissionId::<Test>::get();
        assert_ok!(Pogo::submit_round(signed(MINER), 0, c, locator()));
        fix_challenge(id);
        let first = assigned(id);
        assert_eq!(first.len(), 3);
        // nobody commits: the reveal is empty and the tally undecided
        run_to_block(commit_until(id) + 1);
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        // relay epoch 12 when escalated: the level-1 challenge needs epoch 14's randomness
        assert!(pogo_events().contains(&Event::RoundEscalated { submission: id, epoch: 12, disputed_steps: 0 }));
        let s = Submissions::<Test>::get(id).unwrap();
        assert_eq!((s.level, s.phase, s.escalated_epoch), (1, Phase::AwaitingChallenge, Some(12)));
        assert_noop!(Pogo::advance(signed(REPORTER), id), Error::<Test>::ChallengeNotReady);
        MockRelay::advance_epochs(1);
        run_to_block(System::block_number() + 1);
        assert_noop!(Pogo::advance(signed(REPORTER), id), Error::<Test>::ChallengeNotReady);
        fix_challenge(id);
        let s = Submissions::<Test>::get(id).unwrap();
        assert_eq!(s.level, 1);
        assert_eq!(s.assigned.len() as u32, max_assigned);
        assert!(matches!(s.phase, Phase::Committing(_)));
        let escalation = s.escalation_challenge.expect("level-1 challenge fixed");
        assert_ne!(Some(escalation), s.challenge);
        assert!(pogo_events().contains(&Event::ChallengeFixed {
            submission: id,
            challenge: escalation,
            level: 1,
            verifiers: 5
        }));
        let second = assigned(id);
        assert_eq!(second.len(), 5);
        assert!(second.iter().all(|v| !first.contains(v)), "a fresh set");
        // level-0 verifiers are no longer assigned at the current level
        assert_noop!(
            Pogo::commit_verdict(signed(first[0]), id, commitment_of(id, first[0], &Verdict::Positive)),
            Error::<Test>::NotAssigned
        );
        commit(second[0], id, &Verdict::Positive);
        // every verifier of both levels has stake at risk until the round settles
        for v in first.iter().chain(&second) {
            assert_eq!(VerifierBonds::<Test>::get(v).unwrap().at_risk, 30);
        }
    });
}

#[test]
fn a_split_escalation_set_expires_the_round_and_pays_nobody() {
    test(|| {
        let (task, id, _b, _c, _t) = submitted(None);
        fix_challenge(id);
        let first = assigned(id);
        // one positive of three: escalated
        vote(id, &[P, None, None]);
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        fix_challenge(id);
        let second = assigned(id);
        assert_eq!(second.len(), 4);
        // two positive and one negative of four: neither side has two thirds of level 1, the round expires
        vote(id, &[P, P, Some(NO_PROGRESS), None]);
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        assert!(Submissions::<Test>::get(id).is_none());
        assert!(pogo_events().contains(&Event::RoundExpired { submission: id, task }));
        assert!(!pogo_events().iter().any(|e| matches!(e, Event::RoundRejected { .. } | Event::RoundAccepted { .. })));
        // on expiry nobody is paid; whoever revealed is released, whoever stayed silent loses 3%
        assert!(paid_verifiers(id).is_empty());
        let revealed = [first[0], second[0], second[1], second[2]];
        for v in first.iter().chain(&second) {
            let l = VerifierBonds::<Test>::get(v).unwrap();
            let held = if revealed.contains(v) { 1_000 } else { 970 };
            assert_eq!((l.held, l.at_risk), (held, 0), "verifier {v}");
        }
        // the miner keeps its bond
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().at_risk, 0);
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().held, 5_000);
    });
}
