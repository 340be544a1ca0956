//! What the calls refuse: every `Error<T>` variant triggered through a real call (`assert_noop!`), the
//! origin every call requires, the `Max*`/window bounds at and past their limits, and the weights the
//! calls declare. Two refusals no call needs an error for are covered by tests of what happens instead:
//! a locator longer than `MaxLocatorLen` (a `BoundedVec` cannot hold it, so decoding refuses it) and a
//! round with no eligible verifier (it expires). `FraudProofBadStartLeaf` and `FraudProofBadEndLeaf`
//! need a miner that committed leaves of the wrong shape, which `RoundBuilder` cannot produce.

use super::helpers::*;
use crate::{mock::*, weights::WeightInfo, *};
use codec::{Decode, Encode};
use frame_support::{
    assert_noop, assert_ok,
    dispatch::{GetDispatchInfo, Pays},
    traits::{fungible::Mutate, Get},
    weights::Weight,
    BoundedVec,
};
use pogo_primitives::{
    builder::RoundBuilder,
    fraud::FraudProof,
    spec::{LrSchedule, TrainingSpec, UpdateRule, MAX_PARAM_COUNT},
    verdict::{NegativeReason, Verdict},
    MerkleTree,
};
use polkadot_sdk::{frame_support, sp_runtime};
use sp_runtime::{traits::Dispatchable, DispatchError, DispatchResult};

const P: Option<Verdict> = Some(Verdict::Positive);

fn signed(who: AccountId) -> RuntimeOrigin {
    RuntimeOrigin::signed(who)
}

fn create_with(who: AccountId, s: pogo_primitives::TrainingSpec, p: TaskParamsOf<Test>, escrow: u64) -> DispatchResult {
    Pogo::create_task(signed(who), s, model_for(&s), p, initial_root(), dataset(), escrow)
}

/// A new task, created in the next block, with a round of `miner` submitted (bonds must be in place).
fn submit_new(miner: AccountId, tamper: Option<(usize, usize)>) -> (TaskId, SubmissionId, RoundBuilder, MerkleTree) {
    next_block();
    let task = create_task();
    let (b, c, trace) = first_round(0, tamper);
    let id = NextSubmissionId::<Test>::get();
    assert_ok!(Pogo::submit_round(signed(miner), task, c, locator()));
    (task, id, b, trace)
}

/// A new submission of `miner` whose challenge is fixed: verifiers are committing.
fn committing(miner: AccountId) -> SubmissionId {
    let (_task, id, _b, _t) = submit_new(miner, None);
    fix_challenge(id);
    id
}

fn commit_until(id: SubmissionId) -> u64 {
    match Submissions::<Test>::get(id).unwrap().phase {
        Phase::Committing(until) => until,
        other => unreachable!("not committing: {other:?}"),
    }
}

fn reveal_until(id: SubmissionId) -> u64 {
    match Submissions::<Test>::get(id).unwrap().phase {
        Phase::Revealing(until) => until,
        other => unreachable!("not revealing: {other:?}"),
    }
}

/// A new submission of `miner` whose assigned verifiers all committed `Positive`: the reveal is open.
fn revealing(miner: AccountId) -> (SubmissionId, Vec<AccountId>) {
    let id = committing(miner);
    let who = assigned(id);
    for v in &who {
        assert_ok!(Pogo::commit_verdict(signed(*v), id, commitment_of(id, *v, &Verdict::Positive)));
    }
    assert_ok!(Pogo::advance(signed(REPORTER), id));
    assert!(matches!(Submissions::<Test>::get(id).unwrap().phase, Phase::Revealing(_)));
    (id, who)
}

/// A new submission of `miner` accepted by three positive reveals; returns the end of its fraud window.
fn accepted(miner: AccountId, tamper: Option<(usize, usize)>) -> (TaskId, SubmissionId, RoundBuilder, MerkleTree, u64) {
    let (task, id, b, trace) = submit_new(miner, tamper);
    fix_challenge(id);
    vote(id, &[P, P, P]);
    assert_ok!(Pogo::advance(signed(REPORTER), id));
    let final_at = match Submissions::<Test>::get(id).unwrap().phase {
        Phase::Accepted(at) => at,
        other => unreachable!("not accepted: {other:?}"),
    };
    (task, id, b, trace, final_at)
}

/// A verifier not assigned to `id` at its current level.
fn unassigned(id: SubmissionId) -> AccountId {
    let taken = assigned(id);
    VERIFIERS.into_iter().find(|v| !taken.contains(v)).unwrap()
}

/// `proof` with `end_leaf` resized so that its SCALE encoding is exactly `target` bytes.
fn padded(mut proof: FraudProof, target: usize) -> FraudProof {
    for _ in 0..8 {
        let size = proof.encoded_size();
        if size == target {
            return proof;
        }
        let len = proof.end_leaf.len();
        let new_len = if size < target { len + (target - size) } else { len - (size - target) };
        proof.end_leaf.resize(new_len, 0xAB);
    }
    assert_eq!(proof.encoded_size(), target, "padding converges");
    proof
}

// ---------------------------------------------------------------------------------------------------
// Task creation and management.
// ---------------------------------------------------------------------------------------------------

/// `change` makes the spec invalid: creating a task with it fails with `error` and holds nothing.
fn refused_spec(change: fn(&mut TrainingSpec), error: Error<Test>) {
    let mut s = spec();
    change(&mut s);
    assert_noop!(create_with(OWNER, s, params(), 20_000), error);
}

#[test]
fn invalid_spec_is_refused_with_its_reason() {
    test(|| {
        refused_spec(|s| s.param_count = 0, Error::<Test>::SpecHasNoParameters);
        refused_spec(|s| s.param_count = MAX_PARAM_COUNT + 1, Error::<Test>::SpecTooManyParameters);
        refused_spec(|s| s.leaf_size = 0, Error::<Test>::SpecLeafSizeOutOfRange);
        refused_spec(|s| s.leaf_size = 65_536 * 2, Error::<Test>::SpecLeafSizeOutOfRange);
        refused_spec(|s| s.codec_block = 3, Error::<Test>::SpecCodecBlockInvalid);
        refused_spec(|s| s.codec_block = 48, Error::<Test>::SpecCodecBlockInvalid);
        refused_spec(
            |s| s.rule = UpdateRule::Sgd { weight_decay: (-1.0f32).to_bits() },
            Error::<Test>::SpecUpdateRuleInvalid,
        );
        refused_spec(|s| s.schedule = LrSchedule::Constant { lr: f32::NAN.to_bits() }, Error::<Test>::SpecScheduleInvalid);
        refused_spec(|s| s.max_grad_norm = (-1.0f32).to_bits(), Error::<Test>::SpecClippingInvalid);
        refused_spec(|s| s.steps_per_round = 0, Error::<Test>::SpecRoundShapeInvalid);
        refused_spec(|s| s.checkpoint_interval = 7, Error::<Test>::SpecRoundShapeInvalid);
        refused_spec(|s| s.batch_size = 0, Error::<Test>::SpecDataInvalid);
        refused_spec(|s| s.eval_examples = 0, Error::<Test>::SpecDataInvalid);
        assert_eq!(Tasks::<Test>::count(), 0);
        assert_eq!(Pogo::held(HoldReason::TaskEscrow, &OWNER), 0);
        assert_eq!(Pogo::held(HoldReason::TaskDeposit, &OWNER), 0);
    });
}

#[test]
fn checkpoint_interval_above_the_bound_is_refused() {
    test(|| {
        let mut s = spec();
        s.steps_per_round = 12;
        s.checkpoint_interval = 9;
        assert_noop!(create_with(OWNER, s, params(), 20_000), Error::<Test>::CheckpointIntervalTooLarge);
    });
}

