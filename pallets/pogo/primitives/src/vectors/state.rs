//! Part `state`: training specs (SCALE bytes, validation, leaf layout, checkpoints and segments), state
//! leaves and state roots.

use super::{
    json::{
        adamw, decode_all, err, f32_list, f32s, field, get_array, get_bytes, get_f32s, get_usize, hex, hexes, momentum,
        parse_spec, sgd, spec_json, spec_with, u64v, SplitMix,
    },
    Cases,
};
use crate::{
    hash::Hash,
    merkle::leaf_hash,
    spec::{LrSchedule, TrainingSpec, UpdateRule, MAX_PARAM_COUNT},
    state::{encode_values, leaf_bytes, state_tree, StateLeaf},
};
use codec::{Encode, MaxEncodedLen};
use serde_json::{json, Value};

/// The part's description in its file.
pub(super) const DESCRIPTION: &str = "Training specs and state leaves (protocol.md section 4, spec.rs, \
state.rs). Kind spec: input spec (the fields of TrainingSpec; f32 fields as bits); expected its SCALE \
encoding (scale), max_encoded_len and error (null when valid); for a valid spec also leaf_count, leaves \
(for leaf indices 0, 1, leaf_count - 1 and leaf_count: start, n, state_leaf_len, gradient_leaf_len, or \
start null past the end), checkpoint_steps (the 0-based steps that commit a state root, at most 64), \
segment_count and segments ([first, end) of segments 0..=segment_count, at most 65, null past the end). \
Kind state_tree: input spec, weights and one value list per optimizer slot (f32 bits, param_count each); \
expected the leaves' bytes (weights then each slot, f32 little-endian), leaf_hashes and root, or an \
error. Kind leaf_decode: input bytes, n (parameters) and slots; expected the values (f32 bits) and the \
leaf hash, or an error.";

/// `base` changed by `f`.
fn with(base: TrainingSpec, f: impl FnOnce(&mut TrainingSpec)) -> TrainingSpec {
    let mut s = base;
    f(&mut s);
    s
}

/// The part's cases.
pub(super) fn cases() -> Cases {
    let mut out = Cases::default();
    spec_cases(&mut out);
    state_cases(&mut out);
    leaf_cases(&mut out);
    out
}

