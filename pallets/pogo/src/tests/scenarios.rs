//! One test per lifecycle path, with real commitments, openings and fraud proofs from `pogo-primitives`.

use super::helpers::*;
use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, traits::fungible::Inspect};
use pogo_primitives::verdict::{NegativeReason, Verdict};
use polkadot_sdk::frame_support;

const P: Option<Verdict> = Some(Verdict::Positive);
const BAD: Option<Verdict> = Some(Verdict::Negative(NegativeReason::InconsistentUpdate));
const DA: Option<Verdict> = Some(Verdict::Negative(NegativeReason::DataUnavailable));

fn advance(id: SubmissionId) {
    assert_ok!(Pogo::advance(RuntimeOrigin::signed(REPORTER), id));
}

/// Votes, closes the reveal phase early (everyone revealed) or by waiting.
fn vote_and_tally(id: SubmissionId, verdicts: &[Option<Verdict>]) {
    vote(id, verdicts);
    if Pogo::do_advance(id).is_err() {
        let Phase::Revealing(until) = Submissions::<Test>::get(id).unwrap().phase else { panic!("not revealing") };
        run_to_block(until + 1);
        advance(id);
    }
}

fn accepted_until(id: SubmissionId) -> u64 {
    match Submissions::<Test>::get(id).unwrap().phase {
        Phase::Accepted(at) => at,
        other => panic!("not accepted: {other:?}"),
    }
}

#[test]
fn accepted_round_advances_the_root_and_pays_after_the_fraud_window() {
    test(|| {
        let (task, id, _b, c, _t) = submitted(None);
        fix_challenge(id);
        let verifiers = assigned(id);
        assert_eq!(verifiers.len(), 3);
        let before: Vec<u64> = verifiers.iter().map(Balances::free_balance).collect();
        vote_and_tally(id, &[P, P, P]);
        let t = Tasks::<Test>::get(task).unwrap();
        assert_eq!(t.state_root, c.final_root);
        assert_eq!((t.round, t.steps_done), (1, 6));
        for (v, b) in verifiers.iter().zip(before) {
            assert_eq!(Balances::free_balance(v), b + 50, "verifier {v} paid");
            assert_eq!(VerifierBonds::<Test>::get(v).unwrap().at_risk, 0);
        }
        // The miner is paid only when the fraud window closes.
        let miner_before = Balances::free_balance(MINER);
        let final_at = accepted_until(id);
        assert_noop!(Pogo::advance(RuntimeOrigin::signed(REPORTER), id), Error::<Test>::TooEarly);
        run_to_block(final_at);
        advance(id);
        assert_eq!(Balances::free_balance(MINER), miner_before + 1_000 + 5, "reward plus deposit back");
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().at_risk, 0);
        assert!(Submissions::<Test>::get(id).is_none());
        assert!(pogo_events().iter().any(|e| matches!(e, Event::RoundFinalized { reward: 1_000, .. })));
        assert_eq!(Tasks::<Test>::get(task).unwrap().escrow, 20_000 - 150 - 1_000);
    });
}

#[test]
fn rejected_by_votes_slashes_the_miner_and_the_losing_verifier() {
    test(|| {
        let (task, id, _b, _c, _t) = submitted(None);
        fix_challenge(id);
        let v = assigned(id);
        let treasury = Balances::free_balance(TREASURY);
        vote_and_tally(id, &[BAD, BAD, P]);
        assert!(Submissions::<Test>::get(id).is_none());
        assert_eq!(Tasks::<Test>::get(task).unwrap().state_root, initial_root());
        // full bond (provable reason), and 2% of the positive voter's 1,000 stake
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().held, 5_000 - 2_000);
        assert_eq!(VerifierBonds::<Test>::get(v[2]).unwrap().held, 1_000 - 20);
        assert_eq!(Balances::free_balance(TREASURY), treasury + 2_000 + 20);
        assert!(pogo_events().contains(&Event::RoundRejected { submission: id, task, slashed: 2_000 }));
    });
}

#[test]
fn data_unavailable_alone_costs_a_small_penalty() {
    test(|| {
        let (_task, id, _b, _c, _t) = submitted(None);
        fix_challenge(id);
        vote_and_tally(id, &[DA, P, P]);
        // one third negative rejects; only unavailability was claimed: 5% of the 2,000 bond
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().held, 5_000 - 100);
    });
}

