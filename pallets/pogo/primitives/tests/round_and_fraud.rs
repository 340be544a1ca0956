//! A whole round built with the miner's builder, checked by the verifier's rules: commitments, openings,
//! fraud proofs from a tampered state, and the fraud-proof size bound.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects, missing_docs)]

use codec::Encode;
use pogo_primitives::{
    builder::RoundBuilder,
    replay::ReplayFault,
    fraud::{self, Fraud, FraudProofError},
    merkle::MerkleError,
    spec::{LrSchedule, TrainingSpec, UpdateRule},
};

fn spec() -> TrainingSpec {
    TrainingSpec {
        model: [0; 32],
        param_count: 1000,
        leaf_size: 256,
        codec_block: 64,
        rule: UpdateRule::AdamW {
            beta1: 0.9f32.to_bits(),
            beta2: 0.999f32.to_bits(),
            epsilon: 1e-8f32.to_bits(),
            weight_decay: 0.01f32.to_bits(),
        },
        schedule: LrSchedule::WarmupCosine {
            peak_lr: 1e-2f32.to_bits(),
            min_lr: 1e-4f32.to_bits(),
            warmup_steps: 3,
            total_steps: 100,
        },
        max_grad_norm: 5.0f32.to_bits(),
        steps_per_round: 10,
        checkpoint_interval: 4,
        batch_size: 4,
        train_examples: 100,
        eval_examples: 10,
    }
}

fn gradient(step: usize, n: usize) -> Vec<f32> {
    (0..n).map(|i| (((i * 31 + step * 17) % 97) as f32 - 48.0) * 1e-2).collect()
}

/// Runs a round; `tamper` may modify weights after a given step (a cheating miner).
fn build(tamper: Option<(usize, usize)>) -> RoundBuilder {
    let s = spec();
    let w: Vec<f32> = (0..1000).map(|i| (i as f32 - 500.0) * 1e-3).collect();
    let mut b = RoundBuilder::new(s, w, vec![vec![0.0; 1000], vec![0.0; 1000]], 1).unwrap();
    for step in 0..10 {
        b.step(&gradient(step, 1000), 1.0).unwrap();
        if let Some((at, param)) = tamper {
            if at == step {
                b.weights_mut()[param] += 0.5;
            }
        }
    }
    b
}

#[test]
fn honest_round_has_no_fraud_anywhere() {
    let b = build(None);
    let (c, trace) = b.commitment(2.0, 1.5).unwrap();
    assert_eq!(c.steps, 10);
    let s = spec();
    for leaf in 0..s.leaf_count() {
        for segment in 0..s.segment_count() {
            let p = b.fraud_proof(&trace, leaf, segment).unwrap();
            assert_eq!(fraud::verify(&s, &c, &p), Err(FraudProofError::NoInconsistency), "leaf {leaf} seg {segment}");
            assert!(p.encode().len() as u64 <= fraud::max_encoded_len(&s));
        }
    }
}

#[test]
fn tampered_state_is_proven_in_its_segment_and_leaf_only() {
    // Weight 600 (leaf 2) is changed after step 5 (segment 1 covers steps 4..8).
    let b = build(Some((5, 600)));
    let (c, trace) = b.commitment(2.0, 1.5).unwrap();
    let s = spec();
    let p = b.fraud_proof(&trace, 2, 1).unwrap();
    assert_eq!(fraud::verify(&s, &c, &p), Ok(Fraud::ReplayMismatch));
    // other leaves of that segment replay fine; later segments start from the tampered checkpoint
    assert_eq!(fraud::verify(&s, &c, &b.fraud_proof(&trace, 1, 1).unwrap()), Err(FraudProofError::NoInconsistency));
    assert_eq!(fraud::verify(&s, &c, &b.fraud_proof(&trace, 2, 2).unwrap()), Err(FraudProofError::NoInconsistency));
}

#[test]
fn forged_openings_are_refused() {
    let b = build(Some((5, 600)));
    let (c, trace) = b.commitment(2.0, 1.5).unwrap();
    let s = spec();
    let good = b.fraud_proof(&trace, 2, 1).unwrap();

    let mut p = good.clone();
    p.end_leaf[0] ^= 1;
    assert_eq!(fraud::verify(&s, &c, &p), Err(FraudProofError::BadEndProof(MerkleError::RootMismatch)));

    let mut p = good.clone();
    p.start_leaf[0] ^= 1;
    assert_eq!(fraud::verify(&s, &c, &p), Err(FraudProofError::BadStartProof(MerkleError::RootMismatch)));

    let mut p = good.clone();
    p.steps[1].gradient_leaf[4] ^= 0x11;
    assert_eq!(fraud::verify(&s, &c, &p), Err(FraudProofError::BadGradientProof(MerkleError::RootMismatch)));

    let mut p = good.clone();
    p.steps[0].record.record.scalars.learning_rate ^= 1;
    assert_eq!(fraud::verify(&s, &c, &p), Err(FraudProofError::BadRecordProof(MerkleError::RootMismatch)));

    let mut p = good.clone();
    p.steps.pop();
    assert_eq!(fraud::verify(&s, &c, &p), Err(FraudProofError::WrongSteps));

    let mut p = good.clone();
    p.start_anchor = None;
    assert_eq!(fraud::verify(&s, &c, &p), Err(FraudProofError::WrongAnchor));

    let mut p = good.clone();
    p.segment = 3;
    assert_eq!(fraud::verify(&s, &c, &p), Err(FraudProofError::OutOfRange));

    let mut p = good.clone();
    p.leaf_index = 4;
    assert_eq!(fraud::verify(&s, &c, &p), Err(FraudProofError::OutOfRange));

    // a proof against another round's commitment fails on the openings
    let other = build(None);
    let (c2, _) = other.commitment(2.0, 1.5).unwrap();
    assert!(fraud::verify(&s, &c2, &good).is_err());
}

