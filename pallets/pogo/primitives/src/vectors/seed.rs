//! Part `seed`: round, challenge and verifier seeds, step batches, verifier samples, the sampler's
//! uniform draws, and sample-size bounds.

use super::{
    hash::domain,
    json::{field, get_array, get_bytes, get_hash, get_str, get_u128, get_u32, get_u64, hex, u128v, u64v, SplitMix},
    Cases,
};
use crate::{
    hash::{Domain, Hash},
    seed::{batch, challenge_seed, round_seed, verifier_samples, verifier_seed, SampleSizes, Sampler},
};
use serde_json::{json, Value};

/// The part's description in its file.
pub(super) const DESCRIPTION: &str = "Seeds and sampling (protocol.md section 9, seed.rs). Kind round_seed: \
input task_id, round, base_root, miner (bytes); expected seed. Kind batch: input round_seed, step, \
batch_size, train_examples; expected examples (ascending). Kind challenge_seed: input relay_randomness, \
submission_id; expected seed. Kind verifier_seed: input challenge_seed, verifier (bytes); expected seed. \
Kind verifier_samples: input verifier_seed, sizes {steps, leaves, eval_examples}, steps_per_round, \
leaf_count, eval_examples; expected steps, leaves, eval_examples (each ascending). Kind sampler: input \
context (a domain), seed, label (bytes) and ops, run in order on one stream H_domain(seed || label): \
next_u64, next_u128, below {n}, below_u128 {n}, distinct {k, n}; expected results, one per op (u128 \
values as decimal strings). Kind sample_sizes: input sizes, steps_per_round, leaf_count, eval_split; \
expected within (SampleSizes::is_within).";

/// Sample sizes as JSON.
fn sizes_json(s: &SampleSizes) -> Value {
    json!({ "steps": s.steps, "leaves": s.leaves, "eval_examples": s.eval_examples })
}

/// Reads [`sizes_json`].
fn parse_sizes(v: &Value) -> Result<SampleSizes, String> {
    Ok(SampleSizes {
        steps: get_u32(v, "steps")?,
        leaves: get_u32(v, "leaves")?,
        eval_examples: get_u32(v, "eval_examples")?,
    })
}

/// The part's cases.
pub(super) fn cases() -> Cases {
    let mut out = Cases::default();
    let mut rng = SplitMix::new(0x7365_6564);
    let account = rng.hash32();
    let random_root = rng.hash32();
    let long_miner = rng.bytes(300);
    let seeds: [(&str, u32, u32, Hash, &[u8]); 4] = [
        ("task 1, round 2, miner \"alice\"", 1, 2, [3; 32], b"alice"),
        ("all zero, empty miner", 0, 0, [0; 32], b""),
        ("u32::MAX task and round, 32-byte account", u32::MAX, u32::MAX, random_root, &account),
        ("300-byte miner", 7, 9, random_root, &long_miner),
    ];
    for (name, task, round, root, miner) in seeds {
        out.add(
            name,
            "round_seed",
            json!({ "task_id": task, "round": round, "base_root": hex(&root), "miner": hex(miner) }),
        );
    }
    let seed = round_seed(1, 2, &[3; 32], b"alice");
    for (step, k, n) in [
        (0u32, 8u32, 1000u64),
        (1, 8, 1000),
        (u32::MAX, 8, 1000),
        (0, 10, 10),
        (0, 12, 10),
        (0, 0, 1000),
        (0, 5, 0),
        (3, 64, 1 << 40),
        (4, 5, u64::MAX),
    ] {
        out.add(
            format!("batch of {k} of {n} at step {step}"),
            "batch",
            json!({ "round_seed": hex(&seed), "step": step, "batch_size": k, "train_examples": u64v(n) }),
        );
    }
    let randomness = rng.hash32();
    for (name, r, id) in [
        ("submission 7", [4u8; 32], 7u64),
        ("submission 0", randomness, 0),
        ("submission u64::MAX", randomness, u64::MAX),
    ] {
        out.add(name, "challenge_seed", json!({ "relay_randomness": hex(&r), "submission_id": u64v(id) }));
    }
    let challenge = challenge_seed(&[4; 32], 7);
    let verifiers: [(&str, &[u8]); 3] =
        [("verifier \"v1\"", b"v1"), ("empty verifier", b""), ("32-byte account", &account)];
    for (name, verifier) in verifiers {
        out.add(name, "verifier_seed", json!({ "challenge_seed": hex(&challenge), "verifier": hex(verifier) }));
    }
    let vseed = verifier_seed(&challenge, b"v1");
    for (name, sizes, steps, leaves, eval) in [
        (
            "2 steps, 3 leaves, 16 examples",
            SampleSizes { steps: 2, leaves: 3, eval_examples: 16 },
            10u32,
            40u64,
            500u64,
        ),
        ("everything", SampleSizes { steps: 10, leaves: 40, eval_examples: 500 }, 10, 40, 500),
        ("nothing", SampleSizes { steps: 0, leaves: 0, eval_examples: 0 }, 10, 40, 500),
        ("more than there is", SampleSizes { steps: 20, leaves: 50, eval_examples: 600 }, 10, 40, 500),
    ] {
        out.add(
            name,
            "verifier_samples",
            json!({
                "verifier_seed": hex(&vseed),
                "sizes": sizes_json(&sizes),
                "steps_per_round": steps,
                "leaf_count": u64v(leaves),
                "eval_examples": u64v(eval),
            }),
        );
    }
    sampler_cases(&mut out);
    size_cases(&mut out);
    out
}

