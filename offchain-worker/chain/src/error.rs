//! Why a chain operation failed: typed, with the dispatch error of a failed transaction by name.

use crate::proof::ProofError;
use subxt::error::{DispatchError, ExtrinsicError};

/// Why a [`ChainClient`](crate::ChainClient) operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The first connection to the node could not be made (later disconnections are retried by the
    /// reconnecting RPC client and do not surface here).
    #[error("cannot connect to {url}: {reason}")]
    Connect {
        /// The node's URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// A subxt operation failed (RPC, metadata, decoding of a generated type).
    #[error("{context}: {source}")]
    Subxt {
        /// What was being done.
        context: &'static str,
        /// The subxt error.
        #[source]
        source: Box<subxt::Error>,
    },
    /// A raw RPC method failed.
    #[error("RPC {method} failed: {source}")]
    Rpc {
        /// The JSON-RPC method.
        method: &'static str,
        /// The RPC error.
        #[source]
        source: subxt::rpcs::Error,
    },
    /// The node does not know a block it should know (a pruned or unknown hash or number).
    #[error("block {0} not found on the node")]
    BlockNotFound(String),
    /// Bytes from the chain did not decode as the expected type.
    #[error("cannot decode {what}: {source}")]
    Decode {
        /// What was decoded.
        what: &'static str,
        /// The codec error.
        #[source]
        source: codec::Error,
    },
    /// The transaction was included but failed: the dispatch error, by name.
    #[error("transaction failed: {0}")]
    Dispatch(DispatchFailure),
    /// The transaction pool refused the transaction for a transient reason (a competing transaction
    /// with the same nonce, a stale nonce, a temporary ban, a lost connection) on every attempt.
    #[error("transaction refused by the pool after {attempts} attempts: {reason}")]
    PoolRefused {
        /// Attempts made.
        attempts: u32,
        /// The last refusal.
        reason: String,
    },
    /// The transaction is invalid (bad signature, cannot pay fees, …) or was dropped for good.
    #[error("transaction invalid: {0}")]
    TxInvalid(String),
    /// The connection was lost after the transaction was handed to the node, and whether it was
    /// included is unknown: the caller must look at the chain state before submitting it again.
    #[error("transaction {tx_hash} submitted but its inclusion is unknown: {reason}")]
    InclusionUnknown {
        /// Hash of the transaction (hex).
        tx_hash: String,
        /// What was lost.
        reason: String,
    },
    /// The transaction succeeded but did not emit the event the call promises.
    #[error("transaction succeeded without emitting Pogo::{0}")]
    MissingEvent(&'static str),
    /// A locator is longer than the chain's `MaxLocatorLen`.
    #[error("locator of {len} bytes is longer than the chain's limit of {max}")]
    LocatorTooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: u32,
    },
    /// A block range for events is empty or longer than [`MAX_EVENT_RANGE`](crate::MAX_EVENT_RANGE).
    #[error("block range {from}..={to} is empty or longer than {max} blocks")]
    BadBlockRange {
        /// First block.
        from: u32,
        /// Last block.
        to: u32,
        /// The longest range served.
        max: u32,
    },
    /// A storage read proof did not check out.
    #[error("read proof: {0}")]
    Proof(#[from] ProofError),
}

impl ChainError {
    /// Wraps any subxt error with what was being done.
    pub(crate) fn subxt(context: &'static str, error: impl Into<subxt::Error>) -> Self {
        ChainError::Subxt { context, source: Box::new(error.into()) }
    }

    /// Wraps a raw RPC error.
    pub(crate) fn rpc(method: &'static str, source: subxt::rpcs::Error) -> Self {
        ChainError::Rpc { method, source }
    }

    /// The dispatch error's name when the transaction failed in a pallet (`("Pogo", "WrongBaseRoot")`).
    pub fn module_error(&self) -> Option<(&str, &str)> {
        match self {
            ChainError::Dispatch(DispatchFailure::Module { pallet, error }) => Some((pallet, error)),
            _ => None,
        }
    }

    /// Whether the transaction failed with `pallet::error` (e.g. `is_module_error("Pogo", "WrongBaseRoot")`).
    pub fn is_module_error(&self, pallet: &str, error: &str) -> bool {
        self.module_error() == Some((pallet, error))
    }
}

/// Why an included transaction failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DispatchFailure {
    /// A pallet's error, by pallet and variant name (shown as `Pogo::WrongBaseRoot`).
    Module {
        /// The pallet (`Pogo`, `Balances`, …).
        pallet: String,
        /// The error variant.
        error: String,
    },
    /// Any other dispatch error (`BadOrigin`, a token or arithmetic error, …), described.
    Other(String),
}

