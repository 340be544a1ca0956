//! Phase `Prepare`: the base state of the next round, whose root is the task's current state root —
//! from this miner's own store, else derived (the task's initial state), else downloaded from where the
//! chain says the current model lives (`model_locator`). A downloaded state is checked against the root
//! before a byte of it is used, then kept in the store.

use super::MinerEvent;
use crate::local_task::{initial_state, LocalTask};
use pogo_engine::ModelState;
use pogo_primitives::Hash;
use pogo_store::{ClientLimits, DaClient, RoundStore};
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

/// Why no base state could be had.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// Not in the store, not the initial state, and the chain names no locator.
    #[error("the state {} is not in the store, is not the task's initial state, and the chain names no locator for it", hex::encode(.0))]
    Unavailable(Hash),
    /// The download failed or the server sent something else than the committed state.
    #[error("downloading the state {} from {locator}: {reason}", hex::encode(.root))]
    Download {
        /// The root asked for.
        root: Hash,
        /// Where from.
        locator: String,
        /// What went wrong.
        reason: String,
    },
    /// The round store failed.
    #[error("round store: {0}")]
    Store(String),
}

/// Where the base state came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BaseSource {
    /// This miner's store.
    Store,
    /// Derived: the task's initial state.
    Initial,
    /// Downloaded from a locator and checked.
    Downloaded(String),
}

/// The state with root `root` and where it came from.
pub async fn base_state(
    local: &LocalTask,
    store: &Arc<RoundStore>,
    root: Hash,
    model_locator: &[u8],
    limits: ClientLimits,
    events: &UnboundedSender<MinerEvent>,
) -> Result<(ModelState, BaseSource), PrepareError> {
    let spec = *local.engine.spec();
    let store_err = |e: pogo_store::StoreError| PrepareError::Store(e.to_string());
    if store.has_state(&root) {
        let s = store.clone();
        let loaded = tokio::task::spawn_blocking(move || s.load_state(&spec, &root))
            .await
            .map_err(|e| PrepareError::Store(e.to_string()))?;
        match loaded {
            Ok(state) => return Ok((state, BaseSource::Store)),
            // A damaged file is never used; fall through to the other sources.
            Err(e) => {
                let _ = events.send(MinerEvent::Info(format!("stored state {} refused: {e}", short(&root))));
            },
        }
    }
    let initial = initial_state(&spec, local.engine.model().as_model());
    if initial.root(&spec).map_err(|e| PrepareError::Store(e.to_string()))? == root {
        store.put_state(&spec, &initial).map_err(store_err)?;
        return Ok((initial, BaseSource::Initial));
    }
    if model_locator.is_empty() {
        return Err(PrepareError::Unavailable(root));
    }
    let locator = String::from_utf8_lossy(model_locator).into_owned();
    let download = |reason: String| PrepareError::Download { root, locator: locator.clone(), reason };
    let client = DaClient::new(&locator, limits).map_err(|e| download(e.to_string()))?;
    let _ = events.send(MinerEvent::Info(format!("downloading base state {} from {locator}", short(&root))));
    let state = client.fetch_state(&spec, &root).await.map_err(|e| download(e.to_string()))?;
    store.put_state(&spec, &state).map_err(store_err)?;
    Ok((state, BaseSource::Downloaded(locator)))
}

/// The first 8 hex digits of a hash (for messages).
pub fn short(h: &Hash) -> String {
    hex::encode(&h[..4])
}