#[test]
fn checkpoint_interval_whose_fraud_proofs_exceed_max_fraud_proof_len_is_refused() {
    test(|| {
        // Leaves of 65,536 AdamW parameters are 768 KiB each: even a one-step segment's proof is too big.
        let mut s = spec();
        s.param_count = 131_072;
        s.leaf_size = 65_536;
        s.checkpoint_interval = 1;
        assert!(s.validate().is_ok());
        let limit = u64::from(<<Test as Config>::MaxFraudProofLen as Get<u32>>::get());
        assert!(pogo_primitives::fraud::max_encoded_len(&s) > limit);
        assert_noop!(create_with(OWNER, s, params(), 20_000), Error::<Test>::CheckpointIntervalTooLarge);
    });
}

#[test]
fn invalid_task_params_are_refused() {
    test(|| {
        let cases: [fn(&mut TaskParamsOf<Test>); 15] = [
            |p| p.verifiers = 0,
            |p| (p.verifiers, p.escalation_verifiers) = (5, 4),
            // the escalation set must be strictly larger than level 0
            |p| (p.verifiers, p.escalation_verifiers) = (3, 3),
            |p| (p.verifiers, p.escalation_verifiers) = (u32::MAX, 1),
            |p| p.commit_window = 1,
            |p| p.commit_window = 31,
            |p| p.reveal_window = 1,
            |p| p.reveal_window = 31,
            |p| p.tolerance.boundary_margin_ppm = 1_000_001,
            |p| p.tolerance.max_scale_error_ppm = 1_000_001,
            |p| p.tolerance.noise_floor_ppm = 1_000_001,
            |p| p.min_improvement_ppm = 1_000_001,
            |p| (p.verifiers, p.escalation_verifiers) = (9, 0),
            |p| (p.verifiers, p.escalation_verifiers) = (4, 5),
            |p| (p.verifiers, p.escalation_verifiers) = (0, 1),
        ];
        for change in cases {
            let mut p = params();
            change(&mut p);
            assert_noop!(create_with(OWNER, spec(), p, 20_000), Error::<Test>::InvalidTaskParams);
        }
    });
}

#[test]
fn sample_sizes_out_of_range_are_refused() {
    test(|| {
        // the spec: 6 steps per round, 3 leaves, 20 evaluation examples
        let cases: [fn(&mut TaskParamsOf<Test>); 4] = [
            |p| p.samples.steps = 0,
            |p| p.samples.steps = 7,
            |p| p.samples.leaves = 4,
            |p| p.samples.eval_examples = 21,
        ];
        for change in cases {
            let mut p = params();
            change(&mut p);
            assert_noop!(create_with(OWNER, spec(), p, 20_000), Error::<Test>::SampleSizesOutOfRange);
        }
        // at their limits they are accepted
        let mut p = params();
        p.samples = pogo_primitives::seed::SampleSizes { steps: 6, leaves: 3, eval_examples: 20 };
        assert_ok!(create_with(OWNER, spec(), p.clone(), 20_000));
        p.samples = pogo_primitives::seed::SampleSizes { steps: 1, leaves: 0, eval_examples: 0 };
        assert_ok!(create_with(OWNER, spec(), p, 20_000));
    });
}

#[test]
fn sampled_replay_without_sampled_leaves_is_refused() {
    test(|| {
        let mut p = params();
        p.verification = VerificationMode::SampledReplay;
        p.samples.leaves = 0;
        assert_noop!(create_with(OWNER, spec(), p.clone(), 20_000), Error::<Test>::NoLeavesForSampledReplay);
        // one leaf is enough, and the mode is stored with the task
        p.samples.leaves = 1;
        assert_ok!(create_with(OWNER, spec(), p, 20_000));
        let id = NextTaskId::<Test>::get() - 1;
        assert_eq!(Tasks::<Test>::get(id).unwrap().params.verification, VerificationMode::SampledReplay);
    });
}

#[test]
fn unknown_task_is_refused_by_every_task_call() {
    test(|| {
        bond_all();
        let missing: TaskId = 7;
        assert_noop!(Pogo::top_up(signed(OWNER), missing, 100), Error::<Test>::UnknownTask);
        assert_noop!(Pogo::set_task_status(signed(OWNER), missing, TaskStatus::Paused), Error::<Test>::UnknownTask);
        assert_noop!(Pogo::close_task(signed(OWNER), missing), Error::<Test>::UnknownTask);
        let (_b, c, _t) = first_round(0, None);
        assert_noop!(Pogo::submit_round(signed(MINER), missing, c, locator()), Error::<Test>::UnknownTask);
    });
}

#[test]
fn only_the_owner_changes_or_closes_a_task() {
    test(|| {
        let task = create_task();
        assert_noop!(Pogo::set_task_status(signed(MINER), task, TaskStatus::Paused), Error::<Test>::NotTaskOwner);
        assert_noop!(Pogo::close_task(signed(MINER), task), Error::<Test>::NotTaskOwner);
        assert_eq!(Tasks::<Test>::get(task).unwrap().status, TaskStatus::Active);
    });
}

#[test]
fn paused_task_refuses_submissions_until_resumed() {
    test(|| {
        let task = bonded_task();
        let (_b, c, _t) = first_round(0, None);
        assert_ok!(Pogo::set_task_status(signed(OWNER), task, TaskStatus::Paused));
        assert!(pogo_events().contains(&Event::TaskStatusChanged { task, status: TaskStatus::Paused }));
        assert_noop!(Pogo::submit_round(signed(MINER), task, c.clone(), locator()), Error::<Test>::TaskPaused);
        assert_ok!(Pogo::set_task_status(signed(OWNER), task, TaskStatus::Active));
        assert_ok!(Pogo::submit_round(signed(MINER), task, c, locator()));
    });
}

#[test]
fn setting_the_same_status_is_refused() {
    test(|| {
        let task = create_task();
        assert_noop!(
            Pogo::set_task_status(signed(OWNER), task, TaskStatus::Active),
            Error::<Test>::TaskStatusUnchanged
        );
        assert_ok!(Pogo::set_task_status(signed(OWNER), task, TaskStatus::Paused));
        assert_noop!(
            Pogo::set_task_status(signed(OWNER), task, TaskStatus::Paused),
            Error::<Test>::TaskStatusUnchanged
        );
    });
}

#[test]
fn task_with_pending_submissions_cannot_be_closed() {
    test(|| {
        let (task, _id, _b, _c, _t) = submitted(None);
        assert_noop!(Pogo::close_task(signed(OWNER), task), Error::<Test>::TaskHasPendingSubmissions);
        assert_eq!(Pogo::held(HoldReason::TaskEscrow, &OWNER), 20_000);
        assert_eq!(Pogo::held(HoldReason::TaskDeposit, &OWNER), 20);
    });
}

#[test]
fn underfunded_task_refuses_a_round_its_free_escrow_cannot_cover() {
    test(|| {
        // reward 1,000 + 50 · (3 + 4) verifier pay = 1,350 per round
        bond_all();
        next_block();
        assert_ok!(create_with(OWNER, spec(), params(), 1_349));
        let (_b, c, _t) = first_round(0, None);
        assert_noop!(Pogo::submit_round(signed(MINER), 0, c.clone(), locator()), Error::<Test>::TaskUnderfunded);
        // zero escrow at creation is allowed, but no round can be submitted
        assert_ok!(create_with(OWNER, spec(), params(), 0));
        assert_noop!(Pogo::submit_round(signed(MINER), 1, c, locator()), Error::<Test>::TaskUnderfunded);
    });
}

// ---------------------------------------------------------------------------------------------------
// Amounts, balances and bonds.
// ---------------------------------------------------------------------------------------------------

#[test]
fn zero_amounts_are_refused() {
    test(|| {
        let task = create_task();
        assert_noop!(Pogo::top_up(signed(OWNER), task, 0), Error::<Test>::ZeroAmount);
        for role in [Role::Miner, Role::Verifier] {
            assert_noop!(Pogo::bond(signed(MINER), role, 0), Error::<Test>::ZeroAmount);
            assert_ok!(Pogo::bond(signed(MINER), role, 1_000));
            assert_noop!(Pogo::unbond(signed(MINER), role, 0), Error::<Test>::ZeroAmount);
        }
    });
}

