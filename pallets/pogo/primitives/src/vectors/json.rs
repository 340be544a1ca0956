//! Shared pieces of the vector parts: how values are written to and read from JSON (see the module
//! docs of [`super`] for the conventions), the task specs and optimizers the parts use, and the
//! deterministic input generator.

use crate::{
    hash::Hash,
    spec::{LrSchedule, StepScalars, TrainingSpec, UpdateRule},
};
use serde_json::{json, Value};
use std::fmt::{Debug, Write};

/// Largest integer written as a JSON number (2^53 − 1); larger ones are written as decimal strings.
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

// ---------------------------------------------------------------------------------------------------
// Writing.

/// Lowercase hex, no prefix.
pub(super) fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        write!(s, "{b:02x}").unwrap();
    }
    s
}

/// A list of hashes as hex strings.
pub(super) fn hexes(hashes: &[Hash]) -> Value {
    hashes.iter().map(|h| Value::from(hex(h))).collect()
}

/// A list of byte strings as hex strings.
pub(super) fn hex_list(items: &[Vec<u8>]) -> Value {
    items.iter().map(|b| Value::from(hex(b))).collect()
}

/// A `u64`: a JSON number up to 2^53 − 1, a decimal string above.
pub(super) fn u64v(x: u64) -> Value {
    if x <= MAX_SAFE_INTEGER {
        Value::from(x)
    } else {
        Value::from(x.to_string())
    }
}

/// A `u128`: always a decimal string.
pub(super) fn u128v(x: u128) -> Value {
    Value::from(x.to_string())
}

/// f32 values as their bit patterns.
pub(super) fn f32s(xs: &[f32]) -> Value {
    xs.iter().map(|x| Value::from(x.to_bits())).collect()
}

/// An f64 as the decimal string of its bit pattern.
pub(super) fn f64v(x: f64) -> Value {
    Value::from(x.to_bits().to_string())
}

/// The informative decimal form of a float (Rust's shortest round-trip `Debug`).
pub(super) fn approx<T: Debug>(x: T) -> Value {
    Value::from(format!("{x:?}"))
}

/// `{"error": "<Debug of the error>"}`.
pub(super) fn err<E: Debug>(e: E) -> Value {
    json!({ "error": format!("{e:?}") })
}

// ---------------------------------------------------------------------------------------------------
// Reading.

/// Bytes from hex (either case, no prefix).
pub(super) fn unhex(text: &str) -> Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) || !text.bytes().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("not hex bytes: {text:?}"));
    }
    text.as_bytes()
        .chunks(2)
        .map(|pair| {
            let digits = std::str::from_utf8(pair).map_err(|e| e.to_string())?;
            u8::from_str_radix(digits, 16).map_err(|e| e.to_string())
        })
        .collect()
}

/// A field of an object.
pub(super) fn field<'a>(v: &'a Value, key: &str) -> Result<&'a Value, String> {
    v.get(key).ok_or_else(|| format!("missing field {key:?}"))
}

/// A `u64` written as a number or a decimal string.
pub(super) fn as_u64(v: &Value) -> Result<u64, String> {
    match v {
        Value::Number(n) => n.as_u64().ok_or_else(|| format!("not a u64: {n}")),
        Value::String(s) => s.parse().map_err(|_| format!("not a u64: {s:?}")),
        other => Err(format!("not a u64: {other}")),
    }
}

/// A `u32`.
pub(super) fn as_u32(v: &Value) -> Result<u32, String> {
    u32::try_from(as_u64(v)?).map_err(|_| format!("not a u32: {v}"))
}

/// A `u128` written as a number or a decimal string.
pub(super) fn as_u128(v: &Value) -> Result<u128, String> {
    match v {
        Value::Number(n) => n.as_u64().map(u128::from).ok_or_else(|| format!("not a u128: {n}")),
        Value::String(s) => s.parse().map_err(|_| format!("not a u128: {s:?}")),
        other => Err(format!("not a u128: {other}")),
    }
}

