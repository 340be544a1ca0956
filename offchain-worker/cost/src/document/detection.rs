//! Section 8: detection probabilities in both modes.

use super::{Md, DETECTION_PLOT, IMAGE_DIR};
use crate::{
    cost::{faked_steps_miss, tampered_leaves_miss, tampered_leaves_miss_approx},
    format::{detection as detected, int, sig},
    report::Report,
};

/// The distinct verifier counts of the stated round shapes, in order.
pub(super) fn verifier_counts(r: &Report) -> Vec<u32> {
    let mut out: Vec<u32> = Vec::new();
    for round in &r.inputs.stated.analysis.rounds {
        if !out.contains(&round.verifiers) {
            out.push(round.verifiers);
        }
    }
    out
}

pub(super) fn detection(md: &mut Md, r: &Report) {
    md.line("## 8. Detection");
    md.blank();
    md.line(
        "**A faked step** (a committed gradient that is not the gradient of its seeded batch), both modes. Each \
             verifier recomputes `k` distinct steps drawn uniformly (`seed::verifier_samples`), and the verifiers' \
             seeds are independent (`seed::verifier_seed` binds each account). A given step escapes one verifier \
             with probability `C(T−1, k)/C(T, k) = 1 − k/T`; `m` faked steps escape it with `C(T−m, k)/C(T, k)`; so",
    );
    md.blank();
    md.line("```");
    md.line("P(detect m faked steps) = 1 − (C(T−m, k) / C(T, k))^V        (detection::miss_probability_all)");
    md.line("P(detect 1 faked step)  = 1 − (1 − k/T)^V  ≥  1 − (1 − 1/T)^(k·V)");
    md.line("```");
    md.blank();
    md.line(
        "The right-hand form (each of `k·V` draws independent, with replacement) slightly understates \
             detection. One verifier that finds the step escalates the round, and every level-1 verifier then \
             recomputes it (dispute narrowing, section 13), so rejection follows detection when level 1 is honest.",
    );
    md.blank();
    let mut rows = Vec::new();
    let mut seen = Vec::new();
    for round in r.models.first().map(|m| m.rounds.as_slice()).unwrap_or(&[]) {
        let c = round.choice;
        if seen.contains(&c) {
            continue;
        }
        seen.push(c);
        let share = |f: f64| ((f64::from(c.steps) * f).ceil() as u32).max(1);
        rows.push(vec![
            format!("{} / {} / {}", int(u64::from(c.steps)), c.sampled_steps, c.verifiers),
            detected(faked_steps_miss(c.steps, 1, c.sampled_steps, c.verifiers)),
            detected((1.0 - 1.0 / f64::from(c.steps)).powf(f64::from(c.sampled_steps) * f64::from(c.verifiers))),
            format!(
                "{} ({})",
                detected(faked_steps_miss(c.steps, share(0.01), c.sampled_steps, c.verifiers)),
                share(0.01)
            ),
            format!(
                "{} ({})",
                detected(faked_steps_miss(c.steps, share(0.1), c.sampled_steps, c.verifiers)),
                share(0.1)
            ),
        ]);
    }
    md.table(
        &["T / k / V", "1 step, exact", "1 step, 1 − (1 − 1/T)^(kV)", "1 % of steps (m)", "10 % of steps (m)"],
        "lrrrr",
        &rows,
    );
    md.line(
        "**A tampered state leaf** (a checkpoint or final state that the committed gradients do not produce, in \
             `F` of the `N` leaves, a fraction `f = F/N`):",
    );
    md.blank();
    md.line(
        "* (a) full replay: every verifier replays every leaf of every step and compares every checkpoint root, so \
             one honest verifier detects any tampering: **P = 1**.",
    );
    md.line(
        "* (b) sampled replay: each verifier replays `k_l` distinct leaves drawn uniformly; they escape it with \
             `C(N−F, k_l)/C(N, k_l)`, so `P = 1 − (C(N−F, k_l)/C(N, k_l))^V ≈ 1 − (1 − f)^(V·k_l)`. A tampered leaf \
             that escapes stays provable by a fraud proof (section 14) from anyone who replays it, until the fraud \
             window closes; and (b) checks the clipping factor and the canonical encoding of a step's leaves only for \
             the steps it replays or recomputes in full.",
    );
    md.blank();
    let counts = verifier_counts(r);
    let a = &r.inputs.stated.analysis;
    let mut header = vec!["f".to_string(), "k_l".to_string(), "V".to_string(), "V·k_l".to_string()];
    for m in &r.models {
        header.push(format!("{} (N = {}), exact", m.model.name, int(m.workload.sizes.tree.leaves)));
    }
    header.push("1 − (1 − f)^(V·k_l)".to_string());
    let mut rows = Vec::new();
    let mut largest_gap = 0.0f64;
    for &f in &a.tampered_fractions {
        for &kl in &a.sampled_leaves {
            for &v in &counts {
                let samples = f64::from(kl) * f64::from(v);
                let mut row = vec![sig(f, 1), int(u64::from(kl)), v.to_string(), int(samples as u64)];
                let approx = tampered_leaves_miss_approx(f, samples);
                for m in &r.models {
                    let exact = tampered_leaves_miss(m.workload.sizes.tree.leaves, f, kl, v);
                    largest_gap = largest_gap.max((exact - approx).abs());
                    row.push(detected(exact));
                }
                row.push(detected(approx));
                rows.push(row);
            }
        }
    }
    let header: Vec<&str> = header.iter().map(String::as_str).collect();
    md.table(&header, &format!("rrrr{}", "r".repeat(r.models.len() + 1)), &rows);
    md.line(format!("![detection of tampered leaves against V·k_l]({IMAGE_DIR}/{DETECTION_PLOT})"));
    md.blank();
    md.line(format!(
        "Exact values use `F = ceil(f·N)` tampered leaves (at least one). The plot shows the approximation \
         `1 − (1 − f)^(V·k_l)`; the largest difference between it and an exact value in the table is {}.",
        sig(largest_gap, 2)
    ));
    md.blank();
}
