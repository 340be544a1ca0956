//! [`ChainClient`]: the connection and the typed reads.

use crate::{error::ChainError, runtime, AccountId32, Balance, BlockNumber, ChainBond, ChainSubmission, ChainTask};
use pogo_primitives::{
    views::{Role, SubmissionId, TaskId, VerifierDuty},
    Hash, ModelDescriptor,
};
use std::{sync::Arc, time::Duration};
use subxt::{
    backend::{BlockRef, LegacyBackend},
    client::OnlineClientAtBlock,
    config::{substrate::H256, RpcConfigFor},
    rpcs::{
        client::{reconnecting_rpc_client::ExponentialBackoff, ReconnectingRpcClient},
        LegacyRpcMethods, RpcClient,
    },
    utils::Static,
    OnlineClient, PolkadotConfig,
};

/// Raw legacy JSON-RPC methods with the chain's types.
pub(crate) type Rpc = LegacyRpcMethods<RpcConfigFor<PolkadotConfig>>;
/// A subxt client pinned to one block.
pub(crate) type AtBlock = OnlineClientAtBlock<PolkadotConfig>;

/// Task ids `PogoApi::task_ids` returns per call at most.
const TASK_ID_PAGE: u32 = 1000;

/// How to open the connection.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// How long the first connection may take (the node may still be starting).
    pub connect_timeout: Duration,
    /// How long one JSON-RPC call may take once sent.
    pub request_timeout: Duration,
    /// Longest wait between two reconnection attempts after the connection drops; attempts go on
    /// until the node is back (calls made meanwhile wait).
    pub max_reconnect_delay: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(30),
            request_timeout: Duration::from_secs(60),
            max_reconnect_delay: Duration::from_secs(5),
        }
    }
}

/// Which block the client's reads look at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ReadAt {
    /// The node's best block: the freshest state, which a reorganisation may still undo.
    #[default]
    Best,
    /// The latest finalized block.
    Finalized,
}

/// How transactions are built and awaited.
#[derive(Clone, Debug)]
pub struct TxOptions {
    /// Wait until the block including the transaction is finalized (else: until it is in a best block).
    pub wait_finalized: bool,
    /// Blocks a transaction stays valid for, counted from the finalized block it is built on.
    pub mortality: u64,
    /// Attempts at submitting one transaction when the pool refuses it for a transient reason.
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled for each further attempt.
    pub retry_delay: Duration,
}

impl Default for TxOptions {
    fn default() -> Self {
        Self { wait_finalized: false, mortality: 64, max_attempts: 5, retry_delay: Duration::from_millis(500) }
    }
}

/// The node's runtime version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeVersionInfo {
    /// The runtime's name (`pogo-parachain`).
    pub spec_name: String,
    /// Its version.
    pub spec_version: u32,
    /// The transaction format version.
    pub transaction_version: u32,
}

/// A connection to a pogo node: typed reads, signed transactions, event streams and proven reads.
///
/// Cloning is cheap; clones share the connection and submit their transactions one at a time.
#[derive(Clone)]
pub struct ChainClient {
    pub(crate) api: OnlineClient<PolkadotConfig>,
    pub(crate) rpc: Rpc,
    url: String,
    read_at: ReadAt,
    pub(crate) tx_options: TxOptions,
    /// Held while a transaction's nonce is chosen and until the pool has accepted it.
    pub(crate) submit_lock: Arc<tokio::sync::Mutex<()>>,
}

impl core::fmt::Debug for ChainClient {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChainClient").field("url", &self.url).field("read_at", &self.read_at).finish()
    }
}

impl ChainClient {
    /// Connects to the node at `url` (`ws://…` or `wss://…`) with default [`ConnectOptions`].
    pub async fn connect(url: &str) -> Result<Self, ChainError> {
        Self::connect_with(url, ConnectOptions::default()).await
    }

