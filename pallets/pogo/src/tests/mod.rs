//! Tests, split by theme. Every test runs inside `mock::test`, which checks the pallet's invariants
//! after it.

mod helpers;
mod scenarios;
mod tasks;
