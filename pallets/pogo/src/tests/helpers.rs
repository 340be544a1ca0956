//! Building blocks for tests: real training specs and round commitments from `pogo-primitives`.

use crate::{mock::*, *};
use frame_support::{assert_ok, BoundedVec};
use pogo_primitives::{
    builder::RoundBuilder,
    seed::SampleSizes,
    spec::{LrSchedule, TrainingSpec, UpdateRule},
    tolerance::Tolerance,
    MerkleTree, RoundCommitment,
};
use polkadot_sdk::frame_support;

pub const PARAMS: u64 = 600;

/// A valid model descriptor for `param_count` parameters (two tensors).
pub fn model_of(param_count: u64) -> ModelOf {
    ModelOf::synthetic(2, param_count, false)
}

/// The model descriptor of `spec`'s parameter count (its hash is `spec()`'s `model`).
pub fn model_for(spec: &TrainingSpec) -> ModelOf {
    model_of(spec.param_count)
}

/// The model of [`spec`].
pub fn model() -> ModelOf {
    model_of(PARAMS)
}

/// A small AdamW task: 600 parameters in 3 leaves of 256, 6 steps per round, checkpoints every 3.
pub fn spec() -> TrainingSpec {
    TrainingSpec {
        model: model().to_descriptor().hash(),
        param_count: PARAMS,
        leaf_size: 256,
        codec_block: 64,
        rule: UpdateRule::AdamW {
            beta1: 0.9f32.to_bits(),
            beta2: 0.999f32.to_bits(),
            epsilon: 1e-8f32.to_bits(),
            weight_decay: 0.01f32.to_bits(),
        },
        schedule: LrSchedule::Constant { lr: 1e-2f32.to_bits() },
        max_grad_norm: 0,
        steps_per_round: 6,
        checkpoint_interval: 3,
        batch_size: 4,
        train_examples: 100,
        eval_examples: 20,
    }
}

pub fn params() -> TaskParamsOf<Test> {
    TaskParams {
        reward: 1_000,
        verifier_pay: 50,
        miner_bond: 2_000,
        verifiers: 3,
        escalation_verifiers: 4,
        samples: SampleSizes { steps: 2, leaves: 2, eval_examples: 8 },
        tolerance: Tolerance::DEFAULT,
        min_improvement_ppm: 0,
        commit_window: 5,
        reveal_window: 5,
        verification: pogo_primitives::views::VerificationMode::FullReplay,
    }
}

pub fn dataset() -> DatasetOf<Test> {
    DatasetCommitment {
        train_root: [1; 32],
        eval_root: [2; 32],
        locator: BoundedVec::truncate_from(b"https://data.example/task".to_vec()),
    }
}

pub fn initial_weights() -> Vec<f32> {
    (0..PARAMS).map(|i| (i as f32 - 300.0) * 1e-3).collect()
}

pub fn initial_root() -> [u8; 32] {
    RoundBuilder::new(spec(), initial_weights(), vec![vec![0.0; PARAMS as usize]; 2], 1).unwrap().base_root()
}

/// A miner's round from `weights`/`slots` at global step `first_step`; `tamper` changes weight
/// `param` by +0.5 after step `at` (a cheating miner).
pub fn build_round(
    weights: Vec<f32>,
    slots: Vec<Vec<f32>>,
    first_step: u64,
    seed: usize,
    tamper: Option<(usize, usize)>,
) -> (RoundBuilder, RoundCommitment, MerkleTree) {
    let mut b = RoundBuilder::new(spec(), weights, slots, first_step).unwrap();
    for step in 0..6usize {
        let g: Vec<f32> =
            (0..PARAMS as usize).map(|i| (((i * 31 + step * 17 + seed * 7) % 97) as f32 - 48.0) * 1e-2).collect();
        b.step(&g, 1.0).unwrap();
        if let Some((at, param)) = tamper {
            if at == step {
                b.weights_mut()[param] += 0.5;
            }
        }
    }
    let (c, trace) = b.commitment(2.0, 1.5).unwrap();
    (b, c, trace)
}

/// The first round of the standard task.
pub fn first_round(seed: usize, tamper: Option<(usize, usize)>) -> (RoundBuilder, RoundCommitment, MerkleTree) {
    build_round(initial_weights(), vec![vec![0.0; PARAMS as usize]; 2], 1, seed, tamper)
}

pub fn create_task() -> TaskId {
    let id = NextTaskId::<Test>::get();
    assert_ok!(Pogo::create_task(RuntimeOrigin::signed(OWNER), spec(), model(), params(), initial_root(), dataset(), 20_000));
    id
}

pub fn bond_all() {
    assert_ok!(Pogo::bond(RuntimeOrigin::signed(MINER), Role::Miner, 5_000));
    assert_ok!(Pogo::bond(RuntimeOrigin::signed(MINER2), Role::Miner, 5_000));
    for v in VERIFIERS {
        assert_ok!(Pogo::bond(RuntimeOrigin::signed(v), Role::Verifier, 1_000));
    }
}

