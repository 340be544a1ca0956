//! Bonds of both roles: holds and ledgers, unbonding through `UnbondingPeriod`, withdrawal, the verifier
//! registry, and stake at risk in pending submissions.

use super::helpers::*;
use crate::{mock::*, *};
use frame_support::{
    assert_noop, assert_ok,
    traits::{fungible::Mutate, Get},
};
use pogo_primitives::verdict::{NegativeReason, Verdict};
use polkadot_sdk::frame_support;

const P: Option<Verdict> = Some(Verdict::Positive);
const BAD: Option<Verdict> = Some(Verdict::Negative(NegativeReason::InconsistentUpdate));
const ROLES: [Role; 2] = [Role::Miner, Role::Verifier];

fn signed(who: AccountId) -> RuntimeOrigin {
    RuntimeOrigin::signed(who)
}

fn ledger(role: Role, who: AccountId) -> LedgerOf<Test> {
    Pogo::ledger(role, &who).expect("bonded")
}

fn unbonding_period() -> u64 {
    <Test as Config>::UnbondingPeriod::get()
}

/// The unbonding amount and the block it unlocks in.
fn unbonding(role: Role, who: AccountId) -> Option<(u64, u64)> {
    ledger(role, who).unbonding.map(|u| (u.amount, u.unlocks_at))
}

fn registry() -> Vec<(AccountId, u64)> {
    VerifierRegistry::<Test>::get().into_inner()
}

/// Drives a submission to its end: fixes the challenge, then advances (waiting out each window, and the
/// relay epochs an escalation waits for) until it is settled. Nobody votes, so it escalates and then
/// expires (the silent verifiers lose `NonRevealSlash`).
fn settle_without_votes(id: SubmissionId) {
    fix_challenge(id);
    for _ in 0..100 {
        let Some(s) = Submissions::<Test>::get(id) else { return };
        if s.phase == Phase::AwaitingChallenge {
            fix_challenge(id);
        } else if Pogo::advance(signed(REPORTER), id).is_err() {
            run_to_block(System::block_number() + 1);
        }
    }
    assert!(Submissions::<Test>::get(id).is_none(), "submission settles");
}

#[test]
fn bond_holds_funds_under_the_role_reason() {
    test(|| {
        let free = Balances::free_balance(MINER);
        assert_ok!(Pogo::bond(signed(MINER), Role::Miner, 3_000));
        assert_ok!(Pogo::bond(signed(MINER), Role::Verifier, 500));
        assert_eq!(Pogo::held(HoldReason::MinerBond, &MINER), 3_000);
        assert_eq!(Pogo::held(HoldReason::VerifierBond, &MINER), 500);
        assert_eq!(Balances::free_balance(MINER), free - 3_500);
        assert_eq!(ledger(Role::Miner, MINER), BondLedger { held: 3_000, at_risk: 0, unbonding: None, bonded_at: 1 });
        assert_eq!(ledger(Role::Verifier, MINER), BondLedger { held: 500, at_risk: 0, unbonding: None, bonded_at: 1 });
        assert!(pogo_events().contains(&Event::Bonded { who: MINER, role: Role::Miner, amount: 3_000 }));
        assert!(pogo_events().contains(&Event::Bonded { who: MINER, role: Role::Verifier, amount: 500 }));
        assert_eq!(VerifierBonds::<Test>::count(), 1);
        // an eligible verifier bond takes a registry slot; a miner bond does not
        assert_eq!(registry(), vec![(MINER, 500)]);
    });
}

#[test]
fn bonding_again_adds_to_the_ledger_and_renews_its_block() {
    test(|| {
        for role in ROLES {
            assert_ok!(Pogo::bond(signed(VERIFIERS[0]), role, 1_000));
        }
        run_to_block(3);
        for role in ROLES {
            assert_ok!(Pogo::bond(signed(VERIFIERS[0]), role, 250));
            assert_eq!(ledger(role, VERIFIERS[0]).held, 1_250);
            assert_eq!(ledger(role, VERIFIERS[0]).bonded_at, 3);
            assert_eq!(Pogo::held(HoldReason::of(role), &VERIFIERS[0]), 1_250);
        }
        assert_eq!(VerifierBonds::<Test>::count(), 1);
        assert_eq!(registry(), vec![(VERIFIERS[0], 1_250)], "a second bond updates the slot, never adds one");
    });
}

