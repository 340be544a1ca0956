//! BLAKE3 keyed hashes of many messages of one length at once, one message per SIMD lane.
//!
//! A gradient leaf (4096 parameters, codec block 64) is 2,304 bytes: three BLAKE3 chunks. The `blake3`
//! crate hashes the chunks of *one* message side by side, so such a leaf fills 3 of the 16 lanes an
//! AVX-512 register has, and a Merkle node (one 64-byte block) fills one. Here the lanes hold *different*
//! messages of the same length instead: lane `l` runs message `l`'s whole BLAKE3 tree (its chunks, its
//! parent nodes, its root), and every lane runs the same compressions with the same counters, block
//! lengths and flags, because the tree of a BLAKE3 message depends only on its length. A batch of 16
//! messages is therefore one straight-line program over `[u32; 16]` words that the compiler vectorizes:
//! one 512-bit register per word on AVX-512F, two 256-bit ones on AVX2, four 128-bit ones on the baseline,
//! the path chosen at run time as the codec's are ([`Simd`]). The 7 rounds are unrolled with the message
//! schedule as constants and the state held in 16 separate words, so the state stays in registers; each
//! lane's 64-byte block is read as one vector and transposed with shuffles (`std::arch`).
//!
//! Measured on one core of the 2-core AMD EPYC (bench `parallel`, 2,662 gradient leaves of 2,304 bytes):
//! `blake3::keyed_hash` one leaf at a time 1.07 GiB/s; lanes 1.08 (baseline), 2.77 (AVX2) and 6.31 GiB/s
//! (AVX-512F), against about 6.7 GB/s per core for BLAKE3 over one long input.
//!
//! The output is BLAKE3's, bit for bit (the tests compare it with `blake3::keyed_hash` for every length
//! from 0 to past 3 chunks, on every path this CPU has). The compression function and the tree follow
//! the BLAKE3 specification (sections 2.2 to 2.5): 7 rounds of the G function over a 16-word state, the
//! message words permuted between rounds, chunk counters, and the left subtree of a node holding the
//! largest power of two of chunks that leaves at least one for the right.

use crate::codec::Simd;
use pogo_primitives::{hash::MERKLE_NODE_KEY, Hash};

/// The BLAKE3 IV (the SHA-256 IV).
const IV: [u32; 8] = [0x6A09_E667, 0xBB67_AE85, 0x3C6E_F372, 0xA54F_F53A, 0x510E_527F, 0x9B05_688C, 0x1F83_D9AB, 0x5BE0_CD19];
const CHUNK_START: u32 = 1;
const CHUNK_END: u32 = 2;
const PARENT: u32 = 4;
const ROOT: u32 = 8;
const KEYED_HASH: u32 = 16;
const CHUNK_LEN: usize = 1024;
const BLOCK_LEN: usize = 64;

/// The order in which round `r` reads the block's words: BLAKE3's message permutation applied `r` times.
const SCHEDULE: [[usize; 16]; 7] = schedule();

const fn schedule() -> [[usize; 16]; 7] {
    const PERMUTATION: [usize; 16] = [2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8];
    let mut s = [[0usize; 16]; 7];
    let mut j = 0;
    while j < 16 {
        s[0][j] = j;
        j += 1;
    }
    let mut r = 1;
    while r < 7 {
        let mut j = 0;
        while j < 16 {
            s[r][j] = s[r - 1][PERMUTATION[j]];
            j += 1;
        }
        r += 1;
    }
    s
}

/// One 32-bit word of every lane.
type Word<const N: usize> = [u32; N];
/// A chaining value (8 words) of every lane.
type Cv<const N: usize> = [Word<N>; 8];

