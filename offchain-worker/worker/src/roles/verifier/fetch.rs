//! Steps 1, 2 and 6 of protocol section 11: a round's data from the miner's locator, every byte checked
//! against what the chain committed before it is used. Any failure here — the server unreachable, slow
//! past the deadline, or sending other bytes than the roots commit — is the miner's `DataUnavailable`
//! (the protocol cannot tell a withholding miner from a broken one), never a hang: the caller bounds the
//! whole fetch by the commit window.

use crate::{local_task::initial_state, roles::miner::prepare::short};
use pogo_chain::ChainSubmission;
use pogo_engine::{model::Model, ModelState};
use pogo_primitives::{seed, Hash, TrainingSpec};
use pogo_store::{DaClient, RoundStore, VerifiedRound};
use std::sync::Arc;

use super::check::RoundData;

/// Why the data could not be had (each is `Negative(DataUnavailable)`).
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    /// The locator is not a usable DA URL.
    #[error("locator {0:?} is not a DA URL")]
    Locator(String),
    /// The manifest could not be fetched or does not verify.
    #[error("round manifest: {0}")]
    Manifest(String),
    /// The manifest verifies but is not this submission's round.
    #[error("the served manifest is not the submission's round: {0}")]
    NotThisRound(&'static str),
    /// The base state could not be had.
    #[error("base state {root}: {reason}")]
    Base {
        /// Its root, abbreviated.
        root: String,
        /// What went wrong.
        reason: String,
    },
    /// A step's gradient could not be fetched or does not hash to its root.
    #[error("gradient of step {step}: {reason}")]
    Gradient {
        /// Step.
        step: u32,
        /// What went wrong.
        reason: String,
    },
    /// A sampled final-state leaf could not be opened.
    #[error("final-state leaf {index}: {reason}")]
    Leaf {
        /// Leaf index.
        index: u64,
        /// What went wrong.
        reason: String,
    },
    /// The whole fetch took longer than the commit window allows.
    #[error("no complete data before the deadline")]
    Deadline,
}

/// Fetches the manifest and checks that it is `submission`'s round of a task with `spec`.
pub async fn manifest(client: &DaClient, spec: &TrainingSpec, submission: &ChainSubmission) -> Result<VerifiedRound, Unavailable> {
    let manifest = client
        .fetch_round(&submission.commitment.trace_root)
        .await
        .map_err(|e| Unavailable::Manifest(e.to_string()))?;
    let verified = manifest.verify().map_err(|e| Unavailable::Manifest(e.to_string()))?;
    if verified.commitment != submission.commitment {
        return Err(Unavailable::NotThisRound("commitment"));
    }
    if verified.spec != *spec {
        return Err(Unavailable::NotThisRound("spec"));
    }
    if verified.miner != submission.miner.0 {
        return Err(Unavailable::NotThisRound("miner"));
    }
    let expected = seed::round_seed(submission.task, submission.round, &submission.commitment.base_root, &submission.miner.0);
    if verified.round_seed != expected {
        return Err(Unavailable::NotThisRound("round seed"));
    }
    Ok(verified)
}

/// The base state: from `store`, else the task's derived initial state, else the miner's server.
pub async fn base_state(
    client: &DaClient,
    store: &Arc<RoundStore>,
    spec: &TrainingSpec,
    model: &dyn Model,
    root: Hash,
) -> Result<ModelState, Unavailable> {
    let base_err = |reason: String| Unavailable::Base { root: short(&root), reason };
    if store.has_state(&root) {
        if let Ok(state) = store.load_state(spec, &root) {
            return Ok(state);
        }
    }
    let initial = initial_state(spec, model);
    if initial.root(spec).map_err(|e| base_err(e.to_string()))? == root {
        return Ok(initial);
    }
    let state = client.fetch_state(spec, &root).await.map_err(|e| base_err(e.to_string()))?;
    let _ = store.put_state(spec, &state);
    Ok(state)
}

/// Everything the checks read: manifest, base state and every step's gradient.
pub async fn round_data(
    client: &DaClient,
    store: &Arc<RoundStore>,
    model: &dyn Model,
    spec: &TrainingSpec,
    submission: &ChainSubmission,
) -> Result<RoundData, Unavailable> {
    let verified = manifest(client, spec, submission).await?;
    let base = base_state(client, store, spec, model, submission.commitment.base_root).await?;
    let mut gradients = Vec::with_capacity(verified.records.len());
    for record in &verified.records {
        let leaves = client
            .fetch_gradient(spec, &record.gradient_root)
            .await
            .map_err(|e| Unavailable::Gradient { step: record.step, reason: e.to_string() })?;
        gradients.push(leaves);
    }
    Ok(RoundData {
        spec: *spec,
        commitment: submission.commitment.clone(),
        records: verified.records,
        round_seed: verified.round_seed,
        first_global_step: first_global_step(spec, submission.round),
        base,
        gradients,
    })
}

/// Opens the sampled final-state leaves with their proofs against the final root (step 6).
pub async fn open_final_leaves(client: &DaClient, spec: &TrainingSpec, final_root: &Hash, leaves: &[u64]) -> Result<(), Unavailable> {
    for &index in leaves {
        client
            .fetch_state_leaf(spec, final_root, index)
            .await
            .map_err(|e| Unavailable::Leaf { index, reason: e.to_string() })?;
    }
    Ok(())
}

/// Global step number (1-based) of a round's first step: every accepted round has exactly `T` steps,
/// so round `r` starts at `r · T + 1`.
pub fn first_global_step(spec: &TrainingSpec, round: u32) -> u64 {
    u64::from(round).saturating_mul(u64::from(spec.steps_per_round)).saturating_add(1)
}

/// The miner's state with `root` (a checkpoint it committed), for a fraud proof's end leaf.
pub async fn committed_state(client: &DaClient, spec: &TrainingSpec, root: &Hash) -> Result<ModelState, Unavailable> {
    client.fetch_state(spec, root).await.map_err(|e| Unavailable::Base { root: short(root), reason: e.to_string() })
}
