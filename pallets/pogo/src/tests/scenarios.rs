//! One test per lifecycle path, with real commitments, openings and fraud proofs from `pogo-primitives`.

use super::helpers::*;
use crate::{mock::*, weights::WeightInfo, *};
use frame_support::{
    assert_noop, assert_ok,
    dispatch::Pays,
    traits::{fungible::Inspect, Hooks},
    weights::Weight,
};
use pogo_primitives::{
    fraud::Fraud,
    verdict::{NegativeReason, Verdict},
};
use polkadot_sdk::frame_support;

const P: Option<Verdict> = Some(Verdict::Positive);
const BAD: Option<Verdict> = Some(Verdict::Negative(NegativeReason::InconsistentUpdate));
const DA: Option<Verdict> = Some(Verdict::Negative(NegativeReason::DataUnavailable));

fn advance(id: SubmissionId) {
    assert_ok!(Pogo::advance(RuntimeOrigin::signed(REPORTER), id));
}

fn held(v: AccountId) -> (u64, u64) {
    let l = VerifierBonds::<Test>::get(v).unwrap();
    (l.held, l.at_risk)
}

fn sorted(mut v: Vec<AccountId>) -> Vec<AccountId> {
    v.sort();
    v
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
        let submitted_at = Submissions::<Test>::get(id).unwrap().submitted_at;
        assert_eq!((t.round, t.steps_done, t.root_set_at), (1, 6, submitted_at), "public since its submission");
        // Nobody is paid at acceptance: the verifiers stay at risk through the fraud window.
        for (v, b) in verifiers.iter().zip(&before) {
            assert_eq!(Balances::free_balance(v), *b);
            assert_eq!(held(*v), (1_000, 30));
        }
        assert!(paid_verifiers(id).is_empty());
        // The miner and the verifiers are paid when the fraud window closes.
        let miner_before = Balances::free_balance(MINER);
        let final_at = accepted_until(id);
        assert_noop!(Pogo::advance(RuntimeOrigin::signed(REPORTER), id), Error::<Test>::TooEarly);
        run_to_block(final_at);
        advance(id);
        for (v, b) in verifiers.iter().zip(&before) {
            assert_eq!(Balances::free_balance(v), b + 50, "verifier {v} paid");
            assert_eq!(held(*v), (1_000, 0));
        }
        assert_eq!(paid_verifiers(id), verifiers);
        assert_eq!(Balances::free_balance(MINER), miner_before + 1_000 + 5, "reward plus deposit back");
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().at_risk, 0);
        assert!(Submissions::<Test>::get(id).is_none());
        assert!(pogo_events().iter().any(|e| matches!(e, Event::RoundFinalized { reward: 1_000, .. })));
        let t = Tasks::<Test>::get(task).unwrap();
        assert_eq!((t.escrow, t.committed), (20_000 - 150 - 1_000, 0));
    });
}

#[test]
fn level_zero_only_escalates_and_level_one_rejects_slashing_the_miner_and_the_losing_verifiers() {
    test(|| {
        let (task, id, _b, _c, _t) = submitted(None);
        fix_challenge(id);
        let first = assigned(id);
        let treasury = Balances::free_balance(TREASURY);
        vote_and_tally(id, &[BAD, BAD, P]);
        // level 0 cannot reject: negative verdicts escalate, and nobody is slashed yet
        let s = Submissions::<Test>::get(id).unwrap();
        assert_eq!((s.level, s.phase), (1, Phase::AwaitingChallenge));
        assert!(pogo_events().contains(&Event::RoundEscalated { submission: id, epoch: 12, disputed_steps: 0 }));
        assert!(!pogo_events().iter().any(|e| matches!(e, Event::RoundRejected { .. })));
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().held, 5_000);
        assert_eq!(Balances::free_balance(TREASURY), treasury);

        fix_challenge(id);
        let second = assigned(id);
        vote_and_tally(id, &[BAD, BAD, BAD, P]);
        assert!(Submissions::<Test>::get(id).is_none());
        assert_eq!(Tasks::<Test>::get(task).unwrap().state_root, initial_root());
        // the full bond (three quarters of level 1 name a provable reason), and 2% of the 1,000 stake of
        // each positive voter, at either level
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().held, 5_000 - 2_000);
        assert_eq!(held(first[2]), (980, 0));
        assert_eq!(held(second[3]), (980, 0));
        assert_eq!(Balances::free_balance(TREASURY), treasury + 2_000 + 20 + 20);
        assert!(pogo_events().contains(&Event::RoundRejected { submission: id, task, slashed: 2_000 }));
        // the negative voters of both levels are paid
        assert_eq!(sorted(paid_verifiers(id)), sorted(vec![first[0], first[1], second[0], second[1], second[2]]));
    });
}