/// The keyed BLAKE3 hash of each of `messages` under `key`: `blake3::keyed_hash(key, m)` of every `m`, in
/// order. Runs of consecutive messages of equal length go through the lanes of the widest path this
/// CPU has; a message whose length differs from both neighbours is hashed alone by the `blake3` crate.
pub fn keyed_hashes(key: &[u8; 32], messages: &[&[u8]]) -> Vec<Hash> {
    keyed_hashes_on(Simd::best(), Prefetch::No, key, messages)
}

/// Whether the AVX-512F lanes prefetch the next batch while hashing one: each block read of the 16 lanes
/// asks for the next batch's 16 blocks at the same offset, into L2. A batch reads 16 messages at once,
/// more streams than the hardware prefetcher follows, which costs once the messages are out of cache.
/// Measured on the 2-core EPYC (bench `parallel`, gradient root against BLAKE3, paired) at 100 M
/// parameters (56 MB of leaves, past the 32 MiB L3): 0.48 without, 0.75 with (the lanes on one core 3.2
/// → 6.1 GiB/s, their in-cache speed); prefetching each lane's own block 128, 256, 512 or 1,024 bytes
/// ahead instead gave 0.64, 0.73, 0.57, 0.49. In cache it cannot help (10.9 M: 0.85 with, 0.88 without,
/// within this VM's noise), so only inputs past [`PREFETCH_ABOVE`] get it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prefetch {
    /// Messages likely in cache.
    No,
    /// Messages likely in memory (more of them than the last-level cache holds).
    Ahead,
}

impl Prefetch {
    /// [`Prefetch::Ahead`] for inputs of more than [`PREFETCH_ABOVE`] bytes in all.
    pub fn for_input_bytes(bytes: usize) -> Self {
        if bytes > PREFETCH_ABOVE {
            Prefetch::Ahead
        } else {
            Prefetch::No
        }
    }
}

/// Input size above which the leaves are hashed with prefetches: the 32 MiB L3 of the machine measured.
pub const PREFETCH_ABOVE: usize = 32 << 20;

/// [`keyed_hashes`] on a chosen path (for tests and benches), with or without prefetches; a path this CPU
/// lacks runs the baseline.
pub fn keyed_hashes_on(simd: Simd, prefetch: Prefetch, key: &[u8; 32], messages: &[&[u8]]) -> Vec<Hash> {
    let key_words = words_of(key);
    let mut out = Vec::with_capacity(messages.len());
    let mut rest = messages;
    while let Some(first) = rest.first() {
        let run = rest.iter().take(LANES).take_while(|m| m.len() == first.len()).count().max(1);
        let (batch, tail) = rest.split_at(run.min(rest.len()));
        if batch.len() == 1 {
            out.push(*blake3::keyed_hash(key, first).as_bytes());
        } else {
            // The batch after this one (its first message where it is shorter; this batch at the end).
            let ahead = if tail.is_empty() { batch } else { tail.get(..LANES).unwrap_or(tail) };
            hash_batch(simd, prefetch, &key_words, batch, ahead, &mut out);
        }
        rest = tail;
    }
    out
}

/// `H_node(left || right)` (`merkle::node_hash`) of the `i`-th pair of `pairs` into `out[i]`, one 64-byte
/// message per pair, in lanes, on every core (the `nodes` of `MerkleTree::from_leaf_hashes_with`).
pub fn node_hashes(pairs: &[Hash], out: &mut [Hash]) {
    use rayon::prelude::*;
    if pairs.len() <= 2 * NODES_PER_TASK {
        return node_hashes_here(pairs, out);
    }
    pairs.par_chunks(2 * NODES_PER_TASK).zip(out.par_chunks_mut(NODES_PER_TASK)).for_each(|(pairs, out)| node_hashes_here(pairs, out));
}

/// [`node_hashes`] on the calling thread. Two adjacent hashes already are the 64 bytes of their node's
/// message, so the messages are read in place.
fn node_hashes_here(pairs: &[Hash], out: &mut [Hash]) {
    let messages: Vec<&[u8]> = pairs.as_flattened().chunks_exact(64).collect();
    for (dst, hash) in out.iter_mut().zip(keyed_hashes(&MERKLE_NODE_KEY, &messages)) {
        *dst = hash;
    }
}

