//! Submitting rounds: deposit, miner stake at risk, committed task escrow, the verifier stake snapshot,
//! several rounds on one base, stale rounds once another is accepted, and what a proven fraud voids.

use super::helpers::*;
use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, BoundedVec};
use pogo_primitives::{builder::RoundBuilder, verdict::Verdict, MerkleTree, RoundCommitment};
use polkadot_sdk::frame_support;

const P: Option<Verdict> = Some(Verdict::Positive);

fn signed(who: AccountId) -> RuntimeOrigin {
    RuntimeOrigin::signed(who)
}

fn submit(miner: AccountId, task: TaskId, c: &RoundCommitment) -> SubmissionId {
    let id = NextSubmissionId::<Test>::get();
    assert_ok!(Pogo::submit_round(signed(miner), task, c.clone(), locator()));
    id
}

/// Bonds everyone in this block and moves to the next one, where tasks may then be created.
fn bond_then_next_block() {
    bond_all();
    next_block();
}

/// Fixes the challenge (when needed), has every assigned verifier vote positive and tallies.
fn accept(id: SubmissionId) -> u64 {
    if Submissions::<Test>::get(id).unwrap().phase == Phase::AwaitingChallenge {
        fix_challenge(id);
    }
    vote(id, &[P, P, P]);
    assert_ok!(Pogo::advance(signed(REPORTER), id));
    match Submissions::<Test>::get(id).unwrap().phase {
        Phase::Accepted(at) => at,
        other => unreachable!("not accepted: {other:?}"),
    }
}

/// The round after `prev` (global steps 7..=12), from `prev`'s final state.
fn next_round(
    prev: &RoundBuilder,
    seed: usize,
    tamper: Option<(usize, usize)>,
) -> (RoundBuilder, RoundCommitment, MerkleTree) {
    build_round(prev.weights().to_vec(), prev.slots().to_vec(), 7, seed, tamper)
}

#[test]
fn submit_round_holds_the_deposit_puts_the_bond_at_risk_and_commits_escrow() {
    test(|| {
        bond_then_next_block();
        let task = create_task();
        MockRelay::advance_epochs(3);
        run_to_block(4);
        let (_b, c, _t) = first_round(0, None);
        let free = Balances::free_balance(MINER);
        let id = submit(MINER, task, &c);
        assert_eq!(NextSubmissionId::<Test>::get(), id + 1);
        // storage deposit
        assert_eq!(Pogo::held(HoldReason::SubmissionDeposit, &MINER), 5);
        assert_eq!(Balances::free_balance(MINER), free - 5);
        // miner_bond at risk, nothing moved
        assert_eq!(
            MinerBonds::<Test>::get(MINER).unwrap(),
            BondLedger { held: 5_000, at_risk: 2_000, unbonding: None, bonded_at: 1 }
        );
        assert_eq!(Pogo::held(HoldReason::MinerBond, &MINER), 5_000);
        // reward + verifier_pay · (verifiers + escalation_verifiers) = 1,000 + 50 · 7
        let t = Tasks::<Test>::get(task).unwrap();
        assert_eq!((t.escrow, t.committed, t.pending, t.root_set_at), (20_000, 1_350, 1, 2));
        assert_eq!(Pogo::held(HoldReason::TaskEscrow, &OWNER), 20_000);
        assert_eq!(PendingByTask::<Test>::get(task).into_inner(), vec![id]);
        let s = Submissions::<Test>::get(id).unwrap();
        assert_eq!((s.task, s.miner, s.round, s.level), (task, MINER, 0, 0));
        assert_eq!((s.bond, s.deposit, s.escrow), (2_000, 5, 1_350));
        assert_eq!((s.submitted_at, s.relay_epoch, s.escalated_epoch), (4, 13, None));
        assert_eq!(s.phase, Phase::AwaitingChallenge);
        assert_eq!(s.commitment, c);
        assert_eq!(s.locator, locator());
        assert!(s.challenge.is_none() && s.escalation_challenge.is_none() && s.assigned.is_empty());
        // the submission waits in the queue `on_idle` and the unbonding rule read
        assert!(SubmissionQueue::<Test>::contains_key(id.to_be_bytes()));
        assert!(pogo_events().contains(&Event::RoundSubmitted {
            submission: id,
            task,
            miner: MINER,
            round: 0,
            base_root: c.base_root,
            final_root: c.final_root,
        }));
    });
}

