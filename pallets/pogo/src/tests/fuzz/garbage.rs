//! Garbage arguments: specs, models and task parameters with extreme fields, verdicts naming any step,
//! and fraud proofs that are random or a real proof with bytes flipped, steps dropped or repeated, or
//! past `MaxFraudProofLen`.

use super::input::Gen;
use crate::{
    mock::*,
    tests::helpers::{spec, PARAMS},
    *,
};
use frame_support::BoundedVec;
use pogo_primitives::{
    fraud::{FraudProof, OpenedRecord, OpenedStep},
    seed::SampleSizes,
    tolerance::Tolerance,
    verdict::{NegativeReason, Verdict},
    LrSchedule, MerkleProof, StepRecord, StepScalars, TrainingSpec, UpdateRule,
};
use polkadot_sdk::frame_support;

/// `p` with one to three fields set to garbage.
pub(super) fn garbage_params(g: &mut Gen, mut p: TaskParamsOf<Test>) -> TaskParamsOf<Test> {
    for _ in 0..g.int(1u8..=3) {
        match g.int(0u8..=9) {
            0 => p.reward = g.balance(),
            1 => p.verifier_pay = g.balance(),
            2 => p.miner_bond = g.balance(),
            3 => p.verifiers = g.u32x(),
            4 => p.escalation_verifiers = g.u32x(),
            5 => p.samples = SampleSizes { steps: g.u32x(), leaves: g.u32x(), eval_examples: g.u32x() },
            6 => {
                p.tolerance = Tolerance {
                    boundary_margin_ppm: g.u32x(),
                    max_scale_error_ppm: g.u32x(),
                    noise_floor_ppm: g.u32x(),
                }
            },
            7 => p.min_improvement_ppm = g.u32x(),
            8 => p.commit_window = g.u64x(),
            _ => p.reveal_window = g.u64x(),
        }
    }
    p
}

/// The standard spec with one to three fields set to garbage.
pub(super) fn garbage_spec(g: &mut Gen) -> TrainingSpec {
    let mut s = spec();
    for _ in 0..g.int(1u8..=3) {
        match g.int(0u8..=11) {
            0 => s.model = g.hash(),
            1 => s.param_count = g.u64x(),
            2 => s.leaf_size = g.u32x(),
            3 => s.codec_block = g.u32x(),
            4 => {
                s.rule = match g.int(0u8..=2) {
                    0 => UpdateRule::Sgd { weight_decay: g.f32_bits() },
                    1 => UpdateRule::Momentum { momentum: g.f32_bits(), weight_decay: g.f32_bits() },
                    _ => UpdateRule::AdamW {
                        beta1: g.f32_bits(),
                        beta2: g.f32_bits(),
                        epsilon: g.f32_bits(),
                        weight_decay: g.f32_bits(),
                    },
                }
            },
            5 => {
                s.schedule = if g.chance(1, 2) {
                    LrSchedule::Constant { lr: g.f32_bits() }
                } else {
                    LrSchedule::WarmupCosine {
                        peak_lr: g.f32_bits(),
                        min_lr: g.f32_bits(),
                        warmup_steps: g.u32x(),
                        total_steps: g.u32x(),
                    }
                }
            },
            6 => s.max_grad_norm = g.f32_bits(),
            7 => s.steps_per_round = g.u32x(),
            8 => s.checkpoint_interval = g.u32x(),
            9 => s.batch_size = g.u32x(),
            10 => s.train_examples = g.u64x(),
            _ => s.eval_examples = g.u64x(),
        }
    }
    s
}

/// A model descriptor of any size and shape, valid or not (rarely the largest the bounds allow).
pub(super) fn garbage_model(g: &mut Gen) -> BoundedModelDescriptor {
    let choice = g.int(0u8..=3);
    if choice == 0 {
        BoundedModelDescriptor::synthetic(g.int(1u32..=64), g.u64x(), g.chance(1, 2))
    } else if choice == 1 && g.chance(1, 50) {
        BoundedModelDescriptor::synthetic(PARAMS as u32, PARAMS, true)
    } else {
        let tensors: Vec<BoundedTensorDescriptor> = (0..g.int(0u8..=4))
            .map(|_| BoundedTensorDescriptor {
                name: BoundedVec::truncate_from(g.bytes(12)),
                shape: BoundedVec::truncate_from((0..g.int(0u8..=9)).map(|_| g.u64x()).collect::<Vec<u64>>()),
            })
            .collect();
        BoundedModelDescriptor {
            architecture: BoundedVec::truncate_from(g.bytes(48)),
            tensors: BoundedVec::truncate_from(tensors),
        }
    }
}

