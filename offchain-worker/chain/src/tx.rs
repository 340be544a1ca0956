//! Signed transactions: built for the best block's runtime, mortal from the latest finalized block, with
//! the node's next nonce; submitted one at a time per client, retried on transient pool refusals,
//! awaited until included (or finalized), and answered with the pallet events they emitted or their
//! dispatch error by name.

use crate::{
    client::block_number,
    error::{classify_refusal, error_chain_text, submission_error_text, ChainError, DispatchFailure, Refusal},
    events::pogo_events,
    runtime::{self, runtime_types::bounded_collections::bounded_vec::BoundedVec},
    AccountId32, Balance, BlockNumber, ChainClient, ChainTaskParams, PogoEvent, Signer,
};
use pogo_primitives::{
    fraud::FraudProof,
    verdict::Verdict,
    views::{Role, SubmissionId, TaskId},
    Hash, ModelDescriptor, RoundCommitment, TrainingSpec,
};
use std::time::Duration;
use subxt::{
    config::{substrate::H256, PolkadotExtrinsicParamsBuilder},
    error::{DispatchError, TransactionEventsError},
    events::Phase,
    transactions::{Payload, TransactionInBlock, TransactionStatus},
    utils::{MultiAddress, Static},
    PolkadotConfig,
};

/// How long to wait between looks at new blocks while searching for a transaction whose status
/// stream was lost.
const RECOVERY_POLL: Duration = Duration::from_secs(2);

/// A transaction included in a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxOutcome {
    /// The including block's hash.
    pub block_hash: Hash,
    /// The including block's number.
    pub block_number: BlockNumber,
    /// The transaction's hash.
    pub tx_hash: Hash,
    /// Whether the including block was finalized when this was returned.
    pub finalized: bool,
    /// The `Pogo` events the transaction emitted, in order.
    pub events: Vec<PogoEvent>,
}

/// What a new task is: the arguments of `Pogo::create_task`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTask {
    /// The training rules (its `model` is the hash of `model`).
    pub spec: TrainingSpec,
    /// The model the task trains.
    pub model: ModelDescriptor,
    /// Rewards, bonds, sampling and windows.
    pub params: ChainTaskParams,
    /// The state root of the model's initialization.
    pub initial_root: Hash,
    /// Merkle root of the training split.
    pub train_root: Hash,
    /// Merkle root of the evaluation split.
    pub eval_root: Hash,
    /// Where the data can be fetched (a URI, at most `MaxLocatorLen` bytes).
    pub data_locator: Vec<u8>,
    /// Escrow for rewards and verifier pay.
    pub escrow: Balance,
}

/// Where one attempt at a transaction ended.
enum Attempt {
    /// Included (and finalized when asked).
    Done(TxOutcome),
    /// Not in the pool and not on chain: a new attempt with a fresh nonce is safe.
    Retry(String),
}

impl ChainClient {
    /// Creates a task (`Pogo::create_task`); returns its id from the `TaskCreated` event.
    pub async fn create_task(&self, signer: &Signer, task: &NewTask) -> Result<TaskId, ChainError> {
        self.check_locator(&task.data_locator).await?;
        let dataset = runtime::runtime_types::pallet_pogo::types::DatasetCommitment {
            train_root: task.train_root,
            eval_root: task.eval_root,
            locator: BoundedVec(task.data_locator.clone()),
        };
        let call = runtime::transactions().pogo().create_task(
            Static(task.spec),
            Static(task.model.clone()),
            Static(task.params.clone()),
            task.initial_root,
            dataset,
            task.escrow,
        );
        let outcome = self.submit(signer, &call).await?;
        outcome
            .events
            .iter()
            .find_map(|event| match event {
                PogoEvent::TaskCreated { task, .. } => Some(*task),
                _ => None,
            })
            .ok_or(ChainError::MissingEvent("TaskCreated"))
    }

    /// Bonds `amount` more in `role` (`Pogo::bond`).
    pub async fn bond(&self, signer: &Signer, role: Role, amount: Balance) -> Result<TxOutcome, ChainError> {
        let call = runtime::transactions().pogo().bond(Static(role), amount);
        self.submit(signer, &call).await
    }

    /// Submits a round (`Pogo::submit_round`); returns its id from the `RoundSubmitted` event.
    pub async fn submit_round(
        &self,
        signer: &Signer,
        task: TaskId,
        commitment: RoundCommitment,
        locator: Vec<u8>,
    ) -> Result<SubmissionId, ChainError> {
        Ok(self.submit_round_outcome(signer, task, commitment, locator).await?.0)
    }

