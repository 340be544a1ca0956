//! Finding NVRTC, compiling the kernels to PTX, and checking that the PTX is exact.
//!
//! cudarc opens NVRTC by its library name (`libnvrtc.so.13`) with `dlopen`, which only searches the paths the
//! process started with. The torch wheel keeps NVRTC in `site-packages/nvidia/cu13/lib`, on no such path, so
//! [`load`] opens it (and `libnvrtc-builtins`, which NVRTC opens by name itself) by full path first; the
//! dynamic loader then hands cudarc the library already in the process.

use crate::{CudaError, KERNELS_SOURCE};
use std::{
    path::{Path, PathBuf},
    sync::OnceLock,
};

/// File name of NVRTC 13 (the CUDA of the torch 2.11 wheels).
pub const NVRTC_LIBRARY: &str = "libnvrtc.so.13";

/// Options under which the kernels are exact (see `kernels/bookkeeping.cu`).
fn options(arch: Option<&'static str>) -> cudarc::nvrtc::CompileOptions {
    cudarc::nvrtc::CompileOptions {
        ftz: Some(false),
        prec_sqrt: Some(true),
        prec_div: Some(true),
        fmad: Some(false),
        arch,
        name: Some("bookkeeping.cu".into()),
        ..Default::default()
    }
}

/// The directories searched for [`NVRTC_LIBRARY`], in order: `$POGO_NVRTC_DIR`; the torch wheel's
/// `nvidia/cu13/lib` next to `$POGO_TORCH_LIB` (scripts/env.sh sets it); every directory of
/// `$LD_LIBRARY_PATH`; `/usr/local/cuda/lib64`.
pub fn search_path() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("POGO_NVRTC_DIR") {
        dirs.push(PathBuf::from(d));
    }
    if let Some(torch_lib) = std::env::var_os("POGO_TORCH_LIB") {
        // site-packages/torch/lib -> site-packages/nvidia/cu13/lib
        if let Some(site) = Path::new(&torch_lib).parent().and_then(Path::parent) {
            dirs.push(site.join("nvidia").join("cu13").join("lib"));
        }
    }
    if let Some(paths) = std::env::var_os("LD_LIBRARY_PATH") {
        dirs.extend(std::env::split_paths(&paths));
    }
    dirs.push(PathBuf::from("/usr/local/cuda/lib64"));
    dirs
}

/// The first directory of [`search_path`] that holds [`NVRTC_LIBRARY`].
pub fn locate() -> Result<PathBuf, CudaError> {
    let dirs = search_path();
    dirs.iter().find(|d| d.join(NVRTC_LIBRARY).is_file()).cloned().ok_or_else(|| CudaError::NvrtcNotFound {
        searched: dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", "),
    })
}

/// The libraries opened by [`load`], kept open for the life of the process.
struct Loaded {
    dir: PathBuf,
    _libraries: Vec<libloading::Library>,
}

/// Opens NVRTC (once per process) and returns the directory it came from.
pub fn load() -> Result<PathBuf, CudaError> {
    static LOADED: OnceLock<Result<Loaded, String>> = OnceLock::new();
    let loaded = LOADED.get_or_init(|| {
        let dir = locate().map_err(|e| e.to_string())?;
        let mut libraries = Vec::new();
        // The builtins first: NVRTC opens them by name when it compiles.
        let mut builtins: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("libnvrtc-builtins.so.13") && !n.contains(".alt."))
            })
            .collect();
        builtins.sort();
        for path in builtins.iter().chain(std::iter::once(&dir.join(NVRTC_LIBRARY))) {
            // SAFETY: NVRTC and its builtins are plain C libraries whose initialisers only set up their own
            // state; the handles stay open (in LOADED) for as long as the process runs.
            let lib = unsafe { libloading::Library::new(path) }.map_err(|e| format!("{}: {e}", path.display()))?;
            libraries.push(lib);
        }
        Ok(Loaded { dir, _libraries: libraries })
    });
    match loaded {
        Ok(l) => Ok(l.dir.clone()),
        Err(reason) if reason.contains("not found") => Err(CudaError::NvrtcNotFound { searched: reason.clone() }),
        Err(reason) => Err(CudaError::NvrtcLoad { path: NVRTC_LIBRARY.into(), reason: reason.clone() }),
    }
}

/// NVRTC's version, `(major, minor)`.
pub fn version() -> Result<(i32, i32), CudaError> {
    load()?;
    let (mut major, mut minor) = (0, 0);
    // SAFETY: NVRTC is loaded (above); the call writes two ints through valid pointers.
    unsafe { cudarc::nvrtc::sys::nvrtcVersion(&mut major, &mut minor) }
        .result()
        .map_err(|e| CudaError::Compile(format!("nvrtcVersion: {e:?}")))?;
    Ok((major, minor))
}

/// Compiles the kernels to PTX for a virtual architecture (`compute_XY`; `None`: NVRTC's default, which
/// every newer device JIT-compiles), then [`audit_ptx`]s it.
pub fn compile(arch: Option<&'static str>) -> Result<cudarc::nvrtc::Ptx, CudaError> {
    load()?;
    let ptx = cudarc::nvrtc::compile_ptx_with_opts(KERNELS_SOURCE, options(arch))
        .map_err(|e| CudaError::Compile(e.to_string()))?;
    audit_ptx(&ptx.to_src())?;
    Ok(ptx)
}

/// Refuses PTX with an instruction that could make a result differ from the CPU reference: a fused
/// multiply-add on floats (`fma.*.f32`, `mad.*f32`), anything approximate (`.approx`, `.full` division,
/// `rcp`/`rsqrt`/`ex2`/`lg2`/`sin`/`cos`), or flush-to-zero (`.ftz`). Integer `mad` is exact and allowed.
pub fn audit_ptx(ptx: &str) -> Result<(), CudaError> {
    for (i, line) in ptx.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("").trim();
        let mut tokens = code.split_whitespace();
        // A guard predicate (`@%p1 bra ...`) comes before the instruction.
        let Some(op) = tokens.next().and_then(|t| if t.starts_with('@') { tokens.next() } else { Some(t) }) else {
            continue;
        };
        let parts: Vec<&str> = op.split('.').collect();
        let float = parts.iter().any(|p| matches!(*p, "f32" | "f64" | "f16" | "bf16"));
        let bad = (float && matches!(parts.first(), Some(&"fma") | Some(&"mad")))
            || parts.iter().any(|p| matches!(*p, "approx" | "ftz" | "full"))
            || matches!(parts.first(), Some(&"rcp") | Some(&"rsqrt") | Some(&"ex2") | Some(&"lg2") | Some(&"sin") | Some(&"cos"));
        if bad {
            return Err(CudaError::InexactPtx { line: i + 1, instruction: code.to_string() });
        }
    }
    Ok(())
}