#[test]
fn fraud_proof_from_a_tampered_leaf_rejects_a_pending_round() {
    test(|| {
        // parameter 300 (leaf 1) altered after step 4: segment 1 (steps 3..6)
        let (task, id, b, c, trace) = submitted(Some((4, 300)));
        let proof = b.fraud_proof(&trace, 1, 1).unwrap();
        let reporter = Balances::free_balance(REPORTER);
        // an honest leaf of the same round is not fraud
        let honest = b.fraud_proof(&trace, 0, 1).unwrap();
        assert_noop!(
            Pogo::report_fraud(RuntimeOrigin::signed(REPORTER), id, Box::new(honest)),
            Error::<Test>::InvalidFraudProof
        );
        assert_ok!(Pogo::report_fraud(RuntimeOrigin::signed(REPORTER), id, Box::new(proof)));
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().held, 3_000);
        // 10% of 2,000, capped at 50
        assert_eq!(Balances::free_balance(REPORTER), reporter + 50);
        assert!(Submissions::<Test>::get(id).is_none());
        assert_eq!(Tasks::<Test>::get(task).unwrap().state_root, c.base_root);
        assert!(pogo_events().iter().any(|e| matches!(
            e,
            Event::FraudProven { fraud: pogo_primitives::fraud::Fraud::ReplayMismatch, slashed: 2_000, .. }
        )));
    });
}

#[test]
fn fraud_inside_the_window_overturns_and_voids_rounds_built_on_it() {
    test(|| {
        let (task, id, b, c, trace) = submitted(Some((1, 10)));
        fix_challenge(id);
        vote_and_tally(id, &[P, P, P]);
        assert_eq!(Tasks::<Test>::get(task).unwrap().state_root, c.final_root);
        // another miner builds on the provisional root
        let (w, s) = (b.weights().to_vec(), b.slots().to_vec());
        let (_b2, c2, _t2) = build_round(w, s, 7, 1, None);
        assert_eq!(c2.base_root, c.final_root);
        let id2 = NextSubmissionId::<Test>::get();
        assert_ok!(Pogo::submit_round(RuntimeOrigin::signed(MINER2), task, c2, locator()));
        // fraud in segment 0, leaf 0
        assert_ok!(Pogo::report_fraud(RuntimeOrigin::signed(REPORTER), id, Box::new(b.fraud_proof(&trace, 0, 0).unwrap())));
        let t = Tasks::<Test>::get(task).unwrap();
        assert_eq!((t.state_root, t.round, t.steps_done), (initial_root(), 0, 0));
        assert!(Submissions::<Test>::get(id2).is_none());
        assert_eq!(MinerBonds::<Test>::get(MINER2).unwrap().at_risk, 0, "voided miner keeps its bond");
        assert_eq!(Pogo::held(HoldReason::SubmissionDeposit, &MINER2), 0);
        assert!(pogo_events().contains(&Event::RoundVoided { submission: id2, task }));
        assert!(pogo_events().contains(&Event::StateRootReverted { task, state_root: initial_root() }));
    });
}

#[test]
fn fraud_after_the_window_is_refused() {
    test(|| {
        let (_task, id, b, _c, trace) = submitted(Some((1, 10)));
        fix_challenge(id);
        vote_and_tally(id, &[P, P, P]);
        run_to_block(accepted_until(id));
        assert_noop!(
            Pogo::report_fraud(RuntimeOrigin::signed(REPORTER), id, Box::new(b.fraud_proof(&trace, 0, 0).unwrap())),
            Error::<Test>::FraudWindowClosed
        );
        advance(id);
        assert!(Submissions::<Test>::get(id).is_none());
    });
}

#[test]
fn undecided_round_escalates_then_accepts() {
    test(|| {
        let (task, id, _b, c, _t) = submitted(None);
        fix_challenge(id);
        let first = assigned(id);
        // one positive, two silent: 1/3 positive, nothing negative
        vote_and_tally(id, &[P, None, None]);
        let s = Submissions::<Test>::get(id).unwrap();
        assert_eq!(s.level, 1);
        assert_eq!(s.assigned.len(), 6);
        let second = assigned(id);
        assert!(second.iter().all(|v| !first.contains(v)), "escalation draws fresh verifiers");
        vote_and_tally(id, &[P, P, P]);
        // 4 of 6 positive = 2/3 of assigned stake
        assert_eq!(Tasks::<Test>::get(task).unwrap().state_root, c.final_root);
    });
}

#[test]
fn undecided_twice_expires_and_releases_the_miner() {
    test(|| {
        let (task, id, _b, _c, _t) = submitted(None);
        fix_challenge(id);
        vote_and_tally(id, &[P, None, None]);
        vote_and_tally(id, &[None, None, None]);
        assert!(Submissions::<Test>::get(id).is_none());
        assert!(pogo_events().contains(&Event::RoundExpired { submission: id, task }));
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap(), BondLedger { held: 5_000, at_risk: 0, unbonding: None });
        assert_eq!(Tasks::<Test>::get(task).unwrap().committed, 0);
    });
}

