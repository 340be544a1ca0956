//! The 4-bit codec's encoder (`quant::quantize`, protocol section 6) written so the compiler vectorizes
//! it, byte for byte the reference's (`tests/equivalence.rs`). Where the reference branches per value,
//! this takes the same values through operations that are exact and branch-free:
//!
//! * the block's maximum `|x|` as the maximum of the bit patterns of `|x|` (for finite non-negative
//!   floats the order of the bits is the order of the values, and `|−0.0|` is `+0.0`): an integer
//!   reduction, where a float `>` reduction would not vectorize without fast math;
//! * the code as `(x / scale + 1.5·2^23) − 1.5·2^23` (the reference's `round_half_even`, the same IEEE
//!   operations), taken as the difference of the two sums' bit patterns (exact: both lie in
//!   [2^23, 2^24), where floats are 1 apart) and clamped to `[−7, 7]` as an integer, which is the reference's `r ≥ 7 → 7`,
//!   `r ≤ −7 → −7`;
//! * the finiteness test as one `&`-fold; the index of the first bad value is looked up only when there is one.
//!
//! The build targets baseline x86-64 (SSE2), so the same code is also compiled for AVX2 and AVX-512F
//! (`#[target_feature]`) and the widest the CPU has is chosen at run time ([`Simd::best`]). Every path uses
//! the same IEEE operations (division, addition, conversion of small integers), so all give the same
//! bytes; the tests compare each path the machine has against the reference.

use pogo_primitives::quant::{self, QuantError};
use rayon::prelude::*;

/// Elements per rayon task when quantizing one long vector: whole codec blocks, about 64 KiB of input.
const QUANTIZE_TASK: usize = 16_384;
/// Values whose codes are computed in one batch before they are packed.
const BATCH: usize = 64;
/// `1.5 · 2^23`: `(v + MAGIC) − MAGIC` rounds `|v| < 2^22` to an integer, ties to even.
const MAGIC: f32 = 12_582_912.0;

