//! What the DA server and client exchange besides raw files: URL paths and the JSON bodies.

use crate::layout::root_hex;
use pogo_primitives::Hash;
use serde::{Deserialize, Serialize};

/// The `service` field of [`DaStatus`].
pub const SERVICE_NAME: &str = "pogo-da";
/// The DA protocol version (the `/v1/` of the paths).
pub const DA_VERSION: u32 = 1;

/// `GET /v1/status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaStatus {
    /// Always [`SERVICE_NAME`].
    pub service: String,
    /// [`DA_VERSION`].
    pub version: u32,
    /// Round manifests served.
    pub rounds: u64,
    /// States served (with a known spec).
    pub states: u64,
    /// Bytes of response bodies sent so far.
    pub bytes_served: u64,
}

/// `GET /v1/{states,gradients}/{root}/leaves/{index}`: one leaf and its Merkle proof.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeafOpening {
    /// Hex of the leaf bytes.
    pub leaf: String,
    /// Hex of the SCALE `MerkleProof`.
    pub proof: String,
}

/// The body of every error response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// Machine-readable kind: `bad_request`, `not_found`, `method_not_allowed`, `payload_too_large`,
    /// `uri_too_long`, `overloaded`, `timeout` or `internal`.
    pub error: String,
    /// Human-readable detail.
    pub message: String,
}

/// `v1/status` (relative to the base URL).
pub fn status_path() -> String {
    "v1/status".to_string()
}

/// `v1/states/{root}`.
pub fn state_path(root: &Hash) -> String {
    format!("v1/states/{}", root_hex(root))
}

/// `v1/states/{root}/leaves/{index}`.
pub fn state_leaf_path(root: &Hash, index: u64) -> String {
    format!("v1/states/{}/leaves/{index}", root_hex(root))
}

/// `v1/rounds/{trace_root}`.
pub fn round_path(trace_root: &Hash) -> String {
    format!("v1/rounds/{}", root_hex(trace_root))
}

/// `v1/gradients/{root}`.
pub fn gradient_path(root: &Hash) -> String {
    format!("v1/gradients/{}", root_hex(root))
}

/// `v1/gradients/{root}/leaves/{index}`.
pub fn gradient_leaf_path(root: &Hash, index: u64) -> String {
    format!("v1/gradients/{}/leaves/{index}", root_hex(root))
}