/// Messages per batch: one 32-bit word of each in a 512-bit vector (two 256-bit ones on AVX2).
pub const LANES: usize = 16;

/// Merkle nodes per rayon task: a level of at most twice this many is hashed on the calling thread
/// (about 0.1 ms on one AVX-512F core; waking the pool for every small level cost more than hashing it).
const NODES_PER_TASK: usize = 4096;

/// Hashes `batch` (2 to [`LANES`] messages, all of one length) and appends the hashes to `out`.
fn hash_batch(simd: Simd, prefetch: Prefetch, key: &[u32; 8], batch: &[&[u8]], ahead: &[&[u8]], out: &mut Vec<Hash>) {
    match simd {
        #[cfg(target_arch = "x86_64")]
        Simd::Avx512 if std::arch::is_x86_feature_detected!("avx512f") => {
            let msgs = filled::<16>(batch);
            // SAFETY: the CPU has AVX-512F (checked on the line above), all `hash_avx512` requires.
            #[allow(unsafe_code)]
            let cv = unsafe {
                match prefetch {
                    Prefetch::No => hash_avx512::<false>(key, &msgs, &msgs),
                    Prefetch::Ahead => hash_avx512::<true>(key, &msgs, &filled::<16>(ahead)),
                }
            };
            push_hashes(&cv, batch.len(), out);
        },
        #[cfg(target_arch = "x86_64")]
        Simd::Avx2 if std::arch::is_x86_feature_detected!("avx2") => {
            let msgs = filled::<16>(batch);
            // SAFETY: the CPU has AVX2 (checked on the line above), all `hash_avx2` requires.
            #[allow(unsafe_code)]
            let cv = unsafe { hash_avx2(key, &msgs, &msgs) };
            push_hashes(&cv, batch.len(), out);
        },
        _ => {
            let msgs = filled::<16>(batch);
            push_hashes(&hash_lanes::<16, ScalarRows>(key, &msgs, &msgs), batch.len(), out);
        },
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn hash_avx512<const PREFETCH: bool>(key: &[u32; 8], msgs: &[&[u8]; 16], ahead: &[&[u8]; 16]) -> Cv<16> {
    hash_lanes::<16, Avx512Rows<PREFETCH>>(key, msgs, ahead)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn hash_avx2(key: &[u32; 8], msgs: &[&[u8]; 16], ahead: &[&[u8]; 16]) -> Cv<16> {
    hash_lanes::<16, Avx2Rows>(key, msgs, ahead)
}

/// `N` lanes from `batch` (at most `N` messages of one length, at least one): the lanes past the batch
/// repeat its first message (their hashes are dropped).
fn filled<'a, const N: usize>(batch: &[&'a [u8]]) -> [&'a [u8]; N] {
    let first: &[u8] = batch.first().copied().unwrap_or(&[]);
    let mut msgs = [first; N];
    for (dst, src) in msgs.iter_mut().zip(batch) {
        *dst = src;
    }
    msgs
}

/// Appends the first `count` lanes' hashes (a root's first 8 words, little-endian) to `out`.
fn push_hashes<const N: usize>(cv: &Cv<N>, count: usize, out: &mut Vec<Hash>) {
    for lane in 0..count.min(N) {
        let mut hash = [0u8; 32];
        for (dst, word) in hash.chunks_exact_mut(4).zip(cv.iter()) {
            dst.copy_from_slice(&word[lane].to_le_bytes());
        }
        out.push(hash);
    }
}

/// The little-endian words of a key.
fn words_of(key: &[u8; 32]) -> [u32; 8] {
    let mut words = [0u32; 8];
    for (w, b) in words.iter_mut().zip(key.chunks_exact(4)) {
        *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
    }
    words
}

/// The root (as its first 8 words) of every lane's message; all `msgs` have one length.
#[inline(always)]
fn hash_lanes<const N: usize, R: Rows<N>>(key: &[u32; 8], msgs: &[&[u8]; N], ahead: &[&[u8]; N]) -> Cv<N> {
    let len = msgs[0].len();
    let mut key_cv: Cv<N> = [[0u32; N]; 8];
    for (dst, k) in key_cv.iter_mut().zip(key) {
        *dst = [*k; N];
    }
    let chunks = len.div_ceil(CHUNK_LEN).max(1);
    // BLAKE3's incremental tree: a stack of subtree chaining values, merged as chunks complete; the
    // last chunk is merged only at the end, so that the root flag goes on the right compression.
    let mut stack: Vec<Cv<N>> = Vec::new();
    let mut last = key_cv;
    for chunk in 0..chunks {
        let is_last = chunk + 1 == chunks;
        let cv = chunk_cv::<N, R>(&key_cv, msgs, ahead, chunk, len, is_last && chunks == 1);
        if is_last {
            last = cv;
        } else {
            let mut cv = cv;
            let mut done = chunk + 1;
            while done & 1 == 0 {
                let Some(left) = stack.pop() else { break };
                cv = parent_cv(&key_cv, &left, &cv, false);
                done >>= 1;
            }
            stack.push(cv);
        }
    }
    let mut right = last;
    while let Some(left) = stack.pop() {
        right = parent_cv(&key_cv, &left, &right, stack.is_empty());
    }
    right
}

/// The chaining value of chunk `chunk` of every lane's message of `len` bytes (the root words when
/// `root`, for a one-chunk message).
#[inline(always)]
fn chunk_cv<const N: usize, R: Rows<N>>(
    key: &Cv<N>,
    msgs: &[&[u8]; N],
    ahead: &[&[u8]; N],
    chunk: usize,
    len: usize,
    root: bool,
) -> Cv<N> {
    let start = chunk * CHUNK_LEN;
    let chunk_len = len.saturating_sub(start).min(CHUNK_LEN);
    let blocks = chunk_len.div_ceil(BLOCK_LEN).max(1);
    let counter = chunk as u64;
    let mut cv = *key;
    for block in 0..blocks {
        let offset = start + block * BLOCK_LEN;
        let block_len = chunk_len.saturating_sub(block * BLOCK_LEN).min(BLOCK_LEN);
        let mut flags = KEYED_HASH;
        if block == 0 {
            flags |= CHUNK_START;
        }
        if block + 1 == blocks {
            flags |= CHUNK_END;
            if root {
                flags |= ROOT;
            }
        }
        let m = if block_len == BLOCK_LEN { R::full_block(msgs, ahead, offset) } else { load_block(msgs, offset, block_len) };
        cv = compress(&cv, &m, counter, block_len as u32, flags);
    }
    cv
}

/// The parent node of two chaining values, every lane.
#[inline(always)]
fn parent_cv<const N: usize>(key: &Cv<N>, left: &Cv<N>, right: &Cv<N>, root: bool) -> Cv<N> {
    let mut m = [[0u32; N]; 16];
    for (dst, src) in m.iter_mut().zip(left.iter().chain(right)) {
        *dst = *src;
    }
    compress(key, &m, 0, BLOCK_LEN as u32, KEYED_HASH | PARENT | if root { ROOT } else { 0 })
}

/// How a path reads a full 64-byte block of every lane into word vectors (the transpose of `N` rows of 16
/// words into 16 words of `N` lanes).
trait Rows<const N: usize> {
    /// The words of the block at `offset` of every lane; every message has 64 bytes there. `ahead` are the
    /// messages of the next batch, which a path may prefetch at the same offset.
    fn full_block(msgs: &[&[u8]; N], ahead: &[&[u8]; N], offset: usize) -> [Word<N>; 16];
}

/// Word by word ([`load_block`]): the baseline path.
struct ScalarRows;

impl<const N: usize> Rows<N> for ScalarRows {
    #[inline(always)]
    fn full_block(msgs: &[&[u8]; N], _ahead: &[&[u8]; N], offset: usize) -> [Word<N>; 16] {
        load_block(msgs, offset, BLOCK_LEN)
    }
}

/// 16 rows loaded as 512-bit vectors and transposed with 64 shuffles.
struct Avx512Rows<const PREFETCH: bool>;

impl<const PREFETCH: bool> Rows<16> for Avx512Rows<PREFETCH> {
    #[inline(always)]
    fn full_block(msgs: &[&[u8]; 16], ahead: &[&[u8]; 16], offset: usize) -> [Word<16>; 16] {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f") {
                // SAFETY: the CPU has AVX-512F (checked on the line above), all `transpose_avx512` requires.
                #[allow(unsafe_code)]
                return unsafe { x86::transpose_avx512::<PREFETCH>(msgs, ahead, offset) };
            }
        }
        load_block(msgs, offset, BLOCK_LEN)
    }
}

