//! `pogo-worker`: the PoGO off-chain worker. `pogo-worker --help` lists the commands; the README's run
//! command is `pogo-worker devnet` (or `scripts/devnet.sh`).

use clap::{Parser, Subcommand};
use pogo_worker::{
    cli,
    commands::{create_task, devnet, fetch_model, inspect, mine, verify},
};
use pogo_chain::ChainClient;
use pogo_primitives::views::Role;

/// The PoGO off-chain worker: trains a task's model in rounds, commits them on chain and serves their
/// data; fetches and inspects what the chain holds; runs a whole dev network.
#[derive(Parser, Debug)]
#[command(name = "pogo-worker", version, about, long_about = None)]
struct Cli {
    /// libtorch intra-op threads (the pinned compute settings of protocol section 11) and the threads of
    /// the miner's bookkeeping (pogo-bookkeeping's rayon pool); default: all cores. Miners and verifiers may use different counts: the tolerance rule absorbs the difference.
    #[arg(long, global = true, env = "POGO_TORCH_THREADS")]
    threads: Option<usize>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run pogo on this machine: a dev node, the default task, a bonded miner and verifiers, the miner at
    /// work with progress on screen. Ctrl-C stops everything.
    Devnet(devnet::DevnetArgs),
    /// Mine a task: train rounds, store and serve their data, submit them, follow them to settlement.
    Mine(mine::MineArgs),
    /// Verify the submissions this account is assigned to: fetch, replay, recompute sampled steps,
    /// evaluate, commit and reveal verdicts; prove fraud where the replay finds it (`--watch`: also replay
    /// accepted rounds in their fraud window).
    Verify(verify::VerifyArgs),
    /// Serve a round store over HTTP (the data-availability server alone).
    Serve(mine::ServeArgs),
    /// Download a task's current model (proven against a finalized block) as safetensors and state file.
    FetchModel(fetch_model::FetchModelArgs),
    /// Show a task, a submission, a round, a leaf proof or a commitment.
    Inspect {
        #[command(subcommand)]
        what: inspect::InspectWhat,
        #[command(flatten)]
        output: cli::OutputOpts,
    },
    /// Create one of the default tasks (the signer owns and funds it).
    CreateTask {
        /// Which task.
        #[arg(long, value_enum, default_value_t = cli::DefaultTask::Digits)]
        task: cli::DefaultTask,
        /// Blocks verifiers have to commit and to reveal.
        #[arg(long, default_value_t = 10)]
        window: u32,
        /// Escrow in units.
        #[arg(long, default_value_t = 1_000)]
        escrow: u128,
        /// Steps per round (default: the task's).
        #[arg(long)]
        steps_per_round: Option<u32>,
        /// How verifiers check the task's rounds: full replay, or sampled replay (protocol section 11b).
        #[arg(long, value_enum, default_value_t = cli::Verification::Full)]
        verification: cli::Verification,
        /// Directory of the data sets.
        #[arg(long, env = "POGO_DATA_DIR")]
        data_dir: Option<std::path::PathBuf>,
        #[command(flatten)]
        chain: cli::ChainOpts,
        #[command(flatten)]
        keys: cli::KeyOpts,
    },
    /// Bond funds in a role.
    Bond {
        /// miner or verifier.
        #[arg(long, value_parser = ["miner", "verifier"])]
        role: String,
        /// Amount in units.
        #[arg(long)]
        amount: u128,
        #[command(flatten)]
        chain: cli::ChainOpts,
        #[command(flatten)]
        keys: cli::KeyOpts,
    },
}

async fn run(cli: Cli) -> Result<(), mine::CommandError> {
    match cli.command {
        Command::Devnet(args) => devnet::devnet(args).await,
        Command::Mine(args) => mine::mine(args).await,
        Command::Verify(args) => verify::verify(args).await,
        Command::Serve(args) => mine::serve(args).await,
        Command::FetchModel(args) => fetch_model::fetch_model(args).await,
        Command::Inspect { what, output } => inspect::inspect(what, output).await,
        Command::CreateTask { task, window, escrow, steps_per_round, verification, data_dir, chain, keys } => {
            let signer = mine::signer(&keys)?;
            let terms = create_task::default_terms(task, data_dir.as_deref(), steps_per_round)
                .map_err(|e| mine::CommandError::Other(format!("data set: {e}")))?;
            let chain = ChainClient::connect(&chain.ws).await?;
            let mut params = create_task::dev_params(window, &terms.spec);
            params.verification = verification.into();
            let id = chain.create_task(&signer, &terms.new_task(params, escrow.saturating_mul(create_task::UNIT))).await?;
            println!("{id}");
            Ok(())
        },
        Command::Bond { role, amount, chain, keys } => {
            let signer = mine::signer(&keys)?;
            let role = if role == "miner" { Role::Miner } else { Role::Verifier };
            let chain = ChainClient::connect(&chain.ws).await?;
            chain.bond(&signer, role, amount.saturating_mul(create_task::UNIT)).await?;
            println!("bonded {amount} UNIT as {role:?} from {signer}");
            Ok(())
        },
    }
}

fn main() -> std::process::ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,subxt=warn,jsonrpsee=warn,hyper=warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false).init();
    let cli = Cli::parse();
    let threads = cli.threads.unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let settings = pogo_engine::pin_torch_settings(threads);
    // The bookkeeping's rayon pool gets the same cores as libtorch (they take turns within a step).
    if let Err(e) = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global() {
        tracing::warn!(%e, "rayon thread pool");
    }
    if !settings.is_pinned() {
        tracing::warn!(?settings, "libtorch refused part of the pinned compute settings");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: tokio runtime: {e}");
            return std::process::ExitCode::FAILURE;
        },
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        },
    }
}
