//! Part `model`: model descriptors: SCALE bytes, hash, tensor offsets and every validation error.

use super::{
    json::{as_u64, decode_all, field, get_array, get_bytes, get_u64, hex, u64v},
    Cases,
};
use crate::model::{ModelDescriptor, TensorDescriptor};
use codec::Encode;
use serde_json::{json, Value};

/// The part's description in its file.
pub(super) const DESCRIPTION: &str = "Model descriptors (protocol.md section 4, model.rs). A descriptor is {architecture (bytes, \
UTF-8 when valid), tensors: [{name (bytes), shape (dimensions, outermost first)}]}. Kind descriptor: \
input descriptor and param_count (the spec's); expected scale (its SCALE encoding), hash (H_model of \
it, the spec's model field), offsets ([name, first parameter, element count] per tensor, null when the \
element counts overflow u64) and error (of validate against param_count; null when valid).";

/// A tensor.
fn t(name: &[u8], shape: &[u64]) -> TensorDescriptor {
    TensorDescriptor { name: name.to_vec(), shape: shape.to_vec() }
}

/// A 64-32-10 MLP (2,410 parameters).
fn mlp() -> ModelDescriptor {
    ModelDescriptor {
        architecture: br#"mlp {"inputs":64,"hidden":[32],"classes":10}"#.to_vec(),
        tensors: vec![t(b"fc0.w", &[32, 64]), t(b"fc0.b", &[32]), t(b"fc1.w", &[10, 32]), t(b"fc1.b", &[10])],
    }
}

/// A descriptor as JSON.
fn descriptor_json(m: &ModelDescriptor) -> Value {
    let tensors: Vec<Value> = m
        .tensors
        .iter()
        .map(|x| json!({ "name": hex(&x.name), "shape": x.shape.iter().map(|d| u64v(*d)).collect::<Vec<Value>>() }))
        .collect();
    json!({ "architecture": hex(&m.architecture), "tensors": tensors })
}

/// Reads [`descriptor_json`].
fn parse_descriptor(v: &Value) -> Result<ModelDescriptor, String> {
    let tensors = get_array(v, "tensors")?
        .iter()
        .map(|x| {
            Ok(TensorDescriptor {
                name: get_bytes(x, "name")?,
                shape: get_array(x, "shape")?.iter().map(as_u64).collect::<Result<Vec<u64>, String>>()?,
            })
        })
        .collect::<Result<Vec<TensorDescriptor>, String>>()?;
    Ok(ModelDescriptor { architecture: get_bytes(v, "architecture")?, tensors })
}

/// `mlp()` changed by `f`.
fn with(f: impl FnOnce(&mut ModelDescriptor)) -> ModelDescriptor {
    let mut m = mlp();
    f(&mut m);
    m
}

/// The part's cases.
pub(super) fn cases() -> Cases {
    let mut out = Cases::default();
    let mut add = |name: &str, m: &ModelDescriptor, param_count: u64| {
        out.add(name, "descriptor", json!({ "descriptor": descriptor_json(m), "param_count": u64v(param_count) }));
    };
    let n = 2410;
    add("64-32-10 MLP", &mlp(), n);
    add("the MLP with a scalar tensor", &with(|m| m.tensors.push(t(b"temperature", &[]))), n + 1);
    add("architecture of 1024 bytes", &with(|m| m.architecture = vec![b'a'; 1024]), n);
    add("name of 128 bytes", &with(|m| m.tensors[2].name = vec![b'n'; 128]), n);
    add("rank 8", &with(|m| m.tensors[3].shape = vec![1, 1, 1, 1, 1, 1, 2, 5]), n);
    add("one parameter fewer in the spec", &mlp(), n - 1);
    add("empty architecture", &with(|m| m.architecture.clear()), n);
    add("architecture not UTF-8", &with(|m| m.architecture = vec![0xff]), n);
    add("architecture of 1025 bytes", &with(|m| m.architecture = vec![b'a'; 1025]), n);
    add("no tensors", &with(|m| m.tensors.clear()), 0);
    add("1025 tensors", &with(|m| m.tensors = vec![t(b"x", &[1]); 1025]), 1025);
    add("empty name of tensor 1", &with(|m| m.tensors[1].name.clear()), n);
    add("name of 129 bytes for tensor 2", &with(|m| m.tensors[2].name = vec![b'n'; 129]), n);
    add("name of tensor 0 not UTF-8", &with(|m| m.tensors[0].name = vec![0xc3, 0x28]), n);
    add("tensor 3 repeats the name of tensor 0", &with(|m| m.tensors[3].name = b"fc0.w".to_vec()), n);
    add(
        "names a b a b: the first repeat is tensor 2",
        &with(|m| {
            m.tensors = vec![t(b"a", &[1]), t(b"b", &[1]), t(b"a", &[1]), t(b"b", &[1])];
        }),
        4,
    );
    add(
        "names x y y x: the first repeat is tensor 2",
        &with(|m| {
            m.tensors = vec![t(b"x", &[1]), t(b"y", &[1]), t(b"y", &[1]), t(b"x", &[1])];
        }),
        4,
    );
    add("rank 9 for tensor 0", &with(|m| m.tensors[0].shape = vec![1; 9]), n);
    add("zero dimension in tensor 1", &with(|m| m.tensors[1].shape = vec![0]), n);
    add(
        "a bad shape after a repeated name: the shape is found first",
        &with(|m| {
            m.tensors = vec![t(b"a", &[1]), t(b"a", &[1]), t(b"b", &[0])];
        }),
        2,
    );
    add("an empty name with a zero dimension: the name is found first", &with(|m| m.tensors[1] = t(b"", &[0])), n);
    add(
        "a repeated name and a wrong count: the name is found first",
        &with(|m| m.tensors[3].name = b"fc0.w".to_vec()),
        n + 1,
    );
    add("33 biases of the first layer", &with(|m| m.tensors[1].shape = vec![33]), n);
    add("element count overflows u64", &with(|m| m.tensors[0].shape = vec![u64::MAX, 2]), n);
    add("element counts sum past u64", &with(|m| m.tensors = vec![t(b"a", &[1u64 << 63]), t(b"b", &[1u64 << 63])]), 0);
    out
}

/// Evaluates one case.
pub(super) fn eval(kind: &str, input: &Value) -> Result<Value, String> {
    match kind {
        "descriptor" => {
            let m = parse_descriptor(field(input, "descriptor")?)?;
            let scale = m.encode();
            if decode_all::<ModelDescriptor>(&scale)? != m {
                return Err("the descriptor does not survive a SCALE round trip".into());
            }
            let offsets = m.offsets().map(|o| {
                o.into_iter().map(|(name, start, n)| json!([hex(name), u64v(start), u64v(n)])).collect::<Vec<Value>>()
            });
            let error = m.validate(get_u64(input, "param_count")?).err().map(|e| format!("{e:?}"));
            Ok(json!({ "scale": hex(&scale), "hash": hex(&m.hash()), "offsets": offsets, "error": error }))
        },
        other => Err(format!("unknown kind {other:?}")),
    }
}
