//! # pogo-primitives
//!
//! The rules of PoGO (Proof of Gradient Optimization) as pogo implements them, written once and used by
//! the runtime (compiled to wasm, `no_std`) and by the off-chain worker (`std`). `docs/protocol.md` is
//! the specification; every rule there points to the module here that implements it.
//!
//! * [`hash`] — BLAKE3, keyed per purpose.
//! * [`merkle`] — binary Merkle tree with a sealed root.
//! * [`quant`] — the 4-bit block codec.
//! * [`model`] — the model descriptor a task commits (architecture, ordered tensors).
//! * [`spec`] — what a task fixes: model layout, optimizer, schedule, round shape.
//! * [`state`] — state leaves (weights + optimizer state).
//! * [`update`] — the update rules as exact f32 operation sequences.
//! * [`round`] — step records and the round commitment.
//! * [`seed`] — round, challenge and verifier seeds; uniform sampling.
//! * [`assign`] — stake-weighted verifier assignment.
//! * [`tolerance`] — when a recomputed gradient agrees with a committed one.
//! * [`verdict`] — verdicts, commit-reveal, the stake tally.
//! * [`fraud`] — one-leaf fraud proofs and their size bound.
//! * [`replay`] — the verifier's replay of a committed round: its faults and the scalar conformance rule.
//! * [`builder`] — the miner's round builder (commitments, openings, fraud proofs).
//! * [`kernels`] — the bulk passes of a replayed step, replaceable by a faster implementation.
//! * [`detection`] — detection probabilities for sizing bonds.
//! * `vectors` (`std` only) — the known-answer test vectors in `docs/vectors` and their checker.

#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects,
        clippy::cast_possible_truncation,
        clippy::panic
    )
)]

extern crate alloc;

pub mod assign;
pub mod builder;
pub mod detection;
pub mod fraud;
pub mod hash;
pub mod kernels;
pub mod merkle;
pub mod model;
pub mod quant;
pub mod replay;
pub mod round;
pub mod seed;
pub mod spec;
pub mod state;
pub mod tolerance;
pub mod update;
pub mod verdict;
pub mod views;
#[cfg(feature = "std")]
pub mod vectors;

pub use hash::Hash;
pub use merkle::{MerkleError, MerkleProof, MerkleTree};
pub use model::{ModelDescriptor, TensorDescriptor};
pub use round::{RoundCommitment, StepRecord};
pub use spec::{LrSchedule, StepScalars, TrainingSpec, UpdateRule};
pub use verdict::{NegativeReason, Outcome, Ratio, Verdict};

/// Version of the protocol these rules implement; bumped on any change of bytes.
pub const PROTOCOL_VERSION: u32 = 3;
