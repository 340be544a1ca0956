//! Every way to cheat that the worker names, tried for real against `pogo-node --dev` (run by
//! `scripts/test.sh`'s worker e2e tier: `cargo test -p pogo-worker --test adversaries -- --ignored
//! --test-threads 3`; each test has a dev chain of its own).
//!
//! Miners: seven honest verifiers, each a `pogo-worker verify` process on another libtorch thread count
//! than the miners', and, each on a task of its own, an honest miner and one miner per adversary mode:
//! the honest miner gets three rounds accepted with falling eval loss, every cheating miner is slashed,
//! a stale base is refused (the fee lost), no honest verifier is slashed, and an honest verifier killed
//! after committing and restarted from its journal still reveals.
//!
//! Verifiers: for each verifier adversary, a chain of its own where it holds a large stake (so it is
//! drawn) among six honest verifiers (so the deciding level is honest): it is slashed.
//!
//! Sampled replay: a task that asks for it accepts an honest round and slashes a forged final root.
//!
//! Watcher: a chain whose only verifiers are lazy colluders accepts a round with a forged final root; an
//! unbonded watcher replays it in the fraud window, proves the fraud, and the task's root goes back.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use common::{connect, start_node, start_verifier, wait_for, Killed};
use pogo_chain::{AccountId32, ChainClient, Signer};
use pogo_primitives::views::{Role, VerificationMode};
use pogo_store::{ClientLimits, RoundStore};
use pogo_worker::{
    adversary::{MinerAdversary, VerifierAdversary},
    cli::DefaultTask,
    commands::create_task::{default_terms, dev_params, UNIT},
    metrics::Metrics,
    roles::{
        miner::{journal::Journal, pipeline::Overlap, Miner, MinerConfig, MinerEvent},
        verifier::{journal::VerifierJournal, Verifier, VerifierConfig},
    },
};
use std::{path::Path, sync::Arc, time::Duration};
use tokio::task::JoinHandle;

const BOND: u128 = 100 * UNIT;

/// Free balance plus what is held in `role`.
async fn worth(chain: &ChainClient, who: &AccountId32, role: Role) -> u128 {
    let held = chain.bond_ledger(who, role).await.unwrap().map(|l| l.held).unwrap_or(0);
    chain.free_balance(who).await.unwrap() + held
}

async fn fund_and_bond(chain: &ChainClient, alice: &Signer, who: &Signer, role: Role, amount: u128) {
    chain.transfer(alice, &who.account_id(), amount + 100 * UNIT).await.unwrap();
    chain.bond(who, role, amount).await.unwrap();
}

