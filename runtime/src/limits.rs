//! pallet-pogo's generated weights at the runtime's configured maxima, against the block's limits: read
//! by the runtime's test (each extrinsic within a tenth of a block) and printed by the `block_share` bench
//! (`scripts/bench.sh -- block_share`; docs/performance.md).

use crate::{configs::RuntimeBlockWeights, Runtime};
use alloc::vec::Vec;
use pallet_pogo::{Config, WeightInfo as _};
use polkadot_sdk::frame_support::{pallet_prelude::Weight, traits::Get};

type PogoWeights = pallet_pogo::weights::SubstrateWeight<Runtime>;

/// The share of a block one extrinsic may take at its maxima (the test's bound and the bench's goal).
pub const MAX_SHARE_PERCENT: u64 = 10;

/// One extrinsic's weight at its worst case: the name, the components it is priced at and the weight.
pub struct WeightAtMaxima {
    /// The call (or the pallet's declared worst case, `(declared)`).
    pub name: &'static str,
    /// The components, as `name = value`, for the table.
    pub components: alloc::string::String,
    /// The generated weight there.
    pub weight: Weight,
}

/// Every pallet-pogo call's weight at the configured maxima, and the two declared worst cases the pallet
/// charges up front (`advance` and `report_fraud`).
pub fn pogo_weights_at_maxima() -> Vec<WeightAtMaxima> {
    use alloc::format;
    let v = <Runtime as Config>::MaxVerifiers::get();
    let a = <Runtime as Config>::MaxAssigned::get();
    let p = <<Runtime as Config>::MaxPendingPerTask as Get<u32>>::get().saturating_sub(1);
    let c = <Runtime as Config>::MaxCheckpointInterval::get();
    let t = pogo_primitives::model::MAX_TENSORS;
    let at = |name: &'static str, components: alloc::string::String, weight: Weight| WeightAtMaxima { name, components, weight };
    let none = alloc::string::String::new;
    Vec::from([
        at("create_task", format!("t = {t}"), PogoWeights::create_task(t)),
        at("top_up", none(), PogoWeights::top_up()),
        at("set_task_status", none(), PogoWeights::set_task_status()),
        at("close_task", none(), PogoWeights::close_task()),
        at("bond", none(), PogoWeights::bond()),
        at("unbond", none(), PogoWeights::unbond()),
        at("withdraw_unbonded", none(), PogoWeights::withdraw_unbonded()),
        at("submit_round", format!("v = {v}"), PogoWeights::submit_round(v)),
        at("commit_verdict", none(), PogoWeights::commit_verdict()),
        at("reveal_verdict", none(), PogoWeights::reveal_verdict()),
        at("advance_challenge", format!("v = {v}"), PogoWeights::advance_challenge(v)),
        at("advance_tally", format!("a = {a}"), PogoWeights::advance_tally(a)),
        at("advance_void", format!("a = {a}"), PogoWeights::advance_void(a)),
        at("advance_reject", format!("a = {a}"), PogoWeights::advance_reject(a)),
        at("advance_finalize", format!("a = {a}"), PogoWeights::advance_finalize(a)),
        at("report_fraud", format!("c = {c}, p = {p}"), PogoWeights::report_fraud(c, p)),
        at("record_epoch_randomness", none(), PogoWeights::record_epoch_randomness()),
        at("advance (declared)", format!("v = {v}, a = {a}"), pallet_pogo::Pallet::<Runtime>::advance_worst_case_weight()),
        at("report_fraud (declared)", format!("c = {c}, p = {p}"), pallet_pogo::Pallet::<Runtime>::report_fraud_worst_case_weight()),
    ])
}

/// The block's maximum weight (`RuntimeBlockWeights::max_block`): ref_time and proof size.
pub fn max_block() -> Weight {
    RuntimeBlockWeights::get().max_block
}

/// `part` as a percentage of `whole` (0 when `whole` is 0), in f64 for the table.
pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 * 100.0 / whole as f64
    }
}