impl core::fmt::Display for DispatchFailure {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            DispatchFailure::Module { pallet, error } => write!(f, "{pallet}::{error}"),
            DispatchFailure::Other(what) => f.write_str(what),
        }
    }
}

impl From<&DispatchError> for DispatchFailure {
    fn from(error: &DispatchError) -> Self {
        match error {
            DispatchError::Module(module) => match module.details() {
                Ok(details) => DispatchFailure::Module {
                    pallet: details.pallet.name().to_string(),
                    error: details.variant.name.clone(),
                },
                Err(_) => DispatchFailure::Other(module.details_string()),
            },
            other => DispatchFailure::Other(format!("{other:?}")),
        }
    }
}

/// How the pool or the connection refused a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// Not accepted, for a reason that may pass: retry with a fresh nonce.
    Transient(String),
    /// The connection failed while the transaction was being handed over: it may or may not be in
    /// the pool.
    Connection(String),
    /// Not accepted, for good.
    Permanent(String),
}

/// Pool messages (the JSON-RPC error's message and data) that mean "try again".
const TRANSIENT_POOL_MESSAGES: [&str; 8] = [
    "priority is too low",
    // The birth block fell out of the era window (a long wait on a busy node): re-signed from a fresh one.
    "ancient birth block",
    "transaction is outdated",
    "stale",
    "temporarily banned",
    "too many transactions",
    "immediately dropped",
    "future",
];

/// Classifies a pool or transport message.
pub(crate) fn classify_refusal(message: &str) -> Refusal {
    let lower = message.to_ascii_lowercase();
    if TRANSIENT_POOL_MESSAGES.iter().any(|m| lower.contains(m)) {
        Refusal::Transient(message.to_string())
    } else if ["connection", "reconnect", "restart", "closed", "reset", "dropped", "timed out", "timeout"]
        .iter()
        .any(|m| lower.contains(m))
    {
        Refusal::Connection(message.to_string())
    } else {
        Refusal::Permanent(message.to_string())
    }
}

/// The full text of a submission error: the JSON-RPC error's code, message and data where the pool
/// answered (the data holds the reason, e.g. "Transaction is outdated"), else the error chain.
pub(crate) fn submission_error_text(error: &ExtrinsicError) -> String {
    use subxt::error::{BackendError, RpcError};
    if let ExtrinsicError::ErrorSubmittingTransaction(BackendError::Rpc(RpcError::ClientError(
        subxt::rpcs::Error::User(user),
    ))) = error
    {
        let data = user.data.as_ref().map(|d| d.get().to_string()).unwrap_or_default();
        return format!("{} ({}) {}", user.message, user.code, data);
    }
    error_chain_text(error)
}

/// An error and its sources, joined.
pub(crate) fn error_chain_text(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_messages_are_classified() {
        assert!(matches!(classify_refusal("Priority is too low: (10 vs 10) (1014)"), Refusal::Transient(_)));
        assert!(matches!(
            classify_refusal("Invalid Transaction (1010) \"Transaction is outdated\""),
            Refusal::Transient(_)
        ));
        assert!(matches!(classify_refusal("Transaction is temporarily banned (1012)"), Refusal::Transient(_)));
        assert!(matches!(
            classify_refusal("Invalid Transaction (1010) \"Transaction has an ancient birth block\""),
            Refusal::Transient(_)
        ));
        assert!(matches!(
            classify_refusal("RPC error: the connection was lost (reset); reconnect automatically initiated"),
            Refusal::Connection(_)
        ));
        assert!(matches!(
            classify_refusal(
                "Invalid Transaction (1010) \"Inability to pay some fees (e.g. account balance too low)\""
            ),
            Refusal::Permanent(_)
        ));
        assert!(matches!(
            classify_refusal("Invalid Transaction (1010) \"Transaction has a bad signature\""),
            Refusal::Permanent(_)
        ));
    }

    #[test]
    fn dispatch_failure_displays_pallet_and_name() {
        let failure = DispatchFailure::Module { pallet: "Pogo".into(), error: "WrongBaseRoot".into() };
        assert_eq!(failure.to_string(), "Pogo::WrongBaseRoot");
        let error = ChainError::Dispatch(failure);
        assert!(error.is_module_error("Pogo", "WrongBaseRoot"));
        assert!(!error.is_module_error("Pogo", "UnknownTask"));
        assert_eq!(error.to_string(), "transaction failed: Pogo::WrongBaseRoot");
    }
}