/// 8 rows loaded as 256-bit vectors and transposed with 24 shuffles.
struct Avx2Rows;

impl Rows<16> for Avx2Rows {
    #[inline(always)]
    fn full_block(msgs: &[&[u8]; 16], _ahead: &[&[u8]; 16], offset: usize) -> [Word<16>; 16] {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            let (low, high) = msgs.split_at(8);
            if let (Ok(low), Ok(high)) = (<&[&[u8]; 8]>::try_from(low), <&[&[u8]; 8]>::try_from(high)) {
                // SAFETY: the CPU has AVX2 (checked above), all `transpose_avx2` requires.
                #[allow(unsafe_code)]
                let (low, high) = unsafe { (x86::transpose_avx2(low, offset), x86::transpose_avx2(high, offset)) };
                let mut m = [[0u32; 16]; 16];
                for ((word, l), h) in m.iter_mut().zip(low).zip(high) {
                    let (a, b) = word.split_at_mut(8);
                    a.copy_from_slice(&l);
                    b.copy_from_slice(&h);
                }
                return m;
            }
        }
        load_block(msgs, offset, BLOCK_LEN)
    }
}

/// The message words of the `len`-byte block at `offset` of every lane, zero-padded to 64 bytes.
#[inline(always)]
fn load_block<const N: usize>(msgs: &[&[u8]; N], offset: usize, len: usize) -> [Word<N>; 16] {
    let mut m = [[0u32; N]; 16];
    for (lane, msg) in msgs.iter().enumerate() {
        let src = msg.get(offset..offset + len).unwrap_or(&[]);
        if src.len() == BLOCK_LEN {
            for (j, w) in src.chunks_exact(4).enumerate() {
                m[j][lane] = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
            }
        } else {
            let mut padded = [0u8; BLOCK_LEN];
            for (dst, b) in padded.iter_mut().zip(src) {
                *dst = *b;
            }
            for (j, w) in padded.chunks_exact(4).enumerate() {
                m[j][lane] = u32::from_le_bytes([w[0], w[1], w[2], w[3]]);
            }
        }
    }
    m
}

