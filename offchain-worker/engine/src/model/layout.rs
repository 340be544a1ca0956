//! The flat parameter layout: every model's parameters are one f32 vector, the protocol's `weights`,
//! with each named tensor a contiguous row-major slice in declaration order. The forward pass reads the
//! tensors as views of that vector, so the gradient is the vector's gradient: no gathering, and the order
//! is exactly the one committed in the state tree.

use tch::Tensor;

/// How a tensor is initialised.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// All zeros (biases, LayerNorm shifts).
    Zeros,
    /// All ones (LayerNorm gains).
    Ones,
    /// Uniform in `[-bound, bound)`.
    Uniform(f32),
}

/// One named tensor of a model.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    /// Name, `module.tensor` (e.g. `h0.attn.qkv.w`).
    pub name: String,
    /// Shape, row-major.
    pub shape: Vec<i64>,
    /// Initialisation.
    pub init: Init,
}

impl ParamSpec {
    /// Number of values.
    pub fn numel(&self) -> usize {
        self.shape.iter().map(|&d| usize::try_from(d).unwrap_or(0)).product()
    }
}

/// The ordered tensors of a model and their offsets in the flat vector.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    params: Vec<ParamSpec>,
    offsets: Vec<usize>,
    total: usize,
}

impl Layout {
    /// The layout of `params` in this order.
    pub fn new(params: Vec<ParamSpec>) -> Self {
        let mut offsets = Vec::with_capacity(params.len());
        let mut total = 0usize;
        for p in &params {
            offsets.push(total);
            total += p.numel();
        }
        Self { params, offsets, total }
    }

    /// Total parameter count.
    pub fn len(&self) -> usize {
        self.total
    }

    /// Whether the model has no parameters.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The tensors in order, with their offsets.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &ParamSpec)> {
        self.offsets.iter().copied().zip(&self.params)
    }

    /// Views of every tensor of the flat `theta` (1-D, `len()` values), in declaration order.
    ///
    /// One `split_with_sizes` (the tensors are contiguous and in order, see `new`), not one `narrow` per
    /// tensor: autograd's backward of a `narrow` builds a zero tensor the size of all of `theta` and adds
    /// its slice into it, once per tensor, which took 70 % (10.9 M parameters) to 86 % (107 M) of a CPU
    /// training step; the split's backward concatenates the slices' gradients once. The gradient's values
    /// are the same (docs/performance.md, "tch against PyTorch").
    pub fn views(&self, theta: &Tensor) -> Vec<Tensor> {
        let sizes: Vec<i64> = self.params.iter().map(|p| p.numel() as i64).collect();
        theta
            .split_with_sizes(sizes.as_slice(), 0)
            .into_iter()
            .zip(&self.params)
            .map(|(part, p)| part.view(p.shape.as_slice()))
            .collect()
    }

    /// Initial weights from a 32-byte seed: uniform values from BLAKE3's XOF keyed with the context
    /// "pogo-worker v1 init", 24 random bits per value (`u = k·2⁻²⁴`, value `(2u − 1)·bound`, exact in
    /// f32 but for the final multiplication), so every machine derives the same vector.
    pub fn init(&self, seed: &[u8; 32]) -> Vec<f32> {
        let mut hasher = blake3::Hasher::new_derive_key("pogo-worker v1 init");
        hasher.update(seed);
        let mut xof = hasher.finalize_xof();
        let mut out = Vec::with_capacity(self.total);
        let mut word = [0u8; 4];
        for p in &self.params {
            let n = p.numel();
            match p.init {
                Init::Zeros => out.extend(std::iter::repeat_n(0.0f32, n)),
                Init::Ones => out.extend(std::iter::repeat_n(1.0f32, n)),
                Init::Uniform(bound) => {
                    for _ in 0..n {
                        xof.fill(&mut word);
                        let k = u32::from_le_bytes(word) >> 8;
                        let u = k as f32 * (1.0 / 16_777_216.0);
                        out.push((2.0 * u - 1.0) * bound);
                    }
                },
            }
        }
        out
    }

    /// A human-readable table of the layout (docs and `--describe`).
    pub fn describe(&self) -> String {
        let mut s = String::new();
        for (offset, p) in self.iter() {
            s.push_str(&format!("{offset:>10}  {:<24} {:?}\n", p.name, p.shape));
        }
        s.push_str(&format!("{:>10}  total\n", self.total));
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_declaration_order_and_init_is_reproducible() {
        let l = Layout::new(vec![
            ParamSpec { name: "a.w".into(), shape: vec![2, 3], init: Init::Uniform(0.5) },
            ParamSpec { name: "a.b".into(), shape: vec![2], init: Init::Zeros },
            ParamSpec { name: "n.g".into(), shape: vec![3], init: Init::Ones },
        ]);
        assert_eq!(l.len(), 11);
        assert_eq!(l.iter().map(|(o, _)| o).collect::<Vec<_>>(), vec![0, 6, 8]);
        let w = l.init(&[7; 32]);
        assert_eq!(w, l.init(&[7; 32]));
        assert_ne!(w, l.init(&[8; 32]));
        assert!(w[..6].iter().all(|v| (-0.5..0.5).contains(v)));
        assert_eq!(&w[6..], &[0.0, 0.0, 1.0, 1.0, 1.0]);
        let theta = Tensor::from_slice(&w);
        let views = l.views(&theta);
        assert_eq!(views[0].size(), vec![2, 3]);
        assert_eq!(f32::try_from(views[0].get(1).get(2)).unwrap(), w[5]);
        assert_eq!(f32::try_from(views[2].get(0)).unwrap(), 1.0);
    }
}
