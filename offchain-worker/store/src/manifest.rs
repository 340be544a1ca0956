//! The round manifest: what a miner publishes about a round next to its data, so anyone holding only the
//! trace root from chain can find and check every state and gradient of the round.
//!
//! JSON, with the protocol objects as lowercase hex of their SCALE encoding (so the manifest carries
//! exactly the bytes the chain commits):
//!
//! ```text
//! { "version": 1, "task": 3, "round": 7, "miner": "<32 bytes>", "spec": "<SCALE TrainingSpec>",
//!   "first_global_step": 71, "round_seed": "<32 bytes>", "commitment": "<SCALE RoundCommitment>",
//!   "records": "<SCALE Vec<StepRecord>>", "train_losses": [2.3, ...], "eval_loss_before": 2.4,
//!   "eval_loss_after": 2.2, "checkpoints": [{"step": null, "root": "<base root>"}, {"step": 3, ...}] }
//! ```
//!
//! [`RoundManifest::verify`] recomputes the trace root from the records and the final root and checks
//! every redundant field against the committed ones, so a manifest that verifies is bound to its trace
//! root: the spec, records, checkpoints and losses in it are the ones the chain commitment covers.

use codec::{DecodeAll, Encode};
use pogo_primitives::{
    round::{trace_tree, RoundCommitment, RoundError, StepRecord},
    seed::round_seed,
    spec::{SpecError, TrainingSpec},
    views::TaskId,
    Hash,
};
use serde::{Deserialize, Serialize};

/// The manifest format version this crate writes and reads.
pub const MANIFEST_VERSION: u32 = 1;

/// A round manifest as stored and served (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RoundManifest {
    /// Format version ([`MANIFEST_VERSION`]).
    pub version: u32,
    /// The task.
    pub task: TaskId,
    /// The round number within the task.
    pub round: u32,
    /// Hex of the miner's account (32 bytes, its SCALE encoding).
    pub miner: String,
    /// Hex of the SCALE `TrainingSpec`.
    pub spec: String,
    /// The task's global step number (1-based) of the round's first step.
    pub first_global_step: u64,
    /// Hex of the round seed.
    pub round_seed: String,
    /// Hex of the SCALE `RoundCommitment`.
    pub commitment: String,
    /// Hex of the SCALE `Vec<StepRecord>`.
    pub records: String,
    /// Training loss of every step (the records' `train_loss`).
    pub train_losses: Vec<f32>,
    /// Claimed evaluation loss of the base state (the commitment's).
    pub eval_loss_before: f32,
    /// Claimed evaluation loss of the final state (the commitment's).
    pub eval_loss_after: f32,
    /// Every state of the round: the base (`step: null`) and the state after each checkpoint step.
    pub checkpoints: Vec<ManifestCheckpoint>,
}

/// One state of a round in a manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestCheckpoint {
    /// The step after which the state was taken; `None` for the base state.
    pub step: Option<u32>,
    /// Hex of the state root.
    pub root: String,
}

/// Who made a round and where it sits in its task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundIdentity {
    /// The task.
    pub task: TaskId,
    /// The round number.
    pub round: u32,
    /// The miner's account (32 bytes).
    pub miner: [u8; 32],
    /// Global step number (1-based) of the round's first step.
    pub first_global_step: u64,
}

/// Why a manifest is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Not a version this crate reads.
    #[error("manifest version {0} is not supported")]
    Version(u32),
    /// A hex field is not hex, or has the wrong length.
    #[error("field {field}: not valid hex of the expected length")]
    Hex {
        /// The field.
        field: &'static str,
    },
    /// A hex field does not hold the SCALE encoding of its type.
    #[error("field {field}: not a SCALE encoding of its type")]
    Decode {
        /// The field.
        field: &'static str,
    },
    /// The spec is invalid.
    #[error("invalid spec: {0}")]
    Spec(SpecError),
    /// The records are not a well-formed round under the spec.
    #[error("records: {0:?}")]
    Records(RoundError),
    /// The records and final root do not give the commitment's trace root.
    #[error("the records do not give the committed trace root")]
    TraceRootMismatch,
    /// A redundant field disagrees with what the commitment and records say.
    #[error("field {field} disagrees with the commitment or records")]
    Inconsistent {
        /// The field.
        field: &'static str,
    },
}

/// The decoded content of a manifest that verified.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifiedRound {
    /// The spec.
    pub spec: TrainingSpec,
    /// The commitment.
    pub commitment: RoundCommitment,
    /// Every step's record.
    pub records: Vec<StepRecord>,
    /// Every state of the round: `(step, root)`, the base first as `(None, base_root)`.
    pub checkpoints: Vec<(Option<u32>, Hash)>,
    /// The miner.
    pub miner: [u8; 32],
    /// The round seed.
    pub round_seed: Hash,
}

fn decode_hex<T: DecodeAll>(field: &'static str, text: &str) -> Result<T, ManifestError> {
    let bytes = hex::decode(text).map_err(|_| ManifestError::Hex { field })?;
    T::decode_all(&mut bytes.as_slice()).map_err(|_| ManifestError::Decode { field })
}

fn decode_hash(field: &'static str, text: &str) -> Result<Hash, ManifestError> {
    crate::layout::parse_root(text).ok_or(ManifestError::Hex { field })
}

/// The states of a round in manifest order: the base, then each checkpoint step's state.
fn checkpoints_of(commitment: &RoundCommitment, records: &[StepRecord]) -> Vec<(Option<u32>, Hash)> {
    std::iter::once((None, commitment.base_root))
        .chain(records.iter().filter_map(|r| r.checkpoint_root.map(|root| (Some(r.step), root))))
        .collect()
}

