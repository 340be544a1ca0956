//! Sampled replay (docs/protocol.md section 11b): step 3 of section 11 on a sample of leaves instead of
//! the whole round. The update rules are element-wise, so one leaf's history across the round needs only
//! that leaf: its state at each checkpoint and its gradient leaf at each step, every one opened with a
//! Merkle proof against the roots the miner committed. For each sampled leaf and each checkpoint segment
//! those openings are exactly the material of a fraud proof (section 14), so each (leaf, segment) pair
//! is checked with `fraud::verify`, the chain's own replay: `Ok(fraud)` is a proof ready to submit,
//! `Err(NoInconsistency)` means the leaf's committed evolution is the replay of its committed gradients.
//!
//! Cost per verifier: `k_l · (T · (gradient leaf + proof) + (S + 1) · (state leaf + proof))` bytes for
//! `k_l` leaves, `T` steps and `S` segments, and `k_l · T` leaf updates: it grows with `T`, not with
//! `T · N`. What it does not check (the whole-gradient clipping factor of unsampled steps, leaves it does
//! not sample) is in section 11b.

use super::fetch::Unavailable;
use codec::Encode;
use pogo_primitives::{
    fraud::{self, Fraud, FraudProof, FraudProofError, OpenedRecord, OpenedStep},
    merkle::MerkleProof,
    round::trace_tree,
    Hash, RoundCommitment, StepRecord, TrainingSpec,
};
use pogo_store::DaClient;
use std::{collections::HashMap, time::Duration};
use tokio::time::Instant;

/// What the sampled replay of one round found.
#[derive(Clone, Debug, Default)]
pub struct SampledReplay {
    /// The leaves replayed, in the order given.
    pub leaves: Vec<u64>,
    /// The first (leaf, segment) whose committed evolution is provably wrong, with its proof, which
    /// `fraud::verify` accepted.
    pub fraud: Option<(FraudProof, Fraud)>,
    /// The first (leaf, segment) whose committed start or end leaf opens against its root but is not a
    /// valid state leaf (non-finite or the wrong length): the miner's fault, not provable (section 18,
    /// item 5).
    pub malformed: Option<(u64, u32)>,
    /// (leaf, segment) pairs checked.
    pub pairs: u64,
    /// Leaf openings fetched (state and gradient leaves).
    pub openings: u64,
    /// Bytes of leaves and proofs fetched (SCALE sizes, not counting HTTP framing).
    pub bytes: u64,
    /// Time spent fetching openings.
    pub fetch_time: Duration,
    /// Time spent in `fraud::verify` (proof checks and the leaf replay).
    pub replay_time: Duration,
}

impl SampledReplay {
    /// Whether every sampled leaf's evolution checked out.
    pub fn consistent(&self) -> bool {
        self.fraud.is_none() && self.malformed.is_none()
    }
}

/// Why the sampled replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum SampledError {
    /// The miner's server did not give an opening (the miner's `DataUnavailable`).
    #[error(transparent)]
    Unavailable(#[from] Unavailable),
    /// The records do not give the commitment's trace (refused earlier by the manifest check: a bug of
    /// the caller).
    #[error("records: {0}")]
    Records(String),
    /// `fraud::verify` refused material built from verified openings (a bug of this worker).
    #[error("fraud::verify on leaf {leaf}, segment {segment}: {error}")]
    Internal {
        /// Leaf.
        leaf: u64,
        /// Segment.
        segment: u32,
        /// The refusal.
        error: FraudProofError,
    },
}

