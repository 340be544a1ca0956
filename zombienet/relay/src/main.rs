//! `polkadot`: the relay-chain node of pogo's zombienet suite (rococo-local with one-minute epochs).
//!
//! It is polkadot-sdk's own command line (`polkadot_cli::run`), built against the same crates as
//! `pogo-node`, so the relay and the collators' in-process relay client speak the same release.
fn main() {
    if let Err(error) = polkadot_cli::run() {
        eprintln!("Error: {error}");
        std::process::exit(1);
    }
}
