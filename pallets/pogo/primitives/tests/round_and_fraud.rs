//! A whole round built with the miner's builder, checked by the verifier's rules: commitments, openings,
//! fraud proofs from a tampered state, and the fraud-proof size bound.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects, missing_docs)]

use codec::Encode;
use pogo_primitives::{
    builder::RoundBuilder,
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
