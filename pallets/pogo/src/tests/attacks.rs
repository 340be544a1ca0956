//! The review's attacks (issue 10), each tried as the attacker would and shown to fail or to cost the
//! attacker. The numbers follow the mock: verifiers bond 1,000 (MinVerifierBond 100), NonRevealSlash 3%,
//! LosingVoteSlash 2%, miner_bond 2,000, verifier_pay 50, reward 1,000, deposit 5, three verifiers at
//! level 0 and four at level 1.

use super::helpers::*;
use crate::{mock::*, *};
use codec::Encode;
use frame_support::{
    assert_noop, assert_ok,
    dispatch::Pays,
    traits::{
        fungible::{Inspect, Mutate},
        Hooks,
    },
    weights::Weight,
};
use pogo_primitives::{
    seed::challenge_seed,
    verdict::{NegativeReason, Verdict},
};
use polkadot_sdk::frame_support;

const P: Option<Verdict> = Some(Verdict::Positive);
const BAD: Option<Verdict> = Some(Verdict::Negative(NegativeReason::InconsistentUpdate));

fn signed(who: AccountId) -> RuntimeOrigin {
    RuntimeOrigin::signed(who)
}

/// Bonds miners and verifiers, then creates the task one block later (a miner's bond must be older
/// than the root it builds on) and submits MINER's first round. Returns (task, submission).
fn setup(tamper: Option<(usize, usize)>) -> (TaskId, SubmissionId, pogo_primitives::builder::RoundBuilder, pogo_primitives::MerkleTree) {
    bond_all();
    run_to_block(System::block_number() + 1);
    let task = create_task();
    let (b, c, t) = first_round(0, tamper);
    let id = NextSubmissionId::<Test>::get();
    assert_ok!(Pogo::submit_round(signed(MINER), task, c, locator()));
    (task, id, b, t)
}

/// Fixes the challenge of the current level (level 0 from the submission's epoch, level 1 from the
/// escalation's).
fn fix(id: SubmissionId) {
    MockRelay::advance_epochs(2);
    run_to_block(System::block_number() + 1);
    assert_ok!(Pogo::advance(signed(REPORTER), id));
}

/// The verifiers of the current level commit and reveal `verdicts` (None: silent), then the phase is
/// closed by waiting out the windows.
fn vote_and_close(id: SubmissionId, verdicts: &[Option<Verdict>]) {
    let who = assigned(id);
    assert_eq!(who.len(), verdicts.len(), "one verdict per assigned verifier");
    for (w, v) in who.iter().zip(verdicts) {
        if let Some(v) = v {
            assert_ok!(Pogo::commit_verdict(signed(*w), id, commitment_of(id, *w, v)));
        }
    }
    let Phase::Committing(until) = Submissions::<Test>::get(id).unwrap().phase else { panic!("not committing") };
    run_to_block(until + 1);
    assert_ok!(Pogo::advance(signed(REPORTER), id));
    for (w, v) in who.iter().zip(verdicts) {
        if let Some(v) = v {
            assert_ok!(Pogo::reveal_verdict(signed(*w), id, *v, salt(*w)));
        }
    }
    let Phase::Revealing(until) = Submissions::<Test>::get(id).unwrap().phase else { panic!("not revealing") };
    run_to_block(until + 1);
    assert_ok!(Pogo::advance(signed(REPORTER), id));
}

fn phase(id: SubmissionId) -> Phase<u64> {
    Submissions::<Test>::get(id).unwrap().phase
}

fn finalize(id: SubmissionId) {
    let Phase::Accepted(at) = phase(id) else { panic!("not accepted") };
    run_to_block(at);
    assert_ok!(Pogo::advance(signed(REPORTER), id));
    assert!(Submissions::<Test>::get(id).is_none());
}

fn held(who: AccountId) -> u64 {
    VerifierBonds::<Test>::get(who).map(|l| l.held).unwrap_or_default()
}

fn fund(who: AccountId, amount: u64) {
    Balances::set_balance(&who, amount);
}

// --- 1. Steering the verifier draw -------------------------------------------------------------------

/// The level-0 draw of a fresh setup, after `between` ran between submission and challenge.
fn draw_after(between: impl FnOnce()) -> Vec<AccountId> {
    let mut drawn = Vec::new();
    new_test_ext().execute_with(|| {
        let (_, id, _, _) = setup(None);
        between();
        fix(id);
        drawn = assigned(id);
        Pogo::do_try_state().unwrap();
    });
    drawn
}

