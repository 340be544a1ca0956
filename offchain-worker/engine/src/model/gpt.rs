//! A GPT-style byte-level language model (the paper's example family, scaled down): token and position
//! embeddings, pre-LayerNorm transformer blocks (causal multi-head self-attention, GELU MLP of width
//! 4·d), a final LayerNorm and an untied output head over the 256 byte values.
//! Record: `context + 1` consecutive bytes of text; inputs are the first `context`, targets the last.

use super::{check_lengths, Batch, BatchError, Init, Layout, Model, ParamSpec};
use tch::{Device, Kind, Tensor};

/// Shape of the language model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GptConfig {
    /// Context length in bytes.
    pub context: usize,
    /// Model width `d`.
    pub width: usize,
    /// Transformer blocks.
    pub layers: usize,
    /// Attention heads (`width` must be a multiple).
    pub heads: usize,
}

/// The vocabulary: one token per byte value.
pub const VOCAB: usize = 256;

impl GptConfig {
    /// The default task's model: context 64, width 64, 2 blocks, 4 heads (136,960 parameters).
    pub const SMALL: GptConfig = GptConfig { context: 64, width: 64, layers: 2, heads: 4 };
    /// The model of the overhead benchmark: context 128, width 384, 6 blocks, 6 heads (10.9 M parameters).
    pub const BENCH_10M: GptConfig = GptConfig { context: 128, width: 384, layers: 6, heads: 6 };
    /// The ≥ 100 M-parameter model of the scale benchmarks: context 128, width 768, 15 blocks, 12 heads
    /// (106.8 M parameters, GPT-2 small's width with three more blocks and a byte vocabulary).
    pub const BENCH_100M: GptConfig = GptConfig { context: 128, width: 768, layers: 15, heads: 12 };
}

/// The model. Parameter order: `wte [256, d]`, `wpe [context, d]`; per block `i`: `h{i}.ln1.g`,
/// `h{i}.ln1.b`, `h{i}.attn.qkv.w [3d, d]`, `h{i}.attn.qkv.b`, `h{i}.attn.proj.w [d, d]`,
/// `h{i}.attn.proj.b`, `h{i}.ln2.g`, `h{i}.ln2.b`, `h{i}.mlp.fc.w [4d, d]`, `h{i}.mlp.fc.b`,
/// `h{i}.mlp.proj.w [d, 4d]`, `h{i}.mlp.proj.b`; then `lnf.g`, `lnf.b`, `head.w [256, d]`.
pub struct Gpt {
    config: GptConfig,
    layout: Layout,
}

const PER_BLOCK: usize = 12;

impl Gpt {
    /// A model of `config` (GPT-2 initialisation: N(0, 0.02)-sized uniform weights of the same
    /// standard deviation, residual projections scaled by 1/√(2·layers), zero biases, unit gains).
    pub fn new(config: GptConfig) -> Self {
        let d = config.width as i64;
        let std = 0.02f32;
        let bound = std * 3f32.sqrt();
        let residual = bound / (2.0 * config.layers as f32).sqrt();
        let p = |name: String, shape: Vec<i64>, init: Init| ParamSpec { name, shape, init };
        let mut params = vec![
            p("wte".into(), vec![VOCAB as i64, d], Init::Uniform(bound)),
            p("wpe".into(), vec![config.context as i64, d], Init::Uniform(bound)),
        ];
        for i in 0..config.layers {
            params.extend([
                p(format!("h{i}.ln1.g"), vec![d], Init::Ones),
                p(format!("h{i}.ln1.b"), vec![d], Init::Zeros),
                p(format!("h{i}.attn.qkv.w"), vec![3 * d, d], Init::Uniform(bound)),
                p(format!("h{i}.attn.qkv.b"), vec![3 * d], Init::Zeros),
                p(format!("h{i}.attn.proj.w"), vec![d, d], Init::Uniform(residual)),
                p(format!("h{i}.attn.proj.b"), vec![d], Init::Zeros),
                p(format!("h{i}.ln2.g"), vec![d], Init::Ones),
                p(format!("h{i}.ln2.b"), vec![d], Init::Zeros),
                p(format!("h{i}.mlp.fc.w"), vec![4 * d, d], Init::Uniform(bound)),
                p(format!("h{i}.mlp.fc.b"), vec![4 * d], Init::Zeros),
                p(format!("h{i}.mlp.proj.w"), vec![d, 4 * d], Init::Uniform(residual)),
                p(format!("h{i}.mlp.proj.b"), vec![d], Init::Zeros),
            ]);
        }
        params.extend([
            p("lnf.g".into(), vec![d], Init::Ones),
            p("lnf.b".into(), vec![d], Init::Zeros),
            p("head.w".into(), vec![VOCAB as i64, d], Init::Uniform(bound)),
        ]);
        Self { config, layout: Layout::new(params) }
    }

