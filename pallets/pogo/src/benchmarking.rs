//! Benchmarks of every call at its worst case: longest locator, largest snapshot, most assigned verifiers,
//! most rounds to mark stale, the largest fraud proof. Components are capped by the runtime's bounds.
//!
//! Set-up code panics on failure, the FRAME convention for benchmarks (never compiled into a production
//! runtime, which is built without `runtime-benchmarks`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic
)]

use super::*;
use crate::pallet::Pallet as Pogo;
use polkadot_sdk::sp_runtime::Saturating;
use alloc::{boxed::Box, vec, vec::Vec};
use codec::Encode;
use frame_benchmarking::v2::*;
use frame_support::{
    traits::{fungible::Inspect, fungible::Mutate, Get},
    BoundedVec,
};
use frame_system::RawOrigin;
use pogo_primitives::{
    builder::RoundBuilder,
    seed::SampleSizes,
    spec::{LrSchedule, TrainingSpec, UpdateRule, DEFAULT_LEAF_SIZE},
    tolerance::Tolerance,
    verdict::{verdict_commitment, Verdict},
    MerkleTree, RoundCommitment,
};
use polkadot_sdk::{frame_benchmarking, frame_support, frame_system};

fn unit<T: Config>() -> BalanceOf<T> {
    T::Currency::minimum_balance().max(1u32.into())
}

fn funded<T: Config>(name: &'static str, index: u32) -> T::AccountId {
    let who: T::AccountId = account(name, index, 0);
    let amount = unit::<T>().saturating_mul(1_000_000u32.into()).saturating_add(T::MinVerifierBond::get().saturating_mul(100u32.into()));
    T::Currency::set_balance(&who, amount);
    who
}

/// An AdamW spec with two leaves of the largest size the pallet's fraud-proof bound allows, `steps`
/// steps per round, a checkpoint every `interval` steps.
fn spec<T: Config>(steps: u32, interval: u32) -> TrainingSpec {
    let mut s = TrainingSpec {
        param_count: 2 * u64::from(DEFAULT_LEAF_SIZE),
        leaf_size: DEFAULT_LEAF_SIZE,
        codec_block: 64,
        rule: UpdateRule::AdamW {
            beta1: 0.9f32.to_bits(),
            beta2: 0.999f32.to_bits(),
            epsilon: 1e-8f32.to_bits(),
            weight_decay: 0.01f32.to_bits(),
        },
        schedule: LrSchedule::Constant { lr: 1e-3f32.to_bits() },
        max_grad_norm: 0,
        steps_per_round: steps,
        checkpoint_interval: interval,
        batch_size: 8,
        train_examples: 1_000,
        eval_examples: 100,
    };
    while pogo_primitives::fraud::max_encoded_len(&s) > u64::from(T::MaxFraudProofLen::get()) && s.leaf_size > 64 {
        s.leaf_size /= 2;
        s.param_count = 2 * u64::from(s.leaf_size);
    }
    s
}

fn params<T: Config>(verifiers: u32, escalation: u32) -> TaskParamsOf<T> {
    TaskParams {
        reward: unit::<T>().saturating_mul(100u32.into()),
        verifier_pay: unit::<T>().saturating_mul(10u32.into()),
        miner_bond: unit::<T>().saturating_mul(1_000u32.into()),
        verifiers,
        escalation_verifiers: escalation,
        samples: SampleSizes { steps: 4, leaves: 16, eval_examples: 256 },
        tolerance: Tolerance::DEFAULT,
        min_improvement_ppm: 0,
        commit_window: T::MinWindow::get(),
        reveal_window: T::MinWindow::get(),
    }
}

fn locator<T: Config>() -> BoundedVec<u8, T::MaxLocatorLen> {
    BoundedVec::truncate_from(vec![b'x'; T::MaxLocatorLen::get() as usize])
}

fn dataset<T: Config>() -> DatasetOf<T> {
    DatasetCommitment { train_root: [1; 32], eval_root: [2; 32], locator: locator::<T>() }
}

fn weights(spec: &TrainingSpec) -> (Vec<f32>, Vec<Vec<f32>>) {
    let n = spec.param_count as usize;
    ((0..n).map(|i| (i % 1000) as f32 * 1e-3).collect(), vec![vec![0.0; n]; 2])
}