/// Replays `leaves` across every segment of the round with `commitment` and `records` (verified against
/// the commitment by the manifest check), fetching each opening from `client`. Stops at the first
/// inconsistency. Fetching may take `fetch_budget` in all (`Unavailable::Deadline` past it); the replay's
/// own time does not count against it.
pub async fn replay_sampled_leaves(
    client: &DaClient,
    spec: &TrainingSpec,
    commitment: &RoundCommitment,
    records: &[StepRecord],
    leaves: &[u64],
    fetch_budget: Duration,
) -> Result<SampledReplay, SampledError> {
    let trace = trace_tree(spec, records, &commitment.final_root).map_err(|e| SampledError::Records(format!("{e:?}")))?;
    if trace.root() != commitment.trace_root {
        return Err(SampledError::Records("the records do not give the trace root".into()));
    }
    let open = |step: u32| -> Result<OpenedRecord, SampledError> {
        let record = records.get(usize::try_from(step).unwrap_or(usize::MAX)).cloned();
        let record = record.ok_or_else(|| SampledError::Records(format!("no record of step {step}")))?;
        let proof = trace.proof(u64::from(step)).map_err(|e| SampledError::Records(format!("{e:?}")))?;
        Ok(OpenedRecord { record, proof })
    };
    let mut out = SampledReplay {
        leaves: leaves.to_vec(),
        fraud: None,
        malformed: None,
        pairs: 0,
        openings: 0,
        bytes: 0,
        fetch_time: Duration::ZERO,
        replay_time: Duration::ZERO,
    };
    // A segment's end leaves are the next segment's start leaves: fetched once.
    let mut carried: HashMap<u64, (Vec<u8>, MerkleProof)> = HashMap::new();
    for segment in 0..spec.segment_count() {
        let (first, end) = spec.segment_steps(segment).ok_or_else(|| SampledError::Records(format!("segment {segment}")))?;
        let start_anchor = first.checked_sub(1).map(open).transpose()?;
        let start_root = match &start_anchor {
            None => commitment.base_root,
            Some(anchor) => anchor.record.checkpoint_root.ok_or_else(|| SampledError::Records("anchor without checkpoint".into()))?,
        };
        let end_root = records
            .get(usize::try_from(end.saturating_sub(1)).unwrap_or(usize::MAX))
            .and_then(|r| r.checkpoint_root)
            .ok_or_else(|| SampledError::Records(format!("segment {segment} ends without a checkpoint")))?;
        let opened: Vec<OpenedRecord> = (first..end).map(open).collect::<Result<_, _>>()?;
        let mut next_carried = HashMap::new();
        for &leaf in leaves {
            let fetch_started = Instant::now();
            let (start_leaf, start_proof) = match carried.remove(&leaf) {
                Some(opening) => opening,
                None => fetch_state_leaf(client, spec, &start_root, leaf, &mut out).await?,
            };
            let mut steps = Vec::with_capacity(opened.len());
            for record in &opened {
                let (gradient_leaf, gradient_proof) = client
                    .fetch_gradient_leaf(spec, &record.record.gradient_root, leaf)
                    .await
                    .map_err(|e| Unavailable::Gradient { step: record.record.step, reason: format!("leaf {leaf}: {e}") })?;
                count(&mut out, &gradient_leaf, &gradient_proof);
                steps.push(OpenedStep { record: record.clone(), gradient_leaf, gradient_proof });
            }
            let (end_leaf, end_proof) = fetch_state_leaf(client, spec, &end_root, leaf, &mut out).await?;
            out.fetch_time += fetch_started.elapsed();
            if out.fetch_time > fetch_budget {
                return Err(Unavailable::Deadline.into());
            }
            next_carried.insert(leaf, (end_leaf.clone(), end_proof.clone()));
            let proof = FraudProof {
                leaf_index: leaf,
                segment,
                start_anchor: start_anchor.clone(),
                start_leaf,
                start_proof,
                steps,
                end_leaf,
                end_proof,
            };
            let replay_started = Instant::now();
            let checked = fraud::verify(spec, commitment, &proof);
            out.replay_time += replay_started.elapsed();
            out.pairs = out.pairs.saturating_add(1);
            match checked {
                Ok(fraud) => {
                    out.fraud = Some((proof, fraud));
                    return Ok(out);
                },
                Err(FraudProofError::NoInconsistency) => {},
                Err(FraudProofError::BadStartLeaf | FraudProofError::BadEndLeaf) => {
                    out.malformed = Some((leaf, segment));
                    return Ok(out);
                },
                Err(error) => return Err(SampledError::Internal { leaf, segment, error }),
            }
        }
        carried = next_carried;
    }
    Ok(out)
}

async fn fetch_state_leaf(
    client: &DaClient,
    spec: &TrainingSpec,
    root: &Hash,
    leaf: u64,
    out: &mut SampledReplay,
) -> Result<(Vec<u8>, MerkleProof), Unavailable> {
    let (bytes, proof) = client.fetch_state_leaf(spec, root, leaf).await.map_err(|e| Unavailable::Leaf { index: leaf, reason: e.to_string() })?;
    count(out, &bytes, &proof);
    Ok((bytes, proof))
}

fn count(out: &mut SampledReplay, leaf: &[u8], proof: &MerkleProof) {
    out.openings = out.openings.saturating_add(1);
    let size = leaf.len().saturating_add(proof.encoded_size());
    out.bytes = out.bytes.saturating_add(u64::try_from(size).unwrap_or(u64::MAX));
}
