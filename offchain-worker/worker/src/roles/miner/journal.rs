//! The miner's crash-safe journal: what it has built, submitted and seen settle, written to the round
//! store (`roles/miner-<task>.json`, atomically) before every step that the chain or a restart depends on.
//! A miner killed at any moment restarts from its journal: a built round is submitted without training it
//! again, a submitted one is watched to the end, and accepted work is never lost (it lives in the store,
//! addressed by its roots).

use pogo_primitives::{views::SubmissionId, Hash};
use serde::{Deserialize, Serialize};

/// A round built and stored but not (yet) submitted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuiltRound {
    /// The task's round number it was built for.
    pub round: u32,
    /// The root it starts from.
    #[serde(with = "hex_hash")]
    pub base_root: Hash,
    /// The round seed it was trained with.
    #[serde(with = "hex_hash")]
    pub round_seed: Hash,
    /// Its trace root (names its manifest in the store).
    #[serde(with = "hex_hash")]
    pub trace_root: Hash,
    /// Its final root.
    #[serde(with = "hex_hash")]
    pub final_root: Hash,
}

/// A submitted round not yet settled.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRound {
    /// The submission id.
    pub submission: SubmissionId,
    /// What was submitted.
    pub built: BuiltRound,
    /// Whether the chain has been seen to accept it.
    pub accepted: bool,
}

/// The journal of one miner on one task.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Journal {
    /// The last round built and not submitted.
    pub built: Option<BuiltRound>,
    /// Submitted rounds not yet settled, oldest first.
    pub pending: Vec<PendingRound>,
    /// Rounds submitted so far.
    pub submitted: u64,
    /// Rounds seen accepted.
    pub accepted: u64,
    /// Rounds that left the chain without acceptance (rejected, stale or expired).
    pub not_accepted: u64,
    /// Accepted rounds that reached the end of their fraud window (paid).
    pub finalized: u64,
}

impl Journal {
    /// The store's name for the journal of `task`.
    pub fn name(task: u32) -> String {
        format!("miner-{task}")
    }

    /// Whether a submitted, undecided round already builds on `root` (another round on the same base
    /// would only compete with it).
    pub fn undecided_on(&self, root: &Hash) -> bool {
        self.pending.iter().any(|p| !p.accepted && p.built.base_root == *root)
    }
}

/// Hashes as lowercase hex in JSON.
pub mod hex_hash {
    use pogo_primitives::Hash;
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    /// Writes `h` as 64 hex digits.
    pub fn serialize<S: Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(h))
    }

    /// Reads 64 hex digits.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let text = String::deserialize(d)?;
        let bytes = hex::decode(text.trim_start_matches("0x")).map_err(D::Error::custom)?;
        bytes.try_into().map_err(|_| D::Error::custom("a hash has 32 bytes"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_round_trips_through_json() {
        let built = BuiltRound { round: 3, base_root: [1; 32], round_seed: [2; 32], trace_root: [3; 32], final_root: [4; 32] };
        let j = Journal {
            built: Some(built.clone()),
            pending: vec![PendingRound { submission: 7, built, accepted: true }],
            submitted: 1,
            accepted: 1,
            not_accepted: 0,
            finalized: 0,
        };
        let text = serde_json::to_string(&j).unwrap();
        assert!(text.contains(&hex::encode([3u8; 32])));
        assert_eq!(serde_json::from_str::<Journal>(&text).unwrap(), j);
        assert!(!j.undecided_on(&[1; 32]), "an accepted round does not block the next");
    }
}
