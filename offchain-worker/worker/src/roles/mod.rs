//! The worker's roles, each a state machine over the pallet's phases (the verifier arrives with its own
//! issue).

pub mod miner;
