//! Command-line options shared by the subcommands: chain, keys, store, data-availability server, metrics.

use clap::{Args, ValueEnum};
use pogo_store::ClientLimits;
use std::{net::SocketAddr, path::PathBuf, time::Duration};

/// Where the node is.
#[derive(Args, Clone, Debug)]
pub struct ChainOpts {
    /// The node's WebSocket RPC endpoint.
    #[arg(long, env = "POGO_WS", default_value = "ws://127.0.0.1:9944")]
    pub ws: String,
}

/// Which key signs. Secrets are never printed or logged; only the account id is shown.
#[derive(Args, Clone, Debug)]
pub struct KeyOpts {
    /// A secret URI: a dev account (`//Alice`), a mnemonic or seed with optional `//hard/soft` paths and
    /// `///password`. Prefer the environment variable to the command line on shared machines.
    #[arg(long, env = "POGO_SURI", hide_env_values = true, conflicts_with = "key_file")]
    pub suri: Option<String>,
    /// A polkadot.js JSON key file (exported from polkadot.js apps); its password from `POGO_KEY_PASSWORD`.
    #[arg(long, env = "POGO_KEY_FILE")]
    pub key_file: Option<PathBuf>,
}

/// Where rounds, states and journals are kept.
#[derive(Args, Clone, Debug)]
pub struct StoreOpts {
    /// The round store directory (created if missing).
    #[arg(long, env = "POGO_STORE", default_value = "pogo-store")]
    pub store: PathBuf,
}

/// What the long-running roles (`mine`, `verify`) share: the data sets, how often the chain is polled,
/// and how large one download may be.
#[derive(Args, Clone, Debug)]
pub struct RoleOpts {
    /// Directory of the data sets (default: `$POGO_DATA_DIR`, else `~/.cache/pogo/data`).
    #[arg(long, env = "POGO_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Seconds between looks at the chain.
    #[arg(long, default_value_t = 1.0)]
    pub poll_seconds: f64,
    /// Largest single download accepted (a base state, a checkpoint), in MiB.
    #[arg(long, default_value_t = 4096)]
    pub max_download_mib: u64,
}

impl RoleOpts {
    /// The polling interval (at least 50 ms).
    pub fn poll(&self) -> Duration {
        Duration::from_secs_f64(self.poll_seconds.max(0.05))
    }

    /// The download limits.
    pub fn download(&self) -> ClientLimits {
        ClientLimits { max_bytes: self.max_download_mib.saturating_mul(1 << 20), ..ClientLimits::default() }
    }
}

/// The data-availability server.
#[derive(Args, Clone, Debug)]
pub struct DaOpts {
    /// Address the DA server listens on.
    #[arg(long, default_value = "127.0.0.1:9955")]
    pub listen: SocketAddr,
    /// The URL others reach it at, submitted on chain as each round's locator (default: http://<listen>).
    #[arg(long)]
    pub public_url: Option<String>,
    /// Most requests served at once (more wait, then get 503).
    #[arg(long, default_value_t = 64)]
    pub max_connections: usize,
}

impl DaOpts {
    /// The locator submitted on chain.
    pub fn locator(&self, bound: SocketAddr) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{bound}"))
    }
}

/// Prometheus metrics.
#[derive(Args, Clone, Debug)]
pub struct MetricsOpts {
    /// Serve Prometheus metrics at http://<addr>/metrics.
    #[arg(long)]
    pub metrics: Option<SocketAddr>,
}

/// Output format of read-only commands.
#[derive(Args, Clone, Debug)]
pub struct OutputOpts {
    /// Print JSON instead of text (for scripts).
    #[arg(long)]
    pub json: bool,
}

/// How a task's verifiers check its rounds (docs/protocol.md sections 11 and 11b).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verification {
    /// Every verifier replays every leaf of every step.
    Full,
    /// Every verifier replays its sampled leaves across every step and its sampled steps from their
    /// nearest checkpoint.
    Sampled,
}

impl From<Verification> for pogo_primitives::views::VerificationMode {
    fn from(v: Verification) -> Self {
        match v {
            Verification::Full => Self::FullReplay,
            Verification::Sampled => Self::SampledReplay,
        }
    }
}

/// The default tasks.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultTask {
    /// The digits classifier (an MLP on scikit-learn's handwritten digits).
    Digits,
    /// The byte-level language model on Shakespeare's works.
    Shakespeare,
}