/// Valid specs and one per way a spec is refused.
fn spec_cases(out: &mut Cases) {
    let mut add = |name: &str, s: TrainingSpec| out.add(name, "spec", json!({ "spec": spec_json(&s) }));
    let base = spec_with(adamw(), 1000, 256, 64);
    let f = |x: f32| x.to_bits();
    add("AdamW, 1000 parameters in leaves of 256, blocks of 64", base);
    add("SGD, 10 parameters in leaves of 4, blocks of 2", spec_with(sgd(), 10, 4, 2));
    add("momentum, 10 parameters in leaves of 4, blocks of 2", spec_with(momentum(), 10, 4, 2));
    add("exactly MAX_PARAM_COUNT parameters", with(base, |s| s.param_count = MAX_PARAM_COUNT));
    add(
        "leaf size MAX_LEAF_SIZE, block 4096",
        with(base, |s| {
            s.leaf_size = 65_536;
            s.codec_block = 4096;
        }),
    );
    add("one segment: checkpoint interval = steps", with(base, |s| s.checkpoint_interval = 10));
    add(
        "warm-up cosine schedule",
        with(base, |s| {
            s.schedule =
                LrSchedule::WarmupCosine { peak_lr: f(1e-3), min_lr: f(1e-5), warmup_steps: 10, total_steps: 110 }
        }),
    );
    add(
        "momentum -0.0 is in [0, 1)",
        with(base, |s| s.rule = UpdateRule::Momentum { momentum: f(-0.0), weight_decay: 0 }),
    );
    add("clipping disabled (0.0)", with(base, |s| s.max_grad_norm = 0));
    add("no parameters", with(base, |s| s.param_count = 0));
    add("MAX_PARAM_COUNT + 1 parameters", with(base, |s| s.param_count = MAX_PARAM_COUNT + 1));
    add("leaf size 0", with(base, |s| s.leaf_size = 0));
    add("leaf size above MAX_LEAF_SIZE", with(base, |s| s.leaf_size = 65_536 * 2));
    add("codec block 0", with(base, |s| s.codec_block = 0));
    add("odd codec block 63", with(base, |s| s.codec_block = 63));
    add("codec block 48 does not divide 256", with(base, |s| s.codec_block = 48));
    add(
        "codec block above MAX_CODEC_BLOCK",
        with(base, |s| {
            s.leaf_size = 8192;
            s.codec_block = 8192;
        }),
    );
    add("momentum 1.0", with(base, |s| s.rule = UpdateRule::Momentum { momentum: f(1.0), weight_decay: 0 }));
    add("SGD weight decay NaN", with(base, |s| s.rule = UpdateRule::Sgd { weight_decay: f(f32::NAN) }));
    add("SGD negative weight decay", with(base, |s| s.rule = UpdateRule::Sgd { weight_decay: f(-1e-4) }));
    add(
        "AdamW epsilon 0",
        with(base, |s| s.rule = UpdateRule::AdamW { beta1: f(0.9), beta2: f(0.999), epsilon: 0, weight_decay: 0 }),
    );
    add(
        "AdamW beta2 -0.5",
        with(base, |s| s.rule = UpdateRule::AdamW { beta1: f(0.9), beta2: f(-0.5), epsilon: f(1e-8), weight_decay: 0 }),
    );
    add("infinite learning rate", with(base, |s| s.schedule = LrSchedule::Constant { lr: f(f32::INFINITY) }));
    add(
        "warm-up as long as the schedule",
        with(base, |s| {
            s.schedule =
                LrSchedule::WarmupCosine { peak_lr: f(1e-3), min_lr: f(1e-5), warmup_steps: 10, total_steps: 10 }
        }),
    );
    add(
        "minimum learning rate above the peak",
        with(base, |s| {
            s.schedule =
                LrSchedule::WarmupCosine { peak_lr: f(1e-5), min_lr: f(1e-3), warmup_steps: 10, total_steps: 110 }
        }),
    );
    add("negative clipping limit", with(base, |s| s.max_grad_norm = f(-1.0)));
    add("NaN clipping limit", with(base, |s| s.max_grad_norm = f(f32::NAN)));
    add("infinite clipping limit", with(base, |s| s.max_grad_norm = f(f32::INFINITY)));
    add("zero steps per round", with(base, |s| s.steps_per_round = 0));
    add("checkpoint interval 0", with(base, |s| s.checkpoint_interval = 0));
    add("checkpoint interval 11 above 10 steps", with(base, |s| s.checkpoint_interval = 11));
    add("MAX_STEPS_PER_ROUND + 1 steps", with(base, |s| s.steps_per_round = (1 << 20) + 1));
    add("batch size 0", with(base, |s| s.batch_size = 0));
    add("batch larger than the training split", with(base, |s| s.batch_size = 1001));
    add(
        "batch above MAX_BATCH_SIZE",
        with(base, |s| {
            s.batch_size = (1 << 20) + 1;
            s.train_examples = 1 << 21;
        }),
    );
    add("empty evaluation split", with(base, |s| s.eval_examples = 0));
    add("training split above MAX_EXAMPLES", with(base, |s| s.train_examples = (1 << 40) + 1));
}

/// Whole states for each optimizer, and refused ones.
fn state_cases(out: &mut Cases) {
    let input = |s: &TrainingSpec, weights: &[f32], slots: &[Vec<f32>]| {
        let slots: Vec<Value> = slots.iter().map(|x| f32s(x.as_slice())).collect();
        json!({ "spec": spec_json(s), "weights": f32s(weights), "slots": slots })
    };
    let mut rng = SplitMix::new(0x73_7461_7465);
    for (name, rule) in [("SGD", sgd()), ("momentum", momentum()), ("AdamW", adamw())] {
        let s = spec_with(rule, 10, 4, 2);
        let weights = rng.units(10, 1.0);
        let slots: Vec<Vec<f32>> = (0..rule.slots()).map(|k| rng.units(10, 0.01 / (k + 1) as f32)).collect();
        out.add(format!("{name}: 10 parameters in leaves of 4"), "state_tree", input(&s, &weights, &slots));
    }
    let s = spec_with(adamw(), 10, 4, 2);
    let weights = rng.units(10, 1.0);
    let slots = [rng.units(10, 0.01), rng.units(10, 0.001)];
    let mut special = weights.clone();
    special[1] = -0.0;
    special[2] = f32::from_bits(1);
    special[3] = f32::MAX;
    out.add("signed zero, subnormal and f32::MAX weights", "state_tree", input(&s, &special, &slots));
    out.add("one slot for AdamW", "state_tree", input(&s, &weights, &slots[..1]));
    out.add("9 weights for 10 parameters", "state_tree", input(&s, &weights[..9], &slots));
    let mut bad = weights.clone();
    bad[6] = f32::NAN;
    out.add("NaN weight 6 (leaf 1, index 2)", "state_tree", input(&s, &bad, &slots));
    let mut bad_slots = slots.clone();
    bad_slots[1][9] = f32::INFINITY;
    out.add("infinite v of parameter 9 (leaf 2)", "state_tree", input(&s, &weights, &bad_slots));
}

