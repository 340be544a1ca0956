//! # pogo-worker
//!
//! The PoGO off-chain worker as a library (the `pogo-worker` binary is a thin `clap` front end):
//!
//! - [`roles::miner`]: the miner, a state machine over the pallet's phases with a crash-safe journal;
//! - [`local_task`]: a chain task made trainable here (model from the committed descriptor, data set
//!   checked against the committed roots), or the reason it cannot be;
//! - [`commands`]: `devnet`, `mine`, `serve`, `fetch-model`, `inspect`, `create-task`, `bond`;
//! - [`metrics`]: Prometheus metrics; [`ui`]: progress bars and event lines.
//!
//! The engine (`pogo-engine`, libtorch), the round store and DA server (`pogo-store`) and the chain client
//! (`pogo-chain`, subxt) are crates of their own.

pub mod adversary;
pub mod cli;
pub mod commands;
pub mod local_task;
pub mod metrics;
pub mod roles;
pub mod ui;