/// Any verdict, naming any step.
pub(super) fn garbage_verdict(g: &mut Gen) -> Verdict {
    match g.int(0u8..=4) {
        0 => Verdict::Positive,
        1 => Verdict::Negative(NegativeReason::BadGradient { step: g.u32x() }),
        2 => Verdict::Negative(NegativeReason::InconsistentUpdate),
        3 => Verdict::Negative(NegativeReason::NoProgress),
        _ => Verdict::Negative(NegativeReason::DataUnavailable),
    }
}

fn flip(g: &mut Gen, bytes: &mut Vec<u8>) {
    match g.index(bytes.len()) {
        Some(i) => bytes[i] ^= 1u8 << g.int(0u8..=7),
        None => bytes.push(g.arb()),
    }
}

/// Breaks one part of a fraud proof.
pub(super) fn mutate_proof(g: &mut Gen, p: &mut FraudProof) {
    match g.int(0u8..=11) {
        0 => p.leaf_index = g.u64x(),
        1 => p.segment = g.u32x(),
        2 => flip(g, &mut p.start_leaf),
        3 => flip(g, &mut p.end_leaf),
        4 => {
            if let Some(s) = p.steps.first_mut() {
                flip(g, &mut s.gradient_leaf);
            }
        },
        5 => {
            let n = g.int(0..=p.steps.len());
            p.steps.truncate(n);
        },
        6 => {
            if let Some(s) = p.steps.last().cloned() {
                p.steps.push(s);
            }
        },
        7 => p.start_anchor = None,
        8 => p.end_proof.leaf_count = g.u64x(),
        9 => {
            let sibling = g.hash();
            p.start_proof.siblings.push(sibling);
        },
        10 => {
            if let Some(s) = p.steps.first_mut() {
                s.record.record.step = g.u32x();
            }
        },
        // Past `MaxFraudProofLen` now and then.
        _ => p.end_leaf = if g.chance(1, 20) { vec![0; 300 * 1024] } else { g.bytes(96) },
    }
}

fn random_merkle_proof(g: &mut Gen) -> MerkleProof {
    MerkleProof {
        leaf_index: g.u64x(),
        leaf_count: g.u64x(),
        siblings: (0..g.int(0u8..=6)).map(|_| g.hash()).collect(),
    }
}

fn random_record(g: &mut Gen) -> OpenedRecord {
    let record = StepRecord {
        step: g.u32x(),
        gradient_root: g.hash(),
        scalars: StepScalars {
            learning_rate: g.f32_bits(),
            gradient_scale: g.f32_bits(),
            bias_correction1: g.f32_bits(),
            bias_correction2: g.f32_bits(),
        },
        train_loss: g.arb(),
        checkpoint_root: if g.chance(1, 2) { Some(g.hash()) } else { None },
    };
    OpenedRecord { record, proof: random_merkle_proof(g) }
}

/// A fraud proof of random parts.
pub(super) fn random_proof(g: &mut Gen) -> FraudProof {
    FraudProof {
        leaf_index: g.u64x(),
        segment: g.u32x(),
        start_anchor: if g.chance(1, 2) { Some(random_record(g)) } else { None },
        start_leaf: g.bytes(96),
        start_proof: random_merkle_proof(g),
        steps: (0..g.int(0u8..=4))
            .map(|_| OpenedStep {
                record: random_record(g),
                gradient_leaf: g.bytes(96),
                gradient_proof: random_merkle_proof(g),
            })
            .collect(),
        end_leaf: g.bytes(96),
        end_proof: random_merkle_proof(g),
    }
}
