//! Storage versions 0 → 1 → 2: records written in an old layout come out in the next one, once.

use super::helpers::*;
use crate::{
    migrations::{v1, v1::frozen, v2},
    mock::*,
    *,
};
use frame_support::{
    storage::unhashed,
    traits::{fungible::MutateHold, GetStorageVersion, OnRuntimeUpgrade, StorageVersion},
    BoundedVec,
};
use codec::{Decode, Encode};
use frame_support::assert_noop;
use pogo_primitives::{tolerance::Tolerance, TrainingSpec};
use polkadot_sdk::frame_support;

/// [`spec`] as protocol version 1 encoded it: version 2's encoding without the leading model hash.
fn v1_spec() -> frozen::TrainingSpec {
    let bytes = spec().encode();
    frozen::TrainingSpec::decode(&mut &bytes[32..]).unwrap()
}

/// Writes a version-0 chain: a task, a level-1 submission, a miner and two verifiers (one unbonding
/// below the minimum), with their holds.
fn write_v0() {
    StorageVersion::new(0).put::<Pogo>();
    let ledger = |held: u64, at_risk: u64, unbonding: Option<(u64, u64)>| v1::v0::BondLedger { held, at_risk, unbonding };
    for (who, held, unbonding) in [(VERIFIERS[0], 1_000, None), (VERIFIERS[1], 1_000, Some((950, 90)))] {
        Balances::hold(&HoldReason::VerifierBond.into(), &who, held).unwrap();
        unhashed::put(&VerifierBonds::<Test>::hashed_key_for(who), &ledger(held, 30, unbonding));
    }
    unhashed::put(&frame_support::storage::storage_prefix(b"Pogo", b"CounterForVerifierBonds"), &2u32);
    Balances::hold(&HoldReason::MinerBond.into(), &MINER, 5_000).unwrap();
    unhashed::put(&MinerBonds::<Test>::hashed_key_for(MINER), &ledger(5_000, 2_000, None));
    Balances::hold(&HoldReason::TaskEscrow.into(), &OWNER, 20_000).unwrap();
    let task = v1::v0::TaskInfo::<u64, u64, u64, <Test as Config>::MaxLocatorLen> {
        owner: OWNER,
        spec: v1_spec(),
        params: params(),
        dataset: dataset(),
        state_root: initial_root(),
        initial_root: initial_root(),
        round: 0,
        steps_done: 0,
        status: TaskStatus::Active,
        escrow: 20_000,
        committed: 1_350,
        pending: 1,
    };
    unhashed::put(&Tasks::<Test>::hashed_key_for(0), &task);
    unhashed::put(&frame_support::storage::storage_prefix(b"Pogo", b"CounterForTasks"), &1u32);
    NextTaskId::<Test>::put(1);
    let (_, c, _) = first_round(0, None);
    Balances::hold(&HoldReason::SubmissionDeposit.into(), &MINER, 5).unwrap();
    let assigned = [VERIFIERS[0], VERIFIERS[1]]
        .iter()
        .enumerate()
        .map(|(i, who)| Assignment { who: *who, stake: 1_000, at_risk: 30, level: i as u8 })
        .collect::<Vec<_>>();
    let sub = v1::v0::Submission::<u64, u64, u64, <Test as Config>::MaxLocatorLen, <Test as Config>::MaxAssigned> {
        task: 0,
        miner: MINER,
        commitment: c,
        round: 0,
        locator: locator(),
        submitted_at: 1,
        relay_epoch: 10,
        phase: Phase::Committing(9),
        bond: 2_000,
        deposit: 5,
        escrow: 1_350,
        challenge: Some([4; 32]),
        level: 1,
        assigned: BoundedVec::truncate_from(assigned),
        disputed_steps: BoundedVec::new(),
    };
    unhashed::put(&Submissions::<Test>::hashed_key_for(0), &sub);
    unhashed::put(&frame_support::storage::storage_prefix(b"Pogo", b"CounterForSubmissions"), &1u32);
    PendingByTask::<Test>::insert(0, BoundedVec::truncate_from(vec![0]));
    NextSubmissionId::<Test>::put(1);
}

