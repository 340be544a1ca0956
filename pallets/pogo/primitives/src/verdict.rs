//! Verdicts, their commit-reveal hashes, and the stake tally that decides a round.
//!
//! * A verifier first posts `H_verdict(submission_id u64 LE || len(verifier) u32 LE || verifier ||
//!   SCALE(verdict) || salt)` with a fresh 32-byte salt, then reveals `(verdict, salt)`; nobody can copy a
//!   verdict before the reveal phase.
//! * [`tally`] compares stakes against exact ratios ([`Ratio::TWO_THIRDS`], [`Ratio::ONE_THIRD`]) with
//!   256-bit products, no rounding. pallet-pogo applies it per level: at level 0 a round is accepted
//!   only with `positive · 3 ≥ assigned · 2` and no negative verdict, and escalated otherwise; level 1
//!   decides on its own stake with two thirds either way (`tally(.., TWO_THIRDS, TWO_THIRDS)`), and
//!   anything else expires the round.

use crate::hash::{finish, Domain, Hash};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;

/// Why a verifier rejects a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub enum NegativeReason {
    /// The recomputed gradient of step `step` (0-based in the round) fails the tolerance rule. Naming
    /// the step lets an escalation set recompute exactly that step (dispute narrowing).
    BadGradient {
        /// The step whose gradient disagrees.
        step: u32,
    },
    /// The replayed update chain does not reach a committed checkpoint or final root, or a per-step
    /// scalar does not follow the task's schedule / clipping rule.
    InconsistentUpdate,
    /// The evaluation loss does not improve as the task requires, or the claimed losses are false.
    NoProgress,
    /// The miner did not serve the round's data (gradients, records, opened leaves) in time.
    DataUnavailable,
}

/// A verifier's verdict on a round.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub enum Verdict {
    /// The sampled checks passed.
    Positive,
    /// A check failed, for the given reason.
    Negative(NegativeReason),
}

/// The commitment a verifier posts before revealing.
pub fn verdict_commitment(submission_id: u64, verifier: &[u8], verdict: &Verdict, salt: &Hash) -> Hash {
    let mut h = Domain::VerdictCommitment.hasher();
    h.update(&submission_id.to_le_bytes());
    h.update(&u32::try_from(verifier.len()).unwrap_or(u32::MAX).to_le_bytes());
    h.update(verifier);
    h.update(&verdict.encode());
    h.update(salt);
    finish(&h)
}

/// An exact ratio `numerator / denominator`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo, MaxEncodedLen)]
pub struct Ratio {
    /// Numerator.
    pub numerator: u32,
    /// Denominator (non-zero).
    pub denominator: u32,
}

impl Ratio {
    /// Two thirds: the default acceptance threshold.
    pub const TWO_THIRDS: Ratio = Ratio { numerator: 2, denominator: 3 };
    /// One third: the default rejection threshold.
    pub const ONE_THIRD: Ratio = Ratio { numerator: 1, denominator: 3 };

    /// Whether `0 < numerator <= denominator`.
    pub fn is_valid_threshold(&self) -> bool {
        self.denominator > 0 && self.numerator > 0 && self.numerator <= self.denominator
    }

    /// `part / whole >= self`, exactly: `part · denominator >= whole · numerator` in 256 bits.
    pub fn reached_by(&self, part: u128, whole: u128) -> bool {
        wide_mul(part, u128::from(self.denominator)) >= wide_mul(whole, u128::from(self.numerator))
    }
}

/// The 256-bit product as (high, low) 128-bit halves; tuples compare lexicographically.
fn wide_mul(a: u128, b: u128) -> (u128, u128) {
    const MASK: u128 = u64::MAX as u128;
    let (a_hi, a_lo) = (a >> 64, a & MASK);
    let (b_hi, b_lo) = (b >> 64, b & MASK);
    // Each partial product of two 64-bit halves fits in 128 bits; the carries are summed explicitly.
    let ll = a_lo.wrapping_mul(b_lo);
    let lh = a_lo.wrapping_mul(b_hi);
    let hl = a_hi.wrapping_mul(b_lo);
    let hh = a_hi.wrapping_mul(b_hi);
    let mid = (ll >> 64).wrapping_add(lh & MASK).wrapping_add(hl & MASK);
    let low = (ll & MASK) | (mid << 64);
    let high = hh.wrapping_add(lh >> 64).wrapping_add(hl >> 64).wrapping_add(mid >> 64);
    (high, low)
}

/// The decision a tally reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum Outcome {
    /// Positive stake reached the acceptance threshold.
    Accept,
    /// Negative stake reached the rejection threshold.
    Reject,
    /// Neither threshold was reached.
    Undecided,
}

/// Decides from stakes: rejection is checked first (a third of negative stake blocks acceptance even if
/// thresholds are configured to overlap).
pub fn tally(assigned: u128, positive: u128, negative: u128, accept: Ratio, reject: Ratio) -> Outcome {
    if assigned == 0 {
        return Outcome::Undecided;
    }
    if reject.reached_by(negative, assigned) {
        Outcome::Reject
    } else if accept.reached_by(positive, assigned) {
        Outcome::Accept
    } else {
        Outcome::Undecided
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_exact() {
        let t = Ratio::TWO_THIRDS;
        assert!(t.reached_by(2, 3));
        assert!(!t.reached_by(199_999, 300_000));
        assert!(t.reached_by(200_000, 300_000));
        assert!(t.reached_by(u128::MAX, u128::MAX));
        assert!(!t.reached_by(u128::MAX / 3 * 2 - 1, u128::MAX)); // 3 divides 2^128 - 1
        assert!(Ratio::ONE_THIRD.reached_by(u128::MAX / 3 + 1, u128::MAX));
        assert!(!Ratio::ONE_THIRD.reached_by(u128::MAX / 3 - 1, u128::MAX));
    }

    #[test]
    fn wide_mul_is_exact() {
        assert_eq!(wide_mul(u128::MAX, u128::MAX), (u128::MAX - 1, 1));
        assert_eq!(wide_mul(1 << 64, 1 << 64), (1, 0));
        assert_eq!(wide_mul(12345, 678), (0, 12345 * 678));
    }

    #[test]
    fn tally_outcomes() {
        let (a, r) = (Ratio::TWO_THIRDS, Ratio::ONE_THIRD);
        assert_eq!(tally(300, 200, 0, a, r), Outcome::Accept);
        assert_eq!(tally(300, 199, 0, a, r), Outcome::Undecided);
        assert_eq!(tally(300, 200, 100, a, r), Outcome::Reject);
        assert_eq!(tally(300, 0, 99, a, r), Outcome::Undecided);
        assert_eq!(tally(0, 0, 0, a, r), Outcome::Undecided);
    }

    #[test]
    fn commitment_binds_everything() {
        let v = Verdict::Positive;
        let c = verdict_commitment(1, b"v", &v, &[0; 32]);
        assert_ne!(c, verdict_commitment(2, b"v", &v, &[0; 32]));
        assert_ne!(c, verdict_commitment(1, b"w", &v, &[0; 32]));
        assert_ne!(c, verdict_commitment(1, b"v", &Verdict::Negative(NegativeReason::NoProgress), &[0; 32]));
        let bad = |step| Verdict::Negative(NegativeReason::BadGradient { step });
        assert_ne!(verdict_commitment(1, b"v", &bad(1), &[0; 32]), verdict_commitment(1, b"v", &bad(2), &[0; 32]));
        assert_ne!(c, verdict_commitment(1, b"v", &v, &[1; 32]));
    }
}
