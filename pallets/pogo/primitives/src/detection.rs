//! Detection arithmetic for sizing bonds and sample counts (documentation and task set-up; not consensus).
//!
//! A miner fakes `m` of `T` steps; a verifier recomputes `k` distinct steps chosen uniformly:
//! `P(miss) = C(T − m, k) / C(T, k) = Π_{i<k} (T − m − i) / (T − i)`. With `V` verifiers sampling
//! independently, `P(miss) = P(miss for one)^V` (their samples are independent given the challenge).

/// `P(one verifier misses every faked step)`, exactly evaluated as a product in f64.
pub fn miss_probability(total_steps: u32, faked: u32, sampled: u32) -> f64 {
    let t = f64::from(total_steps);
    let m = f64::from(faked.min(total_steps));
    let k = sampled.min(total_steps);
    (0..k).fold(1.0, |p, i| {
        let i = f64::from(i);
        p * ((t - m - i).max(0.0) / (t - i))
    })
}

/// `P(all of V independent verifiers miss)`.
pub fn miss_probability_all(total_steps: u32, faked: u32, sampled: u32, verifiers: u32) -> f64 {
    let one = miss_probability(total_steps, faked, sampled);
    (0..verifiers).fold(1.0, |p, _| p * one)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // 2 faked of 100, 2 sampled: missed with probability ≈ 0.9602.
        let p = miss_probability(100, 2, 2);
        assert!((p - (98.0 * 97.0) / (100.0 * 99.0)).abs() < 1e-12);
        assert_eq!(miss_probability(10, 0, 3), 1.0);
        assert_eq!(miss_probability(10, 10, 1), 0.0);
        assert_eq!(miss_probability(10, 8, 3), 0.0);
        assert!((miss_probability_all(100, 10, 4, 5) - miss_probability(100, 10, 4).powi(5)).abs() < 1e-15);
    }
}
