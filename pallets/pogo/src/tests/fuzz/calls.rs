//! One fuzzed call of each pallet extrinsic. A well-formed call uses what the chain and the shadow state
//! know (existing task and submission ids, the task's owner, real round commitments and fraud proofs
//! from `pogo-primitives`' builder, verdict reveals matching their commitments) with fuzzed but
//! plausible values; a garbage call uses random ids, bytes and extreme values.

use super::{
    garbage::{garbage_model, garbage_params, garbage_spec, garbage_verdict, mutate_proof, random_proof},
    input::Gen,
};
use crate::{
    mock::*,
    tests::helpers::{build_round, dataset, initial_weights, locator, model_for, spec, PARAMS},
    *,
};
use codec::Encode;
use frame_support::{traits::Get, BoundedVec};
use pogo_primitives::{
    builder::RoundBuilder,
    fraud::FraudProof,
    seed::SampleSizes,
    tolerance::Tolerance,
    verdict::{verdict_commitment, NegativeReason, Verdict},
    Hash, MerkleTree, RoundCommitment, TrainingSpec,
};
use polkadot_sdk::{frame_support, sp_runtime::DispatchError};
use std::collections::BTreeMap;

/// The calls, in `call_index` order.
pub(super) const KINDS: [&str; KIND_COUNT] = [
    "create_task",
    "top_up",
    "set_task_status",
    "close_task",
    "bond",
    "unbond",
    "withdraw_unbonded",
    "submit_round",
    "commit_verdict",
    "reveal_verdict",
    "advance",
    "report_fraud",
];
pub(super) const KIND_COUNT: usize = 12;
pub(super) const CREATE_TASK: usize = 0;
pub(super) const BOND: usize = 4;
pub(super) const SUBMIT_ROUND: usize = 7;

/// Accounts the fuzzer funds on top of the mock's genesis.
pub(super) const EXTRA: [AccountId; 8] = [100, 101, 102, 103, 104, 105, 106, 107];
/// Every funded account: 20, more than `MaxVerifiers` (16), so registry evictions happen.
const ACCOUNTS: [AccountId; 20] = [
    OWNER, MINER, MINER2, REPORTER, VERIFIERS[0], VERIFIERS[1], VERIFIERS[2], VERIFIERS[3], VERIFIERS[4],
    VERIFIERS[5], VERIFIERS[6], VERIFIERS[7], EXTRA[0], EXTRA[1], EXTRA[2], EXTRA[3], EXTRA[4], EXTRA[5],
    EXTRA[6], EXTRA[7],
];
/// Accounts that mostly bond as miners (the others mostly as verifiers).
const MINERS: [AccountId; 4] = [MINER, MINER2, EXTRA[0], EXTRA[1]];
/// Rounds kept for fraud proofs.
const MAX_ROUNDS: usize = 64;

type CallResult = Result<(), DispatchError>;
/// Weights and optimizer slots of a model state.
type State = (Vec<f32>, Vec<Vec<f32>>);

/// A round this fuzzer built and submitted, kept for fraud proofs.
pub(super) struct ShadowRound {
    id: SubmissionId,
    builder: RoundBuilder,
    trace: MerkleTree,
    commitment: RoundCommitment,
    /// `(leaf, segment)` whose fraud proof shows the tampering, for a tampered round.
    fraud: Option<(u64, u32)>,
}

/// What the chain does not say: the model states behind known roots (to build valid rounds on them),
/// the rounds submitted (for fraud proofs) and the verdicts committed (to reveal them).
pub(super) struct Shadow {
    initial_root: Hash,
    states: BTreeMap<Hash, State>,
    rounds: Vec<ShadowRound>,
    commits: BTreeMap<(SubmissionId, AccountId), (Verdict, Hash)>,
}

impl Shadow {
    pub(super) fn new(initial_root: Hash) -> Self {
        let mut states = BTreeMap::new();
        states.insert(initial_root, (initial_weights(), vec![vec![0.0f32; PARAMS as usize]; 2]));
        Self { initial_root, states, rounds: Vec::new(), commits: BTreeMap::new() }
    }

