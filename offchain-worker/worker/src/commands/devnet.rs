//! `pogo-worker devnet` (also `scripts/devnet.sh`): pogo on one machine with one command. Starts
//! `pogo-node --dev` on free ports, bonds a miner (Bob) and three verifiers (Charlie, Dave, Eve), creates
//! the default task as Alice, and runs the miner with its data-availability server, showing each round's
//! progress, and three verifiers (also watchers) that check every round, commit and reveal their
//! verdicts and prove fraud, each with its own round store. `--adversary MODE` makes the miner cheat
//! (`fake-steps:0.5:zero`, `forged-final-root`, …) and shows the rejection or the slash on screen;
//! `--verifier-adversary MODE` makes Eve cheat. Ctrl-C stops everything it started, by PID.

use super::{
    create_task::{default_terms, dev_params, UNIT},
    mine::{start_metrics, CommandError, DaServer},
    verify::line,
};
use crate::{
    cli::{DaOpts, DefaultTask, MetricsOpts},
    metrics::Metrics,
    roles::{
        miner::{Miner, MinerConfig},
        verifier::{Verifier, VerifierConfig, VerifierEvent},
    },
    ui,
};
use pogo_chain::{ChainClient, Signer};
use pogo_primitives::views::Role;
use pogo_store::{ClientLimits, RoundStore};
use std::{path::PathBuf, process::Stdio, sync::Arc, time::Duration};

/// Options of `devnet`.
#[derive(clap::Args, Clone, Debug)]
pub struct DevnetArgs {
    /// The task: the digits classifier or the Shakespeare language model.
    #[arg(long, value_enum, default_value_t = DefaultTask::Digits)]
    pub task: DefaultTask,
    /// The pogo-node binary (default: next to this binary, else `pogo-node` on PATH).
    #[arg(long, env = "POGO_NODE")]
    pub node: Option<PathBuf>,
    /// Working directory: the node's log and the miner's round store (default: a new temporary one).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Stop after this many rounds were submitted and settled (default: run until Ctrl-C).
    #[arg(long)]
    pub rounds: Option<u64>,
    /// Steps per round (default: the task's).
    #[arg(long)]
    pub steps_per_round: Option<u32>,
    /// Blocks verifiers have to commit and to reveal.
    #[arg(long, default_value_t = 10)]
    pub window: u32,
    /// Milliseconds per block of the dev chain.
    #[arg(long, default_value_t = 1000)]
    pub block_time_ms: u64,
    /// Directory of the data sets.
    #[arg(long, env = "POGO_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Plain log lines instead of progress bars.
    #[arg(long)]
    pub no_progress: bool,
    /// Make the miner cheat (see `mine --help`).
    #[arg(long)]
    pub adversary: Option<crate::adversary::MinerAdversary>,
    /// Make the third verifier (Eve) cheat: lazy, grief, silent or selective.
    #[arg(long)]
    pub verifier_adversary: Option<crate::adversary::VerifierAdversary>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub metrics: MetricsOpts,
}

/// A child process killed (by PID) when dropped.
struct Child(tokio::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.start_kill();
    }
}

fn free_port() -> Result<u16, CommandError> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn node_binary(given: Option<PathBuf>) -> PathBuf {
    given.unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|d| d.join("pogo-node")))
            .filter(|p| p.exists())
            .unwrap_or_else(|| PathBuf::from("pogo-node"))
    })
}

/// Starts `pogo-node --dev` on free ports; returns the process and its WebSocket URL.
async fn start_node(bin: &PathBuf, dir: &std::path::Path, block_time_ms: u64) -> Result<(Child, String), CommandError> {
    let rpc = free_port()?;
    let mut p2p = free_port()?;
    while p2p == rpc {
        p2p = free_port()?;
    }
    let log = std::fs::File::create(dir.join("node.log"))?;
    let child = tokio::process::Command::new(bin)
        .args(["--dev", "--dev-block-time", &block_time_ms.to_string(), "--tmp"])
        .args(["--rpc-port", &rpc.to_string(), "--port", &p2p.to_string()])
        .args(["--no-prometheus", "--no-telemetry", "--no-mdns", "--no-hardware-benchmarks"])
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| CommandError::Other(format!("starting {}: {e}", bin.display())))?;
    Ok((Child(child), format!("ws://127.0.0.1:{rpc}")))
}

async fn connect(url: &str, node: &mut Child) -> Result<ChainClient, CommandError> {
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = node.0.try_wait()? {
            return Err(CommandError::Other(format!("pogo-node exited ({status}); see its log")));
        }
        match ChainClient::connect(url).await {
            Ok(c) => return Ok(c),
            Err(e) if std::time::Instant::now() > deadline => return Err(e.into()),
            Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
        }
    }
}

