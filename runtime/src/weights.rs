//! Weights: the base block/extrinsic/database constants and the weights `scripts/weights.sh` generates
//! with `pogo-node benchmark pallet` for this runtime's other pallets. pallet-pogo's own generated
//! weights live in the pallet (`pallet_pogo::weights::SubstrateWeight`), measured on this runtime.

pub use polkadot_sdk::frame_support::weights::constants::{
    BlockExecutionWeight, ExtrinsicBaseWeight, RocksDbWeight,
};

pub mod frame_system;
pub mod pallet_balances;
pub mod pallet_timestamp;
pub mod pallet_utility;