/// BLAKE3's compression function in every lane, returning the new chaining value (the first 8 output
/// words, which are also a root's hash). The state is 16 separate words and the 7 rounds are unrolled
/// (each with its message schedule as constants), so the compiler keeps the state in vector registers.
#[inline(always)]
fn compress<const N: usize>(cv: &Cv<N>, m: &[Word<N>; 16], counter: u64, block_len: u32, flags: u32) -> Cv<N> {
    #[allow(clippy::cast_possible_truncation)] // the counter's low and high words
    let (lo, hi) = (counter as u32, (counter >> 32) as u32);
    let [mut v0, mut v1, mut v2, mut v3, mut v4, mut v5, mut v6, mut v7] = *cv;
    let (mut v8, mut v9, mut v10, mut v11) = ([IV[0]; N], [IV[1]; N], [IV[2]; N], [IV[3]; N]);
    let (mut v12, mut v13, mut v14, mut v15) = ([lo; N], [hi; N], [block_len; N], [flags; N]);
    macro_rules! round {
        ($r:expr) => {
            g(&mut v0, &mut v4, &mut v8, &mut v12, &m[SCHEDULE[$r][0]], &m[SCHEDULE[$r][1]]);
            g(&mut v1, &mut v5, &mut v9, &mut v13, &m[SCHEDULE[$r][2]], &m[SCHEDULE[$r][3]]);
            g(&mut v2, &mut v6, &mut v10, &mut v14, &m[SCHEDULE[$r][4]], &m[SCHEDULE[$r][5]]);
            g(&mut v3, &mut v7, &mut v11, &mut v15, &m[SCHEDULE[$r][6]], &m[SCHEDULE[$r][7]]);
            g(&mut v0, &mut v5, &mut v10, &mut v15, &m[SCHEDULE[$r][8]], &m[SCHEDULE[$r][9]]);
            g(&mut v1, &mut v6, &mut v11, &mut v12, &m[SCHEDULE[$r][10]], &m[SCHEDULE[$r][11]]);
            g(&mut v2, &mut v7, &mut v8, &mut v13, &m[SCHEDULE[$r][12]], &m[SCHEDULE[$r][13]]);
            g(&mut v3, &mut v4, &mut v9, &mut v14, &m[SCHEDULE[$r][14]], &m[SCHEDULE[$r][15]]);
        };
    }
    round!(0);
    round!(1);
    round!(2);
    round!(3);
    round!(4);
    round!(5);
    round!(6);
    [xor(&v0, &v8), xor(&v1, &v9), xor(&v2, &v10), xor(&v3, &v11), xor(&v4, &v12), xor(&v5, &v13), xor(&v6, &v14), xor(&v7, &v15)]
}

