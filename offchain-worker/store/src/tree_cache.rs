//! A small bounded cache of verified Merkle trees, so serving many leaves of one big file does not
//! rebuild its tree for every request.

use crate::layout::ObjectKind;
use pogo_primitives::{MerkleTree, Hash};
use std::{
    collections::VecDeque,
    sync::{Arc, Mutex, PoisonError},
};

/// How many trees a store keeps by default.
pub const DEFAULT_TREE_CACHE: usize = 8;

/// Least-recently-used trees, keyed by kind and root.
#[derive(Debug)]
pub(crate) struct TreeCache {
    capacity: usize,
    /// Most recently used last.
    entries: Mutex<VecDeque<(ObjectKind, Hash, Arc<MerkleTree>)>>,
}

impl TreeCache {
    pub(crate) fn new(capacity: usize) -> Self {
        Self { capacity, entries: Mutex::new(VecDeque::with_capacity(capacity)) }
    }

    pub(crate) fn get(&self, kind: ObjectKind, root: &Hash) -> Option<Arc<MerkleTree>> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let at = entries.iter().position(|(k, r, _)| *k == kind && r == root)?;
        let entry = entries.remove(at)?;
        let tree = entry.2.clone();
        entries.push_back(entry);
        Some(tree)
    }

    pub(crate) fn insert(&self, kind: ObjectKind, root: Hash, tree: Arc<MerkleTree>) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|(k, r, _)| !(*k == kind && *r == root));
        while entries.len() >= self.capacity {
            entries.pop_front();
        }
        entries.push_back((kind, root, tree));
    }

    pub(crate) fn remove(&self, kind: ObjectKind, root: &Hash) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries.retain(|(k, r, _)| !(*k == kind && r == root));
    }
}