#[test]
fn bonding_or_unbonding_after_the_submission_cannot_change_the_draw() {
    let honest = draw_after(|| {});
    // Every verifier outside the draw unbonds below the minimum, and a newcomer bonds a lot: before the
    // fix the draw skipped ledgers that could not cover their risk, so this reshuffled it.
    let steered = draw_after(|| {
        for v in VERIFIERS {
            assert_ok!(Pogo::unbond(signed(v), Role::Verifier, 990));
        }
        fund(77, 1_000_000);
        assert_ok!(Pogo::bond(signed(77), Role::Verifier, 500_000));
    });
    assert_eq!(honest, steered);
    assert!(!steered.contains(&77), "a bond placed after the snapshot is not in it");
}

#[test]
fn a_drawn_verifier_that_unbonded_is_still_at_risk_and_its_stake_cannot_leave() {
    test(|| {
        let (_, id, _, _) = setup(None);
        // Everyone unbonds everything right after the submission.
        for v in VERIFIERS {
            assert_ok!(Pogo::unbond(signed(v), Role::Verifier, 1_000));
        }
        assert!(VerifierRegistry::<Test>::get().is_empty());
        // Past the unbonding period the submission is still open: the stake may not leave.
        run_to_block(System::block_number() + 101);
        assert_noop!(
            Pogo::withdraw_unbonded(signed(VERIFIERS[0]), Role::Verifier),
            Error::<Test>::UnbondingAwaitsSubmissions
        );
        fix(id);
        let who = assigned(id);
        assert_eq!(who.len(), 3, "drawn from the snapshot");
        for w in &who {
            assert_eq!(VerifierBonds::<Test>::get(w).unwrap().at_risk, 30);
        }
        // A silent verifier pays for it when the round settles.
        vote_and_close(id, &[P, P, None]);
        finalize(id);
        assert_eq!(held(who[2]), 1_000 - 30);
        assert_ok!(Pogo::withdraw_unbonded(signed(who[2]), Role::Verifier));
    });
}

#[test]
fn the_level_1_draw_uses_relay_randomness_from_after_the_escalation() {
    test(|| {
        let (_, id, _, _) = setup(None);
        fix(id);
        let level0 = Submissions::<Test>::get(id).unwrap().challenge.unwrap();
        vote_and_close(id, &[BAD, P, P]);
        let sub = Submissions::<Test>::get(id).unwrap();
        assert_eq!((sub.level, sub.phase), (1, Phase::AwaitingChallenge));
        let escalated = sub.escalated_epoch.unwrap();
        // The randomness known at escalation does not fix the level-1 set.
        assert_noop!(Pogo::advance(signed(REPORTER), id), Error::<Test>::ChallengeNotReady);
        fix(id);
        let target = EpochRandomness::<Test>::get(escalated + 2).unwrap();
        let sub = Submissions::<Test>::get(id).unwrap();
        assert_eq!(sub.escalation_challenge, Some(challenge_seed(&target, id)));
        assert_ne!(sub.escalation_challenge, Some(level0));
        assert_eq!(assigned(id).len(), 4);
        vote_and_close(id, &[P, P, P, P]);
        finalize(id);
    });
}

// --- 2. Filling the registry for free -----------------------------------------------------------------

#[test]
fn dust_ledgers_free_their_slots_and_a_larger_bond_evicts_the_smallest() {
    test(|| {
        // 16 slots (MaxVerifiers): 8 verifiers plus 8 more accounts.
        let extra: Vec<AccountId> = (100..108).collect();
        for a in &extra {
            fund(*a, 10_000);
        }
        for v in VERIFIERS.iter().chain(extra.iter()) {
            assert_ok!(Pogo::bond(signed(*v), Role::Verifier, 1_000));
        }
        fund(200, 10_000);
        assert_noop!(Pogo::bond(signed(200), Role::Verifier, 1_000), Error::<Test>::TooManyVerifiers);
        // Before the fix, ledgers kept with 1 planck held kept their slot for good.
        for a in &extra {
            assert_ok!(Pogo::unbond(signed(*a), Role::Verifier, 999));
            assert!(!Pogo::is_registered(a));
        }
        assert_eq!(VerifierRegistry::<Test>::get().len(), 8);
        assert_ok!(Pogo::bond(signed(200), Role::Verifier, 1_000));
        // Full again: an equal bond is refused, a larger one takes the smallest slot.
        for a in 201..208u64 {
            fund(a, 10_000);
            assert_ok!(Pogo::bond(signed(a), Role::Verifier, 1_000));
        }
        fund(300, 10_000);
        assert_noop!(Pogo::bond(signed(300), Role::Verifier, 1_000), Error::<Test>::TooManyVerifiers);
        assert_ok!(Pogo::bond(signed(300), Role::Verifier, 1_001));
        assert!(Pogo::is_registered(&300));
        assert!(!Pogo::is_registered(&207), "the highest account among the smallest stakes");
        assert!(pogo_events().contains(&Event::VerifierDeregistered { who: 207 }));
    });
}

