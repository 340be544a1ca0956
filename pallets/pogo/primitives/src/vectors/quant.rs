//! Part `codec`: the 4-bit block codec: quantizing (ties to even, signed zeros, subnormals, clamping,
//! zero blocks, odd lengths, refusals), decoding every canonical and non-canonical form, encoded lengths
//! and the rounding primitive.

use super::{
    json::{err, f32s, get_bytes, get_f32, get_f32s, get_usize, hex, u64v, SplitMix},
    Cases,
};
use crate::quant::{decode, dequantize, encoded_len, quantize, round_half_even};
use serde_json::{json, Value};

/// The part's description in its file.
pub(super) const DESCRIPTION: &str = "The 4-bit codec (protocol.md section 6, quant.rs). Kind quantize: input \
values (f32 bits) and block (elements per block); expected bytes (the encoding), blocks (each block's scale \
as f32 bits and its codes) and dequantized (code * scale as f32 bits), or an error. Kind decode: input \
bytes, n (elements) and block; expected blocks and dequantized, or an error (NonCanonical, WrongLength, \
ZeroBlockSize). Kind encoded_len: input n and block; expected len (null when the block is 0 or the \
length overflows a 64-bit usize). Kind round_half_even: input value (f32 bits); expected result (f32 \
bits) of (value + 1.5 * 2^23) - 1.5 * 2^23.";

/// An f32 from its bits.
fn b(bits: u32) -> f32 {
    f32::from_bits(bits)
}

/// The part's cases.
pub(super) fn cases() -> Cases {
    let mut out = Cases::default();
    quantize_cases(&mut out);
    decode_cases(&mut out);
    for (n, block) in [
        (64u64, 64u64),
        (65, 64),
        (4096, 64),
        (3, 0),
        (0, 4),
        (1, 1),
        (5, 4),
        (7, 3),
        (u64::MAX, 2),
        (u64::MAX, u64::MAX),
    ] {
        out.add(format!("encoded_len({n}, {block})"), "encoded_len", json!({ "n": u64v(n), "block": u64v(block) }));
    }
    let tie = |x: f32, up: bool| if up { b(x.to_bits() + 1) } else { b(x.to_bits() - 1) };
    for v in [
        0.0f32,
        -0.0,
        0.5,
        1.5,
        2.5,
        -0.5,
        -1.5,
        -2.5,
        6.5,
        7.5,
        tie(0.5, false),
        tie(3.5, false),
        tie(2.5, true),
        4_194_303.5,
        -4_194_303.5,
        1e-30,
    ] {
        out.add(format!("round_half_even({v:?})"), "round_half_even", json!({ "value": v.to_bits() }));
    }
    out
}

/// Quantizing, including every refusal.
fn quantize_cases(out: &mut Cases) {
    let mut add = |name: &str, values: &[f32], block: usize| {
        out.add(format!("quantize: {name}"), "quantize", json!({ "values": f32s(values), "block": block }));
    };
    add("layout: 1 -2 7 -7 3 in a block of 8", &[1.0, -2.0, 7.0, -7.0, 3.0], 8);
    add("ties to even at scale 1", &[7.0, 2.5, 3.5, -0.5, 0.5, 1.5, -2.5, -1.5], 8);
    add(
        "one ulp either side of a tie",
        &[7.0, b(2.5f32.to_bits() - 1), b(2.5f32.to_bits() + 1), b(0.5f32.to_bits() - 1)],
        4,
    );
    add("all-zero block with -0.0: scale +0.0", &[0.0, -0.0, 0.0], 2);
    add("-0.0 in a non-zero block", &[-0.0, 7.0, -7.0, 0.0], 4);
    add("all-zero block between non-zero blocks", &[1.0, 2.0, 3.0, 4.0, 0.0, 0.0, -0.0, 0.0, -5.0, 6.0, -7.0, 8.0], 4);
    add("odd length: last block of one", &[1.0, -1.0, 0.5, 0.25, 3.0], 4);
    add("odd length: last block of three", &[1.0, -1.0, 0.5, 0.25, 3.0, -0.75, 0.125], 4);
    add("odd block size 3", &[1.0, -1.0, 0.5, 0.25, 3.0, -0.75, 0.125], 3);
    add("smallest subnormals: the scale rounds to 0", &[b(1), b(0x8000_0001)], 2);
    add("subnormal block: 10/7 rounds to 1, codes clamp to 7", &[b(10), b(0x8000_000a), b(3), b(0)], 4);
    add("subnormal block: 17/7 rounds to 2, 8.5 to 8, clamped", &[b(17), b(13), b(5)], 4);
    add("smallest normal magnitude", &[f32::MIN_POSITIVE, -f32::MIN_POSITIVE, b(0x0040_0000), 0.0], 4);
    add("largest finite values", &[f32::MAX, -f32::MAX, 1.0, f32::MAX / 2.0], 4);
    add("empty input", &[], 4);
    add("block larger than the input", &SplitMix::new(0x636f_6465).units(20, 0.5), 64);
    add("150 values in blocks of 64", &SplitMix::new(0x636f_6466).units(150, 3.0), 64);
    add("NaN at index 5", &[0.0, 1.0, 2.0, 3.0, 4.0, f32::NAN, f32::INFINITY], 4);
    add("infinity at index 0", &[f32::INFINITY, 1.0], 4);
    add("-infinity at index 2", &[1.0, 2.0, f32::NEG_INFINITY], 4);
    add("block size 0", &[1.0], 0);
    add("block size 0 is refused before non-finite values", &[f32::NAN], 0);
}