    fn is_tampered(&self, id: SubmissionId) -> bool {
        self.rounds.iter().any(|r| r.id == id && r.fraud.is_some())
    }

    fn forget_settled(&mut self) {
        self.rounds.retain(|r| Submissions::<Test>::contains_key(r.id));
        self.commits.retain(|(id, _), _| Submissions::<Test>::contains_key(id));
    }

    fn remember(&mut self, round: ShadowRound) {
        self.forget_settled();
        self.rounds.push(round);
        if self.rounds.len() > MAX_ROUNDS {
            self.rounds.remove(0);
        }
    }
}

/// Makes call `kind`, well-formed or garbage.
pub(super) fn dispatch(kind: usize, well: bool, g: &mut Gen, sh: &mut Shadow) -> CallResult {
    match kind {
        0 => create_task_call(g, sh, well),
        1 => top_up_call(g, well),
        2 => set_task_status_call(g, well),
        3 => close_task_call(g, well),
        4 => bond_call(g, well),
        5 => unbond_call(g, well),
        6 => withdraw_call(g, well),
        7 => submit_round_call(g, sh, well),
        8 => commit_verdict_call(g, sh, well),
        9 => reveal_verdict_call(g, sh, well),
        10 => advance_call(g, well),
        _ => report_fraud_call(g, sh, well),
    }
}

// --- accounts, origins, ids -------------------------------------------------------------------------

fn funded(g: &mut Gen) -> AccountId {
    g.pick(&ACCOUNTS).unwrap_or(OWNER)
}

fn any_account(g: &mut Gen) -> AccountId {
    if g.chance(4, 5) {
        funded(g)
    } else {
        g.pick(&[POOR, TREASURY, 0, u64::MAX]).unwrap_or(POOR)
    }
}

fn any_role(g: &mut Gen) -> Role {
    if g.chance(1, 2) {
        Role::Miner
    } else {
        Role::Verifier
    }
}

/// `who`, signed; a garbage call is sometimes unsigned or root instead.
fn origin(g: &mut Gen, who: AccountId, well: bool) -> RuntimeOrigin {
    if !well && g.chance(1, 10) {
        if g.chance(1, 2) {
            RuntimeOrigin::none()
        } else {
            RuntimeOrigin::root()
        }
    } else {
        RuntimeOrigin::signed(who)
    }
}

/// An existing task (always when well-formed and there is one), else the next id or anything.
fn pick_task(g: &mut Gen, well: bool) -> TaskId {
    let ids: Vec<TaskId> = Tasks::<Test>::iter_keys().collect();
    let existing = well || g.chance(1, 2);
    match g.pick(&ids) {
        Some(id) if existing => id,
        _ => match g.int(0u8..=2) {
            0 => NextTaskId::<Test>::get(),
            1 => u32::MAX,
            _ => g.arb(),
        },
    }
}

/// A live submission id half the time, else the next id, the maximum or a small id.
fn any_submission(g: &mut Gen) -> SubmissionId {
    let live: Vec<SubmissionId> = Submissions::<Test>::iter_keys().collect();
    match g.int(0u8..=5) {
        0..=2 => g.pick(&live).unwrap_or(0),
        3 => NextSubmissionId::<Test>::get(),
        4 => u64::MAX,
        _ => g.int(0..=NextSubmissionId::<Test>::get().saturating_add(2)),
    }
}

fn owner_of(task: TaskId) -> AccountId {
    Tasks::<Test>::get(task).map_or(OWNER, |t| t.owner)
}

// --- tasks ------------------------------------------------------------------------------------------