#[test]
fn committed_escrow_counts_reward_and_pay_for_both_levels() {
    test(|| {
        let mut p = params();
        (p.reward, p.verifier_pay, p.verifiers, p.escalation_verifiers) = (700, 30, 2, 5);
        // one round costs 700 + 30 · 7 = 910: room for exactly two
        bond_then_next_block();
        assert_ok!(Pogo::create_task(signed(OWNER), spec(), model(), p, initial_root(), dataset(), 1_820));
        let (_b, c, _t) = first_round(0, None);
        submit(MINER, 0, &c);
        assert_eq!(Tasks::<Test>::get(0).unwrap().committed, 910);
        submit(MINER2, 0, &c);
        assert_eq!(Tasks::<Test>::get(0).unwrap().committed, 1_820);
        assert_noop!(Pogo::submit_round(signed(MINER), 0, c.clone(), locator()), Error::<Test>::TaskUnderfunded);
        // a top-up makes room for one more
        assert_ok!(Pogo::top_up(signed(OWNER), 0, 910));
        submit(MINER, 0, &c);
        assert_eq!(Tasks::<Test>::get(0).unwrap().committed, 2_730);
    });
}

#[test]
fn snapshot_excludes_the_miner_and_verifiers_below_the_minimum_bond() {
    test(|| {
        bond_all();
        // the miner also verifies
        assert_ok!(Pogo::bond(signed(MINER), Role::Verifier, 3_000));
        // active bond 50 < MinVerifierBond; 100 is exactly the minimum; 700 counts its active part
        assert_ok!(Pogo::unbond(signed(VERIFIERS[0]), Role::Verifier, 950));
        assert_ok!(Pogo::unbond(signed(VERIFIERS[1]), Role::Verifier, 900));
        assert_ok!(Pogo::unbond(signed(VERIFIERS[2]), Role::Verifier, 300));
        next_block();
        let task = create_task();
        let (_b, c, _t) = first_round(0, None);
        let id = submit(MINER, task, &c);
        let expected: Vec<(AccountId, u64)> = vec![
            (VERIFIERS[1], 100),
            (VERIFIERS[2], 700),
            (VERIFIERS[3], 1_000),
            (VERIFIERS[4], 1_000),
            (VERIFIERS[5], 1_000),
            (VERIFIERS[6], 1_000),
            (VERIFIERS[7], 1_000),
        ];
        assert_eq!(Snapshots::<Test>::get(id).unwrap().into_inner(), expected);
        // another miner's snapshot includes the first miner as a verifier, in account order
        let id2 = submit(MINER2, task, &c);
        let mut with_miner = vec![(MINER, 3_000)];
        with_miner.extend(expected);
        assert_eq!(Snapshots::<Test>::get(id2).unwrap().into_inner(), with_miner);
        // the miner is never drawn for its own round
        fix_challenge(id);
        assert!(!Submissions::<Test>::get(id).unwrap().assigned.iter().any(|a| a.who == MINER));
    });
}

#[test]
fn several_miners_submit_on_the_same_base() {
    test(|| {
        let task = bonded_task();
        let (_b0, c0, _t0) = first_round(0, None);
        let (_b1, c1, _t1) = first_round(1, None);
        assert_eq!(c0.base_root, c1.base_root);
        assert_ne!(c0.final_root, c1.final_root);
        let a = submit(MINER, task, &c0);
        let b = submit(MINER2, task, &c1);
        // the same miner may submit again while its free bond covers it (5,000: two rounds of 2,000)
        let c = submit(MINER, task, &c1);
        assert_noop!(
            Pogo::submit_round(signed(MINER), task, c0.clone(), locator()),
            Error::<Test>::InsufficientFreeBond
        );
        assert_eq!(PendingByTask::<Test>::get(task).into_inner(), vec![a, b, c]);
        let t = Tasks::<Test>::get(task).unwrap();
        assert_eq!((t.pending, t.committed, t.round, t.state_root), (3, 3 * 1_350, 0, initial_root()));
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().at_risk, 4_000);
        assert_eq!(MinerBonds::<Test>::get(MINER2).unwrap().at_risk, 2_000);
        assert_eq!(Pogo::held(HoldReason::SubmissionDeposit, &MINER), 10);
        assert_eq!(Pogo::held(HoldReason::SubmissionDeposit, &MINER2), 5);
        for id in [a, b, c] {
            assert_eq!(Submissions::<Test>::get(id).unwrap().round, 0);
        }
    });
}

