//! Tests, split by theme. Every test runs inside `mock::test`, which checks the pallet's invariants
//! after it.

mod api;
mod attacks;
mod attestations;
mod bonds;
mod errors;
mod fuzz;
mod helpers;
mod migration;
mod scenarios;
mod submissions;
mod tasks;
mod weights;