    /// Submits a round (`Pogo::submit_round`); returns its id and the whole outcome.
    pub async fn submit_round_outcome(
        &self,
        signer: &Signer,
        task: TaskId,
        commitment: RoundCommitment,
        locator: Vec<u8>,
    ) -> Result<(SubmissionId, TxOutcome), ChainError> {
        self.check_locator(&locator).await?;
        let call = runtime::transactions().pogo().submit_round(task, Static(commitment), BoundedVec(locator));
        let outcome = self.submit(signer, &call).await?;
        let id = outcome
            .events
            .iter()
            .find_map(|event| match event {
                PogoEvent::RoundSubmitted { submission, .. } => Some(*submission),
                _ => None,
            })
            .ok_or(ChainError::MissingEvent("RoundSubmitted"))?;
        Ok((id, outcome))
    }

    /// Moves a submission to its next phase (`Pogo::advance`; anyone may call it).
    pub async fn advance(&self, signer: &Signer, submission: SubmissionId) -> Result<TxOutcome, ChainError> {
        let call = runtime::transactions().pogo().advance(submission);
        self.submit(signer, &call).await
    }

    /// Posts a verdict commitment (`Pogo::commit_verdict`; see `pogo_primitives::verdict::verdict_commitment`).
    pub async fn commit_verdict(
        &self,
        signer: &Signer,
        submission: SubmissionId,
        commitment: Hash,
    ) -> Result<TxOutcome, ChainError> {
        let call = runtime::transactions().pogo().commit_verdict(submission, commitment);
        self.submit(signer, &call).await
    }

    /// Reveals a committed verdict and its salt (`Pogo::reveal_verdict`).
    pub async fn reveal_verdict(
        &self,
        signer: &Signer,
        submission: SubmissionId,
        verdict: Verdict,
        salt: Hash,
    ) -> Result<TxOutcome, ChainError> {
        let call = runtime::transactions().pogo().reveal_verdict(submission, Static(verdict), salt);
        self.submit(signer, &call).await
    }

    /// Proves a bad state transition in a submission (`Pogo::report_fraud`).
    pub async fn report_fraud(
        &self,
        signer: &Signer,
        submission: SubmissionId,
        proof: FraudProof,
    ) -> Result<TxOutcome, ChainError> {
        let call = runtime::transactions().pogo().report_fraud(submission, Static(proof));
        self.submit(signer, &call).await
    }

    /// Transfers `amount` to `dest`, keeping the sender alive (`Balances::transfer_keep_alive`; dev funding).
    pub async fn transfer(
        &self,
        signer: &Signer,
        dest: &AccountId32,
        amount: Balance,
    ) -> Result<TxOutcome, ChainError> {
        let call = runtime::transactions().balances().transfer_keep_alive(MultiAddress::Id(*dest), amount);
        self.submit(signer, &call).await
    }

    /// Signs `call` for the best block's runtime with the account's next nonce (from the node's pool-aware
    /// `system_accountNextIndex`), mortal for [`TxOptions::mortality`](crate::TxOptions) blocks from the
    /// latest finalized block (from the best block when finality lags by more than half of that), submits it and waits until it is in a block (finalized with
    /// [`TxOptions::wait_finalized`](crate::TxOptions)). Transient pool refusals (a competing
    /// transaction with the same nonce, a stale nonce, a temporary ban, a lost connection before the
    /// pool had it) are retried with backoff up to [`TxOptions::max_attempts`](crate::TxOptions) times.
    pub async fn submit<Call: Payload>(&self, signer: &Signer, call: &Call) -> Result<TxOutcome, ChainError> {
        let options = self.tx_options.clone();
        let attempts = options.max_attempts.max(1);
        let mut last_refusal = String::new();
        for attempt in 1..=attempts {
            if attempt > 1 {
                let exponent = attempt.saturating_sub(2).min(16);
                let delay = options.retry_delay.saturating_mul(1u32 << exponent);
                tracing::debug!(target: "pogo-chain", attempt, ?delay, reason = %last_refusal, "retrying transaction");
                tokio::time::sleep(delay).await;
            }
            match self.attempt(signer, call).await? {
                Attempt::Done(outcome) => return Ok(outcome),
                Attempt::Retry(reason) => last_refusal = reason,
            }
        }
        Err(ChainError::PoolRefused { attempts, reason: last_refusal })
    }

