//! Phase `Submit`: the journaled round's commitment to the chain with `submit_round`, and the locator
//! where this miner serves its data. Checked first against the task's current root and round (a round on
//! a root that moved is stale, and dropped, not sent); the submission's latency (signing to inclusion) is
//! measured.

use crate::metrics::Metrics;
use pogo_chain::{ChainBackend, ChainError, Signer};
use pogo_store::RoundManifest;

/// Why a round was not submitted.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// The round no longer builds on the task's root (another round was accepted first).
    #[error("stale: {0}")]
    Stale(String),
    /// The miner's free bond cannot cover another round while its earlier rounds are at risk (until
    /// their fraud windows close): the round is kept and submitted once they finalize.
    #[error("free bond: {0}")]
    BondBusy(String),
    /// The chain refused or could not be reached.
    #[error(transparent)]
    Chain(#[from] ChainError),
    /// The stored manifest does not decode.
    #[error(transparent)]
    Manifest(#[from] pogo_store::ManifestError),
}

/// Submits `manifest`'s commitment for `task`; returns the submission id and its block.
pub async fn submit_round<B: ChainBackend>(
    chain: &B,
    signer: &Signer,
    task: u32,
    manifest: &RoundManifest,
    locator: &str,
    metrics: &Metrics,
) -> Result<(u64, u32), SubmitError> {
    let commitment = manifest.commitment()?;
    let view = chain.task(task).await?.ok_or_else(|| SubmitError::Stale(format!("task {task} is gone")))?;
    if view.state_root != commitment.base_root || view.round != manifest.round {
        return Err(SubmitError::Stale(format!(
            "the task is at round {} on root {}, the round was built for round {} on {}",
            view.round,
            hex::encode(&view.state_root[..4]),
            manifest.round,
            hex::encode(&commitment.base_root[..4])
        )));
    }
    let started = std::time::Instant::now();
    let result = chain.submit_round(signer, task, commitment, locator.as_bytes().to_vec()).await;
    match result {
        Ok(submission) => {
            metrics.submission_latency.observe(started.elapsed().as_secs_f64());
            Ok((submission, chain.best_number().await?))
        },
        // The root moved between the check and the inclusion: as stale as before it.
        Err(e) if e.is_module_error("Pogo", "WrongBaseRoot") => {
            Err(SubmitError::Stale(e.to_string()))
        },
        Err(e) if e.is_module_error("Pogo", "InsufficientFreeBond") => Err(SubmitError::BondBusy(e.to_string())),
        Err(e) => Err(e.into()),
    }
}
