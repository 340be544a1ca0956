//! A fraud proof (protocol section 14) from a replay that found a provable fault: the replay keeps the
//! miner's records and gradient leaves and its own checkpoints, the miner's server gives the state it
//! committed at the end of the faulty segment, and the first leaf where the two differ is the proof's.
//! Every proof is checked with `fraud::verify`, the chain's own code, before it is returned.

use super::fetch::{committed_state, Unavailable};
use pogo_chain::{ChainClient, ChainSubmission, Signer};
use pogo_primitives::{
    builder::RoundBuilder,
    fraud::{self, Fraud, FraudProof},
    replay::ReplayFault,
    round::trace_tree,
    state::{leaf_bytes, state_tree},
    RoundCommitment, StepRecord, TrainingSpec,
};
use pogo_store::{ClientLimits, DaClient};

/// Why no proof was built.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// The fault is not one this worker proves: scalar conformance is not fraud-provable (protocol
    /// section 18, item 7), and faults inside a segment end the replay before the segment's end.
    #[error("{0}: not proven by this worker")]
    NotProvable(ReplayFault),
    /// The miner does not serve the state it committed at the segment's end.
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    /// No leaf gives a proof the chain's verifier accepts (a bug, or the committed state equals ours).
    #[error("no leaf of segment {segment} gives a valid proof")]
    NoLeaf {
        /// Segment.
        segment: u32,
    },
}

/// Builds and checks a fraud proof for `fault`, found by `replay` on the round with `records`.
pub async fn build(
    client: &DaClient,
    spec: &TrainingSpec,
    commitment: &RoundCommitment,
    records: &[StepRecord],
    replay: &RoundBuilder,
    fault: ReplayFault,
) -> Result<(FraudProof, Fraud), ProofError> {
    // The replay stops at a fault inside a segment, so only a checkpoint mismatch (the replay reached
    // the segment's end) has every step of the segment at hand; the others end in a Negative verdict.
    let ReplayFault::CheckpointMismatch { segment, .. } = fault else {
        return Err(ProofError::NotProvable(fault));
    };
    let (_, end) = spec.segment_steps(segment).ok_or(ProofError::NoLeaf { segment })?;
    let end_step = end.saturating_sub(1);
    let end_root = records
        .get(usize::try_from(end_step).unwrap_or(usize::MAX))
        .and_then(|r| r.checkpoint_root)
        .ok_or(ProofError::NoLeaf { segment })?;
    let trace = trace_tree(spec, records, &commitment.final_root).map_err(|_| ProofError::NoLeaf { segment })?;
    let theirs = committed_state(client, spec, &end_root).await?;
    let slot_refs: Vec<&[f32]> = theirs.slots.iter().map(Vec::as_slice).collect();
    let their_tree = state_tree(spec, &theirs.weights, &slot_refs).map_err(|_| ProofError::NoLeaf { segment })?;
    // The leaves where the replayed checkpoint and the committed one differ.
    let (ours, _) = replay.checkpoint_leaves(Some(end_step)).ok_or(ProofError::NoLeaf { segment })?;
    let candidates = (0..spec.leaf_count()).filter(|i| {
        let theirs = leaf_bytes(spec, &theirs.weights, &slot_refs, *i).ok();
        ours.get(usize::try_from(*i).unwrap_or(usize::MAX)) != theirs.as_ref()
    });
    for leaf in candidates {
        let Ok(mut proof) = replay.fraud_proof(&trace, leaf, segment) else { continue };
        let Ok(end_leaf) = leaf_bytes(spec, &theirs.weights, &slot_refs, leaf) else { continue };
        let Ok(end_proof) = their_tree.proof(leaf) else { continue };
        proof.end_leaf = end_leaf;
        proof.end_proof = end_proof;
        if let Ok(found) = fraud::verify(spec, commitment, &proof) {
            return Ok((proof, found));
        }
    }
    Err(ProofError::NoLeaf { segment })
}

/// Builds the proof of `fault` (found by `replay` on `submission`) from the miner's server and sends it
/// with `report_fraud`: what the chain accepted, or why nothing was sent or the chain refused it (one
/// line, for the caller's log). Shared by the verifier and the watcher.
pub async fn prove_and_report(
    chain: &ChainClient,
    signer: &Signer,
    spec: &TrainingSpec,
    submission: &ChainSubmission,
    replay: &RoundBuilder,
    fault: ReplayFault,
    limits: &ClientLimits,
) -> Result<Fraud, String> {
    let locator = String::from_utf8_lossy(&submission.locator).into_owned();
    let client = DaClient::new(&locator, limits.clone()).map_err(|e| format!("locator {locator:?}: {e}"))?;
    let records = replay.records();
    let (proof, fraud) =
        build(&client, spec, &submission.commitment, &records, replay, fault).await.map_err(|e| format!("no fraud proof: {e}"))?;
    chain.report_fraud(signer, submission.id, proof).await.map_err(|e| format!("report_fraud: {e}"))?;
    Ok(fraud)
}