    /// One attempt: sign with a fresh nonce, submit, follow the transaction.
    async fn attempt<Call: Payload>(&self, signer: &Signer, call: &Call) -> Result<Attempt, ChainError> {
        let account = signer.account_id();
        let guard = self.submit_lock.lock().await;
        let nonce = self.next_nonce(&account).await?;
        // Signed for the runtime of the best block, which the pool validates against: right after a
        // runtime upgrade the finalized block still has the old spec_version, and a transaction signed
        // for it would be refused as a bad proof until finality catches up.
        let at = self.at_hash(self.best_hash().await?).await?;
        let (birth_number, birth_hash) = self.birth_block(at.block_number(), at.block_hash()).await?;
        let birth = block_number(birth_number);
        let params = PolkadotExtrinsicParamsBuilder::<PolkadotConfig>::new()
            .nonce(nonce)
            .mortal_from_unchecked(self.tx_options.mortality, birth_number, birth_hash)
            .build();
        let transaction = at
            .transactions()
            .create_signable_offline(call, params)
            .map_err(|e| ChainError::subxt("build transaction", e))?
            .sign(signer)
            .map_err(|e| ChainError::subxt("sign transaction", e))?;
        let tx_hash = transaction.hash().0;
        let mut progress = match transaction.submit_and_watch().await {
            Ok(progress) => progress,
            Err(error) => {
                return match classify_refusal(&submission_error_text(&error)) {
                    Refusal::Transient(reason) => Ok(Attempt::Retry(reason)),
                    Refusal::Permanent(reason) => Err(ChainError::TxInvalid(reason)),
                    Refusal::Connection(reason) => {
                        // Did the node take it before the connection failed? Not if the nonce is
                        // still free (nothing with it in the pool or on chain).
                        if self.next_nonce(&account).await? == nonce {
                            Ok(Attempt::Retry(reason))
                        } else {
                            drop(guard);
                            self.recover(tx_hash, birth, &reason).await
                        }
                    }
                };
            }
        };
        let mut guard = Some(guard);
        while let Some(status) = progress.next().await {
            let status = match status {
                Ok(status) => status,
                Err(error) => {
                    drop(guard.take());
                    let reason = error_chain_text(&error);
                    return self.recover(tx_hash, birth, &reason).await;
                }
            };
            match status {
                TransactionStatus::Validated | TransactionStatus::Broadcasted => {
                    // In the pool: the next transaction may take the next nonce.
                    drop(guard.take());
                }
                TransactionStatus::NoLongerInBestBlock => {}
                TransactionStatus::InBestBlock(in_block) => {
                    drop(guard.take());
                    if !self.tx_options.wait_finalized {
                        return self.outcome(&in_block, false).await.map(Attempt::Done);
                    }
                }
                TransactionStatus::InFinalizedBlock(in_block) => {
                    return self.outcome(&in_block, true).await.map(Attempt::Done);
                }
                TransactionStatus::Dropped { message } if message.to_ascii_lowercase().contains("finality") => {
                    // Included, but not finalized in time: its fate is unknown.
                    return Err(ChainError::InclusionUnknown { tx_hash: hex::encode(tx_hash), reason: message });
                }
                // Dropped from the pool, or made invalid there (e.g. usurped by a transaction with
                // the same nonce): it will not be included.
                TransactionStatus::Dropped { message } | TransactionStatus::Invalid { message } => {
                    return Ok(Attempt::Retry(message));
                }
                TransactionStatus::Error { message } => return Err(ChainError::TxInvalid(message)),
            }
        }
        drop(guard);
        self.recover(tx_hash, birth, "the transaction status stream ended").await
    }

    /// The block a transaction's mortality counts from: the latest finalized block, which no
    /// reorganisation can take away, unless finality lags the best block by more than half the mortality
    /// (a stalled relay chain): a transaction born there would die before it could be included, so it is
    /// born at the best block instead.
    async fn birth_block(&self, best_number: u64, best_hash: H256) -> Result<(u64, H256), ChainError> {
        let finalized = self.finalized_hash().await?;
        let finalized_number = u64::from(block_number(self.header(Some(finalized)).await?.number));
        Ok(if best_number.saturating_sub(finalized_number) > self.tx_options.mortality / 2 {
            (best_number, best_hash)
        } else {
            (finalized_number, finalized)
        })
    }

    /// The account's next nonce, counting its transactions in the pool.
    async fn next_nonce(&self, account: &AccountId32) -> Result<u64, ChainError> {
        self.rpc.system_account_next_index(account).await.map_err(|e| ChainError::rpc("system_accountNextIndex", e))
    }

    /// The outcome of a transaction in a block: its `Pogo` events, or its dispatch error by name.
    async fn outcome(
        &self,
        in_block: &TransactionInBlock<PolkadotConfig, subxt::client::OnlineClientAtBlockImpl<PolkadotConfig>>,
        finalized: bool,
    ) -> Result<TxOutcome, ChainError> {
        let block_hash = in_block.block_hash();
        let events = match in_block.wait_for_success().await {
            Ok(events) => events,
            Err(TransactionEventsError::ExtrinsicFailed(error)) => {
                return Err(ChainError::Dispatch(DispatchFailure::from(&error)));
            }
            Err(error) => return Err(ChainError::subxt("fetch transaction events", error)),
        };
        let header = self.header(Some(block_hash)).await?;
        Ok(TxOutcome {
            block_hash: block_hash.0,
            block_number: block_number(header.number),
            tx_hash: in_block.extrinsic_hash().0,
            finalized,
            events: pogo_events(events.iter())?,
        })
    }