#[test]
fn accepting_a_round_marks_the_others_on_the_old_base_stale() {
    test(|| {
        let task = bonded_task();
        let (b0, c0, _t0) = first_round(0, None);
        let (_b1, c1, _t1) = first_round(1, None);
        let a = submit(MINER, task, &c0);
        let b = submit(MINER2, task, &c1);
        fix_challenge(a);
        // the other round is under verification too: its verifiers have stake at risk and committed
        assert_ok!(Pogo::advance(signed(REPORTER), b));
        let b_verifiers = assigned(b);
        let v = b_verifiers[0];
        assert_ok!(Pogo::commit_verdict(signed(v), b, commitment_of(b, v, &Verdict::Positive)));
        let miner2_free = Balances::free_balance(MINER2);

        accept(a);
        // b is stale now: its own advance removes it (no pay, no slash)
        assert_ok!(Pogo::advance(signed(REPORTER), b));

        assert!(pogo_events().contains(&Event::RoundStale { submission: b, task }));
        assert!(Submissions::<Test>::get(b).is_none());
        assert!(Snapshots::<Test>::get(b).is_none());
        assert_eq!(Attestations::<Test>::iter_prefix(b).count(), 0);
        // no pay, no slash: bond released, deposit back
        assert_eq!(
            MinerBonds::<Test>::get(MINER2).unwrap(),
            BondLedger { held: 5_000, at_risk: 0, unbonding: None, bonded_at: 1 }
        );
        assert_eq!(Balances::free_balance(MINER2), miner2_free + 5);
        // the stale round's verifiers are released; the accepted round's stay at risk for its fraud window
        let a_verifiers: Vec<AccountId> = Submissions::<Test>::get(a).unwrap().assigned.iter().map(|x| x.who).collect();
        for v in VERIFIERS {
            let l = VerifierBonds::<Test>::get(v).unwrap();
            let at_risk = if a_verifiers.contains(&v) { 30 } else { 0 };
            assert_eq!(l.at_risk, at_risk, "verifier {v}");
            assert_eq!(l.held, 1_000, "verifier {v} not slashed");
        }
        assert!(!pogo_events().iter().any(|e| matches!(e, Event::VerifierPaid { .. } | Event::Slashed { .. })));
        // only the accepted round stays committed (reward and its verifiers' pay, settled when final)
        let t = Tasks::<Test>::get(task).unwrap();
        assert_eq!((t.pending, t.committed, t.round, t.state_root), (1, 1_350, 1, c0.final_root));
        assert_eq!(PendingByTask::<Test>::get(task).into_inner(), vec![a]);

        // a round on the new root is accepted for the next round number, one on the old root is not
        assert_noop!(Pogo::submit_round(signed(MINER2), task, c1, locator()), Error::<Test>::WrongBaseRoot);
        let (_b2, c2, _t2) = next_round(&b0, 2, None);
        assert_eq!(c2.base_root, c0.final_root);
        let d = submit(MINER2, task, &c2);
        assert_eq!(Submissions::<Test>::get(d).unwrap().round, 1);
    });
}

