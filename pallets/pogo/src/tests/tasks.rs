use super::helpers::*;
use crate::{mock::*, *};
use frame_support::assert_noop;
use polkadot_sdk::frame_support;

#[test]
fn create_task_holds_escrow_and_records_the_root() {
    test(|| {
        let id = create_task();
        let task = Tasks::<Test>::get(id).unwrap();
        assert_eq!(task.state_root, initial_root());
        assert_eq!(task.escrow, 20_000);
        assert_eq!(Pogo::held(HoldReason::TaskEscrow, &OWNER), 20_000);
        assert!(pogo_events().contains(&Event::TaskCreated {
            task: id,
            owner: OWNER,
            state_root: initial_root(),
            escrow: 20_000
        }));
    });
}

#[test]
fn create_task_rejects_bad_input() {
    test(|| {
        let o = RuntimeOrigin::signed(OWNER);
        let mut s = spec();
        s.codec_block = 3;
        assert_noop!(Pogo::create_task(o.clone(), s, params(), [0; 32], dataset(), 1), Error::<Test>::InvalidSpec);
        let mut s = spec();
        s.checkpoint_interval = 6;
        s.steps_per_round = 12;
        s.checkpoint_interval = 9;
        assert_noop!(
            Pogo::create_task(o.clone(), s, params(), [0; 32], dataset(), 1),
            Error::<Test>::CheckpointIntervalTooLarge
        );
        let mut p = params();
        p.verifiers = 0;
        assert_noop!(Pogo::create_task(o.clone(), spec(), p, [0; 32], dataset(), 1), Error::<Test>::InvalidTaskParams);
        assert_noop!(
            Pogo::create_task(RuntimeOrigin::signed(POOR), spec(), params(), [0; 32], dataset(), 1_000),
            Error::<Test>::InsufficientBalance
        );
    });
}
