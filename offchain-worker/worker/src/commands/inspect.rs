//! `pogo-worker inspect`: a task, a submission and its phase, a round's step records and losses (from a
//! round store or a miner's DA server, checked against its trace root), a leaf proof, a commitment.
//! Human-readable by default, `--json` for scripts.

use super::mine::CommandError;
use crate::cli::{ChainOpts, OutputOpts};
use codec::Decode;
use pogo_chain::ChainClient;
use pogo_primitives::{Hash, RoundCommitment};
use pogo_store::{ClientLimits, DaClient, RoundManifest, RoundStore};
use serde_json::json;
use std::path::PathBuf;

/// What to inspect.
#[derive(clap::Subcommand, Clone, Debug)]
pub enum InspectWhat {
    /// A task: spec, model, roots, round, escrow, pending submissions.
    Task {
        /// Task id.
        id: u32,
        #[command(flatten)]
        #[allow(missing_docs)]
        chain: ChainOpts,
    },
    /// A submission: its commitment, phase, challenge and assigned verifiers.
    Submission {
        /// Submission id.
        id: u64,
        #[command(flatten)]
        #[allow(missing_docs)]
        chain: ChainOpts,
    },
    /// A round's step records and losses, checked against its trace root.
    Round {
        /// The round's trace root (hex).
        trace_root: String,
        /// A round store to read it from.
        #[arg(long, conflicts_with = "from")]
        store: Option<PathBuf>,
        /// A DA server (a submission's locator) to fetch it from.
        #[arg(long)]
        from: Option<String>,
    },
    /// A state or gradient leaf with its Merkle proof, fetched from a DA server and checked.
    Leaf {
        /// The state root or gradient root (hex).
        root: String,
        /// Leaf index.
        index: u64,
        /// Whether `root` is a step's gradient root (else a state root).
        #[arg(long)]
        gradient: bool,
        /// The round whose spec splits the leaves (its trace root, hex).
        #[arg(long)]
        round: String,
        /// The DA server.
        #[arg(long)]
        from: String,
    },
    /// Decodes a SCALE-encoded round commitment (hex).
    Commitment {
        /// The encoded commitment.
        hex: String,
    },
}

fn hash(text: &str) -> Result<Hash, CommandError> {
    let bytes = hex::decode(text.trim_start_matches("0x")).map_err(|e| CommandError::Usage(format!("`{text}`: {e}")))?;
    bytes.try_into().map_err(|_| CommandError::Usage(format!("`{text}` is not 32 bytes")))
}

fn commitment_json(c: &RoundCommitment) -> serde_json::Value {
    json!({
        "base_root": hex::encode(c.base_root),
        "trace_root": hex::encode(c.trace_root),
        "final_root": hex::encode(c.final_root),
        "steps": c.steps,
        "eval_loss_before": f32::from_bits(c.eval_loss_before),
        "eval_loss_after": f32::from_bits(c.eval_loss_after),
    })
}

async fn manifest(trace_root: &Hash, store: &Option<PathBuf>, from: &Option<String>) -> Result<RoundManifest, CommandError> {
    match (store, from) {
        (Some(dir), _) => {
            let m = RoundStore::open(dir)?.round(trace_root)?.ok_or_else(|| CommandError::Other("no such round in the store".into()))?;
            m.verify()?;
            Ok(m)
        },
        (None, Some(url)) => Ok(DaClient::new(url, ClientLimits::default())?.fetch_round(trace_root).await?),
        (None, None) => Err(CommandError::Usage("give --store DIR or --from URL".into())),
    }
}