#[test]
fn rounds_built_on_the_accepted_root_are_not_stale() {
    test(|| {
        let task = bonded_task();
        let (b0, c0, _t0) = first_round(0, None);
        let a = submit(MINER, task, &c0);
        accept(a);
        // two rounds on the provisional root; accepting one makes the other stale, not the first round
        let (_b1, c1, _t1) = next_round(&b0, 1, None);
        let (_b2, c2, _t2) = next_round(&b0, 2, None);
        let x = submit(MINER2, task, &c1);
        let y = submit(MINER2, task, &c2);
        accept(x);
        assert_ok!(Pogo::advance(signed(REPORTER), y));
        assert!(pogo_events().contains(&Event::RoundStale { submission: y, task }));
        assert!(matches!(Submissions::<Test>::get(a).unwrap().phase, Phase::Accepted(_)));
        assert!(matches!(Submissions::<Test>::get(x).unwrap().phase, Phase::Accepted(_)));
        let t = Tasks::<Test>::get(task).unwrap();
        assert_eq!((t.round, t.steps_done, t.state_root, t.pending), (2, 12, c1.final_root, 2));
    });
}

#[test]
fn paused_task_still_settles_its_pending_rounds() {
    test(|| {
        let (task, id, _b, c, _t) = submitted(None);
        assert_ok!(Pogo::set_task_status(signed(OWNER), task, TaskStatus::Paused));
        let final_at = accept(id);
        assert_eq!(Tasks::<Test>::get(task).unwrap().state_root, c.final_root);
        run_to_block(final_at);
        let free = Balances::free_balance(MINER);
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        assert_eq!(Balances::free_balance(MINER), free + 1_000 + 5);
        assert_ok!(Pogo::close_task(signed(OWNER), task));
    });
}

#[test]
fn fraud_on_a_later_round_keeps_the_earlier_accepted_round() {
    test(|| {
        let task = bonded_task();
        // round 0 is honest and accepted; round 1, built on it, is accepted too but tampered
        let (b0, c0, _t0) = first_round(0, None);
        let a = submit(MINER, task, &c0);
        let a_final_at = accept(a);
        let (b1, c1, t1) = next_round(&b0, 1, Some((1, 10)));
        let b = submit(MINER2, task, &c1);
        accept(b);
        assert_eq!(Tasks::<Test>::get(task).unwrap().round, 2);
        let (_b2, c2, _t2) = build_round(b1.weights().to_vec(), b1.slots().to_vec(), 13, 2, None);
        let c = submit(MINER, task, &c2);

        assert_ok!(Pogo::report_fraud(signed(REPORTER), b, Box::new(b1.fraud_proof(&t1, 0, 0).unwrap())));

        // back to round 0's result; round 0 stays accepted in its own fraud window, round 2 is voided
        let t = Tasks::<Test>::get(task).unwrap();
        assert_eq!((t.state_root, t.round, t.steps_done), (c0.final_root, 1, 6));
        assert!(pogo_events().contains(&Event::StateRootReverted { task, state_root: c0.final_root }));
        // round 2 (not accepted, on b's root) is stale: removed when advanced
        assert_ok!(Pogo::advance(signed(REPORTER), c));
        assert!(pogo_events().contains(&Event::RoundStale { submission: c, task }));
        assert!(!pogo_events().contains(&Event::RoundVoided { submission: a, task }));
        assert_eq!(Submissions::<Test>::get(a).unwrap().phase, Phase::Accepted(a_final_at));
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().at_risk, 2_000, "round 0's bond stays at risk");
        assert_eq!(PendingByTask::<Test>::get(task).into_inner(), vec![a]);
        // round 0 is still finalized and paid once its window closes
        run_to_block(a_final_at);
        let free = Balances::free_balance(MINER);
        assert_ok!(Pogo::advance(signed(REPORTER), a));
        assert_eq!(Balances::free_balance(MINER), free + 1_000 + 5);
        assert_eq!(Tasks::<Test>::get(task).unwrap().state_root, c0.final_root);
    });
}

