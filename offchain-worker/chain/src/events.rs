//! pallet-pogo's events: of one block, of a range of blocks, and as a stream of new blocks.

use crate::{client::block_number, error::ChainError, runtime, BlockNumber, ChainClient, PogoEvent};
use futures::{future, stream, Stream, StreamExt};
use pogo_primitives::Hash;
use std::{pin::Pin, sync::Arc};
use subxt::{config::substrate::H256, error::EventsError, events::Event, PolkadotConfig};

/// Most blocks [`ChainClient::events_in_range`] reads in one call.
pub const MAX_EVENT_RANGE: u32 = 1000;

/// The pallet-pogo events of one block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockEvents {
    /// The block's number.
    pub number: BlockNumber,
    /// The block's hash.
    pub hash: Hash,
    /// Its `Pogo` events in the order they were emitted.
    pub events: Vec<PogoEvent>,
}

/// A stream of the pallet-pogo events of new blocks (see [`ChainClient::subscribe_events`]).
pub type EventStream = Pin<Box<dyn Stream<Item = Result<BlockEvents, ChainError>> + Send>>;

impl ChainClient {
    /// The `Pogo` events of the block with `hash`.
    pub async fn events_at(&self, hash: Hash) -> Result<BlockEvents, ChainError> {
        let at = self.at_hash(H256(hash)).await?;
        let events = at.events().fetch().await.map_err(|e| ChainError::subxt("fetch events", e))?;
        Ok(BlockEvents { number: block_number(at.block_number()), hash, events: pogo_events(events.iter())? })
    }

    /// The `Pogo` events of the block reads look at (the best block by default).
    pub async fn latest_events(&self) -> Result<BlockEvents, ChainError> {
        let at = self.view().await?;
        let events = at.events().fetch().await.map_err(|e| ChainError::subxt("fetch events", e))?;
        Ok(BlockEvents {
            number: block_number(at.block_number()),
            hash: at.block_hash().0,
            events: pogo_events(events.iter())?,
        })
    }

    /// The `Pogo` events of blocks `from..=to` of the best chain, oldest first (at most
    /// [`MAX_EVENT_RANGE`] blocks; blocks beyond the best block are not read).
    pub async fn events_in_range(&self, from: BlockNumber, to: BlockNumber) -> Result<Vec<BlockEvents>, ChainError> {
        let bad_range = ChainError::BadBlockRange { from, to, max: MAX_EVENT_RANGE };
        let Some(span) = to.checked_sub(from) else { return Err(bad_range) };
        if span >= MAX_EVENT_RANGE {
            return Err(bad_range);
        }
        let best = self.best_number().await?;
        let mut blocks = Vec::new();
        for number in from..=to.min(best) {
            let hash = self.block_hash(number).await?;
            blocks.push(self.events_at(hash.0).await?);
        }
        Ok(blocks)
    }

    /// A stream of the `Pogo` events of each new block: new best blocks, or (with `finalized`) every
    /// newly finalized block. Blocks the node skips in its notifications, or that were made while the
    /// connection was down (the subscription is renewed after a reconnection), are filled in from the
    /// best chain, up to [`MAX_EVENT_RANGE`] blocks back; a reorganisation may repeat a number.
    pub async fn subscribe_events(&self, finalized: bool) -> Result<EventStream, ChainError> {
        let blocks = if finalized { self.api.stream_blocks().await } else { self.api.stream_best_blocks().await }
            .map_err(|e| ChainError::subxt("subscribe to blocks", e))?;
        let client = self.clone();
        let last_seen = Arc::new(tokio::sync::Mutex::new(None::<BlockNumber>));
        let stream = blocks
            .filter_map(|block| {
                // The subscription reports a lost connection once, then renews itself.
                let item = block.map_err(subxt::Error::from);
                future::ready(match item {
                    Err(error) if error.is_disconnected_will_reconnect() => None,
                    other => Some(other),
                })
            })
            .then(move |block| {
                let client = client.clone();
                let last_seen = Arc::clone(&last_seen);
                async move {
                    let block = block.map_err(|e| ChainError::subxt("block stream", e))?;
                    let number = block_number(block.number());
                    let mut last_seen = last_seen.lock().await;
                    let mut found = Vec::new();
                    if let Some(previous) = *last_seen {
                        let first_missing = previous.saturating_add(1).max(number.saturating_sub(MAX_EVENT_RANGE));
                        for missing in first_missing..number {
                            let hash = client.block_hash(missing).await?;
                            found.push(client.events_at(hash.0).await?);
                        }
                    }
                    found.push(client.events_at(block.hash().0).await?);
                    *last_seen = Some(last_seen.map_or(number, |previous| previous.max(number)));
                    Ok::<_, ChainError>(found)
                }
            })
            .flat_map(|blocks| match blocks {
                Ok(blocks) => stream::iter(blocks.into_iter().map(Ok)).left_stream(),
                Err(error) => stream::once(future::ready(Err(error))).right_stream(),
            });
        Ok(Box::pin(stream))
    }
}

/// The `Pogo` events among `events`, decoded as the generated pallet event enum.
pub(crate) fn pogo_events<'a>(
    events: impl Iterator<Item = Result<Event<'a, PolkadotConfig>, EventsError>>,
) -> Result<Vec<PogoEvent>, ChainError> {
    let mut found = Vec::new();
    for event in events {
        let event = event.map_err(|e| ChainError::subxt("decode event", e))?;
        if event.pallet_name() != "Pogo" {
            continue;
        }
        if let runtime::Event::Pogo(pogo) =
            event.decode_as::<runtime::Event>().map_err(|e| ChainError::subxt("decode Pogo event", e))?
        {
            found.push(pogo);
        }
    }
    Ok(found)
}