#[test]
fn holds_beyond_the_spendable_balance_are_refused() {
    test(|| {
        assert_noop!(Pogo::bond(signed(POOR), Role::Miner, 1), Error::<Test>::InsufficientBalance);
        assert_noop!(Pogo::bond(signed(POOR), Role::Verifier, 100), Error::<Test>::InsufficientBalance);
        // the existential deposit (10) stays free
        assert_noop!(Pogo::bond(signed(MINER), Role::Miner, 9_991), Error::<Test>::InsufficientBalance);
        assert_noop!(create_with(POOR, spec(), params(), 1_000), Error::<Test>::InsufficientBalance);
        assert_noop!(create_with(OWNER, spec(), params(), 100_001), Error::<Test>::InsufficientBalance);
        let task = create_task();
        // a third party funds by transfer: it must have the funds
        assert_noop!(Pogo::top_up(signed(POOR), task, 100), Error::<Test>::InsufficientBalance);
        assert_noop!(Pogo::top_up(signed(REPORTER), task, 100), Error::<Test>::InsufficientBalance);
        assert_noop!(Pogo::top_up(signed(OWNER), task, 80_001), Error::<Test>::InsufficientBalance);
    });
}

#[test]
fn submission_whose_deposit_cannot_be_held_is_refused_and_leaves_the_bond_untouched() {
    test(|| {
        // everything but the existential deposit is bonded: nothing is left for the storage deposit
        assert_ok!(Pogo::bond(signed(MINER), Role::Miner, 9_990));
        next_block();
        let task = create_task();
        let (_b, c, _t) = first_round(0, None);
        assert_noop!(Pogo::submit_round(signed(MINER), task, c, locator()), Error::<Test>::InsufficientBalance);
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().at_risk, 0);
        assert_eq!(Pogo::held(HoldReason::SubmissionDeposit, &MINER), 0);
    });
}

#[test]
fn accounts_without_a_bond_are_refused() {
    test(|| {
        let task = create_task();
        for role in [Role::Miner, Role::Verifier] {
            assert_noop!(Pogo::unbond(signed(MINER), role, 1), Error::<Test>::NotBonded);
            assert_noop!(Pogo::withdraw_unbonded(signed(MINER), role), Error::<Test>::NotBonded);
        }
        // a verifier bond does not make a miner
        assert_ok!(Pogo::bond(signed(MINER), Role::Verifier, 1_000));
        assert_noop!(Pogo::unbond(signed(MINER), Role::Miner, 1), Error::<Test>::NotBonded);
        let (_b, c, _t) = first_round(0, None);
        assert_noop!(Pogo::submit_round(signed(MINER), task, c, locator()), Error::<Test>::NotBonded);
    });
}

#[test]
fn more_than_the_free_bond_is_refused() {
    test(|| {
        assert_ok!(Pogo::bond(signed(MINER), Role::Miner, 1_999));
        next_block();
        let task = create_task();
        assert_noop!(Pogo::unbond(signed(MINER), Role::Miner, 2_000), Error::<Test>::InsufficientFreeBond);
        // the task's miner_bond is 2,000
        let (_b, c, _t) = first_round(0, None);
        assert_noop!(
            Pogo::submit_round(signed(MINER), task, c.clone(), locator()),
            Error::<Test>::InsufficientFreeBond
        );
        assert_ok!(Pogo::bond(signed(MINER), Role::Miner, 1));
        // the topped-up bond builds on the next root set (here a task created later)
        next_block();
        let task = create_task();
        assert_ok!(Pogo::submit_round(signed(MINER), task, c, locator()));
        // all 2,000 are now at risk
        assert_noop!(Pogo::unbond(signed(MINER), Role::Miner, 1), Error::<Test>::InsufficientFreeBond);
    });
}

#[test]
fn a_bond_newer_than_the_task_root_is_refused() {
    test(|| {
        let task = create_task();
        // bonded in the block the root was set: the round seed of a fresh account could be ground
        bond_all();
        let (b, c, _t) = first_round(0, None);
        assert_noop!(
            Pogo::submit_round(signed(MINER), task, c.clone(), locator()),
            Error::<Test>::BondNewerThanBaseRoot
        );
        // waiting does not help: the root must be set after the bond
        next_block();
        assert_noop!(
            Pogo::submit_round(signed(MINER), task, c.clone(), locator()),
            Error::<Test>::BondNewerThanBaseRoot
        );
        let task = create_task();
        assert_eq!(Tasks::<Test>::get(task).unwrap().root_set_at, 2);
        let id = NextSubmissionId::<Test>::get();
        assert_ok!(Pogo::submit_round(signed(MINER), task, c, locator()));
        // an accepted round's root counts from the block that made it public: its submission's
        let submitted_at = Submissions::<Test>::get(id).unwrap().submitted_at;
        fix_challenge(id);
        vote_and_tally(id, &[P, P, P]);
        assert_eq!(Tasks::<Test>::get(task).unwrap().root_set_at, submitted_at);
        // bonding more, even a little, renews the bond: not before the next root
        assert_ok!(Pogo::bond(signed(MINER), Role::Miner, 1));
        let (_b2, c2, _t2) = build_round(b.weights().to_vec(), b.slots().to_vec(), 7, 1, None);
        assert_noop!(
            Pogo::submit_round(signed(MINER), task, c2.clone(), locator()),
            Error::<Test>::BondNewerThanBaseRoot
        );
        // a miner bonded before the acceptance builds on it
        assert_ok!(Pogo::submit_round(signed(MINER2), task, c2, locator()));
    });
}

#[test]
fn withdraw_needs_something_unbonding_and_the_period_passed() {
    test(|| {
        assert_ok!(Pogo::bond(signed(MINER), Role::Miner, 1_000));
        assert_noop!(Pogo::withdraw_unbonded(signed(MINER), Role::Miner), Error::<Test>::NothingUnbonding);
        assert_ok!(Pogo::unbond(signed(MINER), Role::Miner, 400));
        assert_noop!(Pogo::withdraw_unbonded(signed(MINER), Role::Miner), Error::<Test>::StillUnbonding);
        run_to_block(100);
        assert_noop!(Pogo::withdraw_unbonded(signed(MINER), Role::Miner), Error::<Test>::StillUnbonding);
        run_to_block(101);
        assert_ok!(Pogo::withdraw_unbonded(signed(MINER), Role::Miner));
        assert_noop!(Pogo::withdraw_unbonded(signed(MINER), Role::Miner), Error::<Test>::NothingUnbonding);
    });
}

#[test]
fn unbonded_verifier_stake_waits_for_every_older_submission() {
    test(|| {
        // parameter 300 (leaf 1) altered after step 4: segment 1
        let (task, id, b, _c, trace) = submitted(Some((4, 300)));
        // submission `id` holds a snapshot with this verifier's whole bond in it
        let v = VERIFIERS[0];
        assert_ok!(Pogo::unbond(signed(v), Role::Verifier, 500));
        let unbonding = Pogo::ledger(Role::Verifier, &v).unwrap().unbonding.unwrap();
        assert_eq!(unbonding.after_submission, id + 1);
        // a submission newer than the unbonding does not hold it back
        let (_b2, c2, _t2) = first_round(1, None);
        assert_ok!(Pogo::submit_round(signed(MINER2), task, c2, locator()));
        run_to_block(unbonding.unlocks_at);
        assert_noop!(Pogo::withdraw_unbonded(signed(v), Role::Verifier), Error::<Test>::UnbondingAwaitsSubmissions);
        // once every older submission has settled (here by a fraud proof), the amount can leave
        assert_ok!(Pogo::report_fraud(signed(REPORTER), id, Box::new(b.fraud_proof(&trace, 1, 1).unwrap())));
        assert_eq!(Submissions::<Test>::count(), 1);
        assert_ok!(Pogo::withdraw_unbonded(signed(v), Role::Verifier));
        assert_eq!(Pogo::ledger(Role::Verifier, &v).unwrap().held, 500);
    });
}