/// 32 bytes from hex.
pub(super) fn as_hash(v: &Value) -> Result<Hash, String> {
    let bytes = unhex(v.as_str().ok_or_else(|| format!("not a hex string: {v}"))?)?;
    <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| format!("not 32 bytes: {v}"))
}

/// f32 values from their bit patterns.
pub(super) fn f32_list(v: &Value) -> Result<Vec<f32>, String> {
    v.as_array().ok_or_else(|| format!("not an array: {v}"))?.iter().map(|x| as_u32(x).map(f32::from_bits)).collect()
}

/// `u64` field.
pub(super) fn get_u64(v: &Value, key: &str) -> Result<u64, String> {
    as_u64(field(v, key)?).map_err(|e| format!("{key}: {e}"))
}

/// `u32` field.
pub(super) fn get_u32(v: &Value, key: &str) -> Result<u32, String> {
    as_u32(field(v, key)?).map_err(|e| format!("{key}: {e}"))
}

/// `u8` field.
pub(super) fn get_u8(v: &Value, key: &str) -> Result<u8, String> {
    u8::try_from(get_u64(v, key)?).map_err(|_| format!("{key} is not a u8"))
}

/// `usize` field.
pub(super) fn get_usize(v: &Value, key: &str) -> Result<usize, String> {
    usize::try_from(get_u64(v, key)?).map_err(|_| format!("{key} is not a usize"))
}

/// `u128` field.
pub(super) fn get_u128(v: &Value, key: &str) -> Result<u128, String> {
    as_u128(field(v, key)?).map_err(|e| format!("{key}: {e}"))
}

/// String field.
pub(super) fn get_str<'a>(v: &'a Value, key: &str) -> Result<&'a str, String> {
    field(v, key)?.as_str().ok_or_else(|| format!("{key} is not a string"))
}

/// Array field.
pub(super) fn get_array<'a>(v: &'a Value, key: &str) -> Result<&'a [Value], String> {
    field(v, key)?.as_array().map(Vec::as_slice).ok_or_else(|| format!("{key} is not an array"))
}

/// Hex bytes field.
pub(super) fn get_bytes(v: &Value, key: &str) -> Result<Vec<u8>, String> {
    unhex(get_str(v, key)?)
}

/// List of hex byte strings.
pub(super) fn get_bytes_list(v: &Value, key: &str) -> Result<Vec<Vec<u8>>, String> {
    get_array(v, key)?
        .iter()
        .map(|x| x.as_str().ok_or_else(|| format!("{key}: not a string: {x}")).and_then(unhex))
        .collect()
}

/// 32-byte hex field.
pub(super) fn get_hash(v: &Value, key: &str) -> Result<Hash, String> {
    as_hash(field(v, key)?).map_err(|e| format!("{key}: {e}"))
}

/// f32 field (bit pattern).
pub(super) fn get_f32(v: &Value, key: &str) -> Result<f32, String> {
    get_u32(v, key).map(f32::from_bits)
}

/// f32 list field (bit patterns).
pub(super) fn get_f32s(v: &Value, key: &str) -> Result<Vec<f32>, String> {
    f32_list(field(v, key)?).map_err(|e| format!("{key}: {e}"))
}

/// f64 field (bit pattern as a decimal string).
pub(super) fn get_f64(v: &Value, key: &str) -> Result<f64, String> {
    get_u64(v, key).map(f64::from_bits)
}

/// SCALE-decodes `bytes` as one `T`, refusing leftover bytes.
pub(super) fn decode_all<T: codec::Decode>(bytes: &[u8]) -> Result<T, String> {
    let mut input = bytes;
    let value = T::decode(&mut input).map_err(|e| format!("SCALE decoding failed: {e:?}"))?;
    if input.is_empty() {
        Ok(value)
    } else {
        Err(format!("SCALE decoding left {} bytes", input.len()))
    }
}

// ---------------------------------------------------------------------------------------------------
// Specs.

