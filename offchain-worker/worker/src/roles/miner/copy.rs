//! The `copy-commitment` adversary: a free rider that trains nothing. It waits for another miner's
//! pending round on its own base root (on its own task, or on another task with the same terms, whose
//! initial root is the same), downloads that round from the other miner's locator with the verifier's
//! checked fetch, replays it, stores it under its own name (a manifest naming this miner and its round
//! seed, as verifiers require) and submits the copied commitment with its own locator.
//!
//! What it loses: verifiers recompute its sampled steps with *its* round seed, whose batches are not the
//! ones the copied gradients were computed on, so every sampled step fails (`BadGradient`) and the bond
//! is slashed. Serving the original's manifest instead (the other miner's locator) only changes the
//! verdict to `DataUnavailable`: that manifest names the other miner. On the original's own task the
//! original is submitted first, so it is decided first; once it is accepted the copy is stale and
//! removed with its bond released: copying never earns a reward, and costs the fees either way.

use super::{journal::BuiltRound, sync::TaskState, MinerError, MinerEvent};
use crate::{
    local_task::LocalTask,
    roles::verifier::{
        check::{check_round, CheckPlan},
        fetch,
    },
};
use pogo_chain::{ChainBackend, ChainSubmission};
use pogo_primitives::{tolerance::Tolerance, views::Phase, Hash};
use pogo_store::{ClientLimits, DaClient, RoundIdentity, RoundManifest, RoundStore};
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

/// What the copier needs to know about itself.
pub struct Copier<'a> {
    /// Its account.
    pub me: [u8; 32],
    /// Its task.
    pub task: u32,
    /// The task whose pending rounds it copies.
    pub from_task: u32,
    /// Its round seed on its task's current root.
    pub round_seed: Hash,
    /// Download limits.
    pub limits: &'a ClientLimits,
}

/// Copies a pending round of `copier.from_task` built on `state.state_root`, if there is one: stored
/// under the copier's name, ready to submit. `None`: nothing to copy yet.
pub async fn copy_round<B: ChainBackend>(
    chain: &B,
    store: &Arc<RoundStore>,
    local: &Arc<LocalTask>,
    state: &TaskState,
    copier: Copier<'_>,
    events: &UnboundedSender<MinerEvent>,
) -> Result<Option<BuiltRound>, MinerError> {
    let spec = *local.engine.spec();
    let pending = chain.pending_submissions(copier.from_task).await?;
    let victim: Option<&ChainSubmission> = pending.iter().find(|s| {
        s.miner.0 != copier.me
            && s.commitment.base_root == state.state_root
            && s.commitment.steps == spec.steps_per_round
            && !matches!(s.phase, Phase::Voided)
    });
    let Some(victim) = victim else { return Ok(None) };
    let say = |text: String| {
        let _ = events.send(MinerEvent::Info(text));
    };
    let locator = String::from_utf8_lossy(&victim.locator).into_owned();
    let Ok(client) = DaClient::new(&locator, copier.limits.clone()) else { return Ok(None) };
    let data = match fetch::round_data(&client, store, local.engine.model().as_model(), &spec, victim).await {
        Ok(d) => d,
        Err(e) => {
            say(format!("copy-commitment: submission {} not copied: {e}", victim.id));
            return Ok(None);
        },
    };
    let commitment = victim.commitment.clone();
    // The replay gives every checkpoint to serve; no gradient is recomputed, nothing is trained.
    let plan = CheckPlan { steps: Vec::new(), eval_examples: Vec::new(), tolerance: Tolerance::DEFAULT, min_improvement_ppm: 0 };
    let local2 = local.clone();
    let report = tokio::task::spawn_blocking(move || check_round(&local2.engine, data, &plan, |_| {}))
        .await
        .map_err(|e| MinerError::Join(e.to_string()))?
        .map_err(|e| MinerError::Join(format!("replaying the copied round: {e}")))?;
    let identity = RoundIdentity {
        task: copier.task,
        round: state.round,
        miner: copier.me,
        first_global_step: fetch::first_global_step(&spec, state.round),
    };
    let manifest = RoundManifest::new(identity, &spec, &commitment, &report.replay.records());
    let store2 = store.clone();
    let replay = report.replay;
    tokio::task::spawn_blocking(move || store2.put_builder_round(&replay, &manifest))
        .await
        .map_err(|e| MinerError::Join(e.to_string()))??;
    say(format!("copy-commitment: copied submission {} of task {} (miner {})", victim.id, copier.from_task, victim.miner));
    Ok(Some(BuiltRound {
        round: state.round,
        base_root: commitment.base_root,
        round_seed: copier.round_seed,
        trace_root: commitment.trace_root,
        final_root: commitment.final_root,
    }))
}