/// `fn $name(simd: Simd, args..) -> T` that runs `$body(args..)` compiled for the path `simd` names when
/// the CPU has it (AVX2 or AVX-512F through `#[target_feature]` copies), else as the build's baseline.
/// `$body` must be `#[inline(always)]` so that each copy is compiled for its instruction set.
macro_rules! simd_dispatch {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $body:ident) => {
        $(#[$doc])*
        $vis fn $name(simd: $crate::codec::Simd, $($arg: $ty),*) -> $ret {
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            fn avx2($($arg: $ty),*) -> $ret {
                $body($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx512f")]
            fn avx512($($arg: $ty),*) -> $ret {
                $body($($arg),*)
            }
            match simd {
                #[cfg(target_arch = "x86_64")]
                $crate::codec::Simd::Avx512 if std::arch::is_x86_feature_detected!("avx512f") => {
                    // SAFETY: the CPU has AVX-512F (checked on the line above), all `avx512` requires.
                    #[allow(unsafe_code)]
                    unsafe {
                        avx512($($arg),*)
                    }
                },
                #[cfg(target_arch = "x86_64")]
                $crate::codec::Simd::Avx2 if std::arch::is_x86_feature_detected!("avx2") => {
                    // SAFETY: the CPU has AVX2 (checked on the line above), all `avx2` requires.
                    #[allow(unsafe_code)]
                    unsafe {
                        avx2($($arg),*)
                    }
                },
                _ => $body($($arg),*),
            }
        }
    };
}
pub(crate) use simd_dispatch;

/// `quant::quantize` on every core: groups of whole codec blocks encoded in parallel, each straight into
/// its place in the output, so the bytes (and the index of the first non-finite value) are the reference's.
pub fn quantize(values: &[f32], block: usize) -> Result<Vec<u8>, QuantError> {
    if block == 0 {
        return Err(QuantError::ZeroBlockSize);
    }
    let len = quant::encoded_len(values.len(), block).ok_or(QuantError::WrongLength)?;
    let mut out = vec![0u8; len];
    quantize_into(values, block, &mut out)?;
    Ok(out)
}

/// [`quantize`] into a buffer the caller keeps (`out` must be exactly `quant::encoded_len` bytes, else
/// `WrongLength`). A large output allocated per call costs more than the encoding: above glibc's mmap
/// threshold (32 MiB, 58 M parameters) every call maps fresh pages and the kernel zeroes them on first
/// touch. After an error `out` holds the groups encoded before it and must not be used.
pub fn quantize_into(values: &[f32], block: usize, out: &mut [u8]) -> Result<(), QuantError> {
    if block == 0 {
        return Err(QuantError::ZeroBlockSize);
    }
    if quant::encoded_len(values.len(), block) != Some(out.len()) {
        return Err(QuantError::WrongLength);
    }
    let blocks_per_group = QUANTIZE_TASK.div_ceil(block);
    let group = blocks_per_group.saturating_mul(block);
    let group_bytes = quant::encoded_len(group, block).ok_or(QuantError::WrongLength)?;
    values
        .par_chunks(group)
        .zip(out.par_chunks_mut(group_bytes))
        .enumerate()
        .map(|(g, (chunk, bytes))| {
            encode_group(chunk, block, bytes).map_err(|index| {
                let global = g.saturating_mul(group).saturating_add(index);
                QuantError::NonFinite { index: u32::try_from(global).unwrap_or(u32::MAX) }
            })
        })
        .collect::<Vec<Result<(), QuantError>>>()
        .into_iter()
        .collect::<Result<(), QuantError>>()
}

/// `quant::quantize` on the calling thread (one leaf of a step, the leaves themselves run in parallel):
/// the same bytes and errors.
pub fn quantize_leaf(values: &[f32], block: usize) -> Result<Vec<u8>, QuantError> {
    quantize_leaf_on(Simd::best(), values, block, false).map(|(bytes, _)| bytes)
}

/// `quant::quantize` then `quant::dequantize` of the result, in one pass on the calling thread: the bytes
/// and the dequantized values (`code as f32 * scale`, dequantize's one rounding) the miner's step needs.
pub fn quantize_dequantize_leaf(values: &[f32], block: usize) -> Result<(Vec<u8>, Vec<f32>), QuantError> {
    quantize_leaf_on(Simd::best(), values, block, true)
}

/// `quant::dequantize` on the calling thread: the same values, and for bytes the reference refuses its
/// error. The canonical-encoding checks (finite non-negative scale, no nibble `−8`, a zero padding nibble, no
/// nonzero code under a zero scale) are folded into the decoding pass branch-free; bytes that fail them go
/// to the reference, which names the error.
pub fn dequantize_leaf(bytes: &[u8], n: usize, block: usize) -> Result<Vec<f32>, QuantError> {
    let mut out = vec![0.0f32; n];
    dequantize_leaf_into(bytes, block, &mut out)?;
    Ok(out)
}

/// [`dequantize_leaf`] of `out.len()` values into `out`. After an error `out` holds no meaningful values.
pub fn dequantize_leaf_into(bytes: &[u8], block: usize, out: &mut [f32]) -> Result<(), QuantError> {
    if block != 0 && quant::encoded_len(out.len(), block) == Some(bytes.len()) && decode(Simd::best(), bytes, block, out) {
        return Ok(());
    }
    let values = quant::dequantize(bytes, out.len(), block)?;
    // Not reached for bytes the reference accepts (the checks are the same); kept so that the result
    // never depends on it.
    if values.len() == out.len() {
        out.copy_from_slice(&values);
        Ok(())
    } else {
        Err(QuantError::WrongLength)
    }
}

simd_dispatch! {
    /// Decodes `bytes` (of exactly the encoded length of `out.len()` values) into `out`; whether the
    /// encoding is canonical (when not, `out` holds no meaningful values).
    fn decode(bytes: &[u8], block: usize, out: &mut [f32]) -> bool = decode_body
}

#[inline(always)]
fn decode_body(bytes: &[u8], block: usize, out: &mut [f32]) -> bool {
    let mut canonical = true;
    let mut rest = bytes;
    for values in out.chunks_mut(block) {
        let Some((scale_bytes, after)) = rest.split_first_chunk::<4>() else { return false };
        let Some((codes, after)) = after.split_at_checked(values.len().div_ceil(2)) else { return false };
        rest = after;
        let scale = f32::from_bits(u32::from_le_bytes(*scale_bytes));
        canonical &= scale.is_finite() & !scale.is_sign_negative();
        let zero_scale = scale == 0.0;
        let mut bad = false;
        let whole = values.len() / 2;
        let (pairs, odd) = values.split_at_mut(whole.saturating_mul(2));
        for (pair, &b) in pairs.chunks_exact_mut(2).zip(codes) {
            let (lo, hi, b_bad) = nibbles(b, zero_scale);
            bad |= b_bad;
            pair[0] = lo as f32 * scale;
            pair[1] = hi as f32 * scale;
        }
        if let (Some(last), Some(&b)) = (odd.first_mut(), codes.get(whole)) {
            let (lo, _, b_bad) = nibbles(b, zero_scale);
            bad |= b_bad | (b >> 4 != 0); // the padding nibble of an odd count must be zero
            *last = lo as f32 * scale;
        }
        canonical &= !bad;
    }
    canonical
}

/// The two codes of byte `b` (low nibble first) as signed 4-bit integers, and whether the byte is not
/// canonical: a nibble `−8`, or a nonzero byte under a zero scale.
#[inline(always)]
fn nibbles(b: u8, zero_scale: bool) -> (i32, i32, bool) {
    let byte = u32::from(b);
    // Each nibble shifted up to the sign bit and arithmetically back: exact sign extension.
    #[allow(clippy::cast_possible_wrap)]
    let (lo, hi) = (((byte << 28) as i32) >> 28, ((byte << 24) as i32) >> 28);
    (lo, hi, (lo == -8) | (hi == -8) | (zero_scale & (byte != 0)))
}

/// The instruction sets the encoder is compiled for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Simd {
    /// What the build targets (SSE2 on x86-64).
    Baseline,
    /// AVX2 (x86-64 only).
    Avx2,
    /// AVX-512F (x86-64 only).
    Avx512,
}

impl Simd {
    /// Every path this CPU can run, the baseline first.
    pub fn available() -> Vec<Simd> {
        let mut out = vec![Simd::Baseline];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                out.push(Simd::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                out.push(Simd::Avx512);
            }
        }
        out
    }

    /// The widest path this CPU can run (detected once).
    pub fn best() -> Simd {
        static BEST: std::sync::OnceLock<Simd> = std::sync::OnceLock::new();
        *BEST.get_or_init(|| Simd::available().last().copied().unwrap_or(Simd::Baseline))
    }
}

