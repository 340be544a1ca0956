//! Part `detection`: detection probabilities, including more sampled or faked steps than the round has.

use super::{
    json::{approx, f64v, get_u32},
    Cases,
};
use crate::detection::{miss_probability, miss_probability_all};
use serde_json::{json, Value};

/// The part's description in its file.
pub(super) const DESCRIPTION: &str = "Detection arithmetic (detection.rs; documentation and task set-up, not \
consensus). Kind miss: input total_steps T, faked m, sampled k; expected p = product over i < min(k, T) \
of max(T - min(m, T) - i, 0) / (T - i), evaluated left to right in f64 (bits). Kind miss_all: input also \
verifiers V; expected p = (miss for one)^V by V multiplications (f64 bits).";

/// The part's cases.
pub(super) fn cases() -> Cases {
    let mut out = Cases::default();
    for (t, m, k) in [
        (100u32, 2u32, 2u32),
        (100, 10, 4),
        (10, 0, 3),
        (10, 10, 1),
        (10, 8, 3),
        (10, 2, 15),
        (10, 15, 2),
        (10, 15, 15),
        (0, 0, 0),
        (0, 0, 5),
        (1, 0, 1),
        (1000, 1, 10),
        (10_000, 100, 20),
        (u32::MAX, 1, 3),
    ] {
        out.add(format!("T {t}, m {m}, k {k}"), "miss", json!({ "total_steps": t, "faked": m, "sampled": k }));
    }
    for (t, m, k, v) in
        [(100u32, 10u32, 4u32, 5u32), (100, 10, 4, 0), (1000, 1, 10, 3), (10, 2, 15, 2), (1000, 10, 2, 100)]
    {
        out.add(
            format!("T {t}, m {m}, k {k}, {v} verifiers"),
            "miss_all",
            json!({ "total_steps": t, "faked": m, "sampled": k, "verifiers": v }),
        );
    }
    out
}

/// Evaluates one case.
pub(super) fn eval(kind: &str, input: &Value) -> Result<Value, String> {
    let (t, m, k) = (get_u32(input, "total_steps")?, get_u32(input, "faked")?, get_u32(input, "sampled")?);
    let p = match kind {
        "miss" => miss_probability(t, m, k),
        "miss_all" => miss_probability_all(t, m, k, get_u32(input, "verifiers")?),
        other => return Err(format!("unknown kind {other:?}")),
    };
    Ok(json!({ "p": f64v(p), "approx": approx(p) }))
}
