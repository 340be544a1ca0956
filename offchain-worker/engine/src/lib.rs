//! # pogo-engine
//!
//! The training engine that PoGO's miners and verifiers share (libtorch through tch).
//!
//! - [`model`]: models as functions of one flat fp32 parameter vector (the protocol's `weights`), with a
//!   documented parameter order — a byte-level GPT and an MLP digit classifier;
//! - [`data`]: real data sets (scikit-learn's handwritten digits, Shakespeare's works, or any local
//!   file) as fixed-length records committed by Merkle roots;
//! - [`engine`]: one PoGO step — seeded batch, forward/backward in libtorch, the 4-bit codec and exact
//!   update rule from `pogo-primitives`;
//! - [`torch_settings`]: the libtorch settings the protocol pins for reproducible gradients;
//! - [`measure`]: the tolerance, quality and overhead measurements behind `docs/worker.md`;
//! - [`variants`]: honest and cheating recomputations of a step, judged by the tolerance rule;
//! - [`tasks`]: the default tasks.

pub mod data;
pub mod engine;
pub mod measure;
pub mod model;
pub mod tasks;
pub mod torch_settings;
pub mod variants;

pub use engine::{Engine, EngineError, Gradient};
pub use pogo_store::state_file::{ModelState, StateFileError};
pub use torch_settings::{pin as pin_torch_settings, TorchSettings};

/// The device gradients are computed on: CUDA when libtorch sees a GPU, else the CPU.
pub fn default_device() -> tch::Device {
    tch::Device::cuda_if_available()
}
