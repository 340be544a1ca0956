//! A two-layer perceptron classifier for 8×8 handwritten digits (scikit-learn's bundled UCI digits).
//! Record: 64 pixel intensities (0..=16) then the label (0..=9), one byte each.

use super::{check_lengths, Batch, BatchError, Init, Layout, Model, ParamSpec};
use tch::{Device, Kind, Tensor};

/// Shape of the classifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MlpConfig {
    /// Input features (64 for 8×8 digits).
    pub inputs: usize,
    /// Hidden units.
    pub hidden: usize,
    /// Classes.
    pub classes: usize,
}

impl MlpConfig {
    /// The default task's classifier: 64 → 128 (ReLU) → 10, 9,610 parameters.
    pub const DIGITS: MlpConfig = MlpConfig { inputs: 64, hidden: 128, classes: 10 };
}

/// The classifier. Parameter order: `fc1.w [hidden, inputs]`, `fc1.b`, `fc2.w [classes, hidden]`, `fc2.b`.
pub struct Mlp {
    config: MlpConfig,
    layout: Layout,
}

impl Mlp {
    /// A classifier of `config`, initialised like PyTorch's `nn.Linear` (uniform ±1/√fan_in weights,
    /// zero biases).
    pub fn new(config: MlpConfig) -> Self {
        let (i, h, c) = (config.inputs as i64, config.hidden as i64, config.classes as i64);
        let bound = |fan_in: i64| 1.0 / (fan_in as f32).sqrt();
        let layout = Layout::new(vec![
            ParamSpec { name: "fc1.w".into(), shape: vec![h, i], init: Init::Uniform(bound(i)) },
            ParamSpec { name: "fc1.b".into(), shape: vec![h], init: Init::Zeros },
            ParamSpec { name: "fc2.w".into(), shape: vec![c, h], init: Init::Uniform(bound(h)) },
            ParamSpec { name: "fc2.b".into(), shape: vec![c], init: Init::Zeros },
        ]);
        Self { config, layout }
    }

    /// Its shape.
    pub fn config(&self) -> MlpConfig {
        self.config
    }

    /// Logits `[B, classes]`.
    pub fn logits(&self, theta: &Tensor, inputs: &Tensor) -> Tensor {
        let v = self.layout.views(theta);
        let (w1, b1, w2, b2) = (&v[0], &v[1], &v[2], &v[3]);
        inputs.linear(w1, Some(b1)).relu().linear(w2, Some(b2))
    }
}

impl Model for Mlp {
    fn name(&self) -> &str {
        "mlp-digits"
    }

    fn layout(&self) -> &Layout {
        &self.layout
    }

    fn record_len(&self) -> usize {
        self.config.inputs + 1
    }

    fn batch(&self, records: &[&[u8]], device: Device) -> Result<Batch, BatchError> {
        check_lengths(records, self.record_len())?;
        let n = self.config.inputs;
        let mut pixels = Vec::with_capacity(records.len() * n);
        let mut labels = Vec::with_capacity(records.len());
        for (index, r) in records.iter().enumerate() {
            let (x, y) = r.split_at(n);
            if x.iter().any(|&p| p > 16) || usize::from(y[0]) >= self.config.classes {
                return Err(BatchError::Value { index });
            }
            // Intensities 0..=16 scaled to [0, 1] (exact: division by a power of two).
            pixels.extend(x.iter().map(|&p| f32::from(p) / 16.0));
            labels.push(i64::from(y[0]));
        }
        let b = records.len() as i64;
        Ok(Batch {
            inputs: Tensor::from_slice(&pixels).view([b, n as i64]).to_device(device),
            targets: Tensor::from_slice(&labels).to_device(device),
        })
    }

    fn loss(&self, theta: &Tensor, batch: &Batch) -> Tensor {
        self.logits(theta, &batch.inputs).cross_entropy_for_logits(&batch.targets)
    }
    fn record_losses(&self, theta: &Tensor, batch: &Batch) -> Tensor {
        self.logits(theta, &batch.inputs).cross_entropy_loss::<Tensor>(&batch.targets, None, tch::Reduction::None, -100, 0.0)
    }
}

/// Classification accuracy of `theta` on a batch (evaluation only).
pub fn accuracy(model: &Mlp, theta: &Tensor, batch: &Batch) -> f64 {
    let predicted = model.logits(theta, &batch.inputs).argmax(-1, false);
    let correct = predicted.eq_tensor(&batch.targets).to_kind(Kind::Float).mean(Kind::Float);
    f64::try_from(correct).unwrap_or(0.0)
}
