//! `pogo-worker fetch-model`: a task's current model, from chain data alone. The task record is read
//! with a storage read proof at the latest finalized block and checked against that block's state root;
//! the state is fetched from the task's `model_locator` (or derived, at the initial root) and checked
//! against the proven state root before it is written — as safetensors (the committed tensor names and
//! shapes, weights only, loadable with `safetensors` / PyTorch) and as the exact state file.

use super::mine::CommandError;
use crate::{
    cli::{ChainOpts, OutputOpts},
    local_task::{self, TaskTerms},
};
use pogo_chain::ChainClient;
use pogo_store::{export, ClientLimits, DaClient};
use std::path::PathBuf;

/// Options of `fetch-model`.
#[derive(clap::Args, Clone, Debug)]
pub struct FetchModelArgs {
    /// The task.
    #[arg(long)]
    pub task: u32,
    /// Output directory (created): `model.safetensors`, `state.pogo`, `model.json`.
    #[arg(long, default_value = "pogo-model")]
    pub out: PathBuf,
    /// Also compute the model's mean loss on the task's eval split (needs the data set locally).
    #[arg(long)]
    pub eval: bool,
    /// Directory of the data sets.
    #[arg(long, env = "POGO_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub chain: ChainOpts,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub output: OutputOpts,
}

/// `pogo-worker fetch-model`.
pub async fn fetch_model(args: FetchModelArgs) -> Result<(), CommandError> {
    let chain = ChainClient::connect(&args.chain.ws).await?;
    let proven = chain
        .verified_task(args.task)
        .await?
        .ok_or_else(|| CommandError::Other(format!("the finalized state proves task {} does not exist", args.task)))?;
    let spec = proven.spec;
    let root = proven.task_state_root;
    let descriptor = chain
        .task_model(args.task)
        .await?
        .ok_or_else(|| CommandError::Other(format!("task {} has no model descriptor on chain", args.task)))?;
    if descriptor.hash() != spec.model {
        return Err(CommandError::Other("the model descriptor on chain does not hash to the proven spec's model".into()));
    }
    let model = pogo_engine::model::descriptor::build(&descriptor).map_err(|e| CommandError::Other(e.to_string()))?;
    let initial = local_task::initial_state(&spec, model.as_model());
    let (state, source) = if initial.root(&spec).map_err(|e| CommandError::Other(e.to_string()))? == root {
        (initial, "derived (the task's initial state)".to_string())
    } else {
        let locator = String::from_utf8_lossy(&proven.model_locator).into_owned();
        if locator.is_empty() {
            return Err(CommandError::Other("the proven task names no model locator".into()));
        }
        let client = DaClient::new(&locator, ClientLimits::default())?;
        (client.fetch_state(&spec, &root).await?, locator)
    };
    std::fs::create_dir_all(&args.out)?;
    let tensors = export::safetensors_bytes(&descriptor, &state.weights).map_err(|e| CommandError::Other(e.to_string()))?;
    std::fs::write(args.out.join("model.safetensors"), tensors)?;
    let state_bytes = state.to_bytes(&spec).map_err(|e| CommandError::Other(e.to_string()))?;
    std::fs::write(args.out.join("state.pogo"), state_bytes)?;
    let eval_loss = if args.eval {
        let view = chain.task(args.task).await?.ok_or_else(|| CommandError::Other("task gone".into()))?;
        let terms = TaskTerms {
            spec,
            model: Some(descriptor.clone()),
            data_locator: view.locator.clone(),
            train_root: view.train_root,
            eval_root: view.eval_root,
        };
        let local = local_task::resolve(&terms, args.data_dir.as_deref(), tch::Device::Cpu)
            .map_err(|e| CommandError::Other(e.to_string()))?;
        Some(local.engine.eval_loss(&state.weights, 512).map_err(|e| CommandError::Other(e.to_string()))?)
    } else {
        None
    };
    let summary = serde_json::json!({
        "task": args.task,
        "architecture": String::from_utf8_lossy(&descriptor.architecture),
        "parameters": spec.param_count,
        "state_root": hex::encode(root),
        "block": proven.block_number,
        "block_hash": hex::encode(proven.block_hash),
        "block_state_root": hex::encode(proven.state_root),
        "source": source,
        "eval_loss": eval_loss,
        "files": ["model.safetensors", "state.pogo"],
    });
    std::fs::write(args.out.join("model.json"), serde_json::to_vec_pretty(&summary).unwrap_or_default())?;
    if args.output.json {
        println!("{summary}");
    } else {
        println!("task {} at finalized block {} (state root proven against the block's state root)", args.task, proven.block_number);
        println!("  model        {}", String::from_utf8_lossy(&descriptor.architecture));
        println!("  state root   {}", hex::encode(root));
        println!("  from         {source}");
        if let Some(l) = eval_loss {
            println!("  eval loss    {l:.6}");
        }
        println!("  wrote        {}/model.safetensors, state.pogo, model.json", args.out.display());
    }
    Ok(())
}