/// One stream, many draws.
fn sampler_cases(out: &mut Cases) {
    let half = (1u64 << 63) + 1;
    let half128 = (1u128 << 127) + 1;
    let mut ops = vec![json!({ "op": "next_u64" }), json!({ "op": "next_u64" }), json!({ "op": "next_u128" })];
    for n in [6u64, 6, 6, 1, 0, u64::MAX, half, half, half, half] {
        ops.push(json!({ "op": "below", "n": u64v(n) }));
    }
    for n in [3u128, half128, half128, half128, u128::MAX, 0] {
        ops.push(json!({ "op": "below_u128", "n": u128v(n) }));
    }
    for (k, n) in [(3u64, 5u64), (0, 5), (5, 5), (7, 5), (4, half)] {
        ops.push(json!({ "op": "distinct", "k": u64v(k), "n": u64v(n) }));
    }
    out.add(
        "batch stream of seed 07..07, label \"t\"",
        "sampler",
        json!({ "context": Domain::Batch.context(), "seed": hex(&[7u8; 32]), "label": hex(b"t"), "ops": ops }),
    );
    let ops: Vec<Value> = (0..4).map(|_| json!({ "op": "distinct", "k": 2, "n": 4 })).collect();
    out.add(
        "verifier stream, label \"steps\", four draws of 2 of 4",
        "sampler",
        json!({ "context": Domain::VerifierSeed.context(), "seed": hex(&[2u8; 32]), "label": hex(b"steps"), "ops": ops }),
    );
}

/// `SampleSizes::is_within` at its bounds.
fn size_cases(out: &mut Cases) {
    let mut add = |name: &str,
                   steps: u32,
                   leaves: u32,
                   eval_examples: u32,
                   steps_per_round: u32,
                   leaf_count: u64,
                   eval_split: u64| {
        let sizes = SampleSizes { steps, leaves, eval_examples };
        out.add(
            name,
            "sample_sizes",
            json!({
                "sizes": sizes_json(&sizes),
                "steps_per_round": steps_per_round,
                "leaf_count": u64v(leaf_count),
                "eval_split": u64v(eval_split),
            }),
        );
    };
    add("typical", 2, 3, 16, 10, 40, 500);
    add("zero steps", 0, 3, 16, 10, 40, 500);
    add("every step", 10, 3, 16, 10, 40, 500);
    add("more steps than the round", 11, 3, 16, 10, 40, 500);
    add("MAX_SAMPLED_STEPS", 64, 3, 16, 1_000, 40, 500);
    add("MAX_SAMPLED_STEPS + 1", 65, 3, 16, 1_000, 40, 500);
    add("every leaf", 2, 40, 16, 10, 40, 500);
    add("more leaves than the state", 2, 41, 16, 10, 40, 500);
    add("MAX_SAMPLED_LEAVES", 2, 4096, 16, 10, 1_000_000, 500);
    add("MAX_SAMPLED_LEAVES + 1", 2, 4097, 16, 10, 1_000_000, 500);
    add("the whole eval split", 2, 3, 500, 10, 40, 500);
    add("more than the eval split", 2, 3, 501, 10, 40, 500);
    add("MAX_SAMPLED_EVAL_EXAMPLES", 2, 3, 65_536, 10, 40, 1_000_000);
    add("MAX_SAMPLED_EVAL_EXAMPLES + 1", 2, 3, 65_537, 10, 40, 1_000_000);
    add("no leaves, no examples", 1, 0, 0, 1, 0, 0);
}

