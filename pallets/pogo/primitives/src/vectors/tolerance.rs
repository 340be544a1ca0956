//! Part `tolerance`: the tolerance rule comparing committed 4-bit gradient leaves with recomputed
//! values: boundary flips, codes past the margin, rescaled blocks, near-zero blocks and the noise
//! floor, merged leaves and errors; the reference magnitude; parameter validity.

use super::{
    json::{
        approx, err, f32s, f64v, field, get_array, get_bytes, get_f32, get_f32s, get_u32, get_usize, hex, u64v,
        SplitMix,
    },
    Cases,
};
use crate::{
    quant::quantize,
    tolerance::{reference_magnitude, Comparison, Tolerance},
};
use serde_json::{json, Value};

/// The part's description in its file.
pub(super) const DESCRIPTION: &str = "The tolerance rule (protocol.md section 11, tolerance.rs). Kind \
compare: input leaves (each {committed: bytes of a 4-bit leaf, recomputed: f32 bits}), block, reference \
(the step's reference magnitude M, f32 bits) and tolerance {boundary_margin_ppm, max_scale_error_ppm, \
noise_floor_ppm}; each leaf is compared with Comparison::of_leaf and the results merged in order; \
expected codes, boundary_flips, bad_codes, blocks, bad_scales, worst_code_excess, worst_scale_error and worst_bound_use \
(f64 bits) and passes, or the first leaf's error. Kind reference_magnitude: input gradient (f32 bits); \
expected m (the largest |v|, f32 bits) or an error. Kind tolerance_valid: input tolerance; expected \
valid.";

/// Elements per block in this part.
const BLOCK: usize = 8;

/// A tolerance as JSON.
fn tolerance_json(t: &Tolerance) -> Value {
    json!({
        "boundary_margin_ppm": t.boundary_margin_ppm,
        "max_scale_error_ppm": t.max_scale_error_ppm,
        "noise_floor_ppm": t.noise_floor_ppm,
    })
}

/// Reads [`tolerance_json`].
fn parse_tolerance(v: &Value) -> Result<Tolerance, String> {
    Ok(Tolerance {
        boundary_margin_ppm: get_u32(v, "boundary_margin_ppm")?,
        max_scale_error_ppm: get_u32(v, "max_scale_error_ppm")?,
        noise_floor_ppm: get_u32(v, "noise_floor_ppm")?,
    })
}

/// The encoding of `values` in blocks of [`BLOCK`].
fn q(values: &[f32]) -> Vec<u8> {
    quantize(values, BLOCK).expect("finite values")
}

/// `bytes` (blocks of [`BLOCK`]) with the code of element `i` replaced by `code`.
fn with_code(bytes: &[u8], i: usize, code: i8) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let at = (i / BLOCK) * (4 + BLOCK / 2) + 4 + (i % BLOCK) / 2;
    let nibble = (code as u8) & 0x0f;
    out[at] = if (i % BLOCK).is_multiple_of(2) { (out[at] & 0xf0) | nibble } else { (out[at] & 0x0f) | (nibble << 4) };
    out
}

/// A leaf of a comparison.
fn leaf(committed: &[u8], recomputed: &[f32]) -> Value {
    json!({ "committed": hex(committed), "recomputed": f32s(recomputed) })
}

/// The reference magnitude of `values` (the verifier's whole step is this one leaf here).
fn m(values: &[f32]) -> f32 {
    reference_magnitude(values).expect("finite values")
}

