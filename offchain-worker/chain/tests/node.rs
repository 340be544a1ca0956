//! Against a running `pogo-node --dev` (ignored by default):
//!
//! ```text
//! POGO_NODE_WS=ws://127.0.0.1:9944 cargo test -p pogo-chain --test node -- --ignored --test-threads 1
//! ```
//!
//! The task comes from the `round_fixture` example of pogo-primitives (`POGO_FIXTURE`, default
//! `$CARGO_TARGET_DIR/testnet/examples/round_fixture`): a valid spec, model, initial root and round 0.
//! Each test uses its own accounts (funded by Alice), so the tests can run in any order on one chain.

// Test helpers fail the test on any error.
#![allow(clippy::expect_used, clippy::unwrap_used)]

use codec::Decode;
use futures::StreamExt;
use pogo_chain::{ChainBackend, ChainClient, ChainTaskParams, NewTask, PogoEvent, ReadAt, Signer, TxOptions};
use pogo_primitives::{
    seed::SampleSizes,
    tolerance::Tolerance,
    views::{Role, TaskStatus},
    Hash, ModelDescriptor, RoundCommitment, TrainingSpec,
};
use std::time::Duration;

const UNIT: u128 = 1_000_000_000_000;

fn node_url() -> String {
    std::env::var("POGO_NODE_WS").expect("set POGO_NODE_WS to a pogo-node --dev websocket URL")
}

async fn client() -> ChainClient {
    ChainClient::connect(&node_url()).await.expect("connect")
}

/// The fixture task of pogo-primitives' `round_fixture task`.
struct Fixture {
    spec: TrainingSpec,
    model: ModelDescriptor,
    initial_root: Hash,
    commitment: RoundCommitment,
    bad_commitment: RoundCommitment,
    train_root: Hash,
    eval_root: Hash,
}

fn fixture() -> Fixture {
    let bin = std::env::var("POGO_FIXTURE").unwrap_or_else(|_| {
        let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
        format!("{target}/testnet/examples/round_fixture")
    });
    let out = std::process::Command::new(&bin).arg("task").output().expect("run round_fixture");
    assert!(out.status.success(), "round_fixture task failed");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("fixture JSON");
    let bytes = |key: &str| hex::decode(json[key].as_str().expect(key).trim_start_matches("0x")).expect(key);
    let hash = |key: &str| <Hash>::try_from(bytes(key)).expect(key);
    Fixture {
        spec: TrainingSpec::decode(&mut &bytes("spec")[..]).expect("spec"),
        model: ModelDescriptor::decode(&mut &bytes("model")[..]).expect("model"),
        initial_root: hash("initialRoot"),
        commitment: RoundCommitment::decode(&mut &bytes("commitment")[..]).expect("commitment"),
        bad_commitment: RoundCommitment::decode(&mut &bytes("badCommitment")[..]).expect("badCommitment"),
        train_root: hash("trainRoot"),
        eval_root: hash("evalRoot"),
    }
}

fn params(window: u32) -> ChainTaskParams {
    ChainTaskParams {
        reward: 10 * UNIT,
        verifier_pay: UNIT,
        miner_bond: 50 * UNIT,
        verifiers: 3,
        escalation_verifiers: 4,
        samples: SampleSizes { steps: 2, leaves: 2, eval_examples: 8 },
        tolerance: Tolerance::DEFAULT,
        min_improvement_ppm: 0,
        commit_window: window,
        reveal_window: window,
        verification: pogo_primitives::views::VerificationMode::FullReplay,
    }
}

/// A fresh account funded by Alice.
async fn funded(client: &ChainClient, uri: &str, amount: u128) -> Signer {
    let alice = Signer::from_suri("//Alice").unwrap();
    let who = Signer::from_suri(uri).unwrap();
    client.transfer(&alice, &who.account_id(), amount).await.expect("fund");
    who
}

#[tokio::test]
#[ignore = "needs a running pogo-node (POGO_NODE_WS)"]
async fn reads_and_metadata() {
    let client = client().await;
    let version = client.runtime_version().await.unwrap();
    assert!(!version.spec_name.is_empty() && version.spec_version > 0, "{version:?}");
    assert!(client.metadata_matches().await.unwrap(), "node runtime is the one the metadata came from");
    assert_ne!(client.genesis(), [0; 32]);
    let best = client.best_number().await.unwrap();
    let finalized = client.finalized_number().await.unwrap();
    assert!(best >= finalized, "best {best} finalized {finalized}");
    let alice = Signer::from_suri("//Alice").unwrap();
    assert!(client.free_balance(&alice.account_id()).await.unwrap() > 0);
    assert!(client.max_locator_len().await.unwrap() >= 64);
    assert_eq!(client.task(u32::MAX).await.unwrap(), None);
    assert_eq!(client.verified_task(u32::MAX).await.unwrap(), None);
}

#[tokio::test]
#[ignore = "needs a running pogo-node (POGO_NODE_WS)"]
async fn transfers_and_concurrent_nonces() {
    let client = client().await;
    let alice = Signer::from_suri("//Alice").unwrap();
    let targets: Vec<Signer> = (0..4).map(|i| Signer::from_suri(&format!("//PogoChainTransfer{i}")).unwrap()).collect();
    // Submitted together from clones of one client: nonces must not collide.
    let sends = targets.iter().map(|to| {
        let client = client.clone();
        let alice = alice.clone();
        let to = to.account_id();
        async move { client.transfer(&alice, &to, 3 * UNIT).await }
    });
    for outcome in futures::future::join_all(sends).await {
        let outcome = outcome.expect("transfer");
        assert!(outcome.block_number > 0);
        assert!(outcome.events.is_empty(), "a transfer emits no Pogo event");
    }
    for to in &targets {
        assert!(client.free_balance(&to.account_id()).await.unwrap() >= 3 * UNIT);
    }
    // Waiting for finality returns a finalized outcome.
    let finalizing = client.clone().with_tx_options(TxOptions { wait_finalized: true, ..TxOptions::default() });
    let outcome = finalizing.transfer(&alice, &targets[0].account_id(), UNIT).await.unwrap();
    assert!(outcome.finalized);
}