#[test]
fn fraud_on_an_earlier_round_voids_the_accepted_rounds_built_on_it() {
    test(|| {
        let task = bonded_task();
        // round 0 tampered in leaf 0, segment 0; round 1 accepted on top of it
        let (b0, c0, t0) = first_round(0, Some((1, 10)));
        let a = submit(MINER, task, &c0);
        accept(a);
        let (_b1, c1, _t1) = next_round(&b0, 1, None);
        let b = submit(MINER2, task, &c1);
        accept(b);
        let a_verifiers: Vec<AccountId> = Submissions::<Test>::get(a).unwrap().assigned.iter().map(|x| x.who).collect();
        let miner2_free = Balances::free_balance(MINER2);

        assert_ok!(Pogo::report_fraud(signed(REPORTER), a, Box::new(b0.fraud_proof(&t0, 0, 0).unwrap())));
        // round 1, accepted on the overturned root, is marked voided and removed by its next advance
        assert_eq!(Submissions::<Test>::get(b).unwrap().phase, Phase::Voided);
        assert_ok!(Pogo::advance(signed(REPORTER), b));

        let t = Tasks::<Test>::get(task).unwrap();
        assert_eq!((t.state_root, t.round, t.steps_done, t.pending, t.committed), (initial_root(), 0, 0, 0, 0));
        assert!(pogo_events().contains(&Event::RoundVoided { submission: b, task }));
        assert!(Submissions::<Test>::get(b).is_none());
        // the voided round's miner keeps its bond and deposit but gets no reward
        assert_eq!(
            MinerBonds::<Test>::get(MINER2).unwrap(),
            BondLedger { held: 5_000, at_risk: 0, unbonding: None, bonded_at: 1 }
        );
        // the voided round's verifiers are released unpaid; the fraudulent round's positive voters lose 2%
        assert!(paid_verifiers(b).is_empty() && paid_verifiers(a).is_empty());
        for v in VERIFIERS {
            let l = VerifierBonds::<Test>::get(v).unwrap();
            let held = if a_verifiers.contains(&v) { 980 } else { 1_000 };
            assert_eq!((l.held, l.at_risk), (held, 0), "verifier {v}");
        }
        assert_eq!(Balances::free_balance(MINER2), miner2_free + 5);
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().held, 3_000, "fraudulent miner slashed");
        // the task takes round 0 again
        let (_b, c, _t) = first_round(3, None);
        let id = submit(MINER2, task, &c);
        assert_eq!(Submissions::<Test>::get(id).unwrap().round, 0);
    });
}

#[test]
fn the_model_locator_follows_the_accepted_root_and_reverts_with_it() {
    test(|| {
        let task = bonded_task();
        let at = |s: &[u8]| BoundedVec::truncate_from(s.to_vec());
        assert!(Tasks::<Test>::get(task).unwrap().model_locator.is_empty(), "the initial state has no locator");
        let (b0, c0, _t0) = first_round(0, None);
        let a = NextSubmissionId::<Test>::get();
        assert_ok!(Pogo::submit_round(signed(MINER), task, c0.clone(), at(b"http://a.example")));
        // submitted is not accepted: the task still points at the initial state
        assert!(Tasks::<Test>::get(task).unwrap().model_locator.is_empty());
        accept(a);
        assert_eq!(Tasks::<Test>::get(task).unwrap().model_locator.into_inner(), b"http://a.example".to_vec());
        assert_eq!(Pogo::api_task(task).unwrap().model_locator, b"http://a.example".to_vec());

        let (b1, c1, t1) = next_round(&b0, 1, Some((1, 10)));
        let b = NextSubmissionId::<Test>::get();
        assert_ok!(Pogo::submit_round(signed(MINER2), task, c1, at(b"http://b.example")));
        assert_eq!(Submissions::<Test>::get(b).unwrap().base_locator.into_inner(), b"http://a.example".to_vec());
        accept(b);
        assert_eq!(Tasks::<Test>::get(task).unwrap().model_locator.into_inner(), b"http://b.example".to_vec());

        assert_ok!(Pogo::report_fraud(signed(REPORTER), b, Box::new(b1.fraud_proof(&t1, 0, 0).unwrap())));
        let t = Tasks::<Test>::get(task).unwrap();
        assert_eq!((t.state_root, t.model_locator.into_inner()), (c0.final_root, b"http://a.example".to_vec()));
    });
}