/// Same value, NaN equal to NaN (compares bit patterns).
fn same_f32(a: f32, bits: u32) -> bool {
    a.to_bits() == bits || (a.is_nan() && f32::from_bits(bits).is_nan())
}

impl RoundManifest {
    /// The manifest of a round: the commitment and records as built, the rest derived from them (losses,
    /// checkpoints, and the round seed of `(task, round, base_root, miner)`).
    pub fn new(
        identity: RoundIdentity,
        spec: &TrainingSpec,
        commitment: &RoundCommitment,
        records: &[StepRecord],
    ) -> Self {
        let seed = round_seed(identity.task, identity.round, &commitment.base_root, &identity.miner);
        Self {
            version: MANIFEST_VERSION,
            task: identity.task,
            round: identity.round,
            miner: hex::encode(identity.miner),
            spec: hex::encode(spec.encode()),
            first_global_step: identity.first_global_step,
            round_seed: hex::encode(seed),
            commitment: hex::encode(commitment.encode()),
            records: hex::encode(records.encode()),
            train_losses: records.iter().map(|r| f32::from_bits(r.train_loss)).collect(),
            eval_loss_before: f32::from_bits(commitment.eval_loss_before),
            eval_loss_after: f32::from_bits(commitment.eval_loss_after),
            checkpoints: checkpoints_of(commitment, records)
                .into_iter()
                .map(|(step, root)| ManifestCheckpoint { step, root: hex::encode(root) })
                .collect(),
        }
    }

    /// The spec.
    pub fn spec(&self) -> Result<TrainingSpec, ManifestError> {
        decode_hex("spec", &self.spec)
    }

    /// The commitment.
    pub fn commitment(&self) -> Result<RoundCommitment, ManifestError> {
        decode_hex("commitment", &self.commitment)
    }

    /// The trace root (from the commitment).
    pub fn trace_root(&self) -> Result<Hash, ManifestError> {
        self.commitment().map(|c| c.trace_root)
    }

    /// The step records.
    pub fn records(&self) -> Result<Vec<StepRecord>, ManifestError> {
        decode_hex("records", &self.records)
    }

    /// The round seed.
    pub fn round_seed(&self) -> Result<Hash, ManifestError> {
        decode_hash("round_seed", &self.round_seed)
    }

    /// The miner's account.
    pub fn miner(&self) -> Result<[u8; 32], ManifestError> {
        decode_hash("miner", &self.miner)
    }

    /// The states of the round as listed: `(step, root)`, `None` for the base.
    pub fn checkpoints(&self) -> Result<Vec<(Option<u32>, Hash)>, ManifestError> {
        self.checkpoints.iter().map(|c| Ok((c.step, decode_hash("checkpoints", &c.root)?))).collect()
    }

    /// The identity fields.
    pub fn identity(&self) -> Result<RoundIdentity, ManifestError> {
        Ok(RoundIdentity {
            task: self.task,
            round: self.round,
            miner: self.miner()?,
            first_global_step: self.first_global_step,
        })
    }

    /// Checks the manifest (see the module docs) and returns its decoded content.
    pub fn verify(&self) -> Result<VerifiedRound, ManifestError> {
        if self.version != MANIFEST_VERSION {
            return Err(ManifestError::Version(self.version));
        }
        let spec = self.spec()?;
        spec.validate().map_err(ManifestError::Spec)?;
        let commitment = self.commitment()?;
        let records = self.records()?;
        let miner = self.miner()?;
        let seed = self.round_seed()?;
        if commitment.steps != spec.steps_per_round {
            return Err(ManifestError::Inconsistent { field: "commitment.steps" });
        }
        let tree = trace_tree(&spec, &records, &commitment.final_root).map_err(ManifestError::Records)?;
        if tree.root() != commitment.trace_root {
            return Err(ManifestError::TraceRootMismatch);
        }
        if self.train_losses.len() != records.len() ||
            !self.train_losses.iter().zip(&records).all(|(l, r)| same_f32(*l, r.train_loss))
        {
            return Err(ManifestError::Inconsistent { field: "train_losses" });
        }
        if !same_f32(self.eval_loss_before, commitment.eval_loss_before) {
            return Err(ManifestError::Inconsistent { field: "eval_loss_before" });
        }
        if !same_f32(self.eval_loss_after, commitment.eval_loss_after) {
            return Err(ManifestError::Inconsistent { field: "eval_loss_after" });
        }
        let checkpoints = checkpoints_of(&commitment, &records);
        if self.checkpoints()? != checkpoints {
            return Err(ManifestError::Inconsistent { field: "checkpoints" });
        }
        if seed != round_seed(self.task, self.round, &commitment.base_root, &miner) {
            return Err(ManifestError::Inconsistent { field: "round_seed" });
        }
        Ok(VerifiedRound { spec, commitment, records, checkpoints, miner, round_seed: seed })
    }
}

impl VerifiedRound {
    /// Every gradient root of the round, in step order.
    pub fn gradient_roots(&self) -> impl Iterator<Item = Hash> + '_ {
        self.records.iter().map(|r| r.gradient_root)
    }

    /// Every state root of the round (base, then checkpoints).
    pub fn state_roots(&self) -> impl Iterator<Item = Hash> + '_ {
        self.checkpoints.iter().map(|(_, root)| *root)
    }
}