/// [`quantize_leaf`] (and with `dequantized` the values too) on a chosen path; for tests and benches.
pub fn quantize_leaf_on(simd: Simd, values: &[f32], block: usize, dequantized: bool) -> Result<(Vec<u8>, Vec<f32>), QuantError> {
    if block == 0 {
        return Err(QuantError::ZeroBlockSize);
    }
    let mut out = vec![0u8; quant::encoded_len(values.len(), block).ok_or(QuantError::WrongLength)?];
    let mut deq = if dequantized { vec![0.0f32; values.len()] } else { Vec::new() };
    encode_group_on(simd, values, block, &mut out, &mut deq)
        .map_err(|index| QuantError::NonFinite { index: u32::try_from(index).unwrap_or(u32::MAX) })?;
    Ok((out, deq))
}

/// [`encode_group_on`] on the widest path, without the dequantized values.
fn encode_group(values: &[f32], block: usize, out: &mut [u8]) -> Result<(), usize> {
    encode_group_on(Simd::best(), values, block, out, &mut [])
}

simd_dispatch! {
    /// Encodes `values` (whole blocks but maybe the last) into `out`, which has exactly their encoded
    /// length, and, when `deq` is not empty, their dequantized values into `deq`; `Err(index)` of the first
    /// non-finite value.
    fn encode_group_on(values: &[f32], block: usize, out: &mut [u8], deq: &mut [f32]) -> Result<(), usize> = encode_group_body
}