    /// Finds a transaction whose status stream was lost: looks for it in the best chain's blocks from
    /// its birth block on, until it is found or its mortality has passed (then it can never be
    /// included, and a new attempt is safe).
    async fn recover(&self, tx_hash: Hash, birth: BlockNumber, reason: &str) -> Result<Attempt, ChainError> {
        tracing::debug!(target: "pogo-chain", tx = %hex::encode(tx_hash), %reason, "looking for a transaction on chain");
        let deadline = birth.saturating_add(u32::try_from(self.tx_options.mortality).unwrap_or(u32::MAX));
        let mut next = birth.saturating_add(1);
        loop {
            let best = self.best_number().await?;
            while next <= best {
                let hash = self.block_hash(next).await?;
                if let Some(index) = self.extrinsic_index(hash, &tx_hash).await? {
                    let mut outcome = self.outcome_at(hash, next, index, tx_hash).await?;
                    if self.tx_options.wait_finalized {
                        self.wait_finalized(next, hash, tx_hash).await?;
                        outcome.finalized = true;
                    }
                    return Ok(Attempt::Done(outcome));
                }
                next = next.saturating_add(1);
            }
            if best > deadline {
                return Ok(Attempt::Retry(format!("{reason}; not included before its mortality ended")));
            }
            tokio::time::sleep(RECOVERY_POLL).await;
        }
    }

    /// The position of the transaction with `tx_hash` in the block with `block`, if there.
    async fn extrinsic_index(&self, block: H256, tx_hash: &Hash) -> Result<Option<u32>, ChainError> {
        let details = self
            .rpc
            .chain_get_block(Some(block))
            .await
            .map_err(|e| ChainError::rpc("chain_getBlock", e))?
            .ok_or_else(|| ChainError::BlockNotFound(hex::encode(block.0)))?;
        Ok(details
            .block
            .extrinsics
            .iter()
            .position(|bytes| sp_crypto_hashing::blake2_256(&bytes.0) == *tx_hash)
            .and_then(|index| u32::try_from(index).ok()))
    }

    /// The outcome of the extrinsic at `index` of the block with `hash`, from the block's events.
    async fn outcome_at(
        &self,
        hash: H256,
        number: BlockNumber,
        index: u32,
        tx_hash: Hash,
    ) -> Result<TxOutcome, ChainError> {
        let at = self.at_hash(hash).await?;
        let events = at.events().fetch().await.map_err(|e| ChainError::subxt("fetch events", e))?;
        let mut mine = Vec::new();
        for event in events.iter() {
            let event = event.map_err(|e| ChainError::subxt("decode event", e))?;
            if event.phase() != Phase::ApplyExtrinsic(index) {
                continue;
            }
            if event.pallet_name() == "System" && event.event_name() == "ExtrinsicFailed" {
                let error = DispatchError::decode_from(event.field_bytes(), at.metadata())
                    .map_err(|e| ChainError::subxt("decode dispatch error", subxt::Error::from(e)))?;
                return Err(ChainError::Dispatch(DispatchFailure::from(&error)));
            }
            mine.push(Ok(event));
        }
        Ok(TxOutcome {
            block_hash: hash.0,
            block_number: number,
            tx_hash,
            finalized: false,
            events: pogo_events(mine.into_iter())?,
        })
    }

    /// Waits until block `number` is finalized and checks it is the block with `hash`.
    async fn wait_finalized(&self, number: BlockNumber, hash: H256, tx_hash: Hash) -> Result<(), ChainError> {
        while self.finalized_number().await? < number {
            tokio::time::sleep(RECOVERY_POLL).await;
        }
        if self.block_hash(number).await? == hash {
            Ok(())
        } else {
            Err(ChainError::InclusionUnknown {
                tx_hash: hex::encode(tx_hash),
                reason: format!("block {number} that included it was not finalized"),
            })
        }
    }

    /// Refuses a locator longer than the chain's `MaxLocatorLen` before anything is signed.
    async fn check_locator(&self, locator: &[u8]) -> Result<(), ChainError> {
        let max = self.max_locator_len().await?;
        if u32::try_from(locator.len()).map_or(true, |len| len > max) {
            return Err(ChainError::LocatorTooLong { len: locator.len(), max });
        }
        Ok(())
    }
}
