//! The 4-bit gradient codec: block-wise symmetric int4 with one f32 scale per block.
//!
//! For a block `x[0..n)` (`n <= block size`, only the last block of a leaf is short):
//!
//! 1. every `x[i]` must be finite, else [`QuantError::NonFinite`] (before anything is hashed);
//! 2. `m = max |x[i]|` and `scale = m / 7.0` (one IEEE-754 binary32 division, round to nearest even);
//! 3. if `scale == 0` every code is 0; else `code[i] = clamp(rne(x[i] / scale), -7, 7)` where `rne` rounds
//!    half to even (exact: see [`round_half_even`]);
//! 4. bytes: `scale` as little-endian f32 bits (`+0.0` for a zero block, never `-0.0`), then `ceil(n / 2)`
//!    bytes; element `2j` in the low nibble of byte `j`, element `2j + 1` in the high nibble, each as a
//!    4-bit two's complement number; an odd `n` leaves the last high nibble 0.
//!
//! Decoding accepts exactly these encodings: the nibble `0b1000` (-8), a negative, non-finite or `-0.0`
//! scale, a non-zero code under a zero scale, and a non-zero padding nibble are all
//! [`QuantError::NonCanonical`]. Dequantization is `code as f32 * scale` (exact integer to f32, one
//! rounded multiplication).

use alloc::vec::Vec;
use codec::{Decode, Encode};
use scale_info::TypeInfo;

/// Largest code magnitude: the symmetric range is `[-7, 7]`.
pub const MAX_CODE: i8 = 7;

/// Why quantizing or decoding failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub enum QuantError {
    /// An input value is NaN or infinite (its position in the input is given).
    NonFinite {
        /// Index of the first non-finite value.
        index: u32,
    },
    /// The bytes are not a canonical encoding.
    NonCanonical,
    /// The byte length does not match the element count.
    WrongLength,
    /// Block size zero.
    ZeroBlockSize,
}

impl core::fmt::Display for QuantError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            QuantError::NonFinite { index } => write!(f, "input value {index} is NaN or infinite"),
            QuantError::NonCanonical => f.write_str("the bytes are not a canonical 4-bit encoding"),
            QuantError::WrongLength => f.write_str("the byte length does not match the element count"),
            QuantError::ZeroBlockSize => f.write_str("codec block size zero"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for QuantError {}

/// Encoded size in bytes of `n` elements in blocks of `block` elements.
pub fn encoded_len(n: usize, block: usize) -> Option<usize> {
    if block == 0 {
        return None;
    }
    let full = n.checked_div(block)?;
    let rest = n.checked_rem(block)?;
    let per_full = 4usize.checked_add(block.div_ceil(2))?;
    let mut len = full.checked_mul(per_full)?;
    if rest > 0 {
        len = len.checked_add(4)?.checked_add(rest.div_ceil(2))?;
    }
    Some(len)
}

/// Rounds a finite `v` with `|v| < 2^22` to the nearest integer, ties to even, with two exactly
/// specified IEEE-754 binary32 additions: `(v + 1.5·2^23) - 1.5·2^23`. In that range the sum's ulp is 1,
/// so the first addition rounds `v` to an integer by the default rounding mode (nearest, ties to even)
/// and the subtraction is exact.
pub fn round_half_even(v: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 * 2^23
    (v + MAGIC) - MAGIC
}

/// The code of one value under a non-zero scale.
pub(crate) fn code_of(x: f32, scale: f32) -> i8 {
    let r = round_half_even(x / scale);
    // |x / scale| <= 7 up to one rounding; the clamp makes the range exact.
    if r >= 7.0 {
        MAX_CODE
    } else if r <= -7.0 {
        -MAX_CODE
    } else {
        #[allow(clippy::cast_possible_truncation)] // |r| < 7 and integral: exact
        let c = r as i8;
        c
    }
}

/// The codec's scale of one block (step 2): `max |x[i]| / 7.0` in f32, `+0.0` for an empty or all-zero
/// block. The values must be finite.
pub fn block_scale(values: &[f32]) -> f32 {
    values.iter().fold(0.0f32, |m, v| if v.abs() > m { v.abs() } else { m }) / 7.0
}

/// Appends one block's bytes (step 4): `scale` as little-endian f32 bits, then the codes two per byte,
/// the first of a pair in the low nibble, an odd count padded with a zero high nibble. Codes are taken
/// as given (a canonical block has them in `[-7, 7]`, all 0 under a zero scale).
pub fn encode_block_into(scale: f32, codes: impl IntoIterator<Item = i8>, out: &mut Vec<u8>) {
    out.extend_from_slice(&scale.to_bits().to_le_bytes());
    let mut codes = codes.into_iter();
    while let Some(lo) = codes.next() {
        let hi = codes.next().unwrap_or(0);
        out.push(((lo as u8) & 0x0f) | (((hi as u8) & 0x0f) << 4));
    }
}

/// Appends the encoding of `values` (block size `block`) to `out`.
pub fn quantize_into(values: &[f32], block: usize, out: &mut Vec<u8>) -> Result<(), QuantError> {
    if block == 0 {
        return Err(QuantError::ZeroBlockSize);
    }
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        return Err(QuantError::NonFinite { index: u32::try_from(i).unwrap_or(u32::MAX) });
    }
    out.reserve(encoded_len(values.len(), block).unwrap_or(0));
    for chunk in values.chunks(block) {
        let scale = block_scale(chunk);
        encode_block_into(scale, chunk.iter().map(|v| if scale > 0.0 { code_of(*v, scale) } else { 0 }), out);
    }
    Ok(())
}