// --- 3. A third cannot slash an honest miner; griefing costs the griefer ------------------------------

#[test]
fn a_level_0_minority_voting_negative_only_escalates_and_pays_for_it() {
    // Row "attacker < 1/3 of the deciding stake": the honest miner loses nothing but time.
    test(|| {
        let (task, id, _, _) = setup(None);
        let miner_free = Balances::free_balance(MINER);
        fix(id);
        let level0 = assigned(id);
        // One of three (a third of level 0) claims a bad update: before the fix, this slashed the miner.
        vote_and_close(id, &[BAD, P, P]);
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().held, 5_000, "no slash at level 0");
        fix(id);
        let level1 = assigned(id);
        vote_and_close(id, &[P, P, P, P]);
        finalize(id);
        // The miner: bond and deposit back, reward paid.
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap(), BondLedger { held: 5_000, at_risk: 0, unbonding: None, bonded_at: 1 });
        assert_eq!(Balances::free_balance(MINER), miner_free + 5 + 1_000);
        // The griefer lost 2% of its stake, more than the honest miner lost (nothing).
        assert_eq!(held(level0[0]), 1_000 - 20);
        // Honest verifiers of both levels were paid and kept their bonds.
        for v in level0[1..].iter().chain(level1.iter()) {
            assert_eq!(held(*v), 1_000, "{v} keeps its bond");
        }
        assert_eq!(Tasks::<Test>::get(task).unwrap().round, 1);
    });
}

#[test]
fn a_blocking_minority_at_level_1_expires_the_round_and_the_miner_keeps_its_bond() {
    // Row "1/3 ≤ attacker < 2/3 of the deciding stake": no decision; the miner loses nothing but time,
    // nobody is paid.
    test(|| {
        let (_, id, _, _) = setup(None);
        fix(id);
        vote_and_close(id, &[BAD, P, P]);
        fix(id);
        let level1 = assigned(id);
        let before: Vec<u64> = level1.iter().map(Balances::free_balance).collect();
        vote_and_close(id, &[BAD, BAD, P, P]);
        assert!(Submissions::<Test>::get(id).is_none());
        assert!(pogo_events().iter().any(|e| matches!(e, Event::RoundExpired { submission, .. } if *submission == id)));
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().held, 5_000);
        for (v, b) in level1.iter().zip(before) {
            assert_eq!((held(*v), Balances::free_balance(v)), (1_000, b), "revealed verdicts: no pay, no slash");
        }
    });
}

#[test]
fn two_thirds_of_level_1_reject_and_slash_the_miner() {
    // Row "attacker ≥ 2/3 of the deciding stake": the security assumption is broken; the miner loses its
    // bond and the honest minority 2% each.
    test(|| {
        let (_, id, _, _) = setup(None);
        fix(id);
        vote_and_close(id, &[BAD, BAD, BAD]);
        fix(id);
        let level1 = assigned(id);
        vote_and_close(id, &[BAD, BAD, BAD, P]);
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().held, 3_000);
        assert_eq!(held(level1[3]), 980);
    });
}

