//! [`RoundStore`]: the content-addressed round store on disk (layout in the crate docs).
//!
//! Every object is named by the root that commits its content, and every read that hands content to a
//! caller checks it against that root first: a file damaged on disk is a [`StoreError::Corrupt`], never
//! data. Every write goes through the crate's one atomic-write helper (temporary file, fsync, rename,
//! fsync of the directory). The store is `Send + Sync`; its methods block on file I/O, so async callers run them on
//! `tokio::task::spawn_blocking`.

mod error;
mod journal;
mod rounds;

pub use error::StoreError;
pub use journal::{ObjectUsage, StoreUsage};

use crate::{
    atomic::{at, TempDir},
    layout::{
        parse_root, root_hex, ObjectKind, GRADIENTS_DIR, GRADIENT_EXT, JSON_EXT, ROLES_DIR, ROUNDS_DIR, SPEC_EXT,
        STATES_DIR, STATE_EXT, TMP_DIR,
    },
    manifest::VerifiedRound,
    state_file::{check_header, header, ModelState, StateFileError},
    tree_cache::{TreeCache, DEFAULT_TREE_CACHE},
};
use codec::{DecodeAll, Encode};
use error::not_found_or;
use pogo_primitives::{merkle::leaf_hash, spec::TrainingSpec, state::leaf_bytes, Hash, MerkleProof, MerkleTree};
use std::{
    collections::{BTreeSet, HashMap},
    fs::File,
    io::{BufReader, Read, Seek, SeekFrom},
    path::{Path, PathBuf},
    sync::{Arc, PoisonError, RwLock},
};

/// Objects the store knows, from its in-memory index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreCounts {
    /// Round manifests.
    pub rounds: u64,
    /// States with a known spec.
    pub states: u64,
    /// Gradients with a known spec.
    pub gradients: u64,
}

#[derive(Debug, Default)]
struct Index {
    state_specs: HashMap<Hash, TrainingSpec>,
    gradient_specs: HashMap<Hash, TrainingSpec>,
    rounds: BTreeSet<Hash>,
}

impl Index {
    fn specs(&mut self, kind: ObjectKind) -> Option<&mut HashMap<Hash, TrainingSpec>> {
        match kind {
            ObjectKind::State => Some(&mut self.state_specs),
            ObjectKind::Gradient => Some(&mut self.gradient_specs),
            ObjectKind::Round | ObjectKind::Journal => None,
        }
    }

    fn add_round(&mut self, round: &VerifiedRound) {
        for root in round.state_roots() {
            self.state_specs.insert(root, round.spec);
        }
        for root in round.gradient_roots() {
            self.gradient_specs.insert(root, round.spec);
        }
        self.rounds.insert(round.commitment.trace_root);
    }
}

/// The round store (see the module and crate docs).
#[derive(Debug)]
pub struct RoundStore {
    dir: PathBuf,
    temp: TempDir,
    index: RwLock<Index>,
    trees: TreeCache,
}

fn checked(spec: &TrainingSpec) -> Result<(), StoreError> {
    spec.validate().map_err(StoreError::Spec)
}

impl RoundStore {
    /// Opens (creating if needed) the store in `dir`, removes stale temporary files and indexes which
    /// spec every stored state and gradient has (from the manifests and the spec sidecars).
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, StoreError> {
        Self::open_with_tree_cache(dir, DEFAULT_TREE_CACHE)
    }

