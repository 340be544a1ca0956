//! Sampled replay (docs/protocol.md section 11b) against a real round served by the DA server over
//! loopback: an honest round checks out on every leaf, a forged final state is proven with a fraud proof
//! the chain's `fraud::verify` accepts when its leaf is sampled (and, as the mode says, missed when it is
//! not), and a server that withholds openings is the miner's `DataUnavailable`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use pogo_primitives::{
    builder::RoundBuilder,
    fraud::{self, Fraud},
    spec::{LrSchedule, TrainingSpec, UpdateRule},
    RoundCommitment, StepRecord,
};
use pogo_store::{router, serve, ClientLimits, DaClient, RoundIdentity, RoundManifest, RoundStore, ServerCounters, ServerLimits};
use pogo_worker::roles::verifier::{
    fetch::Unavailable,
    sampled::{replay_sampled_leaves, SampledError},
};
use std::{sync::Arc, time::Duration};
use tokio::{net::TcpListener, sync::oneshot};

/// Fetch time allowed per check: ample on loopback.
const BUDGET: Duration = Duration::from_secs(60);

/// 1000 parameters in 4 leaves (the last one partial), AdamW, 6 steps, checkpoints after steps 1, 3, 5.
fn spec() -> TrainingSpec {
    TrainingSpec {
        model: [9; 32],
        param_count: 1000,
        leaf_size: 256,
        codec_block: 64,
        rule: UpdateRule::AdamW {
            beta1: 0.9f32.to_bits(),
            beta2: 0.999f32.to_bits(),
            epsilon: 1e-8f32.to_bits(),
            weight_decay: 0.01f32.to_bits(),
        },
        schedule: LrSchedule::Constant { lr: 1e-2f32.to_bits() },
        max_grad_norm: 5.0f32.to_bits(),
        steps_per_round: 6,
        checkpoint_interval: 2,
        batch_size: 4,
        train_examples: 100,
        eval_examples: 10,
    }
}

struct Served {
    commitment: RoundCommitment,
    records: Vec<StepRecord>,
    client: DaClient,
    counters: Arc<ServerCounters>,
    _dir: tempfile::TempDir,
    _stop: oneshot::Sender<()>,
}

/// Builds a round (with `forge`, parameter `forge` of the final state is moved after the last step's
/// update, as the forged-final-root miner does) and serves it.
async fn served_round(forge: Option<usize>) -> Served {
    let spec = spec();
    let n = spec.param_count as usize;
    let weights: Vec<f32> = (0..n).map(|i| (i as f32 - 500.0) * 1e-3).collect();
    let mut builder = RoundBuilder::new(spec, weights, vec![vec![0.0; n], vec![0.0; n]], 1).unwrap();
    for step in 0..spec.steps_per_round {
        if step + 1 == spec.steps_per_round {
            if let Some(i) = forge {
                builder.weights_mut()[i] += 0.25;
            }
        }
        let g: Vec<f32> = (0..n).map(|i| ((((i as u32) * 31 + step * 17) % 97) as f32 - 48.0) * 1e-2).collect();
        builder.step(&g, 2.0 - step as f32 * 0.1).unwrap();
    }
    let (commitment, _) = builder.commitment(2.0, 1.5).unwrap();
    let records = builder.records();
    let identity = RoundIdentity { task: 3, round: 0, miner: [5; 32], first_global_step: 1 };
    let manifest = RoundManifest::new(identity, &spec, &commitment, &records);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(RoundStore::open(dir.path()).unwrap());
    store.put_builder_round(&builder, &manifest).unwrap();
    let counters = Arc::new(ServerCounters::default());
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(serve(listener, router(store, ServerLimits::default(), counters.clone()), async move {
        let _ = stopped.await;
    }));
    let client = DaClient::new(&base, ClientLimits { timeout: Duration::from_secs(10), max_bytes: 1 << 20 }).unwrap();
    Served { commitment, records, client, counters, _dir: dir, _stop: stop }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_honest_round_checks_out_on_every_sampled_leaf_at_a_fraction_of_the_bytes() {
    let s = served_round(None).await;
    let spec = spec();
    let all: Vec<u64> = (0..spec.leaf_count()).collect();
    let r = replay_sampled_leaves(&s.client, &spec, &s.commitment, &s.records, &all, BUDGET).await.unwrap();
    assert!(r.consistent(), "{r:?}");
    assert_eq!(r.pairs, 4 * 3, "every leaf in every segment");
    // Per leaf: 6 gradient leaves, 4 states (base and three checkpoints, the shared ones fetched once).
    assert_eq!(r.openings, 4 * (6 + 4));
    // One leaf costs a quarter of the openings of all four (the last leaf is shorter: fewer bytes).
    let one = replay_sampled_leaves(&s.client, &spec, &s.commitment, &s.records, &[3], BUDGET).await.unwrap();
    assert!(one.consistent());
    assert_eq!(one.openings * 4, r.openings);
    assert!(one.bytes > 0 && one.bytes * 4 < r.bytes, "{} {}", one.bytes, r.bytes);
    assert!(s.counters.snapshot().requests > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_final_state_is_proven_when_its_leaf_is_sampled_and_missed_when_not() {
    // Parameter 600 lies in leaf 2.
    let s = served_round(Some(600)).await;
    let spec = spec();
    let missed = replay_sampled_leaves(&s.client, &spec, &s.commitment, &s.records, &[0, 1, 3], BUDGET).await.unwrap();
    assert!(missed.consistent(), "the forgery is only in leaf 2: a sample without it cannot see it");
    let caught = replay_sampled_leaves(&s.client, &spec, &s.commitment, &s.records, &[3, 2, 0], BUDGET).await.unwrap();
    let (proof, fraud) = caught.fraud.clone().expect("leaf 2 sampled: fraud found");
    assert_eq!((proof.leaf_index, proof.segment, fraud), (2, 2, Fraud::ReplayMismatch));
    // The chain's own check accepts the proof as it is.
    assert_eq!(fraud::verify(&spec, &s.commitment, &proof), Ok(Fraud::ReplayMismatch));
    // Segment by segment, stopping at the first inconsistency: all three leaves in segments 0 and 1,
    // then leaf 3 and leaf 2 in segment 2.
    assert_eq!(caught.pairs, 3 + 3 + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_the_openings_is_data_unavailable() {
    let s = served_round(None).await;
    let other = served_round(Some(10)).await;
    let spec = spec();
    // `other`'s round shares the base and the first steps with this one but not its last checkpoint:
    // its server cannot open this round's final state.
    let err = replay_sampled_leaves(&other.client, &spec, &s.commitment, &s.records, &[0], BUDGET).await.unwrap_err();
    assert!(matches!(err, SampledError::Unavailable(_)), "{err:?}");
    // Records that are not the commitment's are the caller's error, before any request.
    let mut wrong = s.records.clone();
    wrong[0].train_loss ^= 1;
    let err = replay_sampled_leaves(&s.client, &spec, &s.commitment, &wrong, &[0], BUDGET).await.unwrap_err();
    assert!(matches!(err, SampledError::Records(_)), "{err:?}");
    // No time to fetch: the miner's DataUnavailable (deadline), not a verdict on its data.
    let err = replay_sampled_leaves(&s.client, &spec, &s.commitment, &s.records, &[0], Duration::ZERO).await.unwrap_err();
    assert!(matches!(err, SampledError::Unavailable(Unavailable::Deadline)), "{err:?}");
}
