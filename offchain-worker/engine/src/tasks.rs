//! The default tasks: a model, its data set and a training spec that matches them.

use crate::{
    data::{self, DataError, Dataset},
    model::{
        descriptor::{describe, gpt_architecture, mlp_architecture},
        Gpt, GptConfig, Mlp, MlpConfig, Model,
    },
};
use pogo_primitives::{
    spec::{LrSchedule, TrainingSpec, UpdateRule},
    ModelDescriptor,
};
use std::path::Path;

/// AdamW as the default tasks use it (β = 0.9/0.999, ε = 1e-8, weight decay 0.01).
pub const ADAMW: UpdateRule = UpdateRule::AdamW {
    beta1: 0x3f66_6666,        // 0.9
    beta2: 0x3f7f_be77,        // 0.999
    epsilon: 0x322b_cc77,      // 1e-8
    weight_decay: 0x3c23_d70a, // 0.01
};

/// A spec for `model` (committed by `descriptor`) on `data`: leaves of 4,096 parameters, codec blocks of
/// 64, gradient clipping at 1.
#[allow(clippy::too_many_arguments)]
pub fn spec_for(
    model: &dyn Model,
    descriptor: &ModelDescriptor,
    data: &Dataset,
    lr: f32,
    batch_size: u32,
    steps_per_round: u32,
    checkpoint_interval: u32,
) -> TrainingSpec {
    TrainingSpec {
        model: descriptor.hash(),
        param_count: model.layout().len() as u64,
        leaf_size: 4096,
        codec_block: 64,
        rule: ADAMW,
        schedule: LrSchedule::Constant { lr: lr.to_bits() },
        max_grad_norm: 1.0f32.to_bits(),
        steps_per_round,
        checkpoint_interval,
        batch_size,
        train_examples: data.train.len(),
        eval_examples: data.eval.len(),
    }
}

/// The descriptor of the digits task's model.
pub fn digits_model() -> ModelDescriptor {
    describe(&Mlp::new(MlpConfig::DIGITS), &mlp_architecture(&MlpConfig::DIGITS))
}

/// The descriptor of the language-model task's model of `config`.
pub fn text_model(config: GptConfig) -> ModelDescriptor {
    describe(&Gpt::new(config), &gpt_architecture(&config))
}

/// The digits classifier task: `MlpConfig::DIGITS` on scikit-learn's digits, AdamW lr 3e-3, batch 32,
/// rounds of 20 steps with checkpoints every 5.
pub fn digits_task(csv: Option<&Path>) -> Result<(Mlp, Dataset, TrainingSpec), DataError> {
    let data = data::digits(csv)?;
    let model = Mlp::new(MlpConfig::DIGITS);
    let spec = spec_for(&model, &digits_model(), &data, 3e-3, 32, 20, 5);
    Ok((model, data, spec))
}

/// The language-model task: `config` on a text corpus (default Shakespeare), AdamW lr 1e-3, batch 16,
/// rounds of 20 steps with checkpoints every 5.
pub fn text_task(corpus: Option<&Path>, config: GptConfig) -> Result<(Gpt, Dataset, TrainingSpec), DataError> {
    let data = data::text_corpus(corpus, config.context)?;
    let model = Gpt::new(config);
    let spec = spec_for(&model, &text_model(config), &data, 1e-3, 16, 20, 5);
    Ok((model, data, spec))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adamw_bits_are_the_documented_values() {
        let UpdateRule::AdamW { beta1, beta2, epsilon, weight_decay } = ADAMW else { unreachable!() };
        assert_eq!(f32::from_bits(beta1), 0.9);
        assert_eq!(f32::from_bits(beta2), 0.999);
        assert_eq!(f32::from_bits(epsilon), 1e-8);
        assert_eq!(f32::from_bits(weight_decay), 0.01);
    }
}
