//! # pogo-store
//!
//! Where a pogo worker keeps its rounds, and how others get them: a content-addressed, crash-safe
//! [`RoundStore`] on disk, the data-availability (DA) [`server`] that serves it read-only over HTTP, the
//! DA [`client`] that fetches and checks what a miner serves, and the [`export`] of a model's weights as
//! safetensors. No libtorch.
//!
//! Every object is named by the root that commits it on chain (a state root, a gradient root, a trace
//! root), so whoever holds a root can check what it got: the store checks before it hands content out,
//! the client checks before it returns a download, and a damaged file or a lying server is a typed
//! error, never data.
//!
//! ## The store on disk
//!
//! ```text
//! <dir>/states/<root>.state         a model state (weights + optimizer slots): the header of
//!                                   [`state_file`] then the state leaves concatenated; named by state root
//! <dir>/states/<root>.spec          hex of the SCALE TrainingSpec that cuts the file into leaves
//! <dir>/gradients/<root>.grad       one step's 4-bit gradient leaves concatenated; named by gradient root
//! <dir>/gradients/<root>.spec       its spec, as for states
//! <dir>/rounds/<trace_root>.json    a [`RoundManifest`]
//! <dir>/roles/<name>.json           role journals (e.g. the miner's crash-safe progress)
//! <dir>/tmp/                        temporary files
//! ```
//!
//! Leaf sizes follow from the spec: state leaf `i` holds `n_i = min(leaf_size, param_count − i·leaf_size)`
//! parameters × `(1 + slots)` f32 (little-endian; weights, then each slot); gradient leaf `i` is
//! `quant::encoded_len(n_i, codec_block)` bytes. Every write is a temporary file in `tmp/`, written,
//! fsynced, renamed over its name, and the directory fsynced (one helper does all writes), so after a crash
//! a name holds either nothing or a whole file; the spec sidecar is written before its data file. Stale
//! temporary files are removed at open. The spec of every state and gradient is indexed in memory at
//! open (from the manifests and sidecars) so the server can cut leaves without being told the spec.
//!
//! ## The DA protocol (HTTP, lowercase hex without `0x`)
//!
//! A miner's locator on chain is the base URL of its DA server, e.g. `http://127.0.0.1:9955`.
//!
//! ```text
//! GET /v1/status                          {"service":"pogo-da","version":1,"rounds":N,"states":N,"bytes_served":N}
//! GET /v1/states/{root}                   the state file (HTTP Range supported)
//! GET /v1/states/{root}/leaves/{i}        {"leaf": hex, "proof": hex(SCALE MerkleProof)}
//! GET /v1/rounds/{trace_root}             the round manifest (JSON)
//! GET /v1/gradients/{root}                the gradient file (HTTP Range supported)
//! GET /v1/gradients/{root}/leaves/{i}     {"leaf": hex, "proof": hex(SCALE MerkleProof)}
//! ```
//!
//! Errors are JSON `{"error": kind, "message": text}`: 400 (a root that is not 64 hex digits, an index
//! that is not a decimal u64), 404 (unknown object, leaf out of range, unknown path), 405 (not GET or
//! HEAD), 413 (a request with a body), 414 (request target too long), 503 (too many requests in
//! flight), 408 (response not started in time), 500 (a damaged stored object, which is never sent).
//! See [`server`] for the limits and [`client`] for the checks.

pub mod client;
pub mod export;
pub mod layout;
pub mod manifest;
pub mod server;
pub mod state_file;
pub mod store;
pub mod wire;

mod atomic;
mod tree_cache;

pub use atomic::PathError;
pub use client::{ClientLimits, DaClient, DaError};
pub use export::{safetensors_bytes, ExportError};
pub use layout::ObjectKind;
pub use manifest::{ManifestCheckpoint, ManifestError, RoundIdentity, RoundManifest, VerifiedRound};
pub use server::{guarded, router, serve, CounterSnapshot, ServerCounters, ServerLimits};
pub use state_file::{ModelState, StateFileError};
pub use store::{ObjectUsage, RoundStore, StoreCounts, StoreError, StoreUsage};
pub use tree_cache::DEFAULT_TREE_CACHE;
pub use wire::{DaStatus, ErrorBody, LeafOpening};
