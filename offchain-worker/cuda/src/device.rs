//! The GPU backend: the kernels of `kernels/bookkeeping.cu` on one CUDA device.

use crate::{
    backend::{check_square_sums, Bookkeeping, BookkeepingError, PreparedScalars},
    nvrtc, CudaError,
};
use cudarc::driver::{CudaContext, CudaFunction, CudaSlice, CudaStream, LaunchConfig, PushKernelArg};
use pogo_primitives::{
    quant::{self, QuantError},
    spec::{StepScalars, UpdateRule},
    state::StateLeaf,
    update::UpdateError,
};
use std::sync::Arc;

/// Threads per CTA of every kernel (8 warps).
const THREADS: u32 = 256;
/// "No index recorded" in the kernels' atomicMin flags.
const NONE: u64 = u64::MAX;

/// What the measurements record about the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceInfo {
    /// The device's name (`NVIDIA H200`).
    pub name: String,
    /// Compute capability, `(major, minor)`.
    pub compute_capability: (i32, i32),
    /// Device memory in bytes.
    pub total_memory: usize,
    /// The driver's CUDA version as the driver reports it (`13000` = 13.0).
    pub driver_cuda_version: i32,
    /// NVRTC's version, `(major, minor)`.
    pub nvrtc_version: (i32, i32),
}

/// PoGO's bookkeeping on one CUDA device; results bit for bit those of [`crate::CpuBookkeeper`].
pub struct CudaBookkeeper {
    _ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    quantize: CudaFunction,
    update: CudaFunction,
    square_sums: CudaFunction,
    info: DeviceInfo,
}

/// A state leaf kept on the device between steps: weights and slots stay resident, only 4-bit codes and,
/// when asked, the whole leaf come back.
pub struct ResidentLeaf {
    n: usize,
    slots: usize,
    values: CudaSlice<f32>,
    next: CudaSlice<f32>,
}

impl ResidentLeaf {
    /// Parameters in the leaf.
    pub fn n(&self) -> usize {
        self.n
    }
}

fn grid(units: u64, per_cta: u64) -> Result<LaunchConfig, CudaError> {
    let ctas = units.div_ceil(per_cta);
    let ctas = u32::try_from(ctas)
        .ok()
        .filter(|c| *c <= i32::MAX as u32)
        .ok_or(CudaError::TooLarge(usize::try_from(units).unwrap_or(usize::MAX)))?;
    Ok(LaunchConfig { grid_dim: (ctas.max(1), 1, 1), block_dim: (THREADS, 1, 1), shared_mem_bytes: 0 })
}

