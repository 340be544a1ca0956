//! Builds the runtime's wasm blob (`WASM_BINARY`) with substrate-wasm-builder. With `upgrade-test-wasm`
//! (the test feature set), also the zombienet network's two runtimes, in `wbuild/pogo-runtime/`:
//! `pogo_runtime_zombienet.compact.compressed.wasm`, its genesis code, and
//! `pogo_runtime_upgrade.compact.compressed.wasm`, the same with `spec_version + 1` (feature
//! `increment-spec-version`), which the suite applies with `sudo(set_code)` mid-task. Both leave out
//! frame-system's benchmarks (`without-system-benchmarks`) to fit the relay chain's 3 MiB code limit.
#[cfg(feature = "std")]
fn main() {
    substrate_wasm_builder::WasmBuilder::build_using_defaults();
    #[cfg(feature = "upgrade-test-wasm")]
    {
        substrate_wasm_builder::WasmBuilder::init_with_defaults()
            .enable_feature("without-system-benchmarks")
            .set_file_name("pogo_runtime_zombienet")
            .build();
        substrate_wasm_builder::WasmBuilder::init_with_defaults()
            .enable_feature("without-system-benchmarks")
            .enable_feature("increment-spec-version")
            .set_file_name("pogo_runtime_upgrade")
            .build();
    }
}

#[cfg(not(feature = "std"))]
fn main() {}