/// Evaluates one case.
pub(super) fn eval(kind: &str, input: &Value) -> Result<Value, String> {
    match kind {
        "round_seed" => {
            let seed = round_seed(
                get_u32(input, "task_id")?,
                get_u32(input, "round")?,
                &get_hash(input, "base_root")?,
                &get_bytes(input, "miner")?,
            );
            Ok(json!({ "seed": hex(&seed) }))
        },
        "batch" => {
            let examples = batch(
                &get_hash(input, "round_seed")?,
                get_u32(input, "step")?,
                get_u32(input, "batch_size")?,
                get_u64(input, "train_examples")?,
            );
            Ok(json!({ "examples": examples.into_iter().map(u64v).collect::<Vec<Value>>() }))
        },
        "challenge_seed" => {
            let seed = challenge_seed(&get_hash(input, "relay_randomness")?, get_u64(input, "submission_id")?);
            Ok(json!({ "seed": hex(&seed) }))
        },
        "verifier_seed" => {
            let seed = verifier_seed(&get_hash(input, "challenge_seed")?, &get_bytes(input, "verifier")?);
            Ok(json!({ "seed": hex(&seed) }))
        },
        "verifier_samples" => {
            let s = verifier_samples(
                &get_hash(input, "verifier_seed")?,
                &parse_sizes(field(input, "sizes")?)?,
                get_u32(input, "steps_per_round")?,
                get_u64(input, "leaf_count")?,
                get_u64(input, "eval_examples")?,
            );
            Ok(json!({
                "steps": s.steps,
                "leaves": s.leaves.into_iter().map(u64v).collect::<Vec<Value>>(),
                "eval_examples": s.eval_examples.into_iter().map(u64v).collect::<Vec<Value>>(),
            }))
        },
        "sampler" => sampler(input),
        "sample_sizes" => {
            let sizes = parse_sizes(field(input, "sizes")?)?;
            let within = sizes.is_within(
                get_u32(input, "steps_per_round")?,
                get_u64(input, "leaf_count")?,
                get_u64(input, "eval_split")?,
            );
            Ok(json!({ "within": within }))
        },
        other => Err(format!("unknown kind {other:?}")),
    }
}

/// Runs a list of draws on one stream.
fn sampler(input: &Value) -> Result<Value, String> {
    let d = domain(get_str(input, "context")?)?;
    let mut stream = Sampler::new(d, &get_hash(input, "seed")?, &get_bytes(input, "label")?);
    let mut results = Vec::new();
    for op in get_array(input, "ops")? {
        let result = match get_str(op, "op")? {
            "next_u64" => u64v(stream.next_u64()),
            "next_u128" => u128v(stream.next_u128()),
            "below" => u64v(stream.below(get_u64(op, "n")?)),
            "below_u128" => u128v(stream.below_u128(get_u128(op, "n")?)),
            "distinct" => stream.distinct(get_u64(op, "k")?, get_u64(op, "n")?).into_iter().map(u64v).collect(),
            other => return Err(format!("unknown op {other:?}")),
        };
        results.push(result);
    }
    Ok(json!({ "results": results }))
}