fn as_u64(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

fn index(i: u64) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl CudaBookkeeper {
    /// Opens device `ordinal`: finds the driver, compiles the kernels with NVRTC (exact options, audited
    /// PTX), loads them. [`CudaError::NoDevice`] on a machine without a driver or device.
    pub fn open(ordinal: usize) -> Result<Self, CudaError> {
        // SAFETY: only tries to dlopen the driver library by its usual names; nothing is called yet.
        if !unsafe { cudarc::driver::sys::is_culib_present() } {
            return Err(CudaError::NoDevice("no CUDA driver (libcuda.so) on this machine".into()));
        }
        let count = CudaContext::device_count().map_err(|e| CudaError::NoDevice(e.to_string()))?;
        if usize::try_from(count).unwrap_or(0) <= ordinal {
            return Err(CudaError::NoDevice(format!("device {ordinal} asked for, {count} present")));
        }
        let nvrtc_version = nvrtc::version()?;
        let ptx = nvrtc::compile(None)?;
        let ctx = CudaContext::new(ordinal)?;
        let module = ctx.load_module(ptx)?;
        let quantize = module.load_function("pogo_quantize")?;
        let update = module.load_function("pogo_update")?;
        let square_sums = module.load_function("pogo_square_sums")?;
        let mut driver_cuda_version = 0i32;
        // SAFETY: writes one int through a valid pointer; the driver is loaded (checked above).
        unsafe { cudarc::driver::sys::cuDriverGetVersion(&mut driver_cuda_version) }
            .result()
            .map_err(CudaError::from)?;
        let info = DeviceInfo {
            name: ctx.name()?,
            compute_capability: ctx.compute_capability()?,
            total_memory: ctx.total_mem()?,
            driver_cuda_version,
            nvrtc_version,
        };
        let stream = ctx.default_stream();
        Ok(CudaBookkeeper { _ctx: ctx, stream, quantize, update, square_sums, info })
    }

    /// The device this runs on.
    pub fn info(&self) -> &DeviceInfo {
        &self.info
    }

    /// A one-element atomicMin flag on the device, set to "none".
    fn flag(&self) -> Result<CudaSlice<u64>, CudaError> {
        Ok(self.stream.clone_htod(&[NONE])?)
    }

    fn read_flag(&self, flag: &CudaSlice<u64>) -> Result<u64, CudaError> {
        Ok(self.stream.clone_dtoh(flag)?.first().copied().unwrap_or(NONE))
    }

    /// Quantizes `x` (already on the device) into `out`; `Err(index)` of the first non-finite value.
    fn launch_quantize(
        &self,
        x: &CudaSlice<f32>,
        n: usize,
        block: usize,
        out: &mut CudaSlice<u8>,
    ) -> Result<Result<(), u64>, CudaError> {
        let block32 = u32::try_from(block).map_err(|_| CudaError::TooLarge(block))?;
        let nblocks = as_u64(n).div_ceil(as_u64(block));
        let cfg = grid(nblocks, u64::from(THREADS / 32))?;
        let flag = self.flag()?;
        let n64 = as_u64(n);
        let mut launch = self.stream.launch_builder(&self.quantize);
        launch.arg(x).arg(&n64).arg(&block32).arg(out).arg(&flag);
        // SAFETY: the argument list matches pogo_quantize's signature; `x` holds n floats, `out` holds
        // encoded_len(n, block) bytes, which is every byte the kernel writes; `flag` holds one u64.
        unsafe { launch.launch(cfg) }?;
        let nonfinite = self.read_flag(&flag)?;
        Ok(if nonfinite == NONE { Ok(()) } else { Err(nonfinite) })
    }

    /// One update launch from device codes; on success the result is in `next`.
    fn launch_update(
        &self,
        p: &PreparedScalars,
        codes: &CudaSlice<u8>,
        n: usize,
        block: usize,
        values: &CudaSlice<f32>,
        next: &mut CudaSlice<f32>,
    ) -> Result<Result<(), BookkeepingError>, CudaError> {
        let block32 = u32::try_from(block).map_err(|_| CudaError::TooLarge(block))?;
        let cfg = grid(as_u64(n), u64::from(THREADS))?;
        let nonfinite = self.flag()?;
        let noncanonical = self.flag()?;
        let n64 = as_u64(n);
        let mut launch = self.stream.launch_builder(&self.update);
        launch
            .arg(&p.rule)
            .arg(codes)
            .arg(&n64)
            .arg(&block32)
            .arg(values)
            .arg(next)
            .arg(&p.gs)
            .arg(&p.lr)
            .arg(&p.wd)
            .arg(&p.mu)
            .arg(&p.b1)
            .arg(&p.b2)
            .arg(&p.omb1)
            .arg(&p.omb2)
            .arg(&p.eps)
            .arg(&p.decay)
            .arg(&p.bc1)
            .arg(&p.bc2)
            .arg(&nonfinite)
            .arg(&noncanonical);
        // SAFETY: the argument list matches pogo_update's signature; `codes` holds encoded_len(n, block)
        // bytes (checked by the callers), `values` and `next` hold n·(1 + slots) floats for the rule the
        // kernel is told, each flag one u64.
        unsafe { launch.launch(cfg) }?;
        let (nonfinite, noncanonical) = (self.read_flag(&nonfinite)?, self.read_flag(&noncanonical)?);
        Ok(if noncanonical != NONE {
            Err(BookkeepingError::Codec(QuantError::NonCanonical))
        } else if nonfinite != NONE {
            Err(BookkeepingError::Update(UpdateError::NonFinite { index: index(nonfinite) }))
        } else {
            Ok(())
        })
    }

    /// The checks `dequantize` + `apply_step` make before touching a value, in the CPU's order.
    fn check_step(
        rule: &UpdateRule,
        scalars: &StepScalars,
        n: usize,
        values_len: usize,
        codes: &[u8],
        block: usize,
    ) -> Result<PreparedScalars, BookkeepingError> {
        if block == 0 {
            return Err(BookkeepingError::Codec(QuantError::ZeroBlockSize));
        }
        if quant::encoded_len(n, block) != Some(codes.len()) {
            return Err(BookkeepingError::Codec(QuantError::WrongLength));
        }
        let shape_ok = n.checked_mul(rule.slots().saturating_add(1)) == Some(values_len);
        let prepared = PreparedScalars::new(rule, scalars);
        if !shape_ok || prepared.is_err() {
            // The CPU decodes first: a bad encoding is reported before a bad shape or bad scalars.
            quant::decode(codes, n, block).map_err(BookkeepingError::Codec)?;
            if !shape_ok {
                return Err(BookkeepingError::Update(UpdateError::WrongLeafShape));
            }
        }
        prepared.map_err(BookkeepingError::Update)
    }

    /// Uploads `leaf` to stay on the device.
    pub fn upload_leaf(&self, rule: &UpdateRule, leaf: &StateLeaf) -> Result<ResidentLeaf, BookkeepingError> {
        let slots = rule.slots();
        if leaf.n.checked_mul(slots.saturating_add(1)) != Some(leaf.values.len()) {
            return Err(BookkeepingError::Update(UpdateError::WrongLeafShape));
        }
        let values = self.stream.clone_htod(&leaf.values).map_err(CudaError::from)?;
        let next = self.stream.alloc_zeros::<f32>(leaf.values.len().max(1)).map_err(CudaError::from)?;
        Ok(ResidentLeaf { n: leaf.n, slots, values, next })
    }

    /// Copies a resident leaf back to the host.
    pub fn download_leaf(&self, leaf: &ResidentLeaf) -> Result<StateLeaf, BookkeepingError> {
        let values = self.stream.clone_dtoh(&leaf.values).map_err(CudaError::from)?;
        Ok(StateLeaf { n: leaf.n, values })
    }

    /// The miner's per-leaf bookkeeping on the device: quantize `gradient`, apply the step to the resident
    /// leaf from those very codes, and return the codes, the only bytes that come back. `scalars` carries the
    /// step's gradient scale (the clipping factor), computed by the caller. A refused step leaves the leaf
    /// unchanged.
    pub fn step_resident(
        &self,
        rule: &UpdateRule,
        scalars: &StepScalars,
        leaf: &mut ResidentLeaf,
        gradient: &[f32],
        block: usize,
    ) -> Result<Vec<u8>, BookkeepingError> {
        if block == 0 {
            return Err(BookkeepingError::Codec(QuantError::ZeroBlockSize));
        }
        if gradient.len() != leaf.n || leaf.slots != rule.slots() {
            return Err(BookkeepingError::Update(if gradient.len() != leaf.n {
                UpdateError::WrongGradientLength
            } else {
                UpdateError::WrongLeafShape
            }));
        }
        let p = PreparedScalars::new(rule, scalars).map_err(BookkeepingError::Update)?;
        let len = quant::encoded_len(leaf.n, block).ok_or(BookkeepingError::Codec(QuantError::WrongLength))?;
        if leaf.n == 0 {
            return Ok(Vec::new());
        }
        let x = self.stream.clone_htod(gradient).map_err(CudaError::from)?;
        let mut codes = self.stream.alloc_zeros::<u8>(len).map_err(CudaError::from)?;
        if let Err(i) = self.launch_quantize(&x, leaf.n, block, &mut codes)? {
            return Err(BookkeepingError::Codec(QuantError::NonFinite { index: index(i) }));
        }
        self.launch_update(&p, &codes, leaf.n, block, &leaf.values, &mut leaf.next)??;
        std::mem::swap(&mut leaf.values, &mut leaf.next);
        Ok(self.stream.clone_dtoh(&codes).map_err(CudaError::from)?)
    }
}

impl Bookkeeping for CudaBookkeeper {
    fn name(&self) -> String {
        self.info.name.clone()
    }

    fn quantize(&self, values: &[f32], block: usize) -> Result<Vec<u8>, BookkeepingError> {
        if block == 0 {
            return Err(BookkeepingError::Codec(QuantError::ZeroBlockSize));
        }
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let len = quant::encoded_len(values.len(), block).ok_or(CudaError::TooLarge(values.len()))?;
        let x = self.stream.clone_htod(values).map_err(CudaError::from)?;
        let mut out = self.stream.alloc_zeros::<u8>(len).map_err(CudaError::from)?;
        if let Err(i) = self.launch_quantize(&x, values.len(), block, &mut out)? {
            return Err(BookkeepingError::Codec(QuantError::NonFinite { index: index(i) }));
        }
        Ok(self.stream.clone_dtoh(&out).map_err(CudaError::from)?)
    }

    fn apply_step(
        &self,
        rule: &UpdateRule,
        scalars: &StepScalars,
        leaf: &mut StateLeaf,
        codes: &[u8],
        block: usize,
    ) -> Result<(), BookkeepingError> {
        let p = Self::check_step(rule, scalars, leaf.n, leaf.values.len(), codes, block)?;
        if leaf.n == 0 {
            return Ok(());
        }
        let codes_d = self.stream.clone_htod(codes).map_err(CudaError::from)?;
        let values = self.stream.clone_htod(&leaf.values).map_err(CudaError::from)?;
        let mut next = self.stream.alloc_zeros::<f32>(leaf.values.len()).map_err(CudaError::from)?;
        self.launch_update(&p, &codes_d, leaf.n, block, &values, &mut next)??;
        leaf.values = self.stream.clone_dtoh(&next).map_err(CudaError::from)?;
        Ok(())
    }

    fn leaf_square_sums(&self, codes: &[u8], n: usize, block: usize, leaf_size: usize) -> Result<Vec<f64>, BookkeepingError> {
        check_square_sums(block, leaf_size)?;
        if quant::encoded_len(n, block) != Some(codes.len()) {
            return Err(BookkeepingError::Codec(QuantError::WrongLength));
        }
        if n == 0 {
            return Ok(Vec::new());
        }
        let leaves = n.div_ceil(leaf_size);
        let block32 = u32::try_from(block).map_err(|_| CudaError::TooLarge(block))?;
        let leaf32 = u32::try_from(leaf_size).map_err(|_| CudaError::TooLarge(leaf_size))?;
        let n64 = as_u64(n);
        let codes_d = self.stream.clone_htod(codes).map_err(CudaError::from)?;
        let mut sums = self.stream.alloc_zeros::<f64>(leaves).map_err(CudaError::from)?;
        let noncanonical = self.flag()?;
        let cfg = grid(as_u64(leaves), u64::from(THREADS))?;
        let mut launch = self.stream.launch_builder(&self.square_sums);
        launch.arg(&codes_d).arg(&n64).arg(&block32).arg(&leaf32).arg(&mut sums).arg(&noncanonical);
        // SAFETY: the argument list matches pogo_square_sums's signature; `codes_d` holds encoded_len(n,
        // block) bytes (checked above), `sums` one f64 per leaf (the kernel's threads past the last leaf
        // return at once), the flag one u64.
        unsafe { launch.launch(cfg) }.map_err(CudaError::from)?;
        if self.read_flag(&noncanonical)? != NONE {
            return Err(BookkeepingError::Codec(QuantError::NonCanonical));
        }
        Ok(self.stream.clone_dtoh(&sums).map_err(CudaError::from)?)
    }
}
