//! Part `verdict`: verdict SCALE bytes, verdict commitments, exact ratios and the stake tally.

use super::{
    json::{decode_all, field, get_bytes, get_hash, get_str, get_u128, get_u32, get_u64, hex, u128v, u64v, SplitMix},
    Cases,
};
use crate::verdict::{tally, verdict_commitment, NegativeReason, Ratio, Verdict};
use codec::Encode;
use serde_json::{json, Value};

/// The part's description in its file.
pub(super) const DESCRIPTION: &str = "Verdicts and the tally (protocol.md sections 12 and 13, verdict.rs). A \
verdict is {\"verdict\": \"Positive\"} or {\"verdict\": \"Negative\", \"reason\": <NegativeReason variant>} \
with \"step\" for BadGradient. Kind verdict_encoding: input verdict; expected scale (its SCALE encoding). \
Kind verdict_commitment: input submission_id, verifier (bytes), verdict, salt; expected commitment = \
H_verdict(submission_id u64 LE || len(verifier) u32 LE || verifier || SCALE(verdict) || salt). Kind ratio: \
input ratio {numerator, denominator}, part, whole (u128 strings); expected reached (part * denominator >= \
whole * numerator, exactly) and valid_threshold. Kind tally: input assigned, positive, negative (u128 \
strings), accept and reject ratios; expected outcome (Accept, Reject or Undecided; rejection is checked \
first).";

/// A verdict as JSON.
/// A verdict commitment case: name, submission, account bytes, verdict, salt.
type CommitmentCase<'a> = (&'static str, u64, &'a [u8], Verdict, [u8; 32]);

fn verdict_json(v: &Verdict) -> Value {
    match v {
        Verdict::Positive => json!({ "verdict": "Positive" }),
        Verdict::Negative(NegativeReason::BadGradient { step }) => {
            json!({ "verdict": "Negative", "reason": "BadGradient", "step": step })
        },
        Verdict::Negative(reason) => json!({ "verdict": "Negative", "reason": format!("{reason:?}") }),
    }
}

/// Reads [`verdict_json`].
fn parse_verdict(v: &Value) -> Result<Verdict, String> {
    match get_str(v, "verdict")? {
        "Positive" => Ok(Verdict::Positive),
        "Negative" => Ok(Verdict::Negative(match get_str(v, "reason")? {
            "BadGradient" => NegativeReason::BadGradient { step: get_u32(v, "step")? },
            "InconsistentUpdate" => NegativeReason::InconsistentUpdate,
            "NoProgress" => NegativeReason::NoProgress,
            "DataUnavailable" => NegativeReason::DataUnavailable,
            other => return Err(format!("unknown reason {other:?}")),
        })),
        other => Err(format!("unknown verdict {other:?}")),
    }
}

/// A ratio as JSON.
fn ratio_json(r: Ratio) -> Value {
    json!({ "numerator": r.numerator, "denominator": r.denominator })
}

/// Reads [`ratio_json`].
fn parse_ratio(v: &Value) -> Result<Ratio, String> {
    Ok(Ratio { numerator: get_u32(v, "numerator")?, denominator: get_u32(v, "denominator")? })
}

