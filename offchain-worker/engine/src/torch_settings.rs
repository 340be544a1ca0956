//! The libtorch settings the protocol pins for reproducible gradients (docs/worker.md, "Pinned torch
//! settings"): deterministic algorithms (errors, not warnings, for non-deterministic kernels), cuDNN
//! deterministic without autotuning, IEEE fp32 for every matmul and convolution (no TF32, no bf16, no
//! reduced-precision reductions), deterministic cuBLAS workspaces, and a fixed intra-op thread count.
//!
//! tch 0.24 does not expose most of these; `csrc/torch_settings.cpp` sets and reads them through
//! `at::globalContext()`.

use std::sync::Mutex;

#[allow(unsafe_code)]
mod ffi {
    extern "C" {
        pub fn pogo_torch_pin_settings() -> i32;
        pub fn pogo_torch_settings() -> i32;
    }
    /// Applies the pinned settings (0, or −1 if libtorch refused one). Safe: the C++ side only sets
    /// flags of the global ATen context and catches every exception.
    pub fn pin() -> i32 {
        // SAFETY: no arguments, no pointers; the function only calls setters of `at::globalContext()`.
        unsafe { pogo_torch_pin_settings() }
    }
    /// Reads the settings as a bit set (see `csrc/torch_settings.cpp`), −1 if libtorch threw.
    pub fn read() -> i32 {
        // SAFETY: no arguments, no pointers; the function only calls getters of `at::globalContext()`.
        unsafe { pogo_torch_settings() }
    }
}

/// cuBLAS needs a fixed workspace configuration for deterministic results; it must be in the
/// environment before CUDA is initialised.
pub const CUBLAS_WORKSPACE_CONFIG: &str = ":4096:8";

/// The libtorch settings that matter for reproducibility, as read back from libtorch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct TorchSettings {
    /// `torch.use_deterministic_algorithms(True)`.
    pub deterministic_algorithms: bool,
    /// Non-deterministic kernels only warn (must be false).
    pub deterministic_warn_only: bool,
    /// `torch.backends.cudnn.deterministic`.
    pub cudnn_deterministic: bool,
    /// `torch.backends.cudnn.benchmark` (autotuning; must be false).
    pub cudnn_benchmark: bool,
    /// CUDA matmuls in IEEE fp32 (no TF32).
    pub cuda_matmul_ieee: bool,
    /// CUDA convolutions in IEEE fp32 (no TF32).
    pub cuda_conv_ieee: bool,
    /// oneDNN (CPU) matmuls in IEEE fp32 (no bf16).
    pub onednn_ieee: bool,
    /// Intra-op threads.
    pub threads: i32,
}

impl TorchSettings {
    /// Reads the current settings.
    pub fn current() -> Self {
        // −1 (libtorch threw) reads as "nothing pinned".
        let bits = match ffi::read() {
            -1 => 0b111_1010,
            b => b,
        };
        let on = |b: i32| bits & b != 0;
        Self {
            deterministic_algorithms: on(1),
            deterministic_warn_only: on(2),
            cudnn_deterministic: on(4),
            cudnn_benchmark: on(8),
            cuda_matmul_ieee: !on(16),
            cuda_conv_ieee: !on(32),
            onednn_ieee: !on(64),
            threads: tch::get_num_threads(),
        }
    }

    /// Whether every pinned setting holds (the thread count is checked by the caller, who chose it).
    pub fn is_pinned(&self) -> bool {
        self.deterministic_algorithms
            && !self.deterministic_warn_only
            && self.cudnn_deterministic
            && !self.cudnn_benchmark
            && self.cuda_matmul_ieee
            && self.cuda_conv_ieee
            && self.onednn_ieee
    }
}

static PIN: Mutex<()> = Mutex::new(());

/// Pins the settings with `threads` intra-op threads and returns what libtorch reports afterwards.
/// Idempotent; call it before the first tensor operation of a worker.
pub fn pin(threads: usize) -> TorchSettings {
    let _guard = PIN.lock().unwrap_or_else(|e| e.into_inner());
    if std::env::var_os("CUBLAS_WORKSPACE_CONFIG").is_none() {
        std::env::set_var("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE_CONFIG);
    }
    // A refused setting shows in the returned `TorchSettings` (`is_pinned()` false).
    let _ = ffi::pin();
    tch::set_num_threads(i32::try_from(threads.max(1)).unwrap_or(i32::MAX));
    TorchSettings::current()
}
