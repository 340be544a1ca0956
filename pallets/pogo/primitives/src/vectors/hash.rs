//! Part `hash`: the key of every domain and keyed hashes of sample messages.

use super::{
    json::{get_bytes, get_str, hex, SplitMix},
    Cases,
};
use crate::hash::{finish, Domain};
use serde_json::{json, Value};

/// The part's description in its file.
pub(super) const DESCRIPTION: &str = "Hashing (protocol.md sections 2 and 3, hash.rs). Every hash is BLAKE3 in keyed \
mode; the key of a domain is BLAKE3 derive_key(context, empty key material), context being the domain's \
fixed string \"pogo v1 <purpose>\". Kind domain_key: input context; expected domain (the Rust variant name) \
and key (32 bytes). Kind keyed_hash: input context and message (bytes); expected hash = \
BLAKE3-keyed(key of the domain, message).";

/// Every domain, in declaration order.
const DOMAINS: [Domain; 10] = Domain::ALL;

/// Position of `domain` in [`DOMAINS`]. The match is exhaustive, so a new domain does not compile
/// until it is listed (and so gets vectors).
const fn position(domain: Domain) -> usize {
    match domain {
        Domain::MerkleLeaf => 0,
        Domain::MerkleNode => 1,
        Domain::MerkleRoot => 2,
        Domain::RoundSeed => 3,
        Domain::Batch => 4,
        Domain::ChallengeSeed => 5,
        Domain::VerifierSeed => 6,
        Domain::Assignment => 7,
        Domain::VerdictCommitment => 8,
        Domain::ModelDescriptor => 9,
    }
}

/// The domain whose context string is `context`.
pub(super) fn domain(context: &str) -> Result<Domain, String> {
    DOMAINS.iter().copied().find(|d| d.context() == context).ok_or_else(|| format!("no domain has context {context:?}"))
}

/// The part's cases.
pub(super) fn cases() -> Cases {
    let mut out = Cases::default();
    for (i, d) in DOMAINS.iter().enumerate() {
        assert_eq!(position(*d), i, "DOMAINS is out of order");
        out.add(format!("key of {d:?}"), "domain_key", json!({ "context": d.context() }));
    }
    let mut rng = SplitMix::new(0x6861_7368);
    let block = rng.bytes(64);
    for d in DOMAINS {
        for (label, message) in
            [("empty message", Vec::new()), ("\"pogo\"", b"pogo".to_vec()), ("64 bytes", block.clone())]
        {
            out.add(
                format!("{d:?}, {label}"),
                "keyed_hash",
                json!({ "context": d.context(), "message": hex(&message) }),
            );
        }
    }
    // Messages around BLAKE3's 1 KiB chunk boundaries.
    for len in [1023usize, 1024, 1025, 2049, 4096] {
        let message = rng.bytes(len);
        for d in [Domain::MerkleLeaf, Domain::VerdictCommitment] {
            out.add(
                format!("{d:?}, {len} bytes"),
                "keyed_hash",
                json!({ "context": d.context(), "message": hex(&message) }),
            );
        }
    }
    out
}

/// Evaluates one case.
pub(super) fn eval(kind: &str, input: &Value) -> Result<Value, String> {
    let d = domain(get_str(input, "context")?)?;
    match kind {
        "domain_key" => {
            let key = d.key();
            if key != blake3::derive_key(d.context(), &[]) {
                return Err(format!("{d:?}: the key differs from its derivation"));
            }
            Ok(json!({ "domain": format!("{d:?}"), "key": hex(&key) }))
        },
        "keyed_hash" => {
            let message = get_bytes(input, "message")?;
            let hash = d.hash(&message);
            let mut hasher = d.hasher();
            hasher.update(&message);
            if finish(&hasher) != hash {
                return Err(format!("{d:?}: the incremental hasher differs"));
            }
            Ok(json!({ "hash": hex(&hash) }))
        },
        other => Err(format!("unknown kind {other:?}")),
    }
}
