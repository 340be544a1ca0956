//! One PoGO step: batch (from the round seed) → forward/backward in libtorch → the flat fp32 gradient →
//! the protocol's 4-bit codec and exact update rule (`pogo_primitives::builder::RoundBuilder`, the CPU
//! reference path) → the new state and the step's record.
//!
//! The gradient is computed on the engine's device (CUDA when present, CPU otherwise) in fp32 with the
//! pinned torch settings ([`crate::torch_settings`]); quantization and the update are exact f32 sequences
//! on the CPU, the same code the chain runs in a fraud proof.

use crate::{
    data::{DataError, Dataset},
    model::{BatchError, Model},
};
use pogo_primitives::{
    builder::{BuildError, RoundBuilder},
    round::StepRecord,
    seed::batch,
    spec::TrainingSpec,
    Hash,
};
use tch::{Device, Kind, Tensor};

/// Records per forward pass of [`Engine::eval_losses`].
pub const EVAL_LOSS_CHUNK: usize = 64;

/// Why a step failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The spec does not match the model or the data.
    #[error("spec mismatch: {0}")]
    Spec(String),
    /// Records could not be loaded.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Records could not become a batch.
    #[error(transparent)]
    Batch(#[from] BatchError),
    /// libtorch failed.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// The loss or the gradient is not finite (the step cannot be committed).
    #[error("non-finite loss or gradient at step {0}")]
    NonFinite(u32),
    /// The protocol rejected the step.
    #[error("round builder: {0:?}")]
    Build(BuildError),
}

/// A gradient and the loss it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Gradient {
    /// One value per parameter, in layout order.
    pub values: Vec<f32>,
    /// Mean training loss of the batch.
    pub loss: f32,
}

/// A model, its data and its spec on one device.
pub struct Engine<M: Model> {
    model: M,
    data: Dataset,
    spec: TrainingSpec,
    device: Device,
}

impl<M: Model> Engine<M> {
    /// Checks that `spec` describes `model` and `data` (parameter count, example counts, record size).
    pub fn new(model: M, data: Dataset, spec: TrainingSpec, device: Device) -> Result<Self, EngineError> {
        spec.validate().map_err(|e| EngineError::Spec(format!("{e:?}")))?;
        if spec.param_count != model.layout().len() as u64 {
            return Err(EngineError::Spec(format!(
                "param_count {} but {} has {} parameters",
                spec.param_count,
                model.name(),
                model.layout().len()
            )));
        }
        if spec.train_examples != data.train.len() || spec.eval_examples != data.eval.len() {
            return Err(EngineError::Spec(format!(
                "spec has {}/{} train/eval examples, data set {} has {}/{}",
                spec.train_examples,
                spec.eval_examples,
                data.name,
                data.train.len(),
                data.eval.len()
            )));
        }
        if data.record_len != model.record_len() {
            return Err(EngineError::Spec(format!(
                "records of {} bytes, {} needs {}",
                data.record_len,
                model.name(),
                model.record_len()
            )));
        }
        Ok(Self { model, data, spec, device })
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The data set.
    pub fn data(&self) -> &Dataset {
        &self.data
    }

    /// The spec.
    pub fn spec(&self) -> &TrainingSpec {
        &self.spec
    }

    /// The device gradients are computed on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The train-record indices of `step` of the round with `round_seed`.
    pub fn batch_indices(&self, round_seed: &Hash, step: u32) -> Vec<u64> {
        batch(round_seed, step, self.spec.batch_size, self.spec.train_examples)
    }

    /// The gradient of the mean loss over train records `indices` at `weights`.
    pub fn gradient_at(&self, weights: &[f32], indices: &[u64]) -> Result<Gradient, EngineError> {
        self.gradient_on(self.device, weights, indices)
    }

    /// [`Engine::gradient_at`] computed on `device` instead of the engine's (cross-device measurements).
    pub fn gradient_on(&self, device: Device, weights: &[f32], indices: &[u64]) -> Result<Gradient, EngineError> {
        let records = self.data.train.records(indices)?;
        let batch = self.model.batch(&records, device)?;
        let theta = Tensor::from_slice(weights).to_device(device).set_requires_grad(true);
        let loss = self.model.loss(&theta, &batch);
        loss.f_backward()?;
        let grad = theta.grad().to_device(Device::Cpu).to_kind(Kind::Float).contiguous();
        let values = Vec::<f32>::try_from(&grad)?;
        let loss = f32::try_from(loss.detach().to_device(Device::Cpu))?;
        Ok(Gradient { values, loss })
    }

    /// The gradient of `step` of a round (batch from `round_seed`) at `weights`.
    pub fn step_gradient(&self, weights: &[f32], round_seed: &Hash, step: u32) -> Result<Gradient, EngineError> {
        self.gradient_at(weights, &self.batch_indices(round_seed, step))
    }

    /// Runs the next step of `builder`'s round: gradient at its current weights, then the protocol's
    /// quantization and exact update. Returns the committed record.
    pub fn step(&self, builder: &mut RoundBuilder, round_seed: &Hash, step: u32) -> Result<StepRecord, EngineError> {
        let g = self.step_gradient(builder.weights(), round_seed, step)?;
        if !g.loss.is_finite() || g.values.iter().any(|v| !v.is_finite()) {
            return Err(EngineError::NonFinite(step));
        }
        builder.step(&g.values, g.loss).map_err(EngineError::Build)
    }

    /// Mean loss over the whole eval split (in chunks of `chunk` records), without gradients.
    pub fn eval_loss(&self, weights: &[f32], chunk: usize) -> Result<f64, EngineError> {
        let _no_grad = tch::no_grad_guard();
        let theta = Tensor::from_slice(weights).to_device(self.device);
        let all: Vec<&[u8]> = self.data.eval.iter().collect();
        let mut total = 0.0f64;
        for part in all.chunks(chunk.max(1)) {
            let batch = self.model.batch(part, self.device)?;
            let loss = f64::try_from(self.model.loss(&theta, &batch).to_device(Device::Cpu))?;
            total += loss * part.len() as f64;
        }
        Ok(total / all.len().max(1) as f64)
    }

    /// The loss of each eval record in `indices` at `weights`, without gradients, in batched forward
    /// passes of [`EVAL_LOSS_CHUNK`] records: a verifier's evaluation sample (protocol section 11,
    /// step 5).
    pub fn eval_losses(&self, weights: &[f32], indices: &[u64]) -> Result<Vec<f32>, EngineError> {
        let _no_grad = tch::no_grad_guard();
        let theta = Tensor::from_slice(weights).to_device(self.device);
        let records = self.data.eval.records(indices)?;
        let mut out = Vec::with_capacity(records.len());
        // Batched forward passes (one per EVAL_LOSS_CHUNK records): a record's loss is the same as from
        // its own forward pass up to float summation order, which the claim bound allows for.
        for chunk in records.chunks(EVAL_LOSS_CHUNK) {
            let batch = self.model.batch(chunk, self.device)?;
            let losses = self.model.record_losses(&theta, &batch).to_device(Device::Cpu).to_kind(tch::Kind::Float);
            out.extend(Vec::<f32>::try_from(losses.view([-1]))?);
        }
        Ok(out)
    }
}