#[tokio::test]
#[ignore = "needs a running pogo-node (POGO_NODE_WS)"]
async fn a_round_from_task_to_submission() {
    let client = client().await;
    let fx = fixture();
    let mut events = client.subscribe_events(false).await.expect("subscribe");
    let first_block = client.best_number().await.unwrap();

    let owner = funded(&client, "//PogoChainOwner", 1_000 * UNIT).await;
    let miner = funded(&client, "//PogoChainMiner", 1_000 * UNIT).await;

    // Typed dispatch errors, by name.
    let zero = client.bond(&miner, Role::Miner, 0).await.unwrap_err();
    assert!(zero.is_module_error("Pogo", "ZeroAmount"), "{zero}");
    let bonded = client.bond(&miner, Role::Miner, 500 * UNIT).await.unwrap();
    assert!(bonded.events.iter().any(|e| matches!(e, PogoEvent::Bonded { .. })), "{:?}", bonded.events);
    let ledger = client.bond_ledger(&miner.account_id(), Role::Miner).await.unwrap().expect("ledger");
    assert_eq!(ledger.held, 500 * UNIT);

    let min_window = 20;
    let new_task = NewTask {
        spec: fx.spec,
        model: fx.model.clone(),
        params: params(min_window),
        initial_root: fx.initial_root,
        train_root: fx.train_root,
        eval_root: fx.eval_root,
        data_locator: b"https://data.example/pogo-chain-e2e".to_vec(),
        escrow: 100 * UNIT,
    };
    let too_long = NewTask { data_locator: vec![b'x'; 10_000], ..new_task.clone() };
    assert!(matches!(client.create_task(&owner, &too_long).await, Err(pogo_chain::ChainError::LocatorTooLong { .. })));
    let task = client.create_task(&owner, &new_task).await.expect("create_task");

    let view = client.task(task).await.unwrap().expect("task");
    assert_eq!((view.state_root, view.status, view.owner), (fx.initial_root, TaskStatus::Active, owner.account_id()));
    assert_eq!(client.task_model(task).await.unwrap(), Some(fx.model.clone()));
    assert!(client.task_ids().await.unwrap().contains(&task));
    assert!(client.round_seed(task, &miner.account_id()).await.unwrap().is_some());

    // The proven record agrees with the runtime API (read at finalized blocks: the dev chain
    // finalizes each block as it makes it).
    let finalized = client.clone().with_read_at(ReadAt::Finalized);
    tokio::time::sleep(Duration::from_secs(3)).await;
    let proven = client.verified_task(task).await.unwrap().expect("proven task");
    let view = finalized.task(task).await.unwrap().expect("task");
    assert_eq!(proven.task_state_root, view.state_root);
    assert_eq!(proven.model_locator, view.model_locator);
    assert_eq!(proven.data_locator, view.locator);
    assert_eq!((proven.spec, &proven.params, proven.owner), (view.spec, &view.params, view.owner));
    let (_, proven_model) = client.verified_task_model(task).await.unwrap().expect("proven model");
    assert_eq!(proven_model, fx.model);

    let wrong = client
        .submit_round(&miner, task, fx.bad_commitment.clone(), b"http://127.0.0.1:9955".to_vec())
        .await
        .unwrap_err();
    assert!(wrong.is_module_error("Pogo", "WrongBaseRoot"), "{wrong}");

    // Through the miner's trait.
    let backend: &dyn ErasedCheck = &client;
    backend.check().await;
    let submission =
        ChainBackend::submit_round(&client, &miner, task, fx.commitment.clone(), b"http://127.0.0.1:9955".to_vec())
            .await
            .expect("submit_round");
    let found = ChainBackend::submission(&client, submission).await.unwrap().expect("submission");
    assert_eq!((found.task, found.commitment, found.miner), (task, fx.commitment.clone(), miner.account_id()));
    let pending = ChainBackend::pending_submissions(&client, task).await.unwrap();
    assert!(pending.iter().any(|s| s.id == submission));
    // Anyone may advance; too early it is a Pogo error, else it moves the phase.
    match ChainBackend::advance(&client, &owner, submission).await {
        Ok(_) => {}
        Err(e) => assert_eq!(e.module_error().map(|(pallet, _)| pallet), Some("Pogo"), "{e}"),
    }

    let last_block = ChainBackend::best_number(&client).await.unwrap();
    let range = ChainBackend::events(&client, first_block, last_block).await.unwrap();
    let submitted = range
        .iter()
        .flat_map(|b| &b.events)
        .any(|e| matches!(e, PogoEvent::RoundSubmitted { submission: s, .. } if *s == submission));
    assert!(submitted, "RoundSubmitted in blocks {first_block}..={last_block}");
    let streamed =
        tokio::time::timeout(Duration::from_secs(30), events.next()).await.expect("a block").expect("stream");
    assert!(streamed.expect("events").number >= first_block);
}

/// Calls the trait's reads through a generic function, as the miner does.
trait ErasedCheck {
    fn check(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>>;
}

impl<B: ChainBackend> ErasedCheck for B {
    fn check(&self) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            assert!(self.best_number().await.unwrap() > 0);
            assert!(self.latest_events().await.is_ok());
            assert_eq!(self.task(u32::MAX).await.unwrap(), None);
        })
    }
}