#[test]
fn data_unavailable_alone_costs_a_small_penalty() {
    test(|| {
        let (task, id, _b, _c, _t) = submitted(None);
        fix_challenge(id);
        // a single negative verdict at level 0 escalates
        vote_and_tally(id, &[DA, P, P]);
        assert_eq!(Submissions::<Test>::get(id).unwrap().level, 1);
        fix_challenge(id);
        // three quarters of level 1 reject, but only a quarter names a provable reason: 5% of the 2,000 bond
        vote_and_tally(id, &[DA, DA, BAD, P]);
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().held, 5_000 - 100);
        assert!(pogo_events().contains(&Event::RoundRejected { submission: id, task, slashed: 100 }));
    });
}

#[test]
fn fraud_proof_from_a_tampered_leaf_overturns_a_pending_round_without_paying_the_reporter() {
    test(|| {
        // parameter 300 (leaf 1) altered after step 4: segment 1 (steps 3..6)
        let (task, id, b, c, trace) = submitted(Some((4, 300)));
        fix_challenge(id);
        let verifiers = assigned(id);
        let proof = b.fraud_proof(&trace, 1, 1).unwrap();
        let reporter = Balances::free_balance(REPORTER);
        let treasury = Balances::free_balance(TREASURY);
        // an honest leaf of the same round is not fraud
        let honest = b.fraud_proof(&trace, 0, 1).unwrap();
        assert_noop!(
            Pogo::report_fraud(RuntimeOrigin::signed(REPORTER), id, Box::new(honest)),
            Error::<Test>::FraudProofShowsNoFraud
        );
        let info = Pogo::report_fraud(RuntimeOrigin::signed(REPORTER), id, Box::new(proof)).expect("fraud shown");
        assert_eq!(info.pays_fee, Pays::No);
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().held, 3_000);
        // the whole bond goes to the treasury, nothing to the reporter
        assert_eq!(Balances::free_balance(REPORTER), reporter);
        assert_eq!(Balances::free_balance(TREASURY), treasury + 2_000);
        assert!(Submissions::<Test>::get(id).is_none());
        assert_eq!(Tasks::<Test>::get(task).unwrap().state_root, c.base_root);
        assert!(pogo_events().contains(&Event::FraudProven {
            submission: id,
            reporter: REPORTER,
            fraud: Fraud::ReplayMismatch,
            slashed: 2_000
        }));
        // the round was not decided: its verifiers are released without pay or slash
        for v in verifiers {
            assert_eq!(held(v), (1_000, 0));
        }
        assert!(paid_verifiers(id).is_empty());
    });
}