fn create_task_call(g: &mut Gen, sh: &Shadow, well: bool) -> CallResult {
    let owner = if well && g.chance(7, 10) {
        OWNER
    } else if well {
        funded(g)
    } else {
        any_account(g)
    };
    let (spec, model) = if !well {
        match g.int(0u8..=2) {
            0 => {
                let s = garbage_spec(g);
                (s, model_for(&s))
            },
            1 => (spec(), garbage_model(g)),
            _ => (garbage_spec(g), garbage_model(g)),
        }
    } else if g.chance(1, 6) {
        // Another valid model of the same size: a spec that names it.
        let model = BoundedModelDescriptor::synthetic(g.int(1u32..=8), PARAMS, g.chance(1, 10));
        (TrainingSpec { model: model.to_descriptor().hash(), ..spec() }, model)
    } else {
        let s = spec();
        (s, model_for(&s))
    };
    let params = plausible_params(g);
    let params = if well { params } else { garbage_params(g, params) };
    let root = if g.chance(if well { 1 } else { 10 }, 20) { g.hash() } else { sh.initial_root };
    let dataset = if well && g.chance(4, 5) {
        dataset()
    } else {
        DatasetCommitment { train_root: g.hash(), eval_root: g.hash(), locator: BoundedVec::truncate_from(g.bytes(64)) }
    };
    // Enough for a few rounds (at most 2,800 each with plausible parameters), sometimes more or none.
    let escrow = if !well {
        g.balance()
    } else if g.chance(4, 5) {
        g.int(3_000u64..=10_000)
    } else {
        g.int(0u64..=30_000)
    };
    Pogo::create_task(origin(g, owner, well), spec, model, params, root, dataset, escrow)
}

fn plausible_params(g: &mut Gen) -> TaskParamsOf<Test> {
    let max_assigned: u32 = <Test as Config>::MaxAssigned::get();
    let verifiers = g.int(1u32..=3);
    let escalation_verifiers = g.int(verifiers + 1..=max_assigned - verifiers);
    let tolerance = if g.chance(4, 5) {
        Tolerance::DEFAULT
    } else {
        Tolerance {
            boundary_margin_ppm: g.int(0u32..=1_000_000),
            max_scale_error_ppm: g.int(0u32..=1_000_000),
            noise_floor_ppm: g.int(0u32..=1_000_000),
        }
    };
    TaskParams {
        reward: g.int(0u64..=2_000),
        verifier_pay: g.int(0u64..=100),
        miner_bond: g.int(0u64..=3_000),
        verifiers,
        escalation_verifiers,
        samples: SampleSizes { steps: g.int(1u32..=6), leaves: g.int(0u32..=3), eval_examples: g.int(0u32..=20) },
        tolerance,
        min_improvement_ppm: if g.chance(3, 4) { 0 } else { g.int(0u32..=1_000_000) },
        commit_window: g.int(2u64..=30),
        reveal_window: g.int(2u64..=30),
        verification: if g.int(0u8..=1) == 0 {
            pogo_primitives::views::VerificationMode::FullReplay
        } else {
            pogo_primitives::views::VerificationMode::SampledReplay
        },
    }
}

fn top_up_call(g: &mut Gen, well: bool) -> CallResult {
    let task = pick_task(g, well);
    let who = if well && g.chance(3, 5) {
        owner_of(task)
    } else if well {
        funded(g)
    } else {
        any_account(g)
    };
    let amount = if well { g.int(1u64..=5_000) } else { g.balance() };
    Pogo::top_up(origin(g, who, well), task, amount)
}

fn set_task_status_call(g: &mut Gen, well: bool) -> CallResult {
    let task = pick_task(g, well);
    let who = if well && g.chance(17, 20) { owner_of(task) } else { any_account(g) };
    let flip = well && g.chance(4, 5);
    let coin = g.chance(1, 2);
    let status = match Tasks::<Test>::get(task) {
        Some(t) if flip && t.status == TaskStatus::Active => TaskStatus::Paused,
        Some(_) if flip => TaskStatus::Active,
        _ if coin => TaskStatus::Active,
        _ => TaskStatus::Paused,
    };
    Pogo::set_task_status(origin(g, who, well), task, status)
}

fn close_task_call(g: &mut Gen, well: bool) -> CallResult {
    let task = pick_task(g, well);
    let who = if well && g.chance(9, 10) { owner_of(task) } else { any_account(g) };
    Pogo::close_task(origin(g, who, well), task)
}

// --- bonds ------------------------------------------------------------------------------------------

