//! `round_fixture`: real protocol bytes for clients that have no Rust, e.g. the polkadot.js end-to-end
//! test in `tests/client/`. Every value is computed here with `pogo-primitives`; nothing is hand-written.
//! Binary values are printed as `0x`-hex of their SCALE encoding, so a client passes them to
//! polkadot.js as raw bytes and needs no custom type definitions.
//!
//! ```text
//! round_fixture task
//!     {"spec", "model", "modelHash", "initialRoot", "commitment", "badCommitment", "finalRoot", "fraudProof",
//!      "trainRoot", "evalRoot", "stepsPerRound", "leafCount", "evalExamples", "trainExamples"}
//! round_fixture verdict <submission u64> <account 0x-32-bytes> <verdict> <salt 0x-32-bytes>
//!     {"commitment", "verdict"}
//! ```
//!
//! * `task`: a small `AdamW` task (600 parameters in 3 leaves of 256, codec blocks of 64, 6 steps per
//!   round, a checkpoint every 3 steps — the task of the pallet's tests) and round 0 built with
//!   [`RoundBuilder`] from its initial state with deterministic gradients. `commitment` is that round;
//!   `badCommitment` is a real round built from a different state, so its `base_root` is not the task's
//!   root; `fraudProof` is the builder's proof for leaf 0, segment 0 of the honest round, which decodes
//!   and opens correctly but shows no inconsistency (the pallet answers `FraudProofShowsNoFraud`).
//! * `verdict`: `verdict_commitment(submission, SCALE(account), verdict, salt)` for an `AccountId32`
//!   (its SCALE encoding is its 32 raw bytes) and the verdict's SCALE encoding. `<verdict>` is one of
//!   `positive`, `bad-gradient:<step>`, `inconsistent`, `no-progress`, `unavailable`.
//!
//! Build: `CARGO_TARGET_DIR=... cargo build --profile testnet -p pogo-primitives --example round_fixture`.

// A command-line tool, not runtime code: it may fail with `expect` on a broken invariant, and index
// and do arithmetic on small, known sizes.
#![allow(
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::cast_precision_loss
)]

use codec::Encode;
use pogo_primitives::{
    builder::RoundBuilder,
    fraud::{self, FraudProofError},
    spec::{LrSchedule, TrainingSpec, UpdateRule},
    verdict::{verdict_commitment, NegativeReason, Verdict},
    Hash, MerkleTree, ModelDescriptor, RoundCommitment, TensorDescriptor,
};
use std::{fmt::Write, process::exit};

/// Parameters of the task.
const PARAMS: usize = 600;

/// What the task trains: a 19-19-11 MLP classifier (600 parameters), in PyTorch's `state_dict` names.
fn model() -> ModelDescriptor {
    let t = |name: &str, shape: &[u64]| TensorDescriptor { name: name.as_bytes().to_vec(), shape: shape.to_vec() };
    ModelDescriptor {
        architecture: br#"mlp {"inputs":19,"hidden":[19],"classes":11}"#.to_vec(),
        tensors: vec![t("fc0.weight", &[19, 19]), t("fc0.bias", &[19]), t("fc1.weight", &[11, 19]), t("fc1.bias", &[11])],
    }
}

/// The task's training rules (the pallet tests' `AdamW` task).
fn spec() -> TrainingSpec {
    TrainingSpec {
        model: model().hash(),
        param_count: PARAMS as u64,
        leaf_size: 256,
        codec_block: 64,
        rule: UpdateRule::AdamW {
            beta1: 0.9f32.to_bits(),
            beta2: 0.999f32.to_bits(),
            epsilon: 1e-8f32.to_bits(),
            weight_decay: 0.01f32.to_bits(),
        },
        schedule: LrSchedule::Constant { lr: 1e-2f32.to_bits() },
        max_grad_norm: 0,
        steps_per_round: 6,
        checkpoint_interval: 3,
        batch_size: 4,
        train_examples: 100,
        eval_examples: 20,
    }
}

/// Initial weights `(i − 300) · 10⁻³`, shifted by `offset` (a different state for `badCommitment`).
fn initial_weights(offset: f32) -> Vec<f32> {
    (0..PARAMS).map(|i| (i as f32 - 300.0) * 1e-3 + offset).collect()
}

/// `AdamW`'s two optimizer slots (m, v), zero at the start.
fn zero_slots() -> Vec<Vec<f32>> {
    vec![vec![0.0; PARAMS]; 2]
}

/// Deterministic gradient of `step` (the pallet tests' formula with seed 0).
fn gradient(step: usize) -> Vec<f32> {
    (0..PARAMS).map(|i| (((i * 31 + step * 17) % 97) as f32 - 48.0) * 1e-2).collect()
}

