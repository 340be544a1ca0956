//! Fraud proofs: one state leaf replayed through one checkpoint segment.
//!
//! A proof for leaf `j` and segment `k` (steps `[first, end)`) carries:
//! * the leaf at the segment's start with its Merkle proof against the start root — the round's base
//!   root for `k = 0`, else the checkpoint root in record `first − 1`, which is opened in the trace tree;
//! * for every step of the segment its record (opened in the trace tree) and gradient leaf `j` (opened in
//!   the record's gradient root);
//! * leaf `j` at the segment's end, opened against the checkpoint root of record `end − 1`.
//!
//! The verifier opens each object before judging it (the exact order, which decides the error a bad
//! proof gets, is in docs/protocol.md section 14), and replays the leaf with [`apply_step`]. Fraud is
//! shown when a
//! committed object is malformed (a record out of place, a non-canonical gradient leaf, invalid scalars),
//! when the replay leaves the finite range, or when the replayed leaf differs from the committed end leaf.
//! Work and size are bounded by the checkpoint interval: see [`max_encoded_len`].

use crate::{
    merkle::{MerkleError, MerkleProof},
    quant::dequantize,
    round::{RoundCommitment, StepRecord},
    spec::TrainingSpec,
    state::StateLeaf,
    update::{apply_step, UpdateError},
};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use scale_info::TypeInfo;

/// A step record with its trace-tree proof.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct OpenedRecord {
    /// The record.
    pub record: StepRecord,
    /// Its proof in the round's trace tree.
    pub proof: MerkleProof,
}

/// One step of a segment: its record and the gradient leaf of the disputed leaf.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct OpenedStep {
    /// The step's record, opened in the trace tree.
    pub record: OpenedRecord,
    /// The 4-bit gradient leaf bytes.
    pub gradient_leaf: Vec<u8>,
    /// Its proof in the record's gradient tree.
    pub gradient_proof: MerkleProof,
}

/// A proof that a round's committed state evolution is wrong for one leaf.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct FraudProof {
    /// The disputed state leaf.
    pub leaf_index: u64,
    /// The checkpoint segment.
    pub segment: u32,
    /// The record of the step before the segment (absent for segment 0).
    pub start_anchor: Option<OpenedRecord>,
    /// Leaf bytes at the segment start.
    pub start_leaf: Vec<u8>,
    /// Proof of the start leaf against the start root.
    pub start_proof: MerkleProof,
    /// The segment's steps in order.
    pub steps: Vec<OpenedStep>,
    /// Leaf bytes the miner committed at the segment end.
    pub end_leaf: Vec<u8>,
    /// Proof of the end leaf against the end checkpoint root.
    pub end_proof: MerkleProof,
}

/// What a valid fraud proof shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum Fraud {
    /// The replayed leaf differs from the committed end leaf.
    ReplayMismatch,
    /// A committed gradient leaf is not a canonical 4-bit encoding.
    MalformedGradient,
    /// A committed step record has a misplaced checkpoint root or invalid scalars.
    MalformedRecord,
    /// Replaying the committed gradients leaves the finite range.
    NonFiniteUpdate,
    /// The last record's checkpoint root is not the round's final root.
    FinalRootMismatch,
}

/// Why a fraud proof is not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum FraudProofError {
    /// The segment or leaf index is out of range.
    OutOfRange,
    /// The start anchor is missing, present for segment 0, or not the step before the segment.
    WrongAnchor,
    /// Not exactly the segment's steps, in order.
    WrongSteps,
    /// A record proof failed.
    BadRecordProof(MerkleError),
    /// A gradient leaf proof failed.
    BadGradientProof(MerkleError),
    /// The start leaf proof failed.
    BadStartProof(MerkleError),
    /// The end leaf proof failed.
    BadEndProof(MerkleError),
    /// The start leaf is not a valid state leaf (so it cannot be the committed one).
    BadStartLeaf,
    /// The end leaf is not a valid state leaf.
    BadEndLeaf,
    /// Everything checks out: the committed evolution of this leaf is consistent.
    NoInconsistency,
}