/// A round of `spec` from the initial weights; `tamper` cheats before the first step (the miner trains
/// from weights other than the committed base).
fn round(spec: &TrainingSpec, seed: u32, tamper: bool) -> (RoundBuilder, RoundCommitment, MerkleTree) {
    let (w, s) = weights(spec);
    let mut b = RoundBuilder::new(*spec, w, s, 1).unwrap();
    let n = spec.param_count as usize;
    if tamper {
        b.weights_mut()[0] += 0.5;
    }
    for step in 0..spec.steps_per_round {
        let g: Vec<f32> = (0..n).map(|i| ((i as u32 * 31 + step * 17 + seed) % 97) as f32 * 1e-3 - 0.048).collect();
        b.step(&g, 1.0).unwrap();
    }
    let (c, t) = b.commitment(2.0, 1.5).unwrap();
    (b, c, t)
}

fn new_task<T: Config>(spec: TrainingSpec, params: TaskParamsOf<T>) -> (T::AccountId, TaskId) {
    let owner = funded::<T>("owner", 0);
    let (w, s) = weights(&spec);
    let root = RoundBuilder::new(spec, w, s, 1).unwrap().base_root();
    let escrow = unit::<T>().saturating_mul(100_000u32.into());
    let id = NextTaskId::<T>::get();
    Pogo::<T>::create_task(RawOrigin::Signed(owner.clone()).into(), spec, params, root, dataset::<T>(), escrow).unwrap();
    (owner, id)
}

fn bond_role<T: Config>(who: &T::AccountId, role: Role) {
    let amount = T::MinVerifierBond::get().max(unit::<T>()).saturating_mul(10u32.into()).saturating_add(unit::<T>().saturating_mul(10_000u32.into()));
    Pogo::<T>::bond(RawOrigin::Signed(who.clone()).into(), role, amount).unwrap();
}

fn verifiers<T: Config>(count: u32) -> Vec<T::AccountId> {
    (0..count)
        .map(|i| {
            let v = funded::<T>("verifier", i);
            bond_role::<T>(&v, Role::Verifier);
            v
        })
        .collect()
}

fn submit_as<T: Config>(task: TaskId, index: u32, commitment: RoundCommitment) -> (T::AccountId, SubmissionId) {
    let miner = funded::<T>("miner", index);
    bond_role::<T>(&miner, Role::Miner);
    let id = NextSubmissionId::<T>::get();
    Pogo::<T>::submit_round(RawOrigin::Signed(miner.clone()).into(), task, commitment, locator::<T>()).unwrap();
    (miner, id)
}

fn fix_challenge<T: Config>(id: SubmissionId) {
    let epoch = Submissions::<T>::get(id).unwrap().relay_epoch + T::ChallengeEpochDelay::get();
    <T as Config>::BenchmarkHelper::set_relay_randomness(epoch, [9; 32]);
    Pogo::<T>::record_epoch_randomness();
    Pogo::<T>::do_advance(id).unwrap();
}

fn start_relay<T: Config>() {
    <T as Config>::BenchmarkHelper::set_relay_randomness(1, [3; 32]);
    Pogo::<T>::record_epoch_randomness();
}

fn salt(i: usize) -> [u8; 32] {
    [i as u8; 32]
}

#[benchmarks]
mod benchmarks {
    use super::*;

    #[benchmark]
    fn create_task() {
        let spec = spec::<T>(16, 4);
        let owner = funded::<T>("owner", 0);
        let escrow = unit::<T>().saturating_mul(100_000u32.into());
        #[extrinsic_call]
        _(RawOrigin::Signed(owner), spec, params::<T>(3, 3), [7; 32], dataset::<T>(), escrow);
        assert!(Tasks::<T>::contains_key(0));
    }

    #[benchmark]
    fn top_up() {
        let (_, task) = new_task::<T>(spec::<T>(16, 4), params::<T>(3, 3));
        let funder = funded::<T>("funder", 0);
        #[extrinsic_call]
        _(RawOrigin::Signed(funder), task, unit::<T>().saturating_mul(10u32.into()));
    }

    #[benchmark]
    fn set_task_status() {
        let (owner, task) = new_task::<T>(spec::<T>(16, 4), params::<T>(3, 3));
        #[extrinsic_call]
        _(RawOrigin::Signed(owner), task, TaskStatus::Paused);
    }

