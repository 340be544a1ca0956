//! # pogo-cuda: PoGO's bookkeeping on a GPU
//!
//! ## Overview
//! A miner spends most of a PoGO step in libtorch's forward and backward pass; what PoGO adds per step is
//! bookkeeping: quantize the gradient to 4 bits, apply the exact update rule from those codes, hash. On a GPU
//! the weights and optimizer slots should stay on the device and only the 4-bit codes (0.56 bytes per
//! parameter) come back. This crate holds the kernels for the first two (`kernels/bookkeeping.cu`) and the
//! host code that runs them, with results **bit for bit** those of the CPU reference in `pogo-primitives`
//! (`quant.rs`, `update.rs`; docs/protocol.md).
//!
//! ## Design
//! * **Run-time compilation.** NVRTC compiles the kernels to PTX when a [`CudaBookkeeper`] opens (and in the
//!   test command on every machine, GPU or not); the driver JIT-compiles the PTX for the device. Both
//!   libraries are loaded with `dlopen` through [`cudarc`]'s dynamic loading, so the crate builds with no CUDA
//!   toolkit and a machine without a GPU uses [`CpuBookkeeper`]. NVRTC is the `libnvrtc.so.13` of the
//!   torch 2.11 wheel the worker already needs ([`nvrtc::locate`]). docs/cuda.md says why cudarc and not
//!   `cust`.
//! * **Exactness.** Every rounding operation in the kernels is an explicit round-to-nearest-even intrinsic,
//!   compiled with `--fmad=false --ftz=false --prec-div=true --prec-sqrt=true`; [`nvrtc::audit_ptx`] refuses
//!   a PTX that still contains a fused multiply-add, an approximate division or square root, or a
//!   flush-to-zero instruction, so a compiler change cannot silently break consensus.
//! * **Same contract as the CPU.** [`Bookkeeping`] is implemented by both backends with the errors of the
//!   reference: a non-finite gradient or result, a non-canonical encoding, a wrong length; a refused step
//!   leaves the leaf unchanged.
//!
//! ## Terms
//! * *codec block*: the elements that share one f32 scale in the 4-bit encoding (the spec's `codec_block`).
//! * *leaf*: a state leaf, `n` weights followed by the update rule's optimizer slots (`n` each).

#![allow(unsafe_code)] // kernel launches and dlopen are unsafe by nature; each use says why it is sound

pub mod backend;
pub mod device;
pub mod nvrtc;

pub use backend::{best_available, Bookkeeping, BookkeepingError, CpuBookkeeper, PreparedScalars};
pub use device::{CudaBookkeeper, DeviceInfo, ResidentLeaf};

/// The kernels' source, compiled by NVRTC at run time.
pub const KERNELS_SOURCE: &str = include_str!("../kernels/bookkeeping.cu");

/// Why the GPU path is not available or failed (the CPU path never returns these).
#[derive(Debug, thiserror::Error)]
pub enum CudaError {
    /// No NVRTC library was found.
    #[error("NVRTC (libnvrtc.so.13) not found; searched: {searched}. It comes with the torch 2.11 wheel (scripts/setup.sh); set POGO_NVRTC_DIR to its directory")]
    NvrtcNotFound {
        /// The directories looked in.
        searched: String,
    },
    /// The NVRTC library exists but could not be loaded.
    #[error("NVRTC at {path} could not be loaded: {reason}")]
    NvrtcLoad {
        /// The library's path.
        path: String,
        /// What `dlopen` said.
        reason: String,
    },
    /// NVRTC refused the kernels.
    #[error("NVRTC could not compile the kernels: {0}")]
    Compile(String),
    /// The PTX contains an instruction that would change results (see [`nvrtc::audit_ptx`]).
    #[error("the compiled kernels are not exact: line {line} of the PTX is `{instruction}`")]
    InexactPtx {
        /// Line number in the PTX, from 1.
        line: usize,
        /// The offending instruction.
        instruction: String,
    },
    /// No CUDA driver or no device.
    #[error("no CUDA device: {0}")]
    NoDevice(String),
    /// A driver call failed.
    #[error("CUDA driver: {0}")]
    Driver(String),
    /// An input is larger than the kernels' launch geometry allows.
    #[error("input of {0} elements is too large for one launch")]
    TooLarge(usize),
}

impl From<cudarc::driver::DriverError> for CudaError {
    fn from(e: cudarc::driver::DriverError) -> Self {
        CudaError::Driver(e.to_string())
    }
}
