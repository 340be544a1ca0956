//! Part `round`: step record bytes and leaf hashes, trace roots and their refusals, round commitments
//! and checkpoint segments.

use super::{
    json::{
        adamw, as_hash, err, field, get_array, get_f32, get_hash, get_u32, hex, hexes, parse_scalars, parse_spec,
        scalars_json, spec_json, spec_with, u64v, SplitMix,
    },
    Cases,
};
use crate::{
    hash::Hash,
    round::{commit, records_from, segment_start_step, trace_tree, RoundCommitment, StepRecord},
    spec::{StepScalars, TrainingSpec},
};
use codec::{Encode, MaxEncodedLen};
use serde_json::{json, Value};

/// The part's description in its file.
pub(super) const DESCRIPTION: &str = "Round commitments (protocol.md section 8, round.rs). A step record is \
{step, gradient_root, scalars (f32 bits), train_loss (f32 bits), checkpoint_root (null when absent)}. \
Kind step_record: input spec and record; expected scale (its SCALE encoding, the trace tree's leaf bytes), \
leaf_hash, well_formed (checkpoint root present exactly at checkpoint steps) and max_encoded_len. Kind \
trace: input spec, records, final_root; expected trace_root and leaf_hashes, or an error. Kind commit: \
input spec, base_root, records, eval_loss_before and eval_loss_after (f32 bits); expected the \
commitment's fields and its SCALE encoding (scale), or an error. Kind segment: input spec and segment; \
expected steps [first, end) and start_step (the step whose checkpoint root the segment starts from, null \
for the base root), or {\"steps\": null} past the last segment.";

/// A record as JSON.
fn record_json(r: &StepRecord) -> Value {
    json!({
        "step": r.step,
        "gradient_root": hex(&r.gradient_root),
        "scalars": scalars_json(&r.scalars),
        "train_loss": r.train_loss,
        "checkpoint_root": r.checkpoint_root.map(|h| hex(&h)),
    })
}

/// Reads [`record_json`].
fn parse_record(v: &Value) -> Result<StepRecord, String> {
    let checkpoint_root = match field(v, "checkpoint_root")? {
        Value::Null => None,
        other => Some(as_hash(other)?),
    };
    Ok(StepRecord {
        step: get_u32(v, "step")?,
        gradient_root: get_hash(v, "gradient_root")?,
        scalars: parse_scalars(field(v, "scalars")?)?,
        train_loss: get_u32(v, "train_loss")?,
        checkpoint_root,
    })
}

/// The records of an input.
fn parse_records(v: &Value) -> Result<Vec<StepRecord>, String> {
    get_array(v, "records")?.iter().map(parse_record).collect()
}

/// Records of a round of `spec` with deterministic roots and scalars.
fn records(spec: &TrainingSpec, seed: u64) -> Vec<StepRecord> {
    let mut rng = SplitMix::new(seed);
    let n = spec.steps_per_round as usize;
    let gradient_roots: Vec<Hash> = (0..n).map(|_| rng.hash32()).collect();
    let state_roots: Vec<Hash> = (0..n).map(|_| rng.hash32()).collect();
    let scalars: Vec<StepScalars> = (0..n)
        .map(|i| StepScalars {
            learning_rate: 1e-3f32.to_bits(),
            gradient_scale: (1.0 - i as f32 / 64.0).to_bits(),
            bias_correction1: 1.0f32.to_bits(),
            bias_correction2: 1.0f32.to_bits(),
        })
        .collect();
    let mut r = records_from(spec, &gradient_roots, &scalars, &state_roots);
    for (i, record) in r.iter_mut().enumerate() {
        record.train_loss = (2.0 - i as f32 / 16.0).to_bits();
    }
    r
}