fn bond_call(g: &mut Gen, well: bool) -> CallResult {
    if !well {
        let (who, role, amount) = (any_account(g), any_role(g), g.balance());
        return Pogo::bond(origin(g, who, false), role, amount);
    }
    let who = funded(g);
    let usual = g.chance(17, 20);
    let role = if MINERS.contains(&who) == usual { Role::Miner } else { Role::Verifier };
    let small = g.chance(1, 10);
    let amount = match role {
        Role::Miner => g.int(500u64..=5_000),
        // Sometimes below `MinVerifierBond`.
        Role::Verifier if small => g.int(1u64..=99),
        Role::Verifier => g.int(100u64..=2_000),
    };
    Pogo::bond(RuntimeOrigin::signed(who), role, amount)
}

fn ledgers() -> Vec<(AccountId, Role, LedgerOf<Test>)> {
    MinerBonds::<Test>::iter()
        .map(|(who, l)| (who, Role::Miner, l))
        .chain(VerifierBonds::<Test>::iter().map(|(who, l)| (who, Role::Verifier, l)))
        .collect()
}

fn unbond_call(g: &mut Gen, well: bool) -> CallResult {
    let all = if well { ledgers() } else { Vec::new() };
    if let Some(i) = g.index(all.len()) {
        let (who, role, ledger) = &all[i];
        let free = Pogo::free_bond(ledger);
        let amount = if free > 0 && g.chance(9, 10) { g.int(1..=free) } else { g.int(1..=ledger.held.max(1)) };
        return Pogo::unbond(RuntimeOrigin::signed(*who), *role, amount);
    }
    let (who, role, amount) = (any_account(g), any_role(g), g.balance());
    Pogo::unbond(origin(g, who, well), role, amount)
}

fn withdraw_call(g: &mut Gen, well: bool) -> CallResult {
    if well {
        let now = System::block_number();
        let unbonding: Vec<(AccountId, Role, bool)> = ledgers()
            .into_iter()
            .filter_map(|(who, role, l)| l.unbonding.map(|u| (who, role, u.unlocks_at <= now)))
            .collect();
        let ready: Vec<(AccountId, Role)> = unbonding.iter().filter(|u| u.2).map(|u| (u.0, u.1)).collect();
        let any: Vec<(AccountId, Role)> = unbonding.iter().map(|u| (u.0, u.1)).collect();
        let choice = if !ready.is_empty() && g.chance(4, 5) { g.pick(&ready) } else { g.pick(&any) };
        if let Some((who, role)) = choice {
            return Pogo::withdraw_unbonded(RuntimeOrigin::signed(who), role);
        }
    }
    let (who, role) = (any_account(g), any_role(g));
    Pogo::withdraw_unbonded(origin(g, who, well), role)
}

// --- rounds -----------------------------------------------------------------------------------------