#[inline(always)]
fn encode_group_body(values: &[f32], block: usize, out: &mut [u8], deq: &mut [f32]) -> Result<(), usize> {
    if !values.iter().fold(true, |ok, v| ok & v.is_finite()) {
        return Err(values.iter().position(|v| !v.is_finite()).unwrap_or(0));
    }
    let mut rest = out;
    let mut deq_rest = deq;
    for chunk in values.chunks(block) {
        let (head, tail) = rest.split_at_mut(4usize.saturating_add(chunk.len().div_ceil(2)).min(rest.len()));
        let (deq_head, deq_tail) = deq_rest.split_at_mut(chunk.len().min(deq_rest.len()));
        encode_block(chunk, head, deq_head);
        rest = tail;
        deq_rest = deq_tail;
    }
    Ok(())
}

/// One block of finite values into `out` (its 4 scale bytes, then the packed codes) and, when `deq` is
/// not empty, their dequantized values.
#[inline(always)]
fn encode_block(values: &[f32], out: &mut [u8], deq: &mut [f32]) {
    let max_bits = values.iter().fold(0u32, |m, v| m.max(v.abs().to_bits()));
    let scale = f32::from_bits(max_bits) / 7.0;
    let Some((scale_bytes, codes)) = out.split_first_chunk_mut::<4>() else {
        return;
    };
    *scale_bytes = scale.to_bits().to_le_bytes();
    if scale == 0.0 {
        codes.fill(0);
        deq.fill(0.0);
        return;
    }
    let mut batch = [0i32; BATCH];
    let mut deq_parts = deq.chunks_mut(BATCH);
    for (part, packed) in values.chunks(BATCH).zip(codes.chunks_mut(BATCH / 2)) {
        for (c, &x) in batch.iter_mut().zip(part) {
            // `|x / scale|` is at most 7 and a little (more only under a subnormal scale, still far below
            // 2^22), so `t = x / scale + MAGIC` lies in the binade [2^23, 2^24), where floats are 1 apart and
            // their bit patterns consecutive integers: `t − MAGIC` is the rounded quotient `r`, and so is
            // the difference of the bit patterns, an integer subtraction (`r as i32` would be a
            // saturating conversion that the compiler does not vectorize).
            let t = x / scale + MAGIC;
            // (`wrapping_sub`: exact here, and the build's overflow checks would stop the vectorizer.)
            #[allow(clippy::cast_possible_wrap)] // both patterns are below 2^31
            let code = (t.to_bits() as i32).wrapping_sub(MAGIC.to_bits() as i32);
            *c = code.clamp(-7, 7);
        }
        if let Some(d) = deq_parts.next() {
            for (d, &c) in d.iter_mut().zip(batch.iter()) {
                #[allow(clippy::cast_precision_loss)] // |c| <= 7: exact
                let v = c as f32 * scale;
                *d = v;
            }
        }
        // An odd last count pads with a zero high nibble (the batch's next slot is cleared).
        if let Some(pad) = batch.get_mut(part.len()) {
            *pad = 0;
        }
        for (byte, pair) in packed.iter_mut().zip(batch.chunks_exact(2)) {
            let (lo, hi) = (pair.first().copied().unwrap_or(0), pair.get(1).copied().unwrap_or(0));
            #[allow(clippy::cast_sign_loss, clippy::cast_possible_truncation)]
            // two's complement nibbles
            let b = ((lo as u32) & 0x0f) | (((hi as u32) & 0x0f) << 4);
            #[allow(clippy::cast_possible_truncation)] // b < 256
            let b = b as u8;
            *byte = b;
        }
    }
}