/// The part's cases.
pub(super) fn cases() -> Cases {
    let mut out = Cases::default();
    let spec = spec_with(adamw(), 1000, 256, 64);
    let good = records(&spec, 0x72_6f75_6e64);
    let final_root = good[9].checkpoint_root.expect("the last step is a checkpoint");
    for (name, record) in [
        ("step 0 (no checkpoint)", good[0].clone()),
        ("step 3 (a checkpoint)", good[3].clone()),
        ("step 9 (the last)", good[9].clone()),
        (
            "all zero",
            StepRecord {
                step: 0,
                gradient_root: [0; 32],
                scalars: StepScalars::default(),
                train_loss: 0,
                checkpoint_root: None,
            },
        ),
        ("checkpoint root at step 2 (misplaced)", StepRecord { checkpoint_root: Some([1; 32]), ..good[2].clone() }),
        ("step beyond the round", StepRecord { step: u32::MAX, checkpoint_root: Some([0xff; 32]), ..good[9].clone() }),
    ] {
        out.add(
            format!("record: {name}"),
            "step_record",
            json!({ "spec": spec_json(&spec), "record": record_json(&record) }),
        );
    }
    let mut trace = |name: &str, records: &[StepRecord], final_root: Hash| {
        let records: Vec<Value> = records.iter().map(record_json).collect();
        out.add(name, "trace", json!({ "spec": spec_json(&spec), "records": records, "final_root": hex(&final_root) }));
    };
    trace("trace of 10 steps, checkpoints at 3, 7 and 9", &good, final_root);
    trace("9 records for 10 steps", &good[..9], final_root);
    let mut bad = good.clone();
    bad.swap(1, 2);
    trace("records 1 and 2 swapped", &bad, final_root);
    let mut bad = good.clone();
    bad[2].checkpoint_root = Some([0; 32]);
    trace("a checkpoint root at step 2", &bad, final_root);
    let mut bad = good.clone();
    bad[3].checkpoint_root = None;
    trace("no checkpoint root at step 3", &bad, final_root);
    trace("another final root", &good, [1; 32]);
    let records_json = |r: &[StepRecord]| r.iter().map(record_json).collect::<Vec<Value>>();
    let mut add_commit = |name: &str, s: &TrainingSpec, base: Hash, r: &[StepRecord], before: f32, after: f32| {
        out.add(
            name,
            "commit",
            json!({
                "spec": spec_json(s),
                "base_root": hex(&base),
                "records": records_json(r),
                "eval_loss_before": before.to_bits(),
                "eval_loss_after": after.to_bits(),
            }),
        );
    };
    add_commit("round of 10 steps", &spec, [0; 32], &good, 2.0, 1.5);
    add_commit("other claimed losses", &spec, [0; 32], &good, 2.0, 1.4);
    let mut one_segment = spec;
    one_segment.steps_per_round = 5;
    one_segment.checkpoint_interval = 5;
    add_commit("round of 5 steps, one segment", &one_segment, [0x11; 32], &records(&one_segment, 5), 3.25, 3.0);
    let mut every = spec;
    every.steps_per_round = 3;
    every.checkpoint_interval = 1;
    add_commit("round of 3 steps, a checkpoint every step", &every, [0x22; 32], &records(&every, 3), 1.0, 0.5);
    let mut last = good.clone();
    last[9].checkpoint_root = None;
    add_commit("no final checkpoint", &spec, [0; 32], &last, 2.0, 1.5);
    for segment in 0..=3u32 {
        out.add(
            format!("segment {segment} of 10 steps by 4"),
            "segment",
            json!({ "spec": spec_json(&spec), "segment": segment }),
        );
    }
    for segment in 0..=1u32 {
        out.add(
            format!("segment {segment} of 5 steps by 5"),
            "segment",
            json!({ "spec": spec_json(&one_segment), "segment": segment }),
        );
    }
    out
}

/// A commitment's fields.
fn commitment_json(c: &RoundCommitment) -> Value {
    json!({
        "base_root": hex(&c.base_root),
        "trace_root": hex(&c.trace_root),
        "final_root": hex(&c.final_root),
        "steps": c.steps,
        "eval_loss_before": c.eval_loss_before,
        "eval_loss_after": c.eval_loss_after,
    })
}

/// Evaluates one case.
pub(super) fn eval(kind: &str, input: &Value) -> Result<Value, String> {
    let spec = parse_spec(field(input, "spec")?)?;
    match kind {
        "step_record" => {
            let r = parse_record(field(input, "record")?)?;
            Ok(json!({
                "scale": hex(&r.encode()),
                "leaf_hash": hex(&r.leaf_hash()),
                "well_formed": r.is_well_formed(&spec),
                "max_encoded_len": StepRecord::max_encoded_len(),
            }))
        },
        "trace" => {
            let records = parse_records(input)?;
            Ok(match trace_tree(&spec, &records, &get_hash(input, "final_root")?) {
                Ok(tree) => {
                    let hashes: Vec<Hash> = records.iter().map(StepRecord::leaf_hash).collect();
                    json!({ "trace_root": hex(&tree.root()), "leaf_hashes": hexes(&hashes) })
                },
                Err(e) => err(e),
            })
        },
        "commit" => {
            let records = parse_records(input)?;
            let base = get_hash(input, "base_root")?;
            let (before, after) = (get_f32(input, "eval_loss_before")?, get_f32(input, "eval_loss_after")?);
            Ok(match commit(&spec, base, &records, before, after) {
                Ok((c, tree)) => json!({
                    "commitment": commitment_json(&c),
                    "scale": hex(&c.encode()),
                    "trace_leaf_count": u64v(tree.leaf_count()),
                }),
                Err(e) => err(e),
            })
        },
        "segment" => {
            let segment = get_u32(input, "segment")?;
            match (spec.segment_steps(segment), segment_start_step(&spec, segment)) {
                (Some((first, end)), Some(start)) => Ok(json!({ "steps": [first, end], "start_step": start })),
                (None, None) => Ok(json!({ "steps": null })),
                _ => Err("segment_steps and segment_start_step disagree".into()),
            }
        },
        other => Err(format!("unknown kind {other:?}")),
    }
}