/// An update rule: `{"Sgd": {..}}`, `{"Momentum": {..}}` or `{"AdamW": {..}}`, hyper-parameters as f32 bits.
pub(super) fn rule_json(rule: &UpdateRule) -> Value {
    match *rule {
        UpdateRule::Sgd { weight_decay } => json!({ "Sgd": { "weight_decay": weight_decay } }),
        UpdateRule::Momentum { momentum, weight_decay } => {
            json!({ "Momentum": { "momentum": momentum, "weight_decay": weight_decay } })
        },
        UpdateRule::AdamW { beta1, beta2, epsilon, weight_decay } => json!({
            "AdamW": { "beta1": beta1, "beta2": beta2, "epsilon": epsilon, "weight_decay": weight_decay }
        }),
    }
}

/// Reads [`rule_json`].
pub(super) fn parse_rule(v: &Value) -> Result<UpdateRule, String> {
    if let Some(r) = v.get("Sgd") {
        return Ok(UpdateRule::Sgd { weight_decay: get_u32(r, "weight_decay")? });
    }
    if let Some(r) = v.get("Momentum") {
        return Ok(UpdateRule::Momentum {
            momentum: get_u32(r, "momentum")?,
            weight_decay: get_u32(r, "weight_decay")?,
        });
    }
    if let Some(r) = v.get("AdamW") {
        return Ok(UpdateRule::AdamW {
            beta1: get_u32(r, "beta1")?,
            beta2: get_u32(r, "beta2")?,
            epsilon: get_u32(r, "epsilon")?,
            weight_decay: get_u32(r, "weight_decay")?,
        });
    }
    Err(format!("unknown update rule: {v}"))
}

/// A schedule: `{"Constant": {..}}` or `{"WarmupCosine": {..}}`, rates as f32 bits.
pub(super) fn schedule_json(schedule: &LrSchedule) -> Value {
    match *schedule {
        LrSchedule::Constant { lr } => json!({ "Constant": { "lr": lr } }),
        LrSchedule::WarmupCosine { peak_lr, min_lr, warmup_steps, total_steps } => json!({
            "WarmupCosine": {
                "peak_lr": peak_lr, "min_lr": min_lr, "warmup_steps": warmup_steps, "total_steps": total_steps
            }
        }),
    }
}

/// Reads [`schedule_json`].
pub(super) fn parse_schedule(v: &Value) -> Result<LrSchedule, String> {
    if let Some(s) = v.get("Constant") {
        return Ok(LrSchedule::Constant { lr: get_u32(s, "lr")? });
    }
    if let Some(s) = v.get("WarmupCosine") {
        return Ok(LrSchedule::WarmupCosine {
            peak_lr: get_u32(s, "peak_lr")?,
            min_lr: get_u32(s, "min_lr")?,
            warmup_steps: get_u32(s, "warmup_steps")?,
            total_steps: get_u32(s, "total_steps")?,
        });
    }
    Err(format!("unknown schedule: {v}"))
}

/// Step scalars as f32 bits.
pub(super) fn scalars_json(s: &StepScalars) -> Value {
    json!({
        "learning_rate": s.learning_rate,
        "gradient_scale": s.gradient_scale,
        "bias_correction1": s.bias_correction1,
        "bias_correction2": s.bias_correction2,
    })
}

/// Reads [`scalars_json`].
pub(super) fn parse_scalars(v: &Value) -> Result<StepScalars, String> {
    Ok(StepScalars {
        learning_rate: get_u32(v, "learning_rate")?,
        gradient_scale: get_u32(v, "gradient_scale")?,
        bias_correction1: get_u32(v, "bias_correction1")?,
        bias_correction2: get_u32(v, "bias_correction2")?,
    })
}

