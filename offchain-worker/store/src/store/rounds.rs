//! Round manifests in the store.

use super::{root_hex, RoundStore, StoreError};
use crate::{
    atomic::at,
    layout::ObjectKind,
    manifest::{ManifestError, RoundManifest, VerifiedRound},
};
use pogo_primitives::{builder::RoundBuilder, Hash};
use std::{io, sync::PoisonError};

impl RoundStore {
    /// Stores a round manifest (after [`RoundManifest::verify`]); returns its trace root. Its states
    /// and gradients are indexed under its spec.
    pub fn put_round(&self, manifest: &RoundManifest) -> Result<Hash, StoreError> {
        let verified = manifest.verify()?;
        let trace_root = verified.commitment.trace_root;
        let bytes = serde_json::to_vec_pretty(manifest)
            .map_err(|source| StoreError::Json { what: format!("round {}", root_hex(&trace_root)), source })?;
        self.temp.write(&self.round_path(&trace_root), &bytes)?;
        self.index.write().unwrap_or_else(PoisonError::into_inner).add_round(&verified);
        tracing::debug!(trace_root = %root_hex(&trace_root), "stored round manifest");
        Ok(trace_root)
    }

    /// Stores everything a miner serves for a round built with `builder`: every state of the round
    /// (base and checkpoints), every step's gradient, then the manifest, so a manifest on disk always
    /// has its data beside it. The manifest must describe the builder's round.
    pub fn put_builder_round(&self, builder: &RoundBuilder, manifest: &RoundManifest) -> Result<Hash, StoreError> {
        let verified = manifest.verify()?;
        let spec = verified.spec;
        if builder.records() != verified.records || builder.base_root() != verified.commitment.base_root {
            return Err(StoreError::Manifest(ManifestError::Inconsistent { field: "records" }));
        }
        for (step, root) in &verified.checkpoints {
            let (leaves, built_root) =
                builder.checkpoint_leaves(*step).ok_or(StoreError::Shape { kind: ObjectKind::State, reason: "checkpoint missing" })?;
            if built_root != *root {
                return Err(StoreError::RootMismatch { kind: ObjectKind::State, expected: *root, actual: built_root });
            }
            self.put_state_leaves(&spec, root, leaves)?;
        }
        for record in &verified.records {
            let leaves = builder
                .gradient_leaves(record.step)
                .ok_or(StoreError::Shape { kind: ObjectKind::Gradient, reason: "step missing" })?;
            self.put_gradient(&spec, &record.gradient_root, leaves)?;
        }
        self.put_round(manifest)
    }

    /// Reads and verifies a manifest; `None` if absent.
    pub(super) fn read_round(&self, trace_root: &Hash) -> Result<Option<(RoundManifest, VerifiedRound)>, StoreError> {
        let kind = ObjectKind::Round;
        let path = self.round_path(trace_root);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(at(&path)(e).into()),
        };
        let corrupt = |reason: String| StoreError::Corrupt { kind, root: *trace_root, reason };
        let manifest: RoundManifest = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        let verified = manifest.verify().map_err(|e| corrupt(e.to_string()))?;
        if verified.commitment.trace_root != *trace_root {
            return Err(corrupt("the manifest is for another trace root".into()));
        }
        Ok(Some((manifest, verified)))
    }

    /// The manifest of the round `trace_root` (verified), or `None` if absent.
    pub fn round(&self, trace_root: &Hash) -> Result<Option<RoundManifest>, StoreError> {
        Ok(self.read_round(trace_root)?.map(|(m, _)| m))
    }

    /// Trace roots of every stored round, ascending.
    pub fn round_roots(&self) -> Vec<Hash> {
        self.index.read().unwrap_or_else(PoisonError::into_inner).rounds.iter().copied().collect()
    }
}