/// `a ^ b` in every lane.
#[inline(always)]
fn xor<const N: usize>(a: &Word<N>, b: &Word<N>) -> Word<N> {
    let mut out = *a;
    for (o, b) in out.iter_mut().zip(b) {
        *o ^= b;
    }
    out
}

/// BLAKE3's G function on state words `a, b, c, d` with message words `x, y`, every lane.
#[inline(always)]
fn g<const N: usize>(a: &mut Word<N>, b: &mut Word<N>, c: &mut Word<N>, d: &mut Word<N>, x: &Word<N>, y: &Word<N>) {
    for l in 0..N {
        a[l] = a[l].wrapping_add(b[l]).wrapping_add(x[l]);
        d[l] = (d[l] ^ a[l]).rotate_right(16);
        c[l] = c[l].wrapping_add(d[l]);
        b[l] = (b[l] ^ c[l]).rotate_right(12);
        a[l] = a[l].wrapping_add(b[l]).wrapping_add(y[l]);
        d[l] = (d[l] ^ a[l]).rotate_right(8);
        c[l] = c[l].wrapping_add(d[l]);
        b[l] = (b[l] ^ c[l]).rotate_right(7);
    }
}

/// The transposes with `std::arch` intrinsics: each lane's 64-byte block is one row (a vector load, the
/// bounds checked first), and the shuffles turn rows into the block's 16 words of every lane.
#[cfg(target_arch = "x86_64")]
#[allow(unsafe_code)]
mod x86 {
    use super::{load_block, Word, BLOCK_LEN};
    use std::arch::x86_64::*;

