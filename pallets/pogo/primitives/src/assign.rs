//! Stake-weighted verifier assignment: successive sampling without replacement, in exact integers.
//!
//! Input: the stake snapshot taken when the submission was included, as `(candidate, stake)` pairs in a
//! canonical order (the pallet sorts by account), the miner and anyone already assigned to the same
//! submission removed. Draw `i` (from 0) reads the stream `H_assign(challenge_seed || level u8 || "")`,
//! takes `u = below(total remaining stake)` and picks the candidate whose half-open interval of the
//! running stake sum contains `u`; that candidate leaves the pool. Zero-stake candidates are never picked.
//!
//! The chance of being *among* the `k` picked is not the stake share (for `k > 1` large stakes are
//! under-represented relative to `k · share`); the tests compare it with the exact inclusion
//! probabilities computed by enumeration.

use crate::{
    hash::{Domain, Hash},
    seed::Sampler,
};
use alloc::vec::Vec;

/// Picks up to `k` indices of `stakes` (draw order). Fewer are returned when fewer candidates have stake.
pub fn assign(challenge_seed: &Hash, level: u8, stakes: &[u128], k: usize) -> Vec<usize> {
    let mut sampler = Sampler::new(Domain::Assignment, challenge_seed, &[level]);
    let mut pool: Vec<(usize, u128)> = stakes.iter().copied().enumerate().filter(|(_, s)| *s > 0).collect();
    let mut picked = Vec::with_capacity(k.min(pool.len()));
    while picked.len() < k && !pool.is_empty() {
        // Saturation only matters when the total exceeds u128::MAX, which no token supply reaches.
        let total = pool.iter().fold(0u128, |t, (_, s)| t.saturating_add(*s));
        let mut u = sampler.below_u128(total);
        let mut chosen = pool.len().saturating_sub(1);
        for (pos, (_, s)) in pool.iter().enumerate() {
            if u < *s {
                chosen = pos;
                break;
            }
            u = u.saturating_sub(*s);
        }
        let (index, _) = pool.remove(chosen);
        picked.push(index);
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// Exact inclusion probabilities of successive sampling, by recursion over the remaining pool.
    fn exact_inclusion(stakes: &[u128], k: usize) -> Vec<f64> {
        fn rec(stakes: &[u128], pool: &mut Vec<usize>, k: usize, p: f64, acc: &mut [f64]) {
            if k == 0 || pool.is_empty() {
                return;
            }
            let total: u128 = pool.iter().map(|i| stakes[*i]).sum();
            for pos in 0..pool.len() {
                let i = pool[pos];
                let q = p * stakes[i] as f64 / total as f64;
                acc[i] += q;
                pool.remove(pos);
                rec(stakes, pool, k - 1, q, acc);
                pool.insert(pos, i);
            }
        }
        let mut acc = vec![0.0; stakes.len()];
        let mut pool: Vec<usize> = (0..stakes.len()).filter(|i| stakes[*i] > 0).collect();
        rec(stakes, &mut pool, k, 1.0, &mut acc);
        acc
    }

    #[test]
    fn inclusion_matches_exact_probabilities() {
        let stakes = [100u128, 50, 25, 15, 10, 0];
        let k = 3;
        let exact = exact_inclusion(&stakes, k);
        let trials = 40_000u32;
        let mut hits = vec![0u32; stakes.len()];
        for t in 0..trials {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&t.to_le_bytes());
            let picked = assign(&seed, 0, &stakes, k);
            assert_eq!(picked.len(), k);
            for i in picked {
                hits[i] += 1;
            }
        }
        assert_eq!(hits[5], 0, "zero stake is never picked");
        let total: f64 = exact.iter().sum();
        assert!((total - k as f64).abs() < 1e-9);
        for (i, p) in exact.iter().enumerate() {
            let freq = f64::from(hits[i]) / f64::from(trials);
            let sd = (p * (1.0 - p) / f64::from(trials)).sqrt();
            assert!((freq - p).abs() <= 5.0 * sd + 1e-12, "candidate {i}: {freq} vs exact {p}");
        }
        // not the stake shares: the largest is picked with probability well below k * 100/200 = 1.5
        // (capped at 1) and the smallest well above k * 10/200 = 0.15
        assert!(exact[4] > 0.2, "{exact:?}");
    }

    #[test]
    fn picks_are_distinct_deterministic_and_level_dependent() {
        let stakes = [5u128, 5, 5, 5, 5, 5, 5, 5];
        let a = assign(&[9; 32], 0, &stakes, 4);
        assert_eq!(a, assign(&[9; 32], 0, &stakes, 4));
        let mut s = a.clone();
        s.sort();
        s.dedup();
        assert_eq!(s.len(), 4);
        assert_ne!(a, assign(&[9; 32], 1, &stakes, 4));
        assert_eq!(assign(&[9; 32], 0, &[0, 3, 0], 5), vec![1]);
        assert!(assign(&[9; 32], 0, &[], 5).is_empty());
        // huge stakes do not overflow
        let big = [u128::MAX / 2, u128::MAX / 2, 1];
        assert_eq!(assign(&[1; 32], 0, &big, 3).len(), 3);
    }
}
