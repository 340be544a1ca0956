//! The miner against a real `pogo-node --dev` (run by `scripts/test.sh`'s worker e2e tier:
//! `cargo test -p pogo-worker --test e2e -- --ignored`; needs `pogo-node` next to `pogo-worker` or in
//! `POGO_NODE`, the data sets of `scripts/setup.sh`, and python3 with torch and safetensors).
//!
//! One dev chain, one story:
//! 1. Bob bonds as miner, Charlie, Dave and Eve as verifiers; Alice creates the digits task.
//! 2. `pogo-worker mine` (a separate process) trains and submits round 0; the submission is visible
//!    through the runtime API with the round's commitment and the miner's locator. The miner is killed
//!    (SIGKILL) right after its journal records the submission.
//! 3. The three verifiers commit and reveal Positive verdicts (this test plays them; the verifier process
//!    is the next issue's): the chain accepts round 0 and records the miner's locator as the task's.
//! 4. The miner is restarted: it resumes from its journal (no second submission of round 0), serves the
//!    accepted state, and builds round 1 on the new root.
//! 5. `pogo-worker fetch-model` proves the task's root against a finalized block, downloads the state from
//!    the locator, checks it, writes safetensors; Python loads the file into a torch module and gets the
//!    eval loss the Rust engine computed.
//! 6. A corrupted state in the miner's store is refused, not served as the committed one.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a test: a failed step is a failed test

mod common;

use common::{connect, free_port, start_node, wait_for, worker_bin, Killed};

use pogo_chain::{ChainClient, Signer};
use pogo_primitives::{
    verdict::{verdict_commitment, Verdict},
    views::{Phase, Role},
};
use pogo_worker::{
    cli::DefaultTask,
    commands::create_task::{default_terms, dev_params, UNIT},
    roles::miner::journal::Journal,
};
use std::{
    path::Path,
    process::{Command, Stdio},
};