    /// The 16 lanes' blocks at `offset`, transposed (the scalar load when a lane lacks 64 bytes there).
    #[target_feature(enable = "avx512f")]
    #[inline]
    pub(super) fn transpose_avx512<const PREFETCH: bool>(msgs: &[&[u8]; 16], ahead: &[&[u8]; 16], offset: usize) -> [Word<16>; 16] {
        let end = offset.saturating_add(BLOCK_LEN);
        if msgs.iter().any(|m| m.len() < end) {
            return load_block(msgs, offset, BLOCK_LEN);
        }
        // The next batch's block at this offset, into L2: by the time that batch runs, all of its 16
        // messages are there (a prefetch never faults, and the address is only computed, with
        // `wrapping_add`, never dereferenced here).
        if PREFETCH {
            for msg in ahead {
                _mm_prefetch::<_MM_HINT_T1>(msg.as_ptr().wrapping_add(offset).cast());
            }
        }
        // SAFETY: every lane has 64 bytes at `offset` (checked above); unaligned loads.
        let r: [__m512i; 16] = core::array::from_fn(|l| unsafe { _mm512_loadu_si512(msgs[l].as_ptr().add(offset).cast()) });
        // Rows 2i and 2i+1 interleaved by words, then by word pairs: u[4g + k] holds, in its 128-bit lane q,
        // word k + 4q of rows 4g..4g+3.
        let mut t = [_mm512_setzero_si512(); 16];
        for i in 0..8 {
            t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
            t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
        }
        let mut u = [_mm512_setzero_si512(); 16];
        for g in 0..4 {
            let (a, b, c, d) = (t[4 * g], t[4 * g + 1], t[4 * g + 2], t[4 * g + 3]);
            u[4 * g] = _mm512_unpacklo_epi64(a, c);
            u[4 * g + 1] = _mm512_unpackhi_epi64(a, c);
            u[4 * g + 2] = _mm512_unpacklo_epi64(b, d);
            u[4 * g + 3] = _mm512_unpackhi_epi64(b, d);
        }
        // Then the 128-bit lanes: word k + 4q of all 16 rows is lane q of u[k], u[4 + k], u[8 + k], u[12 + k].
        let mut m = [[0u32; 16]; 16];
        for k in 0..4 {
            let x0 = _mm512_shuffle_i32x4::<0b01_00_01_00>(u[k], u[4 + k]);
            let x1 = _mm512_shuffle_i32x4::<0b11_10_11_10>(u[k], u[4 + k]);
            let y0 = _mm512_shuffle_i32x4::<0b01_00_01_00>(u[8 + k], u[12 + k]);
            let y1 = _mm512_shuffle_i32x4::<0b11_10_11_10>(u[8 + k], u[12 + k]);
            let cols = [
                _mm512_shuffle_i32x4::<0b10_00_10_00>(x0, y0),
                _mm512_shuffle_i32x4::<0b11_01_11_01>(x0, y0),
                _mm512_shuffle_i32x4::<0b10_00_10_00>(x1, y1),
                _mm512_shuffle_i32x4::<0b11_01_11_01>(x1, y1),
            ];
            for (q, col) in cols.into_iter().enumerate() {
                // SAFETY: `m[k + 4q]` is 64 writable bytes; unaligned store.
                unsafe { _mm512_storeu_si512(m[k + 4 * q].as_mut_ptr().cast(), col) };
            }
        }
        m
    }

