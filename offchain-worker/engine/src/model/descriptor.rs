//! Models as the chain commits them: a task's `ModelDescriptor` (pogo-primitives `model`) names the
//! architecture (`<family> <JSON config>`) and the ordered tensors. A worker learns what to train from
//! the descriptor alone, refuses what it does not support, and names the tensors of a fetched model.
//!
//! Families: `mlp-digits {"inputs":64,"hidden":128,"classes":10}` ([`MlpConfig`]) and
//! `gpt-bytes {"context":64,"width":64,"layers":2,"heads":4}` ([`GptConfig`]). A descriptor is
//! supported iff its architecture parses to one of them and the model built from it has exactly the
//! descriptor's tensors (names, shapes, order).

use super::{Gpt, GptConfig, Mlp, MlpConfig, Model};
use pogo_primitives::{ModelDescriptor, TensorDescriptor};

/// Why a descriptor cannot be trained here.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DescriptorError {
    /// The architecture string is not `<family> <JSON>`, or not UTF-8.
    #[error("architecture is not `<family> <json config>`: {0}")]
    Malformed(String),
    /// A family this worker does not implement.
    #[error("unsupported model family `{0}` (this worker trains mlp-digits and gpt-bytes)")]
    UnsupportedFamily(String),
    /// The configuration does not parse or is out of range.
    #[error("bad {family} configuration: {reason}")]
    BadConfig {
        /// The family.
        family: String,
        /// What is wrong.
        reason: String,
    },
    /// The model built from the architecture has other tensors than the descriptor lists.
    #[error("the {family} model has other tensors than the descriptor (first difference at tensor {index})")]
    TensorMismatch {
        /// The family.
        family: String,
        /// First differing position.
        index: usize,
    },
}

/// A model the worker can train, built from a descriptor.
pub enum AnyModel {
    /// The digits classifier family.
    Mlp(Mlp),
    /// The byte-level GPT family.
    Gpt(Gpt),
}

impl AnyModel {
    /// The model as a trait object.
    pub fn as_model(&self) -> &dyn Model {
        match self {
            AnyModel::Mlp(m) => m,
            AnyModel::Gpt(m) => m,
        }
    }
}

impl Model for AnyModel {
    fn name(&self) -> &str {
        self.as_model().name()
    }
    fn layout(&self) -> &super::Layout {
        self.as_model().layout()
    }
    fn record_len(&self) -> usize {
        self.as_model().record_len()
    }
    fn batch(&self, records: &[&[u8]], device: tch::Device) -> Result<super::Batch, super::BatchError> {
        self.as_model().batch(records, device)
    }
    fn loss(&self, theta: &tch::Tensor, batch: &super::Batch) -> tch::Tensor {
        self.as_model().loss(theta, batch)
    }
    fn record_losses(&self, theta: &tch::Tensor, batch: &super::Batch) -> tch::Tensor {
        self.as_model().record_losses(theta, batch)
    }
}

/// The architecture string of an MLP.
pub fn mlp_architecture(c: &MlpConfig) -> String {
    format!("mlp-digits {}", serde_json::json!({"inputs": c.inputs, "hidden": c.hidden, "classes": c.classes}))
}

/// The architecture string of a GPT.
pub fn gpt_architecture(c: &GptConfig) -> String {
    format!(
        "gpt-bytes {}",
        serde_json::json!({"context": c.context, "width": c.width, "layers": c.layers, "heads": c.heads})
    )
}

/// The descriptor a task commits for `model` with architecture string `architecture`.
pub fn describe(model: &dyn Model, architecture: &str) -> ModelDescriptor {
    ModelDescriptor {
        architecture: architecture.as_bytes().to_vec(),
        tensors: model
            .layout()
            .iter()
            .map(|(_, p)| TensorDescriptor {
                name: p.name.as_bytes().to_vec(),
                shape: p.shape.iter().map(|d| u64::try_from(*d).unwrap_or(0)).collect(),
            })
            .collect(),
    }
}

fn config<C: serde::de::DeserializeOwned>(family: &str, json: &str) -> Result<C, DescriptorError> {
    serde_json::from_str(json).map_err(|e| DescriptorError::BadConfig { family: family.into(), reason: e.to_string() })
}