/// `pogo-worker inspect`.
pub async fn inspect(what: InspectWhat, out: OutputOpts) -> Result<(), CommandError> {
    let value = match what {
        InspectWhat::Task { id, chain } => {
            let chain = ChainClient::connect(&chain.ws).await?;
            let t = chain.task(id).await?.ok_or_else(|| CommandError::Other(format!("no task {id}")))?;
            let model = chain.task_model(id).await?;
            let pending = chain.pending_submissions(id).await?;
            json!({
                "task": id,
                "owner": t.owner.to_string(),
                "status": format!("{:?}", t.status),
                "model": model.as_ref().map(|m| String::from_utf8_lossy(&m.architecture).into_owned()),
                "model_tensors": model.as_ref().map(|m| m.tensors.len()),
                "parameters": t.spec.param_count,
                "steps_per_round": t.spec.steps_per_round,
                "rule": format!("{:?}", t.spec.rule),
                "data": String::from_utf8_lossy(&t.locator),
                "state_root": hex::encode(t.state_root),
                "model_locator": String::from_utf8_lossy(&t.model_locator),
                "round": t.round,
                "steps_done": t.steps_done,
                "escrow": t.escrow.to_string(),
                "pending": pending.iter().map(|s| json!({"id": s.id, "round": s.round, "phase": format!("{:?}", s.phase)})).collect::<Vec<_>>(),
            })
        },
        InspectWhat::Submission { id, chain } => {
            let chain = ChainClient::connect(&chain.ws).await?;
            let s = chain.submission(id).await?.ok_or_else(|| CommandError::Other(format!("no unsettled submission {id}")))?;
            json!({
                "submission": id,
                "task": s.task,
                "miner": s.miner.to_string(),
                "round": s.round,
                "phase": format!("{:?}", s.phase),
                "level": s.level,
                "submitted_at": s.submitted_at,
                "locator": String::from_utf8_lossy(&s.locator),
                "commitment": commitment_json(&s.commitment),
                "challenge": s.challenge.map(hex::encode),
                "assigned": s.assigned.iter().map(|(who, stake, level)| json!({"who": who.to_string(), "stake": stake.to_string(), "level": level})).collect::<Vec<_>>(),
            })
        },
        InspectWhat::Round { trace_root, store, from } => {
            let root = hash(&trace_root)?;
            let m = manifest(&root, &store, &from).await?;
            let records = m.records()?;
            json!({
                "trace_root": hex::encode(root),
                "task": m.task,
                "round": m.round,
                "verified": true,
                "commitment": commitment_json(&m.commitment()?),
                "eval_loss_before": m.eval_loss_before,
                "eval_loss_after": m.eval_loss_after,
                "steps": records.iter().zip(&m.train_losses).map(|(r, loss)| json!({
                    "step": r.step,
                    "train_loss": loss,
                    "gradient_root": hex::encode(r.gradient_root),
                    "checkpoint_root": r.checkpoint_root.map(hex::encode),
                })).collect::<Vec<_>>(),
            })
        },
        InspectWhat::Leaf { root, index, gradient, round, from } => {
            let root = hash(&root)?;
            let client = DaClient::new(&from, ClientLimits::default())?;
            let spec = client.fetch_round(&hash(&round)?).await?.spec()?;
            let leaf = if gradient {
                client.fetch_gradient_leaf(&spec, &root, index).await?
            } else {
                client.fetch_state_leaf(&spec, &root, index).await?
            };
            json!({"root": hex::encode(root), "index": index, "kind": if gradient {"gradient"} else {"state"}, "bytes": leaf.0.len(), "proof": "valid"})
        },
        InspectWhat::Commitment { hex: text } => {
            let bytes = hex::decode(text.trim_start_matches("0x")).map_err(|e| CommandError::Usage(e.to_string()))?;
            let c = RoundCommitment::decode(&mut &bytes[..]).map_err(|e| CommandError::Usage(format!("not a RoundCommitment: {e}")))?;
            commitment_json(&c)
        },
    };
    if out.json {
        println!("{value}");
    } else {
        print_human(&value, 0);
    }
    Ok(())
}

fn print_human(v: &serde_json::Value, indent: usize) {
    let pad = " ".repeat(indent);
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match v {
                    serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
                        println!("{pad}{k}:");
                        print_human(v, indent + 2);
                    },
                    other => println!("{pad}{k:<18} {}", scalar(other)),
                }
            }
        },
        serde_json::Value::Array(items) => {
            for item in items {
                match item {
                    serde_json::Value::Object(map) => {
                        let parts: Vec<String> = map.iter().map(|(k, v)| format!("{k}={}", scalar(v))).collect();
                        println!("{pad}- {}", parts.join("  "));
                    },
                    other => println!("{pad}- {}", scalar(other)),
                }
            }
        },
        other => println!("{pad}{}", scalar(other)),
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "-".into(),
        other => other.to_string(),
    }
}
