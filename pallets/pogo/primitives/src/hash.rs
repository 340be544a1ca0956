//! Hashing: BLAKE3 in keyed mode, one key per purpose (domain separation).
//!
//! Every hash in the protocol is `BLAKE3-keyed(key, message)` where `key` is
//! `BLAKE3-derive_key(context, "")` for a fixed context string `"pogo v1 <purpose>"`. Keys are derived on
//! use (one 64-byte compression) except the two Merkle keys, which are hot and therefore hard-coded; a
//! test checks the constants against their derivation.

/// A 32-byte BLAKE3 digest.
pub type Hash = [u8; 32];

/// The purposes that have their own hash key. The context string of each is part of the protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// A Merkle leaf: `H(leaf bytes)`.
    MerkleLeaf,
    /// A Merkle inner node: `H(left || right)`.
    MerkleNode,
    /// The sealed root: `H(leaf_count as u64 LE || top node)`.
    MerkleRoot,
    /// The round seed that fixes every step's data batch.
    RoundSeed,
    /// A step's batch sampler, keyed from the round seed.
    Batch,
    /// The challenge seed fixed after the commitment.
    ChallengeSeed,
    /// A verifier's private sample seed.
    VerifierSeed,
    /// Stake-weighted verifier assignment.
    Assignment,
    /// A verdict commitment (commit-reveal).
    VerdictCommitment,
    /// A task's model descriptor (architecture and ordered tensors).
    ModelDescriptor,
}

impl Domain {
    /// Every domain, in declaration order.
    pub const ALL: [Domain; 10] = [
        Domain::MerkleLeaf,
        Domain::MerkleNode,
        Domain::MerkleRoot,
        Domain::RoundSeed,
        Domain::Batch,
        Domain::ChallengeSeed,
        Domain::VerifierSeed,
        Domain::Assignment,
        Domain::VerdictCommitment,
        Domain::ModelDescriptor,
    ];

    /// The derive_key context string of this domain.
    pub const fn context(self) -> &'static str {
        match self {
            Domain::MerkleLeaf => "pogo v1 merkle leaf",
            Domain::MerkleNode => "pogo v1 merkle node",
            Domain::MerkleRoot => "pogo v1 merkle root",
            Domain::RoundSeed => "pogo v1 round seed",
            Domain::Batch => "pogo v1 batch",
            Domain::ChallengeSeed => "pogo v1 challenge seed",
            Domain::VerifierSeed => "pogo v1 verifier seed",
            Domain::Assignment => "pogo v1 assignment",
            Domain::VerdictCommitment => "pogo v1 verdict commitment",
            Domain::ModelDescriptor => "pogo v1 model descriptor",
        }
    }

    /// The 32-byte BLAKE3 key of this domain.
    pub fn key(self) -> [u8; 32] {
        match self {
            Domain::MerkleLeaf => MERKLE_LEAF_KEY,
            Domain::MerkleNode => MERKLE_NODE_KEY,
            other => blake3::derive_key(other.context(), &[]),
        }
    }

    /// A keyed hasher for this domain; feed it with `update` and finish with [`finish`].
    pub fn hasher(self) -> blake3::Hasher {
        blake3::Hasher::new_keyed(&self.key())
    }

    /// `H_domain(message)` in one call.
    pub fn hash(self, message: &[u8]) -> Hash {
        *blake3::keyed_hash(&self.key(), message).as_bytes()
    }
}

/// Ends a keyed hasher and returns the 32-byte digest.
pub fn finish(hasher: &blake3::Hasher) -> Hash {
    *hasher.finalize().as_bytes()
}

/// `derive_key("pogo v1 merkle leaf", "")`, checked by a test.
pub const MERKLE_LEAF_KEY: [u8; 32] = [
    0x8c, 0xe6, 0xcd, 0x0a, 0xcf, 0x0d, 0x7b, 0x02, 0xe0, 0xc0, 0xc3, 0xab, 0x89, 0xd3, 0x7f, 0x9e, 0xc4, 0xb6,
    0xa0, 0xb5, 0xb8, 0xc0, 0xdb, 0xad, 0x1a, 0x74, 0x34, 0xa7, 0x13, 0x2c, 0x89, 0x78,
];
/// `derive_key("pogo v1 merkle node", "")`, checked by a test.
pub const MERKLE_NODE_KEY: [u8; 32] = [
    0xd7, 0x67, 0x0a, 0xfa, 0x49, 0x69, 0xf6, 0x7e, 0x6c, 0xb1, 0xf6, 0x27, 0xf3, 0x3b, 0x33, 0x53, 0x19, 0xb9,
    0x82, 0x30, 0x6c, 0x48, 0xb4, 0x86, 0xd4, 0x56, 0x38, 0x06, 0xa0, 0x35, 0x10, 0xbb,
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merkle_keys_match_their_derivation() {
        assert_eq!(MERKLE_LEAF_KEY, blake3::derive_key(Domain::MerkleLeaf.context(), &[]));
        assert_eq!(MERKLE_NODE_KEY, blake3::derive_key(Domain::MerkleNode.context(), &[]));
    }

    #[test]
    fn domains_have_distinct_keys() {
        let all = Domain::ALL;
        for (i, a) in all.iter().enumerate() {
            for b in all.iter().skip(i + 1) {
                assert_ne!(a.key(), b.key(), "{a:?} and {b:?} share a key");
            }
        }
    }
}