#[test]
fn a_seventeenth_verifier_is_refused_unless_its_bond_is_larger() {
    test(|| {
        for who in 100..116u64 {
            assert_eq!(<Balances as Mutate<AccountId>>::set_balance(&who, 1_000), 1_000);
            assert_ok!(Pogo::bond(signed(who), Role::Verifier, 100));
        }
        assert_eq!(VerifierRegistry::<Test>::get().len(), 16);
        // a tie keeps the incumbents
        assert_noop!(Pogo::bond(signed(VERIFIERS[0]), Role::Verifier, 100), Error::<Test>::TooManyVerifiers);
        // a larger bond evicts the smallest, the highest account among equals
        assert_ok!(Pogo::bond(signed(VERIFIERS[0]), Role::Verifier, 101));
        assert!(pogo_events().contains(&Event::VerifierDeregistered { who: 115 }));
        assert_eq!(VerifierRegistry::<Test>::get().len(), 16);
        assert_eq!(VerifierBonds::<Test>::count(), 17, "the evicted verifier keeps its ledger");
    });
}

#[test]
fn verifier_bond_below_the_minimum_is_refused() {
    test(|| {
        assert_noop!(Pogo::bond(signed(VERIFIERS[0]), Role::Verifier, 99), Error::<Test>::BondTooSmall);
        // the active bond counts: what is unbonding does not
        assert_ok!(Pogo::bond(signed(VERIFIERS[0]), Role::Verifier, 1_000));
        assert_ok!(Pogo::unbond(signed(VERIFIERS[0]), Role::Verifier, 950));
        assert!(!Pogo::is_registered(&VERIFIERS[0]));
        assert_noop!(Pogo::bond(signed(VERIFIERS[0]), Role::Verifier, 49), Error::<Test>::BondTooSmall);
        assert_ok!(Pogo::bond(signed(VERIFIERS[0]), Role::Verifier, 50));
        assert!(Pogo::is_registered(&VERIFIERS[0]));
        // miners have no minimum
        assert_ok!(Pogo::bond(signed(MINER), Role::Miner, 1));
    });
}

// ---------------------------------------------------------------------------------------------------
// Submissions.
// ---------------------------------------------------------------------------------------------------

#[test]
fn commitment_not_on_the_task_root_is_refused() {
    test(|| {
        let task = bonded_task();
        let (_b, mut c, _t) = first_round(0, None);
        c.base_root = [9; 32];
        assert_noop!(Pogo::submit_round(signed(MINER), task, c, locator()), Error::<Test>::WrongBaseRoot);
    });
}

#[test]
fn commitment_with_another_step_count_is_refused() {
    test(|| {
        let task = bonded_task();
        let (_b, c, _t) = first_round(0, None);
        for steps in [0, 5, 7] {
            let mut c = c.clone();
            c.steps = steps;
            assert_noop!(Pogo::submit_round(signed(MINER), task, c, locator()), Error::<Test>::WrongStepCount);
        }
    });
}

#[test]
fn a_fifth_pending_submission_is_refused() {
    test(|| {
        bond_all();
        assert_ok!(Pogo::bond(signed(MINER), Role::Miner, 4_000));
        next_block();
        let task = create_task();
        let (_b, c, _t) = first_round(0, None);
        for _ in 0..4 {
            assert_ok!(Pogo::submit_round(signed(MINER), task, c.clone(), locator()));
        }
        assert_eq!(PendingByTask::<Test>::get(task).len(), 4);
        assert_noop!(Pogo::submit_round(signed(MINER2), task, c, locator()), Error::<Test>::TooManyPendingSubmissions);
    });
}

#[test]
fn locator_too_long_is_unreachable_because_decoding_refuses_it() {
    // `LocatorTooLong` is never returned: the locator is a `BoundedVec<u8, MaxLocatorLen>`, so a longer
    // one cannot be built in Rust and an extrinsic carrying one does not decode.
    test(|| {
        let (_b, c, _t) = first_round(0, None);
        let encoded = |len: usize| (2u8, 7u8, 0u32, c.clone(), vec![b'x'; len]).encode();
        let call = RuntimeCall::decode(&mut &encoded(64)[..]).expect("64 bytes decode");
        assert_eq!(
            call,
            RuntimeCall::Pogo(Call::submit_round {
                task: 0,
                commitment: c.clone(),
                locator: BoundedVec::truncate_from(vec![b'x'; 64])
            })
        );
        assert!(RuntimeCall::decode(&mut &encoded(65)[..]).is_err());
        // the same bound applies to the task's dataset locator
        let dataset = |len: usize| ([1u8; 32], [2u8; 32], vec![b'y'; len]).encode();
        assert!(DatasetOf::<Test>::decode(&mut &dataset(64)[..]).is_ok());
        assert!(DatasetOf::<Test>::decode(&mut &dataset(65)[..]).is_err());
        assert!(BoundedVec::<u8, <Test as Config>::MaxLocatorLen>::try_from(vec![0u8; 65]).is_err());
    });
}

// ---------------------------------------------------------------------------------------------------
// Attestations and progress.
// ---------------------------------------------------------------------------------------------------

#[test]
fn unknown_submission_is_refused_by_every_submission_call() {
    test(|| {
        let (_task, id, b, _c, trace) = submitted(None);
        let missing = id + 42;
        let v = VERIFIERS[0];
        assert_noop!(Pogo::commit_verdict(signed(v), missing, [0; 32]), Error::<Test>::UnknownSubmission);
        assert_noop!(
            Pogo::reveal_verdict(signed(v), missing, Verdict::Positive, salt(v)),
            Error::<Test>::UnknownSubmission
        );
        assert_noop!(Pogo::advance(signed(REPORTER), missing), Error::<Test>::UnknownSubmission);
        let proof = b.fraud_proof(&trace, 0, 0).unwrap();
        assert_noop!(Pogo::report_fraud(signed(REPORTER), missing, Box::new(proof)), Error::<Test>::UnknownSubmission);
    });
}

#[test]
fn calls_in_the_wrong_phase_are_refused() {
    test(|| {
        let (_task, id, _b, _c, _t) = submitted(None);
        let v = VERIFIERS[0];
        // awaiting the challenge
        assert_noop!(Pogo::commit_verdict(signed(v), id, [0; 32]), Error::<Test>::WrongPhase);
        assert_noop!(Pogo::reveal_verdict(signed(v), id, Verdict::Positive, salt(v)), Error::<Test>::WrongPhase);
        fix_challenge(id);
        // committing
        let who = assigned(id);
        assert_noop!(
            Pogo::reveal_verdict(signed(who[0]), id, Verdict::Positive, salt(who[0])),
            Error::<Test>::WrongPhase
        );
        vote(id, &[P, P, None]);
        // revealing: the verifier that never committed cannot commit now
        assert_noop!(
            Pogo::commit_verdict(signed(who[2]), id, commitment_of(id, who[2], &Verdict::Positive)),
            Error::<Test>::WrongPhase
        );
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        // accepted (2/3 of the stake)
        assert!(matches!(Submissions::<Test>::get(id).unwrap().phase, Phase::Accepted(_)));
        assert_noop!(Pogo::commit_verdict(signed(who[2]), id, [0; 32]), Error::<Test>::WrongPhase);
        assert_noop!(
            Pogo::reveal_verdict(signed(who[2]), id, Verdict::Positive, salt(who[2])),
            Error::<Test>::WrongPhase
        );
    });
}

#[test]
fn late_commits_and_reveals_are_refused() {
    test(|| {
        bond_all();
        let id = committing(MINER);
        let who = assigned(id);
        run_to_block(commit_until(id) + 1);
        assert_noop!(
            Pogo::commit_verdict(signed(who[0]), id, commitment_of(id, who[0], &Verdict::Positive)),
            Error::<Test>::WindowClosed
        );
        let (id, who) = revealing(MINER2);
        run_to_block(reveal_until(id) + 1);
        assert_noop!(
            Pogo::reveal_verdict(signed(who[0]), id, Verdict::Positive, salt(who[0])),
            Error::<Test>::WindowClosed
        );
    });
}

