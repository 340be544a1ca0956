//! Seeds and sampling.
//!
//! * **Round seed** (before training): `H_round(task_id u32 LE || round u32 LE || base_root ||
//!   len(miner) u32 LE || miner)`. Nothing in it is chosen by the miner, so it cannot be ground; it
//!   fixes every step's batch, so gradients computed for another miner's round are useless to a copier.
//! * **Batch** of step `s`: `batch_size` distinct example indices of the training split drawn from the
//!   stream `H_batch(round_seed || s u32 LE)`, returned ascending.
//! * **Challenge seed** (after the commitment): `H_challenge(relay_randomness || submission_id u64 LE)`.
//! * **Verifier seed**: `H_verifier(challenge_seed || len(verifier) u32 LE || verifier)`; a verifier's
//!   steps, leaves and eval examples come from it with the labels `steps`, `leaves`, `eval`.
//!
//! A *stream* is BLAKE3's extendable output of a keyed hash; integers are read as little-endian words and
//! mapped to `[0, n)` by rejection (no modulo bias; fewer than two words per draw on average).
//! `k` distinct values of `[0, n)` are drawn by Floyd's algorithm (uniform over all k-subsets).

use crate::hash::{finish, Domain, Hash};
use alloc::{collections::BTreeSet, vec::Vec};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// A deterministic stream of uniform integers.
pub struct Sampler {
    reader: blake3::OutputReader,
}

impl Sampler {
    /// The stream of `H_domain(seed || label)`.
    pub fn new(domain: Domain, seed: &Hash, label: &[u8]) -> Self {
        let mut h = domain.hasher();
        h.update(seed);
        h.update(label);
        Self { reader: h.finalize_xof() }
    }

    /// The next 64-bit word (little-endian).
    pub fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.reader.fill(&mut b);
        u64::from_le_bytes(b)
    }

    /// The next 128-bit word (little-endian).
    pub fn next_u128(&mut self) -> u128 {
        let mut b = [0u8; 16];
        self.reader.fill(&mut b);
        u128::from_le_bytes(b)
    }

    /// Uniform in `[0, n)`; `n == 0` gives 0.
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            return 0;
        }
        // Accept x < 2^64 - (2^64 mod n): a whole number of copies of [0, n).
        let rem = u64::MAX.checked_rem(n).unwrap_or(0).wrapping_add(1).checked_rem(n).unwrap_or(0);
        let limit = u64::MAX.saturating_sub(rem);
        loop {
            let x = self.next_u64();
            if rem == 0 || x <= limit {
                return x.checked_rem(n).unwrap_or(0);
            }
        }
    }

    /// Uniform in `[0, n)` for 128-bit `n`; `n == 0` gives 0.
    pub fn below_u128(&mut self, n: u128) -> u128 {
        if n == 0 {
            return 0;
        }
        let rem = u128::MAX.checked_rem(n).unwrap_or(0).wrapping_add(1).checked_rem(n).unwrap_or(0);
        let limit = u128::MAX.saturating_sub(rem);
        loop {
            let x = self.next_u128();
            if rem == 0 || x <= limit {
                return x.checked_rem(n).unwrap_or(0);
            }
        }
    }

    /// `min(k, n)` distinct values of `[0, n)`, ascending (Floyd's algorithm).
    pub fn distinct(&mut self, k: u64, n: u64) -> Vec<u64> {
        if k >= n {
            return (0..n).collect();
        }
        let mut chosen = BTreeSet::new();
        for j in n.saturating_sub(k)..n {
            let t = self.below(j.saturating_add(1));
            if !chosen.insert(t) {
                chosen.insert(j);
            }
        }
        chosen.into_iter().collect()
    }
}

fn with_len(h: &mut blake3::Hasher, bytes: &[u8]) {
    h.update(&u32::try_from(bytes.len()).unwrap_or(u32::MAX).to_le_bytes());
    h.update(bytes);
}

