//! `pogo-worker verify` (and `watch`): the verifier, with its journal in a round store that it also
//! serves (the mirrored rounds), metrics and a line per event.

use super::mine::{signer, start_metrics, CommandError, DaServer};
use crate::{
    adversary::VerifierAdversary,
    cli::{ChainOpts, DaOpts, KeyOpts, MetricsOpts, RoleOpts, StoreOpts},
    metrics::Metrics,
    roles::verifier::{Verifier, VerifierConfig, VerifierEvent},
};
use pogo_chain::ChainClient;
use pogo_store::RoundStore;
use std::{sync::Arc, time::Duration};

/// Options of `verify`.
#[derive(clap::Args, Clone, Debug)]
pub struct VerifyArgs {
    /// Only this task (default: every task this worker can check).
    #[arg(long)]
    pub task: Option<u32>,
    /// Stop after this many duties were settled.
    #[arg(long)]
    pub duties: Option<u64>,
    /// Also replay accepted rounds in their fraud window and report fraud.
    #[arg(long)]
    pub watch: bool,
    /// Seconds a round's whole download may take before the verdict is DataUnavailable.
    #[arg(long, default_value_t = 60.0)]
    pub fetch_seconds: f64,
    /// Cheat: `lazy` (Positive unchecked), `grief` (Negative unchecked), `silent` (never commits),
    /// `selective` (reveals only Positive). For tests and demonstrations; it loses stake.
    #[arg(long)]
    pub adversary: Option<VerifierAdversary>,
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

/// One line per verifier event.
pub fn line(who: &str, event: &VerifierEvent) -> String {
    match event {
        VerifierEvent::Info(text) => format!("[{who}] {text}"),
        VerifierEvent::Checked { submission, verdict, note } => format!("[{who}] submission {submission}: {verdict:?} ({note})"),
        VerifierEvent::Committed { submission } => format!("[{who}] submission {submission}: verdict committed"),
        VerifierEvent::Revealed { submission, verdict } => format!("[{who}] submission {submission}: revealed {verdict:?}"),
        VerifierEvent::FraudReported { submission, fraud } =>
            format!("[{who}] submission {submission}: FRAUD PROVEN ({fraud}), the miner's bond is slashed"),
    }
}

/// `pogo-worker verify`.
pub async fn verify(args: VerifyArgs) -> Result<(), CommandError> {
    let signer = signer(&args.keys)?;
    tracing::info!(account = %signer, adversary = ?args.adversary, "verifying");
    let store = Arc::new(RoundStore::open(&args.store.store)?);
    let chain = ChainClient::connect(&args.chain.ws).await?;
    let da = DaServer::start(store.clone(), &args.da).await?;
    let metrics = Metrics::new(da.counters.clone());
    start_metrics(&args.metrics, &metrics).await?;
    let config = VerifierConfig {
        task: args.task,
        data_dir: args.role.data_dir.clone(),
        poll: args.role.poll(),
        download: args.role.download(),
        fetch_timeout: Duration::from_secs_f64(args.fetch_seconds.max(1.0)),
        watch: args.watch,
        max_duties: args.duties,
        adversary: args.adversary,
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let who = signer.to_string();
    let display = tokio::spawn(async move {
        while let Some(event) = rx.recv().await {
            eprintln!("{}", line(&who, &event));
        }
    });
    let verifier = Verifier::new(chain, signer, store, config, metrics, tx).map_err(|e| CommandError::Other(e.to_string()))?;
    let result = tokio::select! {
        r = verifier.run() => r.map(|_| ()),
        _ = tokio::signal::ctrl_c() => { tracing::info!("interrupted; the journal keeps every committed verdict and salt"); Ok(()) },
    };
    let _ = display.await;
    da.stop().await;
    result.map_err(|e| CommandError::Other(e.to_string()))
}
