//! The store's error type.

use crate::{
    atomic::{at, PathError},
    layout::{root_hex, ObjectKind},
    manifest::ManifestError,
    state_file::StateFileError,
};
use pogo_primitives::{spec::SpecError, Hash};
use std::{io, path::Path};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// File-system error.
    #[error(transparent)]
    Io(#[from] PathError),
    /// The object is not in the store.
    #[error("{kind} {} not found", root_hex(root))]
    NotFound {
        /// Kind of object.
        kind: ObjectKind,
        /// Its root.
        root: Hash,
    },
    /// A stored file does not hold what its name commits to (damaged on disk); it is never used.
    #[error("{kind} {} is corrupt: {reason}", root_hex(root))]
    Corrupt {
        /// Kind of object.
        kind: ObjectKind,
        /// Its root.
        root: Hash,
        /// What is wrong.
        reason: String,
    },
    /// Content handed to the store does not have the root it was claimed to have.
    #[error("{kind}: the content's root is {}, not {}", root_hex(actual), root_hex(expected))]
    RootMismatch {
        /// Kind of object.
        kind: ObjectKind,
        /// The root claimed.
        expected: Hash,
        /// The root of the content.
        actual: Hash,
    },
    /// Leaves of the wrong count or length for the spec.
    #[error("{kind}: {reason}")]
    Shape {
        /// Kind of object.
        kind: ObjectKind,
        /// What is wrong.
        reason: &'static str,
    },
    /// A leaf index past the last leaf.
    #[error("{kind} leaf {index} out of range ({count} leaves)")]
    LeafOutOfRange {
        /// Kind of object.
        kind: ObjectKind,
        /// The index asked.
        index: u64,
        /// Leaves of the object.
        count: u64,
    },
    /// The spec is invalid.
    #[error("invalid spec: {0}")]
    Spec(SpecError),
    /// A journal name outside `[a-z0-9-_.]{1,64}` (or starting with a dot).
    #[error("invalid journal name {0:?}")]
    BadJournalName(String),
    /// A JSON object could not be written or read.
    #[error("{what}: {source}")]
    Json {
        /// The object.
        what: String,
        /// The error.
        #[source]
        source: serde_json::Error,
    },
    /// A round manifest was refused.
    #[error("manifest: {0}")]
    Manifest(#[from] ManifestError),
    /// A state could not be cut into leaves.
    #[error("state: {0}")]
    State(#[from] StateFileError),
}

pub(crate) fn not_found_or(kind: ObjectKind, root: &Hash, path: &Path, e: io::Error) -> StoreError {
    if e.kind() == io::ErrorKind::NotFound {
        StoreError::NotFound { kind, root: *root }
    } else {
        at(path)(e).into()
    }
}

