//! Part `fraud`: fraud proofs of an honest and a tampered round built with [`RoundBuilder`], forged
//! openings, and the fraud-proof size bound.

use super::{
    json::{adamw, decode_all, err, field, get_bytes, get_u64, hex, parse_spec, spec_json, spec_with, u64v},
    Cases,
};
use crate::{
    builder::RoundBuilder,
    fraud::{max_checkpoint_interval, max_encoded_len, verify, FraudProof},
    round::RoundCommitment,
    spec::{LrSchedule, TrainingSpec},
};
use codec::Encode;
use serde_json::{json, Value};

/// The part's description in its file.
pub(super) const DESCRIPTION: &str = "Fraud proofs (protocol.md sections 14 and 15, fraud.rs). The task has \
40 AdamW parameters in leaves of 16 (3 leaves), codec blocks of 8, 6 steps per round with a checkpoint \
every 3 (2 segments); rounds are built with builder.rs from weights (i - 20) / 100 and zero optimizer \
state, the gradient of step s being ((31 i + 17 s) mod 97 - 48) / 100. In the tampered round weight 20 \
(leaf 1) gains 0.5 after step 4 (segment 1). Kind verify: input spec, commitment and proof (both SCALE \
bytes); expected {\"fraud\": <Fraud variant>} when the proof shows fraud, else the error \
(NoInconsistency for a correct proof of an honest evolution). Kind size_bound: input spec and max_len; \
expected max_encoded_len (the bound on a proof's SCALE size) and max_checkpoint_interval (the largest \
interval whose proofs fit in max_len bytes).";

/// Parameters of the task.
const PARAMS: usize = 40;

/// The task.
/// A named way to forge an honest proof.
type Forgery = (&'static str, fn(&mut FraudProof));

fn spec() -> TrainingSpec {
    let mut s = spec_with(adamw(), PARAMS as u64, 16, 8);
    s.model = [0x42; 32];
    s.schedule = LrSchedule::WarmupCosine {
        peak_lr: 1e-2f32.to_bits(),
        min_lr: 1e-4f32.to_bits(),
        warmup_steps: 2,
        total_steps: 50,
    };
    s.max_grad_norm = 5.0f32.to_bits();
    s.steps_per_round = 6;
    s.checkpoint_interval = 3;
    s.batch_size = 4;
    s.train_examples = 100;
    s.eval_examples = 10;
    s
}

/// The gradient of `step`.
fn gradient(step: usize) -> Vec<f32> {
    (0..PARAMS).map(|i| (((i * 31 + step * 17) % 97) as f32 - 48.0) * 1e-2).collect()
}

/// A whole round; `tamper = (step, parameter)` adds 0.5 to a weight after that step (a cheating miner).
fn build(tamper: Option<(usize, usize)>) -> RoundBuilder {
    let s = spec();
    let weights: Vec<f32> = (0..PARAMS).map(|i| (i as f32 - 20.0) * 1e-2).collect();
    let mut b = RoundBuilder::new(s, weights, vec![vec![0.0; PARAMS]; 2], 1).expect("valid state");
    for step in 0..s.steps_per_round as usize {
        b.step(&gradient(step), 1.0).expect("the step applies");
        if let Some((_, param)) = tamper.filter(|(at, _)| *at == step) {
            b.weights_mut()[param] += 0.5;
        }
    }
    b
}

/// The part's cases.
pub(super) fn cases() -> Cases {
    let mut out = Cases::default();
    let s = spec();
    let mut add = |name: &str, c: &RoundCommitment, p: &FraudProof| {
        assert!(p.encode().len() as u64 <= max_encoded_len(&s), "{name}: the proof exceeds the bound");
        out.add(
            name,
            "verify",
            json!({ "spec": spec_json(&s), "commitment": hex(&c.encode()), "proof": hex(&p.encode()) }),
        );
    };
    let honest = build(None);
    let (hc, htrace) = honest.commitment(2.0, 1.5).expect("complete round");
    for leaf in 0..s.leaf_count() {
        for segment in 0..s.segment_count() {
            let p = honest.fraud_proof(&htrace, leaf, segment).expect("openings");
            add(&format!("honest round, leaf {leaf}, segment {segment}"), &hc, &p);
        }
    }
    let cheat = build(Some((4, 20)));
    let (cc, ctrace) = cheat.commitment(2.0, 1.5).expect("complete round");
    let good = cheat.fraud_proof(&ctrace, 1, 1).expect("openings");
    add("tampered round, leaf 1, segment 1: replay mismatch", &cc, &good);
    add("tampered round, untouched leaf 0 of segment 1", &cc, &cheat.fraud_proof(&ctrace, 0, 1).expect("openings"));
    add(
        "tampered round, leaf 1 of segment 0 (before the change)",
        &cc,
        &cheat.fraud_proof(&ctrace, 1, 0).expect("openings"),
    );
    add("the tampered round's proof against the honest round", &hc, &good);
    let mut c = cc.clone();
    c.steps = 5;
    add("a commitment with 5 steps for a task of 6", &c, &good);
    let forged: [Forgery; 10] = [
        ("end leaf byte flipped", |p| p.end_leaf[0] ^= 1),
        ("start leaf byte flipped", |p| p.start_leaf[0] ^= 1),
        ("gradient leaf byte flipped", |p| p.steps[1].gradient_leaf[4] ^= 0x11),
        ("record learning rate changed", |p| p.steps[0].record.record.scalars.learning_rate ^= 1),
        ("a step missing", |p| {
            p.steps.pop();
        }),
        ("start anchor missing", |p| p.start_anchor = None),
        ("start anchor of the wrong step", |p| {
            if let Some(a) = p.start_anchor.as_mut() {
                a.record.step = 1;
            }
        }),
        ("segment out of range", |p| p.segment = 2),
        ("leaf index out of range", |p| p.leaf_index = 3),
        ("end proof of another leaf", |p| p.end_proof.leaf_index = 0),
    ];
    for (name, forge) in forged {
        let mut p = good.clone();
        forge(&mut p);
        add(&format!("forged: {name}"), &cc, &p);
    }
    let mut big = spec();
    big.param_count = 1_000_000_000;
    big.leaf_size = 4096;
    big.codec_block = 64;
    big.steps_per_round = 10_000;
    big.checkpoint_interval = 1;
    for (name, task, max_len) in [
        ("this part's task, 4 KiB", s, 4096u64),
        ("this part's task, 64 KiB", s, 65_536),
        ("10^9 parameters in leaves of 4096, 1 MiB", big, 1 << 20),
        ("10^9 parameters, too small a limit", big, 1024),
    ] {
        out.add(name, "size_bound", json!({ "spec": spec_json(&task), "max_len": u64v(max_len) }));
    }
    out
}

/// Evaluates one case.
pub(super) fn eval(kind: &str, input: &Value) -> Result<Value, String> {
    let s = parse_spec(field(input, "spec")?)?;
    match kind {
        "verify" => {
            let c: RoundCommitment = decode_all(&get_bytes(input, "commitment")?)?;
            let p: FraudProof = decode_all(&get_bytes(input, "proof")?)?;
            Ok(match verify(&s, &c, &p) {
                Ok(fraud) => json!({ "fraud": format!("{fraud:?}") }),
                Err(e) => err(e),
            })
        },
        "size_bound" => Ok(json!({
            "max_encoded_len": u64v(max_encoded_len(&s)),
            "max_checkpoint_interval": max_checkpoint_interval(&s, get_u64(input, "max_len")?),
        })),
        other => Err(format!("unknown kind {other:?}")),
    }
}