/// The part's cases.
pub(super) fn cases() -> Cases {
    let mut out = Cases::default();
    let mut add = |name: &str, leaves: Vec<Value>, block: usize, reference: f32, t: &Tolerance| {
        let input = json!({ "leaves": leaves, "block": block, "reference": reference.to_bits(), "tolerance": tolerance_json(t) });
        out.add(name, "compare", input);
    };
    let t = Tolerance::DEFAULT;
    // Block 0 has a maximum of 7, so its scale is exactly 1 and p = v; block 1 is random.
    let mut g = SplitMix::new(0x746f_6c65).units(16, 1.0);
    g[0] = 7.0;
    add("identical values", vec![leaf(&q(&g), &g)], BLOCK, m(&g), &t);
    let mut tie = g.clone();
    tie[3] = 2.5;
    add(
        "2.5 committed as 3 instead of 2: on the boundary",
        vec![leaf(&with_code(&q(&tie), 3, 3), &tie)],
        BLOCK,
        m(&tie),
        &t,
    );
    let mut near = g.clone();
    near[3] = 2.5 - 0.0009;
    let flipped = with_code(&q(&near), 3, 3);
    add("2.4991 committed as 3: a flip within the margin", vec![leaf(&flipped, &near)], BLOCK, m(&near), &t);
    let mut far = g.clone();
    far[3] = 2.5 - 0.0011;
    add("2.4989 committed as 3: past the margin", vec![leaf(&with_code(&q(&far), 3, 3), &far)], BLOCK, m(&far), &t);
    add("2.5 committed as 4: off by two", vec![leaf(&with_code(&q(&tie), 3, 4), &tie)], BLOCK, m(&tie), &t);
    let mut whole = g.clone();
    whole[3] = 2.0;
    add(
        "2.0 committed as 3: off by one, far from a boundary",
        vec![leaf(&with_code(&q(&whole), 3, 3), &whole)],
        BLOCK,
        m(&whole),
        &t,
    );
    let no_margin = Tolerance { boundary_margin_ppm: 0, ..t };
    add("a flip within 0.0009 under a zero margin", vec![leaf(&flipped, &near)], BLOCK, m(&near), &no_margin);
    for (name, k) in [
        ("block 1 rescaled by 1.0001", 1.0001f32),
        ("block 1 rescaled by 1.00001", 1.00001),
        ("block 1 rescaled by 1.5", 1.5),
    ] {
        let mut r = g.clone();
        r[BLOCK..].iter_mut().for_each(|v| *v *= k);
        add(name, vec![leaf(&q(&g), &r)], BLOCK, m(&r), &t);
    }
    let mut z = g.clone();
    z[BLOCK..].iter_mut().enumerate().for_each(|(i, v)| *v = 1e-9 * (i as f32 - 4.0));
    let mut noisy = z.clone();
    noisy[BLOCK..].iter_mut().for_each(|v| *v *= -1.5);
    add("near-zero block recomputed as -1.5 times: within the floor", vec![leaf(&q(&z), &noisy)], BLOCK, m(&noisy), &t);
    let no_floor = Tolerance { noise_floor_ppm: 0, ..t };
    add("the same without a noise floor", vec![leaf(&q(&z), &noisy)], BLOCK, m(&noisy), &no_floor);
    let mut loud = noisy.clone();
    loud[BLOCK..].iter_mut().for_each(|v| *v *= 1e4);
    add(
        "near-zero block recomputed 15000 times larger: beyond the floor",
        vec![leaf(&q(&z), &loud)],
        BLOCK,
        m(&loud),
        &t,
    );
    let mut zero = g.clone();
    zero[BLOCK..].iter_mut().for_each(|v| *v = 0.0);
    add("zero block recomputed as zero", vec![leaf(&q(&zero), &zero)], BLOCK, m(&zero), &t);
    for (name, x) in [("zero block recomputed as 1e-6", 1e-6f32), ("zero block recomputed as 1e-4", 1e-4)] {
        let mut r = zero.clone();
        r[BLOCK..].iter_mut().for_each(|v| *v = x);
        add(name, vec![leaf(&q(&zero), &r)], BLOCK, m(&r), &t);
    }
    add("a negative reference counts by its magnitude", vec![leaf(&flipped, &near)], BLOCK, -m(&near), &t);
    add("two leaves merged", vec![leaf(&q(&g), &g), leaf(&flipped, &near)], BLOCK, m(&g).max(m(&near)), &t);
    add(
        "a loose tolerance: every parameter 10^6",
        vec![leaf(&with_code(&q(&far), 3, 3), &far)],
        BLOCK,
        m(&far),
        &Tolerance { boundary_margin_ppm: 1_000_000, max_scale_error_ppm: 1_000_000, noise_floor_ppm: 1_000_000 },
    );
    add("recomputed values one short", vec![leaf(&q(&g), &g[..15])], BLOCK, m(&g), &t);
    let mut nan = g.clone();
    nan[5] = f32::NAN;
    add("NaN recomputed at index 5", vec![leaf(&q(&g), &nan)], BLOCK, 7.0, &t);
    add("infinite reference", vec![leaf(&q(&g), &g)], BLOCK, f32::INFINITY, &t);
    add("NaN reference", vec![leaf(&q(&g), &g)], BLOCK, f32::NAN, &t);
    let mut minus8 = q(&g);
    minus8[4] = (minus8[4] & 0xf0) | 0x08;
    add("non-canonical committed leaf", vec![leaf(&minus8, &g)], BLOCK, m(&g), &t);
    add("block size 0", vec![leaf(&q(&g), &g)], 0, m(&g), &t);
    add("an error in the second leaf", vec![leaf(&q(&g), &g), leaf(&q(&g), &g[..15])], BLOCK, m(&g), &t);

    let mut add_m = |name: &str, gradient: &[f32]| {
        out.add(name, "reference_magnitude", json!({ "gradient": f32s(gradient) }));
    };
    add_m("the step's values", &g);
    add_m("largest magnitude negative", &[-3.0, 2.0, -0.5]);
    add_m("empty gradient", &[]);
    add_m("zeros of both signs", &[0.0, -0.0]);
    add_m("NaN at index 2", &[1.0, 2.0, f32::NAN]);
    add_m("-infinity at index 0", &[f32::NEG_INFINITY, 1.0]);

    for (name, tol) in [
        ("default", t),
        (
            "every parameter 10^6",
            Tolerance { boundary_margin_ppm: 1_000_000, max_scale_error_ppm: 1_000_000, noise_floor_ppm: 1_000_000 },
        ),
        ("margin above 10^6", Tolerance { boundary_margin_ppm: 1_000_001, ..t }),
        ("scale error above 10^6", Tolerance { max_scale_error_ppm: 1_000_001, ..t }),
        ("noise floor above 10^6", Tolerance { noise_floor_ppm: 1_000_001, ..t }),
    ] {
        out.add(format!("{name} tolerance"), "tolerance_valid", json!({ "tolerance": tolerance_json(&tol) }));
    }
    out
}

