//! A small real round built with the protocol's round builder, shared by the tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use pogo_primitives::{
    builder::RoundBuilder,
    spec::{LrSchedule, TrainingSpec, UpdateRule},
};
use pogo_store::{ModelState, RoundIdentity, RoundManifest};

/// 1000 parameters in 4 leaves (the last one partial), AdamW, 6 steps with checkpoints after steps 3 and 5.
pub fn spec() -> TrainingSpec {
    TrainingSpec {
        model: [9; 32],
        param_count: 1000,
        leaf_size: 256,
        codec_block: 64,
        rule: UpdateRule::AdamW {
            beta1: 0.9f32.to_bits(),
            beta2: 0.999f32.to_bits(),
            epsilon: 1e-8f32.to_bits(),
            weight_decay: 0.01f32.to_bits(),
        },
        schedule: LrSchedule::Constant { lr: 1e-2f32.to_bits() },
        max_grad_norm: 5.0f32.to_bits(),
        steps_per_round: 6,
        checkpoint_interval: 4,
        batch_size: 4,
        train_examples: 100,
        eval_examples: 10,
    }
}

/// A synthetic gradient for `step`.
pub fn gradient(step: u32, n: usize, salt: u32) -> Vec<f32> {
    (0..n).map(|i| ((((i as u32) * 31 + step * 17 + salt * 7) % 97) as f32 - 48.0) * 1e-2).collect()
}

/// The base weights.
pub fn base_weights(n: usize) -> Vec<f32> {
    (0..n).map(|i| (i as f32 - 500.0) * 1e-3).collect()
}

/// A finished round and its manifest.
pub struct BuiltRound {
    pub spec: TrainingSpec,
    pub builder: RoundBuilder,
    pub manifest: RoundManifest,
}

impl BuiltRound {
    pub fn trace_root(&self) -> [u8; 32] {
        self.manifest.trace_root().unwrap()
    }

    /// The state at `step` (`None` = base) as a `ModelState`, rebuilt from the builder's leaves.
    pub fn state(&self, step: Option<u32>) -> ModelState {
        let (leaves, _) = self.builder.checkpoint_leaves(step).unwrap();
        let mut bytes = pogo_store::state_file::header(&self.spec).to_vec();
        for l in leaves {
            bytes.extend_from_slice(l);
        }
        ModelState::from_bytes(&self.spec, &bytes).unwrap()
    }
}

/// Builds a whole round; `salt` varies the gradients (and so every root).
pub fn build_round(salt: u32) -> BuiltRound {
    let spec = spec();
    let n = spec.param_count as usize;
    let mut builder = RoundBuilder::new(spec, base_weights(n), vec![vec![0.0; n], vec![0.0; n]], 1).unwrap();
    for step in 0..spec.steps_per_round {
        builder.step(&gradient(step, n, salt), 2.0 - step as f32 * 0.1).unwrap();
    }
    let (commitment, _) = builder.commitment(2.0, 1.5).unwrap();
    let identity = RoundIdentity { task: 3, round: 1 + salt, miner: [5; 32], first_global_step: 1 };
    let manifest = RoundManifest::new(identity, &spec, &commitment, &builder.records());
    BuiltRound { spec, builder, manifest }
}
