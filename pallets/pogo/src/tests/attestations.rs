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
        run_to_block(3);
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        let s = Submissions::<Test>::get(id).unwrap();
        let commit_window = params().commit_window;
        assert_eq!(s.phase, Phase::Committing(3 + commit_window));
        let challenge = s.challenge.expect("challenge fixed");
        assert_eq!(s.assigned.len(), 3);
        for a in s.assigned.iter() {
            assert!(VERIFIERS.contains(&a.who));
            // every verifier bonded 1,000; LosingVoteSlash (2%) is the most one can lose
            assert_eq!((a.stake, a.at_risk, a.level), (1_000, 20, 0));
            assert_eq!(VerifierBonds::<Test>::get(a.who).unwrap().at_risk, 20);
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
        // one revealed positive of three: undecided, escalated
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        assert_eq!(Submissions::<Test>::get(id).unwrap().level, 1);
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
fn escalation_draws_a_fresh_set_up_to_max_assigned() {
    test(|| {
        let max_assigned: u32 = <Test as Config>::MaxAssigned::get();
        let mut p = params();
        (p.verifiers, p.escalation_verifiers) = (4, 4);
        assert_ok!(Pogo::create_task(signed(OWNER), spec(), p, initial_root(), dataset(), 20_000));
        bond_all();
        let (_b, c, _t) = first_round(0, None);
        let id = NextSubmissionId::<Test>::get();
        assert_ok!(Pogo::submit_round(signed(MINER), 0, c, locator()));
        fix_challenge(id);
        let first = assigned(id);
        assert_eq!(first.len(), 4);
        // nobody commits: the reveal is empty and the tally undecided
        run_to_block(commit_until(id) + 1);
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        let s = Submissions::<Test>::get(id).unwrap();
        assert_eq!(s.level, 1);
        assert_eq!(s.assigned.len() as u32, max_assigned);
        assert!(matches!(s.phase, Phase::Committing(_)));
        let second = assigned(id);
        assert_eq!(second.len(), 4);
        assert!(second.iter().all(|v| !first.contains(v)), "a fresh set");
        assert!(pogo_events()
            .iter()
            .any(|e| matches!(e, Event::RoundEscalated { submission, verifiers: 4, .. } if *submission == id)));
        // level-0 verifiers are no longer assigned at the current level
        assert_noop!(
            Pogo::commit_verdict(signed(first[0]), id, commitment_of(id, first[0], &Verdict::Positive)),
            Error::<Test>::NotAssigned
        );
        commit(second[0], id, &Verdict::Positive);
        // every verifier of both levels has stake at risk until the round settles
        for v in first.iter().chain(&second) {
            assert_eq!(VerifierBonds::<Test>::get(v).unwrap().at_risk, 20);
        }
    });
}

#[test]
fn a_full_first_level_leaves_no_room_for_escalation() {
    test(|| {
        let mut p = params();
        (p.verifiers, p.escalation_verifiers) = (8, 0);
        assert_ok!(Pogo::create_task(signed(OWNER), spec(), p, initial_root(), dataset(), 20_000));
        bond_all();
        let (_b, c, _t) = first_round(0, None);
        let id = NextSubmissionId::<Test>::get();
        assert_ok!(Pogo::submit_round(signed(MINER), 0, c, locator()));
        fix_challenge(id);
        let mut who = assigned(id);
        who.sort();
        assert_eq!(who, VERIFIERS.to_vec(), "all eight registered verifiers are drawn");
        // 5 of 8 positive is below two thirds: undecided, and with no escalation level the round expires
        vote(id, &[P, P, P, P, P, None, None, None]);
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        assert!(Submissions::<Test>::get(id).is_none());
        assert!(pogo_events().contains(&Event::RoundExpired { submission: id, task: 0 }));
        // on expiry each revealing verifier is paid, nobody is slashed for its vote
        let paid = pogo_events()
            .iter()
            .filter(|e| matches!(e, Event::VerifierPaid { submission, .. } if *submission == id))
            .count();
        assert_eq!(paid, 5);
    });
}