fn submit_round_call(g: &mut Gen, sh: &mut Shadow, well: bool) -> CallResult {
    let task = pick_task(g, well);
    let info = Tasks::<Test>::get(task);
    let miner = if well && g.chance(17, 20) {
        g.pick(&MINERS).unwrap_or(MINER)
    } else if well {
        funded(g)
    } else {
        any_account(g)
    };
    let loc = if g.chance(4, 5) { locator() } else { BoundedVec::truncate_from(g.bytes(64)) };
    // A real round on the task's current root, when the shadow knows the state behind it.
    let known = info.as_ref().and_then(|t| sh.states.get(&t.state_root).cloned().map(|s| (t.steps_done, s)));
    if let (true, Some((steps_done, (weights, slots)))) = (well, known) {
        // A cheating miner moves one weight after a step; the last step is left alone (its change would
        // reach no committed root).
        let tamper = if g.chance(1, 4) {
            Some((g.int(0usize..=4), g.int(0usize..=PARAMS as usize - 1)))
        } else {
            None
        };
        let (builder, commitment, trace) = build_round(weights, slots, steps_done + 1, g.int(0usize..=1_000), tamper);
        let id = NextSubmissionId::<Test>::get();
        Pogo::submit_round(RuntimeOrigin::signed(miner), task, commitment.clone(), loc)?;
        sh.states
            .entry(commitment.final_root)
            .or_insert_with(|| (builder.weights().to_vec(), builder.slots().to_vec()));
        // A change after step `at` first shows in the checkpoint after step `at + 1`.
        let s = spec();
        let fraud =
            tamper.map(|(at, param)| (param as u64 / u64::from(s.leaf_size), (at as u32 + 1) / s.checkpoint_interval));
        sh.remember(ShadowRound { id, builder, trace, commitment, fraud });
        return Ok(());
    }
    let reuse = g.chance(1, 4);
    let real_base = g.chance(1, 2);
    let commitment = match g.index(sh.rounds.len()) {
        // A commitment already submitted, perhaps to another task.
        Some(i) if reuse => sh.rounds[i].commitment.clone(),
        _ => RoundCommitment {
            base_root: match &info {
                Some(t) if real_base => t.state_root,
                _ => g.hash(),
            },
            trace_root: g.hash(),
            final_root: g.hash(),
            steps: if g.chance(1, 2) { spec().steps_per_round } else { g.u32x() },
            eval_loss_before: g.f32_bits(),
            eval_loss_after: g.f32_bits(),
        },
    };
    Pogo::submit_round(origin(g, miner, well), task, commitment, loc)
}

// --- verdicts ---------------------------------------------------------------------------------------

/// An honest verifier's verdict: mostly positive, mostly negative on a tampered round.
fn verdict_for(g: &mut Gen, tampered: bool) -> Verdict {
    let positive = if tampered { g.chance(2, 5) } else { g.chance(17, 20) };
    if positive {
        return Verdict::Positive;
    }
    Verdict::Negative(match g.int(0u8..=3) {
        0 => NegativeReason::BadGradient { step: g.int(0u32..=7) },
        1 => NegativeReason::InconsistentUpdate,
        2 => NegativeReason::NoProgress,
        _ => NegativeReason::DataUnavailable,
    })
}

fn commit_verdict_call(g: &mut Gen, sh: &mut Shadow, well: bool) -> CallResult {
    let now = System::block_number();
    let open: Vec<(SubmissionId, Submission<Test>)> = if well {
        Submissions::<Test>::iter()
            .filter(|(_, s)| matches!(s.phase, Phase::Committing(until) if now <= until))
            .collect()
    } else {
        Vec::new()
    };
    if let Some(i) = g.index(open.len()) {
        let (id, sub) = (open[i].0, &open[i].1);
        let current: Vec<AccountId> = sub.assigned.iter().filter(|a| a.level == sub.level).map(|a| a.who).collect();
        let fresh: Vec<AccountId> =
            current.iter().copied().filter(|w| !Attestations::<Test>::contains_key(id, w)).collect();
        let pool = if fresh.is_empty() { &current } else { &fresh };
        let who = g.pick(pool).unwrap_or(OWNER);
        let tampered = sh.is_tampered(id);
        let verdict = verdict_for(g, tampered);
        let salt = g.hash();
        let commitment = verdict_commitment(id, &who.encode(), &verdict, &salt);
        Pogo::commit_verdict(RuntimeOrigin::signed(who), id, commitment)?;
        sh.commits.insert((id, who), (verdict, salt));
        return Ok(());
    }
    let (id, who, commitment) = (any_submission(g), any_account(g), g.hash());
    Pogo::commit_verdict(origin(g, who, well), id, commitment)
}

/// Whether `who` can reveal on submission `id` now.
fn revealable(id: SubmissionId, who: AccountId, now: u64) -> bool {
    let Some(s) = Submissions::<Test>::get(id) else { return false };
    matches!(s.phase, Phase::Revealing(until) if now <= until) &&
        s.assigned.iter().any(|a| a.who == who && a.level == s.level) &&
        Attestations::<Test>::get(id, who).is_some_and(|a| a.revealed.is_none())
}