#[test]
fn verifiers_not_assigned_are_refused() {
    test(|| {
        bond_all();
        let id = committing(MINER);
        let outsider = unassigned(id);
        for who in [outsider, MINER, OWNER, POOR] {
            assert_noop!(
                Pogo::commit_verdict(signed(who), id, commitment_of(id, who, &Verdict::Positive)),
                Error::<Test>::NotAssigned
            );
        }
        let (id, _who) = revealing(MINER2);
        let outsider = unassigned(id);
        assert_noop!(
            Pogo::reveal_verdict(signed(outsider), id, Verdict::Positive, salt(outsider)),
            Error::<Test>::NotAssigned
        );
    });
}

#[test]
fn second_commit_is_refused() {
    test(|| {
        bond_all();
        let id = committing(MINER);
        let v = assigned(id)[0];
        assert_ok!(Pogo::commit_verdict(signed(v), id, commitment_of(id, v, &Verdict::Positive)));
        let other = Verdict::Negative(NegativeReason::NoProgress);
        assert_noop!(
            Pogo::commit_verdict(signed(v), id, commitment_of(id, v, &other)),
            Error::<Test>::AlreadyCommitted
        );
    });
}

#[test]
fn reveal_without_commit_is_refused() {
    test(|| {
        bond_all();
        let id = committing(MINER);
        let who = assigned(id);
        vote(id, &[P, P, None]);
        assert_noop!(
            Pogo::reveal_verdict(signed(who[2]), id, Verdict::Positive, salt(who[2])),
            Error::<Test>::NotCommitted
        );
    });
}

#[test]
fn second_reveal_is_refused() {
    test(|| {
        bond_all();
        let (id, who) = revealing(MINER);
        assert_ok!(Pogo::reveal_verdict(signed(who[0]), id, Verdict::Positive, salt(who[0])));
        assert_noop!(
            Pogo::reveal_verdict(signed(who[0]), id, Verdict::Positive, salt(who[0])),
            Error::<Test>::AlreadyRevealed
        );
    });
}

#[test]
fn reveal_not_matching_the_commitment_is_refused() {
    test(|| {
        bond_all();
        let (id, who) = revealing(MINER);
        let v = who[0];
        let bad = Verdict::Negative(NegativeReason::InconsistentUpdate);
        assert_noop!(Pogo::reveal_verdict(signed(v), id, bad, salt(v)), Error::<Test>::RevealMismatch);
        assert_noop!(Pogo::reveal_verdict(signed(v), id, Verdict::Positive, [0xEE; 32]), Error::<Test>::RevealMismatch);
    });
}

#[test]
fn challenge_before_relay_randomness_is_refused() {
    test(|| {
        let task = bonded_task();
        let (_b, c, _t) = first_round(0, None);
        // no relay randomness at all: the submission's epoch is unknown
        MockRelay::set(None);
        assert_noop!(Pogo::submit_round(signed(MINER), task, c.clone(), locator()), Error::<Test>::ChallengeNotReady);
        MockRelay::set(Some((10, [7u8; 32])));
        let id = NextSubmissionId::<Test>::get();
        assert_ok!(Pogo::submit_round(signed(MINER), task, c, locator()));
        // the challenge needs the randomness of epoch 10 + ChallengeEpochDelay (2)
        assert_noop!(Pogo::advance(signed(REPORTER), id), Error::<Test>::ChallengeNotReady);
        MockRelay::advance_epochs(1);
        run_to_block(System::block_number() + 1);
        assert_noop!(Pogo::advance(signed(REPORTER), id), Error::<Test>::ChallengeNotReady);
        fix_challenge(id);
        assert!(matches!(Submissions::<Test>::get(id).unwrap().phase, Phase::Committing(_)));
    });
}

#[test]
fn advance_before_the_deadline_is_refused_in_every_waiting_phase() {
    test(|| {
        // committing: one verifier has not committed
        bond_all();
        let id = committing(MINER);
        let who = assigned(id);
        assert_noop!(Pogo::advance(signed(REPORTER), id), Error::<Test>::TooEarly);
        for v in &who[..2] {
            assert_ok!(Pogo::commit_verdict(signed(*v), id, commitment_of(id, *v, &Verdict::Positive)));
        }
        run_to_block(commit_until(id));
        assert_noop!(Pogo::advance(signed(REPORTER), id), Error::<Test>::TooEarly);
        run_to_block(commit_until(id) + 1);
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        // revealing: one committed verifier has not revealed
        assert_ok!(Pogo::reveal_verdict(signed(who[0]), id, Verdict::Positive, salt(who[0])));
        assert_noop!(Pogo::advance(signed(REPORTER), id), Error::<Test>::TooEarly);
        run_to_block(reveal_until(id));
        assert_noop!(Pogo::advance(signed(REPORTER), id), Error::<Test>::TooEarly);
        // escalated (one positive of three): the level-1 challenge waits for the randomness of two relay
        // epochs after the escalation
        run_to_block(reveal_until(id) + 1);
        assert_ok!(Pogo::advance(signed(REPORTER), id));
        assert_eq!(Submissions::<Test>::get(id).unwrap().phase, Phase::AwaitingChallenge);
        assert_noop!(Pogo::advance(signed(REPORTER), id), Error::<Test>::ChallengeNotReady);
        MockRelay::advance_epochs(1);
        next_block();
        assert_noop!(Pogo::advance(signed(REPORTER), id), Error::<Test>::ChallengeNotReady);
        // accepted: the fraud window has not closed
        let (_task, id2, _b, _t, final_at) = accepted(MINER2, None);
        assert_noop!(Pogo::advance(signed(REPORTER), id2), Error::<Test>::TooEarly);
        run_to_block(final_at - 1);
        assert_noop!(Pogo::advance(signed(REPORTER), id2), Error::<Test>::TooEarly);
        run_to_block(final_at);
        assert_ok!(Pogo::advance(signed(REPORTER), id2));
        assert!(pogo_events()
            .iter()
            .any(|e| matches!(e, Event::RoundFinalized { submission, .. } if *submission == id2)));
    });
}

#[test]
fn no_eligible_verifiers_is_unreachable_a_round_nobody_can_verify_expires() {
    // `NoEligibleVerifiers` is never returned: with nobody to draw, `advance` expires the round.
    test(|| {
        assert_ok!(Pogo::bond(signed(MINER), Role::Miner, 5_000));
        // the miner's own verifier bond does not count, nor does a bond below MinVerifierBond
        assert_ok!(Pogo::bond(signed(MINER), Role::Verifier, 1_000));
        assert_ok!(Pogo::bond(signed(VERIFIERS[0]), Role::Verifier, 1_000));
        assert_ok!(Pogo::unbond(signed(VERIFIERS[0]), Role::Verifier, 901));
        next_block();
        let task = create_task();
        let (_b, c, _t) = first_round(0, None);
        let id = NextSubmissionId::<Test>::get();
        assert_ok!(Pogo::submit_round(signed(MINER), task, c, locator()));
        assert!(Snapshots::<Test>::get(id).unwrap().is_empty());
        let free = Balances::free_balance(MINER);
        fix_challenge(id);
        assert!(Submissions::<Test>::get(id).is_none());
        assert!(pogo_events().contains(&Event::RoundExpired { submission: id, task }));
        assert!(!pogo_events().iter().any(|e| matches!(e, Event::ChallengeFixed { .. })));
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().at_risk, 0);
        assert_eq!(Balances::free_balance(MINER), free + 5, "deposit back");
        let t = Tasks::<Test>::get(task).unwrap();
        assert_eq!((t.committed, t.pending, t.escrow, t.state_root), (0, 0, 20_000, initial_root()));
    });
}

// ---------------------------------------------------------------------------------------------------
// Fraud proofs.
// ---------------------------------------------------------------------------------------------------

#[test]
fn fraud_proof_of_an_honest_round_is_refused() {
    test(|| {
        let (_task, id, b, _c, trace) = submitted(None);
        for (leaf, segment) in [(0, 0), (1, 1), (2, 0)] {
            let proof = b.fraud_proof(&trace, leaf, segment).unwrap();
            assert_noop!(
                Pogo::report_fraud(signed(REPORTER), id, Box::new(proof)),
                Error::<Test>::FraudProofShowsNoFraud
            );
        }
        // out-of-range segment (6 steps, checkpoints every 3: segments 0 and 1) and leaf (3 leaves)
        let mut proof = b.fraud_proof(&trace, 0, 0).unwrap();
        proof.segment = 2;
        assert_noop!(
            Pogo::report_fraud(signed(REPORTER), id, Box::new(proof.clone())),
            Error::<Test>::FraudProofOutOfRange
        );
        proof.segment = 0;
        proof.leaf_index = 3;
        assert_noop!(Pogo::report_fraud(signed(REPORTER), id, Box::new(proof)), Error::<Test>::FraudProofOutOfRange);
    });
}

