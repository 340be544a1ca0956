//! The watcher (`pogo-worker watch`, or `verify --watch`): replays every accepted round during its fraud
//! window — the whole committed update chain, no gradients recomputed, no stake needed — and reports a
//! fraud proof when the committed evolution is not the replay of the committed gradients. This is what
//! overturns a round a colluding verifier set accepted (protocol section 16).

use super::{check, fetch, proof, VerifierError, VerifierEvent};
use crate::local_task::LocalTask;
use pogo_chain::{ChainClient, ChainSubmission, ChainTask, Signer};
use pogo_store::{ClientLimits, DaClient, RoundStore};
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

/// Replays accepted `submission` and reports fraud if the replay proves it. Data the miner does not
/// serve is reported and skipped (a watcher has no verdict to give).
#[allow(clippy::too_many_arguments)]
pub async fn watch_round(
    chain: &ChainClient,
    signer: &Signer,
    store: &Arc<RoundStore>,
    local: &Arc<LocalTask>,
    task: &ChainTask,
    submission: &ChainSubmission,
    limits: &ClientLimits,
    events: &UnboundedSender<VerifierEvent>,
) -> Result<(), VerifierError> {
    let say = |text: String| {
        let _ = events.send(VerifierEvent::Info(text));
    };
    let spec = task.spec;
    let locator = String::from_utf8_lossy(&submission.locator).into_owned();
    let Ok(client) = DaClient::new(&locator, limits.clone()) else {
        say(format!("watch {}: locator {locator:?} is not a DA URL", submission.id));
        return Ok(());
    };
    let data = match fetch::round_data(&client, store, local.engine.model().as_model(), &spec, submission).await {
        Ok(d) => d,
        Err(e) => {
            say(format!("watch {}: {e}", submission.id));
            return Ok(());
        },
    };
    let plan = check::CheckPlan {
        steps: Vec::new(),
        eval_examples: Vec::new(),
        tolerance: task.params.tolerance,
        min_improvement_ppm: task.params.min_improvement_ppm,
    };
    let local2 = local.clone();
    let report = tokio::task::spawn_blocking(move || check::check_round(&local2.engine, data, &plan, |_| {}))
        .await
        .map_err(|e| VerifierError::Join(e.to_string()))?;
    let report = match report {
        Ok(r) => r,
        Err(e) => {
            say(format!("watch {}: replay failed here: {e}", submission.id));
            return Ok(());
        },
    };
    let Some(fault) = report.fault else {
        say(format!("watch {}: accepted round replays to its final root", submission.id));
        return Ok(());
    };
    say(format!("watch {}: {fault}", submission.id));
    match proof::prove_and_report(chain, signer, &spec, submission, &report.replay, fault, limits).await {
        Ok(fraud) => {
            let _ = events.send(VerifierEvent::FraudReported { submission: submission.id, fraud: format!("{fraud:?}") });
        },
        Err(e) => say(format!("watch {}: {e}", submission.id)),
    }
    Ok(())
}