#[test]
fn bond_can_take_everything_but_the_existential_deposit() {
    test(|| {
        assert_noop!(Pogo::bond(signed(MINER), Role::Miner, 9_991), Error::<Test>::InsufficientBalance);
        assert_ok!(Pogo::bond(signed(MINER), Role::Miner, 9_990));
        assert_eq!(Balances::free_balance(MINER), 10);
        assert_noop!(Pogo::bond(signed(MINER), Role::Verifier, 100), Error::<Test>::InsufficientBalance);
    });
}

#[test]
fn verifier_bond_starts_at_min_verifier_bond() {
    test(|| {
        let min: u64 = <Test as Config>::MinVerifierBond::get();
        assert_noop!(Pogo::bond(signed(VERIFIERS[0]), Role::Verifier, min - 1), Error::<Test>::BondTooSmall);
        assert_ok!(Pogo::bond(signed(VERIFIERS[0]), Role::Verifier, min));
        // once above the minimum, any amount may be added
        assert_ok!(Pogo::bond(signed(VERIFIERS[0]), Role::Verifier, 1));
        assert_eq!(ledger(Role::Verifier, VERIFIERS[0]).held, min + 1);
        assert_eq!(registry(), vec![(VERIFIERS[0], min + 1)]);
    });
}

#[test]
fn verifier_registry_holds_max_verifiers_and_a_larger_bond_evicts_the_smallest() {
    test(|| {
        let max: u32 = <Test as Config>::MaxVerifiers::get();
        assert_eq!(max, 16);
        for v in VERIFIERS {
            assert_ok!(Pogo::bond(signed(v), Role::Verifier, 1_000));
        }
        for who in 100..108u64 {
            assert_eq!(<Balances as Mutate<AccountId>>::set_balance(&who, 1_000), 1_000);
            assert_ok!(Pogo::bond(signed(who), Role::Verifier, 100));
        }
        assert_eq!(registry().len(), max as usize);
        // full: a bond no larger than the smallest registered one is refused
        assert_noop!(Pogo::bond(signed(MINER), Role::Verifier, 100), Error::<Test>::TooManyVerifiers);
        // a larger one takes the slot of the smallest (the highest account among equals)
        assert_ok!(Pogo::bond(signed(MINER), Role::Verifier, 1_000));
        assert!(pogo_events().contains(&Event::VerifierDeregistered { who: 107 }));
        assert!(Pogo::is_registered(&MINER));
        assert!(!Pogo::is_registered(&107));
        assert_eq!(registry().len(), max as usize);
        // the evicted verifier keeps its ledger and its funds; it is no longer drawn
        assert_eq!(ledger(Role::Verifier, 107).held, 100);
        assert_eq!(Pogo::held(HoldReason::VerifierBond, &107), 100);
        // registered verifiers still add to their bond, and miners are not limited
        assert_ok!(Pogo::bond(signed(100), Role::Verifier, 100));
        assert!(registry().contains(&(100, 200)));
        assert_ok!(Pogo::bond(signed(MINER), Role::Miner, 1_000));
        // a verifier whose active bond falls below the minimum frees its slot at once
        assert_ok!(Pogo::unbond(signed(101), Role::Verifier, 1));
        assert!(pogo_events().contains(&Event::VerifierDeregistered { who: 101 }));
        assert_eq!(registry().len(), max as usize - 1);
        assert_ok!(Pogo::bond(signed(MINER2), Role::Verifier, 100));
        assert_eq!(registry().len(), max as usize);
    });
}

#[test]
fn unbond_keeps_the_hold_and_schedules_the_release() {
    test(|| {
        for role in ROLES {
            assert_ok!(Pogo::bond(signed(VERIFIERS[0]), role, 1_000));
        }
        run_to_block(7);
        let free = Balances::free_balance(VERIFIERS[0]);
        for role in ROLES {
            assert_ok!(Pogo::unbond(signed(VERIFIERS[0]), role, 300));
            let l = ledger(role, VERIFIERS[0]);
            let unbonding = Unbonding { amount: 300, unlocks_at: 107, after_submission: 0 };
            assert_eq!(l, BondLedger { held: 1_000, at_risk: 0, unbonding: Some(unbonding), bonded_at: 1 });
            assert_eq!(Pogo::free_bond(&l), 700);
            assert_eq!(Pogo::active_bond(&l), 700);
            assert_eq!(Pogo::held(HoldReason::of(role), &VERIFIERS[0]), 1_000);
            assert!(pogo_events().contains(&Event::Unbonding {
                who: VERIFIERS[0],
                role,
                amount: 300,
                unlocks_at: 107
            }));
        }
        assert_eq!(Balances::free_balance(VERIFIERS[0]), free, "nothing is released yet");
        // the registry counts only the active bond
        assert_eq!(registry(), vec![(VERIFIERS[0], 700)]);
    });
}