impl core::fmt::Display for FraudProofError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            FraudProofError::OutOfRange => f.write_str("segment or leaf index out of range"),
            FraudProofError::WrongAnchor => f.write_str("the start anchor is not the checkpoint before the segment"),
            FraudProofError::WrongSteps => f.write_str("not exactly the segment's steps, in order"),
            FraudProofError::BadRecordProof(e) => write!(f, "a step record's opening failed: {e}"),
            FraudProofError::BadGradientProof(e) => write!(f, "a gradient leaf's opening failed: {e}"),
            FraudProofError::BadStartProof(e) => write!(f, "the start leaf's opening failed: {e}"),
            FraudProofError::BadEndProof(e) => write!(f, "the end leaf's opening failed: {e}"),
            FraudProofError::BadStartLeaf => f.write_str("the start leaf is not a valid state leaf"),
            FraudProofError::BadEndLeaf => f.write_str("the end leaf is not a valid state leaf"),
            FraudProofError::NoInconsistency => f.write_str("every opening checks out and the replay agrees: no fraud"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for FraudProofError {}

fn open_record(commitment: &RoundCommitment, opened: &OpenedRecord) -> Result<(), FraudProofError> {
    opened
        .proof
        .verify_in(&commitment.trace_root, u64::from(commitment.steps), &opened.record.encode())
        .map_err(FraudProofError::BadRecordProof)?;
    if opened.proof.leaf_index != u64::from(opened.record.step) {
        return Err(FraudProofError::BadRecordProof(MerkleError::IndexOutOfRange));
    }
    Ok(())
}

/// Verifies `proof` against a round of a task with `spec`. `Ok(fraud)` means the miner is proven wrong.
pub fn verify(spec: &TrainingSpec, commitment: &RoundCommitment, proof: &FraudProof) -> Result<Fraud, FraudProofError> {
    if commitment.steps != spec.steps_per_round {
        return Err(FraudProofError::OutOfRange);
    }
    let (first, end) = spec.segment_steps(proof.segment).ok_or(FraudProofError::OutOfRange)?;
    let (_, n) = spec.leaf_range(proof.leaf_index).ok_or(FraudProofError::OutOfRange)?;
    let leaves = spec.leaf_count();
    let slots = spec.rule.slots();
    let block = usize::try_from(spec.codec_block).map_err(|_| FraudProofError::OutOfRange)?;

    // Start root.
    let start_root = match (first.checked_sub(1), &proof.start_anchor) {
        (None, None) => commitment.base_root,
        (Some(prev), Some(anchor)) if anchor.record.step == prev => {
            open_record(commitment, anchor)?;
            match anchor.record.checkpoint_root {
                Some(root) if anchor.record.is_well_formed(spec) => root,
                _ => return Ok(Fraud::MalformedRecord),
            }
        },
        _ => return Err(FraudProofError::WrongAnchor),
    };
    proof.start_proof.verify_in(&start_root, leaves, &proof.start_leaf).map_err(FraudProofError::BadStartProof)?;
    if proof.start_proof.leaf_index != proof.leaf_index {
        return Err(FraudProofError::BadStartProof(MerkleError::IndexOutOfRange));
    }

    // Steps: every record and gradient leaf is opened before any of them is judged (the anchor was
    // judged above, the end leaf is opened after the last record is judged).
    let expected = usize::try_from(end.saturating_sub(first)).map_err(|_| FraudProofError::WrongSteps)?;
    if proof.steps.len() != expected {
        return Err(FraudProofError::WrongSteps);
    }
    for (step, opened) in (first..end).zip(&proof.steps) {
        if opened.record.record.step != step {
            return Err(FraudProofError::WrongSteps);
        }
        open_record(commitment, &opened.record)?;
        opened
            .gradient_proof
            .verify_in(&opened.record.record.gradient_root, leaves, &opened.gradient_leaf)
            .map_err(FraudProofError::BadGradientProof)?;
        if opened.gradient_proof.leaf_index != proof.leaf_index {
            return Err(FraudProofError::BadGradientProof(MerkleError::IndexOutOfRange));
        }
    }
    let last = proof.steps.last().ok_or(FraudProofError::WrongSteps)?;
    let end_root = match last.record.record.checkpoint_root {
        Some(root) if last.record.record.is_well_formed(spec) => root,
        _ => return Ok(Fraud::MalformedRecord),
    };
    if end == spec.steps_per_round && end_root != commitment.final_root {
        return Ok(Fraud::FinalRootMismatch);
    }
    proof.end_proof.verify_in(&end_root, leaves, &proof.end_leaf).map_err(FraudProofError::BadEndProof)?;
    if proof.end_proof.leaf_index != proof.leaf_index {
        return Err(FraudProofError::BadEndProof(MerkleError::IndexOutOfRange));
    }
    let committed_end = StateLeaf::decode(&proof.end_leaf, n, slots).map_err(|_| FraudProofError::BadEndLeaf)?;

    // Replay.
    let mut leaf = StateLeaf::decode(&proof.start_leaf, n, slots).map_err(|_| FraudProofError::BadStartLeaf)?;
    for opened in &proof.steps {
        if !opened.record.record.is_well_formed(spec) {
            return Ok(Fraud::MalformedRecord);
        }
        let Ok(deq) = dequantize(&opened.gradient_leaf, n, block) else {
            return Ok(Fraud::MalformedGradient);
        };
        match apply_step(&spec.rule, &opened.record.record.scalars, &mut leaf, &deq) {
            Ok(()) => {},
            Err(UpdateError::NonFinite { .. }) => return Ok(Fraud::NonFiniteUpdate),
            Err(UpdateError::BadScalars) => return Ok(Fraud::MalformedRecord),
            Err(UpdateError::WrongGradientLength | UpdateError::WrongLeafShape) =>
                return Err(FraudProofError::BadStartLeaf),
        }
    }
    if leaf.encode_bytes() == committed_end.encode_bytes() {
        Err(FraudProofError::NoInconsistency)
    } else {
        Ok(Fraud::ReplayMismatch)
    }
}

/// Upper bound of a fraud proof's SCALE-encoded size for `spec` (largest leaf, full segment).
pub fn max_encoded_len(spec: &TrainingSpec) -> u64 {
    let leaves = spec.leaf_count();
    let state = spec.state_leaf_len(0).unwrap_or(usize::MAX) as u64;
    let grad = spec.gradient_leaf_len(0).unwrap_or(usize::MAX) as u64;
    let state_proof = MerkleProof::max_encoded_len_for(leaves);
    let record_proof = MerkleProof::max_encoded_len_for(u64::from(spec.steps_per_round));
    let record = StepRecord::max_encoded_len() as u64;
    let vec_prefix = 5u64; // compact length of a Vec
    let opened_record = record.saturating_add(record_proof);
    let step = opened_record.saturating_add(vec_prefix).saturating_add(grad).saturating_add(state_proof);
    let c = u64::from(spec.checkpoint_interval);
    8u64 // leaf_index
        .saturating_add(4) // segment
        .saturating_add(1)
        .saturating_add(opened_record) // anchor
        .saturating_add(2u64.saturating_mul(vec_prefix.saturating_add(state).saturating_add(state_proof)))
        .saturating_add(vec_prefix)
        .saturating_add(c.saturating_mul(step))
}

/// The largest checkpoint interval whose fraud proofs stay within `max_len` bytes (0 if none does).
pub fn max_checkpoint_interval(spec: &TrainingSpec, max_len: u64) -> u32 {
    let mut s = *spec;
    s.checkpoint_interval = 1;
    let one = max_encoded_len(&s);
    s.checkpoint_interval = 2;
    let per_step = max_encoded_len(&s).saturating_sub(one);
    if one > max_len || per_step == 0 {
        return 0;
    }
    let extra = max_len.saturating_sub(one).checked_div(per_step).unwrap_or(0);
    u32::try_from(extra.saturating_add(1)).unwrap_or(u32::MAX).min(spec.steps_per_round)
}

use codec::MaxEncodedLen;