    /// As [`open`](Self::open), keeping up to `trees` Merkle trees in memory for leaf openings.
    pub fn open_with_tree_cache(dir: impl AsRef<Path>, trees: usize) -> Result<Self, StoreError> {
        let dir = dir.as_ref().to_path_buf();
        for sub in [STATES_DIR, GRADIENTS_DIR, ROUNDS_DIR, ROLES_DIR, TMP_DIR] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path).map_err(at(&path))?;
        }
        let store = Self {
            temp: TempDir::new(dir.join(TMP_DIR)),
            dir,
            index: RwLock::new(Index::default()),
            trees: TreeCache::new(trees),
        };
        let removed = store.temp.remove_stale()?;
        if removed > 0 {
            tracing::info!(removed, "removed leftover temporary files");
        }
        store.build_index()?;
        let counts = store.counts();
        tracing::debug!(dir = %store.dir.display(), rounds = counts.rounds, states = counts.states, "round store open");
        Ok(store)
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn kind_dir(&self, kind: ObjectKind) -> PathBuf {
        self.dir.join(match kind {
            ObjectKind::State => STATES_DIR,
            ObjectKind::Gradient => GRADIENTS_DIR,
            ObjectKind::Round => ROUNDS_DIR,
            ObjectKind::Journal => ROLES_DIR,
        })
    }

    /// The path of the object `root` of `kind` (a journal's "root" is not a hash: use journal names).
    fn object_path(&self, kind: ObjectKind, root: &Hash) -> PathBuf {
        let ext = match kind {
            ObjectKind::State => STATE_EXT,
            ObjectKind::Gradient => GRADIENT_EXT,
            ObjectKind::Round | ObjectKind::Journal => JSON_EXT,
        };
        self.kind_dir(kind).join(format!("{}.{ext}", root_hex(root)))
    }

    fn sidecar_path(&self, kind: ObjectKind, root: &Hash) -> PathBuf {
        self.kind_dir(kind).join(format!("{}.{SPEC_EXT}", root_hex(root)))
    }

    /// Where the state with root `root` is (or would be) stored.
    pub fn state_path(&self, root: &Hash) -> PathBuf {
        self.object_path(ObjectKind::State, root)
    }

    /// Where the gradient with root `root` is (or would be) stored.
    pub fn gradient_path(&self, root: &Hash) -> PathBuf {
        self.object_path(ObjectKind::Gradient, root)
    }

    /// Where the manifest of the round with trace root `trace_root` is (or would be) stored.
    pub fn round_path(&self, trace_root: &Hash) -> PathBuf {
        self.object_path(ObjectKind::Round, trace_root)
    }

    /// Whether a state file with this root exists (its content is checked when read).
    pub fn has_state(&self, root: &Hash) -> bool {
        self.state_path(root).is_file()
    }

    /// Whether a gradient file with this root exists (its content is checked when read).
    pub fn has_gradient(&self, root: &Hash) -> bool {
        self.gradient_path(root).is_file()
    }

    /// Whether the manifest of this round exists.
    pub fn has_round(&self, trace_root: &Hash) -> bool {
        self.round_path(trace_root).is_file()
    }

    fn spec_of(&self, kind: ObjectKind, root: &Hash) -> Option<TrainingSpec> {
        let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
        match kind {
            ObjectKind::State => index.state_specs.get(root).copied(),
            ObjectKind::Gradient => index.gradient_specs.get(root).copied(),
            ObjectKind::Round | ObjectKind::Journal => None,
        }
    }

    /// The spec of a stored state, if a manifest or its sidecar says.
    pub fn state_spec(&self, root: &Hash) -> Option<TrainingSpec> {
        self.spec_of(ObjectKind::State, root)
    }

    /// The spec of a stored gradient, if a manifest or its sidecar says.
    pub fn gradient_spec(&self, root: &Hash) -> Option<TrainingSpec> {
        self.spec_of(ObjectKind::Gradient, root)
    }

    fn remember(&self, kind: ObjectKind, root: Hash, spec: TrainingSpec) {
        let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(specs) = index.specs(kind) {
            specs.insert(root, spec);
        }
    }

    /// What the index knows.
    pub fn counts(&self) -> StoreCounts {
        let index = self.index.read().unwrap_or_else(PoisonError::into_inner);
        StoreCounts {
            rounds: index.rounds.len() as u64,
            states: index.state_specs.len() as u64,
            gradients: index.gradient_specs.len() as u64,
        }
    }

    fn build_index(&self) -> Result<(), StoreError> {
        let mut index = Index::default();
        for kind in [ObjectKind::State, ObjectKind::Gradient] {
            for (root, path) in self.list(kind, SPEC_EXT)? {
                match read_sidecar(&path) {
                    Some(spec) => {
                        if let Some(specs) = index.specs(kind) {
                            specs.insert(root, spec);
                        }
                    },
                    None => tracing::warn!(path = %path.display(), "ignoring an unreadable spec sidecar"),
                }
            }
        }
        for (root, path) in self.list(ObjectKind::Round, JSON_EXT)? {
            match self.read_round(&root) {
                Ok(Some((_, verified))) => index.add_round(&verified),
                Ok(None) => {},
                Err(e) => tracing::warn!(path = %path.display(), error = %e, "ignoring an unreadable round manifest"),
            }
        }
        *self.index.write().unwrap_or_else(PoisonError::into_inner) = index;
        Ok(())
    }

    /// `(root, path)` of every file `<root>.<ext>` in the directory of `kind`.
    fn list(&self, kind: ObjectKind, ext: &str) -> Result<Vec<(Hash, PathBuf)>, StoreError> {
        let dir = self.kind_dir(kind);
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir).map_err(at(&dir))? {
            let path = entry.map_err(at(&dir))?.path();
            if path.extension().and_then(|e| e.to_str()) != Some(ext) {
                continue;
            }
            if let Some(root) = path.file_stem().and_then(|s| s.to_str()).and_then(parse_root) {
                out.push((root, path));
            }
        }
        Ok(out)
    }

    /// Writes the leaves of an object of `kind` (checking count, lengths and, if given, the root), its
    /// spec sidecar first, then the object file; returns the root and the tree.
    fn write_leaves<L: AsRef<[u8]>>(
        &self,
        kind: ObjectKind,
        spec: &TrainingSpec,
        expected: Option<Hash>,
        leaves: impl Iterator<Item = Result<L, StoreError>>,
    ) -> Result<Hash, StoreError> {
        self.write_object(kind, spec, expected, None, leaves)
    }

    /// Writes an object from its leaves, hashing them on the way unless `hashed` brings their tree (then
    /// only its leaf count is checked); `expected`, when given, must be the root.
    fn write_object<L: AsRef<[u8]>>(
        &self,
        kind: ObjectKind,
        spec: &TrainingSpec,
        expected: Option<Hash>,
        hashed: Option<MerkleTree>,
        mut leaves: impl Iterator<Item = Result<L, StoreError>>,
    ) -> Result<Hash, StoreError> {
        checked(spec)?;
        let count = spec.leaf_count();
        if hashed.as_ref().is_some_and(|t| t.leaf_count() != count) {
            return Err(StoreError::Shape { kind, reason: "the tree has the wrong number of leaves" });
        }
        let mut file = self.temp.create()?;
        if kind == ObjectKind::State {
            file.write_all(&header(spec))?;
        }
        let mut hashes = Vec::with_capacity(if hashed.is_some() { 0 } else { usize::try_from(count).unwrap_or(0) });
        for index in 0..count {
            let leaf = leaves.next().ok_or(StoreError::Shape { kind, reason: "too few leaves" })??;
            let leaf = leaf.as_ref();
            if kind.leaf_len(spec, index) != Some(leaf.len()) {
                return Err(StoreError::Shape { kind, reason: "a leaf has the wrong length" });
            }
            if hashed.is_none() {
                hashes.push(leaf_hash(leaf));
            }
            file.write_all(leaf)?;
        }
        if leaves.next().is_some() {
            return Err(StoreError::Shape { kind, reason: "too many leaves" });
        }
        let tree = match hashed {
            Some(tree) => tree,
            None => MerkleTree::from_leaf_hashes(hashes).map_err(|_| StoreError::Shape { kind, reason: "no leaves" })?,
        };
        let root = tree.root();
        if let Some(expected) = expected {
            if expected != root {
                return Err(StoreError::RootMismatch { kind, expected, actual: root });
            }
        }
        self.temp.write(&self.sidecar_path(kind, &root), hex::encode(spec.encode()).as_bytes())?;
        file.persist(&self.object_path(kind, &root))?;
        self.remember(kind, root, *spec);
        self.trees.insert(kind, root, Arc::new(tree));
        tracing::debug!(%kind, root = %root_hex(&root), "stored");
        Ok(root)
    }

    /// Whether `root` of `kind` is already stored whole and correct (then it is indexed, with its
    /// sidecar written if missing, and need not be written again).
    fn already_stored(&self, kind: ObjectKind, spec: &TrainingSpec, root: &Hash) -> Result<bool, StoreError> {
        if !self.object_path(kind, root).is_file() {
            return Ok(false);
        }
        match self.tree(kind, spec, root) {
            Ok(_) => {},
            Err(StoreError::Corrupt { reason, .. }) => {
                tracing::warn!(%kind, root = %root_hex(root), %reason, "replacing a corrupt file");
                return Ok(false);
            },
            Err(StoreError::NotFound { .. }) => return Ok(false),
            Err(e) => return Err(e),
        }
        let sidecar = self.sidecar_path(kind, root);
        if read_sidecar(&sidecar) != Some(*spec) {
            self.temp.write(&sidecar, hex::encode(spec.encode()).as_bytes())?;
        }
        self.remember(kind, *root, *spec);
        Ok(true)
    }

    /// Stores a whole state under `spec`; returns its root.
    pub fn put_state(&self, spec: &TrainingSpec, state: &ModelState) -> Result<Hash, StoreError> {
        checked(spec)?;
        let p = usize::try_from(spec.param_count).map_err(|_| StateFileError::Mismatch("too large"))?;
        if state.weights.len() != p || state.slots.len() != spec.rule.slots() || state.slots.iter().any(|s| s.len() != p) {
            return Err(StoreError::State(StateFileError::Mismatch("state size")));
        }
        let slots: Vec<&[f32]> = state.slots.iter().map(Vec::as_slice).collect();
        let leaves = (0..spec.leaf_count()).map(|index| {
            leaf_bytes(spec, &state.weights, &slots, index)
                .map_err(|reason| StoreError::State(StateFileError::Leaf { index, reason }))
        });
        self.write_leaves(ObjectKind::State, spec, None, leaves)
    }

    /// Stores a state given as its leaves (e.g. a round builder's checkpoint), refusing leaves whose
    /// root is not `root`. A state already stored whole is not written again.
    pub fn put_state_leaves(&self, spec: &TrainingSpec, root: &Hash, leaves: &[Vec<u8>]) -> Result<(), StoreError> {
        checked(spec)?;
        if !self.already_stored(ObjectKind::State, spec, root)? {
            self.write_leaves(ObjectKind::State, spec, Some(*root), leaves.iter().map(Ok))?;
        }
        Ok(())
    }

    /// Stores a state straight from its values (`weights` and each optimizer slot, as the miner's
    /// `ParallelRound` holds them) with `tree`, the state tree the caller computed from these same values
    /// (`ParallelRound::state_tree`, every core): the leaves are written as `state::leaf_bytes` makes them
    /// and not hashed a second time, so no copy of the whole state's leaves is built in memory and a
    /// checkpoint is hashed once. Every read of the object still checks it against its root (a wrong
    /// `tree` makes an object that reads as corrupt, never wrong data). A state already stored whole is
    /// not written again.
    pub fn put_state_with_tree(&self, spec: &TrainingSpec, tree: MerkleTree, weights: &[f32], slots: &[Vec<f32>]) -> Result<(), StoreError> {
        checked(spec)?;
        let p = usize::try_from(spec.param_count).map_err(|_| StateFileError::Mismatch("too large"))?;
        if weights.len() != p || slots.len() != spec.rule.slots() || slots.iter().any(|s| s.len() != p) {
            return Err(StoreError::State(StateFileError::Mismatch("state size")));
        }
        if self.already_stored(ObjectKind::State, spec, &tree.root())? {
            return Ok(());
        }
        let slots: Vec<&[f32]> = slots.iter().map(Vec::as_slice).collect();
        let leaves = (0..spec.leaf_count()).map(|index| {
            leaf_bytes(spec, weights, &slots, index).map_err(|reason| StoreError::State(StateFileError::Leaf { index, reason }))
        });
        self.write_object(ObjectKind::State, spec, None, Some(tree), leaves).map(|_| ())
    }

    /// Stores one step's gradient leaves with `tree`, their tree as the caller computed it from these same
    /// bytes (the miner's `ParallelRound::step` returns both), not hashed a second time; reads check the
    /// object against its root as for [`put_state_with_tree`](Self::put_state_with_tree). A gradient
    /// already stored whole is not written again.
    pub fn put_gradient_with_tree(&self, spec: &TrainingSpec, tree: MerkleTree, leaves: &[Vec<u8>]) -> Result<(), StoreError> {
        checked(spec)?;
        if !self.already_stored(ObjectKind::Gradient, spec, &tree.root())? {
            self.write_object(ObjectKind::Gradient, spec, None, Some(tree), leaves.iter().map(Ok))?;
        }
        Ok(())
    }

    /// Stores one step's gradient leaves, refusing leaves whose root is not `root`. A gradient already
    /// stored whole is not written again.
    pub fn put_gradient(&self, spec: &TrainingSpec, root: &Hash, leaves: &[Vec<u8>]) -> Result<(), StoreError> {
        checked(spec)?;
        if !self.already_stored(ObjectKind::Gradient, spec, root)? {
            self.write_leaves(ObjectKind::Gradient, spec, Some(*root), leaves.iter().map(Ok))?;
        }
        Ok(())
    }

    fn read_object(&self, kind: ObjectKind, root: &Hash) -> Result<Vec<u8>, StoreError> {
        let path = self.object_path(kind, root);
        std::fs::read(&path).map_err(|e| not_found_or(kind, root, &path, e))
    }

    /// Loads the state with root `root`, checking the file against the root and the spec.
    pub fn load_state(&self, spec: &TrainingSpec, root: &Hash) -> Result<ModelState, StoreError> {
        checked(spec)?;
        let kind = ObjectKind::State;
        let bytes = self.read_object(kind, root)?;
        let corrupt = |reason: String| {
            tracing::error!(root = %root_hex(root), %reason, "corrupt state file");
            StoreError::Corrupt { kind, root: *root, reason }
        };
        let actual = crate::state_file::state_file_root(spec, &bytes).map_err(|e| corrupt(e.to_string()))?;
        if actual != *root {
            return Err(corrupt("the content does not match its root".into()));
        }
        ModelState::from_bytes(spec, &bytes).map_err(|e| corrupt(e.to_string()))
    }

    /// The gradient leaves with root `root`, checked against it.
    pub fn gradient_leaves(&self, spec: &TrainingSpec, root: &Hash) -> Result<Vec<Vec<u8>>, StoreError> {
        checked(spec)?;
        let kind = ObjectKind::Gradient;
        let bytes = self.read_object(kind, root)?;
        let corrupt = |reason: &str| {
            tracing::error!(root = %root_hex(root), reason, "corrupt gradient file");
            StoreError::Corrupt { kind, root: *root, reason: reason.into() }
        };
        let leaves = crate::layout::split_gradient_leaves(spec, &bytes).ok_or_else(|| corrupt("wrong length"))?;
        let tree = MerkleTree::from_leaves(leaves.iter().copied()).map_err(|_| corrupt("no leaves"))?;
        if tree.root() != *root {
            return Err(corrupt("the content does not match its root"));
        }
        Ok(leaves.into_iter().map(<[u8]>::to_vec).collect())
    }

    /// The tree of a stored object, from the cache or by hashing its file (streamed) and checking the root.
    fn tree(&self, kind: ObjectKind, spec: &TrainingSpec, root: &Hash) -> Result<Arc<MerkleTree>, StoreError> {
        if let Some(tree) = self.trees.get(kind, root) {
            return Ok(tree);
        }
        let path = self.object_path(kind, root);
        let corrupt = |reason: &str| StoreError::Corrupt { kind, root: *root, reason: reason.into() };
        let file = File::open(&path).map_err(|e| not_found_or(kind, root, &path, e))?;
        let len = file.metadata().map_err(at(&path))?.len();
        if Some(len) != kind.file_len(spec) {
            return Err(corrupt("wrong length"));
        }
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let mut buffer = vec![0u8; kind.header_len()];
        reader.read_exact(&mut buffer).map_err(at(&path))?;
        if kind == ObjectKind::State {
            check_header(spec, &buffer).map_err(|e| corrupt(&e.to_string()))?;
        }
        let mut hashes = Vec::with_capacity(usize::try_from(spec.leaf_count()).unwrap_or(0));
        for index in 0..spec.leaf_count() {
            buffer.resize(kind.leaf_len(spec, index).ok_or_else(|| corrupt("leaf range"))?, 0);
            reader.read_exact(&mut buffer).map_err(at(&path))?;
            hashes.push(leaf_hash(&buffer));
        }
        let tree = MerkleTree::from_leaf_hashes(hashes).map_err(|_| corrupt("no leaves"))?;
        if tree.root() != *root {
            tracing::error!(%kind, root = %root_hex(root), "stored file does not match its root");
            return Err(corrupt("the content does not match its root"));
        }
        let tree = Arc::new(tree);
        self.trees.insert(kind, *root, tree.clone());
        Ok(tree)
    }

    fn leaf(&self, kind: ObjectKind, spec: &TrainingSpec, root: &Hash, index: u64) -> Result<(Vec<u8>, MerkleProof), StoreError> {
        checked(spec)?;
        let count = spec.leaf_count();
        let (offset, len) =
            kind.leaf_span(spec, index).ok_or(StoreError::LeafOutOfRange { kind, index, count })?;
        let tree = self.tree(kind, spec, root)?;
        let path = self.object_path(kind, root);
        let mut bytes = vec![0u8; len];
        let mut file = File::open(&path).map_err(|e| not_found_or(kind, root, &path, e))?;
        file.seek(SeekFrom::Start(offset)).and_then(|_| file.read_exact(&mut bytes)).map_err(at(&path))?;
        if tree.leaf(index) != Some(&leaf_hash(&bytes)) {
            self.trees.remove(kind, root);
            tracing::error!(%kind, root = %root_hex(root), index, "stored leaf does not match its tree");
            return Err(StoreError::Corrupt { kind, root: *root, reason: format!("leaf {index} changed on disk") });
        }
        let proof = tree.proof(index).map_err(|_| StoreError::LeafOutOfRange { kind, index, count })?;
        Ok((bytes, proof))
    }

    /// State leaf `index` of the state `root` with its Merkle proof.
    pub fn state_leaf(&self, spec: &TrainingSpec, root: &Hash, index: u64) -> Result<(Vec<u8>, MerkleProof), StoreError> {
        self.leaf(ObjectKind::State, spec, root, index)
    }

    /// Gradient leaf `index` of the gradient `root` with its Merkle proof.
    pub fn gradient_leaf(&self, spec: &TrainingSpec, root: &Hash, index: u64) -> Result<(Vec<u8>, MerkleProof), StoreError> {
        self.leaf(ObjectKind::Gradient, spec, root, index)
    }

}

fn read_sidecar(path: &Path) -> Option<TrainingSpec> {
    let text = std::fs::read_to_string(path).ok()?;
    let bytes = hex::decode(text.trim()).ok()?;
    let spec = TrainingSpec::decode_all(&mut bytes.as_slice()).ok()?;
    spec.validate().ok().map(|()| spec)
}
