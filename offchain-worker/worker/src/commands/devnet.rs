//! `pogo-worker devnet` (also `scripts/devnet.sh`): pogo on one machine with one command. Starts
//! `pogo-node --dev` on free ports, bonds a miner (Bob) and seven verifiers (Charlie, Dave, Eve, Ferdie
//! and three funded by Alice: three decide level 0, four more are drawn when a round escalates), creates
//! the default task as Alice, and runs the miner with its data-availability server, showing each round's
//! progress, and the verifiers (also watchers) that check every round, commit and reveal their verdicts
//! and prove fraud, each with its own round store. The chain's decisions are shown as they happen:
//! acceptances, escalations, rejections, fraud proofs, every slash and payment with its amount.
//! `--adversary MODE` makes the miner cheat (`fake-steps:0.5:zero`, `forged-final-root`, …) and shows its
//! bond slashed; `--verifier-adversary MODE` makes Eve cheat and shows its stake slashed. Ctrl-C stops
//! everything it started, by PID.

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
    /// Stop after this many rounds were submitted and each is final (paid, after its fraud window) or gone (default: run until Ctrl-C).
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
    /// Verifiers to run. Three decide level 0; a round escalated (any Negative verdict) needs four more
    /// to be decided at level 1, so with fewer than seven a disputed round expires instead of being
    /// rejected and nobody is slashed for it.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(3..=16))]
    pub verifiers: u32,
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
    let mut names: Vec<String> = ["charlie", "dave", "eve", "ferdie"].iter().map(|n| (*n).to_owned()).collect();
    names.extend((5..=args.verifiers).map(|i| format!("verifier{i}")));
    names.truncate(usize::try_from(args.verifiers).unwrap_or(usize::MAX));
    let mut verifiers = Vec::new();
    for name in &names {
        let mut uri = format!("//{name}");
        if let Some(first) = uri.get_mut(2..3) {
            first.make_ascii_uppercase();
        }
        verifiers.push(dev(&uri)?);
    }
    let terms = default_terms(args.task, args.data_dir.as_deref(), args.steps_per_round)
        .map_err(|e| CommandError::Other(format!("data set: {e} (run scripts/setup.sh)")))?;
    let params = dev_params(args.window, &terms.spec);
    // Bonds first: a miner may only build on a root made public after its bond.
    chain.bond(&bob, Role::Miner, 100 * UNIT).await?;
    for (v, name) in verifiers.iter().zip(&names).skip(4) {
        chain.transfer(&alice, &v.account_id(), 200 * UNIT).await?;
        println!("  funded {name} ({v}) with 200 UNIT");
    }
    for v in &verifiers {
        chain.bond(v, Role::Verifier, 100 * UNIT).await?;
    }
    println!("  bonded: miner bob {bob} (100 UNIT); verifiers {} (100 UNIT each)", names.join(", "));
    let mut who: std::collections::HashMap<[u8; 32], String> =
        verifiers.iter().zip(&names).map(|(v, n)| (v.account_id().0, n.clone())).collect();
    who.insert(bob.account_id().0, "bob (miner)".into());
    let events = tokio::spawn(show_decisions(chain.clone(), who));
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
        println!("  eve cheats as a verifier: {a}");
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
        let who = names.get(i).cloned().unwrap_or_default();
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
        overlap: crate::roles::miner::pipeline::Overlap::On,
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
    events.abort();
    da.stop().await;
    drop(node);
    Ok(result?)
}

/// An amount in UNIT with two decimals.
fn units(amount: u128) -> String {
    format!("{}.{:02} UNIT", amount / UNIT, (amount % UNIT) / (UNIT / 100))
}

/// Prints the chain's decisions (best blocks) with the amounts moved; `who` names known accounts.
async fn show_decisions(chain: ChainClient, who: std::collections::HashMap<[u8; 32], String>) {
    use futures::StreamExt;
    use pogo_chain::PogoEvent as E;
    let name = |a: &pogo_chain::AccountId32| who.get(&a.0).cloned().unwrap_or_else(|| a.to_string());
    let Ok(mut stream) = chain.subscribe_events(false).await else {
        eprintln!("chain: cannot subscribe to events; decisions are not shown");
        return;
    };
    while let Some(Ok(block)) = stream.next().await {
        for event in block.events {
            let text = match event {
                E::ChallengeFixed { submission, level, verifiers, .. } =>
                    format!("submission {submission}: level {level} challenge fixed, {verifiers} verifiers drawn"),
                E::RoundEscalated { submission, disputed_steps, .. } =>
                    format!("submission {submission}: ESCALATED to level 1 ({disputed_steps} disputed steps)"),
                E::RoundAccepted { submission, final_at, .. } =>
                    format!("submission {submission}: ACCEPTED (final at block {final_at} unless a fraud proof comes)"),
                E::RoundRejected { submission, slashed, .. } =>
                    format!("submission {submission}: REJECTED, miner bond slashed {}", units(slashed)),
                E::RoundExpired { submission, .. } => format!("submission {submission}: expired undecided (nobody slashed)"),
                E::RoundFinalized { submission, miner, reward, .. } =>
                    format!("submission {submission}: FINALIZED, {} paid {}", name(&miner), units(reward)),
                E::FraudProven { submission, reporter, fraud, slashed } => format!(
                    "submission {submission}: FRAUD PROVEN ({fraud:?}) by {}, miner bond slashed {}",
                    name(&reporter),
                    units(slashed)
                ),
                E::Slashed { who: account, role, amount } =>
                    format!("  SLASHED {} ({:?}): {}", name(&account), role.0, units(amount)),
                E::VerifierPaid { submission, verifier, amount } =>
                    format!("  submission {submission}: {} paid {}", name(&verifier), units(amount)),
                _ => continue,
            };
            eprintln!("[chain #{}] {text}", block.number);
        }
    }
}