#[test]
fn committing_without_revealing_is_slashed() {
    test(|| {
        let (_task, id, _b, _c, _t) = submitted(None);
        fix_challenge(id);
        let v = assigned(id);
        for w in &v {
            assert_ok!(Pogo::commit_verdict(RuntimeOrigin::signed(*w), id, commitment_of(id, *w, &Verdict::Positive)));
        }
        advance(id); // all committed: reveal opens at once
        for w in &v[..2] {
            assert_ok!(Pogo::reveal_verdict(RuntimeOrigin::signed(*w), id, Verdict::Positive, salt(*w)));
        }
        assert_noop!(Pogo::advance(RuntimeOrigin::signed(REPORTER), id), Error::<Test>::TooEarly);
        let Phase::Revealing(until) = Submissions::<Test>::get(id).unwrap().phase else { panic!() };
        run_to_block(until + 1);
        advance(id);
        // 2 of 3 positive accepts; the silent one loses 1%
        assert!(matches!(Submissions::<Test>::get(id).unwrap().phase, Phase::Accepted(_)));
        assert_eq!(VerifierBonds::<Test>::get(v[2]).unwrap().held, 990);
    });
}

#[test]
fn a_named_bad_gradient_is_rechecked_by_the_escalation_set() {
    test(|| {
        // five verifiers: one dissenter is below the 1/3 rejection threshold
        let mut p = params();
        p.verifiers = 5;
        assert_ok!(Pogo::create_task(RuntimeOrigin::signed(OWNER), spec(), p, initial_root(), dataset(), 20_000));
        bond_all();
        let (_b, c, _t) = first_round(0, None);
        assert_ok!(Pogo::submit_round(RuntimeOrigin::signed(MINER), 0, c.clone(), locator()));
        fix_challenge(0);
        let v = assigned(0);
        let bad_step = Some(Verdict::Negative(NegativeReason::BadGradient { step: 4 }));
        // 4/5 positive would accept, but a verifier names a bad step: escalate instead
        vote_and_tally(0, &[P, P, P, P, bad_step]);
        let s = Submissions::<Test>::get(0).unwrap();
        assert_eq!((s.level, s.disputed_steps.to_vec()), (1, vec![4]));
        assert!(pogo_events().iter().any(|e| matches!(e, Event::RoundEscalated { disputed_steps: 1, .. })));
        // the escalation set finds the step fine: accepted, and the level-0 dissenter loses 2%
        vote_and_tally(0, &[P, P, P]);
        assert_eq!(Tasks::<Test>::get(0).unwrap().state_root, c.final_root);
        assert_eq!(VerifierBonds::<Test>::get(v[4]).unwrap().held, 980);
    });
}

#[test]
fn other_rounds_on_the_old_base_become_stale() {
    test(|| {
        let (task, id, _b, _c, _t) = submitted(None);
        let (_b2, c2, _t2) = first_round(3, None);
        let id2 = NextSubmissionId::<Test>::get();
        assert_ok!(Pogo::submit_round(RuntimeOrigin::signed(MINER2), task, c2, locator()));
        fix_challenge(id);
        vote_and_tally(id, &[P, P, P]);
        assert!(Submissions::<Test>::get(id2).is_none());
        assert!(pogo_events().contains(&Event::RoundStale { submission: id2, task }));
        assert_eq!(MinerBonds::<Test>::get(MINER2).unwrap().at_risk, 0);
    });
}

#[test]
fn a_bond_at_risk_cannot_be_unbonded_until_the_round_settles() {
    test(|| {
        let (_task, id, _b, _c, _t) = submitted(None);
        assert_noop!(
            Pogo::unbond(RuntimeOrigin::signed(MINER), Role::Miner, 3_001),
            Error::<Test>::InsufficientFreeBond
        );
        assert_ok!(Pogo::unbond(RuntimeOrigin::signed(MINER), Role::Miner, 3_000));
        fix_challenge(id);
        vote_and_tally(id, &[BAD, BAD, BAD]);
        // the slash took the 2,000 at risk; the unbonding 3,000 is intact and withdrawable later
        let l = MinerBonds::<Test>::get(MINER).unwrap();
        assert_eq!((l.held, l.at_risk), (3_000, 0));
        run_to_block(l.unbonding.unwrap().1);
        assert_ok!(Pogo::withdraw_unbonded(RuntimeOrigin::signed(MINER), Role::Miner));
        assert!(MinerBonds::<Test>::get(MINER).is_none());
        assert_eq!(Balances::balance(&MINER), 10_000 - 2_000);
    });
}

