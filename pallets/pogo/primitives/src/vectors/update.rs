//! Part `update`: exact update steps (SGD, momentum, AdamW) and their refusals, the clipping factor,
//! reference learning rates and the schedule's accept/reject boundaries, AdamW bias corrections and the
//! scalar tolerance.

use super::{
    json::{
        adamw, approx, err, f32s, f64v, field, get_f32, get_f32s, get_f64, get_u32, get_u64, get_usize, parse_rule,
        parse_scalars, parse_schedule, rule_json, scalars_json, schedule_json, u64v, SplitMix,
    },
    Cases,
};
use crate::{
    spec::{reference_bias_corrections, within_tolerance, LrSchedule, StepScalars, UpdateRule},
    state::StateLeaf,
    update::{apply_step, gradient_scale, gradient_square_sum},
};
use serde_json::{json, Value};

/// The part's description in its file.
pub(super) const DESCRIPTION: &str = "Update rules and per-step scalars (protocol.md section 7, update.rs, \
spec.rs). Kind apply_step: input rule, scalars (f32 bits), n (parameters), values (the leaf: n weights \
then each optimizer slot, f32 bits) and gradient (n dequantized values); expected values after the step, \
or an error (the leaf unchanged). Kind gradient_scale: input max_norm, leaf_size and gradient (f32 bits); \
expected square_sum (f64 bits: each leaf's squares summed in order, then the leaves' sums in leaf order; \
null for leaf_size 0) and scale (f32 bits, null when the norm is not finite or leaf_size is 0). Kind lr_reference: input schedule and t (1-based global \
step); expected reference (f64 bits) and as_f32 (it rounded to f32, bits). Kind lr_accepts: input \
schedule, t and committed (f32 bits); expected accepts. Kind bias_corrections: input beta1, beta2 (f32 \
bits) and t; expected bc1, bc2 (f64 bits: 1 / (1 - beta^t)) and bc1_f32, bc2_f32 (rounded to f32). Kind \
within_tolerance: input committed (f32 bits) and reference (f64 bits); expected within = committed is \
finite and |committed - reference| <= 1e-6 * |reference|.";

/// Step scalars from f32 values.
fn scalars(lr: f32, gs: f32, bc1: f32, bc2: f32) -> StepScalars {
    StepScalars {
        learning_rate: lr.to_bits(),
        gradient_scale: gs.to_bits(),
        bias_correction1: bc1.to_bits(),
        bias_correction2: bc2.to_bits(),
    }
}

/// The part's cases.
pub(super) fn cases() -> Cases {
    let mut out = Cases::default();
    step_cases(&mut out);
    scale_cases(&mut out);
    schedule_cases(&mut out);
    tolerance_cases(&mut out);
    out
}

