//! Stateful fuzzing of the pallet against the mock runtime, on stable Rust.
//!
//! A run drives arbitrary sequences of every extrinsic (`calls`: about 70% well-formed with fuzzed but
//! plausible arguments, 30% garbage), blocks (`on_initialize`, `on_idle` with a fuzzed weight or none,
//! `on_finalize`, as the tests advance blocks) and new relay epochs (or a block without relay
//! randomness). Its input is a splitmix64 byte stream read through `arbitrary::Unstructured`, so a run
//! is reproducible from its seed. It checks that nothing panics, that `do_try_state` holds after every
//! block, and that a call returning an error changed no storage of Pogo, Balances or the accounts.
//!
//! A run is made of chunks, each in fresh test externalities with its own seed derived from the run's,
//! so state stays small and a failing chunk replays alone. `fuzz_bounded` runs a few thousand calls
//! with every test; `fuzz_long` (ignored, `scripts/fuzz.sh`) reads:
//!
//! * `POGO_FUZZ_CALLS` — calls in all (default 1,000,000);
//! * `POGO_FUZZ_SEED` — the run's seed (default: from the clock, printed first);
//! * `POGO_FUZZ_CHUNK` — calls per chunk (default 2,000);
//! * `POGO_FUZZ_FIRST_CHUNK` — the first chunk's index (default 0: replays a failure printed as chunk C
//!   at call N with `POGO_FUZZ_FIRST_CHUNK=C POGO_FUZZ_CALLS=N+1`, same seed and chunk size);
//! * `POGO_FUZZ_STATE_CHECK` — compare storage around every Nth call (default 1: every call).

mod calls;
mod garbage;
mod input;

