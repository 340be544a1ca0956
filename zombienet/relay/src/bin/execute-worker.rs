//! `polkadot-execute-worker`: runs parachain validation code (PVFs) for the relay node. The node
//! starts it from its own directory and refuses a worker whose version differs from its own.
polkadot_node_core_pvf_common::decl_worker_main!(
    "execute-worker",
    polkadot_node_core_pvf_execute_worker::worker_entrypoint,
    polkadot_cli::NODE_VERSION,
    env!("SUBSTRATE_CLI_COMMIT_HASH"),
);
