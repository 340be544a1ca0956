use super::helpers::*;
use crate::{mock::*, *};
use frame_support::{assert_noop, assert_ok, BoundedVec};
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
        assert_ok!(Pogo::create_task(RuntimeOrigin::signed(OWNER), spec(), model(), params(), initial_root(), dataset(), 0));
        assert_eq!(Pogo::held(HoldReason::TaskDeposit, &OWNER), 20);
        assert_eq!(Pogo::held(HoldReason::TaskEscrow, &OWNER), 0);
        assert_eq!(Balances::free_balance(OWNER), free - 20);
        assert_ok!(Pogo::close_task(RuntimeOrigin::signed(OWNER), 0));
        assert_eq!(Pogo::held(HoldReason::TaskDeposit, &OWNER), 0);
        assert_eq!(Balances::free_balance(OWNER), free);
    });
}

#[test]
fn a_task_stores_its_model_until_closed_and_pays_for_its_bytes() {
    test(|| {
        let id = create_task();
        let stored = TaskModels::<Test>::get(id).unwrap();
        assert_eq!(stored, model());
        assert_eq!(stored.to_descriptor().hash(), Tasks::<Test>::get(id).unwrap().spec.model);
        let descriptor = stored.to_descriptor();
        let offsets = descriptor.offsets().unwrap();
        assert_eq!(offsets.last().map(|(_, at, n)| at + n), Some(PARAMS));
        assert_ok!(Pogo::close_task(RuntimeOrigin::signed(OWNER), id));
        assert!(!TaskModels::<Test>::contains_key(id));
    });
}

#[test]
fn create_task_rejects_a_model_that_is_not_the_specs() {
    test(|| {
        let o = || RuntimeOrigin::signed(OWNER);
        let create = |m: ModelOf| Pogo::create_task(o(), spec(), m, params(), [0; 32], dataset(), 1);
        // a valid descriptor of the right size, but another one than the spec commits
        let other = ModelOf::synthetic(3, PARAMS, false);
        assert_noop!(create(other), Error::<Test>::ModelHashMismatch);
        // the right count is checked before the hash
        assert_noop!(create(model_of(PARAMS + 1)), Error::<Test>::ModelParamCountMismatch);
        let mut m = model();
        m.architecture = BoundedVec::truncate_from(vec![0xff, 0xfe]);
        assert_noop!(create(m), Error::<Test>::ModelArchitectureInvalid);
        let mut m = model();
        m.architecture = BoundedVec::new();
        assert_noop!(create(m), Error::<Test>::ModelArchitectureInvalid);
        let mut m = model();
        let first = m.tensors[0].name.clone();
        m.tensors[1].name = first;
        assert_noop!(create(m), Error::<Test>::ModelTensorsInvalid);
        let mut m = model();
        m.tensors[0].shape = BoundedVec::truncate_from(vec![0]);
        assert_noop!(create(m), Error::<Test>::ModelTensorsInvalid);
        let mut m = model();
        m.tensors = BoundedVec::new();
        assert_noop!(create(m), Error::<Test>::ModelTensorsInvalid);
        // the spec is judged first: a spec error wins over a model error
        let mut s = spec();
        s.codec_block = 3;
        assert_noop!(
            Pogo::create_task(o(), s, ModelOf::synthetic(1, 1, false), params(), [0; 32], dataset(), 1),
            Error::<Test>::SpecCodecBlockInvalid
        );
    });
}

#[test]
fn create_task_rejects_bad_input() {
    test(|| {
        let o = RuntimeOrigin::signed(OWNER);
        let mut s = spec();
        s.codec_block = 3;
        assert_noop!(Pogo::create_task(o.clone(), s, model(), params(), [0; 32], dataset(), 1), Error::<Test>::SpecCodecBlockInvalid);
        let mut s = spec();
        s.steps_per_round = 12;
        s.checkpoint_interval = 9;
        assert_noop!(
            Pogo::create_task(o.clone(), s, model(), params(), [0; 32], dataset(), 1),
            Error::<Test>::CheckpointIntervalTooLarge
        );
        let mut p = params();
        p.verifiers = 0;
        assert_noop!(Pogo::create_task(o.clone(), spec(), model(), p, [0; 32], dataset(), 1), Error::<Test>::InvalidTaskParams);
        // the escalation set must be larger than level 0
        let mut p = params();
        p.escalation_verifiers = p.verifiers;
        assert_noop!(Pogo::create_task(o.clone(), spec(), model(), p, [0; 32], dataset(), 1), Error::<Test>::InvalidTaskParams);
        // more sampled steps than a round has
        let mut p = params();
        p.samples.steps = 7;
        assert_noop!(
            Pogo::create_task(o.clone(), spec(), model(), p, [0; 32], dataset(), 1),
            Error::<Test>::SampleSizesOutOfRange
        );
        assert_noop!(
            Pogo::create_task(RuntimeOrigin::signed(POOR), spec(), model(), params(), [0; 32], dataset(), 1_000),
            Error::<Test>::InsufficientBalance
        );
        // an account that can pay the deposit but not the escrow: nothing is held
        assert_noop!(
            Pogo::create_task(RuntimeOrigin::signed(REPORTER), spec(), model(), params(), [0; 32], dataset(), 80),
            Error::<Test>::InsufficientBalance
        );
    });
}
