//! The round commitment: per-step records committed under one Merkle root (the *trace root*), so the
//! on-chain part of a round is constant-size.
//!
//! Step record `s` (0-based) holds the root of that step's gradient tree (one 4-bit gradient leaf per
//! state leaf), the step's scalars, the miner's training loss on the step's batch (informative), and —
//! exactly at checkpoint steps (see [`TrainingSpec::is_checkpoint`]) — the state root after the step. The
//! trace tree's leaf `s` is the SCALE encoding of record `s`; it has `steps_per_round` leaves. The last
//! record is always a checkpoint and its root is the round's final root.

use crate::{
    hash::Hash,
    merkle::{leaf_hash, MerkleError, MerkleTree},
    spec::{StepScalars, TrainingSpec},
};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// One step of a round.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub struct StepRecord {
    /// Position in the round, from 0.
    pub step: u32,
    /// Root of this step's gradient tree.
    pub gradient_root: Hash,
    /// This step's learning rate, gradient scale and bias corrections.
    pub scalars: StepScalars,
    /// The miner's mean training loss on this step's batch (f32 bits; informative, not verified).
    pub train_loss: u32,
    /// The state root after this step; present exactly at checkpoint steps.
    pub checkpoint_root: Option<Hash>,
}

/// What a miner puts on chain for a round.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub struct RoundCommitment {
    /// The state root the round starts from (the task's current root).
    pub base_root: Hash,
    /// Root over the step records.
    pub trace_root: Hash,
    /// The state root after the last step.
    pub final_root: Hash,
    /// Steps in the round (= the task's `steps_per_round`).
    pub steps: u32,
    /// Claimed mean evaluation loss of the base state (f32 bits).
    pub eval_loss_before: u32,
    /// Claimed mean evaluation loss of the final state (f32 bits).
    pub eval_loss_after: u32,
}

/// Why a set of step records is inconsistent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum RoundError {
    /// Not `steps_per_round` records.
    WrongStepCount,
    /// Record `s` does not say `step: s`.
    StepOutOfOrder,
    /// A checkpoint root is missing at a checkpoint step or present elsewhere.
    CheckpointMisplaced,
    /// The last record's checkpoint root is not the final root.
    FinalRootMismatch,
    /// Building the trace tree failed.
    Merkle(MerkleError),
}

impl StepRecord {
    /// The trace-tree leaf hash of this record.
    pub fn leaf_hash(&self) -> Hash {
        leaf_hash(&self.encode())
    }

    /// Whether the record is well-formed at its own position: checkpoint root present iff checkpoint step.
    pub fn is_well_formed(&self, spec: &TrainingSpec) -> bool {
        self.step < spec.steps_per_round && spec.is_checkpoint(self.step) == self.checkpoint_root.is_some()
    }
}

/// Checks the records of a whole round and builds their trace tree.
pub fn trace_tree(spec: &TrainingSpec, records: &[StepRecord], final_root: &Hash) -> Result<MerkleTree, RoundError> {
    if records.len() != usize::try_from(spec.steps_per_round).map_err(|_| RoundError::WrongStepCount)? {
        return Err(RoundError::WrongStepCount);
    }
    for (s, r) in records.iter().enumerate() {
        if usize::try_from(r.step).ok() != Some(s) {
            return Err(RoundError::StepOutOfOrder);
        }
        if !r.is_well_formed(spec) {
            return Err(RoundError::CheckpointMisplaced);
        }
    }
    match records.last().and_then(|r| r.checkpoint_root) {
        Some(root) if root == *final_root => {},
        _ => return Err(RoundError::FinalRootMismatch),
    }
    MerkleTree::from_leaf_hashes(records.iter().map(StepRecord::leaf_hash).collect()).map_err(RoundError::Merkle)
}

/// The state root a segment starts from: the base root for segment 0, else the checkpoint root of the
/// step before the segment.
pub fn segment_start_step(spec: &TrainingSpec, segment: u32) -> Option<Option<u32>> {
    let (first, _) = spec.segment_steps(segment)?;
    Some(first.checked_sub(1))
}

/// Builds a round commitment from checked records.
pub fn commit(
    spec: &TrainingSpec,
    base_root: Hash,
    records: &[StepRecord],
    eval_loss_before: f32,
    eval_loss_after: f32,
) -> Result<(RoundCommitment, MerkleTree), RoundError> {
    let final_root = records.last().and_then(|r| r.checkpoint_root).ok_or(RoundError::FinalRootMismatch)?;
    let tree = trace_tree(spec, records, &final_root)?;
    let commitment = RoundCommitment {
        base_root,
        trace_root: tree.root(),
        final_root,
        steps: spec.steps_per_round,
        eval_loss_before: eval_loss_before.to_bits(),
        eval_loss_after: eval_loss_after.to_bits(),
    };
    Ok((commitment, tree))
}

/// The records of a round whose checkpoint roots are given per step (helper for tests and the worker).
pub fn records_from(
    spec: &TrainingSpec,
    gradient_roots: &[Hash],
    scalars: &[StepScalars],
    state_roots_after: &[Hash],
) -> Vec<StepRecord> {
    gradient_roots
        .iter()
        .zip(scalars)
        .zip(state_roots_after)
        .enumerate()
        .map(|(s, ((g, sc), root))| {
            let step = u32::try_from(s).unwrap_or(u32::MAX);
            StepRecord {
                step,
                gradient_root: *g,
                scalars: *sc,
                train_loss: 0,
                checkpoint_root: spec.is_checkpoint(step).then_some(*root),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::tests::small_spec;

    fn records() -> Vec<StepRecord> {
        let spec = small_spec();
        let g: Vec<Hash> = (0..10u8).map(|i| [i; 32]).collect();
        let sc = vec![StepScalars::default(); 10];
        let roots: Vec<Hash> = (0..10u8).map(|i| [100 + i; 32]).collect();
        records_from(&spec, &g, &sc, &roots)
    }

    #[test]
    fn commit_and_checks() {
        let spec = small_spec();
        let r = records();
        let (c, tree) = commit(&spec, [0; 32], &r, 2.0, 1.5).unwrap();
        assert_eq!(c.final_root, [109; 32]);
        assert_eq!(tree.leaf_count(), 10);
        assert_eq!(c.eval_loss_after, 1.5f32.to_bits());
        tree.proof(3).unwrap().verify_in(&c.trace_root, 10, &r[3].encode()).unwrap();

        assert_eq!(trace_tree(&spec, &r[..9], &c.final_root).map(|t| t.root()), Err(RoundError::WrongStepCount));
        let mut bad = r.clone();
        bad.swap(1, 2);
        assert_eq!(trace_tree(&spec, &bad, &c.final_root).map(|t| t.root()), Err(RoundError::StepOutOfOrder));
        let mut bad = r.clone();
        bad[2].checkpoint_root = Some([0; 32]);
        assert_eq!(trace_tree(&spec, &bad, &c.final_root).map(|t| t.root()), Err(RoundError::CheckpointMisplaced));
        let mut bad = r.clone();
        bad[3].checkpoint_root = None;
        assert_eq!(trace_tree(&spec, &bad, &c.final_root).map(|t| t.root()), Err(RoundError::CheckpointMisplaced));
        assert_eq!(trace_tree(&spec, &r, &[1; 32]).map(|t| t.root()), Err(RoundError::FinalRootMismatch));
        assert_eq!(segment_start_step(&spec, 0), Some(None));
        assert_eq!(segment_start_step(&spec, 2), Some(Some(7)));
        assert_eq!(segment_start_step(&spec, 3), None);
    }
}