/// Single leaves decoded.
fn leaf_cases(out: &mut Cases) {
    let mut add = |name: &str, values: &[f32], n: usize, slots: usize| {
        out.add(name, "leaf_decode", json!({ "bytes": hex(&encode_values(values)), "n": n, "slots": slots }));
    };
    add("two parameters with two slots", &[1.0, -2.0, 0.5, 0.25, 0.0, 3.0], 2, 2);
    add("signed zero and subnormals", &[-0.0, f32::from_bits(1), f32::from_bits(0x8000_0001)], 3, 0);
    add("empty leaf", &[], 0, 0);
    add("12 bytes for two parameters", &[1.0, 2.0, 3.0], 2, 0);
    add("infinity at index 1", &[1.0, f32::INFINITY], 2, 0);
    add("NaN at index 5", &[1.0, 2.0, 3.0, 4.0, 5.0, f32::NAN], 2, 2);
}

/// Evaluates one case.
pub(super) fn eval(kind: &str, input: &Value) -> Result<Value, String> {
    match kind {
        "spec" => spec(input),
        "state_tree" => {
            let s = parse_spec(field(input, "spec")?)?;
            let weights = get_f32s(input, "weights")?;
            let slots = get_array(input, "slots")?.iter().map(f32_list).collect::<Result<Vec<Vec<f32>>, String>>()?;
            let refs: Vec<&[f32]> = slots.iter().map(Vec::as_slice).collect();
            let tree = match state_tree(&s, &weights, &refs) {
                Ok(t) => t,
                Err(e) => return Ok(err(e)),
            };
            let mut leaves = Vec::new();
            let mut hashes: Vec<Hash> = Vec::new();
            for i in 0..tree.leaf_count() {
                let bytes = leaf_bytes(&s, &weights, &refs, i).map_err(|e| format!("leaf {i}: {e:?}"))?;
                hashes.push(leaf_hash(&bytes));
                if tree.leaf(i) != hashes.last() {
                    return Err(format!("leaf {i}: the tree's leaf hash differs"));
                }
                leaves.push(Value::from(hex(&bytes)));
            }
            Ok(json!({ "leaves": leaves, "leaf_hashes": hexes(&hashes), "root": hex(&tree.root()) }))
        },
        "leaf_decode" => {
            let bytes = get_bytes(input, "bytes")?;
            Ok(match StateLeaf::decode(&bytes, get_usize(input, "n")?, get_usize(input, "slots")?) {
                Ok(leaf) => json!({ "values": f32s(&leaf.values), "hash": hex(&leaf.hash()) }),
                Err(e) => err(e),
            })
        },
        other => Err(format!("unknown kind {other:?}")),
    }
}

/// A spec's bytes, validity and layout.
fn spec(input: &Value) -> Result<Value, String> {
    let s = parse_spec(field(input, "spec")?)?;
    let scale = s.encode();
    if decode_all::<TrainingSpec>(&scale)? != s {
        return Err("the spec does not survive a SCALE round trip".into());
    }
    let mut doc = json!({ "scale": hex(&scale), "max_encoded_len": TrainingSpec::max_encoded_len() });
    if let Err(e) = s.validate() {
        doc["error"] = Value::from(format!("{e:?}"));
        return Ok(doc);
    }
    doc["error"] = Value::Null;
    let count = s.leaf_count();
    let mut probes = vec![0, 1, count.saturating_sub(1), count];
    probes.sort_unstable();
    probes.dedup();
    let leaves: Vec<Value> = probes
        .into_iter()
        .map(|i| match s.leaf_range(i) {
            Some((start, n)) => json!({
                "index": u64v(i),
                "start": u64v(start),
                "n": n,
                "state_leaf_len": s.state_leaf_len(i),
                "gradient_leaf_len": s.gradient_leaf_len(i),
            }),
            None => json!({ "index": u64v(i), "start": null }),
        })
        .collect();
    let checkpoints: Vec<u32> = (0..s.steps_per_round).filter(|t| s.is_checkpoint(*t)).take(64).collect();
    let segments: Vec<Value> = (0..=s.segment_count())
        .take(65)
        .map(|j| s.segment_steps(j).map_or(Value::Null, |(first, end)| json!([first, end])))
        .collect();
    doc["leaf_count"] = u64v(count);
    doc["leaves"] = Value::from(leaves);
    doc["checkpoint_steps"] = Value::from(checkpoints);
    doc["segment_count"] = Value::from(s.segment_count());
    doc["segments"] = Value::from(segments);
    Ok(doc)
}