#[test]
fn withdraw_releases_the_hold_after_the_unbonding_period() {
    test(|| {
        for role in ROLES {
            assert_ok!(Pogo::bond(signed(VERIFIERS[0]), role, 1_000));
            assert_ok!(Pogo::unbond(signed(VERIFIERS[0]), role, 400));
        }
        let unlocks_at = 1 + unbonding_period();
        run_to_block(unlocks_at - 1);
        for role in ROLES {
            assert_noop!(Pogo::withdraw_unbonded(signed(VERIFIERS[0]), role), Error::<Test>::StillUnbonding);
        }
        run_to_block(unlocks_at);
        let free = Balances::free_balance(VERIFIERS[0]);
        for role in ROLES {
            assert_ok!(Pogo::withdraw_unbonded(signed(VERIFIERS[0]), role));
            assert_eq!(ledger(role, VERIFIERS[0]), BondLedger { held: 600, at_risk: 0, unbonding: None, bonded_at: 1 });
            assert_eq!(Pogo::held(HoldReason::of(role), &VERIFIERS[0]), 600);
            assert!(pogo_events().contains(&Event::Withdrawn { who: VERIFIERS[0], role, amount: 400 }));
        }
        assert_eq!(Balances::free_balance(VERIFIERS[0]), free + 800);
        assert_eq!(registry(), vec![(VERIFIERS[0], 600)], "a partial withdrawal stays registered");
    });
}

#[test]
fn unbonding_more_adds_up_and_restarts_the_period_for_the_total() {
    test(|| {
        assert_ok!(Pogo::bond(signed(MINER), Role::Miner, 1_000));
        assert_ok!(Pogo::unbond(signed(MINER), Role::Miner, 300));
        run_to_block(50);
        assert_ok!(Pogo::unbond(signed(MINER), Role::Miner, 200));
        assert_eq!(unbonding(Role::Miner, MINER), Some((500, 50 + unbonding_period())));
        run_to_block(1 + unbonding_period());
        assert_noop!(Pogo::withdraw_unbonded(signed(MINER), Role::Miner), Error::<Test>::StillUnbonding);
        run_to_block(50 + unbonding_period());
        assert_ok!(Pogo::withdraw_unbonded(signed(MINER), Role::Miner));
        assert_eq!(ledger(Role::Miner, MINER).held, 500);
        // nothing more than the free bond can be unbonded
        assert_noop!(Pogo::unbond(signed(MINER), Role::Miner, 501), Error::<Test>::InsufficientFreeBond);
    });
}

#[test]
fn withdrawing_everything_removes_the_ledger() {
    test(|| {
        let free = Balances::free_balance(VERIFIERS[1]);
        for role in ROLES {
            assert_ok!(Pogo::bond(signed(VERIFIERS[1]), role, 1_000));
            assert_ok!(Pogo::unbond(signed(VERIFIERS[1]), role, 1_000));
        }
        // an account whose whole bond is unbonding keeps its ledger until it withdraws, but its registry
        // slot is freed at once
        assert_eq!(VerifierBonds::<Test>::count(), 1);
        assert!(registry().is_empty());
        assert!(pogo_events().contains(&Event::VerifierDeregistered { who: VERIFIERS[1] }));
        run_to_block(1 + unbonding_period());
        for role in ROLES {
            assert_ok!(Pogo::withdraw_unbonded(signed(VERIFIERS[1]), role));
            assert!(Pogo::ledger(role, &VERIFIERS[1]).is_none());
            assert_eq!(Pogo::held(HoldReason::of(role), &VERIFIERS[1]), 0);
            assert_noop!(Pogo::withdraw_unbonded(signed(VERIFIERS[1]), role), Error::<Test>::NotBonded);
        }
        assert!(MinerBonds::<Test>::get(VERIFIERS[1]).is_none());
        assert_eq!(VerifierBonds::<Test>::count(), 0);
        assert_eq!(Balances::free_balance(VERIFIERS[1]), free);
    });
}

