//! The miner role (`pogo-worker mine`): a state machine over the pallet's phases, one file per phase.
//!
//! ```text
//!        ┌──────────── Wait (paused, or our round on this root is undecided) ◀─┐
//!        ▼                                                                     │
//!  ─▶ Sync ──▶ Prepare (base state: store │ initial │ download + check) ──▶ Train ──▶ Submit ──┘
//!        ▲                                                                     │ (stale base)
//!        └─────────────────────────────────────────────────────────────────────┘
//!  Settle, once a block beside the others: each submitted round through challenge, commit, reveal,
//!  acceptance and its fraud window (`advance` where overdue).
//! ```
//!
//! Everything the chain or a restart depends on is on disk before the step that needs it: the round's
//! data in the store before the manifest, the manifest before the journal names the round, the journal
//! before `submit_round`, the submission id right after its inclusion. Several miners on one task compete
//! honestly: the first round accepted moves the task's root, the others' rounds go stale (removed by the
//! chain, bonds released) and each miner continues from the new root, downloading it from the winner's
//! locator.

pub mod copy;
pub mod journal;
pub mod pipeline;
pub mod prepare;
pub mod settle;
pub mod submit;
pub mod sync;
pub mod train;

use crate::{
    local_task::{self, LocalTask, TaskTerms},
    metrics::Metrics,
};
use journal::Journal;
use pogo_chain::{ChainBackend, Signer};
use pogo_primitives::Hash;
use pogo_store::{ClientLimits, RoundStore};
use std::{path::PathBuf, sync::Arc, time::Duration};
use sync::{Next, TaskState};
use tokio::sync::mpsc::UnboundedSender;

