//! `pogo-node`: the pogo parachain's collator, built on polkadot-omni-node-lib.
//!
//! * `pogo-node --dev` — a development chain that makes blocks alone (`development` preset: Alice..Ferdie
//!   funded, Alice sudo). Its relay chain is mocked: challenge randomness is predictable. Development only.
//! * `pogo-node --chain local_testnet --collator ... -- <relay args>` — a collator of para 2000.
//! * `pogo-node build-spec`, `export-genesis-head`, `export-genesis-wasm`, `benchmark pallet` (with the
//!   `runtime-benchmarks` feature), and the rest of omni-node's subcommands.
//!
//! The node adds no custom RPC: workers and clients use the runtime API `PogoApi` (`state_call`,
//! `api.call.pogoApi.*`) and standard RPC (`state_getReadProof` for proofs of a task's state root).

mod chain_spec;

use polkadot_sdk::polkadot_omni_node_lib::{
    extra_subcommand::DefaultExtraSubcommands, run_with_custom_cli, runtime::DefaultRuntimeResolver, CliConfig,
    RunConfig,
};

/// Name, version and support URL shown by `pogo-node --version` and in logs.
struct PogoCli;

impl CliConfig for PogoCli {
    fn impl_version() -> String {
        let commit = option_env!("SUBSTRATE_CLI_COMMIT_HASH").unwrap_or("unknown");
        format!("{}-{}", env!("CARGO_PKG_VERSION"), commit)
    }

    fn author() -> String {
        env!("CARGO_PKG_AUTHORS").into()
    }

    fn support_url() -> String {
        "https://github.com/pogo-chain/pogo/issues/new".into()
    }

    fn copyright_start_year() -> u16 {
        2026
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = RunConfig::new(Box::new(DefaultRuntimeResolver), Box::new(chain_spec::PogoChainSpecLoader));
    run_with_custom_cli::<PogoCli, DefaultExtraSubcommands>(config)?;
    Ok(())
}