fn verifier(
    ws_client: ChainClient,
    signer: Signer,
    dir: &Path,
    name: &str,
    adversary: Option<VerifierAdversary>,
    watch: bool,
) -> JoinHandle<()> {
    let store = Arc::new(RoundStore::open(dir.join(name)).unwrap());
    let config = VerifierConfig {
        task: None,
        data_dir: None,
        poll: Duration::from_millis(500),
        download: ClientLimits { timeout: Duration::from_secs(5), ..ClientLimits::default() },
        fetch_timeout: Duration::from_secs(4),
        watch,
        max_duties: None,
        adversary,
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let who = name.to_owned();
    tokio::spawn(async move {
        while let Some(e) = rx.recv().await {
            eprintln!("{}", pogo_worker::commands::verify::line(&who, &e));
        }
    });
    let v = Verifier::new(ws_client, signer, store, config, Metrics::default(), tx).unwrap();
    tokio::spawn(async move {
        v.run().await.unwrap();
    })
}

/// A dev chain of its own in `dir` with `n` honest verifiers (`//Honest{i}`, funded by Alice and bonded
/// `BOND` each): the node (killed on drop), its RPC URL, a client, Alice and the verifiers.
async fn chain_with_honest_verifiers(dir: &Path, n: usize) -> (Killed, String, ChainClient, Signer, Vec<Signer>) {
    let (node, ws) = start_node(dir);
    let chain = connect(&ws).await;
    let alice = Signer::from_suri("//Alice").unwrap();
    let honest: Vec<Signer> = (0..n).map(|i| Signer::from_suri(&format!("//Honest{i}")).unwrap()).collect();
    for v in &honest {
        fund_and_bond(&chain, &alice, v, Role::Verifier, BOND).await;
    }
    (node, ws, chain, alice, honest)
}

/// A miner of `task` in this process; its events go to the returned channel.
async fn miner(
    ws: &str,
    signer: Signer,
    dir: &Path,
    task: u32,
    rounds: u64,
    adversary: Option<MinerAdversary>,
) -> (JoinHandle<Journal>, tokio::sync::mpsc::UnboundedReceiver<MinerEvent>) {
    let store = Arc::new(RoundStore::open(dir.join(format!("miner-{task}"))).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let counters = Arc::new(pogo_store::ServerCounters::default());
    let router = pogo_store::router(store.clone(), pogo_store::ServerLimits::default(), counters);
    tokio::spawn(pogo_store::serve(listener, router, std::future::pending()));
    let public_url =
        if adversary == Some(MinerAdversary::Withhold) { "http://127.0.0.1:9".to_owned() } else { format!("http://{addr}") };
    let config = MinerConfig {
        task,
        public_url,
        max_rounds: Some(rounds),
        data_dir: None,
        poll: Duration::from_millis(500),
        download: ClientLimits::default(),
        eval_chunk: 512,
        adversary,
        // Both step orders against the chain: the rounds must be the same either way.
        overlap: if task.is_multiple_of(2) { Overlap::On } else { Overlap::Off },
    };
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let chain = connect(ws).await;
    let m = Miner::new(chain, signer, store, config, Metrics::default(), tx).unwrap();
    (tokio::spawn(async move { m.run().await.unwrap() }), rx)
}

/// The digits task with `steps` steps per round and commit and reveal windows of 12 blocks (12 s: room for
/// a verifier with ten duties at once while the other verifier processes and the node share two cores;
/// with 8 blocks an honest verifier once missed a commit window there and was slashed as silent).
async fn create_task(chain: &ChainClient, alice: &Signer, steps: u32) -> u32 {
    let terms = default_terms(DefaultTask::Digits, None, Some(steps)).unwrap();
    chain.create_task(alice, &terms.new_task(dev_params(12, &terms.spec), 1_000 * UNIT)).await.unwrap()
}

/// Every `Slashed` event of `who` in `role` from block 1 to the best block.
async fn slashes(chain: &ChainClient, who: &AccountId32, role: Role) -> u128 {
    let best = chain.best_number().await.unwrap();
    let mut total = 0;
    let mut from = 1;
    while from <= best {
        let to = (from + 99).min(best);
        for block in chain.events_in_range(from, to).await.unwrap() {
            for e in block.events {
                if let pogo_chain::PogoEvent::Slashed { who: w, role: r, amount } = e {
                    if w == *who && r.0 == role {
                        total += amount;
                    }
                }
            }
        }
        from = to + 1;
    }
    total
}

/// Seven honest verifiers, each its own `pogo-worker verify` process with 1 or 3 libtorch threads, while
/// every miner trains in this process with 2: the verifiers recompute on other thread counts than the
/// miners. Every cheating miner is on a task of its own (the copier copies the honest miner's round 0
/// from a task with the same terms). Honest verifier 0 is killed (SIGKILL) once it has committed and
/// restarted from its journal.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs pogo-node and the data sets; scripts/test.sh runs it in the worker e2e tier"]
async fn cheating_miners_lose_their_bonds() {
    pogo_engine::pin_torch_settings(2);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (_node, ws, chain, alice, honest) = chain_with_honest_verifiers(dir, 7).await;
    let dev = |uri: &str| Signer::from_suri(uri).unwrap();
    let honest_miner = dev("//Bob");
    chain.bond(&honest_miner, Role::Miner, BOND).await.unwrap();
    let stale = dev("//StaleBase");
    fund_and_bond(&chain, &alice, &stale, Role::Miner, BOND).await;
    let honest_task = create_task(&chain, &alice, 6).await;
    // Five of six steps faked: every verifier's two sampled steps hold at least one.
    let modes: Vec<MinerAdversary> = [
        "fake-steps:0.84:zero",
        "fake-steps:0.84:random",
        "fake-steps:0.84:stale",
        "fake-steps:0.84:rescaled",
        "wrong-batches",
        "forged-final-root",
        "withhold",
        "false-loss",
        &format!("copy-commitment:{honest_task}"),
    ]
    .iter()
    .map(|m| m.parse().unwrap())
    .collect();
    let cheaters: Vec<Signer> = (0..modes.len()).map(|i| dev(&format!("//Cheat{i}"))).collect();
    for m in &cheaters {
        fund_and_bond(&chain, &alice, m, Role::Miner, BOND).await;
    }
    let mut before = Vec::new();
    for m in &cheaters {
        before.push(worth(&chain, &m.account_id(), Role::Miner).await);
    }
    let mut tasks = Vec::new();
    for _ in &modes {
        tasks.push(create_task(&chain, &alice, 6).await);
    }
    let suri = |i: usize| format!("//Honest{i}");
    let threads = |i: usize| if i.is_multiple_of(2) { 1 } else { 3 };
    let mut running: Vec<Killed> =
        (1..honest.len()).map(|i| start_verifier(dir, &ws, &format!("honest{i}"), &suri(i), threads(i), &[])).collect();
    let first = start_verifier(dir, &ws, "honest0", &suri(0), threads(0), &[]);
    let (honest_run, mut honest_events) = miner(&ws, honest_miner.clone(), dir, honest_task, 3, None).await;
    let mut cheat_runs = Vec::new();
    for ((m, mode), task) in cheaters.iter().zip(&modes).zip(&tasks) {
        cheat_runs.push(miner(&ws, m.clone(), dir, *task, 1, Some(*mode)).await.0);
    }

    // Honest verifier 0 is killed once it has committed, then restarted from its journal.
    let journal_path = dir.join("honest0/roles").join(format!("{}.json", VerifierJournal::name(&honest[0].account_id().0)));
    let committed = wait_for("honest verifier 0 to commit a verdict", 400, || async {
        let j: VerifierJournal = serde_json::from_slice(&std::fs::read(&journal_path).ok()?).ok()?;
        j.duties.iter().find(|d| d.committed && !d.revealed).map(|d| d.submission)
    })
    .await;
    drop(first); // SIGKILL
    eprintln!("honest0 killed after committing on submission {committed}; restarted");
    running.push(start_verifier(dir, &ws, "honest0", &suri(0), threads(0), &[]));
    wait_for("the restarted verifier to reveal", 180, || async {
        match chain.verifier_duty(committed, &honest[0].account_id()).await.ok()? {
            Some(d) if d.revealed => Some(()),
            Some(_) => None,
            None => Some(()),
        }
    })
    .await;

    let journal = tokio::time::timeout(Duration::from_secs(600), honest_run).await.expect("honest miner in time").unwrap();
    assert!(journal.accepted >= 3, "honest miner: {} accepted of {} submitted", journal.accepted, journal.submitted);
    let mut losses = Vec::new();
    let mut traces = Vec::new();
    while let Ok(e) = honest_events.try_recv() {
        if let MinerEvent::Built { eval_after, trace_root, .. } = e {
            losses.push(eval_after);
            traces.push(trace_root);
        }
    }
    assert!(losses.len() >= 3 && losses.windows(2).all(|w| w[1] < w[0]), "eval loss falls: {losses:?}");
    for (run, ((m, mode), before)) in cheat_runs.into_iter().zip(cheaters.iter().zip(&modes).zip(&before)) {
        let j = tokio::time::timeout(Duration::from_secs(600), run).await.expect("cheating miner in time").unwrap();
        let after = worth(&chain, &m.account_id(), Role::Miner).await;
        let slashed = slashes(&chain, &m.account_id(), Role::Miner).await;
        eprintln!("miner {mode}: {} submitted, {} accepted; slashed {slashed}; worth {before} -> {after}", j.submitted, j.accepted);
        assert_eq!(j.accepted, 0, "{mode}: no round of a cheating miner is accepted");
        assert!(slashed > 0 && after + slashed <= *before, "{mode}: slashed ({before} -> {after})");
    }

    // Stale base: the honest miner's round 0 again, on a root the chain has moved past: refused with a
    // typed error before any verifier sees it, and the fee is lost.
    let bob_store = RoundStore::open(dir.join(format!("miner-{honest_task}"))).unwrap();
    let round0 = bob_store.round(&traces[0]).unwrap().expect("round 0 in the miner's store").commitment().unwrap();
    let stale_before = chain.free_balance(&stale.account_id()).await.unwrap();
    let refused = chain.submit_round(&stale, honest_task, round0, b"http://127.0.0.1:9".to_vec()).await.unwrap_err();
    assert!(refused.is_module_error("Pogo", "WrongBaseRoot"), "stale base refused: {refused}");
    let stale_after = chain.free_balance(&stale.account_id()).await.unwrap();
    eprintln!("stale base: refused ({refused}); fee {}", stale_before - stale_after);
    assert!(stale_after < stale_before, "the stale-base miner paid the fee");

    // No honest verifier was ever slashed (the restarted one included, and those whose samples missed
    // a fault: excused, protocol section 13).
    for v in &honest {
        assert_eq!(slashes(&chain, &v.account_id(), Role::Verifier).await, 0, "honest verifier {v} slashed");
    }
    drop(running);
}

/// A task that asks for sampled replay (protocol section 11b): five honest verifiers replay their
/// sampled leaves across every step instead of the whole round. The honest miner's round is accepted; a
/// miner that forges its final root (on a task of its own) is caught by the leaf replay, whose fraud proof
/// or negative verdicts slash it; no honest verifier is slashed. The digits model has 3 leaves and the
/// dev parameters sample up to 4, so every verifier replays every leaf here.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs pogo-node and the data sets; scripts/test.sh runs it in the worker e2e tier"]
async fn sampled_replay_accepts_an_honest_round_and_slashes_a_forged_one() {
    pogo_engine::pin_torch_settings(2);
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (_node, ws, chain, alice, honest) = chain_with_honest_verifiers(dir, 5).await;
    let dev = |uri: &str| Signer::from_suri(uri).unwrap();
    let bob = dev("//Bob");
    chain.bond(&bob, Role::Miner, BOND).await.unwrap();
    let forger = dev("//Forger");
    fund_and_bond(&chain, &alice, &forger, Role::Miner, BOND).await;
    let terms = default_terms(DefaultTask::Digits, None, Some(6)).unwrap();
    let mut params = dev_params(12, &terms.spec);
    params.verification = VerificationMode::SampledReplay;
    let honest_task = chain.create_task(&alice, &terms.new_task(params.clone(), 1_000 * UNIT)).await.unwrap();
    let forged_task = chain.create_task(&alice, &terms.new_task(params, 1_000 * UNIT)).await.unwrap();
    assert_eq!(chain.task(honest_task).await.unwrap().unwrap().params.verification, VerificationMode::SampledReplay);
    let mut running = Vec::new();
    for (i, v) in honest.iter().enumerate() {
        running.push(verifier(connect(&ws).await, v.clone(), dir, &format!("honest{i}"), None, false));
    }
    let before = worth(&chain, &forger.account_id(), Role::Miner).await;
    let (honest_run, _) = miner(&ws, bob, dir, honest_task, 1, None).await;
    let (forged_run, _) = miner(&ws, forger.clone(), dir, forged_task, 1, Some("forged-final-root".parse().unwrap())).await;
    let j = tokio::time::timeout(Duration::from_secs(600), honest_run).await.expect("honest miner in time").unwrap();
    assert_eq!(j.accepted, 1, "the honest round is accepted under sampled replay");
    let j = tokio::time::timeout(Duration::from_secs(600), forged_run).await.expect("forging miner in time").unwrap();
    let slashed = slashes(&chain, &forger.account_id(), Role::Miner).await;
    let after = worth(&chain, &forger.account_id(), Role::Miner).await;
    eprintln!("sampled replay: forger submitted {}, accepted {}; slashed {slashed}; worth {before} -> {after}", j.submitted, j.accepted);
    assert_eq!(j.accepted, 0, "the forged round is not accepted");
    assert!(slashed > 0 && after + slashed <= before, "the forger is slashed");
    for v in &honest {
        assert_eq!(slashes(&chain, &v.account_id(), Role::Verifier).await, 0, "honest verifier {v} slashed");
    }
    for t in running {
        t.abort();
    }
}

/// A verifier adversary with a large stake (50 times an honest one: drawn at level 0 of a round with
/// probability above 0.99) among six honest verifiers (so a level 1, if any, is four honest ones),
/// against `rounds` rounds of `steps` steps of a miner (`miner_cheats`). Returns what the adversary was
/// slashed.
async fn verifier_adversary(mode: VerifierAdversary, miner_cheats: Option<MinerAdversary>, rounds: u64, steps: u32) -> u128 {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (_node, ws) = start_node(dir);
    let chain = connect(&ws).await;
    let dev = |uri: &str| Signer::from_suri(uri).unwrap();
    let alice = dev("//Alice");
    let cheat = dev(&format!("//{mode}"));
    fund_and_bond(&chain, &alice, &cheat, Role::Verifier, 50 * BOND).await;
    let honest: Vec<Signer> = (0..6).map(|i| dev(&format!("//Honest{i}"))).collect();
    for v in &honest {
        fund_and_bond(&chain, &alice, v, Role::Verifier, BOND).await;
    }
    let bob = dev("//Bob");
    chain.bond(&bob, Role::Miner, 10 * BOND).await.unwrap();
    let task = create_task(&chain, &alice, steps).await;
    let mut running = vec![verifier(connect(&ws).await, cheat.clone(), dir, "cheat", Some(mode), false)];
    for (i, v) in honest.iter().enumerate() {
        running.push(verifier(connect(&ws).await, v.clone(), dir, &format!("honest{i}"), None, false));
    }
    let (run, _events) = miner(&ws, bob, dir, task, rounds, miner_cheats).await;
    let j = tokio::time::timeout(Duration::from_secs(600), run).await.expect("miner in time").unwrap();
    eprintln!("{mode}: miner submitted {}, accepted {}", j.submitted, j.accepted);
    wait_for("the adversary's duties to settle", 300, || async {
        let l = chain.bond_ledger(&cheat.account_id(), Role::Verifier).await.ok()??;
        (l.at_risk == 0).then_some(())
    })
    .await;
    let slashed = slashes(&chain, &cheat.account_id(), Role::Verifier).await;
    for v in &honest {
        assert_eq!(slashes(&chain, &v.account_id(), Role::Verifier).await, 0, "{mode}: honest verifier {v} slashed");
    }
    for t in running {
        t.abort();
    }
    slashed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs pogo-node and the data sets; scripts/test.sh runs it in the worker e2e tier"]
async fn a_lazy_verifier_loses_stake_on_a_cheating_round() {
    // Two steps per round: every verifier samples both, so the faked steps were in the lazy verifier's
    // sample and the chain does not excuse its Positive vote (protocol section 13).
    let fake = "fake-steps:1:zero".parse().unwrap();
    assert!(verifier_adversary(VerifierAdversary::Lazy, Some(fake), 2, 2).await > 0, "the lazy verifier is slashed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs pogo-node and the data sets; scripts/test.sh runs it in the worker e2e tier"]
async fn a_griefing_verifier_loses_stake_on_an_honest_round() {
    assert!(verifier_adversary(VerifierAdversary::Grief, None, 2, 6).await > 0, "the griefing verifier is slashed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs pogo-node and the data sets; scripts/test.sh runs it in the worker e2e tier"]
async fn a_silent_verifier_loses_stake() {
    assert!(verifier_adversary(VerifierAdversary::Silent, None, 2, 6).await > 0, "the silent verifier is slashed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs pogo-node and the data sets; scripts/test.sh runs it in the worker e2e tier"]
async fn a_selective_verifier_loses_stake() {
    let fake = "fake-steps:1:zero".parse().unwrap();
    assert!(verifier_adversary(VerifierAdversary::Selective, Some(fake), 2, 6).await > 0, "the selective verifier is slashed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs pogo-node and the data sets; scripts/test.sh runs it in the worker e2e tier"]
async fn a_watcher_overturns_what_colluding_verifiers_accepted() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (_node, ws) = start_node(dir);
    let chain = connect(&ws).await;
    let dev = |uri: &str| Signer::from_suri(uri).unwrap();
    let alice = dev("//Alice");
    let colluders: Vec<Signer> = ["//Charlie", "//Dave", "//Eve", "//Ferdie"].iter().map(|u| dev(u)).collect();
    for v in &colluders {
        chain.bond(v, Role::Verifier, BOND).await.unwrap();
    }
    let bob = dev("//Bob");
    chain.bond(&bob, Role::Miner, BOND).await.unwrap();
    let bob_before = worth(&chain, &bob.account_id(), Role::Miner).await;
    let task = create_task(&chain, &alice, 6).await;
    let initial_root = chain.task(task).await.unwrap().unwrap().state_root;
    let mut running = Vec::new();
    for (i, v) in colluders.iter().enumerate() {
        running.push(verifier(connect(&ws).await, v.clone(), dir, &format!("colluder{i}"), Some(VerifierAdversary::Lazy), false));
    }
    let (miner_run, _events) = miner(&ws, bob.clone(), dir, task, 1, Some(MinerAdversary::ForgedFinalRoot)).await;
    // The colluders accept the forged round.
    let accepted_root = wait_for("the forged round to be accepted", 300, || async {
        let t = chain.task(task).await.ok()??;
        (t.state_root != initial_root).then_some(t.state_root)
    })
    .await;
    // An unbonded watcher (no stake, never assigned) replays it and proves the fraud.
    let watcher = dev("//Watcher");
    chain.transfer(&alice, &watcher.account_id(), 10 * UNIT).await.unwrap();
    running.push(verifier(connect(&ws).await, watcher, dir, "watcher", None, true));
    wait_for("the task's root to go back", 120, || async {
        let t = chain.task(task).await.ok()??;
        (t.state_root == initial_root).then_some(())
    })
    .await;
    eprintln!("forged root {} overturned", hex::encode(&accepted_root[..4]));
    let _ = tokio::time::timeout(Duration::from_secs(60), miner_run).await;
    let bob_after = worth(&chain, &bob.account_id(), Role::Miner).await;
    assert!(bob_after + 10 * UNIT < bob_before, "the forging miner is slashed ({bob_before} -> {bob_after})");
    for t in running {
        t.abort();
    }
}
