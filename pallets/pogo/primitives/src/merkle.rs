//! Binary Merkle tree with domain-separated leaves and nodes and a root that commits to the leaf count.
//!
//! * leaf hash `= H_leaf(leaf bytes)`; node `= H_node(left || right)` (exactly one BLAKE3 block);
//! * a level of odd width promotes its last node unchanged to the next level (no padding leaves, no
//!   duplicated nodes, so a tree of `n` leaves has exactly the `n - 1` inner hashes it needs);
//! * the root is *sealed*: `root = H_root(leaf_count as u64 LE || top node)`, so trees of different
//!   sizes never share a root and a proof carries the count it was made for.
//!
//! A proof lists the siblings from the leaf upwards, skipping the levels where the path node was promoted;
//! the verifier re-derives which levels those are from `(leaf_index, leaf_count)`.

use crate::hash::{finish, Domain, Hash};
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode};
use scale_info::TypeInfo;

/// The most siblings a proof can have (a tree of at most 2^64 leaves).
pub const MAX_PROOF_DEPTH: usize = 64;

/// Why a Merkle proof or tree was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum MerkleError {
    /// A tree needs at least one leaf.
    NoLeaves,
    /// `leaf_index >= leaf_count`, or the count is zero.
    IndexOutOfRange,
    /// The proof has fewer or more siblings than the path needs.
    WrongProofLength,
    /// The leaf count of the proof is not the one the caller expects.
    WrongLeafCount,
    /// The recomputed root differs from the committed one.
    RootMismatch,
}

impl core::fmt::Display for MerkleError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            MerkleError::NoLeaves => "a tree needs at least one leaf",
            MerkleError::IndexOutOfRange => "leaf index out of range",
            MerkleError::WrongProofLength => "wrong number of siblings for the path",
            MerkleError::WrongLeafCount => "the proof's leaf count is not the expected one",
            MerkleError::RootMismatch => "the recomputed root differs from the committed one",
        })
    }
}

#[cfg(feature = "std")]
impl std::error::Error for MerkleError {}

/// A Merkle inclusion proof.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct MerkleProof {
    /// Position of the leaf, from 0.
    pub leaf_index: u64,
    /// Number of leaves in the tree.
    pub leaf_count: u64,
    /// Sibling hashes from the bottom level up.
    pub siblings: Vec<Hash>,
}

/// `H_leaf(bytes)`.
pub fn leaf_hash(bytes: &[u8]) -> Hash {
    *blake3::keyed_hash(&crate::hash::MERKLE_LEAF_KEY, bytes).as_bytes()
}

/// `H_node(left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut block = [0u8; 64];
    let (l, r) = block.split_at_mut(32);
    l.copy_from_slice(left);
    r.copy_from_slice(right);
    *blake3::keyed_hash(&crate::hash::MERKLE_NODE_KEY, &block).as_bytes()
}

/// `H_root(leaf_count as u64 LE || top)`.
pub fn seal(leaf_count: u64, top: &Hash) -> Hash {
    let mut h = Domain::MerkleRoot.hasher();
    h.update(&leaf_count.to_le_bytes());
    h.update(top);
    finish(&h)
}

/// One level up: pairs hashed, an odd last node promoted.
fn parent_level(level: &[Hash]) -> Vec<Hash> {
    level
        .chunks(2)
        .map(|pair| match pair {
            [l, r] => node_hash(l, r),
            [single] => *single,
            _ => [0u8; 32], // `chunks(2)` yields one or two items; this arm is never taken
        })
        .collect()
}

/// The sealed root over already-hashed leaves, in O(n) time and O(n/2) memory.
pub fn root_of_leaf_hashes(leaves: &[Hash]) -> Result<Hash, MerkleError> {
    if leaves.is_empty() {
        return Err(MerkleError::NoLeaves);
    }
    let count = leaves.len() as u64;
    // `parent_level` of a single leaf is that leaf (promoted), so one leaf seals its own hash.
    let mut level = parent_level(leaves);
    while level.len() > 1 {
        level = parent_level(&level);
    }
    let top = level.first().ok_or(MerkleError::NoLeaves)?;
    Ok(seal(count, top))
}