/// The round seed of `(task, round, base_root, miner)`; `miner` is the SCALE encoding of the account.
pub fn round_seed(task_id: u32, round: u32, base_root: &Hash, miner: &[u8]) -> Hash {
    let mut h = Domain::RoundSeed.hasher();
    h.update(&task_id.to_le_bytes());
    h.update(&round.to_le_bytes());
    h.update(base_root);
    with_len(&mut h, miner);
    finish(&h)
}

/// The training examples of step `step`.
pub fn batch(round_seed: &Hash, step: u32, batch_size: u32, train_examples: u64) -> Vec<u64> {
    Sampler::new(Domain::Batch, round_seed, &step.to_le_bytes()).distinct(u64::from(batch_size), train_examples)
}

/// The challenge seed of a submission from relay-chain randomness that became known after its inclusion.
pub fn challenge_seed(relay_randomness: &Hash, submission_id: u64) -> Hash {
    let mut h = Domain::ChallengeSeed.hasher();
    h.update(relay_randomness);
    h.update(&submission_id.to_le_bytes());
    finish(&h)
}

/// A verifier's private seed.
pub fn verifier_seed(challenge_seed: &Hash, verifier: &[u8]) -> Hash {
    let mut h = Domain::VerifierSeed.hasher();
    h.update(challenge_seed);
    with_len(&mut h, verifier);
    finish(&h)
}

/// Most final-state leaves one verifier opens.
pub const MAX_SAMPLED_LEAVES: u32 = 4096;
/// Most steps one verifier recomputes. It also bounds the chain's work when it recomputes level-0
/// verifiers' sampled steps at settlement (protocol section 13, "Excused"): at most this many hashes per
/// verifier.
pub const MAX_SAMPLED_STEPS: u32 = 64;
/// Most evaluation examples one verifier evaluates.
pub const MAX_SAMPLED_EVAL_EXAMPLES: u32 = 65_536;

/// How much each verifier samples (task parameters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub struct SampleSizes {
    /// Steps whose gradients a verifier recomputes.
    pub steps: u32,
    /// State leaves of the final state a verifier opens (with Merkle proofs) from the miner.
    pub leaves: u32,
    /// Evaluation examples on which a verifier measures loss before and after.
    pub eval_examples: u32,
}

impl SampleSizes {
    /// Whether every size is in its range: `1 ≤ steps ≤ min(steps_per_round, MAX_SAMPLED_STEPS)`, `leaves ≤
    /// min(MAX_SAMPLED_LEAVES, leaf_count)`, `eval_examples ≤ min(MAX_SAMPLED_EVAL_EXAMPLES,
    /// eval_split)`. Bounds the work of every verifier and of `verifier_samples` (Floyd's `k`).
    pub fn is_within(&self, steps_per_round: u32, leaf_count: u64, eval_split: u64) -> bool {
        self.steps >= 1 &&
            self.steps <= steps_per_round &&
            self.steps <= MAX_SAMPLED_STEPS &&
            self.leaves <= MAX_SAMPLED_LEAVES &&
            u64::from(self.leaves) <= leaf_count &&
            self.eval_examples <= MAX_SAMPLED_EVAL_EXAMPLES &&
            u64::from(self.eval_examples) <= eval_split
    }
}

/// What one verifier checks for one submission.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct VerifierSamples {
    /// Steps (0-based within the round) to recompute, ascending.
    pub steps: Vec<u32>,
    /// Final-state leaves to open, ascending.
    pub leaves: Vec<u64>,
    /// Evaluation example indices, ascending.
    pub eval_examples: Vec<u64>,
}

/// The steps of [`verifier_samples`] alone (ascending): what the chain recomputes when it settles a
/// level-0 `Positive` verdict on a rejected round (protocol section 13, "Excused").
pub fn sampled_steps(verifier_seed: &Hash, steps: u32, steps_per_round: u32) -> Vec<u32> {
    Sampler::new(Domain::VerifierSeed, verifier_seed, b"steps")
        .distinct(u64::from(steps), u64::from(steps_per_round))
        .into_iter()
        .map(|s| u32::try_from(s).unwrap_or(u32::MAX))
        .collect()
}

