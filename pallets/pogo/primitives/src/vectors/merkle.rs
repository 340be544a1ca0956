//! Part `merkle`: roots and proofs of trees of 0 to 33 leaves, node and seal hashes, proof sizes, and
//! proof verification including every refusal.

use super::{
    json::{
        as_hash, as_u64, err, field, get_array, get_bytes, get_bytes_list, get_hash, get_u64, hex, hex_list, hexes,
        u64v, SplitMix,
    },
    Cases,
};
use crate::{
    hash::Hash,
    merkle::{leaf_hash, node_hash, root_of_leaf_hashes, seal, MerkleProof, MerkleTree, MAX_PROOF_DEPTH},
};
use codec::Encode;
use serde_json::{json, Value};

/// The part's description in its file.
pub(super) const DESCRIPTION: &str = "Binary Merkle tree (protocol.md section 5, merkle.rs): leaf = \
H_leaf(bytes), node = H_node(left || right), an odd last node is promoted unchanged, root = \
H_root(leaf_count as u64 LE || top node). A proof is {leaf_index, leaf_count, siblings} with the siblings \
from the bottom up, skipping promoted levels. Kind tree: input leaves (bytes); expected leaf_hashes, \
root and proofs (the siblings of every leaf's proof, in leaf order), or an error. Kind node_hash: input \
left, right; expected node. Kind seal: input leaf_count, top; expected root. Kind max_proof_len: input \
leaf_count; expected the bound on a proof's SCALE size. Kind proof: input leaves, index; expected the \
proof, its SCALE encoding (scale) and encoded_len, or an error. Kind verify: input root, leaf (bytes), \
proof and, when present, expected_count (then the proof's leaf count must equal it); expected \
{\"valid\": true} or an error.";

/// Leaf `i` of the trees: `i mod 9` bytes.
fn leaf(i: usize) -> Vec<u8> {
    SplitMix::new(0x6d65_726b_6c65 ^ i as u64).bytes(i % 9)
}

/// The first `n` leaves.
fn leaves(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(leaf).collect()
}

/// A proof as JSON.
fn proof_json(p: &MerkleProof) -> Value {
    json!({ "leaf_index": u64v(p.leaf_index), "leaf_count": u64v(p.leaf_count), "siblings": hexes(&p.siblings) })
}

/// Reads [`proof_json`].
fn parse_proof(v: &Value) -> Result<MerkleProof, String> {
    Ok(MerkleProof {
        leaf_index: get_u64(v, "leaf_index")?,
        leaf_count: get_u64(v, "leaf_count")?,
        siblings: get_array(v, "siblings")?.iter().map(as_hash).collect::<Result<Vec<Hash>, String>>()?,
    })
}

/// The part's cases.
pub(super) fn cases() -> Cases {
    let mut out = Cases::default();
    for n in 0..=33usize {
        out.add(format!("tree of {n} leaves"), "tree", json!({ "leaves": hex_list(&leaves(n)) }));
    }
    let mut rng = SplitMix::new(0x6e6f_6465);
    let (a, b) = (rng.hash32(), rng.hash32());
    out.add("node of two hashes", "node_hash", json!({ "left": hex(&a), "right": hex(&b) }));
    out.add("node of the same hashes swapped", "node_hash", json!({ "left": hex(&b), "right": hex(&a) }));
    out.add("node of two zero hashes", "node_hash", json!({ "left": hex(&[0u8; 32]), "right": hex(&[0u8; 32]) }));
    for count in [1u64, 2, 33, u64::MAX] {
        out.add(format!("seal for {count} leaves"), "seal", json!({ "leaf_count": u64v(count), "top": hex(&a) }));
    }
    for count in [0u64, 1, 2, 3, 4, 5, 33, 1 << 32, (1 << 32) + 1, u64::MAX] {
        out.add(format!("proof bound for {count} leaves"), "max_proof_len", json!({ "leaf_count": u64v(count) }));
    }
    for (n, index) in [(1usize, 0u64), (13, 5), (13, 12), (13, 13)] {
        out.add(
            format!("proof of leaf {index} of {n}"),
            "proof",
            json!({ "leaves": hex_list(&leaves(n)), "index": index }),
        );
    }
    verify_cases(&mut out);
    out
}