/// Update steps.
fn step_cases(out: &mut Cases) {
    let mut add = |name: &str, rule: UpdateRule, s: StepScalars, n: usize, values: &[f32], gradient: &[f32]| {
        let input = json!({
            "rule": rule_json(&rule),
            "scalars": scalars_json(&s),
            "n": n,
            "values": f32s(values),
            "gradient": f32s(gradient),
        });
        out.add(name, "apply_step", input);
    };
    let f = |x: f32| x.to_bits();
    let one = scalars(1.0, 1.0, 1.0, 1.0);
    let mut rng = SplitMix::new(0x7570_6461_7465);
    let sgd_wd = UpdateRule::Sgd { weight_decay: f(0.5) };
    add("SGD, exact small values", sgd_wd, scalars(0.25, 1.0, 1.0, 1.0), 2, &[1.0, -2.0], &[2.0, 4.0]);
    let (w, g) = (rng.units(8, 1.0), rng.units(8, 2.0));
    add(
        "SGD, weight decay 0.01, gradient scale 0.5",
        UpdateRule::Sgd { weight_decay: f(0.01) },
        scalars(0.1, 0.5, 1.0, 1.0),
        8,
        &w,
        &g,
    );
    let sub = [f32::from_bits(1), -f32::from_bits(3), f32::MIN_POSITIVE];
    add(
        "SGD on subnormal weights",
        UpdateRule::Sgd { weight_decay: 0 },
        scalars(1e-3, 1.0, 1.0, 1.0),
        3,
        &sub,
        &[0.0, 1e-40, -1e-38],
    );
    let heavy = UpdateRule::Momentum { momentum: f(0.5), weight_decay: 0 };
    add("momentum, exact small values", heavy, scalars(0.5, 1.0, 1.0, 1.0), 1, &[1.0, 2.0], &[1.0]);
    let values = [rng.units(8, 1.0), rng.units(8, 0.1)].concat();
    let g = rng.units(8, 2.0);
    let mom = UpdateRule::Momentum { momentum: f(0.9), weight_decay: f(1e-4) };
    add("momentum 0.9, weight decay 1e-4", mom, scalars(0.01, 1.0, 1.0, 1.0), 8, &values, &g);
    let adam = adamw();
    let (beta1, beta2) = match adam {
        UpdateRule::AdamW { beta1, beta2, .. } => (beta1, beta2),
        _ => (0, 0),
    };
    for (t, gs) in [(1u64, 1.0f32), (1000, 0.25)] {
        let (bc1, bc2) = reference_bias_corrections(beta1, beta2, t);
        let m = rng.units(8, 0.01);
        let v: Vec<f32> = rng.units(8, 1e-4).iter().map(|x| x.abs()).collect();
        let values = [rng.units(8, 1.0), m, v].concat();
        let g = rng.units(8, 2.0);
        add(
            &format!("AdamW at global step {t}, gradient scale {gs:?}"),
            adam,
            scalars(1e-3, gs, bc1 as f32, bc2 as f32),
            8,
            &values,
            &g,
        );
    }
    let w = rng.units(4, 1.0);
    let values = [w, vec![0.0; 8]].concat();
    add("AdamW, zero gradient and state: decay only", adam, scalars(1e-2, 1.0, 10.0, 1000.0), 4, &values, &[0.0; 4]);
    add(
        "SGD overflow: NonFinite at index 1",
        UpdateRule::Sgd { weight_decay: 0 },
        one,
        2,
        &[1.0, f32::MAX],
        &[0.0, -f32::MAX],
    );
    add("momentum buffer overflow", mom, one, 1, &[0.0, f32::MAX], &[f32::MAX]);
    add("AdamW: g*g overflows v at index 1", adam, one, 2, &[0.0, 0.0, 0.0, 0.0, 0.0, 0.0], &[1.0, 1e30]);
    add("gradient of the wrong length", sgd_wd, one, 2, &[1.0, 2.0], &[0.0]);
    add("momentum leaf without its buffer", heavy, one, 2, &[1.0, 2.0], &[0.0, 0.0]);
    add("NaN learning rate", sgd_wd, scalars(f32::NAN, 1.0, 1.0, 1.0), 2, &[1.0, 2.0], &[0.0, 0.0]);
    add("infinite gradient scale", adam, scalars(1e-3, f32::INFINITY, 1.0, 1.0), 1, &[1.0, 0.0, 0.0], &[0.0]);
    add("bias correction 2.0 for SGD", sgd_wd, scalars(0.1, 1.0, 2.0, 1.0), 2, &[1.0, 2.0], &[0.0, 0.0]);
}

/// The global-norm clipping factor.
fn scale_cases(out: &mut Cases) {
    let mut add = |name: &str, max_norm: f32, leaf_size: u32, gradient: &[f32]| {
        let input = json!({ "max_norm": max_norm.to_bits(), "leaf_size": leaf_size, "gradient": f32s(gradient) });
        out.add(name, "gradient_scale", input);
    };
    add("clipping disabled", 0.0, 4, &[100.0]);
    add("clipping disabled by -0.0", -0.0, 4, &[100.0]);
    add("norm 5 within 10", 10.0, 4, &[3.0, 4.0]);
    add("norm 5 clipped to 1", 1.0, 4, &[3.0, 4.0]);
    add("norm 1 against limit 1 (1e-6 added)", 1.0, 4, &[1.0]);
    add("norm 1 against 1 + 8 ulp (below 1 + 1e-6)", f32::from_bits(1.0f32.to_bits() + 8), 4, &[1.0]);
    add("norm 1 against 1 + 9 ulp (above 1 + 1e-6)", f32::from_bits(1.0f32.to_bits() + 9), 4, &[1.0]);
    add("empty gradient", 1.0, 4, &[]);
    add("huge gradient", 1.0, 4, &[1e30; 4]);
    add("largest finite gradient values", 1.0, 4, &[f32::MAX, -f32::MAX]);
    add("infinite gradient value", 1.0, 4, &[1.0, f32::INFINITY]);
    add("NaN gradient value", 1.0, 4, &[f32::NAN]);
    add("leaf size 0", 1.0, 0, &[1.0]);
    add("64 values in leaves of 16", 2.0, 16, &SplitMix::new(0x6e6f_726d).units(64, 1.0));
    add("64 values in leaves of 24 (the last one short)", 2.0, 24, &SplitMix::new(0x6e6f_726d).units(64, 1.0));
    // Where the order shows: 2^60 absorbs a single 1.0 (its f64 ulp is 256), not 256 of them summed in
    // their own leaf first. Square sum 2^60 in one leaf, 2^60 + 256 with the ones in a leaf of their own.
    let mut ones_last = vec![1.0f32; 257];
    ones_last[0] = (1u64 << 30) as f32;
    let mut ones_first = ones_last.clone();
    ones_first.rotate_left(1);
    add("2^30 then 256 ones in one leaf: the ones are absorbed", 1.0, 512, &ones_last);
    add("256 ones in a leaf of their own, then 2^30: they count", 1.0, 256, &ones_first);
}