/// A whole tree kept in memory, for producing proofs (the worker's side).
#[derive(Clone, Debug)]
pub struct MerkleTree {
    /// `levels[0]` are the leaf hashes, the last level is the single top node.
    levels: Vec<Vec<Hash>>,
    root: Hash,
}

impl MerkleTree {
    /// Builds the tree over leaf hashes.
    pub fn from_leaf_hashes(leaves: Vec<Hash>) -> Result<Self, MerkleError> {
        Self::from_leaf_hashes_with(leaves, |pairs, out| {
            for (dst, pair) in out.iter_mut().zip(pairs.chunks_exact(2)) {
                if let [left, right] = pair {
                    *dst = node_hash(left, right);
                }
            }
        })
    }

    /// Builds the tree over leaf hashes with the node hashes of each level computed by `nodes`, for a
    /// caller that hashes many nodes at once (the worker hashes them in SIMD lanes). `nodes(pairs, out)`
    /// is given the level's nodes that have a partner (an even number, in order) and must write
    /// `node_hash(left, right)` of the `i`-th pair into `out[i]`; the odd last node is promoted here, as in
    /// [`from_leaf_hashes`](Self::from_leaf_hashes).
    pub fn from_leaf_hashes_with<F>(leaves: Vec<Hash>, mut nodes: F) -> Result<Self, MerkleError>
    where
        F: FnMut(&[Hash], &mut [Hash]),
    {
        if leaves.is_empty() {
            return Err(MerkleError::NoLeaves);
        }
        let count = leaves.len() as u64;
        let mut levels = Vec::new();
        let mut current = leaves;
        while current.len() > 1 {
            let paired = current.len() & !1;
            let mut next = alloc::vec![[0u8; 32]; current.len().div_ceil(2)];
            nodes(current.get(..paired).unwrap_or(&[]), next.get_mut(..paired / 2).unwrap_or(&mut []));
            if let (Some(odd), Some(last)) = (current.get(paired), next.last_mut()) {
                *last = *odd;
            }
            levels.push(current);
            current = next;
        }
        let top = *current.first().ok_or(MerkleError::NoLeaves)?;
        levels.push(current);
        Ok(Self { levels, root: seal(count, &top) })
    }

    /// Builds the tree over leaf contents.
    pub fn from_leaves<'a, I: IntoIterator<Item = &'a [u8]>>(leaves: I) -> Result<Self, MerkleError> {
        Self::from_leaf_hashes(leaves.into_iter().map(leaf_hash).collect())
    }

    /// The sealed root.
    pub fn root(&self) -> Hash {
        self.root
    }

    /// The number of leaves.
    pub fn leaf_count(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// The hash of leaf `index`.
    pub fn leaf(&self, index: u64) -> Option<&Hash> {
        self.levels.first()?.get(usize::try_from(index).ok()?)
    }

    /// The inclusion proof of leaf `index`.
    pub fn proof(&self, index: u64) -> Result<MerkleProof, MerkleError> {
        let count = self.leaf_count();
        if index >= count {
            return Err(MerkleError::IndexOutOfRange);
        }
        let mut siblings = Vec::new();
        let mut idx = usize::try_from(index).map_err(|_| MerkleError::IndexOutOfRange)?;
        for level in self.levels.iter().take(self.levels.len().saturating_sub(1)) {
            let sibling = idx ^ 1;
            if let Some(h) = level.get(sibling) {
                siblings.push(*h);
            }
            idx /= 2;
        }
        Ok(MerkleProof { leaf_index: index, leaf_count: count, siblings })
    }
}

impl MerkleProof {
    /// Checks that `leaf` (already hashed) is at `leaf_index` of the tree with sealed root `root`.
    pub fn verify_hash(&self, root: &Hash, leaf: Hash) -> Result<(), MerkleError> {
        if self.leaf_index >= self.leaf_count {
            return Err(MerkleError::IndexOutOfRange);
        }
        if self.siblings.len() > MAX_PROOF_DEPTH {
            return Err(MerkleError::WrongProofLength);
        }
        let mut node = leaf;
        let mut idx = self.leaf_index;
        let mut width = self.leaf_count;
        let mut siblings = self.siblings.iter();
        while width > 1 {
            if idx % 2 == 1 {
                let s = siblings.next().ok_or(MerkleError::WrongProofLength)?;
                node = node_hash(s, &node);
            } else if idx.saturating_add(1) < width {
                let s = siblings.next().ok_or(MerkleError::WrongProofLength)?;
                node = node_hash(&node, s);
            }
            idx >>= 1;
            width = width.div_ceil(2);
        }
        if siblings.next().is_some() {
            return Err(MerkleError::WrongProofLength);
        }
        if seal(self.leaf_count, &node) == *root {
            Ok(())
        } else {
            Err(MerkleError::RootMismatch)
        }
    }