fn start_miner(dir: &Path, ws: &str, port: u16, rounds: u64, log: &str) -> Killed {
    let log = std::fs::File::create(dir.join(log)).unwrap();
    let child = Command::new(worker_bin())
        .args(["mine", "--task", "0", "--rounds", &rounds.to_string(), "--no-progress", "--poll-seconds", "0.5"])
        .args(["--ws", ws, "--suri", "//Bob", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--store")
        .arg(dir.join("miner-store"))
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    Killed(child)
}

fn journal(dir: &Path) -> Option<Journal> {
    let text = std::fs::read(dir.join("miner-store/roles/miner-0.json")).ok()?;
    serde_json::from_slice(&text).ok()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs pogo-node and the data sets; scripts/test.sh runs it in the worker e2e tier"]
async fn a_miner_submits_resumes_after_a_kill_and_its_accepted_model_loads_in_pytorch() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let (_node, ws) = start_node(dir);
    let chain = connect(&ws).await;

    // 1. bonds, then the task (a miner builds only on roots public after its bond)
    let dev = |uri: &str| Signer::from_suri(uri).unwrap();
    let (alice, bob) = (dev("//Alice"), dev("//Bob"));
    let verifiers = [dev("//Charlie"), dev("//Dave"), dev("//Eve")];
    chain.bond(&bob, Role::Miner, 100 * UNIT).await.unwrap();
    for v in &verifiers {
        chain.bond(v, Role::Verifier, 100 * UNIT).await.unwrap();
    }
    let terms = default_terms(DefaultTask::Digits, None, Some(6)).unwrap();
    let task = chain.create_task(&alice, &terms.new_task(dev_params(3, &terms.spec), 1_000 * UNIT)).await.unwrap();
    assert_eq!(task, 0);

    // 2. the miner submits round 0 and is killed right after its journal records it
    let port = free_port();
    let locator = format!("http://127.0.0.1:{port}");
    let mut miner = start_miner(dir, &ws, port, 2, "miner-1.log");
    let first = wait_for("the first submission in the journal", 180, || async { journal(dir).filter(|j| j.submitted >= 1) }).await;
    miner.0.kill().unwrap();
    let _ = miner.0.wait();
    let pending = first.pending.first().expect("journal lists the submission").clone();
    let on_chain = chain.pending_submissions(task).await.unwrap();
    let sub = on_chain.iter().find(|s| s.id == pending.submission).expect("the submission is visible through PogoApi");
    assert_eq!(sub.miner, bob.account_id());
    assert_eq!(sub.commitment.trace_root, pending.built.trace_root);
    assert_eq!(sub.commitment.base_root, terms.initial_root);
    assert_eq!(sub.locator, locator.as_bytes());

    // 3. the verifiers vote Positive: committed, then revealed
    let id = pending.submission;
    let phase = |c: &ChainClient| {
        let c = c.clone();
        async move { c.submission(id).await.ok().flatten().map(|s| s.phase) }
    };
    wait_for("the commit phase", 120, || async { phase(&chain).await.filter(|p| matches!(p, Phase::Committing(_))) }).await;
    let salt = [7u8; 32];
    for v in &verifiers {
        assert!(chain.verifier_duty(id, &v.account_id()).await.unwrap().is_some(), "{v} is assigned");
        let c = verdict_commitment(id, &v.account_id().0, &Verdict::Positive, &salt);
        chain.commit_verdict(v, id, c).await.unwrap();
    }
    wait_for("the reveal phase", 60, || async { phase(&chain).await.filter(|p| matches!(p, Phase::Revealing(_))) }).await;
    for v in &verifiers {
        chain.reveal_verdict(v, id, Verdict::Positive, salt).await.unwrap();
    }
    wait_for("acceptance", 60, || async { phase(&chain).await.filter(|p| matches!(p, Phase::Accepted(_))) }).await;
    let t = chain.task(task).await.unwrap().unwrap();
    assert_eq!(t.state_root, pending.built.final_root);
    assert_eq!(t.model_locator, locator.as_bytes(), "the task records where its accepted state lives");

    // 4. the restarted miner resumes: no second submission of round 0, round 1 on the accepted root
    let _miner = start_miner(dir, &ws, port, 2, "miner-2.log");
    let second = wait_for("round 1 submitted", 180, || async { journal(dir).filter(|j| j.submitted >= 2) }).await;
    assert_eq!(second.accepted, 1);
    let round1 = second.pending.iter().find(|p| p.submission != id).expect("round 1 pending");
    assert_eq!((round1.built.round, round1.built.base_root), (1, pending.built.final_root));
    let subs: Vec<_> = chain.pending_submissions(task).await.unwrap();
    assert_eq!(subs.iter().filter(|s| s.commitment.trace_root == pending.built.trace_root).count(), 1, "round 0 was submitted once");

    // 5. fetch-model: proven root, downloaded state, safetensors that PyTorch loads to the same loss
    let out = dir.join("model");
    let fetched = Command::new(worker_bin())
        .args(["fetch-model", "--task", "0", "--eval", "--json", "--ws", &ws])
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(fetched.status.success(), "fetch-model: {}", String::from_utf8_lossy(&fetched.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&fetched.stdout).unwrap();
    assert_eq!(summary["state_root"], hex::encode(pending.built.final_root));
    assert_eq!(summary["source"], locator, "downloaded from the task's locator");
    let rust_loss = summary["eval_loss"].as_f64().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python/load_model.py");
    let data = pogo_engine::data::data_dir().join("digits.csv");
    let py = Command::new(std::env::var("PYTHON").unwrap_or_else(|_| "python3".into()))
        .arg(script)
        .arg(out.join("model.safetensors"))
        .arg(data)
        .output()
        .unwrap();
    assert!(py.status.success(), "python: {}", String::from_utf8_lossy(&py.stderr));
    let loaded: serde_json::Value = serde_json::from_slice(&py.stdout).unwrap();
    let py_loss = loaded["eval_loss"].as_f64().unwrap();
    assert!((py_loss - rust_loss).abs() <= 1e-5 * rust_loss.abs().max(1.0), "PyTorch {py_loss} vs pogo {rust_loss}");
    assert_eq!(loaded["tensors"]["fc1.w"], serde_json::json!([128, 64]));

    // 6. a corrupted stored state is refused by fetch-model (the server refuses to serve it, or the
    //    download does not match the proven root), never written out
    let state_file = dir.join(format!("miner-store/states/{}.state", hex::encode(pending.built.final_root)));
    let mut bytes = std::fs::read(&state_file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(&state_file, bytes).unwrap();
    let bad_out = dir.join("bad-model");
    let refused = Command::new(worker_bin())
        .args(["fetch-model", "--task", "0", "--ws", &ws])
        .arg("--out")
        .arg(&bad_out)
        .output()
        .unwrap();
    assert!(!refused.status.success(), "a corrupted state must be refused");
    assert!(!bad_out.join("model.safetensors").exists());
}