/// `change` breaks the valid proof `good` of submission `id`: the report fails with `error`.
fn refused_proof(id: SubmissionId, good: &FraudProof, change: fn(&mut FraudProof), error: Error<Test>) {
    let mut proof = good.clone();
    change(&mut proof);
    assert_noop!(Pogo::report_fraud(signed(REPORTER), id, Box::new(proof)), error);
}

#[test]
fn a_broken_fraud_proof_is_refused_with_what_is_broken() {
    test(|| {
        // a tampered round: only the proof's own defects can make a report fail
        let (task, id, b, _c, trace) = submitted(Some((4, 300)));
        let good = b.fraud_proof(&trace, 1, 1).unwrap();
        refused_proof(id, &good, |p| p.start_anchor = None, Error::<Test>::FraudProofWrongAnchor);
        refused_proof(
            id,
            &good,
            |p| {
                p.steps.pop();
            },
            Error::<Test>::FraudProofWrongSteps,
        );
        refused_proof(id, &good, |p| p.steps.swap(0, 1), Error::<Test>::FraudProofWrongSteps);
        refused_proof(
            id,
            &good,
            |p| p.steps[0].record.record.gradient_root = [0; 32],
            Error::<Test>::FraudProofBadRecordOpening,
        );
        refused_proof(id, &good, |p| p.steps[0].gradient_leaf[0] ^= 1, Error::<Test>::FraudProofBadGradientOpening);
        refused_proof(id, &good, |p| p.start_leaf[0] ^= 1, Error::<Test>::FraudProofBadStartOpening);
        refused_proof(id, &good, |p| p.end_leaf[0] ^= 1, Error::<Test>::FraudProofBadEndOpening);
        refused_proof(id, &good, |p| p.leaf_index = 7, Error::<Test>::FraudProofOutOfRange);
        // each verdict is the primitives' own
        let mut broken = good.clone();
        broken.start_anchor = None;
        let task_spec = Tasks::<Test>::get(task).unwrap().spec;
        let commitment = Submissions::<Test>::get(id).unwrap().commitment;
        assert_eq!(
            pogo_primitives::fraud::verify(&task_spec, &commitment, &broken),
            Err(pogo_primitives::fraud::FraudProofError::WrongAnchor)
        );
        // the proof as built shows the fraud
        assert_ok!(Pogo::report_fraud(signed(REPORTER), id, Box::new(good.clone())));
    });
}

#[test]
fn fraud_proof_larger_than_max_fraud_proof_len_is_refused() {
    test(|| {
        let (_task, id, b, _c, trace) = submitted(None);
        let limit = <<Test as Config>::MaxFraudProofLen as Get<u32>>::get() as usize;
        let proof = b.fraud_proof(&trace, 0, 0).unwrap();
        assert!(proof.encoded_size() < limit);
        // at the limit the size is fine (the padded end leaf then fails its opening)
        let at_limit = padded(proof.clone(), limit);
        assert_noop!(
            Pogo::report_fraud(signed(REPORTER), id, Box::new(at_limit)),
            Error::<Test>::FraudProofBadEndOpening
        );
        let over = padded(proof, limit + 1);
        assert_noop!(
            Pogo::report_fraud(signed(REPORTER), id, Box::new(over.clone())),
            Error::<Test>::FraudProofTooLarge
        );
        // the size is checked before anything is read
        assert_noop!(Pogo::report_fraud(signed(REPORTER), id + 9, Box::new(over)), Error::<Test>::FraudProofTooLarge);
    });
}

#[test]
fn fraud_proof_after_the_fraud_window_is_refused() {
    test(|| {
        // parameter 10 (leaf 0) altered after step 1: segment 0
        bond_all();
        let (_task, id, b, trace, final_at) = accepted(MINER, Some((1, 10)));
        let proof = b.fraud_proof(&trace, 0, 0).unwrap();
        run_to_block(final_at);
        assert_noop!(Pogo::report_fraud(signed(REPORTER), id, Box::new(proof)), Error::<Test>::FraudWindowClosed);
        // in the last block of its window the same kind of proof overturns a round
        let (task, id, b, trace, final_at) = accepted(MINER2, Some((1, 10)));
        run_to_block(final_at - 1);
        assert_ok!(Pogo::report_fraud(signed(REPORTER), id, Box::new(b.fraud_proof(&trace, 0, 0).unwrap())));
        assert_eq!(Tasks::<Test>::get(task).unwrap().state_root, initial_root());
        assert!(Submissions::<Test>::get(id).is_none());
    });
}

// ---------------------------------------------------------------------------------------------------
// Overflow.
// ---------------------------------------------------------------------------------------------------

#[test]
fn round_cost_that_overflows_is_refused() {
    test(|| {
        let mut p = params();
        p.verifier_pay = u64::MAX / 2;
        assert_noop!(create_with(OWNER, spec(), p, 20_000), Error::<Test>::Overflow);
        // verifier pay for 3 + 4 verifiers is 350
        let mut p = params();
        p.reward = u64::MAX - 349;
        assert_noop!(create_with(OWNER, spec(), p, 20_000), Error::<Test>::Overflow);
        // exactly u64::MAX still fits
        let mut p = params();
        p.reward = u64::MAX - 350;
        assert_ok!(create_with(OWNER, spec(), p, 20_000));
    });
}

#[test]
fn exhausted_id_counters_overflow() {
    test(|| {
        // ids after 2^32 tasks or 2^64 submissions: the counters refuse to wrap
        NextTaskId::<Test>::put(TaskId::MAX);
        assert_noop!(create_with(OWNER, spec(), params(), 20_000), Error::<Test>::Overflow);
        NextTaskId::<Test>::put(0);
        let task = bonded_task();
        NextSubmissionId::<Test>::put(SubmissionId::MAX);
        let (_b, c, _t) = first_round(0, None);
        assert_noop!(Pogo::submit_round(signed(MINER), task, c, locator()), Error::<Test>::Overflow);
    });
}

// ---------------------------------------------------------------------------------------------------
// Origins: every call needs a signed origin; root and none are refused with `BadOrigin`.
// ---------------------------------------------------------------------------------------------------

fn assert_signed_only(call: Call<Test>) {
    let call = RuntimeCall::Pogo(call);
    for origin in [RuntimeOrigin::root(), RuntimeOrigin::none()] {
        assert_noop!(call.clone().dispatch(origin), DispatchError::BadOrigin);
    }
}

#[test]
fn create_task_needs_a_signed_origin_that_can_fund_it() {
    test(|| {
        assert_signed_only(Call::create_task {
            spec: spec(),
            model: model(),
            params: params(),
            initial_root: initial_root(),
            dataset: dataset(),
            escrow: 20_000,
        });
        assert_noop!(create_with(POOR, spec(), params(), 20_000), Error::<Test>::InsufficientBalance);
        assert_ok!(create_with(OWNER, spec(), params(), 20_000));
        assert_eq!(Tasks::<Test>::get(0).unwrap().owner, OWNER);
    });
}

#[test]
fn top_up_needs_a_signed_origin_that_can_pay() {
    test(|| {
        let task = create_task();
        assert_signed_only(Call::top_up { task, amount: 100 });
        assert_noop!(Pogo::top_up(signed(POOR), task, 100), Error::<Test>::InsufficientBalance);
        // anyone with funds may top up; the escrow is held on the owner
        let miner = Balances::free_balance(MINER);
        assert_ok!(Pogo::top_up(signed(MINER), task, 100));
        assert_eq!(Balances::free_balance(MINER), miner - 100);
        assert_ok!(Pogo::top_up(signed(OWNER), task, 100));
        assert_eq!(Pogo::held(HoldReason::TaskEscrow, &OWNER), 20_200);
        assert_eq!(Tasks::<Test>::get(task).unwrap().escrow, 20_200);
        assert!(pogo_events().contains(&Event::TaskToppedUp { task, amount: 100, escrow: 20_200 }));
    });
}