    #[benchmark]
    fn close_task() {
        let (owner, task) = new_task::<T>(spec::<T>(16, 4), params::<T>(3, 3));
        #[extrinsic_call]
        _(RawOrigin::Signed(owner), task);
        assert!(!Tasks::<T>::contains_key(task));
    }

    #[benchmark]
    fn bond() {
        // the registry one short of full: the worst-case count check passes
        verifiers::<T>(T::MaxVerifiers::get().saturating_sub(1));
        let who = funded::<T>("new", 0);
        let amount = T::MinVerifierBond::get().max(unit::<T>()).saturating_mul(10u32.into());
        #[extrinsic_call]
        _(RawOrigin::Signed(who), Role::Verifier, amount);
    }

    #[benchmark]
    fn unbond() {
        let who = verifiers::<T>(1).remove(0);
        #[extrinsic_call]
        _(RawOrigin::Signed(who), Role::Verifier, unit::<T>());
    }

    #[benchmark]
    fn withdraw_unbonded() {
        let who = verifiers::<T>(1).remove(0);
        Pogo::<T>::unbond(RawOrigin::Signed(who.clone()).into(), Role::Verifier, unit::<T>()).unwrap();
        frame_system::Pallet::<T>::set_block_number(
            frame_system::Pallet::<T>::block_number() + T::UnbondingPeriod::get(),
        );
        #[extrinsic_call]
        _(RawOrigin::Signed(who), Role::Verifier);
    }

    #[benchmark]
    fn submit_round(v: Linear<1, 256>) {
        let v = v.min(T::MaxVerifiers::get());
        start_relay::<T>();
        let spec = spec::<T>(16, 4);
        let (_, task) = new_task::<T>(spec, params::<T>(3, 3));
        verifiers::<T>(v);
        let (_, c, _) = round(&spec, 0, false);
        let miner = funded::<T>("miner", 0);
        bond_role::<T>(&miner, Role::Miner);
        #[extrinsic_call]
        _(RawOrigin::Signed(miner), task, c, locator::<T>());
        assert_eq!(Snapshots::<T>::get(0).map(|s| s.len() as u32), Some(v));
    }

    #[benchmark]
    fn commit_verdict() {
        start_relay::<T>();
        let spec = spec::<T>(16, 4);
        let (_, task) = new_task::<T>(spec, params::<T>(3, 3));
        verifiers::<T>(3);
        let (_, c, _) = round(&spec, 0, false);
        let (_, id) = submit_as::<T>(task, 0, c);
        fix_challenge::<T>(id);
        let who = Submissions::<T>::get(id).unwrap().assigned[0].who.clone();
        #[extrinsic_call]
        _(RawOrigin::Signed(who), id, [5; 32]);
    }

    #[benchmark]
    fn reveal_verdict() {
        start_relay::<T>();
        let spec = spec::<T>(16, 4);
        let (_, task) = new_task::<T>(spec, params::<T>(3, 3));
        verifiers::<T>(3);
        let (_, c, _) = round(&spec, 0, false);
        let (_, id) = submit_as::<T>(task, 0, c);
        fix_challenge::<T>(id);
        let who: Vec<T::AccountId> = Submissions::<T>::get(id).unwrap().assigned.iter().map(|a| a.who.clone()).collect();
        for (i, w) in who.iter().enumerate() {
            let h = verdict_commitment(id, &w.encode(), &Verdict::Positive, &salt(i));
            Pogo::<T>::commit_verdict(RawOrigin::Signed(w.clone()).into(), id, h).unwrap();
        }
        Pogo::<T>::do_advance(id).unwrap();
        #[extrinsic_call]
        _(RawOrigin::Signed(who[0].clone()), id, Verdict::Positive, salt(0));
    }

    #[benchmark]
    fn advance_challenge(v: Linear<1, 256>) {
        let v = v.min(T::MaxVerifiers::get());
        start_relay::<T>();
        let spec = spec::<T>(16, 4);
        let assigned = T::MaxAssigned::get().min(v);
        let (_, task) = new_task::<T>(spec, params::<T>(assigned, 0));
        verifiers::<T>(v);
        let (_, c, _) = round(&spec, 0, false);
        let (_, id) = submit_as::<T>(task, 0, c);
        let epoch = Submissions::<T>::get(id).unwrap().relay_epoch + T::ChallengeEpochDelay::get();
        <T as Config>::BenchmarkHelper::set_relay_randomness(epoch, [9; 32]);
        Pogo::<T>::record_epoch_randomness();
        let caller = funded::<T>("caller", 0);
        #[extrinsic_call]
        advance(RawOrigin::Signed(caller), id);
        assert!(Submissions::<T>::get(id).unwrap().challenge.is_some());
    }

