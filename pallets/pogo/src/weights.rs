//! Weights of pallet-pogo.
//!
//! The `()` implementation carries conservative **placeholder** values until weights are generated with
//! the runtime's `benchmark pallet` (issue 5 replaces them with `SubstrateWeight` from the benchmarks in
//! `benchmarking.rs`). A test checks that no call weighs zero.

use polkadot_sdk::frame_support::weights::{constants::RocksDbWeight, Weight};

/// Weight functions needed for pallet-pogo.
pub trait WeightInfo {
    /// `create_task`.
    fn create_task() -> Weight;
    /// `top_up`.
    fn top_up() -> Weight;
    /// `set_task_status`.
    fn set_task_status() -> Weight;
    /// `close_task`.
    fn close_task() -> Weight;
    /// `bond`.
    fn bond() -> Weight;
    /// `unbond`.
    fn unbond() -> Weight;
    /// `withdraw_unbonded`.
    fn withdraw_unbonded() -> Weight;
    /// `submit_round` with `v` registered verifiers in the snapshot.
    fn submit_round(v: u32) -> Weight;
    /// `commit_verdict`.
    fn commit_verdict() -> Weight;
    /// `reveal_verdict`.
    fn reveal_verdict() -> Weight;
    /// `advance` fixing a challenge over a snapshot of `v` verifiers.
    fn advance_challenge(v: u32) -> Weight;
    /// `advance` tallying `a` assigned verifiers and marking `p` other rounds stale.
    fn advance_tally(a: u32, p: u32) -> Weight;
    /// `advance` finalizing an accepted round.
    fn advance_finalize() -> Weight;
    /// `report_fraud` with a segment of `c` steps.
    fn report_fraud(c: u32) -> Weight;
    /// The heaviest `advance` at the runtime's bounds.
    fn advance_worst_case() -> Weight {
        Self::advance_challenge(256).max(Self::advance_tally(64, 16)).max(Self::advance_finalize())
    }
}

// PLACEHOLDER weights: conservative hand estimates, replaced by generated weights in the runtime.
// Reads/writes are counted from the code; ref time allows ~25 µs per storage access plus compute.
impl WeightInfo for () {
    fn create_task() -> Weight {
        Weight::from_parts(60_000_000, 8_000).saturating_add(RocksDbWeight::get().reads_writes(3, 3))
    }
    fn top_up() -> Weight {
        Weight::from_parts(50_000_000, 6_000).saturating_add(RocksDbWeight::get().reads_writes(3, 3))
    }
    fn set_task_status() -> Weight {
        Weight::from_parts(25_000_000, 4_000).saturating_add(RocksDbWeight::get().reads_writes(1, 1))
    }
    fn close_task() -> Weight {
        Weight::from_parts(50_000_000, 6_000).saturating_add(RocksDbWeight::get().reads_writes(3, 3))
    }
    fn bond() -> Weight {
        Weight::from_parts(50_000_000, 6_000).saturating_add(RocksDbWeight::get().reads_writes(4, 3))
    }
    fn unbond() -> Weight {
        Weight::from_parts(30_000_000, 4_000).saturating_add(RocksDbWeight::get().reads_writes(1, 1))
    }
    fn withdraw_unbonded() -> Weight {
        Weight::from_parts(50_000_000, 6_000).saturating_add(RocksDbWeight::get().reads_writes(3, 3))
    }
    fn submit_round(v: u32) -> Weight {
        Weight::from_parts(120_000_000, 20_000)
            .saturating_add(Weight::from_parts(15_000_000, 3_000).saturating_mul(v.into()))
            .saturating_add(RocksDbWeight::get().reads_writes(8, 7))
            .saturating_add(RocksDbWeight::get().reads(v.into()))
    }
    fn commit_verdict() -> Weight {
        Weight::from_parts(40_000_000, 8_000).saturating_add(RocksDbWeight::get().reads_writes(2, 1))
    }
    fn reveal_verdict() -> Weight {
        Weight::from_parts(50_000_000, 8_000).saturating_add(RocksDbWeight::get().reads_writes(2, 1))
    }
    fn advance_challenge(v: u32) -> Weight {
        Weight::from_parts(80_000_000, 20_000)
            .saturating_add(Weight::from_parts(20_000_000, 3_000).saturating_mul(v.into()))
            .saturating_add(RocksDbWeight::get().reads_writes(4, 2))
            .saturating_add(RocksDbWeight::get().reads_writes(v.into(), v.into()))
    }
    fn advance_tally(a: u32, p: u32) -> Weight {
        Weight::from_parts(100_000_000, 20_000)
            .saturating_add(Weight::from_parts(60_000_000, 6_000).saturating_mul(a.into()))
            .saturating_add(Weight::from_parts(200_000_000, 20_000).saturating_mul(p.into()))
            .saturating_add(RocksDbWeight::get().reads_writes(6, 6))
            .saturating_add(RocksDbWeight::get().reads_writes(a.saturating_mul(3).into(), a.saturating_mul(3).into()))
            .saturating_add(RocksDbWeight::get().reads_writes(p.saturating_mul(6).into(), p.saturating_mul(6).into()))
    }
    fn advance_finalize() -> Weight {
        Weight::from_parts(100_000_000, 10_000).saturating_add(RocksDbWeight::get().reads_writes(7, 7))
    }
    fn report_fraud(c: u32) -> Weight {
        // Replay of one leaf per step (~4,096 AdamW updates in wasm) plus three Merkle proofs per step.
        Weight::from_parts(300_000_000, 120_000)
            .saturating_add(Weight::from_parts(200_000_000, 4_000).saturating_mul(c.into()))
            .saturating_add(RocksDbWeight::get().reads_writes(8, 8))
    }
}