/// The part's cases.
pub(super) fn cases() -> Cases {
    let mut out = Cases::default();
    let verdicts = [
        Verdict::Positive,
        Verdict::Negative(NegativeReason::BadGradient { step: 0 }),
        Verdict::Negative(NegativeReason::BadGradient { step: 7 }),
        Verdict::Negative(NegativeReason::BadGradient { step: u32::MAX }),
        Verdict::Negative(NegativeReason::InconsistentUpdate),
        Verdict::Negative(NegativeReason::NoProgress),
        Verdict::Negative(NegativeReason::DataUnavailable),
    ];
    for v in &verdicts {
        out.add(format!("{v:?}"), "verdict_encoding", json!({ "verdict": verdict_json(v) }));
    }
    let mut rng = SplitMix::new(0x7665_7264);
    let account = rng.hash32();
    let salt = rng.hash32();
    let commitments: [CommitmentCase<'_>; 6] = [
        ("submission 1, verifier \"v\", positive, zero salt", 1, b"v", Verdict::Positive, [0; 32]),
        ("submission 2, same verdict", 2, b"v", Verdict::Positive, [0; 32]),
        ("salt of ones", 1, b"v", Verdict::Positive, [1; 32]),
        ("32-byte account, bad gradient at step 7", u64::MAX, &account, verdicts[2], salt),
        ("empty verifier, no progress", 0, b"", verdicts[5], [0xff; 32]),
        ("32-byte account, data unavailable", 42, &account, verdicts[6], salt),
    ];
    for (name, id, verifier, v, s) in commitments {
        out.add(
            name,
            "verdict_commitment",
            json!({ "submission_id": u64v(id), "verifier": hex(verifier), "verdict": verdict_json(&v), "salt": hex(&s) }),
        );
    }
    let (two, one) = (Ratio::TWO_THIRDS, Ratio::ONE_THIRD);
    let max = u128::MAX;
    for (name, r, part, whole) in [
        ("2/3 of 3", two, 2, 3),
        ("199999 of 300000 is below 2/3", two, 199_999, 300_000),
        ("200000 of 300000 is 2/3", two, 200_000, 300_000),
        ("all of u128::MAX", two, max, max),
        ("one below 2/3 of u128::MAX", two, max / 3 * 2 - 1, max),
        ("exactly 2/3 of u128::MAX", two, max / 3 * 2, max),
        ("one above 1/3 of u128::MAX", one, max / 3 + 1, max),
        ("one below 1/3 of u128::MAX", one, max / 3 - 1, max),
        ("nothing of nothing", one, 0, 0),
        ("0/3 is not a valid threshold", Ratio { numerator: 0, denominator: 3 }, 0, 3),
        ("4/3 is not a valid threshold", Ratio { numerator: 4, denominator: 3 }, 3, 3),
        ("3/3 is a valid threshold", Ratio { numerator: 3, denominator: 3 }, 3, 3),
        ("1/0 is not a valid threshold", Ratio { numerator: 1, denominator: 0 }, 5, 0),
    ] {
        out.add(name, "ratio", json!({ "ratio": ratio_json(r), "part": u128v(part), "whole": u128v(whole) }));
    }
    for (name, assigned, positive, negative, accept, reject) in [
        ("two thirds positive", 300u128, 200u128, 0u128, two, one),
        ("one short of two thirds", 300, 199, 0, two, one),
        ("all positive", 300, 300, 0, two, one),
        ("a third negative rejects despite two thirds positive", 300, 200, 100, two, one),
        ("one short of a third negative", 300, 0, 99, two, one),
        ("nothing assigned", 0, 0, 0, two, one),
        ("level 1: two thirds positive", 300, 200, 0, two, two),
        ("level 1: two thirds negative", 300, 0, 200, two, two),
        ("level 1: split", 300, 150, 150, two, two),
        ("overlapping thresholds: rejection first", 300, 100, 100, one, one),
        ("u128::MAX assigned, two thirds positive", max, max / 3 * 2, 0, two, one),
        ("u128::MAX assigned, a third negative", max, max / 3 * 2, max / 3, two, one),
    ] {
        out.add(
            name,
            "tally",
            json!({
                "assigned": u128v(assigned),
                "positive": u128v(positive),
                "negative": u128v(negative),
                "accept": ratio_json(accept),
                "reject": ratio_json(reject),
            }),
        );
    }
    out
}

/// Evaluates one case.
pub(super) fn eval(kind: &str, input: &Value) -> Result<Value, String> {
    match kind {
        "verdict_encoding" => {
            let v = parse_verdict(field(input, "verdict")?)?;
            let scale = v.encode();
            if decode_all::<Verdict>(&scale)? != v {
                return Err("the verdict does not survive a SCALE round trip".into());
            }
            Ok(json!({ "scale": hex(&scale) }))
        },
        "verdict_commitment" => {
            let c = verdict_commitment(
                get_u64(input, "submission_id")?,
                &get_bytes(input, "verifier")?,
                &parse_verdict(field(input, "verdict")?)?,
                &get_hash(input, "salt")?,
            );
            Ok(json!({ "commitment": hex(&c) }))
        },
        "ratio" => {
            let r = parse_ratio(field(input, "ratio")?)?;
            Ok(json!({
                "reached": r.reached_by(get_u128(input, "part")?, get_u128(input, "whole")?),
                "valid_threshold": r.is_valid_threshold(),
            }))
        },
        "tally" => {
            let outcome = tally(
                get_u128(input, "assigned")?,
                get_u128(input, "positive")?,
                get_u128(input, "negative")?,
                parse_ratio(field(input, "accept")?)?,
                parse_ratio(field(input, "reject")?)?,
            );
            Ok(json!({ "outcome": format!("{outcome:?}") }))
        },
        other => Err(format!("unknown kind {other:?}")),
    }
}
