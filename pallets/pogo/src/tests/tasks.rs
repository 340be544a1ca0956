use super::helpers::*;
use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok};
use polkadot_sdk::frame_support;

#[test]
fn create_task_holds_escrow_and_deposit_and_records_the_root() {
    test(|| {
        let free = Balances::free_balance(OWNER);
        let id = create_task();
        let task = Tasks::<Test>::get(id).unwrap();
        assert_eq!(task.state_root, initial_root());
        assert_eq!(task.escrow, 20_000);
        assert_eq!((task.root_set_at, task.deposit), (1, 20));
        assert_eq!(Pogo::held(HoldReason::TaskEscrow, &OWNER), 20_000);
        // the record itself is paid for with TaskDeposit (20 in the mock)
        assert_eq!(Pogo::held(HoldReason::TaskDeposit, &OWNER), 20);
        assert_eq!(Balances::free_balance(OWNER), free - 20_020);
        assert!(pogo_events().contains(&Event::TaskCreated {
            task: id,
            owner: OWNER,
            state_root: initial_root(),
            escrow: 20_000
        }));
    });
}

#[test]
fn a_task_without_escrow_still_pays_its_deposit_until_closed() {
    test(|| {
        let free = Balances::free_balance(OWNER);
        assert_ok!(Pogo::create_task(RuntimeOrigin::signed(OWNER), spec(), params(), initial_root(), dataset(), 0));
        assert_eq!(Pogo::held(HoldReason::TaskDeposit, &OWNER), 20);
        assert_eq!(Pogo::held(HoldReason::TaskEscrow, &OWNER), 0);
        assert_eq!(Balances::free_balance(OWNER), free - 20);
        assert_ok!(Pogo::close_task(RuntimeOrigin::signed(OWNER), 0));
        assert_eq!(Pogo::held(HoldReason::TaskDeposit, &OWNER), 0);
        assert_eq!(Balances::free_balance(OWNER), free);
    });
}

#[test]
fn create_task_rejects_bad_input() {
    test(|| {
        let o = RuntimeOrigin::signed(OWNER);
        let mut s = spec();
        s.codec_block = 3;
        assert_noop!(Pogo::create_task(o.clone(), s, params(), [0; 32], dataset(), 1), Error::<Test>::SpecCodecBlockInvalid);
        let mut s = spec();
        s.steps_per_round = 12;
        s.checkpoint_interval = 9;
        assert_noop!(
            Pogo::create_task(o.clone(), s, params(), [0; 32], dataset(), 1),
            Error::<Test>::CheckpointIntervalTooLarge
        );
        let mut p = params();
        p.verifiers = 0;
        assert_noop!(Pogo::create_task(o.clone(), spec(), p, [0; 32], dataset(), 1), Error::<Test>::InvalidTaskParams);
        // the escalation set must be larger than level 0
        let mut p = params();
        p.escalation_verifiers = p.verifiers;
        assert_noop!(Pogo::create_task(o.clone(), spec(), p, [0; 32], dataset(), 1), Error::<Test>::InvalidTaskParams);
        // more sampled steps than a round has
        let mut p = params();
        p.samples.steps = 7;
        assert_noop!(
            Pogo::create_task(o.clone(), spec(), p, [0; 32], dataset(), 1),
            Error::<Test>::SampleSizesOutOfRange
        );
        assert_noop!(
            Pogo::create_task(RuntimeOrigin::signed(POOR), spec(), params(), [0; 32], dataset(), 1_000),
            Error::<Test>::InsufficientBalance
        );
        // an account that can pay the deposit but not the escrow: nothing is held
        assert_noop!(
            Pogo::create_task(RuntimeOrigin::signed(REPORTER), spec(), params(), [0; 32], dataset(), 80),
            Error::<Test>::InsufficientBalance
        );
    });
}