#[test]
fn miner_stake_at_risk_cannot_be_unbonded_while_the_submission_is_pending() {
    test(|| {
        let (_task, id, _b, _c, _t) = submitted(None);
        // 5,000 bonded, the task's miner_bond of 2,000 at risk
        assert_eq!(ledger(Role::Miner, MINER), BondLedger { held: 5_000, at_risk: 2_000, unbonding: None, bonded_at: 1 });
        assert_noop!(Pogo::unbond(signed(MINER), Role::Miner, 3_001), Error::<Test>::InsufficientFreeBond);
        assert_ok!(Pogo::unbond(signed(MINER), Role::Miner, 3_000));
        assert_noop!(Pogo::unbond(signed(MINER), Role::Miner, 1), Error::<Test>::InsufficientFreeBond);
        // the submission settles (escalated, then expired: nobody voted); the stake is free again
        settle_without_votes(id);
        assert_eq!(ledger(Role::Miner, MINER).at_risk, 0);
        assert_ok!(Pogo::unbond(signed(MINER), Role::Miner, 2_000));
        let unlocks_at = System::block_number() + unbonding_period();
        assert_eq!(unbonding(Role::Miner, MINER), Some((5_000, unlocks_at)));
        run_to_block(unlocks_at);
        assert_ok!(Pogo::withdraw_unbonded(signed(MINER), Role::Miner));
        assert!(MinerBonds::<Test>::get(MINER).is_none());
        assert_eq!(Pogo::held(HoldReason::MinerBond, &MINER), 0);
        assert_eq!(Balances::free_balance(MINER), 10_000, "bond and deposit back; no reward for an expired round");
    });
}

#[test]
fn unbonding_stake_cannot_be_put_at_risk() {
    test(|| {
        let task = bonded_task();
        // 5,000 bonded, 3,500 unbonding: 1,500 free, below the task's miner_bond of 2,000
        assert_ok!(Pogo::unbond(signed(MINER), Role::Miner, 3_500));
        let (_b, c, _t) = first_round(0, None);
        assert_noop!(
            Pogo::submit_round(signed(MINER), task, c.clone(), locator()),
            Error::<Test>::InsufficientFreeBond
        );
        assert_ok!(Pogo::submit_round(signed(MINER2), task, c, locator()));
    });
}

#[test]
fn verifier_stake_at_risk_cannot_be_unbonded_until_the_round_finalizes() {
    test(|| {
        let (_task, id, _b, _c, _t) = submitted(None);
        fix_challenge(id);
        let who = assigned(id);
        // max(NonRevealSlash 3%, LosingVoteSlash 2%) of a 1,000 stake is at risk on each assigned verifier
        for v in &who {
            assert_eq!(ledger(Role::Verifier, *v), BondLedger { held: 1_000, at_risk: 30, unbonding: None, bonded_at: 1 });
        }
        let v = who[0];
        assert_noop!(Pogo::unbond(signed(v), Role::Verifier, 971), Error::<Test>::InsufficientFreeBond);
        assert_ok!(Pogo::unbond(signed(v), Role::Verifier, 970));
        // unassigned verifiers have nothing at risk
        let free = VERIFIERS.into_iter().find(|x| !who.contains(x)).unwrap();
        assert_eq!(ledger(Role::Verifier, free).at_risk, 0);
        assert_ok!(Pogo::unbond(signed(free), Role::Verifier, 1_000));
        vote_and_tally(id, &[P, P, P]);
        // accepted: the verifiers stay at risk through the fraud window (a fraud proof would slash them)
        assert!(matches!(Submissions::<Test>::get(id).unwrap().phase, Phase::Accepted(_)));
        assert_eq!(ledger(Role::Verifier, v).at_risk, 30);
        assert_noop!(Pogo::unbond(signed(v), Role::Verifier, 1), Error::<Test>::InsufficientFreeBond);
        // finalized: released and paid
        finalize_round(id);
        assert_eq!(ledger(Role::Verifier, v).at_risk, 0);
        assert_ok!(Pogo::unbond(signed(v), Role::Verifier, 30));
    });
}