#[test]
fn a_task_that_runs_out_of_funds_refuses_rounds_until_topped_up() {
    test(|| {
        // escrow for exactly one round: reward 1,000 + 6 verifiers x 50
        assert_ok!(Pogo::create_task(RuntimeOrigin::signed(OWNER), spec(), params(), initial_root(), dataset(), 1_300));
        bond_all();
        let (b, c, _t) = first_round(0, None);
        assert_ok!(Pogo::submit_round(RuntimeOrigin::signed(MINER), 0, c.clone(), locator()));
        let (_b2, c2, _t2) = first_round(1, None);
        assert_noop!(
            Pogo::submit_round(RuntimeOrigin::signed(MINER2), 0, c2, locator()),
            Error::<Test>::TaskUnderfunded
        );
        fix_challenge(0);
        vote_and_tally(0, &[P, P, P]);
        run_to_block(accepted_until(0));
        advance(0);
        // 1,000 reward and 150 verifier pay spent; 150 left, not enough for another round
        assert_eq!(Tasks::<Test>::get(0).unwrap().escrow, 150);
        let (_b3, c3, _t3) = build_round(b.weights().to_vec(), b.slots().to_vec(), 7, 2, None);
        assert_noop!(
            Pogo::submit_round(RuntimeOrigin::signed(MINER), 0, c3.clone(), locator()),
            Error::<Test>::TaskUnderfunded
        );
        assert_ok!(Pogo::top_up(RuntimeOrigin::signed(OWNER), 0, 1_150));
        assert_ok!(Pogo::submit_round(RuntimeOrigin::signed(MINER), 0, c3, locator()));
    });
}

#[test]
fn underfunded_task_is_refused_and_top_up_fixes_it() {
    test(|| {
        let mut p = params();
        p.reward = 19_000;
        assert_ok!(Pogo::create_task(RuntimeOrigin::signed(OWNER), spec(), p, initial_root(), dataset(), 19_000));
        bond_all();
        let (_b, c, _t) = first_round(0, None);
        assert_noop!(
            Pogo::submit_round(RuntimeOrigin::signed(MINER), 0, c.clone(), locator()),
            Error::<Test>::TaskUnderfunded
        );
        assert_ok!(Pogo::top_up(RuntimeOrigin::signed(OWNER), 0, 300));
        assert_ok!(Pogo::submit_round(RuntimeOrigin::signed(MINER), 0, c, locator()));
    });
}

#[test]
fn challenge_uses_the_randomness_of_its_target_epoch_whenever_advance_is_called() {
    let run = |late: bool| {
        let mut challenge = None;
        test(|| {
            let (_task, id, _b, _c, _t) = submitted(None);
            assert_noop!(Pogo::advance(RuntimeOrigin::signed(REPORTER), id), Error::<Test>::ChallengeNotReady);
            MockRelay::advance_epochs(2);
            run_to_block(2);
            if late {
                // later epochs bring other randomness; the challenge must not change
                MockRelay::advance_epochs(1);
                run_to_block(3);
            }
            advance(id);
            challenge = Submissions::<Test>::get(id).unwrap().challenge;
        });
        challenge
    };
    assert!(run(false).is_some());
    assert_eq!(run(false), run(true));
}

#[test]
fn balances_are_conserved_over_a_rejected_round() {
    test(|| {
        let total = |who: &[AccountId]| who.iter().map(Balances::total_balance).sum::<u64>();
        let mut everyone = vec![OWNER, MINER, MINER2, REPORTER, TREASURY];
        everyone.extend(VERIFIERS);
        let (_task, id, _b, _c, _t) = submitted(None);
        let before = total(&everyone);
        fix_challenge(id);
        vote_and_tally(id, &[BAD, BAD, P]);
        assert_eq!(total(&everyone), before, "slashes move funds to the treasury, nothing is lost");
    });
}

#[test]
fn a_round_nobody_advanced_until_its_randomness_was_pruned_expires() {
    test(|| {
        let (task, id, _b, _c, _t) = submitted(None);
        // relay epoch 10 at submission: target 12; retention 8 keeps (last - 8, last]
        for block in 2..=12u64 {
            MockRelay::advance_epochs(1);
            run_to_block(block);
        }
        // last = 21: kept epochs are 14..=21, so the target epoch 12 is gone
        assert_eq!(LastRecordedEpoch::<Test>::get(), Some(21));
        assert!(EpochRandomness::<Test>::get(12).is_none());
        advance(id);
        assert!(Submissions::<Test>::get(id).is_none());
        assert!(pogo_events().contains(&Event::RoundExpired { submission: id, task }));
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().at_risk, 0);
    });
}

#[test]
fn a_halted_chain_uses_the_first_epoch_it_saw_after_the_target() {
    test(|| {
        let (_task, id, _b, _c, _t) = submitted(None);
        // the parachain saw no block in epochs 11..=12: the first recorded after 12 is 13
        MockRelay::set(Some((13, [42; 32])));
        run_to_block(2);
        advance(id);
        let expected = pogo_primitives::seed::challenge_seed(&[42; 32], id);
        assert_eq!(Submissions::<Test>::get(id).unwrap().challenge, Some(expected));
    });
}
