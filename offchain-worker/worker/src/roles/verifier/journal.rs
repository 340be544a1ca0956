//! The verifier's crash-safe journal: for each submission it is assigned to, the verdict and salt,
//! written to the round store *before* the commitment is sent, so a verifier restarted between commit
//! and reveal reveals the verdict it committed (a lost salt would cost `NonRevealSlash`).

use crate::roles::miner::journal::hex_hash;
use codec::{Decode, Encode};
use pogo_primitives::{verdict::verdict_commitment, Hash, Verdict};
use serde::{Deserialize, Serialize};

/// One duty as this verifier handled it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DutyEntry {
    /// Submission id.
    pub submission: u64,
    /// Task.
    pub task: u32,
    /// The verdict's SCALE bytes, hex.
    pub verdict: String,
    /// The salt.
    #[serde(with = "hex_hash")]
    pub salt: Hash,
    /// Whether the commitment was included.
    pub committed: bool,
    /// Whether the reveal was included.
    pub revealed: bool,
    /// Whether a fraud proof was reported for it.
    pub fraud_reported: bool,
    /// What the checks found, in words (for `inspect` and logs).
    pub note: String,
}

impl DutyEntry {
    /// A fresh entry with a new random salt.
    pub fn new(submission: u64, task: u32, verdict: &Verdict, note: String) -> Result<Self, getrandom::Error> {
        let mut salt = [0u8; 32];
        getrandom::fill(&mut salt)?;
        Ok(Self {
            submission,
            task,
            verdict: hex::encode(verdict.encode()),
            salt,
            committed: false,
            revealed: false,
            fraud_reported: false,
            note,
        })
    }

    /// The verdict (`None`: the journal was edited into something else).
    pub fn verdict(&self) -> Option<Verdict> {
        let bytes = hex::decode(&self.verdict).ok()?;
        Verdict::decode(&mut bytes.as_slice()).ok()
    }

    /// The commitment of this entry's verdict for `verifier` (its SCALE-encoded account).
    pub fn commitment(&self, verifier: &[u8]) -> Option<Hash> {
        Some(verdict_commitment(self.submission, verifier, &self.verdict()?, &self.salt))
    }
}

/// Every duty this verifier holds or held, by submission.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifierJournal {
    /// Entries, oldest first.
    pub duties: Vec<DutyEntry>,
    /// Accepted rounds this worker has replayed as a watcher (submission ids).
    #[serde(default)]
    pub watched: Vec<u64>,
}

impl VerifierJournal {
    /// The journal's name in the store, per account.
    pub fn name(account: &[u8; 32]) -> String {
        format!("verifier-{}", hex::encode(&account[..8]))
    }

    /// The entry of `submission`.
    pub fn entry(&self, submission: u64) -> Option<&DutyEntry> {
        self.duties.iter().find(|d| d.submission == submission)
    }

    /// The entry of `submission`, mutable.
    pub fn entry_mut(&mut self, submission: u64) -> Option<&mut DutyEntry> {
        self.duties.iter_mut().find(|d| d.submission == submission)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use pogo_primitives::verdict::NegativeReason;

    #[test]
    fn an_entry_round_trips_and_keeps_its_commitment() {
        let verdict = Verdict::Negative(NegativeReason::BadGradient { step: 4 });
        let entry = DutyEntry::new(7, 1, &verdict, "step 4 failed".into()).unwrap();
        let journal = VerifierJournal { duties: vec![entry.clone()], watched: vec![3] };
        let text = serde_json::to_string(&journal).unwrap();
        let back: VerifierJournal = serde_json::from_str(&text).unwrap();
        assert_eq!(back, journal);
        assert_eq!(back.entry(7).unwrap().verdict(), Some(verdict));
        assert_eq!(back.entry(7).unwrap().commitment(b"v"), Some(verdict_commitment(7, b"v", &verdict, &entry.salt)));
        let other = DutyEntry::new(7, 1, &verdict, String::new()).unwrap();
        assert_ne!(other.salt, entry.salt, "fresh salts");
    }
}