#[test]
fn a_slashed_bond_withdraws_what_is_left() {
    test(|| {
        let (_task, id, _b, _c, _t) = submitted(None);
        fix_challenge(id);
        let who = assigned(id);
        // level 0 cannot reject: negative verdicts escalate
        vote_and_tally(id, &[BAD, BAD, P]);
        assert_eq!(Submissions::<Test>::get(id).unwrap().level, 1);
        // level 1 is unanimous with a provable reason: rejected; the positive level-0 voter loses 2% of 1,000
        fix_challenge(id);
        vote_and_tally(id, &[BAD, BAD, BAD, BAD]);
        assert!(Submissions::<Test>::get(id).is_none());
        let loser = who[2];
        assert_eq!(ledger(Role::Verifier, loser), BondLedger { held: 980, at_risk: 0, unbonding: None, bonded_at: 1 });
        assert_eq!(Pogo::held(HoldReason::VerifierBond, &loser), 980);
        assert!(pogo_events().contains(&Event::Slashed { who: loser, role: Role::Verifier, amount: 20 }));
        assert!(registry().contains(&(loser, 980)), "the registry follows the slashed bond");
        // the miner lost the whole 2,000 at risk
        assert_eq!(ledger(Role::Miner, MINER), BondLedger { held: 3_000, at_risk: 0, unbonding: None, bonded_at: 1 });
        assert!(pogo_events().contains(&Event::Slashed { who: MINER, role: Role::Miner, amount: 2_000 }));
        let free = Balances::free_balance(loser);
        assert_ok!(Pogo::unbond(signed(loser), Role::Verifier, 980));
        assert_ok!(Pogo::unbond(signed(MINER), Role::Miner, 3_000));
        run_to_block(System::block_number() + unbonding_period());
        assert_ok!(Pogo::withdraw_unbonded(signed(loser), Role::Verifier));
        assert_ok!(Pogo::withdraw_unbonded(signed(MINER), Role::Miner));
        assert!(VerifierBonds::<Test>::get(loser).is_none());
        assert!(MinerBonds::<Test>::get(MINER).is_none());
        assert_eq!(Balances::free_balance(loser), free + 980);
    });
}

#[test]
fn a_slash_below_the_minimum_frees_the_registry_slot() {
    test(|| {
        // one verifier with exactly the minimum: the silent verifier's 3% takes it below
        assert_ok!(Pogo::bond(signed(MINER), Role::Miner, 5_000));
        assert_ok!(Pogo::bond(signed(VERIFIERS[0]), Role::Verifier, 100));
        next_block();
        let task = create_task();
        let (_b, c, _t) = first_round(0, None);
        let id = NextSubmissionId::<Test>::get();
        assert_ok!(Pogo::submit_round(signed(MINER), task, c, locator()));
        settle_without_votes(id);
        assert_eq!(ledger(Role::Verifier, VERIFIERS[0]).held, 97);
        assert!(registry().is_empty());
        assert!(pogo_events().contains(&Event::VerifierDeregistered { who: VERIFIERS[0] }));
        // back above the minimum with a new bond
        assert_ok!(Pogo::bond(signed(VERIFIERS[0]), Role::Verifier, 3));
        assert_eq!(registry(), vec![(VERIFIERS[0], 100)]);
    });
}

#[test]
fn unbonding_takes_stake_out_of_later_assignments() {
    test(|| {
        let task = bonded_task();
        // 950 of 1,000 unbonding: an active bond of 50 is below MinVerifierBond
        assert_ok!(Pogo::unbond(signed(VERIFIERS[0]), Role::Verifier, 950));
        // 900 of 1,000 unbonding: exactly MinVerifierBond stays eligible, with its active stake
        assert_ok!(Pogo::unbond(signed(VERIFIERS[1]), Role::Verifier, 900));
        let (_b, c, _t) = first_round(0, None);
        let id = NextSubmissionId::<Test>::get();
        assert_ok!(Pogo::submit_round(signed(MINER), task, c, locator()));
        let snapshot = Snapshots::<Test>::get(id).unwrap();
        assert!(!snapshot.iter().any(|(v, _)| *v == VERIFIERS[0]));
        assert!(snapshot.contains(&(VERIFIERS[1], 100)));
        assert_eq!(snapshot.len(), VERIFIERS.len() - 1);
        assert_eq!(snapshot.into_inner(), registry(), "the snapshot is a copy of the registry");
    });
}

#[test]
fn roles_are_bonded_and_unbonded_independently() {
    test(|| {
        assert_ok!(Pogo::bond(signed(MINER), Role::Miner, 1_000));
        assert_ok!(Pogo::bond(signed(MINER), Role::Verifier, 1_000));
        assert_ok!(Pogo::unbond(signed(MINER), Role::Verifier, 1_000));
        assert_eq!(ledger(Role::Miner, MINER).unbonding, None);
        assert_noop!(Pogo::unbond(signed(MINER), Role::Verifier, 1), Error::<Test>::InsufficientFreeBond);
        assert_ok!(Pogo::unbond(signed(MINER), Role::Miner, 1_000));
        run_to_block(1 + unbonding_period());
        assert_ok!(Pogo::withdraw_unbonded(signed(MINER), Role::Verifier));
        assert!(VerifierBonds::<Test>::get(MINER).is_none());
        assert_eq!(unbonding(Role::Miner, MINER), Some((1_000, 1 + unbonding_period())));
        assert_eq!(Pogo::held(HoldReason::MinerBond, &MINER), 1_000);
    });
}
