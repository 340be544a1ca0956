//! Compiles `csrc/torch_settings.cpp` (the libtorch settings tch does not expose) against the same
//! libtorch headers torch-sys uses: `$LIBTORCH/include` when `LIBTORCH` is set, else the PyTorch wheel's
//! (`LIBTORCH_USE_PYTORCH=1`, found through `python3`).

use std::{env, path::PathBuf, process::Command};

fn torch_include_dirs() -> Vec<PathBuf> {
    if let Ok(root) = env::var("LIBTORCH") {
        let root = PathBuf::from(root);
        return vec![root.join("include"), root.join("include/torch/csrc/api/include")];
    }
    let python = env::var("PYTHON_SYS_EXECUTABLE").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&python)
        .args(["-c", "import torch.utils.cpp_extension as c; print('\\n'.join(c.include_paths()))"])
        .output()
        .unwrap_or_else(|e| panic!("running {python} to find the torch headers: {e}"));
    assert!(out.status.success(), "{python} could not import torch: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.is_empty()).map(PathBuf::from).collect()
}

/// The directory of libtorch's shared libraries.
fn torch_lib_dir() -> Option<PathBuf> {
    if let Ok(root) = env::var("LIBTORCH") {
        return Some(PathBuf::from(root).join("lib"));
    }
    let python = env::var("PYTHON_SYS_EXECUTABLE").unwrap_or_else(|_| "python3".into());
    let out = Command::new(python)
        .args(["-c", "import os, torch; print(os.path.join(os.path.dirname(torch.__file__), 'lib'))"])
        .output()
        .ok()?;
    out.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

fn main() {
    // With a CUDA build of libtorch, link libtorch_cuda even though no symbol of it is referenced
    // (`--as-needed` would drop it): it registers the CUDA backend when loaded, without which
    // `tch::Cuda::is_available()` is false on a GPU machine.
    if let Some(dir) = torch_lib_dir().filter(|d| d.join("libtorch_cuda.so").exists()) {
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
    println!("cargo:rerun-if-changed=csrc/torch_settings.cpp");
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    println!("cargo:rerun-if-env-changed=LIBTORCH_USE_PYTORCH");
    let mut build = cc::Build::new();
    build.cpp(true).std("c++17").file("csrc/torch_settings.cpp").flag_if_supported("-w").define("_GLIBCXX_USE_CXX11_ABI", "1");
    for dir in torch_include_dirs() {
        build.include(dir);
    }
    build.compile("pogo_torch_settings");
}
