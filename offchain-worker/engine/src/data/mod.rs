//! Data sets: fixed-length byte records split into train and eval parts, each committed by a Merkle root
//! over its records (`pogo_primitives::merkle`, one leaf per record). A step's batch is the list of
//! train-record indices `pogo_primitives::seed::batch(round seed, step, …)` draws, so a verifier rebuilds
//! exactly the miner's batch from the same records.

mod digits;
mod text;

pub use digits::{digits, parse_digits_csv};
pub use text::{text_corpus, windows};

use pogo_primitives::{merkle::MerkleTree, Hash};
use std::path::PathBuf;

/// Why a data set could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// A file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A file's content is malformed.
    #[error("{path}, line {line}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// Too little data for the requested records.
    #[error("{0}: too small for one training and one evaluation record")]
    TooSmall(String),
    /// A record index outside the split.
    #[error("record {index} out of range ({len} records)")]
    OutOfRange {
        /// The index.
        index: u64,
        /// Records in the split.
        len: u64,
    },
    /// The Merkle commitment could not be built.
    #[error("merkle commitment failed")]
    Merkle,
}

/// Records of one split, stored back to back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    record_len: usize,
    bytes: Vec<u8>,
}

impl Split {
    /// A split of `record_len`-byte records (`bytes.len()` must be a multiple).
    pub fn new(record_len: usize, bytes: Vec<u8>) -> Self {
        debug_assert!(record_len > 0 && bytes.len().is_multiple_of(record_len));
        Self { record_len, bytes }
    }

    /// Number of records.
    pub fn len(&self) -> u64 {
        (self.bytes.len() / self.record_len) as u64
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Record `index`.
    pub fn record(&self, index: u64) -> Result<&[u8], DataError> {
        let len = self.len();
        let i = usize::try_from(index).ok().filter(|_| index < len).ok_or(DataError::OutOfRange { index, len })?;
        Ok(&self.bytes[i * self.record_len..(i + 1) * self.record_len])
    }

    /// Records at `indices`.
    pub fn records(&self, indices: &[u64]) -> Result<Vec<&[u8]>, DataError> {
        indices.iter().map(|&i| self.record(i)).collect()
    }

    /// Every record in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.bytes.chunks_exact(self.record_len)
    }

    /// The Merkle tree over the records (leaf i = record i).
    pub fn tree(&self) -> Result<MerkleTree, DataError> {
        MerkleTree::from_leaves(self.iter()).map_err(|_| DataError::Merkle)
    }
}

/// A data set: train and eval splits of the same record length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    /// Name (`digits`, `shakespeare`, or the file's).
    pub name: String,
    /// Bytes per record.
    pub record_len: usize,
    /// Training records (batches are drawn from these).
    pub train: Split,
    /// Held-out records (evaluation).
    pub eval: Split,
}

impl Dataset {
    /// The roots committed in the task (`DatasetInfo { train_root, eval_root }`).
    pub fn roots(&self) -> Result<(Hash, Hash), DataError> {
        Ok((self.train.tree()?.root(), self.eval.tree()?.root()))
    }
}

/// Where `scripts/setup.sh` puts the default data sets: `$POGO_DATA_DIR`, else `$HOME/.cache/pogo/data`.
pub fn data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("POGO_DATA_DIR") {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("."));
    home.join(".cache/pogo/data")
}

pub(crate) fn read(path: &std::path::Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })
}
