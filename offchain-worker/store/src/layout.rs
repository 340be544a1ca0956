//! Where objects live in a store directory and how their files are cut into leaves.
//!
//! A gradient file is one step's gradient leaves concatenated in leaf order (no header); gradient leaf
//! `i` holds `quant::encoded_len(n_i, codec_block)` bytes, `n_i` the parameters of leaf `i`. A state file
//! is described in [`crate::state_file`].

use crate::state_file::{state_file_len, state_leaf_span, HEADER_LEN};
use pogo_primitives::{quant::encoded_len, spec::TrainingSpec, Hash};
use std::fmt;

/// The kinds of object a store keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// A model state (`states/<root>.state`).
    State,
    /// One step's gradient leaves (`gradients/<root>.grad`).
    Gradient,
    /// A round manifest (`rounds/<trace_root>.json`).
    Round,
    /// A role journal (`roles/<name>.json`).
    Journal,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::State => "state",
            ObjectKind::Gradient => "gradient",
            ObjectKind::Round => "round",
            ObjectKind::Journal => "journal",
        })
    }
}

/// Subdirectory of states.
pub const STATES_DIR: &str = "states";
/// Subdirectory of gradients.
pub const GRADIENTS_DIR: &str = "gradients";
/// Subdirectory of round manifests.
pub const ROUNDS_DIR: &str = "rounds";
/// Subdirectory of role journals.
pub const ROLES_DIR: &str = "roles";
/// Subdirectory of temporary files.
pub const TMP_DIR: &str = "tmp";
/// Extension of state files.
pub const STATE_EXT: &str = "state";
/// Extension of gradient files.
pub const GRADIENT_EXT: &str = "grad";
/// Extension of the spec sidecar next to a state or gradient file (hex of the SCALE `TrainingSpec`).
pub const SPEC_EXT: &str = "spec";
/// Extension of manifests and journals.
pub const JSON_EXT: &str = "json";
/// Longest journal name.
pub const MAX_JOURNAL_NAME_LEN: usize = 64;

/// Lowercase hex of a root, as in file names and URLs.
pub fn root_hex(root: &Hash) -> String {
    hex::encode(root)
}

/// Parses exactly 64 hex digits into a root; anything else is `None`.
pub fn parse_root(text: &str) -> Option<Hash> {
    if text.len() != 64 {
        return None;
    }
    let mut root = [0u8; 32];
    hex::decode_to_slice(text, &mut root).ok()?;
    Some(root)
}

/// Whether `name` may name a journal: 1 to [`MAX_JOURNAL_NAME_LEN`] characters of `[a-z0-9-_.]`, not
/// starting with a dot (so never `.` or `..`).
pub fn is_valid_journal_name(name: &str) -> bool {
    !name.is_empty() &&
        name.len() <= MAX_JOURNAL_NAME_LEN &&
        !name.starts_with('.') &&
        name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
}

/// Bytes of a full gradient leaf of `spec` (every leaf but possibly the last).
fn full_gradient_leaf_len(spec: &TrainingSpec) -> Option<u64> {
    let len = encoded_len(usize::try_from(spec.leaf_size).ok()?, usize::try_from(spec.codec_block).ok()?)?;
    u64::try_from(len).ok()
}

/// Offset in a gradient file of `spec` of gradient leaf `index`, and its length; `None` past the end.
pub fn gradient_leaf_span(spec: &TrainingSpec, index: u64) -> Option<(u64, usize)> {
    let len = spec.gradient_leaf_len(index)?;
    Some((index.checked_mul(full_gradient_leaf_len(spec)?)?, len))
}

/// Exact size in bytes of a gradient file of `spec`.
pub fn gradient_file_len(spec: &TrainingSpec) -> Option<u64> {
    let (offset, len) = gradient_leaf_span(spec, spec.leaf_count().checked_sub(1)?)?;
    offset.checked_add(u64::try_from(len).ok()?)
}

/// Cuts a whole gradient file of `spec` into its leaves; `None` unless its length is exact.
pub fn split_gradient_leaves<'a>(spec: &TrainingSpec, bytes: &'a [u8]) -> Option<Vec<&'a [u8]>> {
    if u64::try_from(bytes.len()).ok()? != gradient_file_len(spec)? {
        return None;
    }
    let mut rest = bytes;
    let mut leaves = Vec::with_capacity(usize::try_from(spec.leaf_count()).ok()?);
    for index in 0..spec.leaf_count() {
        let len = spec.gradient_leaf_len(index)?;
        let (leaf, tail) = rest.split_at_checked(len)?;
        leaves.push(leaf);
        rest = tail;
    }
    Some(leaves)
}

impl ObjectKind {
    /// Offset and length of leaf `index` in a file of this kind; `None` past the end or for kinds
    /// without leaves.
    pub fn leaf_span(self, spec: &TrainingSpec, index: u64) -> Option<(u64, usize)> {
        match self {
            ObjectKind::State => state_leaf_span(spec, index),
            ObjectKind::Gradient => gradient_leaf_span(spec, index),
            ObjectKind::Round | ObjectKind::Journal => None,
        }
    }

    /// Length of leaf `index`.
    pub fn leaf_len(self, spec: &TrainingSpec, index: u64) -> Option<usize> {
        self.leaf_span(spec, index).map(|(_, len)| len)
    }

    /// Exact file size of an object of this kind under `spec`.
    pub fn file_len(self, spec: &TrainingSpec) -> Option<u64> {
        match self {
            ObjectKind::State => state_file_len(spec),
            ObjectKind::Gradient => gradient_file_len(spec),
            ObjectKind::Round | ObjectKind::Journal => None,
        }
    }

    /// Bytes before the first leaf.
    pub fn header_len(self) -> usize {
        match self {
            ObjectKind::State => HEADER_LEN,
            _ => 0,
        }
    }
}