/// What the miner reports as it goes (progress bars, devnet's screen, logs).
#[derive(Clone, Debug, PartialEq)]
pub enum MinerEvent {
    /// Free-form status.
    Info(String),
    /// Training a round started.
    Training {
        /// Task.
        task: u32,
        /// Round number.
        round: u32,
        /// Steps in the round.
        steps: u32,
        /// Base root.
        base_root: Hash,
    },
    /// A step finished.
    Step {
        /// Task.
        task: u32,
        /// Round.
        round: u32,
        /// Steps done (1-based).
        step: u32,
        /// Steps in the round.
        steps: u32,
        /// Its training loss.
        loss: f32,
        /// Time since the round started.
        elapsed: Duration,
    },
    /// The round is built and stored.
    Built {
        /// Task.
        task: u32,
        /// Round.
        round: u32,
        /// Trace root.
        trace_root: Hash,
        /// Eval loss before the round.
        eval_before: f32,
        /// Eval loss after it.
        eval_after: f32,
        /// Training time.
        seconds: f64,
    },
    /// The round was included on chain.
    Submitted {
        /// Submission id.
        submission: u64,
        /// Round.
        round: u32,
        /// Block of inclusion.
        block: u32,
    },
    /// A submission entered a new phase.
    Phase {
        /// Submission id.
        submission: u64,
        /// The phase, as text.
        phase: String,
    },
    /// The chain accepted a round (provisionally, for its fraud window).
    Accepted {
        /// Submission id.
        submission: u64,
        /// The task's new root.
        final_root: Hash,
    },
    /// A submission left the chain.
    Settled {
        /// Submission id.
        submission: u64,
        /// Whether it had been accepted (then it was finalized and paid).
        accepted: bool,
    },
    /// The miner is waiting.
    Waiting(&'static str),
}

/// Why the miner stopped.
#[derive(Debug, thiserror::Error)]
pub enum MinerError {
    /// The chain has no such task.
    #[error("task {0} does not exist on chain")]
    NoTask(u32),
    /// This worker cannot train the task.
    #[error("task {task} is not supported by this worker: {reason}")]
    Unsupported {
        /// Task.
        task: u32,
        /// Why.
        reason: local_task::Unsupported,
    },
    /// The chain client failed (after its own retries).
    #[error("chain: {0}")]
    Chain(#[from] pogo_chain::ChainError),
    /// The round store failed.
    #[error("round store: {0}")]
    Store(#[from] pogo_store::StoreError),
    /// A stored round manifest is invalid.
    #[error("round manifest: {0}")]
    Manifest(#[from] pogo_store::ManifestError),
    /// The base state could not be had.
    #[error(transparent)]
    Prepare(#[from] prepare::PrepareError),
    /// Training failed.
    #[error(transparent)]
    Train(#[from] train::TrainError),
    /// A blocking task panicked or was cancelled.
    #[error("worker thread: {0}")]
    Join(String),
}

/// How the miner runs.
#[derive(Clone, Debug)]
pub struct MinerConfig {
    /// The task to mine.
    pub task: u32,
    /// The locator submitted with each round (this miner's DA server, as others reach it).
    pub public_url: String,
    /// Stop after this many rounds are submitted and settled (`None`: run until stopped).
    pub max_rounds: Option<u64>,
    /// Data directory (default: the setup script's).
    pub data_dir: Option<PathBuf>,
    /// How often the chain is polled.
    pub poll: Duration,
    /// Limits of base-state downloads.
    pub download: ClientLimits,
    /// Records per eval-loss chunk.
    pub eval_chunk: usize,
    /// Cheat (tests and demonstrations only; `None` is the honest miner).
    pub adversary: Option<crate::adversary::MinerAdversary>,
    /// Whether each step's hashing and store writes run beside the next step's gradient
    /// ([`pipeline`]).
    pub overlap: pipeline::Overlap,
}

/// The miner.
pub struct Miner<B: ChainBackend> {
    chain: B,
    signer: Signer,
    store: Arc<RoundStore>,
    config: MinerConfig,
    metrics: Metrics,
    events: UnboundedSender<MinerEvent>,
    journal: Journal,
    last_phase: std::collections::HashMap<u64, pogo_primitives::views::Phase<u32>>,
}

impl<B: ChainBackend> Miner<B> {
    /// A miner of `config.task` with its journal from `store` (a restart continues where it stopped).
    pub fn new(
        chain: B,
        signer: Signer,
        store: Arc<RoundStore>,
        config: MinerConfig,
        metrics: Metrics,
        events: UnboundedSender<MinerEvent>,
    ) -> Result<Self, MinerError> {
        let journal = store.journal::<Journal>(&Journal::name(config.task))?.unwrap_or_default();
        Ok(Self { chain, signer, store, config, metrics, events, journal, last_phase: Default::default() })
    }

    /// The journal as it stands.
    pub fn journal(&self) -> &Journal {
        &self.journal
    }

    fn save(&self) -> Result<(), MinerError> {
        Ok(self.store.put_journal(&Journal::name(self.config.task), &self.journal)?)
    }

    fn say(&self, event: MinerEvent) {
        let _ = self.events.send(event);
    }

    /// The task's current state (read every block).
    async fn task_state(&self) -> Result<TaskState, MinerError> {
        let task = self.config.task;
        let view = self.chain.task(task).await?.ok_or(MinerError::NoTask(task))?;
        Ok(TaskState {
            state_root: view.state_root,
            round: view.round,
            steps_done: view.steps_done,
            status: view.status,
            model_locator: view.model_locator,
        })
    }

    /// What it takes to train the task (read once: a task's spec, model and data never change).
    async fn task_terms(&self) -> Result<TaskTerms, MinerError> {
        let task = self.config.task;
        let view = self.chain.task(task).await?.ok_or(MinerError::NoTask(task))?;
        Ok(TaskTerms {
            spec: view.spec,
            model: self.chain.task_model(task).await?,
            data_locator: view.locator,
            train_root: view.train_root,
            eval_root: view.eval_root,
        })
    }

    /// Runs until `config.max_rounds` rounds are submitted and settled, or forever.
    pub async fn run(mut self) -> Result<Journal, MinerError> {
        let task = self.config.task;
        let terms = self.task_terms().await?;
        let data_dir = self.config.data_dir.clone();
        let local = tokio::task::spawn_blocking(move || local_task::resolve(&terms, data_dir.as_deref(), pogo_engine::default_device()))
            .await
            .map_err(|e| MinerError::Join(e.to_string()))?
            .map_err(|reason| MinerError::Unsupported { task, reason })?;
        let local = Arc::new(local);
        self.say(MinerEvent::Info(format!(
            "task {task}: {} ({} parameters), data `{}`, {} steps per round",
            pogo_engine::model::Model::name(local.engine.model()),
            local.engine.spec().param_count,
            local.engine.data().name,
            local.engine.spec().steps_per_round
        )));
        loop {
            self.settle().await?;
            let state = self.task_state().await?;
            match sync::decide(&state, &self.journal, self.config.max_rounds) {
                Next::Done => return Ok(self.journal),
                Next::Wait(why) => {
                    self.say(MinerEvent::Waiting(why));
                    tokio::time::sleep(self.config.poll).await;
                },
                Next::Submit => self.submit(&state).await?,
                Next::Build => {
                    self.build(&local, &state).await?;
                },
            }
        }
    }

    /// Prepare and Train: a new round on the task's current root, stored and journaled.
    async fn build(&mut self, local: &Arc<LocalTask>, state: &TaskState) -> Result<(), MinerError> {
        let me = self.signer.account_id().0;
        let seed = self
            .chain
            .round_seed(self.config.task, &self.signer.account_id())
            .await?
            .ok_or(MinerError::NoTask(self.config.task))?;
        if let Some(crate::adversary::MinerAdversary::CopyCommitment { from_task }) = self.config.adversary {
            let copier = copy::Copier {
                me,
                task: self.config.task,
                from_task: from_task.unwrap_or(self.config.task),
                round_seed: seed,
                limits: &self.config.download,
            };
            match copy::copy_round(&self.chain, &self.store, local, state, copier, &self.events).await? {
                Some(built) => self.journal.built = Some(built),
                None => {
                    self.say(MinerEvent::Waiting("copy-commitment: no round to copy yet"));
                    tokio::time::sleep(self.config.poll).await;
                },
            }
            return self.save();
        }
        let (base, source) = prepare::base_state(
            local,
            &self.store,
            state.state_root,
            &state.model_locator,
            self.config.download.clone(),
            &self.events,
        )
        .await?;
        self.say(MinerEvent::Info(format!("round {}: base {} from {source:?}", state.round, prepare::short(&state.state_root))));
        self.say(MinerEvent::Training {
            task: self.config.task,
            round: state.round,
            steps: local.engine.spec().steps_per_round,
            base_root: state.state_root,
        });
        let (local2, store, events) = (local.clone(), self.store.clone(), self.events.clone());
        let inputs_round = state.round;
        let first_global_step = state.steps_done.saturating_add(1);
        let task = self.config.task;
        let eval_chunk = self.config.eval_chunk;
        let adversary = self.config.adversary;
        let overlap = self.config.overlap;
        let started = std::time::Instant::now();
        let built = tokio::task::spawn_blocking(move || {
            train::build_round(
                &local2,
                &store,
                train::RoundInputs {
                    task,
                    round: inputs_round,
                    miner: me,
                    round_seed: seed,
                    first_global_step,
                    base: &base,
                    eval_chunk,
                    adversary,
                    overlap,
                },
                &events,
            )
        })
        .await
        .map_err(|e| MinerError::Join(e.to_string()))??;
        let steps = f64::from(local.engine.spec().steps_per_round);
        self.metrics.round_built(steps, started.elapsed().as_secs_f64());
        self.journal.built = Some(built);
        self.save()
    }

    /// Submit: the journaled round, if its base is still the task's root.
    async fn submit(&mut self, state: &TaskState) -> Result<(), MinerError> {
        let Some(built) = self.journal.built.clone() else { return Ok(()) };
        let Some(manifest) = self.store.round(&built.trace_root)? else {
            // The journal names a round the store lost (disk replaced): build it again.
            self.journal.built = None;
            return self.save();
        };
        match submit::submit_round(&self.chain, &self.signer, self.config.task, &manifest, &self.config.public_url, &self.metrics)
            .await
        {
            Ok((submission, block)) => {
                self.journal.pending.push(journal::PendingRound { submission, built: built.clone(), accepted: false });
                self.journal.built = None;
                self.journal.submitted = self.journal.submitted.saturating_add(1);
                self.save()?;
                self.metrics.rounds_submitted.inc();
                self.say(MinerEvent::Submitted { submission, round: built.round, block });
                Ok(())
            },
            Err(submit::SubmitError::Stale(reason)) => {
                self.say(MinerEvent::Info(format!("round {} not submitted: {reason}", state.round)));
                self.journal.built = None;
                self.save()
            },
            Err(submit::SubmitError::BondBusy(_)) => {
                // Earlier rounds hold the bond until their fraud windows close; the round stays
                // journaled and valid while the task's root does not move.
                self.say(MinerEvent::Waiting("free bond: earlier rounds still at risk"));
                tokio::time::sleep(self.config.poll).await;
                Ok(())
            },
            Err(submit::SubmitError::Chain(e)) => Err(e.into()),
            Err(submit::SubmitError::Manifest(e)) => Err(MinerError::Manifest(e)),
        }
    }

    /// Settle: one look at every pending round.
    async fn settle(&mut self) -> Result<(), MinerError> {
        let now = self.chain.best_number().await?;
        let ids: Vec<u64> = self.journal.pending.iter().map(|p| p.submission).collect();
        let mut changed = false;
        for id in ids {
            let view = self.chain.submission(id).await?;
            let phase = view.as_ref().map(|v| v.phase);
            if let Some(p) = phase {
                if self.last_phase.insert(id, p) != Some(p) {
                    self.say(MinerEvent::Phase { submission: id, phase: format!("{p:?}") });
                }
                if settle::overdue(&p, now) {
                    // The chain's on_idle normally does this; an error (e.g. TooEarly) only means not yet.
                    if let Err(e) = self.chain.advance(&self.signer, id).await {
                        tracing::debug!(submission = id, error = %e, "advance");
                    }
                }
            }
            if phase.is_none() {
                self.last_phase.remove(&id);
            }
            if let Some(event) = settle::apply(&mut self.journal, id, phase) {
                match &event {
                    MinerEvent::Accepted { .. } => self.metrics.rounds_accepted.inc(),
                    MinerEvent::Settled { accepted: false, .. } => self.metrics.rounds_not_accepted.inc(),
                    MinerEvent::Settled { accepted: true, .. } => self.metrics.rounds_finalized.inc(),
                    _ => 0,
                };
                self.say(event);
                changed = true;
            }
        }
        if changed {
            self.save()?;
        }
        Ok(())
    }
}