/// A comparison's findings as JSON.
fn comparison_json(c: &Comparison) -> Value {
    json!({
        "codes": u64v(c.codes),
        "boundary_flips": u64v(c.boundary_flips),
        "bad_codes": u64v(c.bad_codes),
        "blocks": u64v(c.blocks),
        "bad_scales": u64v(c.bad_scales),
        "worst_code_excess": f64v(c.worst_code_excess),
        "worst_code_excess_approx": approx(c.worst_code_excess),
        "worst_scale_error": f64v(c.worst_scale_error),
        "worst_scale_error_approx": approx(c.worst_scale_error),
        "worst_bound_use": f64v(c.worst_bound_use),
        "worst_bound_use_approx": approx(c.worst_bound_use),
        "passes": c.passes(),
    })
}

/// Evaluates one case.
pub(super) fn eval(kind: &str, input: &Value) -> Result<Value, String> {
    match kind {
        "compare" => {
            let block = get_usize(input, "block")?;
            let reference = get_f32(input, "reference")?;
            let tolerance = parse_tolerance(field(input, "tolerance")?)?;
            let mut total: Option<Comparison> = None;
            for item in get_array(input, "leaves")? {
                let committed = get_bytes(item, "committed")?;
                let recomputed = get_f32s(item, "recomputed")?;
                let c = match Comparison::of_leaf(&committed, &recomputed, block, reference, &tolerance) {
                    Ok(c) => c,
                    Err(e) => return Ok(err(e)),
                };
                total = Some(match total {
                    Some(mut merged) => {
                        merged.merge(&c);
                        merged
                    },
                    None => c,
                });
            }
            total.map(|c| comparison_json(&c)).ok_or_else(|| "no leaves".to_string())
        },
        "reference_magnitude" => Ok(match reference_magnitude(&get_f32s(input, "gradient")?) {
            Ok(x) => json!({ "m": x.to_bits() }),
            Err(e) => err(e),
        }),
        "tolerance_valid" => Ok(json!({ "valid": parse_tolerance(field(input, "tolerance")?)?.is_valid() })),
        other => Err(format!("unknown kind {other:?}")),
    }
}