    #[benchmark]
    fn advance_tally(a: Linear<1, 32>, p: Linear<0, 15>) {
        let a = a.min(T::MaxAssigned::get());
        let p = p.min(T::MaxPendingPerTask::get().saturating_sub(1));
        start_relay::<T>();
        let spec = spec::<T>(16, 4);
        let (_, task) = new_task::<T>(spec, params::<T>(a, 0));
        verifiers::<T>(a);
        let (_, c, _) = round(&spec, 0, false);
        let (_, id) = submit_as::<T>(task, 0, c);
        // p other rounds on the same base, each with its verifiers assigned: all become stale
        let mut others = Vec::new();
        for i in 0..p {
            let (_, c, _) = round(&spec, i + 1, false);
            others.push(submit_as::<T>(task, i + 1, c).1);
        }
        fix_challenge::<T>(id);
        for o in &others {
            Pogo::<T>::do_advance(*o).unwrap();
        }
        let who: Vec<T::AccountId> = Submissions::<T>::get(id).unwrap().assigned.iter().map(|x| x.who.clone()).collect();
        for (i, w) in who.iter().enumerate() {
            let h = verdict_commitment(id, &w.encode(), &Verdict::Positive, &salt(i));
            Pogo::<T>::commit_verdict(RawOrigin::Signed(w.clone()).into(), id, h).unwrap();
        }
        Pogo::<T>::do_advance(id).unwrap();
        for (i, w) in who.iter().enumerate() {
            Pogo::<T>::reveal_verdict(RawOrigin::Signed(w.clone()).into(), id, Verdict::Positive, salt(i)).unwrap();
        }
        let caller = funded::<T>("caller", 0);
        #[extrinsic_call]
        advance(RawOrigin::Signed(caller), id);
        assert!(matches!(Submissions::<T>::get(id).unwrap().phase, Phase::Accepted(_)));
        assert_eq!(PendingByTask::<T>::get(task).len(), 1);
    }

    #[benchmark]
    fn advance_finalize() {
        start_relay::<T>();
        let spec = spec::<T>(16, 4);
        let (_, task) = new_task::<T>(spec, params::<T>(1, 0));
        verifiers::<T>(1);
        let (_, c, _) = round(&spec, 0, false);
        let (_, id) = submit_as::<T>(task, 0, c);
        fix_challenge::<T>(id);
        let w = Submissions::<T>::get(id).unwrap().assigned[0].who.clone();
        let h = verdict_commitment(id, &w.encode(), &Verdict::Positive, &salt(0));
        Pogo::<T>::commit_verdict(RawOrigin::Signed(w.clone()).into(), id, h).unwrap();
        Pogo::<T>::do_advance(id).unwrap();
        Pogo::<T>::reveal_verdict(RawOrigin::Signed(w).into(), id, Verdict::Positive, salt(0)).unwrap();
        Pogo::<T>::do_advance(id).unwrap();
        let Phase::Accepted(at) = Submissions::<T>::get(id).unwrap().phase else { panic!("not accepted") };
        frame_system::Pallet::<T>::set_block_number(at);
        let caller = funded::<T>("caller", 0);
        #[extrinsic_call]
        advance(RawOrigin::Signed(caller), id);
        assert!(!Submissions::<T>::contains_key(id));
    }

    #[benchmark]
    fn report_fraud(c: Linear<1, 274>) {
        let c = c.min(T::MaxCheckpointInterval::get());
        start_relay::<T>();
        let spec = spec::<T>(c, c);
        let (_, task) = new_task::<T>(spec, params::<T>(1, 0));
        let (b, commitment, trace) = round(&spec, 0, true);
        let (_, id) = submit_as::<T>(task, 0, commitment);
        let proof = b.fraud_proof(&trace, 0, 0).unwrap();
        let reporter = funded::<T>("reporter", 0);
        #[extrinsic_call]
        _(RawOrigin::Signed(reporter), id, Box::new(proof));
        assert!(!Submissions::<T>::contains_key(id));
    }

    impl_benchmark_test_suite!(Pogo, crate::mock::new_test_ext(), crate::mock::Test);
}