/// The samples of the verifier with seed `verifier_seed`.
pub fn verifier_samples(
    verifier_seed: &Hash,
    sizes: &SampleSizes,
    steps_per_round: u32,
    leaf_count: u64,
    eval_examples: u64,
) -> VerifierSamples {
    let steps = sampled_steps(verifier_seed, sizes.steps, steps_per_round);
    let leaves = Sampler::new(Domain::VerifierSeed, verifier_seed, b"leaves").distinct(u64::from(sizes.leaves), leaf_count);
    let eval = Sampler::new(Domain::VerifierSeed, verifier_seed, b"eval")
        .distinct(u64::from(sizes.eval_examples), eval_examples);
    VerifierSamples { steps, leaves, eval_examples: eval }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_is_uniform_and_in_range() {
        let mut s = Sampler::new(Domain::Batch, &[7; 32], b"t");
        let mut counts = [0u32; 6];
        for _ in 0..60_000 {
            let x = s.below(6);
            counts[x as usize] += 1;
        }
        for c in counts {
            // expected 10,000, sd ~91: 5 sd
            assert!((9_545..=10_455).contains(&c), "{counts:?}");
        }
        assert_eq!(s.below(1), 0);
        assert_eq!(s.below(0), 0);
        assert!(s.below(u64::MAX) < u64::MAX);
        assert!(s.below_u128(3) < 3);
    }

    #[test]
    fn distinct_gives_sorted_distinct_values() {
        let mut s = Sampler::new(Domain::Batch, &[1; 32], b"");
        for (k, n) in [(0, 5), (3, 5), (5, 5), (7, 5), (64, 1_000_000)] {
            let v = s.distinct(k, n);
            assert_eq!(v.len() as u64, k.min(n));
            assert!(v.windows(2).all(|w| w[0] < w[1]));
            assert!(v.iter().all(|x| *x < n));
        }
    }

    #[test]
    fn distinct_is_uniform_over_subsets() {
        // 2 of 4: six subsets, each 1/6.
        let mut s = Sampler::new(Domain::Batch, &[2; 32], b"");
        let mut counts = alloc::collections::BTreeMap::new();
        for _ in 0..30_000 {
            *counts.entry(s.distinct(2, 4)).or_insert(0u32) += 1;
        }
        assert_eq!(counts.len(), 6);
        for c in counts.values() {
            assert!((4_700..=5_300).contains(c), "{counts:?}");
        }
    }

    #[test]
    fn seeds_depend_on_every_input() {
        let base = round_seed(1, 2, &[3; 32], b"alice");
        assert_ne!(base, round_seed(9, 2, &[3; 32], b"alice"));
        assert_ne!(base, round_seed(1, 9, &[3; 32], b"alice"));
        assert_ne!(base, round_seed(1, 2, &[9; 32], b"alice"));
        assert_ne!(base, round_seed(1, 2, &[3; 32], b"bob"));
        assert_ne!(batch(&base, 0, 8, 1000), batch(&base, 1, 8, 1000));
        assert_eq!(batch(&base, 0, 8, 1000), batch(&base, 0, 8, 1000));
        let c = challenge_seed(&[4; 32], 7);
        assert_ne!(c, challenge_seed(&[4; 32], 8));
        assert_ne!(verifier_seed(&c, b"v1"), verifier_seed(&c, b"v2"));
        let sizes = SampleSizes { steps: 2, leaves: 3, eval_examples: 16 };
        let a = verifier_samples(&verifier_seed(&c, b"v1"), &sizes, 10, 40, 500);
        assert_eq!(a.steps.len(), 2);
        assert_eq!(a.leaves.len(), 3);
        assert_eq!(a.eval_examples.len(), 16);
        assert_ne!(a, verifier_samples(&verifier_seed(&c, b"v2"), &sizes, 10, 40, 500));
    }
}