/// `bytes` with the scale of the block at byte `at` replaced.
fn with_scale(bytes: &[u8], at: usize, bits: u32) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at..at + 4].copy_from_slice(&bits.to_le_bytes());
    out
}

/// `bytes` with byte `at` replaced.
fn with_byte(bytes: &[u8], at: usize, byte: u8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] = byte;
    out
}

/// Decoding, including every non-canonical form.
fn decode_cases(out: &mut Cases) {
    let mut add = |name: &str, bytes: &[u8], n: usize, block: usize| {
        out.add(format!("decode: {name}"), "decode", json!({ "bytes": hex(bytes), "n": n, "block": block }));
    };
    // 7, -3, 1 in a block of 4: scale 1.0, codes bytes 0xd7 0x01 (padding nibble 0).
    let good = quantize(&[7.0, -3.0, 1.0], 4).expect("finite");
    add("canonical: 7 -3 1", &good, 3, 4);
    add("nibble 0b1000 in a low nibble", &with_byte(&good, 4, (good[4] & 0xf0) | 0x08), 3, 4);
    add("nibble 0b1000 in a high nibble", &with_byte(&good, 4, (good[4] & 0x0f) | 0x80), 3, 4);
    add("non-zero padding nibble", &with_byte(&good, 5, good[5] | 0x10), 3, 4);
    add("0b1000 in the padding nibble", &with_byte(&good, 5, good[5] | 0x80), 3, 4);
    add("negative scale", &with_scale(&good, 0, (-1.0f32).to_bits()), 3, 4);
    add("-0.0 scale with non-zero codes", &with_scale(&good, 0, 0x8000_0000), 3, 4);
    add("-0.0 scale with zero codes", &[0, 0, 0, 0x80, 0, 0], 3, 4);
    add("smallest negative subnormal scale", &with_scale(&good, 0, 0x8000_0001), 3, 4);
    add("NaN scale", &with_scale(&good, 0, 0x7fc0_0000), 3, 4);
    add("+infinity scale", &with_scale(&good, 0, f32::INFINITY.to_bits()), 3, 4);
    add("-infinity scale", &with_scale(&good, 0, f32::NEG_INFINITY.to_bits()), 3, 4);
    add("zero scale with a non-zero code", &[0, 0, 0, 0, 0x01, 0x00], 3, 4);
    add("zero scale with zero codes", &[0, 0, 0, 0, 0, 0], 3, 4);
    add("scale f32::MAX with codes 7 and -7: dequantizes to +-infinity", &[0xff, 0xff, 0x7f, 0x7f, 0x97], 2, 2);
    add("smallest subnormal scale with codes 7 and -7", &[0x01, 0, 0, 0, 0x97], 2, 2);
    let two = quantize(&[1.0, 2.0, 3.0, 4.0, -4.0, -3.0, -2.0, -1.0], 4).expect("finite");
    add("two blocks", &two, 8, 4);
    add("second block non-canonical", &with_byte(&two, 10, (two[10] & 0xf0) | 0x08), 8, 4);
    add("second block with a negative scale", &with_scale(&two, 6, (-1.0f32).to_bits()), 8, 4);
    let odd = quantize(&[1.0, -1.0, 0.5, 0.25, 3.0, -0.75, 0.125], 3).expect("finite");
    add("odd block size 3", &odd, 7, 3);
    add("one byte short", &good[..good.len() - 1], 3, 4);
    let mut long = good.clone();
    long.push(0);
    add("one byte too many", &long, 3, 4);
    add("element count 5 for an encoding of 3", &good, 5, 4);
    add("block size 0", &good, 3, 0);
    add("no elements, no bytes", &[], 0, 4);
    add("no elements, four bytes", &[0, 0, 0, 0], 0, 4);
}

/// The decoded blocks and values of an encoding, or the decoding error.
fn decoded(bytes: &[u8], n: usize, block: usize) -> Value {
    let blocks = match decode(bytes, n, block) {
        Ok(blocks) => blocks,
        Err(e) => return err(e),
    };
    let values = match dequantize(bytes, n, block) {
        Ok(values) => values,
        Err(e) => return err(e),
    };
    let blocks: Vec<Value> =
        blocks.iter().map(|blk| json!({ "scale": blk.scale.to_bits(), "codes": blk.codes })).collect();
    json!({ "blocks": blocks, "dequantized": f32s(&values) })
}

/// Evaluates one case.
pub(super) fn eval(kind: &str, input: &Value) -> Result<Value, String> {
    match kind {
        "quantize" => {
            let values = get_f32s(input, "values")?;
            let block = get_usize(input, "block")?;
            let bytes = match quantize(&values, block) {
                Ok(bytes) => bytes,
                Err(e) => return Ok(err(e)),
            };
            if encoded_len(values.len(), block) != Some(bytes.len()) {
                return Err("encoded_len disagrees with quantize".into());
            }
            let mut doc = decoded(&bytes, values.len(), block);
            if doc.get("error").is_some() {
                return Err(format!("quantize produced an encoding that does not decode: {doc}"));
            }
            doc["bytes"] = Value::from(hex(&bytes));
            Ok(doc)
        },
        "decode" => Ok(decoded(&get_bytes(input, "bytes")?, get_usize(input, "n")?, get_usize(input, "block")?)),
        "encoded_len" => {
            let len = encoded_len(get_usize(input, "n")?, get_usize(input, "block")?);
            Ok(json!({ "len": len.map(|l| u64v(l as u64)) }))
        },
        "round_half_even" => Ok(json!({ "result": round_half_even(get_f32(input, "value")?).to_bits() })),
        other => Err(format!("unknown kind {other:?}")),
    }
}
