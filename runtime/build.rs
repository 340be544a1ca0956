//! Builds the runtime's wasm blob (`WASM_BINARY`) with substrate-wasm-builder; with `upgrade-test-wasm`,
//! also the same runtime with `spec_version + 1` (feature `increment-spec-version`), the upgrade the
//! zombienet suite applies mid-task: `wbuild/pogo-runtime/pogo_runtime_upgrade.compact.compressed.wasm`.
#[cfg(feature = "std")]
fn main() {
    substrate_wasm_builder::WasmBuilder::build_using_defaults();
    #[cfg(feature = "upgrade-test-wasm")]
    substrate_wasm_builder::WasmBuilder::init_with_defaults()
        .enable_feature("increment-spec-version")
        .set_file_name("pogo_runtime_upgrade")
        .build();
}

#[cfg(not(feature = "std"))]
fn main() {}