/// The encoding of `values` in blocks of `block`.
pub fn quantize(values: &[f32], block: usize) -> Result<Vec<u8>, QuantError> {
    let mut out = Vec::new();
    quantize_into(values, block, &mut out)?;
    Ok(out)
}

/// A decoded block: its scale and its codes.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    /// The block's scale (finite, `>= +0.0`).
    pub scale: f32,
    /// One code per element, in `[-7, 7]`.
    pub codes: Vec<i8>,
}

fn nibble(b: u8) -> Result<i8, QuantError> {
    let v = (b & 0x0f) as i8;
    let v = if v >= 8 { v.wrapping_sub(16) } else { v };
    if v == -8 {
        Err(QuantError::NonCanonical)
    } else {
        Ok(v)
    }
}

/// Decodes `n` elements in blocks of `block`, checking canonicity.
pub fn decode(bytes: &[u8], n: usize, block: usize) -> Result<Vec<Block>, QuantError> {
    if block == 0 {
        return Err(QuantError::ZeroBlockSize);
    }
    if encoded_len(n, block) != Some(bytes.len()) {
        return Err(QuantError::WrongLength);
    }
    let mut blocks = Vec::with_capacity(n.div_ceil(block));
    let mut rest = bytes;
    let mut remaining = n;
    while remaining > 0 {
        let len = remaining.min(block);
        remaining = remaining.saturating_sub(len);
        let (scale_bytes, after) = rest.split_first_chunk::<4>().ok_or(QuantError::WrongLength)?;
        let scale = f32::from_bits(u32::from_le_bytes(*scale_bytes));
        if !scale.is_finite() || scale.is_sign_negative() {
            return Err(QuantError::NonCanonical);
        }
        let (code_bytes, after) = after.split_at_checked(len.div_ceil(2)).ok_or(QuantError::WrongLength)?;
        rest = after;
        let mut codes = Vec::with_capacity(len);
        for b in code_bytes {
            codes.push(nibble(*b)?);
            codes.push(nibble(*b >> 4)?);
        }
        if codes.len() > len {
            // odd length: the padding nibble must be zero
            if codes.pop() != Some(0) {
                return Err(QuantError::NonCanonical);
            }
        }
        if scale == 0.0 && codes.iter().any(|c| *c != 0) {
            return Err(QuantError::NonCanonical);
        }
        blocks.push(Block { scale, codes });
    }
    Ok(blocks)
}

