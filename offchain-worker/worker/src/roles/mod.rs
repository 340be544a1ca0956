//! The worker's roles, each a state machine over the pallet's phases.

pub mod miner;
pub mod verifier;
