//! The data-availability client: fetches a round's manifest, states, gradients and leaf openings from
//! a miner's DA server and checks each against the root it was asked for before returning it. Nothing a
//! server sends is trusted: sizes are capped before reading (a state or gradient at exactly the size its
//! spec gives), roots are recomputed, proofs verified, and a server that sends other bytes than the
//! root commits is a [`DaError::Mismatch`].

use crate::{
    layout::{split_gradient_leaves, ObjectKind},
    manifest::{ManifestError, RoundManifest},
    state_file::{state_file_root, ModelState},
    wire::{self, DaStatus, LeafOpening},
};
use codec::DecodeAll;
use pogo_primitives::{spec::TrainingSpec, Hash, MerkleProof, MerkleTree};
use reqwest::{StatusCode, Url};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Bounds on what the client waits for and reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientLimits {
    /// Connect timeout, whole-request timeout of small requests (status, manifests, leaves) and the
    /// longest pause while a state or gradient streams in.
    pub timeout: Duration,
    /// Largest body read for responses whose size the spec does not fix (status, manifests, leaves).
    pub max_bytes: u64,
}

impl Default for ClientLimits {
    fn default() -> Self {
        Self { timeout: Duration::from_secs(30), max_bytes: 64 * 1024 * 1024 }
    }
}

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum DaError {
    /// The base URL is not an absolute http(s) URL without query or fragment.
    #[error("invalid DA URL {0:?}")]
    Url(String),
    /// Transport error (connection, timeout, TLS, interrupted body).
    #[error("http: {0}")]
    Http(#[from] reqwest::Error),
    /// The server answered with a non-success status.
    #[error("server answered {code}: {body}")]
    Status {
        /// HTTP status code.
        code: u16,
        /// The start of the body (the server's JSON error, if it sent one).
        body: String,
    },
    /// The body is larger than allowed (the cap in bytes).
    #[error("response larger than {limit} bytes")]
    TooLarge {
        /// The cap.
        limit: u64,
    },
    /// The body is not what the protocol says (bad JSON, bad hex, a state file that does not parse).
    #[error("malformed response: {0}")]
    Malformed(String),
    /// The server sent content that is not what the root asked for commits: a lying or broken server.
    #[error("the server's {what} does not match the requested root")]
    Mismatch {
        /// What did not match.
        what: &'static str,
    },
    /// The round manifest is inconsistent.
    #[error("manifest: {0}")]
    Manifest(#[from] ManifestError),
    /// The spec does not allow the request (invalid spec, or a file too large to address).
    #[error("spec: {0}")]
    Spec(String),
    /// A verification task could not run.
    #[error("task: {0}")]
    Task(String),
}

/// A client of one DA server.
#[derive(Clone, Debug)]
pub struct DaClient {
    base: Url,
    http: reqwest::Client,
    limits: ClientLimits,
}

/// The start of an error body kept in [`DaError::Status`].
const ERROR_BODY_PREFIX: u64 = 4096;

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T, DaError> + Send + 'static) -> Result<T, DaError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| DaError::Task(e.to_string()))?
}

impl DaClient {
    /// A client of the server at `base_url` (a miner's locator, e.g. `http://127.0.0.1:9955`).
    pub fn new(base_url: &str, limits: ClientLimits) -> Result<Self, DaError> {
        let bad = || DaError::Url(base_url.to_string());
        let mut base = Url::parse(base_url).map_err(|_| bad())?;
        if !matches!(base.scheme(), "http" | "https") ||
            base.host_str().is_none_or(str::is_empty) ||
            base.query().is_some() ||
            base.fragment().is_some()
        {
            return Err(bad());
        }
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let http = reqwest::Client::builder()
            .connect_timeout(limits.timeout)
            .read_timeout(limits.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("pogo-store/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { base, http, limits })
    }

    /// The base URL (with a trailing slash).
    pub fn base_url(&self) -> &str {
        self.base.as_str()
    }

    fn url(&self, path: &str) -> Result<Url, DaError> {
        self.base.join(path).map_err(|_| DaError::Url(format!("{}{path}", self.base)))
    }

    /// GETs `path` and reads at most `cap` bytes of a success body; `whole_timeout` bounds the
    /// whole request (small responses only).
    async fn get(&self, path: &str, cap: u64, whole_timeout: bool) -> Result<Vec<u8>, DaError> {
        let url = self.url(path)?;
        let mut request = self.http.get(url.clone());
        if whole_timeout {
            request = request.timeout(self.limits.timeout);
        }
        let mut response = request.send().await?;
        let status = response.status();
        if !status.is_success() {
            let body = read_capped(&mut response, ERROR_BODY_PREFIX, false).await.unwrap_or_default();
            tracing::debug!(%url, %status, "DA request refused");
            return Err(DaError::Status { code: status.as_u16(), body: String::from_utf8_lossy(&body).into_owned() });
        }
        if status != StatusCode::OK {
            return Err(DaError::Malformed(format!("unexpected status {status}")));
        }
        read_capped(&mut response, cap, true).await
    }

    async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, DaError> {
        let bytes = self.get(path, self.limits.max_bytes, true).await?;
        serde_json::from_slice(&bytes).map_err(|e| DaError::Malformed(e.to_string()))
    }

    /// The server's status.
    pub async fn status(&self) -> Result<DaStatus, DaError> {
        let status: DaStatus = self.get_json(&wire::status_path()).await?;
        if status.service != wire::SERVICE_NAME {
            return Err(DaError::Malformed(format!("not a pogo DA server: {:?}", status.service)));
        }
        Ok(status)
    }

    /// The manifest of the round `trace_root`, refused unless it verifies and is for that trace root.
    pub async fn fetch_round(&self, trace_root: &Hash) -> Result<RoundManifest, DaError> {
        let manifest: RoundManifest = self.get_json(&wire::round_path(trace_root)).await?;
        let checked = manifest.clone();
        let verified = blocking(move || Ok(checked.verify()?)).await?;
        if verified.commitment.trace_root != *trace_root {
            return Err(DaError::Mismatch { what: "round manifest" });
        }
        Ok(manifest)
    }

    /// The state with root `root` under `spec`, checked against the root.
    pub async fn fetch_state(&self, spec: &TrainingSpec, root: &Hash) -> Result<ModelState, DaError> {
        spec.validate().map_err(|e| DaError::Spec(e.to_string()))?;
        let len = ObjectKind::State.file_len(spec).ok_or_else(|| DaError::Spec("state file too large".into()))?;
        let bytes = self.get(&wire::state_path(root), len, false).await?;
        if bytes.len() as u64 != len {
            return Err(DaError::Mismatch { what: "state file length" });
        }
        let (spec, root) = (*spec, *root);
        blocking(move || {
            let actual = state_file_root(&spec, &bytes).map_err(|e| DaError::Malformed(e.to_string()))?;
            if actual != root {
                tracing::warn!("a DA server sent a state that does not match its root");
                return Err(DaError::Mismatch { what: "state" });
            }
            ModelState::from_bytes(&spec, &bytes).map_err(|e| DaError::Malformed(e.to_string()))
        })
        .await
    }

    /// The gradient leaves with root `root` under `spec`, checked against the root.
    pub async fn fetch_gradient(&self, spec: &TrainingSpec, root: &Hash) -> Result<Vec<Vec<u8>>, DaError> {
        spec.validate().map_err(|e| DaError::Spec(e.to_string()))?;
        let len = ObjectKind::Gradient.file_len(spec).ok_or_else(|| DaError::Spec("gradient file too large".into()))?;
        let bytes = self.get(&wire::gradient_path(root), len, false).await?;
        let (spec, root) = (*spec, *root);
        blocking(move || {
            let leaves = split_gradient_leaves(&spec, &bytes).ok_or(DaError::Mismatch { what: "gradient file length" })?;
            let tree = MerkleTree::from_leaves(leaves.iter().copied()).map_err(|e| DaError::Malformed(e.to_string()))?;
            if tree.root() != root {
                tracing::warn!("a DA server sent a gradient that does not match its root");
                return Err(DaError::Mismatch { what: "gradient" });
            }
            Ok(leaves.into_iter().map(<[u8]>::to_vec).collect())
        })
        .await
    }

    async fn fetch_leaf(
        &self,
        kind: ObjectKind,
        spec: &TrainingSpec,
        root: &Hash,
        index: u64,
    ) -> Result<(Vec<u8>, MerkleProof), DaError> {
        spec.validate().map_err(|e| DaError::Spec(e.to_string()))?;
        let len = kind.leaf_len(spec, index).ok_or_else(|| DaError::Spec(format!("leaf {index} out of range")))?;
        let path = match kind {
            ObjectKind::State => wire::state_leaf_path(root, index),
            _ => wire::gradient_leaf_path(root, index),
        };
        let opening: LeafOpening = self.get_json(&path).await?;
        let leaf = hex::decode(&opening.leaf).map_err(|e| DaError::Malformed(format!("leaf: {e}")))?;
        let proof_bytes = hex::decode(&opening.proof).map_err(|e| DaError::Malformed(format!("proof: {e}")))?;
        let proof = MerkleProof::decode_all(&mut proof_bytes.as_slice())
            .map_err(|e| DaError::Malformed(format!("proof: {e}")))?;
        let what = match kind {
            ObjectKind::State => "state leaf",
            _ => "gradient leaf",
        };
        if leaf.len() != len || proof.leaf_index != index {
            return Err(DaError::Mismatch { what });
        }
        proof.verify_in(root, spec.leaf_count(), &leaf).map_err(|_| DaError::Mismatch { what })?;
        Ok((leaf, proof))
    }

    /// State leaf `index` of state `root` with its proof, verified against the root.
    pub async fn fetch_state_leaf(&self, spec: &TrainingSpec, root: &Hash, index: u64) -> Result<(Vec<u8>, MerkleProof), DaError> {
        self.fetch_leaf(ObjectKind::State, spec, root, index).await
    }

    /// Gradient leaf `index` of gradient `root` with its proof, verified against the root.
    pub async fn fetch_gradient_leaf(
        &self,
        spec: &TrainingSpec,
        root: &Hash,
        index: u64,
    ) -> Result<(Vec<u8>, MerkleProof), DaError> {
        self.fetch_leaf(ObjectKind::Gradient, spec, root, index).await
    }
}

/// Reads a body of at most `cap` bytes; over the cap it is [`DaError::TooLarge`] when `strict`, else
/// cut at the cap.
async fn read_capped(response: &mut reqwest::Response, cap: u64, strict: bool) -> Result<Vec<u8>, DaError> {
    if strict && response.content_length().is_some_and(|len| len > cap) {
        return Err(DaError::TooLarge { limit: cap });
    }
    let capacity = response.content_length().unwrap_or(0).min(cap);
    let mut out = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    while let Some(chunk) = response.chunk().await? {
        let room = usize::try_from(cap.saturating_sub(out.len() as u64)).unwrap_or(usize::MAX);
        if chunk.len() > room {
            if strict {
                return Err(DaError::TooLarge { limit: cap });
            }
            out.extend_from_slice(chunk.get(..room).unwrap_or_default());
            break;
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}
