//! The verifier role (`pogo-worker verify`): a state machine per assigned submission over the pallet's
//! phases.
//!
//! ```text
//!  assigned (PogoApi::submission lists us) ─▶ Committing: fetch (bounded) ─▶ check ─▶ journal ─▶ commit
//!                                                  │ provable fault ─▶ fraud proof ─▶ report_fraud
//!  Revealing: reveal the journaled verdict and salt ──▶ settled (removed from the chain) ─▶ forget
//! ```
//!
//! The verdict and salt are in the journal before `commit_verdict` is sent, so a verifier restarted
//! between commit and reveal reveals exactly what it committed. A round that checks out is mirrored in
//! the verifier's own store (manifest, every checkpoint, every gradient), so `serve` can serve the
//! accepted model. The watcher ([`watch`]) replays accepted rounds inside their fraud window.

pub mod check;
pub mod fetch;
pub mod journal;
pub mod proof;
pub mod sampled;
pub mod sampled_check;
mod sampled_duty;
pub mod watch;

use crate::{
    adversary::VerifierAdversary,
    local_task::{self, LocalTask, TaskTerms},
    metrics::Metrics,
};
use check::{CheckPlan, Report};
use journal::{DutyEntry, VerifierJournal};
use pogo_chain::{AccountId32, ChainClient, ChainSubmission, ChainTask, Signer};
use pogo_primitives::{
    verdict::NegativeReason,
    views::{Phase, VerificationMode, VerifierDuty},
    Verdict,
};
use pogo_store::{ClientLimits, DaClient, RoundManifest, RoundStore};
use std::{collections::HashMap, path::PathBuf, sync::Arc, time::Duration};
use tokio::sync::mpsc::UnboundedSender;

/// What the verifier reports as it goes.
#[derive(Clone, Debug, PartialEq)]
pub enum VerifierEvent {
    /// Free-form status.
    Info(String),
    /// A verdict was reached (and journaled).
    Checked {
        /// Submission.
        submission: u64,
        /// The verdict.
        verdict: Verdict,
        /// What was found.
        note: String,
    },
    /// The commitment was included.
    Committed {
        /// Submission.
        submission: u64,
    },
    /// The reveal was included.
    Revealed {
        /// Submission.
        submission: u64,
        /// The verdict.
        verdict: Verdict,
    },
    /// A fraud proof was accepted by the chain.
    FraudReported {
        /// Submission.
        submission: u64,
        /// What it proved.
        fraud: String,
    },
}