/// A level-0 verifier whose sample missed the faked step votes Positive in good faith: when level 1
/// rejects the round for a bad gradient it is released, neither paid nor slashed; a level-0 Positive
/// voter whose sample held the disputed step is slashed; and when level 1 rejects an inconsistent
/// update (which every verifier's full replay sees) no Positive voter is excused.
#[test]
fn an_honest_verifier_whose_sample_missed_the_fault_is_excused_not_slashed() {
    let level0_losses = |level1_reason: NegativeReason| {
        let mut out = (0, 0, 0);
        new_test_ext().execute_with(|| {
            let (_, id, _, _) = setup(None);
            fix(id);
            let level0 = assigned(id);
            let challenge = Submissions::<Test>::get(id).unwrap().challenge.unwrap();
            let steps = |who: AccountId| {
                pogo_primitives::seed::sampled_steps(&pogo_primitives::seed::verifier_seed(&challenge, &who.encode()), 2, 6)
            };
            // A step the second verifier sampled and the third did not (the mock's randomness is fixed).
            let (lucky, unlucky) = (level0[1], level0[2]);
            let step = steps(lucky).into_iter().find(|s| !steps(unlucky).contains(s)).expect("samples differ");
            let named = Some(Verdict::Negative(NegativeReason::BadGradient { step }));
            let free_before = Balances::free_balance(unlucky);
            vote_and_close(id, &[named, P, P]);
            assert_eq!(Submissions::<Test>::get(id).unwrap().disputed_steps.to_vec(), vec![step]);
            fix(id);
            let level1 = assigned(id);
            let bad = Some(Verdict::Negative(level1_reason));
            vote_and_close(id, &[bad, bad, bad, P]);
            assert!(Submissions::<Test>::get(id).is_none(), "rejected");
            assert_eq!(held(level1[3]), 980, "a level-1 Positive voter recomputed the disputed step: slashed");
            assert_eq!(Balances::free_balance(unlucky), free_before, "excused: no pay either");
            out = (1_000 - held(level0[0]), 1_000 - held(lucky), 1_000 - held(unlucky));
            Pogo::do_try_state().unwrap();
        });
        out
    };
    let step = |s| NegativeReason::BadGradient { step: s };
    // Level 1 names a bad gradient: the dissenter is paid, the verifier that sampled the step and voted
    // Positive loses 2%, the one that could not have seen it keeps its stake.
    assert_eq!(level0_losses(step(0)), (0, 20, 0));
    // Level 1 names an inconsistent update: every verifier replays the whole chain, nobody is excused.
    assert_eq!(level0_losses(NegativeReason::InconsistentUpdate), (0, 20, 20));
}

// --- 4. Silence is not free ---------------------------------------------------------------------------

#[test]
fn a_silent_verifier_pays_more_than_a_losing_one() {
    test(|| {
        let (_, id, _, _) = setup(None);
        fix(id);
        vote_and_close(id, &[BAD, P, P]);
        fix(id);
        let v = assigned(id);
        // Level 1: three Positive accept; one never commits, where it could have revealed a losing vote.
        vote_and_close(id, &[P, P, P, None]);
        finalize(id);
        assert_eq!(held(v[3]), 1_000 - 30, "silence: NonRevealSlash 3%");
    });
}

#[test]
fn withholding_a_losing_reveal_costs_more_than_revealing_it() {
    let loss = |reveal: bool| {
        let mut loss = 0;
        new_test_ext().execute_with(|| {
            let (_, id, _, _) = setup(None);
            fix(id);
            vote_and_close(id, &[BAD, P, P]);
            fix(id);
            let v = assigned(id);
            for (w, verdict) in v.iter().zip([P, P, P, BAD]) {
                assert_ok!(Pogo::commit_verdict(signed(*w), id, commitment_of(id, *w, &verdict.unwrap())));
            }
            assert_ok!(Pogo::advance(signed(REPORTER), id));
            for (i, (w, verdict)) in v.iter().zip([P, P, P, BAD]).enumerate() {
                if i < 3 || reveal {
                    assert_ok!(Pogo::reveal_verdict(signed(*w), id, verdict.unwrap(), salt(*w)));
                }
            }
            let Phase::Revealing(until) = phase(id) else { panic!("not revealing") };
            run_to_block(until + 1);
            assert_ok!(Pogo::advance(signed(REPORTER), id));
            finalize(id);
            loss = 1_000 - held(v[3]);
            Pogo::do_try_state().unwrap();
        });
        loss
    };
    assert_eq!(loss(true), 20);
    assert_eq!(loss(false), 30);
}

// --- 5. Rubber-stamping -------------------------------------------------------------------------------