#[test]
fn version_0_records_are_migrated_once() {
    test(|| {
        write_v0();
        assert_eq!(Pogo::on_chain_storage_version(), 0);
        v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
        assert_eq!(Pogo::on_chain_storage_version(), 1);

        let task = frozen::Tasks::<Test>::get(0).expect("the task decodes in the version-1 layout");
        assert_eq!((task.root_set_at, task.deposit, task.committed), (1, 0, 1_350));
        assert_eq!(task.spec, v1_spec());
        let sub = frozen::Submissions::<Test>::get(0).expect("the submission decodes in the version-1 layout");
        assert_eq!(sub.escalation_challenge, Some([4; 32]), "a level-1 round keeps the challenge it was drawn with");
        assert_eq!(sub.escalated_epoch, Some(10));
        assert!(SubmissionQueue::<Test>::contains_key(0u64.to_be_bytes()));
        let l = VerifierBonds::<Test>::get(VERIFIERS[1]).unwrap();
        assert_eq!(l.unbonding, Some(Unbonding { amount: 950, unlocks_at: 90, after_submission: 1 }));
        // Only the eligible ledger holds a slot.
        assert_eq!(VerifierRegistry::<Test>::get().into_inner(), vec![(VERIFIERS[0], 1_000)]);
        assert_eq!(MinerBonds::<Test>::get(MINER).unwrap().bonded_at, 0);

        // Run again: the version guard makes it a no-op.
        let before = frozen::Tasks::<Test>::get(0).map(|t| t.encode());
        v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
        assert_eq!(frozen::Tasks::<Test>::get(0).map(|t| t.encode()), before);
        // the test ends at the current version, where the invariants are checked
        v2::MigrateV1ToV2::<Test>::on_runtime_upgrade();
    });
}

#[test]
fn version_1_tasks_come_out_paused_without_a_model() {
    test(|| {
        write_v0();
        v1::MigrateV0ToV1::<Test>::on_runtime_upgrade();
        v2::MigrateV1ToV2::<Test>::on_runtime_upgrade();
        assert_eq!(Pogo::on_chain_storage_version(), 2);
        let task = Tasks::<Test>::get(0).expect("the task decodes in the version-2 layout");
        assert_eq!(task.spec, TrainingSpec { model: [0; 32], ..spec() });
        assert_eq!((task.status, task.params.tolerance), (TaskStatus::Paused, Tolerance::DEFAULT));
        assert_eq!((task.root_set_at, task.committed, task.pending), (1, 1_350, 1));
        assert!(!TaskModels::<Test>::contains_key(0));
        assert!(task.model_locator.is_empty(), "version 1 recorded no model locator");
        let sub = Submissions::<Test>::get(0).expect("the submission decodes in the version-2 layout");
        assert_eq!((sub.locator, sub.base_locator.is_empty()), (locator(), true));
        assert_eq!(sub.escalation_challenge, Some([4; 32]));
        // pending rounds still finish; the version guard makes a second run a no-op
        let before = Tasks::<Test>::get(0);
        v2::MigrateV1ToV2::<Test>::on_runtime_upgrade();
        assert_eq!(Tasks::<Test>::get(0), before);
        // a task without a model cannot be resumed: its owner closes it and creates it again with one
        assert_noop!(
            Pogo::set_task_status(RuntimeOrigin::signed(OWNER), 0, TaskStatus::Active),
            Error::<Test>::TaskHasNoModel
        );
    });
}

#[cfg(feature = "try-runtime")]
#[test]
fn the_migration_passes_its_try_runtime_checks() {
    test(|| {
        write_v0();
        v1::MigrateV0ToV1::<Test>::try_on_runtime_upgrade(true).expect("pre_upgrade, upgrade and post_upgrade pass");
        v2::MigrateV1ToV2::<Test>::try_on_runtime_upgrade(true).expect("pre_upgrade, upgrade and post_upgrade pass");
    });
}
