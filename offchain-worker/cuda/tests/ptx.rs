//! The kernels compile to exact PTX on every machine (NVRTC comes with the torch wheel; no GPU needed), and
//! the audit that guards exactness refuses what it must.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use pogo_cuda::{nvrtc, CudaError, KERNELS_SOURCE};

#[test]
fn kernels_compile_to_exact_ptx_for_every_architecture_we_target() {
    let dir = nvrtc::load().unwrap_or_else(|e| panic!("{e}"));
    let (major, minor) = nvrtc::version().unwrap();
    eprintln!("NVRTC {major}.{minor} from {}", dir.display());
    assert_eq!(major, 13, "the torch 2.11 wheel carries NVRTC 13");
    // NVRTC's default, Ampere (A100), Hopper (H100/H200), Blackwell.
    for arch in [None, Some("compute_80"), Some("compute_90"), Some("compute_100")] {
        let ptx = nvrtc::compile(arch).unwrap_or_else(|e| panic!("{arch:?}: {e}")).to_src();
        for needed in [".entry pogo_quantize", ".entry pogo_update", "div.rn.f32", "sqrt.rn.f32", "add.rn.f32", "mul.rn.f32", "sub.rn.f32"] {
            assert!(ptx.contains(needed), "{arch:?}: the PTX lacks `{needed}`");
        }
        assert!(!ptx.contains("fma.rn.f32"), "{arch:?}: a fused multiply-add slipped through");
    }
}

#[test]
fn the_audit_refuses_inexact_instructions_and_passes_exact_ones() {
    let refused = [
        "\tfma.rn.f32 \t%f3, %f1, %f2, %f3;",
        "\tmad.rn.f32 \t%f3, %f1, %f2, %f3;",
        "\t@%p1 div.approx.f32 \t%f3, %f1, %f2;",
        "\tdiv.full.f32 \t%f3, %f1, %f2;",
        "\tadd.rn.ftz.f32 \t%f3, %f1, %f2;",
        "\trcp.approx.ftz.f32 \t%f2, %f1;",
        "\tsqrt.approx.f32 \t%f2, %f1;",
        "\tex2.approx.f32 \t%f2, %f1;",
    ];
    for line in refused {
        let ptx = format!(".visible .entry k()\n{{\n{line}\n}}\n");
        match nvrtc::audit_ptx(&ptx) {
            Err(CudaError::InexactPtx { line: 3, .. }) => {},
            other => panic!("`{line}` was not refused at line 3: {other:?}"),
        }
    }
    let exact = "\tadd.rn.f32 \t%f3, %f1, %f2;\n\tmad.lo.s32 \t%r3, %r1, %r2, %r3;\n\t@%p1 bra \t$L__BB0_2;\n\tsqrt.rn.f32 \t%f2, %f1;\n\tmax.f32 \t%f1, %f1, %f2; // fma in a comment\n";
    assert!(nvrtc::audit_ptx(exact).is_ok());
}

#[test]
fn a_fast_math_or_contracting_build_is_refused() {
    nvrtc::load().unwrap_or_else(|e| panic!("{e}"));
    // Fast math flushes denormals (`abs.ftz`, `max.ftz`: a block of subnormals would get a zero scale).
    // NVRTC's own flag: cudarc's `use_fast_math` field only turns on --fmad.
    let fast = cudarc::nvrtc::compile_ptx_with_opts(
        KERNELS_SOURCE,
        cudarc::nvrtc::CompileOptions { options: vec!["--use_fast_math".into()], ..Default::default() },
    )
    .unwrap();
    assert!(matches!(nvrtc::audit_ptx(&fast.to_src()), Err(CudaError::InexactPtx { .. })));
    // Plain `a * b + c` under the compiler's default contraction becomes an FMA.
    let plain = r#"extern "C" __global__ void k(float* x) { x[0] = x[1] * x[2] + x[3]; }"#;
    let fused = cudarc::nvrtc::compile_ptx_with_opts(plain, Default::default()).unwrap();
    match nvrtc::audit_ptx(&fused.to_src()) {
        Err(CudaError::InexactPtx { instruction, .. }) => assert!(instruction.starts_with("fma"), "{instruction}"),
        other => panic!("a contracted multiply-add passed the audit: {other:?}"),
    }
}