#[test]
fn positive_voters_of_a_round_proven_fraudulent_are_slashed_not_paid() {
    test(|| {
        let (_, id, b, trace) = setup(Some((4, 300)));
        fix(id);
        let who = assigned(id);
        let before: Vec<u64> = who.iter().map(Balances::free_balance).collect();
        // Lazy verifiers accept a tampered round.
        vote_and_close(id, &[P, P, P]);
        assert!(matches!(phase(id), Phase::Accepted(_)));
        for v in &who {
            assert_eq!(VerifierBonds::<Test>::get(v).unwrap().at_risk, 30, "still at risk in the fraud window");
        }
        let proof = b.fraud_proof(&trace, 1, 1).unwrap();
        assert_ok!(Pogo::report_fraud(signed(REPORTER), id, Box::new(proof)));
        for (v, b) in who.iter().zip(before) {
            assert_eq!(held(*v), 980, "{v} slashed");
            assert_eq!(Balances::free_balance(v), b, "{v} not paid");
        }
    });
}

// --- 7. Grinding the round seed by account --------------------------------------------------------------

#[test]
fn a_freshly_bonded_account_cannot_build_on_the_current_root() {
    test(|| {
        let (task, id, _, _) = setup(None);
        // A miner deriving keys after seeing the root: its seed would be a fresh draw.
        fund(60, 10_000);
        assert_ok!(Pogo::bond(signed(60), Role::Miner, 5_000));
        let (_, c, _) = first_round(3, None);
        assert_noop!(Pogo::submit_round(signed(60), task, c.clone(), locator()), Error::<Test>::BondNewerThanBaseRoot);
        // Topping up an old bond restarts its age too.
        assert_ok!(Pogo::bond(signed(MINER2), Role::Miner, 1));
        assert_noop!(Pogo::submit_round(signed(MINER2), task, c, locator()), Error::<Test>::BondNewerThanBaseRoot);
        // The accepted root was public from its round's inclusion (block 2): accounts bonded since, having
        // seen it, cannot build on it either; a bond from before can.
        fix(id);
        vote_and_close(id, &[P, P, P]);
        let root = Tasks::<Test>::get(task).unwrap().state_root;
        assert_eq!(Tasks::<Test>::get(task).unwrap().root_set_at, 2);
        let (_, next, _) = build_round(vec![0.0; PARAMS as usize], vec![vec![0.0; PARAMS as usize]; 2], 7, 1, None);
        let next = pogo_primitives::RoundCommitment { base_root: root, ..next };
        assert_noop!(Pogo::submit_round(signed(60), task, next.clone(), locator()), Error::<Test>::BondNewerThanBaseRoot);
        assert_ok!(Pogo::submit_round(signed(MINER), task, next, locator()));
    });
}

// --- 8. Self-reporting and front-running fraud reports -------------------------------------------------

#[test]
fn reporting_oneself_ends_where_being_caught_does_and_a_report_pays_no_fee() {
    // The miner's loss, whoever reports; and what the reporter gains (nothing to front-run for).
    let outcome = |reporter: AccountId| {
        let mut out = (0, 0, Pays::Yes);
        new_test_ext().execute_with(|| {
            let (_, id, b, trace) = setup(Some((4, 300)));
            let proof = b.fraud_proof(&trace, 1, 1).unwrap();
            let (miner, rep) = (Balances::total_balance(&MINER), Balances::total_balance(&reporter));
            let info = Pogo::report_fraud(signed(reporter), id, Box::new(proof)).unwrap();
            out = (miner - Balances::total_balance(&MINER), Balances::total_balance(&reporter) - rep, info.pays_fee);
            Pogo::do_try_state().unwrap();
        });
        out
    };
    let caught = outcome(REPORTER);
    // MINER2 stands for an account the miner controls.
    let confessed = outcome(MINER2);
    assert_eq!(caught, (2_000, 0, Pays::No));
    assert_eq!(confessed, (2_000, 0, Pays::No));
}

// --- 9. Free storage and heavy reads ---------------------------------------------------------------------

#[test]
fn a_task_holds_a_storage_deposit_even_with_no_escrow() {
    test(|| {
        let free = Balances::free_balance(OWNER);
        assert_ok!(Pogo::create_task(signed(OWNER), spec(), model(), params(), initial_root(), dataset(), 0));
        assert_eq!(Pogo::held(HoldReason::TaskDeposit, &OWNER), 20);
        assert_eq!(Balances::free_balance(OWNER), free - 20);
        assert_noop!(
            Pogo::create_task(signed(POOR), spec(), model(), params(), initial_root(), dataset(), 0),
            Error::<Test>::InsufficientBalance
        );
        assert_ok!(Pogo::close_task(signed(OWNER), 0));
        assert_eq!(Balances::free_balance(OWNER), free);
    });
}