#[test]
fn round_is_deterministic_and_commitment_binds_losses() {
    let (a, _) = build(None).commitment(2.0, 1.5).unwrap();
    let (b, _) = build(None).commitment(2.0, 1.5).unwrap();
    assert_eq!(a, b);
    let (c, _) = build(None).commitment(2.0, 1.4).unwrap();
    assert_ne!(a, c);
    assert_eq!(a.trace_root, c.trace_root);
}

#[test]
fn fraud_proof_bound_gives_checkpoint_interval() {
    // Defaults at scale: 4,096-parameter AdamW leaves, 1B parameters, 10,000 steps per round.
    let mut s = spec();
    s.param_count = 1_000_000_000;
    s.leaf_size = 4096;
    s.steps_per_round = 10_000;
    s.checkpoint_interval = 1;
    let c = fraud::max_checkpoint_interval(&s, 1024 * 1024);
    s.checkpoint_interval = c;
    assert!(fraud::max_encoded_len(&s) <= 1024 * 1024);
    s.checkpoint_interval = c + 1;
    assert!(fraud::max_encoded_len(&s) > 1024 * 1024);
    assert!((200..600).contains(&c), "interval {c}");
}

/// The verifier's replay of `b`'s round from its base: the first fault, or `None`, and the replaying
/// builder. `edit` may change the committed records first (a miner that lies in a record).
fn replay(b: &RoundBuilder, records: &[pogo_primitives::StepRecord]) -> (Option<ReplayFault>, RoundBuilder) {
    let s = spec();
    let (base, _) = b.checkpoint_leaves(None).unwrap();
    let mut w = Vec::new();
    let mut m = Vec::new();
    let mut v = Vec::new();
    for (i, leaf) in base.iter().enumerate() {
        let n = s.leaf_range(i as u64).unwrap().1;
        let l = pogo_primitives::state::StateLeaf::decode(leaf, n, 2).unwrap();
        w.extend_from_slice(&l.values[..n]);
        m.extend_from_slice(&l.values[n..2 * n]);
        v.extend_from_slice(&l.values[2 * n..]);
    }
    let mut r = RoundBuilder::new(s, w, vec![m, v], 1).unwrap();
    assert_eq!(r.base_root(), b.base_root());
    for record in records {
        let leaves = b.gradient_leaves(record.step).unwrap().to_vec();
        if let Some(fault) = r.replay_step(record, leaves).unwrap() {
            return (Some(fault), r);
        }
    }
    (None, r)
}

#[test]
fn an_honest_round_replays_to_its_final_root() {
    let b = build(None);
    let (c, _) = b.commitment(2.0, 1.5).unwrap();
    let (fault, r) = replay(&b, &b.records());
    assert_eq!(fault, None);
    assert_eq!(r.checkpoint_leaves(Some(9)).unwrap().1, c.final_root);
    assert_eq!(r.records(), b.records());
}

#[test]
fn replay_finds_a_tampered_state_and_proves_it_with_the_committed_end_leaf() {
    let b = build(Some((5, 600)));
    let (c, trace) = b.commitment(2.0, 1.5).unwrap();
    let (fault, r) = replay(&b, &b.records());
    assert_eq!(fault, Some(ReplayFault::CheckpointMismatch { step: 7, segment: 1 }));
    let fault = fault.unwrap();
    assert!(fault.is_fraud_provable());
    let (ours, _) = r.checkpoint_leaves(Some(7)).unwrap();
    let (theirs, _) = b.checkpoint_leaves(Some(7)).unwrap();
    let differing: Vec<usize> = (0..ours.len()).filter(|i| ours[*i] != theirs[*i]).collect();
    assert_eq!(differing, [2]);
    let mut proof = r.fraud_proof(&trace, 2, 1).unwrap();
    let (end_leaf, end_proof) = b.state_opening(Some(7), 2).unwrap();
    proof.end_leaf = end_leaf;
    proof.end_proof = end_proof;
    assert_eq!(fraud::verify(&spec(), &c, &proof), Ok(Fraud::ReplayMismatch));
    // The replay's own end leaf is opened against the replayed root, not the committed one.
    let own = r.fraud_proof(&trace, 2, 1).unwrap();
    assert_eq!(fraud::verify(&spec(), &c, &own), Err(FraudProofError::BadEndProof(MerkleError::RootMismatch)));
}

#[test]
fn replay_refuses_wrong_scalars_and_foreign_gradient_leaves() {
    let b = build(None);
    let mut records = b.records();
    records[3].scalars.learning_rate = (f32::from_bits(records[3].scalars.learning_rate) * 2.0).to_bits();
    assert_eq!(replay(&b, &records).0, Some(ReplayFault::WrongScalars { step: 3 }));
    let mut records = b.records();
    records[4].scalars.gradient_scale = (f32::from_bits(records[4].scalars.gradient_scale) * 0.5).to_bits();
    assert_eq!(replay(&b, &records).0, Some(ReplayFault::WrongScalars { step: 4 }));
    let mut records = b.records();
    records[2].gradient_root = records[1].gradient_root;
    assert_eq!(replay(&b, &records).0, Some(ReplayFault::GradientRootMismatch { step: 2 }));
    assert!(!ReplayFault::WrongScalars { step: 0 }.is_fraud_provable());
}