/// Reference learning rates, the accept/reject boundaries, bias corrections.
fn schedule_cases(out: &mut Cases) {
    let f = |x: f32| x.to_bits();
    let constant = LrSchedule::Constant { lr: f(1e-3) };
    let cosine = LrSchedule::WarmupCosine { peak_lr: f(1e-3), min_lr: f(1e-5), warmup_steps: 10, total_steps: 110 };
    let no_warmup = LrSchedule::WarmupCosine { peak_lr: f(1e-2), min_lr: 0, warmup_steps: 0, total_steps: 100 };
    for (name, s, ts) in [
        ("constant", constant, &[1u64, 1000][..]),
        ("warm-up cosine", cosine, &[0u64, 1, 5, 10, 11, 60, 109, 110, 111, 1 << 60][..]),
        ("cosine without warm-up", no_warmup, &[1u64, 50, 99, 100][..]),
    ] {
        for t in ts {
            out.add(
                format!("{name} at t = {t}"),
                "lr_reference",
                json!({ "schedule": schedule_json(&s), "t": u64v(*t) }),
            );
        }
    }
    let mut add_accepts = |name: String, s: &LrSchedule, t: u64, committed: u32| {
        out.add(name, "lr_accepts", json!({ "schedule": schedule_json(s), "t": t, "committed": committed }));
    };
    add_accepts("constant: the exact rate".into(), &constant, 7, f(1e-3));
    add_accepts("constant: one ulp above".into(), &constant, 7, f(1e-3) + 1);
    add_accepts("constant: one ulp below".into(), &constant, 7, f(1e-3) - 1);
    for t in [5u64, 60, 200] {
        let reference = (cosine.reference(t) as f32).to_bits();
        let (mut lo, mut hi) = (reference, reference);
        assert!(cosine.accepts(t, reference), "the rounded reference is accepted");
        while cosine.accepts(t, lo - 1) {
            lo -= 1;
        }
        while cosine.accepts(t, hi + 1) {
            hi += 1;
        }
        add_accepts(format!("cosine t = {t}: the rounded reference"), &cosine, t, reference);
        add_accepts(format!("cosine t = {t}: lowest accepted"), &cosine, t, lo);
        add_accepts(format!("cosine t = {t}: highest rejected below"), &cosine, t, lo - 1);
        add_accepts(format!("cosine t = {t}: highest accepted"), &cosine, t, hi);
        add_accepts(format!("cosine t = {t}: lowest rejected above"), &cosine, t, hi + 1);
    }
    add_accepts("cosine: NaN".into(), &cosine, 60, f(f32::NAN));
    add_accepts("cosine: infinity".into(), &cosine, 60, f(f32::INFINITY));
    add_accepts("cosine: negative of the reference".into(), &cosine, 60, f(-(cosine.reference(60) as f32)));
    for (beta1, beta2, t) in [
        (0.9f32, 0.999f32, 1u64),
        (0.9, 0.999, 2),
        (0.9, 0.999, 10),
        (0.9, 0.999, 1000),
        (0.9, 0.999, 100_000),
        (0.0, 0.5, 1),
        (0.9, 0.999, 0),
    ] {
        out.add(
            format!("bias corrections beta1 {beta1:?} beta2 {beta2:?} t {t}"),
            "bias_corrections",
            json!({ "beta1": f(beta1), "beta2": f(beta2), "t": t }),
        );
    }
}