/// `pogo-worker devnet`.
pub async fn devnet(args: DevnetArgs) -> Result<(), CommandError> {
    let temp;
    let dir = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            d.clone()
        },
        None => {
            temp = std::env::temp_dir().join(format!("pogo-devnet-{}", std::process::id()));
            std::fs::create_dir_all(&temp)?;
            temp
        },
    };
    let bin = node_binary(args.node.clone());
    println!("pogo devnet: {} --dev (log {}/node.log)", bin.display(), dir.display());
    let (mut node, url) = start_node(&bin, &dir, args.block_time_ms).await?;
    let chain = connect(&url, &mut node).await?;
    println!("  node ready at {url}  (polkadot.js: https://polkadot.js.org/apps/?rpc={url})");

    let dev = |uri: &str| Signer::from_suri(uri);
    let (alice, bob) = (dev("//Alice")?, dev("//Bob")?);
    let verifiers = [dev("//Charlie")?, dev("//Dave")?, dev("//Eve")?];
    let terms = default_terms(args.task, args.data_dir.as_deref(), args.steps_per_round)
        .map_err(|e| CommandError::Other(format!("data set: {e} (run scripts/setup.sh)")))?;
    let params = dev_params(args.window, &terms.spec);
    // Bonds first: a miner may only build on a root made public after its bond.
    chain.bond(&bob, Role::Miner, 100 * UNIT).await?;
    for v in &verifiers {
        chain.bond(v, Role::Verifier, 100 * UNIT).await?;
    }
    println!("  bonded: miner {bob} (100 UNIT); verifiers {}, {}, {} (100 UNIT each)", verifiers[0], verifiers[1], verifiers[2]);
    let task = chain
        .create_task(&alice, &terms.new_task(params, 1_000 * UNIT))
        .await?;
    println!(
        "  task {task}: {} ({} parameters), data {}, {} steps per round, windows of {} blocks",
        String::from_utf8_lossy(&terms.model.architecture),
        terms.spec.param_count,
        terms.data_locator,
        terms.spec.steps_per_round,
        args.window
    );
    if let Some(a) = args.adversary {
        println!("  the miner cheats: {a}");
    }
    if let Some(a) = args.verifier_adversary {
        println!("  {} cheats as a verifier: {a}", verifiers[2]);
    }
    let mut verifier_tasks = Vec::new();
    for (i, v) in verifiers.iter().enumerate() {
        let store = Arc::new(RoundStore::open(dir.join(format!("verifier-{i}-store")))?);
        let client = ChainClient::connect(&url).await?;
        let config = VerifierConfig {
            task: Some(task),
            data_dir: args.data_dir.clone(),
            poll: Duration::from_millis(args.block_time_ms.max(100)),
            download: ClientLimits::default(),
            fetch_timeout: Duration::from_millis(args.block_time_ms.saturating_mul(u64::from(args.window)).max(2_000)),
            watch: true,
            max_duties: None,
            adversary: if i == 2 { args.verifier_adversary } else { None },
        };
        let (vtx, mut vrx) = tokio::sync::mpsc::unbounded_channel();
        let who = ["charlie", "dave", "eve"].get(i).copied().unwrap_or("verifier").to_owned();
        tokio::spawn(async move {
            while let Some(event) = vrx.recv().await {
                if !matches!(event, VerifierEvent::Info(_)) {
                    eprintln!("{}", line(&who, &event));
                }
            }
        });
        let verifier = Verifier::new(client, v.clone(), store, config, Metrics::default(), vtx)
            .map_err(|e| CommandError::Other(e.to_string()))?;
        verifier_tasks.push(tokio::spawn(async move {
            if let Err(e) = verifier.run().await {
                eprintln!("verifier stopped: {e}");
            }
        }));
    }

    let store = Arc::new(RoundStore::open(dir.join("miner-store"))?);
    let da_opts = DaOpts { listen: "127.0.0.1:0".parse().map_err(|_| CommandError::Usage("address".into()))?, public_url: None, max_connections: 64 };
    let da = DaServer::start(store.clone(), &da_opts).await?;
    let metrics = Metrics::new(da.counters.clone());
    start_metrics(&args.metrics, &metrics).await?;
    println!("  miner data served at http://{}", da.addr);
    let config = MinerConfig {
        task,
        public_url: if args.adversary == Some(crate::adversary::MinerAdversary::Withhold) {
            "http://127.0.0.1:9".into()
        } else {
            da_opts.locator(da.addr)
        },
        max_rounds: args.rounds,
        data_dir: args.data_dir.clone(),
        poll: Duration::from_millis(args.block_time_ms.max(100)),
        download: ClientLimits::default(),
        eval_chunk: 512,
        adversary: args.adversary,
    };
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let display = tokio::spawn(ui::show(rx, metrics.clone(), !args.no_progress && std::io::IsTerminal::is_terminal(&std::io::stderr())));
    let miner = Miner::new(chain, bob, store, config, metrics, tx)?;
    let result = tokio::select! {
        r = miner.run() => r.map(|j| println!("devnet: {} rounds submitted, {} accepted, {} not accepted", j.submitted, j.accepted, j.not_accepted)),
        _ = tokio::signal::ctrl_c() => { println!("devnet: stopping"); Ok(()) },
    };
    let _ = display.await;
    for t in verifier_tasks {
        t.abort();
    }
    da.stop().await;
    drop(node);
    Ok(result?)
}
