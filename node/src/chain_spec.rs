//! Chain specs built from the runtime's wasm and genesis presets.

use polkadot_sdk::{
    polkadot_omni_node_lib::chain_spec::{DiskChainSpecLoader, Extensions, GenericChainSpec, LoadSpec},
    sc_chain_spec::{ChainSpec, ChainType},
    sp_genesis_builder::{DEV_RUNTIME_PRESET, LOCAL_TESTNET_RUNTIME_PRESET},
};
use pogo_runtime::genesis_config_presets::PARACHAIN_ID;

/// `dev`/`development` and `local`/`local_testnet` are built in; anything else is a chain spec file.
pub struct PogoChainSpecLoader;

fn properties() -> polkadot_sdk::sc_chain_spec::Properties {
    let mut p = polkadot_sdk::sc_chain_spec::Properties::new();
    p.insert("tokenSymbol".into(), "POGO".into());
    p.insert("tokenDecimals".into(), 12.into());
    p.insert("ss58Format".into(), 42.into());
    p
}

fn spec(name: &str, id: &str, chain_type: ChainType, preset: &str, relay: &str) -> Result<Box<dyn ChainSpec>, String> {
    let wasm = pogo_runtime::WASM_BINARY.ok_or("pogo-node was built without the runtime's wasm (SKIP_WASM_BUILD)")?;
    Ok(Box::new(
        GenericChainSpec::builder(wasm, Extensions::new(relay.into(), PARACHAIN_ID))
            .with_name(name)
            .with_id(id)
            .with_chain_type(chain_type)
            .with_genesis_config_preset_name(preset)
            .with_properties(properties())
            .build(),
    ))
}

impl LoadSpec for PogoChainSpecLoader {
    fn load_spec(&self, id: &str) -> Result<Box<dyn ChainSpec>, String> {
        match id {
            "" | "dev" | "development" =>
                spec("pogo development", "pogo_dev", ChainType::Development, DEV_RUNTIME_PRESET, "rococo-local"),
            "local" | "local_testnet" => spec(
                "pogo local testnet",
                "pogo_local_testnet",
                ChainType::Local,
                LOCAL_TESTNET_RUNTIME_PRESET,
                "rococo-local",
            ),
            path => DiskChainSpecLoader.load_spec(path),
        }
    }
}
