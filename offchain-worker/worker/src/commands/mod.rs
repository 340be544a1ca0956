//! The subcommands.

pub mod create_task;
pub mod devnet;
pub mod fetch_model;
pub mod inspect;
pub mod mine;
pub mod verify;
