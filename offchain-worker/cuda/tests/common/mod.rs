//! Inputs that exercise every rounding path of the codec and the update rules.
#![allow(dead_code, missing_docs, clippy::unwrap_used, clippy::expect_used)]

use pogo_cuda::{CudaBookkeeper, CudaError};
use pogo_primitives::spec::{StepScalars, UpdateRule};

/// The GPU, or `None` after printing `skipped: no CUDA device (...)`. Any other failure (NVRTC missing,
/// kernels refused by the PTX audit, a driver error) fails the test.
pub fn gpu(test: &str) -> Option<CudaBookkeeper> {
    match CudaBookkeeper::open(0) {
        Ok(g) => {
            eprintln!("{test}: on {:?}", g.info());
            Some(g)
        },
        Err(CudaError::NoDevice(why)) => {
            eprintln!("{test}: skipped: no CUDA device ({why})");
            None
        },
        Err(e) => panic!("{test}: the GPU path failed: {e}"),
    }
}

/// xorshift64*: reproducible inputs without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// A gradient-like value, with the awkward cases mixed in: exact ties of the codec's rounding, zeros of
    /// both signs, subnormals, the extremes of f32.
    pub fn value(&mut self) -> f32 {
        match self.next() % 16 {
            0 => 0.0,
            1 => -0.0,
            2 => f32::from_bits(1 + (self.next() % 0x007f_ffff) as u32) * if self.next().is_multiple_of(2) { 1.0 } else { -1.0 },
            3 => (self.next() % 15) as f32 * 0.5 - 3.5, // halves: ties once scaled by a scale of 1.0
            4 => f32::MAX * (self.unit() - 0.5),
            _ => (self.unit() - 0.5) * 10f32.powi((self.next() % 12) as i32 - 8),
        }
    }

    pub fn vector(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.value()).collect()
    }
}

/// One rule of each kind with realistic hyper-parameters, and weight decay where it applies.
pub fn rules() -> Vec<UpdateRule> {
    vec![
        UpdateRule::Sgd { weight_decay: 0.01f32.to_bits() },
        UpdateRule::Momentum { momentum: 0.9f32.to_bits(), weight_decay: 5e-4f32.to_bits() },
        UpdateRule::AdamW {
            beta1: 0.9f32.to_bits(),
            beta2: 0.999f32.to_bits(),
            epsilon: 1e-8f32.to_bits(),
            weight_decay: 0.1f32.to_bits(),
        },
    ]
}

pub fn scalars(rule: &UpdateRule, step: u32, lr: f32, gs: f32) -> StepScalars {
    let (bc1, bc2) = match rule {
        UpdateRule::AdamW { .. } => {
            let t = step as i32 + 1;
            (1.0 / (1.0 - 0.9f32.powi(t)), 1.0 / (1.0 - 0.999f32.powi(t)))
        },
        _ => (1.0, 1.0),
    };
    StepScalars {
        learning_rate: lr.to_bits(),
        gradient_scale: gs.to_bits(),
        bias_correction1: bc1.to_bits(),
        bias_correction2: bc2.to_bits(),
    }
}
