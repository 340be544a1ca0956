//! [`ChainBackend`]: what a miner reads from and writes to the chain, and nothing else, so the miner's
//! state machine can run against [`ChainClient`] or an in-memory chain in tests.

use crate::{
    error::ChainError, AccountId32, BlockEvents, BlockNumber, ChainClient, ChainSubmission, ChainTask, Signer,
    TxOutcome,
};
use pogo_primitives::{
    views::{SubmissionId, TaskId},
    Hash, ModelDescriptor, RoundCommitment,
};
use std::future::Future;

/// The chain as a miner sees it.
///
/// Every method is a future that is `Send`, so a miner driven by this trait can run on a
/// multi-threaded runtime.
pub trait ChainBackend: Send + Sync {
    /// A task (`None`: no such task).
    fn task(&self, task: TaskId) -> impl Future<Output = Result<Option<ChainTask>, ChainError>> + Send;

    /// The model a task trains (`None`: the task has no descriptor).
    fn task_model(&self, task: TaskId) -> impl Future<Output = Result<Option<ModelDescriptor>, ChainError>> + Send;

    /// The seed of `miner`'s next round of `task` (`None`: no such task).
    fn round_seed(
        &self,
        task: TaskId,
        miner: &AccountId32,
    ) -> impl Future<Output = Result<Option<Hash>, ChainError>> + Send;

    /// An unsettled submission (`None`: unknown or settled).
    fn submission(
        &self,
        submission: SubmissionId,
    ) -> impl Future<Output = Result<Option<ChainSubmission>, ChainError>> + Send;

    /// The unsettled submissions of a task.
    fn pending_submissions(
        &self,
        task: TaskId,
    ) -> impl Future<Output = Result<Vec<ChainSubmission>, ChainError>> + Send;

    /// Submits a round; its submission id once included.
    fn submit_round(
        &self,
        signer: &Signer,
        task: TaskId,
        commitment: RoundCommitment,
        locator: Vec<u8>,
    ) -> impl Future<Output = Result<SubmissionId, ChainError>> + Send;

    /// Moves a submission to its next phase.
    fn advance(
        &self,
        signer: &Signer,
        submission: SubmissionId,
    ) -> impl Future<Output = Result<TxOutcome, ChainError>> + Send;

    /// The best block's number.
    fn best_number(&self) -> impl Future<Output = Result<BlockNumber, ChainError>> + Send;

    /// The `Pogo` events of blocks `from..=to`, oldest first (blocks beyond the best are not read).
    fn events(
        &self,
        from: BlockNumber,
        to: BlockNumber,
    ) -> impl Future<Output = Result<Vec<BlockEvents>, ChainError>> + Send;

    /// The `Pogo` events of the latest block.
    fn latest_events(&self) -> impl Future<Output = Result<BlockEvents, ChainError>> + Send;
}

impl ChainBackend for ChainClient {
    async fn task(&self, task: TaskId) -> Result<Option<ChainTask>, ChainError> {
        ChainClient::task(self, task).await
    }

    async fn task_model(&self, task: TaskId) -> Result<Option<ModelDescriptor>, ChainError> {
        ChainClient::task_model(self, task).await
    }

    async fn round_seed(&self, task: TaskId, miner: &AccountId32) -> Result<Option<Hash>, ChainError> {
        ChainClient::round_seed(self, task, miner).await
    }

    async fn submission(&self, submission: SubmissionId) -> Result<Option<ChainSubmission>, ChainError> {
        ChainClient::submission(self, submission).await
    }

    async fn pending_submissions(&self, task: TaskId) -> Result<Vec<ChainSubmission>, ChainError> {
        ChainClient::pending_submissions(self, task).await
    }

    async fn submit_round(
        &self,
        signer: &Signer,
        task: TaskId,
        commitment: RoundCommitment,
        locator: Vec<u8>,
    ) -> Result<SubmissionId, ChainError> {
        ChainClient::submit_round(self, signer, task, commitment, locator).await
    }

    async fn advance(&self, signer: &Signer, submission: SubmissionId) -> Result<TxOutcome, ChainError> {
        ChainClient::advance(self, signer, submission).await
    }

    async fn best_number(&self) -> Result<BlockNumber, ChainError> {
        ChainClient::best_number(self).await
    }

    async fn events(&self, from: BlockNumber, to: BlockNumber) -> Result<Vec<BlockEvents>, ChainError> {
        self.events_in_range(from, to).await
    }

    async fn latest_events(&self) -> Result<BlockEvents, ChainError> {
        ChainClient::latest_events(self).await
    }
}
