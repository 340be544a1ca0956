//! # pogo-runtime
//!
//! The pogo parachain runtime: [`pallet_pogo`] (PoGO — Proof of Gradient Optimization) on a cumulus
//! parachain with balances, transaction payment, aura + collator selection + session, sudo (dev and local
//! presets only), utility, and the XCM / message-queue basics every parachain needs.
//!
//! Challenge randomness comes from the relay chain's BABE epoch randomness in the relay state proof
//! ([`configs::pogo::RelayEpochRandomness`]); never from collator data. On `--dev` chains the relay chain is
//! mocked and this randomness is predictable: development only.

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime!` recurses deeply.
#![recursion_limit = "256"]
// FRAME's runtime macros expand to code that indexes and unwraps on values they build themselves; the
// runtime's own logic lives in pallet-pogo, where the strict lints apply.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic,
    missing_docs
)]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

extern crate alloc;

pub mod apis;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarks;
pub mod configs;
pub mod genesis_config_presets;
#[cfg(feature = "std")]
pub mod limits;
pub mod weights;

#[cfg(test)]
mod tests;

use alloc::vec::Vec;
use polkadot_sdk::{
    cumulus_pallet_parachain_system, frame_support, frame_system, sp_runtime, sp_version, *,
};
use smallvec::smallvec;
use sp_runtime::{
    generic, impl_opaque_keys,
    traits::{BlakeTwo256, IdentifyAccount, Verify},
    MultiSignature,
};
use sp_version::RuntimeVersion;

use frame_support::weights::{
    constants::WEIGHT_REF_TIME_PER_SECOND, Weight, WeightToFeeCoefficient, WeightToFeeCoefficients,
    WeightToFeePolynomial,
};
pub use sp_consensus_aura::sr25519::AuthorityId as AuraId;
pub use sp_runtime::{MultiAddress, Perbill, Permill};
use weights::ExtrinsicBaseWeight;

/// Signature of an extrinsic.
pub type Signature = MultiSignature;
/// An account id: the public key of the signature scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;
/// Balance of an account.
pub type Balance = u128;
/// Transaction nonce.
pub type Nonce = u32;
/// Block hash.
pub type Hash = sp_core::H256;
/// Block number.
pub type BlockNumber = u32;
/// Address format.
pub type Address = MultiAddress<AccountId, ()>;
/// Block header.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
/// Block.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;
/// A signed block.
pub type SignedBlock = generic::SignedBlock<Block>;
/// Block id.
pub type BlockId = generic::BlockId<Block>;

/// Transaction extensions, in order.
pub type TxExtension = cumulus_pallet_weight_reclaim::StorageWeightReclaim<
    Runtime,
    (
        frame_system::AuthorizeCall<Runtime>,
        frame_system::CheckNonZeroSender<Runtime>,
        frame_system::CheckSpecVersion<Runtime>,
        frame_system::CheckTxVersion<Runtime>,
        frame_system::CheckGenesis<Runtime>,
        frame_system::CheckEra<Runtime>,
        frame_system::CheckNonce<Runtime>,
        frame_system::CheckWeight<Runtime>,
        pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
    ),
>;

/// Unchecked extrinsic.
pub type UncheckedExtrinsic = generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;

/// Runtime migrations: pallet-pogo storage v0 -> v1 (runs once, only on a chain at version 0).
pub type Migrations = (
    pallet_pogo::migrations::v1::MigrateV0ToV1<Runtime>,
    pallet_pogo::migrations::v2::MigrateV1ToV2<Runtime>,
);

/// Executive: dispatches to the pallets.
pub type Executive = frame_executive::Executive<
    Runtime,
    Block,
    frame_system::ChainContext<Runtime>,
    Runtime,
    AllPalletsWithSystem,
    Migrations,
>;

/// Maps weight to fee: the base extrinsic weight costs 1/10 MILLIUNIT.
pub struct WeightToFee;
impl WeightToFeePolynomial for WeightToFee {
    type Balance = Balance;
    fn polynomial() -> WeightToFeeCoefficients<Self::Balance> {
        let p = MILLIUNIT / 10;
        let q = 100 * Balance::from(ExtrinsicBaseWeight::get().ref_time());
        smallvec![WeightToFeeCoefficient {
            degree: 1,
            negative: false,
            coeff_frac: Perbill::from_rational(p % q, q),
            coeff_integer: p / q,
        }]
    }
}

/// Opaque types for the node.
pub mod opaque {
    use super::*;
    pub use polkadot_sdk::sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;
    use polkadot_sdk::sp_runtime::{
        generic,
        traits::{BlakeTwo256, Hash as HashT},
    };
    /// Header.
    pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
    /// Block.
    pub type Block = generic::Block<Header, UncheckedExtrinsic>;
    /// Block id.
    pub type BlockId = generic::BlockId<Block>;
    /// Block hash.
    pub type Hash = <BlakeTwo256 as HashT>::Output;
}

impl_opaque_keys! {
    pub struct SessionKeys {
        pub aura: Aura,
    }
}

/// Declares [`VERSION`] with the given `spec_version`: the runtime's own, or one higher in the
/// `increment-spec-version` build, the upgrade the zombienet suite applies with `sudo(set_code)`
/// (`pogo_runtime_upgrade.compact.compressed.wasm`, built next to the runtime's wasm when the
/// `upgrade-test-wasm` feature is on; see build.rs). `runtime_version` needs a literal, hence the macro.
macro_rules! runtime_version_with_spec {
    ($spec_version:tt) => {
        #[sp_version::runtime_version]
        pub const VERSION: RuntimeVersion = RuntimeVersion {
            spec_name: alloc::borrow::Cow::Borrowed("pogo"),
            impl_name: alloc::borrow::Cow::Borrowed("pogo"),
            authoring_version: 1,
            spec_version: $spec_version,
            impl_version: 0,
            apis: apis::RUNTIME_API_VERSIONS,
            transaction_version: 1,
            system_version: 1,
        };
    };
}
#[cfg(not(feature = "increment-spec-version"))]
runtime_version_with_spec!(1);
#[cfg(feature = "increment-spec-version")]
runtime_version_with_spec!(2);

/// Target block time.
pub const MILLISECS_PER_BLOCK: u64 = 6000;
/// Aura slot duration (cannot change after launch).
pub const SLOT_DURATION: u64 = MILLISECS_PER_BLOCK;
/// Blocks per minute.
pub const MINUTES: BlockNumber = 60_000 / (MILLISECS_PER_BLOCK as BlockNumber);
/// Blocks per hour.
pub const HOURS: BlockNumber = MINUTES * 60;
/// Blocks per day.
pub const DAYS: BlockNumber = HOURS * 24;

/// One token (12 decimals).
pub const UNIT: Balance = 1_000_000_000_000;
/// 1/1000 token.
pub const MILLIUNIT: Balance = 1_000_000_000;
/// 1/1,000,000 token.
pub const MICROUNIT: Balance = 1_000_000;
/// Existential deposit.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLIUNIT;

/// Share of block weight assumed for `on_initialize`.
const AVERAGE_ON_INITIALIZE_RATIO: Perbill = Perbill::from_percent(5);
/// Normal extrinsics may fill 75% of a block.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);
/// Two seconds of compute per six-second block; proof size bounded by the relay chain's PoV limit.
const MAXIMUM_BLOCK_WEIGHT: Weight = Weight::from_parts(
    WEIGHT_REF_TIME_PER_SECOND.saturating_mul(2),
    cumulus_primitives_core::relay_chain::MAX_POV_SIZE as u64,
);
/// Unincluded blocks the runtime accepts.
const UNINCLUDED_SEGMENT_CAPACITY: u32 = 3;
/// Parachain blocks per relay parent.
const BLOCK_PROCESSING_VELOCITY: u32 = 1;
/// Relay chain slot duration.
const RELAY_CHAIN_SLOT_DURATION_MILLIS: u32 = 6000;

/// Aura consensus hook: fixed velocity, bounded unincluded segment.
pub(crate) type ConsensusHook = cumulus_pallet_aura_ext::FixedVelocityConsensusHook<
    Runtime,
    RELAY_CHAIN_SLOT_DURATION_MILLIS,
    BLOCK_PROCESSING_VELOCITY,
    UNINCLUDED_SEGMENT_CAPACITY,
>;


#[frame_support::runtime]
mod runtime {
    #[runtime::runtime]
    #[runtime::derive(
        RuntimeCall,
        RuntimeEvent,
        RuntimeError,
        RuntimeOrigin,
        RuntimeFreezeReason,
        RuntimeHoldReason,
        RuntimeSlashReason,
        RuntimeLockId,
        RuntimeTask,
        RuntimeViewFunction
    )]
    pub struct Runtime;

    // System support.
    #[runtime::pallet_index(0)]
    pub type System = frame_system;
    #[runtime::pallet_index(1)]
    pub type ParachainSystem = cumulus_pallet_parachain_system;
    #[runtime::pallet_index(2)]
    pub type Timestamp = pallet_timestamp;
    #[runtime::pallet_index(3)]
    pub type ParachainInfo = staging_parachain_info;
    #[runtime::pallet_index(4)]
    pub type WeightReclaim = cumulus_pallet_weight_reclaim;

    // Money.
    #[runtime::pallet_index(10)]
    pub type Balances = pallet_balances;
    #[runtime::pallet_index(11)]
    pub type TransactionPayment = pallet_transaction_payment;

    // Governance (dev and local presets).
    #[runtime::pallet_index(15)]
    pub type Sudo = pallet_sudo;

    // Collators. The order of these is important.
    #[runtime::pallet_index(20)]
    pub type Authorship = pallet_authorship;
    #[runtime::pallet_index(21)]
    pub type CollatorSelection = pallet_collator_selection;
    #[runtime::pallet_index(22)]
    pub type Session = pallet_session;
    #[runtime::pallet_index(23)]
    pub type Aura = pallet_aura;
    #[runtime::pallet_index(24)]
    pub type AuraExt = cumulus_pallet_aura_ext;

    // XCM.
    #[runtime::pallet_index(30)]
    pub type XcmpQueue = cumulus_pallet_xcmp_queue;
    #[runtime::pallet_index(31)]
    pub type PolkadotXcm = pallet_xcm;
    #[runtime::pallet_index(32)]
    pub type CumulusXcm = cumulus_pallet_xcm;
    #[runtime::pallet_index(33)]
    pub type MessageQueue = pallet_message_queue;

    // Utility.
    #[runtime::pallet_index(40)]
    pub type Utility = pallet_utility;

    // PoGO.
    #[runtime::pallet_index(50)]
    pub type Pogo = pallet_pogo;
}

cumulus_pallet_parachain_system::register_validate_block! {
    Runtime = Runtime,
    BlockExecutor = cumulus_pallet_aura_ext::BlockExecutor::<Runtime, Executive>,
}