#[test]
fn set_task_status_needs_the_signed_owner() {
    test(|| {
        let task = create_task();
        assert_signed_only(Call::set_task_status { task, status: TaskStatus::Paused });
        assert_noop!(Pogo::set_task_status(signed(POOR), task, TaskStatus::Paused), Error::<Test>::NotTaskOwner);
        assert_ok!(Pogo::set_task_status(signed(OWNER), task, TaskStatus::Paused));
        assert_eq!(Tasks::<Test>::get(task).unwrap().status, TaskStatus::Paused);
    });
}

#[test]
fn close_task_needs_the_signed_owner() {
    test(|| {
        let task = create_task();
        assert_signed_only(Call::close_task { task });
        assert_noop!(Pogo::close_task(signed(POOR), task), Error::<Test>::NotTaskOwner);
        let free = Balances::free_balance(OWNER);
        assert_ok!(Pogo::close_task(signed(OWNER), task));
        assert!(Tasks::<Test>::get(task).is_none());
        assert_eq!(Pogo::held(HoldReason::TaskEscrow, &OWNER), 0);
        assert_eq!(Pogo::held(HoldReason::TaskDeposit, &OWNER), 0);
        // the escrow and the task deposit come back
        assert_eq!(Balances::free_balance(OWNER), free + 20_000 + 20);
        assert!(pogo_events().contains(&Event::TaskClosed { task, released: 20_000 }));
    });
}

#[test]
fn bond_needs_a_signed_origin_with_funds() {
    test(|| {
        assert_signed_only(Call::bond { role: Role::Miner, amount: 100 });
        assert_noop!(Pogo::bond(signed(POOR), Role::Miner, 100), Error::<Test>::InsufficientBalance);
        assert_ok!(Pogo::bond(signed(MINER), Role::Miner, 100));
        assert_eq!(Pogo::held(HoldReason::MinerBond, &MINER), 100);
    });
}

#[test]
fn unbond_needs_a_signed_bonded_origin() {
    test(|| {
        assert_ok!(Pogo::bond(signed(MINER), Role::Miner, 100));
        assert_signed_only(Call::unbond { role: Role::Miner, amount: 100 });
        assert_noop!(Pogo::unbond(signed(POOR), Role::Miner, 100), Error::<Test>::NotBonded);
        assert_ok!(Pogo::unbond(signed(MINER), Role::Miner, 100));
    });
}

#[test]
fn withdraw_unbonded_needs_a_signed_bonded_origin() {
    test(|| {
        assert_ok!(Pogo::bond(signed(MINER), Role::Miner, 100));
        assert_ok!(Pogo::unbond(signed(MINER), Role::Miner, 100));
        run_to_block(101);
        assert_signed_only(Call::withdraw_unbonded { role: Role::Miner });
        assert_noop!(Pogo::withdraw_unbonded(signed(POOR), Role::Miner), Error::<Test>::NotBonded);
        assert_ok!(Pogo::withdraw_unbonded(signed(MINER), Role::Miner));
        assert!(MinerBonds::<Test>::get(MINER).is_none());
    });
}

#[test]
fn submit_round_needs_a_signed_bonded_miner() {
    test(|| {
        let task = bonded_task();
        let (_b, c, _t) = first_round(0, None);
        assert_signed_only(Call::submit_round { task, commitment: c.clone(), locator: locator() });
        assert_noop!(Pogo::submit_round(signed(POOR), task, c.clone(), locator()), Error::<Test>::NotBonded);
        assert_ok!(Pogo::submit_round(signed(MINER), task, c, locator()));
    });
}

#[test]
fn commit_verdict_needs_a_signed_assigned_verifier() {
    test(|| {
        bond_all();
        let id = committing(MINER);
        let v = assigned(id)[0];
        let hash = commitment_of(id, v, &Verdict::Positive);
        assert_signed_only(Call::commit_verdict { submission: id, commitment: hash });
        assert_noop!(Pogo::commit_verdict(signed(POOR), id, hash), Error::<Test>::NotAssigned);
        assert_ok!(Pogo::commit_verdict(signed(v), id, hash));
    });
}

#[test]
fn reveal_verdict_needs_a_signed_assigned_verifier() {
    test(|| {
        bond_all();
        let (id, who) = revealing(MINER);
        let v = who[0];
        assert_signed_only(Call::reveal_verdict { submission: id, verdict: Verdict::Positive, salt: salt(v) });
        assert_noop!(Pogo::reveal_verdict(signed(POOR), id, Verdict::Positive, salt(v)), Error::<Test>::NotAssigned);
        assert_ok!(Pogo::reveal_verdict(signed(v), id, Verdict::Positive, salt(v)));
    });
}

#[test]
fn advance_needs_a_signed_origin_of_anyone() {
    test(|| {
        let (_task, id, _b, _c, _t) = submitted(None);
        MockRelay::advance_epochs(2);
        next_block();
        assert_signed_only(Call::advance { submission: id });
        // permissionless: an account with no funds and no role moves the round on
        assert_ok!(Pogo::advance(signed(POOR), id));
        assert!(matches!(Submissions::<Test>::get(id).unwrap().phase, Phase::Committing(_)));
        assert_noop!(Pogo::advance(signed(POOR), id), Error::<Test>::TooEarly);
    });
}

#[test]
fn report_fraud_needs_a_signed_origin_and_a_valid_proof() {
    test(|| {
        // parameter 300 (leaf 1) altered after step 4: segment 1
        let (_task, id, b, _c, trace) = submitted(Some((4, 300)));
        let proof = b.fraud_proof(&trace, 1, 1).unwrap();
        assert_signed_only(Call::report_fraud { submission: id, proof: Box::new(proof.clone()) });
        let honest = b.fraud_proof(&trace, 0, 1).unwrap();
        assert_noop!(Pogo::report_fraud(signed(POOR), id, Box::new(honest)), Error::<Test>::FraudProofShowsNoFraud);
        // anyone may report, even an account with no funds: a proven fraud pays no fee, and no reward
        let treasury = Balances::free_balance(TREASURY);
        let info = Pogo::report_fraud(signed(POOR), id, Box::new(proof)).expect("the proof shows fraud");
        assert_eq!(info.pays_fee, Pays::No);
        assert_eq!(Balances::free_balance(POOR), 0);
        assert_eq!(Balances::free_balance(TREASURY), treasury + 2_000);
        assert!(Submissions::<Test>::get(id).is_none());
    });
}

// ---------------------------------------------------------------------------------------------------
// Bounds at and past their limits.
// ---------------------------------------------------------------------------------------------------

#[test]
fn windows_at_min_window_and_max_window_are_accepted() {
    test(|| {
        for (commit, reveal) in [(2, 2), (30, 30), (2, 30)] {
            let mut p = params();
            (p.commit_window, p.reveal_window) = (commit, reveal);
            assert_ok!(create_with(OWNER, spec(), p, 0));
        }
        for (commit, reveal) in [(1, 2), (2, 1), (31, 30), (30, 31), (0, 0)] {
            let mut p = params();
            (p.commit_window, p.reveal_window) = (commit, reveal);
            assert_noop!(create_with(OWNER, spec(), p, 0), Error::<Test>::InvalidTaskParams);
        }
    });
}

#[test]
fn verifiers_up_to_max_assigned_over_both_levels_are_accepted() {
    test(|| {
        // level 1 strictly larger than level 0, at most MaxAssigned (8) in all
        for (level0, level1) in [(1, 2), (3, 5), (2, 6), (1, 7)] {
            let mut p = params();
            (p.verifiers, p.escalation_verifiers) = (level0, level1);
            assert_ok!(create_with(OWNER, spec(), p, 0));
        }
        for (level0, level1) in [(8, 0), (4, 4), (9, 0), (4, 5), (3, 6), (1, 8)] {
            let mut p = params();
            (p.verifiers, p.escalation_verifiers) = (level0, level1);
            assert_noop!(create_with(OWNER, spec(), p, 0), Error::<Test>::InvalidTaskParams);
        }
    });
}

