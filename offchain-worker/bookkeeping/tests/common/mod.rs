//! What the bookkeeping's tests share: a seeded generator, thread pools and the specs they run on.
#![allow(dead_code, clippy::unwrap_used)]

use pogo_primitives::spec::{LrSchedule, TrainingSpec, UpdateRule};

pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn value(&mut self, scale: f32) -> f32 {
        match self.next() % 10 {
            0 => 0.0,
            1 => -0.0,
            2 => f32::from_bits(1 + (self.next() % 1000) as u32), // subnormal
            _ => ((self.next() >> 40) as f32 / (1u64 << 24) as f32 - 0.5) * scale,
        }
    }
}

pub fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap()
}

pub fn spec(param_count: u64, leaf_size: u32, codec_block: u32, rule: UpdateRule, max_grad_norm: f32) -> TrainingSpec {
    TrainingSpec {
        model: [7; 32],
        param_count,
        leaf_size,
        codec_block,
        rule,
        schedule: LrSchedule::WarmupCosine {
            peak_lr: 3e-3f32.to_bits(),
            min_lr: 1e-4f32.to_bits(),
            warmup_steps: 2,
            total_steps: 20,
        },
        max_grad_norm: max_grad_norm.to_bits(),
        steps_per_round: 6,
        checkpoint_interval: 2,
        batch_size: 8,
        train_examples: 1000,
        eval_examples: 100,
    }
}

pub fn specs() -> Vec<TrainingSpec> {
    let adamw = UpdateRule::AdamW {
        beta1: 0.9f32.to_bits(),
        beta2: 0.999f32.to_bits(),
        epsilon: 1e-8f32.to_bits(),
        weight_decay: 0.01f32.to_bits(),
    };
    let momentum = UpdateRule::Momentum { momentum: 0.9f32.to_bits(), weight_decay: 5e-4f32.to_bits() };
    let sgd = UpdateRule::Sgd { weight_decay: 0 };
    vec![
        spec(100_000, 4096, 64, adamw, 1.0),  // clipping on: 25 leaf square sums combined in leaf order
        spec(70_001, 1024, 128, momentum, 0.0), // a short last leaf, no clipping
        spec(4097, 256, 2, sgd, 0.5),
        spec(10, 4096, 64, adamw, 1.0), // one leaf
    ]
}