    /// Checks leaf contents `bytes` at `leaf_index`.
    pub fn verify(&self, root: &Hash, bytes: &[u8]) -> Result<(), MerkleError> {
        self.verify_hash(root, leaf_hash(bytes))
    }

    /// As [`verify`](Self::verify), also requiring the tree to have `expected_count` leaves.
    pub fn verify_in(&self, root: &Hash, expected_count: u64, bytes: &[u8]) -> Result<(), MerkleError> {
        if self.leaf_count != expected_count {
            return Err(MerkleError::WrongLeafCount);
        }
        self.verify(root, bytes)
    }

    /// Encoded size in bytes of a proof for a tree of `leaf_count` leaves (at most).
    pub fn max_encoded_len_for(leaf_count: u64) -> u64 {
        let depth = u64::from(64u32.saturating_sub(leaf_count.saturating_sub(1).leading_zeros()));
        // 8 + 8 for the two u64s, a compact length prefix of at most 1 byte (depth <= 64), 32 per sibling.
        17u64.saturating_add(depth.saturating_mul(32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn leaves(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| vec![i as u8; 1 + i % 5]).collect()
    }

    #[test]
    fn every_leaf_proves_for_many_sizes() {
        for n in 1..=33usize {
            let data = leaves(n);
            let tree = MerkleTree::from_leaves(data.iter().map(|v| v.as_slice())).unwrap();
            let hashes: Vec<Hash> = data.iter().map(|v| leaf_hash(v)).collect();
            assert_eq!(root_of_leaf_hashes(&hashes).unwrap(), tree.root(), "n={n}");
            for (i, d) in data.iter().enumerate() {
                let p = tree.proof(i as u64).unwrap();
                assert!(p.encode().len() as u64 <= MerkleProof::max_encoded_len_for(n as u64));
                p.verify_in(&tree.root(), n as u64, d).unwrap();
                // a different leaf at the same position fails
                assert_eq!(p.verify(&tree.root(), b"other"), Err(MerkleError::RootMismatch));
            }
        }
    }

    #[test]
    fn single_leaf_root_is_sealed_leaf_hash() {
        let tree = MerkleTree::from_leaves([b"x".as_slice()]).unwrap();
        assert_eq!(tree.root(), seal(1, &leaf_hash(b"x")));
        assert!(tree.proof(0).unwrap().siblings.is_empty());
    }

    #[test]
    fn odd_node_is_promoted_not_duplicated() {
        let h: Vec<Hash> = (0..3u8).map(|i| leaf_hash(&[i])).collect();
        let top = node_hash(&node_hash(&h[0], &h[1]), &h[2]);
        assert_eq!(root_of_leaf_hashes(&h).unwrap(), seal(3, &top));
    }

    #[test]
    fn count_is_committed() {
        // [a, b] and a tree whose single leaf hash equals node(a, b) differ through the seal.
        let a = leaf_hash(b"a");
        let b = leaf_hash(b"b");
        let two = root_of_leaf_hashes(&[a, b]).unwrap();
        let one = root_of_leaf_hashes(&[node_hash(&a, &b)]).unwrap();
        assert_ne!(two, one);
    }

    #[test]
    fn malformed_proofs_are_refused() {
        let data = leaves(6);
        let tree = MerkleTree::from_leaves(data.iter().map(|v| v.as_slice())).unwrap();
        let root = tree.root();
        let good = tree.proof(4).unwrap();
        let mut p = good.clone();
        p.siblings.pop();
        assert_eq!(p.verify(&root, &data[4]), Err(MerkleError::WrongProofLength));
        let mut p = good.clone();
        p.siblings.push([0; 32]);
        assert_eq!(p.verify(&root, &data[4]), Err(MerkleError::WrongProofLength));
        let mut p = good.clone();
        p.leaf_index = 6;
        assert_eq!(p.verify(&root, &data[4]), Err(MerkleError::IndexOutOfRange));
        let mut p = good.clone();
        p.leaf_index = 5;
        assert!(p.verify(&root, &data[4]).is_err());
        let mut p = good.clone();
        p.leaf_count = 7;
        assert!(p.verify(&root, &data[4]).is_err());
        assert_eq!(good.verify_in(&root, 5, &data[4]), Err(MerkleError::WrongLeafCount));
        assert_eq!(tree.proof(6), Err(MerkleError::IndexOutOfRange));
        assert_eq!(MerkleTree::from_leaf_hashes(vec![]).map(|t| t.root()), Err(MerkleError::NoLeaves));
    }

    /// Pins the byte-level definition: an independent implementation must reproduce this root.
    #[test]
    fn known_answer() {
        let tree = MerkleTree::from_leaves([b"pogo".as_slice(), b"merkle", b"tree"]).unwrap();
        let l: Vec<Hash> = [b"pogo".as_slice(), b"merkle", b"tree"]
            .iter()
            .map(|d| *blake3::keyed_hash(&blake3::derive_key("pogo v1 merkle leaf", &[]), d).as_bytes())
            .collect();
        let node_key = blake3::derive_key("pogo v1 merkle node", &[]);
        let mut b01 = [0u8; 64];
        b01[..32].copy_from_slice(&l[0]);
        b01[32..].copy_from_slice(&l[1]);
        let n01 = *blake3::keyed_hash(&node_key, &b01).as_bytes();
        let mut b = [0u8; 64];
        b[..32].copy_from_slice(&n01);
        b[32..].copy_from_slice(&l[2]);
        let top = *blake3::keyed_hash(&node_key, &b).as_bytes();
        let mut sealed = Vec::from(3u64.to_le_bytes());
        sealed.extend_from_slice(&top);
        let root = *blake3::keyed_hash(&blake3::derive_key("pogo v1 merkle root", &[]), &sealed).as_bytes();
        assert_eq!(tree.root(), root);
        // The values docs/protocol.md section 5 prints (computed there from the text alone).
        let hex = |h: &Hash| h.iter().map(|b| alloc::format!("{b:02x}")).collect::<alloc::string::String>();
        assert_eq!(hex(&l[0]), "f567a12480f207f0c748cf32ba57be89f45a5f9136ad5c59a6c8ed998e28252c");
        assert_eq!(hex(&n01), "c124560291ff457034177e77c93095f5e34bce18334fa85851b08a70a2c1557f");
        assert_eq!(hex(&top), "35bf4b9671cf4e9b8fe94ca4d2e9b73ddf9b8a5a87e370857e7d0133c77bf69f");
        assert_eq!(hex(&root), "bf8a5720119c55a7f4489a015a80f507cd789efc18a17c21bf8e927329f57444");
        let one = MerkleTree::from_leaves([b"x".as_slice()]).unwrap();
        assert_eq!(hex(&one.root()), "8def1e0c3b1e50716d1f39f8b02cd770c93b9aededa910f9c0df5d31fc2bc68a");
    }
}