/// Why the verifier stopped.
#[derive(Debug, thiserror::Error)]
pub enum VerifierError {
    /// The chain client failed (after its own retries).
    #[error("chain: {0}")]
    Chain(#[from] pogo_chain::ChainError),
    /// The round store failed.
    #[error("round store: {0}")]
    Store(#[from] pogo_store::StoreError),
    /// No randomness for a salt.
    #[error("salt: {0}")]
    Salt(String),
    /// A blocking task panicked or was cancelled.
    #[error("worker thread: {0}")]
    Join(String),
}

/// How the verifier runs.
#[derive(Clone, Debug)]
pub struct VerifierConfig {
    /// Only this task (`None`: every task).
    pub task: Option<u32>,
    /// Data directory (default: the setup script's).
    pub data_dir: Option<PathBuf>,
    /// How often the chain is polled.
    pub poll: Duration,
    /// Limits of each download.
    pub download: ClientLimits,
    /// Bound on fetching one round's data (the rest of the commit window must leave room to commit).
    pub fetch_timeout: Duration,
    /// Also replay accepted rounds during their fraud window and report fraud.
    pub watch: bool,
    /// Stop after this many duties are settled (`None`: run until stopped).
    pub max_duties: Option<u64>,
    /// Cheat (tests and demonstrations only).
    pub adversary: Option<VerifierAdversary>,
}

/// The verifier.
pub struct Verifier {
    chain: ChainClient,
    signer: Signer,
    store: Arc<RoundStore>,
    config: VerifierConfig,
    metrics: Metrics,
    events: UnboundedSender<VerifierEvent>,
    journal: VerifierJournal,
    tasks: HashMap<u32, Arc<LocalTask>>,
    settled: u64,
}

impl Verifier {
    /// A verifier with its journal from `store` (a restart continues where it stopped).
    pub fn new(
        chain: ChainClient,
        signer: Signer,
        store: Arc<RoundStore>,
        config: VerifierConfig,
        metrics: Metrics,
        events: UnboundedSender<VerifierEvent>,
    ) -> Result<Self, VerifierError> {
        let journal = store.journal::<VerifierJournal>(&VerifierJournal::name(&signer.account_id().0))?.unwrap_or_default();
        Ok(Self { chain, signer, store, config, metrics, events, journal, tasks: HashMap::new(), settled: 0 })
    }

    fn me(&self) -> AccountId32 {
        self.signer.account_id()
    }

    fn save(&self) -> Result<(), VerifierError> {
        Ok(self.store.put_journal(&VerifierJournal::name(&self.me().0), &self.journal)?)
    }

    fn say(&self, event: VerifierEvent) {
        let _ = self.events.send(event);
    }

    /// The engine of `task` (built once).
    async fn local(&mut self, task: &ChainTask) -> Result<Option<Arc<LocalTask>>, VerifierError> {
        if let Some(local) = self.tasks.get(&task.id) {
            return Ok(Some(local.clone()));
        }
        let terms = TaskTerms {
            spec: task.spec,
            model: self.chain.task_model(task.id).await?,
            data_locator: task.locator.clone(),
            train_root: task.train_root,
            eval_root: task.eval_root,
        };
        let dir = self.config.data_dir.clone();
        let resolved = tokio::task::spawn_blocking(move || local_task::resolve(&terms, dir.as_deref(), pogo_engine::default_device()))
            .await
            .map_err(|e| VerifierError::Join(e.to_string()))?;
        match resolved {
            Ok(local) => {
                let local = Arc::new(local);
                self.tasks.insert(task.id, local.clone());
                Ok(Some(local))
            },
            Err(reason) => {
                self.say(VerifierEvent::Info(format!("task {}: not verifiable here: {reason}", task.id)));
                Ok(None)
            },
        }
    }

    /// Runs until `max_duties` duties are settled, or forever.
    pub async fn run(mut self) -> Result<VerifierJournal, VerifierError> {
        let mut unsupported: Vec<u32> = Vec::new();
        loop {
            let ids = match self.config.task {
                Some(t) => vec![t],
                None => self.chain.task_ids().await?,
            };
            // Every duty of every task, most urgent first (`urgency`).
            let mut duties: Vec<(Arc<ChainTask>, Arc<LocalTask>, ChainSubmission)> = Vec::new();
            let mut watched: Vec<(Arc<ChainTask>, Arc<LocalTask>, Vec<ChainSubmission>)> = Vec::new();
            for id in ids {
                if unsupported.contains(&id) {
                    continue;
                }
                let Some(task) = self.chain.task(id).await? else { continue };
                let pending = self.chain.pending_submissions(id).await?;
                let me = self.me();
                let (mine, others): (Vec<ChainSubmission>, Vec<ChainSubmission>) =
                    pending.into_iter().partition(|s| s.assigned.iter().any(|(who, _, _)| *who == me));
                let accepted: Vec<ChainSubmission> = if self.config.watch {
                    mine.iter().chain(&others).filter(|s| matches!(s.phase, Phase::Accepted(_))).cloned().collect()
                } else {
                    Vec::new()
                };
                if mine.is_empty() && accepted.is_empty() {
                    continue;
                }
                let Some(local) = self.local(&task).await? else {
                    unsupported.push(id);
                    continue;
                };
                let task = Arc::new(task);
                duties.extend(mine.into_iter().map(|s| (task.clone(), local.clone(), s)));
                if !accepted.is_empty() {
                    watched.push((task, local, accepted));
                }
            }
            duties.sort_by_key(|(_, _, s)| urgency(&s.phase));
            for (task, local, submission) in &duties {
                self.duty(task, local, submission).await?;
            }
            for (task, local, accepted) in watched {
                {
                    for submission in &accepted {
                        if !self.journal.watched.contains(&submission.id) {
                            watch::watch_round(&self.chain, &self.signer, &self.store, &local, &task, submission, &self.config.download, &self.events)
                                .await?;
                            self.journal.watched.push(submission.id);
                            self.save()?;
                        }
                    }
                }
            }
            self.forget_settled().await?;
            if self.config.max_duties.is_some_and(|m| self.settled >= m) {
                return Ok(self.journal);
            }
            tokio::time::sleep(self.config.poll).await;
        }
    }

    /// Drops the entries of submissions the chain has settled.
    async fn forget_settled(&mut self) -> Result<(), VerifierError> {
        let ids: Vec<u64> = self.journal.duties.iter().map(|d| d.submission).collect();
        let mut changed = false;
        for id in ids {
            if self.chain.submission(id).await?.is_none() {
                self.journal.duties.retain(|d| d.submission != id);
                self.settled = self.settled.saturating_add(1);
                changed = true;
            }
        }
        let watched = std::mem::take(&mut self.journal.watched);
        for id in watched {
            if self.chain.submission(id).await?.is_some() {
                self.journal.watched.push(id);
            } else {
                changed = true;
            }
        }
        if changed {
            self.save()?;
        }
        Ok(())
    }

    /// One look at one assigned submission.
    async fn duty(&mut self, task: &ChainTask, local: &Arc<LocalTask>, submission: &ChainSubmission) -> Result<(), VerifierError> {
        let Some(duty) = self.chain.verifier_duty(submission.id, &self.me()).await? else { return Ok(()) };
        let silent = self.config.adversary == Some(VerifierAdversary::Silent);
        match submission.phase {
            Phase::Committing(_) if !duty.committed && !silent => {
                if self.journal.entry(submission.id).is_none() {
                    let Some((verdict, note, report)) = self.decide(task, local, submission, &duty).await? else {
                        return Ok(());
                    };
                    let entry = DutyEntry::new(submission.id, task.id, &verdict, note.clone())
                        .map_err(|e| VerifierError::Salt(e.to_string()))?;
                    // On disk before the commitment leaves this process.
                    self.journal.duties.push(entry);
                    self.save()?;
                    self.say(VerifierEvent::Checked { submission: submission.id, verdict, note });
                    if let Some(report) = report {
                        self.after_check(task, local, submission, report).await?;
                    }
                }
                let me = self.me();
                let Some(entry) = self.journal.entry(submission.id) else { return Ok(()) };
                if entry.fraud_reported {
                    // The proof removed the submission: there is nothing left to commit to.
                    return Ok(());
                }
                let Some(commitment) = entry.commitment(&me.0) else { return Ok(()) };
                match self.chain.commit_verdict(&self.signer, submission.id, commitment).await {
                    Ok(_) => {
                        if let Some(e) = self.journal.entry_mut(submission.id) {
                            e.committed = true;
                        }
                        self.save()?;
                        self.metrics.verdicts_committed.inc();
                        self.say(VerifierEvent::Committed { submission: submission.id });
                    },
                    Err(e) => self.say(VerifierEvent::Info(format!("commit on {}: {e}", submission.id))),
                }
            },
            Phase::Revealing(_) if duty.committed && !duty.revealed => {
                let Some(entry) = self.journal.entry(submission.id).cloned() else {
                    self.say(VerifierEvent::Info(format!("submission {}: committed but no journal entry; cannot reveal", submission.id)));
                    return Ok(());
                };
                let Some(verdict) = entry.verdict() else { return Ok(()) };
                if self.config.adversary == Some(VerifierAdversary::Selective) && verdict != Verdict::Positive {
                    return Ok(());
                }
                match self.chain.reveal_verdict(&self.signer, submission.id, verdict, entry.salt).await {
                    Ok(_) => {
                        if let Some(e) = self.journal.entry_mut(submission.id) {
                            e.revealed = true;
                        }
                        self.save()?;
                        self.metrics.verdicts_revealed.inc();
                        self.say(VerifierEvent::Revealed { submission: submission.id, verdict });
                    },
                    Err(e) => self.say(VerifierEvent::Info(format!("reveal on {}: {e}", submission.id))),
                }
            },
            _ => {},
        }
        Ok(())
    }

    /// The verdict on `submission` (and the report, when the checks ran).
    async fn decide(
        &mut self,
        task: &ChainTask,
        local: &Arc<LocalTask>,
        submission: &ChainSubmission,
        duty: &VerifierDuty,
    ) -> Result<Option<(Verdict, String, Option<Checked>)>, VerifierError> {
        match self.config.adversary {
            Some(VerifierAdversary::Lazy) => return Ok(Some((Verdict::Positive, "lazy: not checked".into(), None))),
            Some(VerifierAdversary::Grief) =>
                return Ok(Some((Verdict::Negative(NegativeReason::InconsistentUpdate), "grief: not checked".into(), None))),
            _ => {},
        }
        let spec = task.spec;
        let locator = String::from_utf8_lossy(&submission.locator).into_owned();
        let unavailable = |why: String| Some((Verdict::Negative(NegativeReason::DataUnavailable), why, None));
        let client = match DaClient::new(&locator, self.config.download.clone()) {
            Ok(c) => c,
            Err(e) => return Ok(unavailable(format!("locator {locator:?}: {e}"))),
        };
        self.say(VerifierEvent::Info(format!("submission {}: fetching round {} from {locator}", submission.id, submission.round)));
        if task.params.verification == VerificationMode::SampledReplay {
            return self.decide_sampled(task, local, submission, duty, &client).await;
        }
        let model = local.engine.model().as_model();
        let fetched = tokio::time::timeout(self.config.fetch_timeout, async {
            let data = fetch::round_data(&client, &self.store, model, &spec, submission).await?;
            fetch::open_final_leaves(&client, &spec, &submission.commitment.final_root, &duty.samples.leaves).await?;
            Ok::<_, fetch::Unavailable>(data)
        })
        .await
        .unwrap_or(Err(fetch::Unavailable::Deadline));
        let data = match fetched {
            Ok(d) => d,
            Err(e) => return Ok(unavailable(e.to_string())),
        };
        self.metrics.da_bytes_fetched.inc_by(bytes_of(&data));
        let plan = plan_of(task, duty);
        let local = local.clone();
        let started = std::time::Instant::now();
        let checked = tokio::task::spawn_blocking(move || check::check_round(&local.engine, data, &plan, |_| {}))
            .await
            .map_err(|e| VerifierError::Join(e.to_string()))?;
        self.metrics.check_seconds.observe(started.elapsed().as_secs_f64());
        match checked {
            Ok(report) => {
                let note = describe(&report);
                Ok(Some((report.verdict, note, Some(Checked::Full(report)))))
            },
            // The verifier's own failure: no verdict on the miner; commit nothing rather than guess (tried
            // again next block while the commit window lasts).
            Err(e) => {
                self.say(VerifierEvent::Info(format!("submission {}: check failed on this machine: {e}", submission.id)));
                Ok(None)
            },
        }
    }

    /// Records what became of a fraud proof sent on `submission`: journaled and counted when the chain
    /// took it (nothing is committed on that submission afterwards), logged otherwise.
    fn fraud_sent(&mut self, submission: u64, sent: Result<pogo_primitives::fraud::Fraud, String>) -> Result<(), VerifierError> {
        match sent {
            Ok(fraud) => {
                if let Some(e) = self.journal.entry_mut(submission) {
                    e.fraud_reported = true;
                }
                self.save()?;
                self.metrics.fraud_reported.inc();
                self.say(VerifierEvent::FraudReported { submission, fraud: format!("{fraud:?}") });
            },
            Err(e) => self.say(VerifierEvent::Info(format!("submission {submission}: {e}"))),
        }
        Ok(())
    }

    /// After the checks: a fraud proof for a provable fault, or the round mirrored if it checks out.
    async fn after_check(
        &mut self,
        task: &ChainTask,
        _local: &Arc<LocalTask>,
        submission: &ChainSubmission,
        checked: Checked,
    ) -> Result<(), VerifierError> {
        let report = match checked {
            Checked::Full(report) => report,
            Checked::Sampled(report) => return self.after_sampled_check(submission, report).await,
        };
        let spec = task.spec;
        if let Some(fault) = report.fault {
            let sent =
                proof::prove_and_report(&self.chain, &self.signer, &spec, submission, &report.replay, fault, &self.config.download)
                    .await;
            self.fraud_sent(submission.id, sent)?;
        } else if report.verdict == Verdict::Positive {
            // Mirror the round: manifest, checkpoints and gradients, all replayed and checked.
            let identity = pogo_store::RoundIdentity {
                task: task.id,
                round: submission.round,
                miner: submission.miner.0,
                first_global_step: fetch::first_global_step(&spec, submission.round),
            };
            let manifest = RoundManifest::new(identity, &spec, &submission.commitment, &report.replay.records());
            let store = self.store.clone();
            let replay = report.replay;
            tokio::task::spawn_blocking(move || store.put_builder_round(&replay, &manifest))
                .await
                .map_err(|e| VerifierError::Join(e.to_string()))??;
        }
        Ok(())
    }
}

/// The checks that ran on a round: section 11's full replay, or section 11b's sampled replay.
enum Checked {
    /// Full replay (`TaskParams::verification = FullReplay`).
    Full(Report),
    /// Sampled replay (`SampledReplay`).
    Sampled(sampled_check::SampledReport),
}

/// What a duty recomputes and evaluates: the sampled and disputed steps, the eval sample, the task's
/// tolerance and required improvement.
fn plan_of(task: &ChainTask, duty: &VerifierDuty) -> CheckPlan {
    let mut steps: Vec<u32> = duty.samples.steps.iter().copied().chain(duty.disputed_steps.iter().copied()).collect();
    steps.sort_unstable();
    steps.dedup();
    CheckPlan {
        steps,
        eval_examples: duty.samples.eval_examples.clone(),
        tolerance: task.params.tolerance,
        min_improvement_ppm: task.params.min_improvement_ppm,
    }
}

/// Bytes of a round's downloaded data (gradients and base state).
fn bytes_of(data: &check::RoundData) -> u64 {
    let g: usize = data.gradients.iter().flatten().map(Vec::len).sum();
    let s = data.base.weights.len().saturating_mul(4).saturating_mul(1 + data.base.slots.len());
    u64::try_from(g.saturating_add(s)).unwrap_or(u64::MAX)
}

/// The report in one line.
pub fn describe(report: &Report) -> String {
    let mut parts = Vec::new();
    if let Some(fault) = report.fault {
        parts.push(format!("replay: {fault}"));
    } else {
        parts.push(format!("replay ok ({:.2} s)", report.replay_time.as_secs_f64()));
    }
    for s in &report.steps {
        parts.push(format!(
            "step {}: {} ({} bad codes, {} bad scales, worst use {:.3})",
            s.step,
            if s.comparison.passes() { "ok" } else { "FAILS" },
            s.comparison.bad_codes,
            s.comparison.bad_scales,
            s.comparison.worst_bound_use
        ));
    }
    if let Some(e) = &report.eval {
        parts.push(format!(
            "eval on {}: {:.4} -> {:.4} (claimed {:.4} -> {:.4}, bounds ±{:.4}/±{:.4}) {}",
            e.examples,
            e.before,
            e.after,
            e.claimed_before,
            e.claimed_after,
            e.bound_before,
            e.bound_after,
            if e.passes { "ok" } else { "FAILS" }
        ));
    }
    parts.join("; ")
}

/// The order of one pass over the duties: reveals first, each one transaction against its deadline, the
/// earliest deadline first; then commits by the end of their commit window, earliest first, since a
/// check may take much of a window and a verifier holding many duties must not spend the window of a
/// closing one on a later one; then everything else (nothing to do there this pass).
fn urgency(phase: &Phase<u32>) -> (u8, u32) {
    match phase {
        Phase::Revealing(end) => (0, *end),
        Phase::Committing(end) => (1, *end),
        Phase::AwaitingChallenge | Phase::Accepted(_) | Phase::Voided => (2, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duties_are_taken_by_deadline_reveals_first() {
        let mut phases = vec![
            Phase::Committing(40),
            Phase::Accepted(10),
            Phase::Committing(12),
            Phase::Revealing(50),
            Phase::AwaitingChallenge,
            Phase::Revealing(20),
        ];
        phases.sort_by_key(urgency);
        assert_eq!(
            phases,
            vec![
                Phase::Revealing(20),
                Phase::Revealing(50),
                Phase::Committing(12),
                Phase::Committing(40),
                Phase::Accepted(10),
                Phase::AwaitingChallenge,
            ]
        );
    }
}