/// Builds the model a descriptor describes, or says why this worker cannot train it.
pub fn build(d: &ModelDescriptor) -> Result<AnyModel, DescriptorError> {
    let text = std::str::from_utf8(&d.architecture).map_err(|e| DescriptorError::Malformed(e.to_string()))?;
    let (family, json) = text.split_once(' ').ok_or_else(|| DescriptorError::Malformed(text.into()))?;
    let bad = |reason: &str| DescriptorError::BadConfig { family: family.into(), reason: reason.into() };
    let model = match family {
        "mlp-digits" => {
            let c: MlpConfig = config(family, json)?;
            if c.inputs == 0 || c.hidden == 0 || c.classes == 0 || c.inputs != 64 || c.classes != 10 {
                return Err(bad("the digits data need 64 inputs and 10 classes, and every size ≥ 1"));
            }
            AnyModel::Mlp(Mlp::new(c))
        },
        "gpt-bytes" => {
            let c: GptConfig = config(family, json)?;
            if c.context == 0 || c.width == 0 || c.layers == 0 || c.heads == 0 || !c.width.is_multiple_of(c.heads) {
                return Err(bad("every size must be ≥ 1 and width a multiple of heads"));
            }
            AnyModel::Gpt(Gpt::new(c))
        },
        other => return Err(DescriptorError::UnsupportedFamily(other.into())),
    };
    let ours = describe(model.as_model(), text);
    if let Some(index) = (0..ours.tensors.len().max(d.tensors.len())).find(|i| ours.tensors.get(*i) != d.tensors.get(*i)) {
        return Err(DescriptorError::TensorMismatch { family: family.into(), index });
    }
    Ok(model)
}

/// One tensor of a flat state: its name, shape and values.
pub type NamedTensor<'a> = (&'a str, &'a [u64], &'a [f32]);

/// The flat `weights` split into named, shaped tensors in descriptor order (for export, e.g. to a
/// PyTorch `state_dict`); `None` when the lengths disagree.
pub fn named_tensors<'a>(d: &'a ModelDescriptor, weights: &'a [f32]) -> Option<Vec<NamedTensor<'a>>> {
    let mut out = Vec::with_capacity(d.tensors.len());
    let mut at = 0usize;
    for t in &d.tensors {
        let n = usize::try_from(t.numel()?).ok()?;
        let end = at.checked_add(n)?;
        out.push((std::str::from_utf8(&t.name).ok()?, t.shape.as_slice(), weights.get(at..end)?));
        at = end;
    }
    (at == weights.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_round_trip_and_foreign_ones_are_refused() {
        for (m, arch) in [
            (AnyModel::Mlp(Mlp::new(MlpConfig::DIGITS)), mlp_architecture(&MlpConfig::DIGITS)),
            (AnyModel::Gpt(Gpt::new(GptConfig::SMALL)), gpt_architecture(&GptConfig::SMALL)),
        ] {
            let d = describe(m.as_model(), &arch);
            d.validate(m.as_model().layout().len() as u64).unwrap();
            let built = build(&d).unwrap();
            assert_eq!(describe(built.as_model(), &arch), d);
            let w = vec![0.5f32; m.as_model().layout().len()];
            let named = named_tensors(&d, &w).unwrap();
            assert_eq!(named.len(), d.tensors.len());
            assert!(named_tensors(&d, &w[1..]).is_none());
            // a reordered tensor list is another model
            let mut swapped = d.clone();
            swapped.tensors.swap(0, 1);
            assert!(matches!(build(&swapped), Err(DescriptorError::TensorMismatch { index: 0, .. })));
        }
        let d = |a: &str| ModelDescriptor { architecture: a.as_bytes().to_vec(), tensors: vec![] };
        assert_eq!(build(&d("resnet50 {}")).err(), Some(DescriptorError::UnsupportedFamily("resnet50".into())));
        assert!(matches!(build(&d("gpt-bytes")), Err(DescriptorError::Malformed(_))));
        assert!(matches!(build(&d("gpt-bytes {\"context\":8}")), Err(DescriptorError::BadConfig { .. })));
        assert!(matches!(
            build(&d("gpt-bytes {\"context\":8,\"width\":30,\"layers\":1,\"heads\":4}")),
            Err(DescriptorError::BadConfig { .. })
        ));
    }
}