    /// The 8 lanes' blocks at `offset`, transposed (the scalar load when a lane lacks 64 bytes there).
    #[target_feature(enable = "avx2")]
    #[inline]
    pub(super) fn transpose_avx2(msgs: &[&[u8]; 8], offset: usize) -> [Word<8>; 16] {
        let end = offset.saturating_add(BLOCK_LEN);
        if msgs.iter().any(|m| m.len() < end) {
            return load_block(msgs, offset, BLOCK_LEN);
        }
        let mut m = [[0u32; 8]; 16];
        // The block's two halves (words 0..8 and 8..16) in turn: 8 rows of 8 words each.
        for half in 0..2 {
            // SAFETY: every lane has 64 bytes at `offset` (checked above); unaligned loads within them.
            let r: [__m256i; 8] = core::array::from_fn(|l| unsafe { _mm256_loadu_si256(msgs[l].as_ptr().add(offset + 32 * half).cast()) });
            let mut t = [_mm256_setzero_si256(); 8];
            for i in 0..4 {
                t[2 * i] = _mm256_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
                t[2 * i + 1] = _mm256_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
            }
            let mut u = [_mm256_setzero_si256(); 8];
            for g in 0..2 {
                let (a, b, c, d) = (t[4 * g], t[4 * g + 1], t[4 * g + 2], t[4 * g + 3]);
                u[4 * g] = _mm256_unpacklo_epi64(a, c);
                u[4 * g + 1] = _mm256_unpackhi_epi64(a, c);
                u[4 * g + 2] = _mm256_unpacklo_epi64(b, d);
                u[4 * g + 3] = _mm256_unpackhi_epi64(b, d);
            }
            for k in 0..4 {
                let cols = [_mm256_permute2x128_si256::<0x20>(u[k], u[4 + k]), _mm256_permute2x128_si256::<0x31>(u[k], u[4 + k])];
                for (q, col) in cols.into_iter().enumerate() {
                    // SAFETY: `m[8 * half + k + 4q]` is 32 writable bytes; unaligned store.
                    unsafe { _mm256_storeu_si256(m[8 * half + k + 4 * q].as_mut_ptr().cast(), col) };
                }
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(len: usize, seed: u8) -> Vec<u8> {
        (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed).rotate_left(3)).collect()
    }

    #[test]
    fn every_length_and_path_is_blake3() {
        let key = *blake3::hash(b"lanes test key").as_bytes();
        let lengths = (0..=130).chain([255, 256, 1023, 1024, 1025, 2047, 2048, 2049, 2304, 3072, 3073, 4096, 5121, 9 * 1024 + 7]);
        for len in lengths {
            // 19 messages: one full 16-lane batch and a partial one (and 2 full batches of 8, 4 of 4...).
            let owned: Vec<Vec<u8>> = (0..19).map(|s| bytes(len, s)).collect();
            let messages: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
            let want: Vec<Hash> = messages.iter().map(|m| *blake3::keyed_hash(&key, m).as_bytes()).collect();
            for simd in Simd::available() {
                for prefetch in [Prefetch::No, Prefetch::Ahead] {
                    assert_eq!(keyed_hashes_on(simd, prefetch, &key, &messages), want, "length {len}, {simd:?}, {prefetch:?}");
                }
            }
        }
    }

    #[test]
    fn mixed_lengths_keep_their_order() {
        let key = [7u8; 32];
        let owned: Vec<Vec<u8>> = [2304, 2304, 2304, 100, 2304, 2304, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 0]
            .iter()
            .enumerate()
            .map(|(i, &len)| bytes(len, i as u8))
            .collect();
        let messages: Vec<&[u8]> = owned.iter().map(Vec::as_slice).collect();
        let want: Vec<Hash> = messages.iter().map(|m| *blake3::keyed_hash(&key, m).as_bytes()).collect();
        for simd in Simd::available() {
            for prefetch in [Prefetch::No, Prefetch::Ahead] {
                assert_eq!(keyed_hashes_on(simd, prefetch, &key, &messages), want, "{simd:?}, {prefetch:?}");
            }
        }
        assert!(keyed_hashes(&key, &[]).is_empty());
    }

    #[test]
    fn node_hashes_are_merkle_node_hashes() {
        let level: Vec<Hash> = (0..2100u16).map(|i| *blake3::hash(&i.to_le_bytes()).as_bytes()).collect();
        let want: Vec<Hash> = level.chunks_exact(2).map(|p| pogo_primitives::merkle::node_hash(&p[0], &p[1])).collect();
        let mut out = vec![[0u8; 32]; want.len()];
        node_hashes(&level, &mut out);
        assert_eq!(out, want);
    }
}