/// Dequantizes a canonical encoding: `code as f32 * scale` for each element.
pub fn dequantize(bytes: &[u8], n: usize, block: usize) -> Result<Vec<f32>, QuantError> {
    let mut out = Vec::with_capacity(n);
    for b in decode(bytes, n, block)? {
        out.extend(b.codes.iter().map(|c| f32::from(*c) * b.scale));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn round_half_even_matches_definition() {
        let cases = [
            (0.5f32, 0.0f32),
            (1.5, 2.0),
            (2.5, 2.0),
            (-0.5, -0.0),
            (-1.5, -2.0),
            (-2.5, -2.0),
            (3.4999998, 3.0),
            (6.5, 6.0),
            (7.5, 8.0),
            (0.49999997, 0.0),
        ];
        for (v, want) in cases {
            assert_eq!(round_half_even(v), want, "rne({v})");
        }
        // agrees with std's round_ties_even on a dense sweep
        let mut v = -8.0f32;
        while v <= 8.0 {
            assert_eq!(round_half_even(v), v.round_ties_even(), "{v}");
            v += 0.001953125; // 2^-9: hits every half exactly
        }
    }

    #[test]
    fn layout_is_exact() {
        // max |x| = 7 -> scale 1.0; codes 1, -2, 7, -7, 3 (odd length: zero padding nibble)
        let bytes = quantize(&[1.0, -2.0, 7.0, -7.0, 3.0], 8).unwrap();
        assert_eq!(bytes, vec![0x00, 0x00, 0x80, 0x3f, 0xe1, 0x97, 0x03]);
        assert_eq!(dequantize(&bytes, 5, 8).unwrap(), vec![1.0, -2.0, 7.0, -7.0, 3.0]);
    }

    #[test]
    fn ties_round_to_even() {
        // scale 1.0 (max 7): 2.5 -> 2, 3.5 -> 4, -0.5 -> 0
        let bytes = quantize(&[7.0, 2.5, 3.5, -0.5], 4).unwrap();
        let b = decode(&bytes, 4, 4).unwrap();
        assert_eq!(b[0].codes, vec![7, 2, 4, 0]);
    }

    #[test]
    fn zero_block_has_positive_zero_scale_and_zero_codes() {
        let bytes = quantize(&[0.0, -0.0, 0.0], 2).unwrap();
        assert_eq!(bytes, vec![0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(dequantize(&bytes, 3, 2).unwrap(), vec![0.0, 0.0, 0.0]);
    }

    #[test]
    fn error_is_bounded_by_half_a_step() {
        let xs: Vec<f32> = (0..1000).map(|i| ((i * 7919) % 2003) as f32 / 97.0 - 10.0).collect();
        let bytes = quantize(&xs, 64).unwrap();
        let ys = dequantize(&bytes, xs.len(), 64).unwrap();
        for (c, (x, y)) in xs.chunks(64).zip(ys.chunks(64)).enumerate() {
            let m = x.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let step = m / 7.0;
            for (a, b) in x.iter().zip(y) {
                assert!((a - b).abs() <= step * 0.5 * 1.0001, "block {c}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn non_finite_input_is_refused() {
        assert_eq!(quantize(&[1.0, f32::NAN], 4), Err(QuantError::NonFinite { index: 1 }));
        assert_eq!(quantize(&[f32::INFINITY], 4), Err(QuantError::NonFinite { index: 0 }));
        assert_eq!(quantize(&[1.0], 0), Err(QuantError::ZeroBlockSize));
    }

    #[test]
    fn non_canonical_encodings_are_refused() {
        let good = quantize(&[7.0, -3.0, 1.0], 4).unwrap();
        assert!(decode(&good, 3, 4).is_ok());
        let mut minus8 = good.clone();
        minus8[4] = 0x08;
        assert_eq!(decode(&minus8, 3, 4), Err(QuantError::NonCanonical));
        let mut pad = good.clone();
        pad[5] |= 0x10;
        assert_eq!(decode(&pad, 3, 4), Err(QuantError::NonCanonical));
        let mut neg = good.clone();
        neg[..4].copy_from_slice(&(-1.0f32).to_bits().to_le_bytes());
        assert_eq!(decode(&neg, 3, 4), Err(QuantError::NonCanonical));
        let mut nz = good.clone();
        nz[..4].copy_from_slice(&(-0.0f32).to_bits().to_le_bytes());
        assert_eq!(decode(&nz, 3, 4), Err(QuantError::NonCanonical));
        let mut zero_scale = good.clone();
        zero_scale[..4].copy_from_slice(&[0; 4]);
        assert_eq!(decode(&zero_scale, 3, 4), Err(QuantError::NonCanonical));
        let mut nan = good.clone();
        nan[..4].copy_from_slice(&f32::NAN.to_bits().to_le_bytes());
        assert_eq!(decode(&nan, 3, 4), Err(QuantError::NonCanonical));
        assert_eq!(decode(&good[..5], 3, 4), Err(QuantError::WrongLength));
        assert_eq!(decode(&good, 5, 4), Err(QuantError::WrongLength));
    }

    #[test]
    fn encoded_len_counts_short_last_block() {
        assert_eq!(encoded_len(64, 64), Some(36));
        assert_eq!(encoded_len(65, 64), Some(36 + 5));
        assert_eq!(encoded_len(4096, 64), Some(64 * 36));
        assert_eq!(encoded_len(3, 0), None);
    }
}
