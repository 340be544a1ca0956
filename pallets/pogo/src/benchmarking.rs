//! Benchmarks of every call at its worst case: longest locator, largest snapshot, most assigned verifiers,
//! most rounds to mark stale or void (each with verifiers of its own), the longest fraud-proof replay (the
//! largest leaf the proof bound allows at each checkpoint interval), the registry full and evicting.
//! Components are capped by the runtime's bounds. Where the worst case cannot be reached through calls
//! (more distinct verifiers across a task's rounds than one registry holds), the set-up writes the
//! records directly, exactly as the calls would have left them.
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

/// An AdamW spec (the rule with the most optimizer state) with two leaves of the largest size (a multiple
/// of the codec block) that keeps a fraud proof within `MaxFraudProofLen` at this checkpoint interval:
/// the longest replay any valid spec with `interval` can ask of `report_fraud`.
fn fraud_spec<T: Config>(steps: u32, interval: u32) -> TrainingSpec {
    let with_leaf = |leaf: u32| {
        let mut s = base_spec(steps, interval);
        s.leaf_size = leaf;
        s.param_count = 2 * u64::from(leaf);
        s.model = model_of(s.param_count).to_descriptor().hash();
        s
    };
    let fits = |leaf: u32| {
        pogo_primitives::fraud::max_encoded_len(&with_leaf(leaf)) <= u64::from(T::MaxFraudProofLen::get())
    };
    // Binary search over multiples of the codec block.
    let block = 64u32;
    let (mut lo, mut hi) = (1u32, pogo_primitives::spec::MAX_LEAF_SIZE / block);
    while lo < hi {
        let mid = (lo + hi).div_ceil(2);
        if fits(mid * block) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    with_leaf(lo * block)
}

/// The one-tensor model of `param_count` parameters that the benchmarks' tasks train.
fn model_of(param_count: u64) -> ModelOf {
    ModelOf::synthetic(1, param_count, false)
}

fn base_spec(steps: u32, interval: u32) -> TrainingSpec {
    TrainingSpec {
        model: model_of(2 * u64::from(DEFAULT_LEAF_SIZE)).to_descriptor().hash(),
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
    }
}

fn params<T: Config>(verifiers: u32, escalation: u32) -> TaskParamsOf<T> {
    TaskParams {
        reward: unit::<T>().saturating_mul(100u32.into()),
        verifier_pay: unit::<T>().saturating_mul(10u32.into()),
        miner_bond: unit::<T>().saturating_mul(1_000u32.into()),
        verifiers,
        escalation_verifiers: escalation,
        samples: SampleSizes { steps: 4, leaves: 2, eval_examples: 100 },
        tolerance: Tolerance::DEFAULT,
        min_improvement_ppm: 0,
        commit_window: T::MinWindow::get(),
        reveal_window: T::MinWindow::get(),
        verification: pogo_primitives::views::VerificationMode::FullReplay,
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

fn new_task<T: Config>(spec: TrainingSpec, mut params: TaskParamsOf<T>) -> (T::AccountId, TaskId) {
    params.samples.steps = params.samples.steps.min(spec.steps_per_round);
    let owner = funded::<T>("owner", 0);
    let (w, s) = weights(&spec);
    let root = RoundBuilder::new(spec, w, s, 1).unwrap().base_root();
    let escrow = unit::<T>().saturating_mul(100_000u32.into());
    let id = NextTaskId::<T>::get();
    let model = model_of(spec.param_count);
    Pogo::<T>::create_task(RawOrigin::Signed(owner.clone()).into(), spec, model, params, root, dataset::<T>(), escrow)
        .unwrap();
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

/// Moves to the next block and counts the task's root as set in it, so bonds placed before may build on it.
fn refresh_root<T: Config>(task: TaskId) {
    let next = frame_system::Pallet::<T>::block_number() + 1u32.into();
    frame_system::Pallet::<T>::set_block_number(next);
    Tasks::<T>::mutate(task, |t| {
        if let Some(t) = t {
            t.root_set_at = next;
        }
    });
}

fn submit_as<T: Config>(task: TaskId, index: u32, commitment: RoundCommitment) -> (T::AccountId, SubmissionId) {
    let miner = funded::<T>("miner", index);
    bond_role::<T>(&miner, Role::Miner);
    refresh_root::<T>(task);
    let id = NextSubmissionId::<T>::get();
    Pogo::<T>::submit_round(RawOrigin::Signed(miner.clone()).into(), task, commitment, locator::<T>()).unwrap();
    (miner, id)
}

/// A task of the small spec whose levels draw `level0` and `level1` verifiers from `registered` bonded
/// ones, and one submitted round (`tamper`: a cheating miner's). Returns (task, submission).
fn task_with_submission<T: Config>(level0: u32, level1: u32, registered: u32, tamper: bool) -> (TaskId, SubmissionId) {
    start_relay::<T>();
    let spec = base_spec(16, 4);
    let (_, task) = new_task::<T>(spec, params::<T>(1, 2));
    set_sizes::<T>(task, level0, level1);
    verifiers::<T>(registered);
    let (_, c, _) = round(&spec, 0, tamper);
    let (_, id) = submit_as::<T>(task, 0, c);
    (task, id)
}

/// Records the randomness of the epoch that fixes the current level's challenge and draws its verifiers.
fn fix_challenge<T: Config>(id: SubmissionId) {
    let sub = Submissions::<T>::get(id).unwrap();
    let from = if sub.level == 0 { sub.relay_epoch } else { sub.escalated_epoch.unwrap() };
    let epoch = from + T::ChallengeEpochDelay::get();
    <T as Config>::BenchmarkHelper::set_relay_randomness(epoch, [9 + sub.level; 32]);
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

/// Gives submission `id` `count` more level-0 assignments to fresh accounts with bonds of their own
/// (outside the registry), as a draw from a snapshot taken before those accounts left it would have.
fn fabricate_assignments<T: Config>(id: SubmissionId, count: u32, tag: u32) {
    use frame_support::traits::fungible::MutateHold;
    let stake = T::MinVerifierBond::get().max(unit::<T>()).saturating_mul(10u32.into());
    let at_risk = Pogo::<T>::max_verifier_slash().mul_ceil(stake);
    let mut sub = Submissions::<T>::get(id).unwrap();
    for i in 0..count {
        let who = funded::<T>("fabricated", tag * 1_000 + i);
        T::Currency::hold(&HoldReason::VerifierBond.into(), &who, stake).unwrap();
        VerifierBonds::<T>::insert(
            &who,
            BondLedger { held: stake, at_risk, unbonding: None, bonded_at: frame_system::Pallet::<T>::block_number() },
        );
        sub.assigned.try_push(Assignment { who, stake, at_risk, level: 0 }).unwrap();
    }
    Submissions::<T>::insert(id, sub);
}

/// Commits and reveals `verdict` for every verifier assigned at the submission's current level.
fn vote_all<T: Config>(id: SubmissionId, verdict: Verdict) {
    let sub = Submissions::<T>::get(id).unwrap();
    let who: Vec<T::AccountId> =
        sub.assigned.iter().filter(|a| a.level == sub.level).map(|a| a.who.clone()).collect();
    for (i, w) in who.iter().enumerate() {
        let h = verdict_commitment(id, &w.encode(), &verdict, &salt(i));
        Pogo::<T>::commit_verdict(RawOrigin::Signed(w.clone()).into(), id, h).unwrap();
    }
    Pogo::<T>::do_advance(id).unwrap();
    for (i, w) in who.iter().enumerate() {
        Pogo::<T>::reveal_verdict(RawOrigin::Signed(w.clone()).into(), id, verdict, salt(i)).unwrap();
    }
}

/// The first verifier assigned at the current level commits and reveals `first`, every other one `rest`.
fn vote_first_and_rest<T: Config>(id: SubmissionId, first: Verdict, rest: Verdict) {
    let sub = Submissions::<T>::get(id).unwrap();
    let who: Vec<T::AccountId> =
        sub.assigned.iter().filter(|a| a.level == sub.level).map(|a| a.who.clone()).collect();
    let verdict = |i: usize| if i == 0 { first } else { rest };
    for (i, w) in who.iter().enumerate() {
        let h = verdict_commitment(id, &w.encode(), &verdict(i), &salt(i));
        Pogo::<T>::commit_verdict(RawOrigin::Signed(w.clone()).into(), id, h).unwrap();
    }
    Pogo::<T>::do_advance(id).unwrap();
    for (i, w) in who.iter().enumerate() {
        Pogo::<T>::reveal_verdict(RawOrigin::Signed(w.clone()).into(), id, verdict(i), salt(i)).unwrap();
    }
}

/// Two thirds (rounded up) of the verifiers assigned at the current level commit and reveal `verdict`;
/// the rest stay silent. The commit window is waited out; the reveal is left open.
fn vote_two_thirds<T: Config>(id: SubmissionId, verdict: Verdict) {
    let sub = Submissions::<T>::get(id).unwrap();
    let who: Vec<T::AccountId> =
        sub.assigned.iter().filter(|x| x.level == sub.level).map(|x| x.who.clone()).collect();
    let voting = (who.len() * 2).div_ceil(3);
    for (i, w) in who.iter().take(voting).enumerate() {
        let h = verdict_commitment(id, &w.encode(), &verdict, &salt(i));
        Pogo::<T>::commit_verdict(RawOrigin::Signed(w.clone()).into(), id, h).unwrap();
    }
    let Phase::Committing(until) = Submissions::<T>::get(id).unwrap().phase else { panic!("not committing") };
    frame_system::Pallet::<T>::set_block_number(until + 1u32.into());
    Pogo::<T>::do_advance(id).unwrap();
    for (i, w) in who.iter().take(voting).enumerate() {
        Pogo::<T>::reveal_verdict(RawOrigin::Signed(w.clone()).into(), id, verdict, salt(i)).unwrap();
    }
}

/// Overrides the task's level-0 and level-1 set sizes (beyond what `create_task` allows, an upper bound
/// of every valid task).
fn set_sizes<T: Config>(task: TaskId, verifiers: u32, escalation: u32) {
    Tasks::<T>::mutate(task, |t| {
        if let Some(t) = t {
            t.params.verifiers = verifiers;
            t.params.escalation_verifiers = escalation;
        }
    });
}

#[benchmarks]
mod benchmarks {
    use super::*;

    /// `t` tensors, each with a full-length name and full rank, under a full-length architecture
    /// string: the largest descriptor of its tensor count (validation sorts the names, hashing reads
    /// every byte, storage writes them).
    #[benchmark]
    fn create_task(t: Linear<1, { pogo_primitives::model::MAX_TENSORS }>) {
        let mut spec = base_spec(16, 4);
        let model = ModelOf::synthetic(t, spec.param_count, true);
        spec.model = model.to_descriptor().hash();
        let owner = funded::<T>("owner", 0);
        let escrow = unit::<T>().saturating_mul(100_000u32.into());
        #[extrinsic_call]
        _(RawOrigin::Signed(owner), spec, model, params::<T>(3, 4), [7; 32], dataset::<T>(), escrow);
        assert!(Tasks::<T>::contains_key(0) && TaskModels::<T>::contains_key(0));
    }

    #[benchmark]
    fn top_up() {
        let (_, task) = new_task::<T>(base_spec(16, 4), params::<T>(3, 4));
        let funder = funded::<T>("funder", 0);
        #[extrinsic_call]
        _(RawOrigin::Signed(funder), task, unit::<T>().saturating_mul(10u32.into()));
    }

    /// Resuming a paused task: the path that also checks the task's model.
    #[benchmark]
    fn set_task_status() {
        let (owner, task) = new_task::<T>(base_spec(16, 4), params::<T>(3, 4));
        Pogo::<T>::set_task_status(RawOrigin::Signed(owner.clone()).into(), task, TaskStatus::Paused).unwrap();
        #[extrinsic_call]
        _(RawOrigin::Signed(owner), task, TaskStatus::Active);
        assert_eq!(Tasks::<T>::get(task).map(|t| t.status), Some(TaskStatus::Active));
    }

    #[benchmark]
    fn close_task() {
        let (owner, task) = new_task::<T>(base_spec(16, 4), params::<T>(3, 4));
        #[extrinsic_call]
        _(RawOrigin::Signed(owner), task);
        assert!(!Tasks::<T>::contains_key(task));
    }

    #[benchmark]
    fn bond() {
        // The registry full: the new, larger bond evicts the smallest.
        verifiers::<T>(T::MaxVerifiers::get());
        let who = funded::<T>("new", 0);
        let amount = T::MinVerifierBond::get()
            .max(unit::<T>())
            .saturating_mul(20u32.into())
            .saturating_add(unit::<T>().saturating_mul(20_000u32.into()));
        #[extrinsic_call]
        _(RawOrigin::Signed(who.clone()), Role::Verifier, amount);
        assert!(Pogo::<T>::is_registered(&who));
    }

    #[benchmark]
    fn unbond() {
        // A full registry; the verifier falls below the minimum and leaves it.
        let who = verifiers::<T>(T::MaxVerifiers::get()).remove(0);
        let held = VerifierBonds::<T>::get(&who).unwrap().held;
        #[extrinsic_call]
        _(RawOrigin::Signed(who.clone()), Role::Verifier, held);
        assert!(!Pogo::<T>::is_registered(&who));
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
        let spec = base_spec(16, 4);
        let (_, task) = new_task::<T>(spec, params::<T>(3, 4));
        verifiers::<T>(v);
        let (_, c, _) = round(&spec, 0, false);
        let miner = funded::<T>("miner", 0);
        bond_role::<T>(&miner, Role::Miner);
        refresh_root::<T>(task);
        #[extrinsic_call]
        _(RawOrigin::Signed(miner), task, c, locator::<T>());
        assert_eq!(Snapshots::<T>::get(0).map(|s| s.len() as u32), Some(v));
    }

    #[benchmark]
    fn commit_verdict() {
        start_relay::<T>();
        let spec = base_spec(16, 4);
        let (_, task) = new_task::<T>(spec, params::<T>(3, 4));
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
        let spec = base_spec(16, 4);
        let (_, task) = new_task::<T>(spec, params::<T>(3, 4));
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
        let spec = base_spec(16, 4);
        let (_, task) = new_task::<T>(spec, params::<T>(1, 2));
        // Draw as many as one submission can hold from a snapshot of `v`.
        set_sizes::<T>(task, T::MaxAssigned::get().min(v), 0);
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

    /// Acceptance: `a` verdicts read (other rounds on the old base become stale lazily, see
    /// `advance_void`).
    #[benchmark]
    fn advance_tally(a: Linear<1, 32>) {
        let a = a.min(T::MaxAssigned::get());
        let p = T::MaxPendingPerTask::get().saturating_sub(1);
        start_relay::<T>();
        let spec = base_spec(16, 4);
        let (_, task) = new_task::<T>(spec, params::<T>(1, 2));
        set_sizes::<T>(task, a, 0);
        verifiers::<T>(a);
        let (_, c, _) = round(&spec, 0, false);
        let (_, id) = submit_as::<T>(task, 0, c.clone());
        for i in 0..p {
            let mut other = c.clone();
            other.trace_root = [i as u8 + 1; 32];
            submit_as::<T>(task, i + 1, other);
        }
        fix_challenge::<T>(id);
        vote_all::<T>(id, Verdict::Positive);
        let caller = funded::<T>("caller", 0);
        #[extrinsic_call]
        advance(RawOrigin::Signed(caller), id);
        assert!(matches!(Submissions::<T>::get(id).unwrap().phase, Phase::Accepted(_)));
        assert_eq!(PendingByTask::<T>::get(task).len() as u32, p + 1, "stale rounds wait for their own advance");
    }

    /// Removing a stale round: its miner and `a` verifiers, each with a ledger of its own, released.
    #[benchmark]
    fn advance_void(a: Linear<1, 32>) {
        let a = a.min(T::MaxAssigned::get());
        start_relay::<T>();
        let spec = base_spec(16, 4);
        let (_, task) = new_task::<T>(spec, params::<T>(1, 2));
        let (_, c, _) = round(&spec, 0, false);
        let (_, id) = submit_as::<T>(task, 0, c);
        fabricate_assignments::<T>(id, a, 1);
        // Another round moved the root away from its base.
        Tasks::<T>::mutate(task, |t| {
            if let Some(t) = t {
                t.state_root = [0xee; 32];
            }
        });
        let caller = funded::<T>("caller", 0);
        #[extrinsic_call]
        advance(RawOrigin::Signed(caller), id);
        assert!(!Submissions::<T>::contains_key(id));
    }

    /// A level-1 rejection settling `a` verifiers: at level 0 (half of them) one named a bad gradient and
    /// the others voted Positive, so each of those has its sampled steps recomputed for the excuse
    /// (protocol section 13); at level 1 two thirds revealed the bad gradient (paid), the rest silent
    /// (slashed, leaving the registry).
    #[benchmark]
    fn advance_reject(a: Linear<3, 32>) {
        let a = a.min(T::MaxAssigned::get()).max(3);
        let level0 = (a / 2).max(1);
        let (task, id) = task_with_submission::<T>(level0, a - level0, a, true);
        // The largest sample the excuse recomputes: `MAX_SAMPLED_STEPS` of a round far longer than that
        // (Floyd's algorithm then hashes once per sampled step). The round was submitted already; only
        // settlement reads these.
        Tasks::<T>::mutate(task, |t| {
            if let Some(t) = t {
                t.params.samples.steps = pogo_primitives::seed::MAX_SAMPLED_STEPS;
                t.spec.steps_per_round = pogo_primitives::spec::MAX_STEPS_PER_ROUND;
            }
        });
        let bad = Verdict::Negative(pogo_primitives::NegativeReason::BadGradient { step: 0 });
        fix_challenge::<T>(id);
        vote_first_and_rest::<T>(id, bad, Verdict::Positive);
        Pogo::<T>::do_advance(id).unwrap(); // escalates
        fix_challenge::<T>(id); // draws level 1
        vote_two_thirds::<T>(id, bad);
        let caller = funded::<T>("caller", 0);
        #[extrinsic_call]
        advance(RawOrigin::Signed(caller), id);
        assert!(!Submissions::<T>::contains_key(id));
    }

    /// The end of the fraud window: `a` verifiers settled, two thirds paid and the rest (silent)
    /// slashed, and the miner paid.
    #[benchmark]
    fn advance_finalize(a: Linear<1, 32>) {
        let a = a.min(T::MaxAssigned::get());
        let (_, id) = task_with_submission::<T>(a, 0, a, false);
        fix_challenge::<T>(id);
        vote_two_thirds::<T>(id, Verdict::Positive);
        let Phase::Revealing(until) = Submissions::<T>::get(id).unwrap().phase else { panic!("not revealing") };
        frame_system::Pallet::<T>::set_block_number(until + 1u32.into());
        Pogo::<T>::do_advance(id).unwrap();
        let Phase::Accepted(at) = Submissions::<T>::get(id).unwrap().phase else { panic!("not accepted") };
        frame_system::Pallet::<T>::set_block_number(at);
        let caller = funded::<T>("caller", 0);
        #[extrinsic_call]
        advance(RawOrigin::Signed(caller), id);
        assert!(!Submissions::<T>::contains_key(id));
    }

    /// A proof replaying `c` steps of the largest leaf the proof bound allows at that interval, against an
    /// accepted round whose `MaxAssigned` Positive verifiers are slashed, with `p` accepted rounds built
    /// on it marked voided (each full of assignments, so the record is as large as it gets).
    #[benchmark]
    fn report_fraud(c: Linear<1, 274>, p: Linear<0, 15>) {
        let c = c.min(T::MaxCheckpointInterval::get());
        let p = p.min(T::MaxPendingPerTask::get().saturating_sub(1));
        start_relay::<T>();
        let spec = fraud_spec::<T>(c, c);
        let (_, task) = new_task::<T>(spec, params::<T>(1, 2));
        let assigned = T::MaxAssigned::get();
        set_sizes::<T>(task, assigned, 0);
        verifiers::<T>(assigned);
        let (b, commitment, trace) = round(&spec, 0, true);
        let (_, id) = submit_as::<T>(task, 0, commitment.clone());
        fix_challenge::<T>(id);
        vote_all::<T>(id, Verdict::Positive);
        Pogo::<T>::do_advance(id).unwrap();
        assert!(matches!(Submissions::<T>::get(id).unwrap().phase, Phase::Accepted(_)));
        for i in 0..p {
            let mut next = commitment.clone();
            next.base_root = commitment.final_root;
            next.trace_root = [i as u8 + 1; 32];
            let (_, o) = submit_as::<T>(task, i + 1, next);
            fabricate_assignments::<T>(o, assigned, i + 1);
            Submissions::<T>::mutate(o, |x| {
                if let Some(x) = x {
                    x.phase = Phase::Accepted(frame_system::Pallet::<T>::block_number() + 100u32.into());
                    x.round = i + 1;
                }
            });
        }
        let proof = b.fraud_proof(&trace, 0, 0).unwrap();
        let reporter = funded::<T>("reporter", 0);
        #[extrinsic_call]
        _(RawOrigin::Signed(reporter), id, Box::new(proof));
        assert!(!Submissions::<T>::contains_key(id));
        assert_eq!(PendingByTask::<T>::get(task).len() as u32, p);
    }

    /// `on_finalize` seeing a new relay epoch: the relay data read (in the runtime, the relay state
    /// proof parsed), its randomness recorded and the oldest retained epoch pruned.
    #[benchmark]
    fn record_epoch_randomness() {
        let retention = T::RandomnessRetention::get();
        let base = LastRecordedEpoch::<T>::get().unwrap_or_default();
        for e in base + 1..=base + retention {
            <T as Config>::BenchmarkHelper::set_relay_randomness(e, [e as u8; 32]);
            Pogo::<T>::record_epoch_randomness();
        }
        <T as Config>::BenchmarkHelper::set_relay_randomness(base + retention + 1, [1; 32]);
        #[block]
        {
            Pogo::<T>::record_epoch_randomness();
        }
        assert_eq!(LastRecordedEpoch::<T>::get(), Some(base + retention + 1));
        assert!(!EpochRandomness::<T>::contains_key(base + 1));
    }

    impl_benchmark_test_suite!(Pogo, crate::mock::new_test_ext(), crate::mock::Test);
}
