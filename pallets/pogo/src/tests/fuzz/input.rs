//! The fuzzer's input: a splitmix64 byte stream read through `arbitrary::Unstructured`, so that a run is
//! reproducible from its seed alone, and generators of plausible and extreme values.

use arbitrary::{unstructured::Int, Arbitrary, Unstructured};
use core::ops::RangeInclusive;

/// The byte stream: pogo-primitives' splitmix64 (the known-answer vectors' generator).
pub(super) use pogo_primitives::vectors::SplitMix;

/// The seed of chunk `chunk` of a run seeded with `seed` (chunks are independent: any one of them can
/// be replayed alone).
pub(super) fn chunk_seed(seed: u64, chunk: u64) -> u64 {
    let base = SplitMix::new(seed).next_u64();
    SplitMix::new(base ^ chunk.wrapping_mul(0xD1B5_4A32_D192_ED03)).next_u64()
}

/// Values drawn from one operation's bytes. Once the bytes are used up a draw returns the start of its
/// range (zero for `arb`, true for `chance`), never an error: every loop bounded by a draw ends.
pub(super) struct Gen<'a> {
    u: Unstructured<'a>,
}

impl<'a> Gen<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        Self { u: Unstructured::new(data) }
    }

    /// A value in `range` (its start when the range has one value or is empty).
    pub(super) fn int<T: Int>(&mut self, range: RangeInclusive<T>) -> T {
        let start = *range.start();
        if start >= *range.end() {
            return start;
        }
        self.u.int_in_range(range).unwrap_or(start)
    }

    /// True with probability `numerator / denominator` (both constants, `0 < numerator <= denominator`).
    pub(super) fn chance(&mut self, numerator: u32, denominator: u32) -> bool {
        self.u.ratio(numerator, denominator).unwrap_or(false)
    }

    /// Any value of `T`.
    pub(super) fn arb<T: Arbitrary<'a> + Default>(&mut self) -> T {
        self.u.arbitrary().unwrap_or_default()
    }

    /// Any 32 bytes.
    pub(super) fn hash(&mut self) -> [u8; 32] {
        self.arb()
    }

    /// One of `items`, `None` if there are none.
    pub(super) fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        self.u.choose(items).ok().copied()
    }

    /// An index below `len`, `None` if `len` is zero.
    pub(super) fn index(&mut self, len: usize) -> Option<usize> {
        let last = len.checked_sub(1)?;
        Some(self.int(0..=last))
    }

    /// Up to `max` arbitrary bytes.
    pub(super) fn bytes(&mut self, max: usize) -> Vec<u8> {
        let n = self.int(0..=max);
        (0..n).map(|_| self.arb::<u8>()).collect()
    }

    /// A balance for a garbage call: zero, one, the extremes, or anything.
    pub(super) fn balance(&mut self) -> u64 {
        match self.int(0u8..=6) {
            0 => 0,
            1 => 1,
            2 => u64::MAX,
            3 => u64::MAX / 2 + 1,
            4 => self.int(1u64..=100),
            5 => self.int(100u64..=100_000),
            _ => self.arb(),
        }
    }

    /// A `u32` for a garbage call: zero, the maximum, small, large, or anything.
    pub(super) fn u32x(&mut self) -> u32 {
        match self.int(0u8..=4) {
            0 => 0,
            1 => u32::MAX,
            2 => self.int(1u32..=16),
            3 => self.int(17u32..=4_096),
            _ => self.arb(),
        }
    }

    /// A `u64` for a garbage call: zero, the maximum, small, large, or anything.
    pub(super) fn u64x(&mut self) -> u64 {
        match self.int(0u8..=4) {
            0 => 0,
            1 => u64::MAX,
            2 => self.int(1u64..=16),
            3 => self.int(17u64..=1 << 20),
            _ => self.arb(),
        }
    }

    /// The bits of an `f32` for a garbage call: zero, NaN, infinity, negative, typical, or anything.
    pub(super) fn f32_bits(&mut self) -> u32 {
        match self.int(0u8..=7) {
            0 => 0,
            1 => f32::NAN.to_bits(),
            2 => f32::INFINITY.to_bits(),
            3 => (-1.0f32).to_bits(),
            4 => 1e-2f32.to_bits(),
            5 => 0.9f32.to_bits(),
            6 => 1.0f32.to_bits(),
            _ => self.arb(),
        }
    }
}
