//! Runtime benchmarks: the pallets whose weights this runtime generates.

use alloc::{string::String, vec::Vec};
use polkadot_sdk::{
    frame_benchmarking::{BenchmarkBatch, BenchmarkConfig, BenchmarkList},
    frame_support::traits::{StorageInfo, StorageInfoTrait},
    *,
};

#[cfg(not(feature = "without-system-benchmarks"))]
polkadot_sdk::frame_benchmarking::define_benchmarks!(
    [frame_system, SystemBench::<Runtime>]
    [pallet_balances, Balances]
    [pallet_timestamp, Timestamp]
    [pallet_utility, Utility]
    [pallet_pogo, Pogo]
);

// frame-system's `set_code` benchmark embeds a 4.25 MB runtime (frame-system-benchmarking's kitchensink
// blob). Left out, the blob drops from 5.5 MB to about 1.3 MB compressed, under the relay chain's 3 MiB
// code limit: the zombienet network's runtimes are built so (`upgrade-test-wasm` in build.rs).
#[cfg(feature = "without-system-benchmarks")]
polkadot_sdk::frame_benchmarking::define_benchmarks!(
    [pallet_balances, Balances]
    [pallet_timestamp, Timestamp]
    [pallet_utility, Utility]
    [pallet_pogo, Pogo]
);

use crate::{Balances, Pogo, Runtime, Timestamp, Utility};
#[cfg(not(feature = "without-system-benchmarks"))]
use frame_system_benchmarking::Pallet as SystemBench;

/// The list of benchmarks.
pub fn benchmark_metadata(extra: bool) -> (Vec<BenchmarkList>, Vec<StorageInfo>) {
    let mut list = Vec::<BenchmarkList>::new();
    list_benchmarks!(list, extra);
    let storage_info = crate::AllPalletsWithSystem::storage_info();
    (list, storage_info)
}

/// Runs a benchmark batch.
pub fn dispatch_benchmark(config: BenchmarkConfig) -> Result<Vec<BenchmarkBatch>, String> {
    use polkadot_sdk::frame_support::traits::WhitelistedStorageKeys;
    let whitelist = crate::AllPalletsWithSystem::whitelisted_storage_keys();
    let mut batches = Vec::<BenchmarkBatch>::new();
    let params = (&config, &whitelist);
    add_benchmarks!(params, batches);
    Ok(batches)
}

impl frame_system_benchmarking::Config for Runtime {
    // A parachain stores new code through parachain-system (validated by the relay chain), not directly.
    fn setup_set_code_requirements(code: &Vec<u8>) -> Result<(), polkadot_sdk::frame_benchmarking::BenchmarkError> {
        crate::ParachainSystem::initialize_for_set_code_benchmark(code.len() as u32);
        Ok(())
    }

    fn verify_set_code() {
        crate::System::assert_last_event(cumulus_pallet_parachain_system::Event::<Runtime>::ValidationFunctionStored.into());
    }
}
