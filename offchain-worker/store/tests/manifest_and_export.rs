//! Round manifests bind to their trace root; safetensors exports round-trip.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use codec::Encode;
use common::build_round;
use pogo_primitives::{
    model::{ModelDescriptor, ModelError, TensorDescriptor},
    round::RoundError,
};
use pogo_store::{safetensors_bytes, ExportError, ManifestError, RoundManifest};
use safetensors::{tensor::Dtype, SafeTensors};

#[test]
fn a_built_manifest_verifies_and_survives_json() {
    let r = build_round(0);
    let verified = r.manifest.verify().unwrap();
    assert_eq!(verified.spec, r.spec);
    assert_eq!(verified.records, r.builder.records());
    assert_eq!(verified.checkpoints.len(), 3);
    assert_eq!(verified.checkpoints[0], (None, r.builder.base_root()));
    assert_eq!(verified.gradient_roots().count(), 6);
    let json = serde_json::to_string(&r.manifest).unwrap();
    let back: RoundManifest = serde_json::from_str(&json).unwrap();
    assert_eq!(back, r.manifest);
    back.verify().unwrap();
    assert_eq!(back.identity().unwrap().miner, [5; 32]);
    assert_eq!(back.spec().unwrap(), r.spec);
    assert_eq!(back.round_seed().unwrap(), verified.round_seed);
}

#[test]
fn any_changed_field_is_refused() {
    let r = build_round(1);
    let good = r.manifest.clone();
    let refused = |f: &dyn Fn(&mut RoundManifest)| {
        let mut m = good.clone();
        f(&mut m);
        m.verify().unwrap_err()
    };
    // A changed record (another gradient root) no longer gives the trace root.
    let mut records = r.builder.records();
    records[2].gradient_root[0] ^= 1;
    let changed = hex::encode(records.encode());
    assert_eq!(refused(&|m| m.records = changed.clone()), ManifestError::TraceRootMismatch);
    // Records that are not a round under the spec.
    let mut records = r.builder.records();
    records[1].checkpoint_root = Some([1; 32]);
    let misplaced = hex::encode(records.encode());
    assert_eq!(refused(&|m| m.records = misplaced.clone()), ManifestError::Records(RoundError::CheckpointMisplaced));
    let short = hex::encode(r.builder.records()[..5].to_vec().encode());
    assert_eq!(refused(&|m| m.records = short.clone()), ManifestError::Records(RoundError::WrongStepCount));
    // Redundant fields must agree.
    assert_eq!(refused(&|m| m.train_losses[0] += 1.0), ManifestError::Inconsistent { field: "train_losses" });
    assert_eq!(refused(&|m| m.eval_loss_after = 9.0), ManifestError::Inconsistent { field: "eval_loss_after" });
    assert_eq!(refused(&|m| m.checkpoints.reverse()), ManifestError::Inconsistent { field: "checkpoints" });
    assert_eq!(refused(&|m| m.round += 1), ManifestError::Inconsistent { field: "round_seed" });
    assert_eq!(refused(&|m| m.miner = hex::encode([6u8; 32])), ManifestError::Inconsistent { field: "round_seed" });
    // Encodings.
    assert_eq!(refused(&|m| m.version = 2), ManifestError::Version(2));
    assert_eq!(refused(&|m| m.spec.push('x')), ManifestError::Hex { field: "spec" });
    assert_eq!(refused(&|m| m.commitment.push_str("00")), ManifestError::Decode { field: "commitment" });
    assert_eq!(refused(&|m| m.round_seed = "00".into()), ManifestError::Hex { field: "round_seed" });
    let mut bad_spec = r.spec;
    bad_spec.codec_block = 48;
    let bad_spec = hex::encode(bad_spec.encode());
    assert!(matches!(refused(&|m| m.spec = bad_spec.clone()), ManifestError::Spec(_)));
}

fn descriptor() -> ModelDescriptor {
    let t = |name: &str, shape: &[u64]| TensorDescriptor { name: name.as_bytes().to_vec(), shape: shape.to_vec() };
    ModelDescriptor {
        architecture: br#"mlp {"inputs":4,"hidden":[3],"classes":2}"#.to_vec(),
        tensors: vec![t("fc0.weight", &[3, 4]), t("fc0.bias", &[3]), t("fc1.weight", &[2, 3]), t("fc1.bias", &[2]), t("scale", &[])],
    }
}

#[test]
fn export_round_trips_through_safetensors() {
    let d = descriptor();
    let weights: Vec<f32> = (0..24).map(|i| i as f32 * 0.5 - 3.0).collect();
    let bytes = safetensors_bytes(&d, &weights).unwrap();
    let file = SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(file.len(), 5);
    let offsets = d.offsets().unwrap();
    for (t, (name, start, count)) in d.tensors.iter().zip(offsets) {
        let name = std::str::from_utf8(name).unwrap();
        let view = file.tensor(name).unwrap();
        assert_eq!(view.dtype(), Dtype::F32);
        let shape: Vec<usize> = t.shape.iter().map(|d| *d as usize).collect();
        assert_eq!(view.shape(), shape.as_slice(), "{name}");
        let values: Vec<f32> =
            view.data().chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
        assert_eq!(values, weights[start as usize..(start + count) as usize], "{name}");
    }
    let (_, metadata) = SafeTensors::read_metadata(&bytes).unwrap();
    let info = metadata.metadata().clone().unwrap();
    assert_eq!(info["format"], "pt");
    assert_eq!(info["pogo.architecture"], r#"mlp {"inputs":4,"hidden":[3],"classes":2}"#);
    assert_eq!(info["pogo.model_hash"], hex::encode(d.hash()));
}

#[test]
fn export_refuses_weights_that_do_not_fit_the_descriptor() {
    let d = descriptor();
    assert!(matches!(
        safetensors_bytes(&d, &[0.0; 23]),
        Err(ExportError::Descriptor(ModelError::ParamCountMismatch))
    ));
    let mut dup = d.clone();
    dup.tensors[1].name = b"fc0.weight".to_vec();
    assert!(matches!(safetensors_bytes(&dup, &[0.0; 24]), Err(ExportError::Descriptor(ModelError::DuplicateTensorName { .. }))));
}
