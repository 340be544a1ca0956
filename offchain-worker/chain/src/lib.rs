//! # pogo-chain
//!
//! The off-chain worker's view of the pogo parachain: a [subxt](https://docs.rs/subxt) client whose
//! types are generated at compile time from the checked-in runtime metadata (`metadata/pogo.scale`).
//!
//! * [`runtime`] — the generated interface: calls, storage, events, constants and runtime APIs. The
//!   protocol's records decode straight into `pogo_primitives` types (wrapped in
//!   [`subxt::utils::Static`]), so a [`TaskView`](pogo_primitives::views::TaskView) read from
//!   `PogoApi` is the same Rust type the miner computes with.
//! * [`Signer`] — an sr25519 key from a secret URI (`//Alice`, a mnemonic with `//hard/soft` paths and
//!   `///password`) or a polkadot.js JSON key file. It prints only its SS58 address.
//! * [`ChainClient`] — a connection through subxt's reconnecting RPC client (a node restart does not
//!   lose it), typed reads (`PogoApi`, storage) and signed transactions that wait for inclusion and
//!   hand back the pallet events they emitted or the dispatch error by name (`Pogo::WrongBaseRoot`).
//!   Nonces come from the node's pool-aware `system_accountNextIndex`; a client submits one
//!   transaction at a time and retries transient pool refusals a bounded number of times.
//! * [`proof`] — a task read from the latest finalized block with a storage read proof checked
//!   against the block header's state root ([`ChainClient::verified_task`]), so a worker need not
//!   trust its RPC node for the model's state root and locator.
//! * [`ChainBackend`] — exactly what a miner reads and writes, implemented for [`ChainClient`] so the
//!   miner's state machine can run against an in-memory chain in tests.
//!
//! Everything here is `std`; nothing links libtorch.

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod backend;
mod client;
mod error;
mod events;
pub mod proof;
mod signer;
mod tx;

pub use backend::ChainBackend;
pub use client::{ChainClient, ConnectOptions, ReadAt, RuntimeVersionInfo, TxOptions};
pub use error::{ChainError, DispatchFailure};
pub use events::{BlockEvents, EventStream, MAX_EVENT_RANGE};
pub use proof::VerifiedTask;
pub use signer::{Signer, SignerError};
pub use tx::{NewTask, TxOutcome};

/// An account on the pogo chain (sr25519 public key, shown in SS58 with prefix 42).
pub use subxt::utils::AccountId32;

/// Balance of the chain's currency.
pub type Balance = u128;
/// Block number.
pub type BlockNumber = u32;
/// A task as `PogoApi::task` reports it.
pub type ChainTask = pogo_primitives::views::TaskView<AccountId32, Balance, BlockNumber>;
/// A submission as `PogoApi::submission` reports it.
pub type ChainSubmission = pogo_primitives::views::SubmissionView<AccountId32, Balance, BlockNumber>;
/// An account's bond ledger in one role.
pub type ChainBond = pogo_primitives::views::BondLedger<Balance, BlockNumber>;
/// A task's parameters with the chain's balance and block number types.
pub type ChainTaskParams = pogo_primitives::views::TaskParams<Balance, BlockNumber>;
/// An event of pallet-pogo, as generated from the metadata (`RoundSubmitted`, `RoundAccepted`, …).
pub type PogoEvent = runtime::pogo::Event;

/// The interface generated from `metadata/pogo.scale`.
///
/// The protocol's records are substituted by their `pogo_primitives` definitions, wrapped in
/// [`subxt::utils::Static`] (they have the same SCALE encoding by construction: the pallet uses
/// these very types). The pallet's `BoundedModelDescriptor` is substituted by the unbounded
/// [`pogo_primitives::ModelDescriptor`], whose encoding is the same (a bounded vector encodes as a
/// vector).
#[subxt::subxt(
    runtime_metadata_path = "metadata/pogo.scale",
    derive_for_all_types = "Clone, Eq, PartialEq",
    substitute_type(
        path = "pogo_primitives::views::TaskView<A, B, C>",
        with = "::subxt::utils::Static<::pogo_primitives::views::TaskView<A, B, C>>"
    ),
    substitute_type(
        path = "pogo_primitives::views::SubmissionView<A, B, C>",
        with = "::subxt::utils::Static<::pogo_primitives::views::SubmissionView<A, B, C>>"
    ),
    substitute_type(
        path = "pogo_primitives::views::VerifierDuty",
        with = "::subxt::utils::Static<::pogo_primitives::views::VerifierDuty>"
    ),
    substitute_type(
        path = "pogo_primitives::views::BondLedger<A, B>",
        with = "::subxt::utils::Static<::pogo_primitives::views::BondLedger<A, B>>"
    ),
    substitute_type(
        path = "pogo_primitives::views::TaskParams<A, B>",
        with = "::subxt::utils::Static<::pogo_primitives::views::TaskParams<A, B>>"
    ),
    substitute_type(
        path = "pogo_primitives::views::Phase<A>",
        with = "::subxt::utils::Static<::pogo_primitives::views::Phase<A>>"
    ),
    substitute_type(
        path = "pogo_primitives::views::Role",
        with = "::subxt::utils::Static<::pogo_primitives::views::Role>"
    ),
    substitute_type(
        path = "pogo_primitives::views::TaskStatus",
        with = "::subxt::utils::Static<::pogo_primitives::views::TaskStatus>"
    ),
    substitute_type(
        path = "pogo_primitives::round::RoundCommitment",
        with = "::subxt::utils::Static<::pogo_primitives::round::RoundCommitment>"
    ),
    substitute_type(
        path = "pogo_primitives::spec::TrainingSpec",
        with = "::subxt::utils::Static<::pogo_primitives::spec::TrainingSpec>"
    ),
    substitute_type(
        path = "pogo_primitives::fraud::FraudProof",
        with = "::subxt::utils::Static<::pogo_primitives::fraud::FraudProof>"
    ),
    substitute_type(
        path = "pogo_primitives::fraud::Fraud",
        with = "::subxt::utils::Static<::pogo_primitives::fraud::Fraud>"
    ),
    substitute_type(
        path = "pogo_primitives::verdict::Verdict",
        with = "::subxt::utils::Static<::pogo_primitives::verdict::Verdict>"
    ),
    substitute_type(
        path = "pogo_primitives::seed::SampleSizes",
        with = "::subxt::utils::Static<::pogo_primitives::seed::SampleSizes>"
    ),
    substitute_type(
        path = "pogo_primitives::tolerance::Tolerance",
        with = "::subxt::utils::Static<::pogo_primitives::tolerance::Tolerance>"
    ),
    substitute_type(
        path = "pallet_pogo::types::BoundedModelDescriptor",
        with = "::subxt::utils::Static<::pogo_primitives::model::ModelDescriptor>"
    )
)]
pub mod runtime {}

#[cfg(test)]
mod metadata_tests;