/// Verification cases: good proofs and each way a proof is refused.
fn verify_cases(out: &mut Cases) {
    let data = leaves(13);
    let tree = MerkleTree::from_leaves(data.iter().map(Vec::as_slice)).expect("13 leaves");
    let one = MerkleTree::from_leaves([data[3].as_slice()]).expect("one leaf");
    let mut add = |name: &str, root: Hash, proof: &MerkleProof, leaf: &[u8], count: Option<u64>| {
        let mut input = json!({ "root": hex(&root), "leaf": hex(leaf), "proof": proof_json(proof) });
        if let Some(c) = count {
            input["expected_count"] = u64v(c);
        }
        out.add(name, "verify", input);
    };
    let root = tree.root();
    let p5 = tree.proof(5).expect("leaf 5");
    let p12 = tree.proof(12).expect("leaf 12");
    add("leaf 5 of 13", root, &p5, data[5].as_slice(), None);
    add("leaf 12 of 13 (promoted twice)", root, &p12, data[12].as_slice(), None);
    add("leaf 5 of 13 with expected count 13", root, &p5, data[5].as_slice(), Some(13));
    add("expected count 12 for a tree of 13", root, &p5, data[5].as_slice(), Some(12));
    add("wrong leaf bytes", root, &p5, data[4].as_slice(), None);
    let mut q = p5.clone();
    q.leaf_index = 4;
    add("wrong index: 4 for leaf 5", root, &q, data[5].as_slice(), None);
    let mut q = p12.clone();
    q.leaf_index = 11;
    add("wrong index: 11 for leaf 12", root, &q, data[12].as_slice(), None);
    let mut q = p5.clone();
    q.leaf_index = 13;
    add("index equal to the leaf count", root, &q, data[5].as_slice(), None);
    let q = MerkleProof { leaf_index: 0, leaf_count: 0, siblings: Vec::new() };
    add("zero leaves", root, &q, data[0].as_slice(), None);
    let mut q = p5.clone();
    q.siblings.pop();
    add("a sibling missing", root, &q, data[5].as_slice(), None);
    let mut q = p5.clone();
    q.siblings.push([0; 32]);
    add("a sibling too many", root, &q, data[5].as_slice(), None);
    let mut q = p12.clone();
    q.siblings = vec![[1; 32]; MAX_PROOF_DEPTH + 1];
    add("65 siblings", root, &q, data[12].as_slice(), None);
    let mut q = p5.clone();
    q.leaf_count = 14;
    add("leaf count 14 for a tree of 13", root, &q, data[5].as_slice(), None);
    let mut q = p5.clone();
    q.siblings[0][0] ^= 1;
    add("a sibling byte flipped", root, &q, data[5].as_slice(), None);
    let p = one.proof(0).expect("leaf 0");
    add("single leaf, no siblings", one.root(), &p, data[3].as_slice(), Some(1));
    let mut q = p.clone();
    q.siblings.push(one.root());
    add("single leaf with a sibling", one.root(), &q, data[3].as_slice(), None);
    let q = MerkleProof { leaf_index: 0, leaf_count: u64::MAX, siblings: Vec::new() };
    add("leaf count 2^64 - 1 without siblings", root, &q, data[0].as_slice(), None);
}

/// Evaluates one case.
pub(super) fn eval(kind: &str, input: &Value) -> Result<Value, String> {
    match kind {
        "tree" => tree(input),
        "node_hash" => Ok(json!({ "node": hex(&node_hash(&get_hash(input, "left")?, &get_hash(input, "right")?)) })),
        "seal" => Ok(json!({ "root": hex(&seal(get_u64(input, "leaf_count")?, &get_hash(input, "top")?)) })),
        "max_proof_len" => Ok(json!({ "len": u64v(MerkleProof::max_encoded_len_for(get_u64(input, "leaf_count")?)) })),
        "proof" => {
            let data = get_bytes_list(input, "leaves")?;
            let tree = MerkleTree::from_leaves(data.iter().map(Vec::as_slice)).map_err(|e| format!("{e:?}"))?;
            Ok(match tree.proof(get_u64(input, "index")?) {
                Ok(p) => {
                    let scale = p.encode();
                    if scale.len() as u64 > MerkleProof::max_encoded_len_for(tree.leaf_count()) {
                        return Err("the proof is longer than its bound".into());
                    }
                    json!({ "proof": proof_json(&p), "scale": hex(&scale), "encoded_len": scale.len() })
                },
                Err(e) => err(e),
            })
        },
        "verify" => {
            let root = get_hash(input, "root")?;
            let leaf = get_bytes(input, "leaf")?;
            let proof = parse_proof(field(input, "proof")?)?;
            let result = match input.get("expected_count") {
                Some(count) => proof.verify_in(&root, as_u64(count)?, &leaf),
                None => proof.verify(&root, &leaf),
            };
            Ok(match result {
                Ok(()) => json!({ "valid": true }),
                Err(e) => err(e),
            })
        },
        other => Err(format!("unknown kind {other:?}")),
    }
}

/// A whole tree: leaf hashes, root and every proof (each checked).
fn tree(input: &Value) -> Result<Value, String> {
    let data = get_bytes_list(input, "leaves")?;
    let hashes: Vec<Hash> = data.iter().map(|l| leaf_hash(l.as_slice())).collect();
    let tree = match MerkleTree::from_leaves(data.iter().map(Vec::as_slice)) {
        Ok(t) => t,
        Err(e) => {
            if root_of_leaf_hashes(&hashes) != Err(e) {
                return Err("root_of_leaf_hashes disagrees with MerkleTree".into());
            }
            return Ok(err(e));
        },
    };
    if root_of_leaf_hashes(&hashes) != Ok(tree.root()) {
        return Err("root_of_leaf_hashes disagrees with MerkleTree".into());
    }
    let mut proofs = Vec::with_capacity(data.len());
    for (i, bytes) in (0u64..).zip(&data) {
        let p = tree.proof(i).map_err(|e| format!("proof {i}: {e:?}"))?;
        p.verify_in(&tree.root(), tree.leaf_count(), bytes).map_err(|e| format!("proof {i} fails: {e:?}"))?;
        proofs.push(hexes(&p.siblings));
    }
    Ok(json!({ "leaf_hashes": hexes(&hashes), "root": hex(&tree.root()), "proofs": proofs }))
}