#[test]
fn fraud_inside_the_window_overturns_and_voids_rounds_built_on_it() {
    test(|| {
        let (task, id, b, c, trace) = submitted(Some((1, 10)));
        fix_challenge(id);
        let verifiers = assigned(id);
        vote_and_tally(id, &[P, P, P]);
        assert_eq!(Tasks::<Test>::get(task).unwrap().state_root, c.final_root);
        // another miner builds on the provisional root (bonded before it was set)
        let (w, s) = (b.weights().to_vec(), b.slots().to_vec());
        let (_b2, c2, _t2) = build_round(w, s, 7, 1, None);
        assert_eq!(c2.base_root, c.final_root);
        let id2 = NextSubmissionId::<Test>::get();
        assert_ok!(Pogo::submit_round(RuntimeOrigin::signed(MINER2), task, c2, locator()));
        run_to_block(System::block_number() + 1);
        let treasury = Balances::free_balance(TREASURY);
        // fraud in segment 0, leaf 0
        assert_ok!(Pogo::report_fraud(RuntimeOrigin::signed(REPORTER), id, Box::new(b.fraud_proof(&trace, 0, 0).unwrap())));
        let t = Tasks::<Test>::get(task).unwrap();
        assert_eq!((t.state_root, t.round, t.steps_done), (initial_root(), 0, 0));
        assert_eq!(t.root_set_at, 2, "the reverted root is public since the task's creation");
        // the round built on the overturned root is stale: removed when next advanced
        assert!(Submissions::<Test>::get(id2).is_some());
        assert_ok!(Pogo::advance(RuntimeOrigin::signed(REPORTER), id2));
        assert!(Submissions::<Test>::get(id2).is_none());
        assert_eq!(MinerBonds::<Test>::get(MINER2).unwrap().at_risk, 0, "voided miner keeps its bond");
        assert_eq!(Pogo::held(HoldReason::SubmissionDeposit, &MINER2), 0);
        assert!(pogo_events().contains(&Event::RoundStale { submission: id2, task }));
        assert!(pogo_events().contains(&Event::StateRootReverted { task, state_root: initial_root() }));
        // the accepted round was wrong: its positive voters lose 2% each, to the treasury with the bond
        for v in verifiers {
            assert_eq!(held(v), (980, 0));
        }
        assert_eq!(Balances::free_balance(TREASURY), treasury + 2_000 + 3 * 20);
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
fn undecided_round_escalates_then_accepts_and_settles_both_levels_when_final() {
    test(|| {
        let (task, id, _b, c, _t) = submitted(None);
        fix_challenge(id);
        let first = assigned(id);
        // one positive, two silent: 1/3 positive, nothing negative
        vote_and_tally(id, &[P, None, None]);
        let s = Submissions::<Test>::get(id).unwrap();
        assert_eq!((s.level, s.phase, s.assigned.len()), (1, Phase::AwaitingChallenge, 3));
        fix_challenge(id);
        assert_eq!(Submissions::<Test>::get(id).unwrap().assigned.len(), 7);
        let second = assigned(id);
        assert!(second.iter().all(|v| !first.contains(v)), "escalation draws fresh verifiers");
        // level 1 decides on its own stake: 3 of 4 positive is two thirds
        vote_and_tally(id, &[P, P, P, None]);
        assert_eq!(Tasks::<Test>::get(task).unwrap().state_root, c.final_root);
        finalize_round(id);
        // every verifier of both levels is settled once: the silent lose 3%, the positive are paid
        let silent = [first[1], first[2], second[3]];
        for v in first.iter().chain(&second) {
            let expected = if silent.contains(v) { 970 } else { 1_000 };
            assert_eq!(held(*v), (expected, 0), "verifier {v}");
        }
        assert_eq!(sorted(paid_verifiers(id)), sorted(vec![first[0], second[0], second[1], second[2]]));
        let t = Tasks::<Test>::get(task).unwrap();
        assert_eq!((t.escrow, t.committed), (20_000 - 4 * 50 - 1_000, 0));
    });
}

#[test]
fn undecided_twice_expires_releases_the_miner_and_pays_nobody() {
    test(|| {
        let (task, id, _b, _c, _t) = submitted(None);
        fix_challenge(id);
        let first = assigned(id);
        vote_and_tally(id, &[P, None, None]);
        fix_challenge(id);
        let second = assigned(id);
        vote_and_tally(id, &[None, None, None, None]);
        assert!(Submissions::<Test>::get(id).is_none());
        assert!(pogo_events().contains(&Event::RoundExpired { submission: id, task }));
        assert_eq!(
            MinerBonds::<Test>::get(MINER).unwrap(),
            BondLedger { held: 5_000, at_risk: 0, unbonding: None, bonded_at: 1 }
        );
        let t = Tasks::<Test>::get(task).unwrap();
        assert_eq!((t.committed, t.escrow), (0, 20_000));
        // the one verifier that revealed is released without pay; the silent ones lose 3%
        assert!(paid_verifiers(id).is_empty());
        assert_eq!(held(first[0]), (1_000, 0));
        for v in first[1..].iter().chain(&second) {
            assert_eq!(held(*v), (970, 0), "verifier {v}");
        }
    });
}

#[test]
fn committing_without_revealing_is_slashed_when_the_round_is_final() {
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
        // 2 of 3 positive accepts; the silent one is settled with everyone at the end of the fraud window
        assert!(matches!(Submissions::<Test>::get(id).unwrap().phase, Phase::Accepted(_)));
        assert_eq!(held(v[2]), (1_000, 30));
        finalize_round(id);
        // NonRevealSlash: 3% of 1,000
        assert_eq!(held(v[2]), (970, 0));
        assert!(pogo_events().contains(&Event::Slashed { who: v[2], role: Role::Verifier, amount: 30 }));
        assert_eq!(sorted(paid_verifiers(id)), sorted(v[..2].to_vec()));
    });
}

#[test]
fn a_named_bad_gradient_is_rechecked_by_the_escalation_set() {
    test(|| {
        let (task, id, _b, c, _t) = submitted(None);
        fix_challenge(id);
        let v = assigned(id);
        let bad_step = Some(Verdict::Negative(NegativeReason::BadGradient { step: 4 }));
        // two thirds positive would accept, but a verifier names a bad step: escalate instead
        vote_and_tally(id, &[P, P, bad_step]);
        let s = Submissions::<Test>::get(id).unwrap();
        assert_eq!((s.level, s.disputed_steps.to_vec()), (1, vec![4]));
        assert!(pogo_events().iter().any(|e| matches!(e, Event::RoundEscalated { disputed_steps: 1, .. })));
        fix_challenge(id);
        let second = assigned(id);
        assert_eq!(Pogo::api_verifier_duty(id, second[0]).unwrap().disputed_steps, vec![4]);
        // the escalation set finds the step fine: accepted, and once final the level-0 dissenter loses 2%
        vote_and_tally(id, &[P, P, P, P]);
        assert_eq!(Tasks::<Test>::get(task).unwrap().state_root, c.final_root);
        assert_eq!(held(v[2]), (1_000, 30), "not before the fraud window closes");
        finalize_round(id);
        assert_eq!(held(v[2]), (980, 0));
        assert!(!paid_verifiers(id).contains(&v[2]));
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
        // stale from now on; removed (bond released) by its own advance, whoever calls it
        assert!(Pogo::is_due(id2, &Submissions::<Test>::get(id2).unwrap()));
        assert_ok!(Pogo::advance(RuntimeOrigin::signed(REPORTER), id2));
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
        fix_challenge(id);
        vote_and_tally(id, &[BAD, BAD, BAD, BAD]);
        // rejected at level 1: the slash took the 2,000 at risk; the unbonding 3,000 is intact and
        // withdrawable later
        let l = MinerBonds::<Test>::get(MINER).unwrap();
        assert_eq!((l.held, l.at_risk), (3_000, 0));
        run_to_block(l.unbonding.unwrap().unlocks_at);
        assert_ok!(Pogo::withdraw_unbonded(RuntimeOrigin::signed(MINER), Role::Miner));
        assert!(MinerBonds::<Test>::get(MINER).is_none());
        assert_eq!(Balances::balance(&MINER), 10_000 - 2_000);
    });
}

#[test]
fn a_task_that_runs_out_of_funds_refuses_rounds_until_topped_up() {
    test(|| {
        // escrow for exactly one round: reward 1,000 + 7 verifiers x 50
        bond_all();
        next_block();
        assert_ok!(Pogo::create_task(RuntimeOrigin::signed(OWNER), spec(), model(), params(), initial_root(), dataset(), 1_350));
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
        // 1,000 reward and 150 verifier pay spent; 200 left, not enough for another round
        assert_eq!(Tasks::<Test>::get(0).unwrap().escrow, 200);
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
        bond_all();
        next_block();
        assert_ok!(Pogo::create_task(RuntimeOrigin::signed(OWNER), spec(), model(), p, initial_root(), dataset(), 19_000));
        let (_b, c, _t) = first_round(0, None);
        // a round costs 19,000 + 7 x 50
        assert_noop!(
            Pogo::submit_round(RuntimeOrigin::signed(MINER), 0, c.clone(), locator()),
            Error::<Test>::TaskUnderfunded
        );
        assert_ok!(Pogo::top_up(RuntimeOrigin::signed(OWNER), 0, 349));
        assert_noop!(
            Pogo::submit_round(RuntimeOrigin::signed(MINER), 0, c.clone(), locator()),
            Error::<Test>::TaskUnderfunded
        );
        assert_ok!(Pogo::top_up(RuntimeOrigin::signed(OWNER), 0, 1));
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
            next_block();
            if late {
                // later epochs bring other randomness; the challenge must not change
                MockRelay::advance_epochs(1);
                next_block();
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
        fix_challenge(id);
        vote_and_tally(id, &[BAD, BAD, BAD, P]);
        assert!(pogo_events().iter().any(|e| matches!(e, Event::RoundRejected { .. })));
        assert_eq!(total(&everyone), before, "slashes move funds to the treasury, nothing is lost");
    });
}

#[test]
fn a_round_nobody_advanced_until_its_randomness_was_pruned_expires() {
    test(|| {
        let (task, id, _b, _c, _t) = submitted(None);
        // relay epoch 10 at submission: target 12; retention 8 keeps (last - 8, last]
        for _ in 0..11 {
            MockRelay::advance_epochs(1);
            next_block();
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
fn an_escalated_round_nobody_advanced_until_its_randomness_was_pruned_expires() {
    test(|| {
        let (task, id, _b, _c, _t) = submitted(None);
        fix_challenge(id);
        let first = assigned(id);
        // escalated in relay epoch 12: the level-1 challenge needs epoch 14
        vote_and_tally(id, &[P, None, None]);
        for _ in 0..11 {
            MockRelay::advance_epochs(1);
            next_block();
        }
        // last = 23: kept epochs are 16..=23
        assert_eq!(LastRecordedEpoch::<Test>::get(), Some(23));
        advance(id);
        assert!(pogo_events().contains(&Event::RoundExpired { submission: id, task }));
        // the level-0 verifiers are settled as on any expiry
        assert!(paid_verifiers(id).is_empty());
        assert_eq!(held(first[0]), (1_000, 0));
        assert_eq!(held(first[1]), (970, 0));
        assert_eq!(held(first[2]), (970, 0));
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().at_risk, 0);
    });
}

#[test]
fn a_halted_chain_uses_the_first_epoch_it_saw_after_the_target() {
    test(|| {
        let (_task, id, _b, _c, _t) = submitted(None);
        // the parachain saw no block in epochs 11..=12: the first recorded after 12 is 13
        MockRelay::set(Some((13, [42; 32])));
        next_block();
        advance(id);
        let expected = pogo_primitives::seed::challenge_seed(&[42; 32], id);
        assert_eq!(Submissions::<Test>::get(id).unwrap().challenge, Some(expected));
    });
}

#[test]
fn on_idle_advances_due_submissions_within_the_spare_weight() {
    test(|| {
        let (_task, id, _b, _c, _t) = submitted(None);
        let phase = || Submissions::<Test>::get(id).unwrap().phase;
        // not due: the randomness of its target epoch does not exist yet
        let _ = <Pogo as Hooks<u64>>::on_idle(System::block_number(), Weight::MAX);
        assert_eq!(phase(), Phase::AwaitingChallenge);
        MockRelay::advance_epochs(2);
        next_block();
        let now = System::block_number();
        // due, but the spare weight does not cover a scan and `advance`'s worst case: nothing is done
        assert_eq!(<Pogo as Hooks<u64>>::on_idle(now, Pogo::advance_worst_case_weight()), Weight::zero());
        assert_eq!(phase(), Phase::AwaitingChallenge);
        // with room, the challenge is fixed without anyone calling `advance`
        let used = <Pogo as Hooks<u64>>::on_idle(now, Weight::MAX);
        assert!(matches!(phase(), Phase::Committing(_)));
        let snapshot = u32::try_from(Snapshots::<Test>::get(id).unwrap().len()).unwrap();
        assert!(used.all_gte(<<Test as Config>::WeightInfo as WeightInfo>::advance_challenge(snapshot)));
        // `advance` now finds nothing to do before the commit window closes
        assert_noop!(Pogo::advance(RuntimeOrigin::signed(REPORTER), id), Error::<Test>::TooEarly);
    });
}