/// Moves to the next block (`on_finalize` of this one records relay randomness, see `run_to_block`).
pub fn next_block() {
    run_to_block(System::block_number() + 1);
}

/// Bonds everyone, then creates the standard task in the next block: a miner may only build on a root
/// set after its latest bond (`BondNewerThanBaseRoot`).
pub fn bonded_task() -> TaskId {
    bond_all();
    next_block();
    create_task()
}

pub fn locator() -> BoundedVec<u8, <Test as Config>::MaxLocatorLen> {
    BoundedVec::truncate_from(b"https://miner.example/round".to_vec())
}

/// Bonds (block 1), a task created in block 2, one round of `MINER` submitted on it; returns (task,
/// submission, builder, commitment, trace).
pub fn submitted(tamper: Option<(usize, usize)>) -> (TaskId, SubmissionId, RoundBuilder, RoundCommitment, MerkleTree) {
    let task = bonded_task();
    let (b, c, t) = first_round(0, tamper);
    let id = NextSubmissionId::<Test>::get();
    assert_ok!(Pogo::submit_round(RuntimeOrigin::signed(MINER), task, c.clone(), locator()));
    (task, id, b, c, t)
}

/// Moves the relay chain far enough and fixes the challenge of the submission's current level (level 0
/// after submission, level 1 after an escalation: both wait `ChallengeEpochDelay` = 2 epochs).
///
/// The mock's `run_to_block` is frame-system's `run_to_block`, which runs only `on_finalize` and
/// `on_initialize` of every pallet (frame-system 49, `run_to_block_with`): `on_idle` never runs in these
/// tests, so a due submission stays where it is until a test calls `advance` (or `on_idle` by hand).
pub fn fix_challenge(id: SubmissionId) {
    MockRelay::advance_epochs(2);
    run_to_block(System::block_number() + 1);
    assert_ok!(Pogo::advance(RuntimeOrigin::signed(REPORTER), id));
}

/// Verifiers assigned at the submission's current level.
pub fn assigned(id: SubmissionId) -> Vec<AccountId> {
    let s = Submissions::<Test>::get(id).unwrap();
    s.assigned.iter().filter(|a| a.level == s.level).map(|a| a.who).collect()
}

pub fn salt(who: AccountId) -> [u8; 32] {
    [who as u8; 32]
}

pub fn commitment_of(id: SubmissionId, who: AccountId, v: &pogo_primitives::Verdict) -> [u8; 32] {
    use codec::Encode;
    pogo_primitives::verdict::verdict_commitment(id, &who.encode(), v, &salt(who))
}

/// Every assigned verifier at the current level commits and reveals `verdicts[i]` (None: no commit).
pub fn vote(id: SubmissionId, verdicts: &[Option<pogo_primitives::Verdict>]) {
    let who = assigned(id);
    for (w, v) in who.iter().zip(verdicts) {
        if let Some(v) = v {
            assert_ok!(Pogo::commit_verdict(RuntimeOrigin::signed(*w), id, commitment_of(id, *w, v)));
        }
    }
    let until = match Submissions::<Test>::get(id).unwrap().phase {
        Phase::Committing(u) => u,
        _ => panic!("not committing"),
    };
    if Pogo::do_advance(id).is_err() {
        run_to_block(until + 1);
        assert_ok!(Pogo::advance(RuntimeOrigin::signed(REPORTER), id));
    }
    for (w, v) in who.iter().zip(verdicts) {
        if let Some(v) = v {
            assert_ok!(Pogo::reveal_verdict(RuntimeOrigin::signed(*w), id, *v, salt(*w)));
        }
    }
}

/// Votes, then closes the reveal phase: at once when every committed verifier revealed, else after the
/// reveal window.
pub fn vote_and_tally(id: SubmissionId, verdicts: &[Option<pogo_primitives::Verdict>]) {
    vote(id, verdicts);
    if Pogo::do_advance(id).is_err() {
        let Phase::Revealing(until) = Submissions::<Test>::get(id).unwrap().phase else { panic!("not revealing") };
        run_to_block(until + 1);
        assert_ok!(Pogo::advance(RuntimeOrigin::signed(REPORTER), id));
    }
}

/// The end of an accepted submission's fraud window.
pub fn accepted_until(id: SubmissionId) -> u64 {
    match Submissions::<Test>::get(id).unwrap().phase {
        Phase::Accepted(at) => at,
        other => panic!("not accepted: {other:?}"),
    }
}

/// Waits out an accepted submission's fraud window and finalizes it (verifiers are settled then).
pub fn finalize_round(id: SubmissionId) {
    run_to_block(accepted_until(id).max(System::block_number()));
    assert_ok!(Pogo::advance(RuntimeOrigin::signed(REPORTER), id));
    assert!(Submissions::<Test>::get(id).is_none(), "finalized");
}

/// `VerifierPaid` events of submission `id`.
pub fn paid_verifiers(id: SubmissionId) -> Vec<AccountId> {
    pogo_events()
        .into_iter()
        .filter_map(|e| match e {
            Event::VerifierPaid { submission, verifier, .. } if submission == id => Some(verifier),
            _ => None,
        })
        .collect()
}