#[test]
fn unverifiable_specs_and_unbounded_samples_are_refused() {
    test(|| {
        let huge = pogo_primitives::TrainingSpec { param_count: u64::MAX, ..spec() };
        assert_noop!(
            Pogo::create_task(signed(OWNER), huge, model(), params(), initial_root(), dataset(), 0),
            Error::<Test>::SpecTooManyParameters
        );
        for samples in [
            pogo_primitives::seed::SampleSizes { steps: 2, leaves: u32::MAX, eval_examples: 8 },
            pogo_primitives::seed::SampleSizes { steps: 2, leaves: 2, eval_examples: u32::MAX },
            pogo_primitives::seed::SampleSizes { steps: 7, leaves: 2, eval_examples: 8 },
            pogo_primitives::seed::SampleSizes { steps: 2, leaves: 4, eval_examples: 8 },
        ] {
            let p = TaskParams { samples, ..params() };
            assert_noop!(
                Pogo::create_task(signed(OWNER), spec(), model(), p, initial_root(), dataset(), 0),
                Error::<Test>::SampleSizesOutOfRange
            );
        }
    });
}

#[test]
fn task_ids_are_paged() {
    test(|| {
        for _ in 0..5 {
            assert_ok!(Pogo::create_task(signed(OWNER), spec(), model(), params(), initial_root(), dataset(), 0));
        }
        assert_ok!(Pogo::close_task(signed(OWNER), 2));
        assert_eq!(Pogo::api_task_ids(0, 3), vec![0, 1]);
        assert_eq!(Pogo::api_task_ids(3, u32::MAX), vec![3, 4]);
        assert_eq!(Pogo::api_task_ids(u32::MAX, u32::MAX), Vec::<TaskId>::new());
    });
}

// --- Progress without a keeper ---------------------------------------------------------------------------

/// Runs blocks with `on_idle` given the whole block, as an idle chain would, and nothing else.
fn run_idle_to(n: u64) {
    System::run_to_block_with::<AllPalletsWithSystem>(
        n,
        frame_system::RunToBlockHooks::default().before_finalize(|bn| {
            <Pogo as Hooks<u64>>::on_idle(bn, Weight::MAX);
        }),
    );
}

#[test]
fn a_round_goes_from_submission_to_finalization_without_any_advance_call() {
    test(|| {
        let (task, id, _, _) = setup(None);
        let c = Submissions::<Test>::get(id).unwrap().commitment;
        MockRelay::advance_epochs(2);
        run_idle_to(System::block_number() + 2);
        let who = assigned(id);
        assert_eq!(who.len(), 3, "on_idle fixed the challenge");
        for w in &who {
            assert_ok!(Pogo::commit_verdict(signed(*w), id, commitment_of(id, *w, &Verdict::Positive)));
        }
        run_idle_to(System::block_number() + 1);
        assert!(matches!(phase(id), Phase::Revealing(_)), "everyone committed: the reveal opened");
        for w in &who {
            assert_ok!(Pogo::reveal_verdict(signed(*w), id, Verdict::Positive, salt(*w)));
        }
        run_idle_to(System::block_number() + 1);
        assert!(matches!(phase(id), Phase::Accepted(_)));
        run_idle_to(System::block_number() + 25);
        assert!(Submissions::<Test>::get(id).is_none());
        assert_eq!(Tasks::<Test>::get(task).unwrap().state_root, c.final_root);
        assert!(pogo_events().iter().any(|e| matches!(e, Event::RoundFinalized { submission, .. } if *submission == id)));
    });
}

#[test]
fn on_idle_does_nothing_without_spare_weight() {
    test(|| {
        let (_, id, _, _) = setup(None);
        MockRelay::advance_epochs(2);
        run_to_block(System::block_number() + 1);
        let small = Pogo::advance_worst_case_weight();
        assert_eq!(<Pogo as Hooks<u64>>::on_idle(System::block_number(), small), Weight::zero());
        assert_eq!(phase(id), Phase::AwaitingChallenge);
        let used = <Pogo as Hooks<u64>>::on_idle(System::block_number(), Weight::MAX);
        assert!(used.any_gt(Weight::zero()));
        assert!(matches!(phase(id), Phase::Committing(_)));
    });
}