/// Round 0 (global steps 1..=6) from `weights`, with its builder and trace tree.
fn build_round(weights: Vec<f32>) -> (RoundBuilder, RoundCommitment, MerkleTree) {
    let spec = spec();
    let mut b = RoundBuilder::new(spec, weights, zero_slots(), 1).expect("valid initial state");
    for step in 0..spec.steps_per_round as usize {
        b.step(&gradient(step), 1.0 + 0.1 * step as f32).expect("step applies");
    }
    let (commitment, trace) = b.commitment(2.0, 1.5).expect("complete round");
    (b, commitment, trace)
}

/// Merkle root over `n` synthetic examples (stands in for a dataset split).
fn dataset_root(label: &str, n: u64) -> Hash {
    let examples: Vec<Vec<u8>> = (0..n).map(|i| format!("{label} example {i}").into_bytes()).collect();
    MerkleTree::from_leaves(examples.iter().map(Vec::as_slice)).expect("non-empty split").root()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::from("0x"), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn unhex32(what: &str, s: &str) -> [u8; 32] {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    if digits.len() != 64 || !digits.is_ascii() {
        fail(&format!("{what} must be 32 bytes of 0x-hex, got {s:?}"));
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16)
            .unwrap_or_else(|_| fail(&format!("{what} is not hex: {s:?}")));
    }
    out
}

fn parse_verdict(s: &str) -> Verdict {
    match s {
        "positive" => Verdict::Positive,
        "inconsistent" => Verdict::Negative(NegativeReason::InconsistentUpdate),
        "no-progress" => Verdict::Negative(NegativeReason::NoProgress),
        "unavailable" => Verdict::Negative(NegativeReason::DataUnavailable),
        other => match other.strip_prefix("bad-gradient:").map(str::parse::<u32>) {
            Some(Ok(step)) => Verdict::Negative(NegativeReason::BadGradient { step }),
            _ => fail(&format!("unknown verdict {other:?}")),
        },
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("round_fixture: {msg}");
    eprintln!("usage: round_fixture task");
    eprintln!(
        "       round_fixture verdict <submission> <account 0x-hex> \
         <positive|bad-gradient:<step>|inconsistent|no-progress|unavailable> <salt 0x-hex>"
    );
    exit(2)
}

fn task() {
    let spec = spec();
    spec.validate().expect("valid spec");
    let model = model();
    model.validate(spec.param_count).expect("valid model");
    let (builder, commitment, trace) = build_round(initial_weights(0.0));
    let (_, bad, _) = build_round(initial_weights(0.25));
    assert_ne!(bad.base_root, commitment.base_root);
    // An honest round: the builder's own fraud proof opens correctly and shows no inconsistency.
    let proof = builder.fraud_proof(&trace, 0, 0).expect("openings exist");
    assert_eq!(fraud::verify(&spec, &commitment, &proof), Err(FraudProofError::NoInconsistency));
    println!(
        concat!(
            "{{\"spec\":\"{}\",\"model\":\"{}\",\"modelHash\":\"{}\",\"initialRoot\":\"{}\",\"commitment\":\"{}\",\"badCommitment\":\"{}\",",
            "\"finalRoot\":\"{}\",\"fraudProof\":\"{}\",\"trainRoot\":\"{}\",\"evalRoot\":\"{}\",",
            "\"stepsPerRound\":{},\"leafCount\":{},\"trainExamples\":{},\"evalExamples\":{}}}"
        ),
        hex(&spec.encode()),
        hex(&model.encode()),
        hex(&model.hash()),
        hex(&commitment.base_root),
        hex(&commitment.encode()),
        hex(&bad.encode()),
        hex(&commitment.final_root),
        hex(&proof.encode()),
        hex(&dataset_root("train", spec.train_examples)),
        hex(&dataset_root("eval", spec.eval_examples)),
        spec.steps_per_round,
        spec.leaf_count(),
        spec.train_examples,
        spec.eval_examples,
    );
}

fn verdict(args: &[String]) {
    let [id, account, verdict, salt] = args else { fail("verdict takes 4 arguments") };
    let id: u64 = id.parse().unwrap_or_else(|_| fail(&format!("bad submission id {id:?}")));
    // SCALE of an AccountId32 is its 32 raw bytes.
    let account = unhex32("account", account);
    let verdict = parse_verdict(verdict);
    let salt = unhex32("salt", salt);
    let commitment = verdict_commitment(id, &account.encode(), &verdict, &salt);
    println!("{{\"commitment\":\"{}\",\"verdict\":\"{}\"}}", hex(&commitment), hex(&verdict.encode()));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("task") if args.len() == 1 => task(),
        Some("verdict") => verdict(&args[1..]),
        _ => fail("expected `task` or `verdict ...`"),
    }
}