/// `within_tolerance` at its boundaries.
fn tolerance_cases(out: &mut Cases) {
    let mut add = |name: String, committed: f32, reference: f64| {
        out.add(name, "within_tolerance", json!({ "committed": committed.to_bits(), "reference": f64v(reference) }));
    };
    for reference in [1.0f64, 0.1, -2.5, 1e-30, 3.0e38] {
        let start = reference as f32;
        let (mut lo, mut hi) = (start.to_bits(), start.to_bits());
        assert!(within_tolerance(start, reference), "the rounded reference is within");
        while within_tolerance(f32::from_bits(lo - 1), reference) {
            lo -= 1;
        }
        while within_tolerance(f32::from_bits(hi + 1), reference) {
            hi += 1;
        }
        for (label, bits) in [("first out", lo - 1), ("last in", lo), ("last in", hi), ("first out", hi + 1)] {
            let committed = f32::from_bits(bits);
            add(format!("reference {reference:?}: {label}, {committed:?}"), committed, reference);
        }
    }
    add("reference 0: 0.0".into(), 0.0, 0.0);
    add("reference 0: -0.0".into(), -0.0, 0.0);
    add("reference 0: smallest subnormal".into(), f32::from_bits(1), 0.0);
    add("NaN committed".into(), f32::NAN, 1.0);
    add("infinite committed and reference".into(), f32::INFINITY, f64::INFINITY);
    add("f32::MAX against itself".into(), f32::MAX, f64::from(f32::MAX));
}

/// Evaluates one case.
pub(super) fn eval(kind: &str, input: &Value) -> Result<Value, String> {
    match kind {
        "apply_step" => {
            let rule = parse_rule(field(input, "rule")?)?;
            let s = parse_scalars(field(input, "scalars")?)?;
            let mut leaf = StateLeaf { n: get_usize(input, "n")?, values: get_f32s(input, "values")? };
            let before = leaf.encode_bytes();
            Ok(match apply_step(&rule, &s, &mut leaf, &get_f32s(input, "gradient")?) {
                Ok(()) => json!({ "values": f32s(&leaf.values) }),
                Err(e) => {
                    if leaf.encode_bytes() != before {
                        return Err(format!("the leaf changed although the step failed with {e:?}"));
                    }
                    err(e)
                },
            })
        },
        "gradient_scale" => {
            let gradient = get_f32s(input, "gradient")?;
            let leaf_size = get_u32(input, "leaf_size")?;
            let square_sum = gradient_square_sum(leaf_size, &gradient).map_or(Value::Null, f64v);
            Ok(match gradient_scale(get_f32(input, "max_norm")?, leaf_size, &gradient) {
                Some(x) => json!({ "square_sum": square_sum, "scale": x.to_bits(), "approx": approx(x) }),
                None => json!({ "square_sum": square_sum, "scale": null }),
            })
        },
        "lr_reference" => {
            let r = parse_schedule(field(input, "schedule")?)?.reference(get_u64(input, "t")?);
            Ok(json!({ "reference": f64v(r), "approx": approx(r), "as_f32": (r as f32).to_bits() }))
        },
        "lr_accepts" => {
            let s = parse_schedule(field(input, "schedule")?)?;
            Ok(json!({ "accepts": s.accepts(get_u64(input, "t")?, get_u32(input, "committed")?) }))
        },
        "bias_corrections" => {
            let (a, b) =
                reference_bias_corrections(get_u32(input, "beta1")?, get_u32(input, "beta2")?, get_u64(input, "t")?);
            Ok(json!({
                "bc1": f64v(a),
                "bc2": f64v(b),
                "bc1_f32": (a as f32).to_bits(),
                "bc2_f32": (b as f32).to_bits(),
                "approx": [approx(a), approx(b)],
            }))
        },
        "within_tolerance" => {
            Ok(json!({ "within": within_tolerance(get_f32(input, "committed")?, get_f64(input, "reference")?) }))
        },
        other => Err(format!("unknown kind {other:?}")),
    }
}