use crate::{mock::*, tests::helpers::initial_root, *};
use calls::{Shadow, BOND, CREATE_TASK, EXTRA, KINDS, KIND_COUNT, SUBMIT_ROUND};
use frame_support::{
    traits::{fungible::Mutate, Hooks, PalletInfoAccess},
    weights::Weight,
};
use input::{chunk_seed, Gen, SplitMix};
use pogo_primitives::Hash;
use polkadot_sdk::{frame_support, frame_system, sp_io, sp_runtime::DispatchError};
use std::{
    collections::BTreeMap,
    fmt::Write,
    panic::{catch_unwind, resume_unwind, AssertUnwindSafe},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

/// Operations: the calls (`KINDS`), then a block and a relay epoch.
const OPS: usize = KIND_COUNT + 2;
const BLOCK: usize = KIND_COUNT;
const EPOCH: usize = KIND_COUNT + 1;
/// Bytes of input per operation.
const OP_BYTES: usize = 1024;

/// Storage contents under some prefixes: (key, value), keys ascending.
type Snapshot = Vec<(Vec<u8>, Vec<u8>)>;

/// What a run is.
struct RunConfig {
    seed: u64,
    calls: u64,
    chunk_len: u64,
    first_chunk: u64,
    state_check_every: u64,
    progress: bool,
}

/// Where a run is, printed when it fails.
#[derive(Clone, Copy, Debug, Default)]
struct Position {
    chunk: u64,
    /// Index of the call in its chunk (calls done in the chunk, during a block or epoch).
    call: u64,
    block: u64,
    op: usize,
    well: bool,
}

/// What a run did.
#[derive(Default)]
struct Stats {
    calls: u64,
    blocks: u64,
    epochs: u64,
    chunks: u64,
    ok: [u64; KIND_COUNT],
    err: [u64; KIND_COUNT],
    /// Errors by call and error name.
    errors: BTreeMap<(usize, &'static str), u64>,
    /// Pallet events by variant.
    events: BTreeMap<String, u64>,
    /// The most rounds any task accepted.
    max_round: u32,
}

impl Stats {
    fn event(&self, name: &str) -> u64 {
        self.events.get(name).copied().unwrap_or_default()
    }

    fn depth(&self) -> String {
        let mut out = String::new();
        for (label, event) in [
            ("challenged", "ChallengeFixed"),
            ("revealed", "VerdictRevealed"),
            ("accepted", "RoundAccepted"),
            ("rejected", "RoundRejected"),
            ("escalated", "RoundEscalated"),
            ("expired", "RoundExpired"),
            ("stale", "RoundStale"),
            ("voided", "RoundVoided"),
            ("finalized", "RoundFinalized"),
            ("fraud_proven", "FraudProven"),
            ("root_reverted", "StateRootReverted"),
            ("slashed", "Slashed"),
            ("withdrawn", "Withdrawn"),
            ("deregistered", "VerifierDeregistered"),
        ] {
            let _ = write!(out, "{label}={} ", self.event(event));
        }
        let _ = write!(out, "max_task_round={}", self.max_round);
        out
    }

    fn print(&self, label: &str, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let rate = self.calls as f64 / secs.max(1e-9);
        let mut per_call = String::new();
        for (i, kind) in KINDS.iter().enumerate() {
            let _ = write!(per_call, "{kind}={}/{} ", self.ok[i], self.err[i]);
        }
        println!(
            "{label}: calls={} blocks={} epochs={} chunks={} secs={secs:.1} calls/s={rate:.0} | ok/err: {per_call}| \
             depth: {}",
            self.calls,
            self.blocks,
            self.epochs,
            self.chunks,
            self.depth()
        );
        for ((kind, name), n) in &self.errors {
            println!("  {} -> {name}: {n}", KINDS[*kind]);
        }
        for (name, n) in &self.events {
            println!("  event {name}: {n}");
        }
    }
}

/// The name of a call's error.
fn error_name(e: &DispatchError) -> &'static str {
    match e {
        DispatchError::Module(m) => m.message.unwrap_or("Module"),
        DispatchError::Other(s) => s,
        DispatchError::BadOrigin => "BadOrigin",
        DispatchError::Token(_) => "Token",
        DispatchError::Arithmetic(_) => "Arithmetic",
        _ => "OtherDispatchError",
    }
}

/// Storage that a failed call must leave alone: the pallet's, the balances pallet's (holds) and the
/// accounts (frame-system's events and block bookkeeping are not compared).
fn watched_prefixes() -> Vec<Vec<u8>> {
    let pallet = |name: &str| sp_io::hashing::twox_128(name.as_bytes()).to_vec();
    vec![
        pallet(<Pogo as PalletInfoAccess>::name()),
        pallet(<Balances as PalletInfoAccess>::name()),
        frame_support::storage::storage_prefix(<System as PalletInfoAccess>::name().as_bytes(), b"Account").to_vec(),
    ]
}

fn snapshot(prefixes: &[Vec<u8>]) -> Snapshot {
    let mut out = Vec::new();
    for prefix in prefixes {
        let mut key = prefix.clone();
        while let Some(next) = sp_io::storage::next_key(&key) {
            if !next.starts_with(prefix) {
                break;
            }
            let value = frame_support::storage::unhashed::get_raw(&next).unwrap_or_default();
            out.push((next.clone(), value));
            key = next;
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The first key whose value differs between two snapshots.
fn first_difference(before: &[(Vec<u8>, Vec<u8>)], after: &[(Vec<u8>, Vec<u8>)]) -> String {
    let a: BTreeMap<&Vec<u8>, &Vec<u8>> = before.iter().map(|e| (&e.0, &e.1)).collect();
    let b: BTreeMap<&Vec<u8>, &Vec<u8>> = after.iter().map(|e| (&e.0, &e.1)).collect();
    for (k, v) in &a {
        match b.get(k) {
            None => return format!("key 0x{} removed", hex(k)),
            Some(w) if w != v => return format!("key 0x{} changed from 0x{} to 0x{}", hex(k), hex(v), hex(w)),
            Some(_) => {},
        }
    }
    match b.keys().find(|k| !a.contains_key(*k)) {
        Some(k) => format!("key 0x{} added", hex(k)),
        None => "no key".into(),
    }
}

/// Counts this pallet's events so far and clears them (they would pile up over a chunk).
fn collect_events(stats: &mut Stats) {
    for record in System::events() {
        if let RuntimeEvent::Pogo(e) = record.event {
            let debug = format!("{e:?}");
            let full = debug.split([' ', '{', '(']).next().unwrap_or_default();
            let name = full.rsplit("::").next().unwrap_or(full);
            *stats.events.entry(name.to_owned()).or_default() += 1;
        }
    }
    System::reset_events();
}

/// The invariants, after every block.
fn check_state(stats: &mut Stats) {
    if let Err(e) = Pogo::do_try_state() {
        panic!("try_state failed at block {}: {e:?}", System::block_number());
    }
    for task in Tasks::<Test>::iter_values() {
        stats.max_round = stats.max_round.max(task.round);
    }
}

/// The weight `on_idle` gets in a block, or `None` for a block without it (frame-system's
/// `run_to_block`, as most tests run).
fn idle_weight(g: &mut Gen) -> Option<Weight> {
    match g.int(0u8..=9) {
        0..=2 => None,
        3..=6 => Some(Weight::MAX),
        7 => Some(Weight::zero()),
        // Around what one advance needs: none, one or a few.
        8 => Some(
            Pogo::advance_worst_case_weight()
                .saturating_mul(g.int(1u64..=6))
                .saturating_add(Pogo::idle_scan_weight()),
        ),
        _ => Some(Weight::from_parts(g.arb(), g.arb())),
    }
}

/// One block mostly, a few now and then, rarely past the unbonding period.
fn advance_blocks(g: &mut Gen, stats: &mut Stats) {
    let blocks = if g.chance(1, 200) {
        g.int(95u64..=120)
    } else if g.chance(1, 25) {
        g.int(2u64..=8)
    } else {
        1
    };
    for _ in 0..blocks {
        let next = System::block_number() + 1;
        match idle_weight(g) {
            Some(weight) => System::run_to_block_with::<AllPalletsWithSystem>(
                next,
                frame_system::RunToBlockHooks::default().before_finalize(move |n| {
                    let _ = <Pogo as Hooks<u64>>::on_idle(n, weight);
                }),
            ),
            None => run_to_block(next),
        }
        stats.blocks += 1;
        collect_events(stats);
        check_state(stats);
    }
}

/// The relay chain moves on one or two epochs (rarely more, past `RandomnessRetention`), or the next
/// blocks see no relay randomness at all until it comes back.
fn new_epoch(g: &mut Gen, stats: &mut Stats) {
    let missing = g.chance(1, 25);
    match <MockRelay as RelayRandomness>::epoch_randomness() {
        Some(_) if missing => MockRelay::set(None),
        Some(_) => {
            let epochs = if g.chance(1, 15) { g.int(3u64..=12) } else { g.int(1u64..=2) };
            MockRelay::advance_epochs(epochs);
            stats.epochs += 1;
        },
        None => {
            let epoch = LastRecordedEpoch::<Test>::get().unwrap_or_default() + 1;
            MockRelay::set(Some((epoch, g.hash())));
            stats.epochs += 1;
        },
    }
}

/// The operation to run: calls by weight, more task creation and bonding while there is little to work
/// with.
fn choose_op(g: &mut Gen) -> usize {
    let mut weights: [u32; OPS] = [3, 3, 2, 1, 6, 3, 3, 12, 15, 15, 12, 5, 10, 4];
    if Tasks::<Test>::count() == 0 {
        weights[CREATE_TASK] += 30;
    }
    if VerifierRegistry::<Test>::get().len() < 7 || MinerBonds::<Test>::iter_keys().next().is_none() {
        weights[BOND] += 20;
    }
    let total: u32 = weights.iter().sum();
    let mut x = g.int(0..=total - 1);
    for (op, w) in weights.iter().enumerate() {
        if x < *w {
            return op;
        }
        x -= w;
    }
    EPOCH
}

/// Runs `count` calls of chunk `chunk` in fresh externalities.
fn run_chunk(cfg: &RunConfig, chunk: u64, count: u64, initial: Hash, stats: &mut Stats, pos: &mut Position) {
    let mut rng = SplitMix::new(chunk_seed(cfg.seed, chunk));
    let mut bytes = vec![0u8; OP_BYTES];
    new_test_ext().execute_with(|| {
        for who in EXTRA {
            Balances::mint_into(&who, 10_000).unwrap();
        }
        System::reset_events();
        let mut shadow = Shadow::new(initial);
        let watched = watched_prefixes();
        let mut done = 0u64;
        while done < count {
            rng.fill(&mut bytes);
            let mut g = Gen::new(&bytes);
            let op = choose_op(&mut g);
            *pos = Position { chunk, call: done, block: System::block_number(), op, well: false };
            match op {
                BLOCK => advance_blocks(&mut g, stats),
                EPOCH => new_epoch(&mut g, stats),
                kind => {
                    let well = g.chance(7, 10);
                    pos.well = well;
                    let before = stats.calls.is_multiple_of(cfg.state_check_every).then(|| snapshot(&watched));
                    let result = calls::dispatch(kind, well, &mut g, &mut shadow);
                    stats.calls += 1;
                    done += 1;
                    match result {
                        Ok(()) => stats.ok[kind] += 1,
                        Err(e) => {
                            stats.err[kind] += 1;
                            *stats.errors.entry((kind, error_name(&e))).or_default() += 1;
                            if let Some(before) = before {
                                let after = snapshot(&watched);
                                assert!(
                                    before == after,
                                    "{} failed with {e:?} but changed storage: {}",
                                    KINDS[kind],
                                    first_difference(&before, &after)
                                );
                            }
                        },
                    }
                    collect_events(stats);
                },
            }
        }
        check_state(stats);
    });
}

/// Runs `cfg.calls` calls; on a panic, prints where it happened and how to replay it.
fn run(cfg: &RunConfig, stats: &mut Stats) {
    let initial = initial_root();
    let start = Instant::now();
    let mut done = 0u64;
    let mut chunk = cfg.first_chunk;
    let mut next_report = 100_000u64;
    while done < cfg.calls {
        let count = cfg.chunk_len.min(cfg.calls - done);
        let mut pos = Position { chunk, ..Position::default() };
        let result = catch_unwind(AssertUnwindSafe(|| run_chunk(cfg, chunk, count, initial, stats, &mut pos)));
        if let Err(panic) = result {
            let op = KINDS.get(pos.op).copied().unwrap_or(if pos.op == BLOCK { "block" } else { "epoch" });
            eprintln!(
                "pogo fuzz: failed in chunk {} at call {} (block {}, {op}, well-formed {}); replay with \
                 POGO_FUZZ_SEED={} POGO_FUZZ_CHUNK={} POGO_FUZZ_FIRST_CHUNK={} POGO_FUZZ_CALLS={}",
                pos.chunk,
                pos.call,
                pos.block,
                pos.well,
                cfg.seed,
                cfg.chunk_len,
                pos.chunk,
                pos.call + 1
            );
            resume_unwind(panic);
        }
        done += count;
        chunk += 1;
        stats.chunks += 1;
        while cfg.progress && done >= next_report {
            let secs = start.elapsed().as_secs_f64();
            println!(
                "pogo fuzz: {done} calls, {} blocks, {} epochs, {secs:.0}s, {:.0} calls/s | {}",
                stats.blocks,
                stats.epochs,
                done as f64 / secs.max(1e-9),
                stats.depth()
            );
            next_report += 100_000;
        }
    }
}

#[test]
fn fuzz_bounded() {
    let start = Instant::now();
    let mut stats = Stats::default();
    for seed in [1, 2, 3] {
        let cfg =
            RunConfig { seed, calls: 1_000, chunk_len: 1_000, first_chunk: 0, state_check_every: 1, progress: false };
        run(&cfg, &mut stats);
    }
    stats.print("fuzz_bounded (seeds 1, 2, 3)", start.elapsed());
    assert_eq!(stats.calls, 3_000);
    assert!(stats.blocks > 0 && stats.epochs > 0, "blocks and epochs ran");
    for kind in [CREATE_TASK, BOND, SUBMIT_ROUND] {
        assert!(stats.ok[kind] > 0, "no {} succeeded", KINDS[kind]);
    }
    // The harness reaches the deep states, not only early rejections.
    for event in ["RoundAccepted", "RoundEscalated", "FraudProven", "RoundFinalized"] {
        assert!(stats.event(event) > 0, "no {event} in the bounded run");
    }
}

#[test]
#[ignore = "long: run with scripts/fuzz.sh"]
fn fuzz_long() {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.trim().parse::<u64>().ok());
    let seed = env("POGO_FUZZ_SEED").unwrap_or_else(|| {
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or_default()
    });
    let cfg = RunConfig {
        seed,
        calls: env("POGO_FUZZ_CALLS").unwrap_or(1_000_000),
        chunk_len: env("POGO_FUZZ_CHUNK").unwrap_or(2_000).max(1),
        first_chunk: env("POGO_FUZZ_FIRST_CHUNK").unwrap_or(0),
        state_check_every: env("POGO_FUZZ_STATE_CHECK").unwrap_or(1).max(1),
        progress: true,
    };
    println!(
        "pogo fuzz: POGO_FUZZ_SEED={seed} POGO_FUZZ_CALLS={} POGO_FUZZ_CHUNK={} POGO_FUZZ_FIRST_CHUNK={} \
         POGO_FUZZ_STATE_CHECK={}",
        cfg.calls, cfg.chunk_len, cfg.first_chunk, cfg.state_check_every
    );
    let start = Instant::now();
    let mut stats = Stats::default();
    run(&cfg, &mut stats);
    stats.print(&format!("fuzz_long (seed {seed})"), start.elapsed());
}
