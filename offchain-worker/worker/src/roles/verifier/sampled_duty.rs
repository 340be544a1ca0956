//! A duty on a task whose rounds are checked by sampled replay (`TaskParams::verification =
//! SampledReplay`, docs/protocol.md section 11b): the manifest and the base as for full replay, then
//! [`check_sampled`], which fetches leaf openings, the states and gradients of the sampled steps'
//! segments and the final state as it goes. A fraud proof found by the leaf replay is sent as it is. The
//! round is not mirrored: a sampled verifier never holds the whole round.

use super::{
    fetch,
    plan_of,
    sampled::SampledError,
    sampled_check::{check_sampled, SampledCheckError, SampledReport, SampledRound},
    Checked, Verifier, VerifierError, VerifierEvent,
};
use crate::local_task::LocalTask;
use pogo_chain::{ChainSubmission, ChainTask};
use pogo_primitives::{verdict::NegativeReason, views::VerifierDuty, Verdict};
use pogo_store::DaClient;
use std::sync::Arc;

impl Verifier {
    /// The verdict on `submission` by sampled replay. The fetch deadline bounds the fetching alone
    /// (the manifest and the base first, then the openings, states and gradients the check fetches as it
    /// goes), never the verifier's own computation.
    pub(super) async fn decide_sampled(
        &mut self,
        task: &ChainTask,
        local: &Arc<LocalTask>,
        submission: &ChainSubmission,
        duty: &VerifierDuty,
        client: &DaClient,
    ) -> Result<Option<(Verdict, String, Option<Checked>)>, VerifierError> {
        let spec = task.spec;
        let unavailable = |why: String| Some((Verdict::Negative(NegativeReason::DataUnavailable), why, None));
        let model = local.engine.model().as_model();
        let plan = plan_of(task, duty);
        let started = std::time::Instant::now();
        let store = self.store.clone();
        let budget = self.config.fetch_timeout;
        let checked = async {
            let fetched = tokio::time::timeout(budget, async {
                let verified = fetch::manifest(client, &spec, submission).await?;
                let base = fetch::base_state(client, &store, &spec, model, submission.commitment.base_root).await?;
                Ok::<_, fetch::Unavailable>((verified, base))
            })
            .await
            .unwrap_or(Err(fetch::Unavailable::Deadline));
            let (verified, base) = fetched?;
            let round = SampledRound {
                spec,
                commitment: &submission.commitment,
                records: &verified.records,
                round_seed: verified.round_seed,
                first_global_step: fetch::first_global_step(&spec, submission.round),
                base: &base,
            };
            let rest = budget.saturating_sub(started.elapsed());
            check_sampled(&local.engine, client, round, &plan, &duty.samples.leaves, rest).await
        }
        .await;
        self.metrics.check_seconds.observe(started.elapsed().as_secs_f64());
        match checked {
            Ok(report) => {
                self.metrics.da_bytes_fetched.inc_by(report.bytes);
                let note = describe_sampled(&report);
                Ok(Some((report.verdict, note, Some(Checked::Sampled(report)))))
            },
            Err(SampledCheckError::Unavailable(e) | SampledCheckError::Sampled(SampledError::Unavailable(e))) => {
                Ok(unavailable(e.to_string()))
            },
            // The verifier's own failure: no verdict on the miner (tried again while the window lasts).
            Err(e) => {
                self.say(VerifierEvent::Info(format!("submission {}: sampled check failed on this machine: {e}", submission.id)));
                Ok(None)
            },
        }
    }

    /// After a sampled check: the leaf replay's fraud proof, if it found one, sent with `report_fraud`.
    pub(super) async fn after_sampled_check(&mut self, submission: &ChainSubmission, report: SampledReport) -> Result<(), VerifierError> {
        let Some((proof, fraud)) = report.leaves.fraud else { return Ok(()) };
        let sent = self.chain.report_fraud(&self.signer, submission.id, proof).await;
        self.fraud_sent(submission.id, sent.map(|_| fraud).map_err(|e| format!("report_fraud: {e}")))
    }
}

/// The sampled report in one line.
pub fn describe_sampled(report: &SampledReport) -> String {
    let mut parts = vec![format!(
        "sampled replay of {} leaves: {} ({} openings, {:.2} MiB fetched in all)",
        report.leaves.leaves.len(),
        report.inconsistency.as_deref().unwrap_or("consistent"),
        report.leaves.openings,
        report.bytes as f64 / (1024.0 * 1024.0)
    )];
    for s in &report.steps {
        parts.push(format!(
            "step {}: {} ({} bad codes, {} bad scales)",
            s.step,
            if s.comparison.passes() { "ok" } else { "FAILS" },
            s.comparison.bad_codes,
            s.comparison.bad_scales
        ));
    }
    if let Some(e) = &report.eval {
        parts.push(format!("eval on {}: {:.4} -> {:.4} {}", e.examples, e.before, e.after, if e.passes { "ok" } else { "FAILS" }));
    }
    parts.join("; ")
}