fn reveal_verdict_call(g: &mut Gen, sh: &mut Shadow, well: bool) -> CallResult {
    sh.forget_settled();
    let keys: Vec<(SubmissionId, AccountId)> = sh.commits.keys().copied().collect();
    if well {
        let now = System::block_number();
        let due: Vec<(SubmissionId, AccountId)> =
            keys.iter().copied().filter(|(id, who)| revealable(*id, *who, now)).collect();
        if let Some((id, who)) = g.pick(&due) {
            let (verdict, salt) = sh.commits[&(id, who)];
            return Pogo::reveal_verdict(RuntimeOrigin::signed(who), id, verdict, salt);
        }
    }
    let known = g.chance(1, 2);
    let (id, who) = match g.pick(&keys) {
        Some(key) if known => key,
        _ => (any_submission(g), any_account(g)),
    };
    let (verdict, salt) = match sh.commits.get(&(id, who)).copied() {
        // The right salt with another verdict, or the right verdict with another salt.
        Some((v, s)) => {
            if g.chance(1, 2) {
                (garbage_verdict(g), s)
            } else {
                (v, g.hash())
            }
        },
        None => (garbage_verdict(g), g.hash()),
    };
    Pogo::reveal_verdict(origin(g, who, well), id, verdict, salt)
}

fn advance_call(g: &mut Gen, well: bool) -> CallResult {
    let who = if well { funded(g) } else { any_account(g) };
    let id = if well {
        let subs: Vec<(SubmissionId, Submission<Test>)> = Submissions::<Test>::iter().collect();
        let due: Vec<SubmissionId> = subs.iter().filter(|(id, s)| Pogo::is_due(*id, s)).map(|(id, _)| *id).collect();
        let all: Vec<SubmissionId> = subs.iter().map(|(id, _)| *id).collect();
        let first = if g.chance(4, 5) { g.pick(&due) } else { None };
        first.or_else(|| g.pick(&all)).unwrap_or_else(NextSubmissionId::<Test>::get)
    } else {
        any_submission(g)
    };
    Pogo::advance(origin(g, who, well), id).map(|_| ()).map_err(|e| e.error)
}

// --- fraud proofs -----------------------------------------------------------------------------------

fn report(origin: RuntimeOrigin, id: SubmissionId, proof: FraudProof) -> CallResult {
    Pogo::report_fraud(origin, id, Box::new(proof)).map(|_| ()).map_err(|e| e.error)
}

fn report_fraud_call(g: &mut Gen, sh: &mut Shadow, well: bool) -> CallResult {
    sh.forget_settled();
    let reporter = if well { funded(g) } else { any_account(g) };
    let tampered: Vec<usize> = (0..sh.rounds.len()).filter(|i| sh.rounds[*i].fraud.is_some()).collect();
    let round = if !tampered.is_empty() && g.chance(4, 5) { g.pick(&tampered) } else { g.index(sh.rounds.len()) };
    let target = if well { round.map(|i| &sh.rounds[i]) } else { None };
    if let Some(r) = target {
        // The proof that shows the tampering, or an honest leaf (`FraudProofShowsNoFraud`).
        let honest = g.chance(1, 10);
        let (leaf, segment) = match r.fraud {
            Some(f) if !honest => f,
            _ => (g.int(0u64..=2), g.int(0u32..=1)),
        };
        if let Ok(proof) = r.builder.fraud_proof(&r.trace, leaf, segment) {
            return report(RuntimeOrigin::signed(reporter), r.id, proof);
        }
    }
    let own = g.chance(1, 2);
    let id = match round {
        Some(i) if own => sh.rounds[i].id,
        _ => any_submission(g),
    };
    let from_round = g.chance(3, 4);
    let mut proof = match round {
        Some(i) if from_round => {
            let r = &sh.rounds[i];
            let (leaf, segment) = (g.int(0u64..=3), g.int(0u32..=2));
            r.builder.fraud_proof(&r.trace, leaf, segment).unwrap_or_else(|_| random_proof(g))
        },
        _ => random_proof(g),
    };
    for _ in 0..g.int(0u8..=2) {
        mutate_proof(g, &mut proof);
    }
    let from = origin(g, reporter, well);
    report(from, id, proof)
}