#[test]
fn checkpoint_interval_at_max_checkpoint_interval_is_accepted() {
    test(|| {
        let mut s = spec();
        (s.steps_per_round, s.checkpoint_interval) = (8, 8);
        assert_ok!(create_with(OWNER, s, params(), 0));
        (s.steps_per_round, s.checkpoint_interval) = (16, 8);
        assert_ok!(create_with(OWNER, s, params(), 0));
        (s.steps_per_round, s.checkpoint_interval) = (9, 9);
        assert_noop!(create_with(OWNER, s, params(), 0), Error::<Test>::CheckpointIntervalTooLarge);
        (s.steps_per_round, s.checkpoint_interval) = (16, 9);
        assert_noop!(create_with(OWNER, s, params(), 0), Error::<Test>::CheckpointIntervalTooLarge);
    });
}

#[test]
fn locator_of_max_locator_len_is_stored() {
    test(|| {
        let task = bonded_task();
        let (_b, c, _t) = first_round(0, None);
        let id = NextSubmissionId::<Test>::get();
        let long: BoundedVec<u8, <Test as Config>::MaxLocatorLen> = vec![b'z'; 64].try_into().unwrap();
        assert_ok!(Pogo::submit_round(signed(MINER), task, c, long.clone()));
        assert_eq!(Submissions::<Test>::get(id).unwrap().locator, long);
        let ds = DatasetCommitment { train_root: [1; 32], eval_root: [2; 32], locator: long };
        assert_ok!(Pogo::create_task(signed(OWNER), spec(), model(), params(), initial_root(), ds.clone(), 0));
        assert_eq!(Tasks::<Test>::get(task + 1).unwrap().dataset, ds);
    });
}

// ---------------------------------------------------------------------------------------------------
// Weights: no call is free, at its smallest or its worst-case arguments.
// ---------------------------------------------------------------------------------------------------

#[test]
fn no_call_weighs_nothing() {
    test(|| {
        type W = ();
        let max_verifiers: u32 = <Test as Config>::MaxVerifiers::get();
        let max_assigned: u32 = <Test as Config>::MaxAssigned::get();
        let max_pending: u32 = <Test as Config>::MaxPendingPerTask::get();
        let max_interval: u32 = <Test as Config>::MaxCheckpointInterval::get();
        let functions = [
            ("create_task", <W as WeightInfo>::create_task(pogo_primitives::model::MAX_TENSORS)),
            ("top_up", <W as WeightInfo>::top_up()),
            ("set_task_status", <W as WeightInfo>::set_task_status()),
            ("close_task", <W as WeightInfo>::close_task()),
            ("bond", <W as WeightInfo>::bond()),
            ("unbond", <W as WeightInfo>::unbond()),
            ("withdraw_unbonded", <W as WeightInfo>::withdraw_unbonded()),
            ("submit_round(0)", <W as WeightInfo>::submit_round(0)),
            ("submit_round(max)", <W as WeightInfo>::submit_round(max_verifiers)),
            ("commit_verdict", <W as WeightInfo>::commit_verdict()),
            ("reveal_verdict", <W as WeightInfo>::reveal_verdict()),
            ("advance_challenge(0)", <W as WeightInfo>::advance_challenge(0)),
            ("advance_challenge(max)", <W as WeightInfo>::advance_challenge(max_verifiers)),
            ("advance_tally(0)", <W as WeightInfo>::advance_tally(0)),
            ("advance_tally(max)", <W as WeightInfo>::advance_tally(max_assigned)),
            ("advance_void(0)", <W as WeightInfo>::advance_void(0)),
            ("advance_void(max)", <W as WeightInfo>::advance_void(max_assigned)),
            ("advance_reject(0)", <W as WeightInfo>::advance_reject(0)),
            ("advance_reject(max)", <W as WeightInfo>::advance_reject(max_assigned)),
            ("advance_finalize(0)", <W as WeightInfo>::advance_finalize(0)),
            ("advance_finalize(max)", <W as WeightInfo>::advance_finalize(max_assigned)),
            ("advance_worst_case", Pogo::advance_worst_case_weight()),
            ("report_fraud(0, 0)", <W as WeightInfo>::report_fraud(0, 0)),
            ("report_fraud(max, max)", <W as WeightInfo>::report_fraud(max_interval, max_pending - 1)),
            ("report_fraud_worst_case", Pogo::report_fraud_worst_case_weight()),
            ("record_epoch_randomness", <W as WeightInfo>::record_epoch_randomness()),
        ];
        for (name, w) in functions {
            assert!(w.ref_time() > 0, "{name}: zero ref_time");
            assert!(w.proof_size() > 0, "{name}: zero proof_size");
        }
        // The worst case of `advance` covers each of its branches at the mock's bounds.
        let worst = Pogo::advance_worst_case_weight();
        assert!(worst.all_gte(<W as WeightInfo>::advance_challenge(max_verifiers)));
        assert!(worst.all_gte(<W as WeightInfo>::advance_tally(max_assigned)));
        assert!(worst.all_gte(<W as WeightInfo>::advance_void(max_assigned)));
        assert!(worst.all_gte(<W as WeightInfo>::advance_reject(max_assigned)));
        assert!(worst.all_gte(<W as WeightInfo>::advance_finalize(max_assigned)));
        // `report_fraud` declares the longest replay and the most rounds it can void.
        let worst_report = Pogo::report_fraud_worst_case_weight();
        assert_eq!(worst_report, <W as WeightInfo>::report_fraud(max_interval, max_pending - 1));
        for interval in 1..=max_interval {
            for others in 0..max_pending {
                assert!(worst_report.all_gte(<W as WeightInfo>::report_fraud(interval, others)));
            }
        }

        // Every call declares its worst-case weight.
        let (b, c, trace) = first_round(0, Some((1, 10)));
        let proof = b.fraud_proof(&trace, 0, 0).unwrap();
        let calls: [(Call<Test>, Weight); 12] = [
            (
                Call::create_task {
                    spec: spec(),
                    model: model(),
                    params: params(),
                    initial_root: initial_root(),
                    dataset: dataset(),
                    escrow: u64::MAX,
                },
                <W as WeightInfo>::create_task(model().tensors.len() as u32),
            ),
            (Call::top_up { task: 0, amount: u64::MAX }, <W as WeightInfo>::top_up()),
            (Call::set_task_status { task: 0, status: TaskStatus::Paused }, <W as WeightInfo>::set_task_status()),
            (Call::close_task { task: 0 }, <W as WeightInfo>::close_task()),
            (Call::bond { role: Role::Verifier, amount: u64::MAX }, <W as WeightInfo>::bond()),
            (Call::unbond { role: Role::Verifier, amount: u64::MAX }, <W as WeightInfo>::unbond()),
            (Call::withdraw_unbonded { role: Role::Verifier }, <W as WeightInfo>::withdraw_unbonded()),
            (
                Call::submit_round { task: 0, commitment: c, locator: vec![0u8; 64].try_into().unwrap() },
                <W as WeightInfo>::submit_round(max_verifiers),
            ),
            (Call::commit_verdict { submission: 0, commitment: [0; 32] }, <W as WeightInfo>::commit_verdict()),
            (
                Call::reveal_verdict { submission: 0, verdict: Verdict::Positive, salt: [0; 32] },
                <W as WeightInfo>::reveal_verdict(),
            ),
            (Call::advance { submission: 0 }, worst),
            (Call::report_fraud { submission: 0, proof: Box::new(proof) }, worst_report),
        ];
        for (call, expected) in calls {
            let info = call.get_dispatch_info();
            assert_eq!(info.call_weight, expected, "{call:?}");
            assert!(info.call_weight.ref_time() > 0 && info.call_weight.proof_size() > 0, "{call:?}");
        }
    });
}