    /// Its shape.
    pub fn config(&self) -> GptConfig {
        self.config
    }

    /// Logits `[B, T, 256]` for tokens `[B, T]`.
    pub fn logits(&self, theta: &Tensor, tokens: &Tensor) -> Tensor {
        let v = self.layout.views(theta);
        let (b, t) = (tokens.size()[0], tokens.size()[1]);
        let d = self.config.width as i64;
        let heads = self.config.heads as i64;
        let hd = d / heads;
        let positions = Tensor::arange(t, (Kind::Int64, tokens.device()));
        let mut x = Tensor::embedding(&v[0], tokens, -1, false, false)
            + Tensor::embedding(&v[1], &positions, -1, false, false).unsqueeze(0);
        // Causal mask: position i attends to positions ≤ i.
        let future = Tensor::ones([t, t], (Kind::Bool, tokens.device())).triu(1);
        let scale = 1.0 / (hd as f64).sqrt();
        for i in 0..self.config.layers {
            let w = &v[2 + i * PER_BLOCK..2 + (i + 1) * PER_BLOCK];
            let h = x.layer_norm([d], Some(&w[0]), Some(&w[1]), 1e-5, false);
            let qkv = h.linear(&w[2], Some(&w[3])).view([b, t, 3, heads, hd]).permute([2, 0, 3, 1, 4]);
            let (q, k, val) = (qkv.get(0), qkv.get(1), qkv.get(2));
            let att = (q.matmul(&k.transpose(-2, -1)) * scale)
                .masked_fill(&future, f64::NEG_INFINITY)
                .softmax(-1, Kind::Float);
            let y = att.matmul(&val).transpose(1, 2).contiguous().view([b, t, d]);
            // Residual additions build new tensors: an in-place `+=` would overwrite `x`, which
            // autograd saved for LayerNorm's backward.
            #[allow(clippy::assign_op_pattern)]
            {
                x = x + y.linear(&w[4], Some(&w[5]));
            }
            let h = x.layer_norm([d], Some(&w[6]), Some(&w[7]), 1e-5, false);
            #[allow(clippy::assign_op_pattern)]
            {
                x = x + h.linear(&w[8], Some(&w[9])).gelu("none").linear(&w[10], Some(&w[11]));
            }
        }
        let n = 2 + self.config.layers * PER_BLOCK;
        x.layer_norm([d], Some(&v[n]), Some(&v[n + 1]), 1e-5, false).linear::<&Tensor>(&v[n + 2], None)
    }
}

impl Model for Gpt {
    fn name(&self) -> &str {
        "gpt-bytes"
    }

    fn layout(&self) -> &Layout {
        &self.layout
    }

    fn record_len(&self) -> usize {
        self.config.context + 1
    }

    fn batch(&self, records: &[&[u8]], device: Device) -> Result<Batch, BatchError> {
        check_lengths(records, self.record_len())?;
        let t = self.config.context;
        let mut inputs = Vec::with_capacity(records.len() * t);
        let mut targets = Vec::with_capacity(records.len() * t);
        for r in records {
            inputs.extend(r[..t].iter().map(|&c| i64::from(c)));
            targets.extend(r[1..].iter().map(|&c| i64::from(c)));
        }
        let shape = [records.len() as i64, t as i64];
        Ok(Batch {
            inputs: Tensor::from_slice(&inputs).view(shape).to_device(device),
            targets: Tensor::from_slice(&targets).view(shape).to_device(device),
        })
    }

    fn loss(&self, theta: &Tensor, batch: &Batch) -> Tensor {
        let logits = self.logits(theta, &batch.inputs);
        logits.view([-1, VOCAB as i64]).cross_entropy_for_logits(&batch.targets.view([-1]))
    }
    fn record_losses(&self, theta: &Tensor, batch: &Batch) -> Tensor {
        let logits = self.logits(theta, &batch.inputs);
        let records = batch.inputs.size().first().copied().unwrap_or(1);
        logits
            .view([-1, VOCAB as i64])
            .cross_entropy_loss::<Tensor>(&batch.targets.view([-1]), None, tch::Reduction::None, -100, 0.0)
            .view([records, -1])
            .mean_dim(1, false, tch::Kind::Float)
    }
}
