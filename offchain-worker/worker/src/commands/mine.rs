//! `pogo-worker mine` and `pogo-worker serve`: the miner with its data-availability server, metrics and
//! progress display; or the DA server alone over a round store.

use crate::{
    cli::{ChainOpts, DaOpts, KeyOpts, MetricsOpts, RoleOpts, StoreOpts},
    metrics::Metrics,
    roles::miner::{Miner, MinerConfig, MinerError},
    ui,
};
use pogo_chain::{ChainClient, Signer};
use pogo_store::{server, RoundStore, ServerCounters, ServerLimits};
use std::sync::Arc;
use tokio::sync::watch;

/// Options of `mine`.
#[derive(clap::Args, Clone, Debug)]
pub struct MineArgs {
    /// The task to mine.
    #[arg(long)]
    pub task: u32,
    /// Stop after this many rounds were submitted and each is final (paid, after its fraud window) or gone.
    #[arg(long)]
    pub rounds: Option<u64>,
    /// Plain log lines instead of progress bars.
    #[arg(long)]
    pub no_progress: bool,
    /// Cheat: `fake-steps:FRACTION:KIND` (KIND: random, zero, stale, rescaled), `wrong-batches`,
    /// `forged-final-root`, `withhold`, `false-loss`, `copy-commitment[:TASK]`. For tests and
    /// demonstrations; it loses the bond (a copy on the original's own task goes stale instead).
    #[arg(long)]
    pub adversary: Option<crate::adversary::MinerAdversary>,
    /// Whether each step's Merkle trees and store writes run beside the next step's forward and backward
    /// pass (`on`) or after its update (`off`). The round is the same either way.
    #[arg(long, value_enum, default_value = "on")]
    pub overlap: crate::roles::miner::pipeline::Overlap,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub role: RoleOpts,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub chain: ChainOpts,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub keys: KeyOpts,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub store: StoreOpts,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub da: DaOpts,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub metrics: MetricsOpts,
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// Bad options.
    #[error("{0}")]
    Usage(String),
    /// I/O (binding ports, files).
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The chain.
    #[error("chain: {0}")]
    Chain(#[from] pogo_chain::ChainError),
    /// The keys.
    #[error("key: {0}")]
    Key(#[from] pogo_chain::SignerError),
    /// The round store.
    #[error("round store: {0}")]
    Store(#[from] pogo_store::StoreError),
    /// A round manifest.
    #[error("round manifest: {0}")]
    Manifest(#[from] pogo_store::ManifestError),
    /// A download.
    #[error("download: {0}")]
    Da(#[from] pogo_store::DaError),
    /// The miner.
    #[error(transparent)]
    Miner(#[from] MinerError),
    /// Anything else, with its context.
    #[error("{0}")]
    Other(String),
}

/// The signer the key options name.
pub fn signer(keys: &KeyOpts) -> Result<Signer, CommandError> {
    match (&keys.suri, &keys.key_file) {
        (Some(suri), None) => Ok(Signer::from_suri(suri)?),
        (None, Some(file)) => {
            let password = std::env::var("POGO_KEY_PASSWORD").unwrap_or_default();
            Ok(Signer::from_json_file(file, &password)?)
        },
        _ => Err(CommandError::Usage("give the signing key with --suri (or POGO_SURI) or --key-file".into())),
    }
}

/// A running DA server: its address, counters and shutdown switch.
pub struct DaServer {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// Its counters.
    pub counters: Arc<ServerCounters>,
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl DaServer {
    /// Binds `opts.listen` and serves `store`.
    pub async fn start(store: Arc<RoundStore>, opts: &DaOpts) -> Result<Self, CommandError> {
        let listener = tokio::net::TcpListener::bind(opts.listen).await?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(ServerCounters::default());
        let limits = ServerLimits { max_concurrent: opts.max_connections, ..ServerLimits::default() };
        let router = server::router(store, limits, counters.clone());
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(server::serve(listener, router, async move {
            let _ = stopped.changed().await;
        }));
        Ok(Self { addr, counters, stop, task })
    }

    /// Stops it and waits for open requests.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Serves metrics when asked to.
pub async fn start_metrics(opts: &MetricsOpts, metrics: &Metrics) -> Result<(), CommandError> {
    if let Some(addr) = opts.metrics {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        tracing::info!(%addr, "metrics at /metrics");
        tokio::spawn(metrics.clone().serve(listener, std::future::pending()));
    }
    Ok(())
}

/// `pogo-worker mine`.
pub async fn mine(args: MineArgs) -> Result<(), CommandError> {
    let signer = signer(&args.keys)?;
    tracing::info!(account = %signer, "mining task {}", args.task);
    let store = Arc::new(RoundStore::open(&args.store.store)?);
    let chain = ChainClient::connect(&args.chain.ws).await?;
    let da = DaServer::start(store.clone(), &args.da).await?;
    let metrics = Metrics::new(da.counters.clone());
    start_metrics(&args.metrics, &metrics).await?;
    let config = MinerConfig {
        task: args.task,
        // A withholding miner names a locator where nothing is served (port 9, discard).
        public_url: if args.adversary == Some(crate::adversary::MinerAdversary::Withhold) {
            "http://127.0.0.1:9".into()
        } else {
            args.da.locator(da.addr)
        },
        max_rounds: args.rounds,
        data_dir: args.role.data_dir.clone(),
        poll: args.role.poll(),
        download: args.role.download(),
        eval_chunk: 512,
        adversary: args.adversary,
        overlap: args.overlap,
    };
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let display = tokio::spawn(ui::show(rx, metrics.clone(), !args.no_progress && std::io::IsTerminal::is_terminal(&std::io::stderr())));
    let miner = Miner::new(chain, signer, store, config, metrics, tx)?;
    let result = tokio::select! {
        r = miner.run() => r.map(|j| tracing::info!(submitted = j.submitted, accepted = j.accepted, "miner done")),
        _ = tokio::signal::ctrl_c() => { tracing::info!("interrupted; the journal keeps the miner's place"); Ok(()) },
    };
    let _ = display.await;
    da.stop().await;
    Ok(result?)
}

/// Options of `serve`.
#[derive(clap::Args, Clone, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub store: StoreOpts,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub da: DaOpts,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub metrics: MetricsOpts,
}

/// `pogo-worker serve`: the DA server alone, until Ctrl-C.
pub async fn serve(args: ServeArgs) -> Result<(), CommandError> {
    let store = Arc::new(RoundStore::open(&args.store.store)?);
    let da = DaServer::start(store, &args.da).await?;
    let metrics = Metrics::new(da.counters.clone());
    start_metrics(&args.metrics, &metrics).await?;
    println!("serving {} at http://{}", args.store.store.display(), da.addr);
    let _ = tokio::signal::ctrl_c().await;
    da.stop().await;
    Ok(())
}
