//! Builds the runtime's wasm blob (`WASM_BINARY`) with substrate-wasm-builder.
#[cfg(feature = "std")]
fn main() {
    substrate_wasm_builder::WasmBuilder::build_using_defaults();
}

#[cfg(not(feature = "std"))]
fn main() {}