    /// Connects to the node at `url` through subxt's reconnecting RPC client: after the first
    /// connection, a dropped connection is re-established with exponential backoff (capped at
    /// `max_reconnect_delay`) for as long as it takes, and subscriptions are renewed.
    pub async fn connect_with(url: &str, options: ConnectOptions) -> Result<Self, ChainError> {
        let connect_error = |reason: String| ChainError::Connect { url: url.to_string(), reason };
        let policy = ExponentialBackoff::from_millis(100).max_delay(options.max_reconnect_delay);
        let builder = ReconnectingRpcClient::builder()
            .retry_policy(policy)
            .request_timeout(options.request_timeout)
            .connection_timeout(options.connect_timeout);
        let reconnecting = tokio::time::timeout(options.connect_timeout, builder.build(url))
            .await
            .map_err(|_| connect_error(format!("no connection within {:?}", options.connect_timeout)))?
            .map_err(|e| connect_error(e.to_string()))?;
        let rpc_client = RpcClient::new(reconnecting);
        // The legacy backend: plain requests and subscriptions that it renews after a reconnection,
        // no pinned blocks to lose when the node restarts.
        let backend = LegacyBackend::builder().build(rpc_client.clone());
        let config = PolkadotConfig::builder().use_historic_types(false).build();
        let api = tokio::time::timeout(
            options.connect_timeout,
            OnlineClient::from_backend_with_config(config, Arc::new(backend)),
        )
        .await
        .map_err(|_| connect_error(format!("no genesis hash within {:?}", options.connect_timeout)))?
        .map_err(|e| connect_error(e.to_string()))?;
        Ok(Self {
            api,
            rpc: Rpc::new(rpc_client),
            url: url.to_string(),
            read_at: ReadAt::default(),
            tx_options: TxOptions::default(),
            submit_lock: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// This client reading at `read_at` (default: the best block).
    pub fn with_read_at(mut self, read_at: ReadAt) -> Self {
        self.read_at = read_at;
        self
    }

    /// This client building and awaiting transactions with `options`.
    pub fn with_tx_options(mut self, options: TxOptions) -> Self {
        self.tx_options = options;
        self
    }

    /// The node's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Which block reads look at.
    pub fn read_at(&self) -> ReadAt {
        self.read_at
    }

    /// The transaction options.
    pub fn tx_options(&self) -> &TxOptions {
        &self.tx_options
    }

    /// The underlying subxt client, for anything this API does not cover.
    pub fn subxt(&self) -> &OnlineClient<PolkadotConfig> {
        &self.api
    }

    /// Whether the node's runtime metadata is the one this crate was generated from (for the pallets
    /// and runtime APIs the generated code uses). Calls whose shape changed fail anyway; this tells up front.
    pub async fn metadata_matches(&self) -> Result<bool, ChainError> {
        let view = self.view().await?;
        Ok(runtime::is_codegen_valid_for(view.metadata_ref()))
    }

    /// The chain's genesis hash.
    pub fn genesis(&self) -> Hash {
        self.api.genesis_hash().0
    }

    /// The runtime version at the best block.
    pub async fn runtime_version(&self) -> Result<RuntimeVersionInfo, ChainError> {
        let version = self
            .rpc
            .state_get_runtime_version(None)
            .await
            .map_err(|e| ChainError::rpc("state_getRuntimeVersion", e))?;
        let spec_name = version.other.get("specName").and_then(|v| v.as_str()).unwrap_or_default().to_string();
        Ok(RuntimeVersionInfo {
            spec_name,
            spec_version: version.spec_version,
            transaction_version: version.transaction_version,
        })
    }

    /// The best block's number.
    pub async fn best_number(&self) -> Result<BlockNumber, ChainError> {
        let header = self.header(None).await?;
        Ok(block_number(header.number))
    }

    /// The latest finalized block's number.
    pub async fn finalized_number(&self) -> Result<BlockNumber, ChainError> {
        let hash = self.finalized_hash().await?;
        Ok(block_number(self.header(Some(hash)).await?.number))
    }

    /// The hash of the best block.
    pub(crate) async fn best_hash(&self) -> Result<H256, ChainError> {
        self.rpc
            .chain_get_block_hash(None)
            .await
            .map_err(|e| ChainError::rpc("chain_getBlockHash", e))?
            .ok_or_else(|| ChainError::BlockNotFound("best".into()))
    }

    /// The hash of the latest finalized block.
    pub(crate) async fn finalized_hash(&self) -> Result<H256, ChainError> {
        self.rpc.chain_get_finalized_head().await.map_err(|e| ChainError::rpc("chain_getFinalizedHead", e))
    }

    /// The hash of block `number` on the best chain.
    pub(crate) async fn block_hash(&self, number: BlockNumber) -> Result<H256, ChainError> {
        self.rpc
            .chain_get_block_hash(Some(number.into()))
            .await
            .map_err(|e| ChainError::rpc("chain_getBlockHash", e))?
            .ok_or_else(|| ChainError::BlockNotFound(number.to_string()))
    }

    /// A block header (`None`: the best block's).
    pub(crate) async fn header(
        &self,
        hash: Option<H256>,
    ) -> Result<subxt::config::substrate::SubstrateHeader<H256>, ChainError> {
        self.rpc
            .chain_get_header(hash)
            .await
            .map_err(|e| ChainError::rpc("chain_getHeader", e))?
            .ok_or_else(|| ChainError::BlockNotFound(hash.map(|h| hex::encode(h.0)).unwrap_or_else(|| "best".into())))
    }

    /// A subxt client at the block reads look at.
    pub(crate) async fn view(&self) -> Result<AtBlock, ChainError> {
        let hash = match self.read_at {
            ReadAt::Best => self.best_hash().await?,
            ReadAt::Finalized => self.finalized_hash().await?,
        };
        self.at_hash(hash).await
    }

    /// A subxt client at the block with `hash`.
    pub(crate) async fn at_hash(&self, hash: H256) -> Result<AtBlock, ChainError> {
        self.api.at_block(BlockRef::from_hash(hash)).await.map_err(|e| ChainError::subxt("open block", e))
    }

    /// A task (`PogoApi::task`).
    pub async fn task(&self, task: TaskId) -> Result<Option<ChainTask>, ChainError> {
        let call = runtime::runtime_apis().pogo_api().task(task);
        let view = self.view().await?;
        let found = view.runtime_apis().call(call).await.map_err(|e| ChainError::subxt("PogoApi::task", e))?;
        Ok(found.map(|Static(task)| task))
    }

    /// A task's current state root (`PogoApi::state_root`).
    pub async fn state_root(&self, task: TaskId) -> Result<Option<Hash>, ChainError> {
        let call = runtime::runtime_apis().pogo_api().state_root(task);
        let view = self.view().await?;
        view.runtime_apis().call(call).await.map_err(|e| ChainError::subxt("PogoApi::state_root", e))
    }

    /// The model a task trains (storage `Pogo::TaskModels`; `None` for tasks created before protocol
    /// version 2, which have none).
    pub async fn task_model(&self, task: TaskId) -> Result<Option<ModelDescriptor>, ChainError> {
        let view = self.view().await?;
        let entry = view
            .storage()
            .entry(runtime::storage().pogo().task_models())
            .map_err(|e| ChainError::subxt("Pogo::TaskModels", e))?;
        let value = entry.try_fetch((task,)).await.map_err(|e| ChainError::subxt("Pogo::TaskModels", e))?;
        match value {
            None => Ok(None),
            Some(value) => {
                let Static(model) = value.decode().map_err(|e| ChainError::subxt("decode Pogo::TaskModels", e))?;
                Ok(Some(model))
            }
        }
    }

    /// The ids of all live tasks, ascending (`PogoApi::task_ids`, page by page up to `Pogo::NextTaskId`).
    pub async fn task_ids(&self) -> Result<Vec<TaskId>, ChainError> {
        let view = self.view().await?;
        let next = view
            .storage()
            .entry(runtime::storage().pogo().next_task_id())
            .map_err(|e| ChainError::subxt("Pogo::NextTaskId", e))?
            .fetch(())
            .await
            .map_err(|e| ChainError::subxt("Pogo::NextTaskId", e))?
            .decode()
            .map_err(|e| ChainError::subxt("decode Pogo::NextTaskId", e))?;
        let mut ids = Vec::new();
        let mut start: TaskId = 0;
        while start < next {
            let call = runtime::runtime_apis().pogo_api().task_ids(start, TASK_ID_PAGE);
            let page = view.runtime_apis().call(call).await.map_err(|e| ChainError::subxt("PogoApi::task_ids", e))?;
            ids.extend(page);
            start = start.saturating_add(TASK_ID_PAGE);
        }
        Ok(ids)
    }

    /// The seed of `miner`'s next round of `task` (`PogoApi::round_seed`).
    pub async fn round_seed(&self, task: TaskId, miner: &AccountId32) -> Result<Option<Hash>, ChainError> {
        let call = runtime::runtime_apis().pogo_api().round_seed(task, *miner);
        let view = self.view().await?;
        view.runtime_apis().call(call).await.map_err(|e| ChainError::subxt("PogoApi::round_seed", e))
    }

    /// An unsettled submission (`PogoApi::submission`).
    pub async fn submission(&self, submission: SubmissionId) -> Result<Option<ChainSubmission>, ChainError> {
        let call = runtime::runtime_apis().pogo_api().submission(submission);
        let view = self.view().await?;
        let found = view.runtime_apis().call(call).await.map_err(|e| ChainError::subxt("PogoApi::submission", e))?;
        Ok(found.map(|Static(submission)| submission))
    }

    /// The unsettled submissions of a task (`PogoApi::pending_submissions`).
    pub async fn pending_submissions(&self, task: TaskId) -> Result<Vec<ChainSubmission>, ChainError> {
        let call = runtime::runtime_apis().pogo_api().pending_submissions(task);
        let view = self.view().await?;
        let found =
            view.runtime_apis().call(call).await.map_err(|e| ChainError::subxt("PogoApi::pending_submissions", e))?;
        Ok(found.into_iter().map(|Static(submission)| submission).collect())
    }

    /// What `verifier` must check for `submission` once its challenge is fixed (`PogoApi::verifier_duty`).
    pub async fn verifier_duty(
        &self,
        submission: SubmissionId,
        verifier: &AccountId32,
    ) -> Result<Option<VerifierDuty>, ChainError> {
        let call = runtime::runtime_apis().pogo_api().verifier_duty(submission, *verifier);
        let view = self.view().await?;
        let found = view.runtime_apis().call(call).await.map_err(|e| ChainError::subxt("PogoApi::verifier_duty", e))?;
        Ok(found.map(|Static(duty)| duty))
    }

    /// An account's bond in a role (`PogoApi::bond`).
    pub async fn bond_ledger(&self, who: &AccountId32, role: Role) -> Result<Option<ChainBond>, ChainError> {
        let call = runtime::runtime_apis().pogo_api().bond(*who, Static(role));
        let view = self.view().await?;
        let found = view.runtime_apis().call(call).await.map_err(|e| ChainError::subxt("PogoApi::bond", e))?;
        Ok(found.map(|Static(ledger)| ledger))
    }

    /// An account's free balance (storage `System::Account`; 0 for an unknown account).
    pub async fn free_balance(&self, who: &AccountId32) -> Result<Balance, ChainError> {
        let view = self.view().await?;
        let account = view
            .storage()
            .entry(runtime::storage().system().account())
            .map_err(|e| ChainError::subxt("System::Account", e))?
            .fetch((*who,))
            .await
            .map_err(|e| ChainError::subxt("System::Account", e))?
            .decode()
            .map_err(|e| ChainError::subxt("decode System::Account", e))?;
        Ok(account.data.free)
    }

    /// The chain's longest locator (constant `Pogo::MaxLocatorLen`).
    pub async fn max_locator_len(&self) -> Result<u32, ChainError> {
        let view = self.view().await?;
        view.constants()
            .entry(runtime::constants().pogo().max_locator_len())
            .map_err(|e| ChainError::subxt("Pogo::MaxLocatorLen", e))
    }
}

/// A header's block number as the chain's type (block numbers are `u32` on pogo).
pub(crate) fn block_number(number: u64) -> BlockNumber {
    BlockNumber::try_from(number).unwrap_or(BlockNumber::MAX)
}
