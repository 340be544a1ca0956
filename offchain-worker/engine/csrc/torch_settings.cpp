// The libtorch settings the PoGO protocol pins for reproducible gradients, which tch 0.24 does not
// expose: deterministic algorithms, cuDNN deterministic without autotuning, and IEEE fp32 matmuls and
// convolutions (no TF32, no reduced-precision reductions). Called from src/torch_settings.rs.
#include <ATen/Context.h>

extern "C" {

// Returns 0, or -1 if libtorch refused a setting (the caller then sees it in pogo_torch_settings()).
int pogo_torch_pin_settings() try {
  auto& ctx = at::globalContext();
  ctx.setDeterministicAlgorithms(true, /*warn_only=*/false);
  ctx.setDeterministicCuDNN(true);
  ctx.setBenchmarkCuDNN(false);
  // IEEE fp32 everywhere: no TF32 (CUDA matmul/conv) and no bf16 (oneDNN).
  // Not every (backend, op) pair exists (GENERIC has only ALL); libtorch throws for those, and no C++
  // exception may cross into Rust.
  using at::Float32Backend, at::Float32Op, at::Float32Precision;
  for (auto backend : {Float32Backend::GENERIC, Float32Backend::CUDA, Float32Backend::MKLDNN}) {
    for (auto op : {Float32Op::ALL, Float32Op::MATMUL, Float32Op::CONV, Float32Op::RNN}) {
      try {
        ctx.setFloat32Precision(backend, op, Float32Precision::IEEE);
      } catch (...) {
      }
    }
  }
  ctx.setAllowFP16ReductionCuBLAS(false, false);
  ctx.setAllowBF16ReductionCuBLAS(false, false);
  return 0;
} catch (...) {
  return -1;
}

// Bit 0: deterministic algorithms; 1: warn-only (must be 0); 2: cuDNN deterministic; 3: cuDNN
// benchmark (must be 0); 4: CUDA matmuls not IEEE fp32 (must be 0); 5: CUDA convolutions not IEEE
// fp32 (must be 0); 6: oneDNN not IEEE fp32 (must be 0).
// -1 if libtorch threw.
int pogo_torch_settings() try {
  auto& ctx = at::globalContext();
  int bits = 0;
  if (ctx.deterministicAlgorithms()) bits |= 1;
  if (ctx.deterministicAlgorithmsWarnOnly()) bits |= 2;
  if (ctx.deterministicCuDNN()) bits |= 4;
  if (ctx.benchmarkCuDNN()) bits |= 8;
  using at::Float32Backend, at::Float32Op, at::Float32Precision;
  if (ctx.float32Precision(Float32Backend::CUDA, Float32Op::MATMUL) != Float32Precision::IEEE) bits |= 16;
  if (ctx.float32Precision(Float32Backend::CUDA, Float32Op::CONV) != Float32Precision::IEEE) bits |= 32;
  if (ctx.float32Precision(Float32Backend::MKLDNN, Float32Op::MATMUL) != Float32Precision::IEEE) bits |= 64;
  return bits;
} catch (...) {
  return -1;
}

}  // extern "C"