/// A training spec, field by field (the field names of [`TrainingSpec`]).
pub(super) fn spec_json(s: &TrainingSpec) -> Value {
    json!({
        "model": hex(&s.model),
        "param_count": u64v(s.param_count),
        "leaf_size": s.leaf_size,
        "codec_block": s.codec_block,
        "rule": rule_json(&s.rule),
        "schedule": schedule_json(&s.schedule),
        "max_grad_norm": s.max_grad_norm,
        "steps_per_round": s.steps_per_round,
        "checkpoint_interval": s.checkpoint_interval,
        "batch_size": s.batch_size,
        "train_examples": u64v(s.train_examples),
        "eval_examples": u64v(s.eval_examples),
    })
}

/// Reads [`spec_json`].
pub(super) fn parse_spec(v: &Value) -> Result<TrainingSpec, String> {
    Ok(TrainingSpec {
        model: get_hash(v, "model")?,
        param_count: get_u64(v, "param_count")?,
        leaf_size: get_u32(v, "leaf_size")?,
        codec_block: get_u32(v, "codec_block")?,
        rule: parse_rule(field(v, "rule")?)?,
        schedule: parse_schedule(field(v, "schedule")?)?,
        max_grad_norm: get_u32(v, "max_grad_norm")?,
        steps_per_round: get_u32(v, "steps_per_round")?,
        checkpoint_interval: get_u32(v, "checkpoint_interval")?,
        batch_size: get_u32(v, "batch_size")?,
        train_examples: get_u64(v, "train_examples")?,
        eval_examples: get_u64(v, "eval_examples")?,
    })
}

/// Plain SGD without weight decay.
pub(super) fn sgd() -> UpdateRule {
    UpdateRule::Sgd { weight_decay: 0 }
}

/// Momentum 0.9 with weight decay 1e-4.
pub(super) fn momentum() -> UpdateRule {
    UpdateRule::Momentum { momentum: 0.9f32.to_bits(), weight_decay: 1e-4f32.to_bits() }
}

/// AdamW with β1 0.9, β2 0.999, ε 1e-8, weight decay 0.01.
pub(super) fn adamw() -> UpdateRule {
    UpdateRule::AdamW {
        beta1: 0.9f32.to_bits(),
        beta2: 0.999f32.to_bits(),
        epsilon: 1e-8f32.to_bits(),
        weight_decay: 0.01f32.to_bits(),
    }
}

/// A valid spec with the given optimizer and layout: constant learning rate 1e-3, clipping at 1.0,
/// 10 steps per round with a checkpoint every 4, batches of 8 of 1,000 training examples, 100 for
/// evaluation.
pub(super) fn spec_with(rule: UpdateRule, param_count: u64, leaf_size: u32, codec_block: u32) -> TrainingSpec {
    TrainingSpec {
        model: [0x5a; 32],
        param_count,
        leaf_size,
        codec_block,
        rule,
        schedule: LrSchedule::Constant { lr: 1e-3f32.to_bits() },
        max_grad_norm: 1.0f32.to_bits(),
        steps_per_round: 10,
        checkpoint_interval: 4,
        batch_size: 8,
        train_examples: 1000,
        eval_examples: 100,
    }
}

// ---------------------------------------------------------------------------------------------------
// Inputs.

/// splitmix64 (Vigna): the deterministic source of every "random" input of the vectors, and of the
/// pallet's fuzzer byte stream.
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator with state `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64-bit output.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Fills `buf` with successive outputs, each as 8 little-endian bytes (the last one cut short).
    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let word = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }

    /// `n` bytes (the low byte of successive outputs).
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }

    /// 32 bytes.
    pub fn hash32(&mut self) -> Hash {
        let mut h = [0u8; 32];
        for b in h.iter_mut() {
            *b = self.next_u64() as u8;
        }
        h
    }

    /// A value in `[-1, 1)` with 24 random bits.
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / 8_388_608.0 - 1.0
    }

    /// `n` values in `[-scale, scale)`.
    pub fn units(&mut self, n: usize, scale: f32) -> Vec<f32> {
        (0..n).map(|_| self.unit() * scale).collect()
    }
}
