#!/usr/bin/env python3
"""Plots the detection simulation's CSV (offchain-worker/worker/examples/detection.rs, run by
scripts/detection.sh) to docs/detection.png: per (T, k, V), the measured detection rate of each fake kind
with its Wilson 95 % interval against the protocol's formula 1 - C(T-m, k)^V / C(T, k)^V
(pogo_primitives::detection::miss_probability_all).
Usage: plot_detection.py [CSV] [PNG]. Needs matplotlib (`pip install --user matplotlib`)."""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def miss_probability(t, m, k):
    """miss_probability of detection.rs, the same product in binary64."""
    m, k = min(m, t), min(k, t)
    p = 1.0
    for i in range(k):
        p *= max(t - m - i, 0) / (t - i)
    return p


src = sys.argv[1] if len(sys.argv) > 1 else "detection.csv"
out = sys.argv[2] if len(sys.argv) > 2 else "docs/detection.png"
rows = list(csv.DictReader(open(src)))
configs = sorted({(int(r["T"]), int(r["k"]), int(r["V"])) for r in rows})
cols = min(4, len(configs))
nrows = (len(configs) + cols - 1) // cols
fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.6 * nrows), squeeze=False, sharey=True)
styles = {"honest": ("k", "s"), "zero": ("tab:blue", "o"), "random": ("tab:red", "^"),
          "stale": ("tab:green", "v"), "rescaled": ("tab:purple", "D")}
kinds = [k for k in styles if any(r["kind"] == k for r in rows)]
for ax, (t, k, v) in zip(axes.flat, configs):
    ms = list(range(0, t + 1))
    ax.plot([m / t for m in ms], [1 - miss_probability(t, m, k) ** v for m in ms], color="0.5",
            linestyle="-", marker=".", markersize=3, linewidth=1, label="formula", zorder=1)
    for j, kind in enumerate(kinds):
        pts = [r for r in rows if (int(r["T"]), int(r["k"]), int(r["V"])) == (t, k, v) and r["kind"] == kind]
        if not pts:
            continue
        color, marker = styles[kind]
        dx = (j - (len(kinds) - 1) / 2) * 0.012
        xs = [int(r["faked"]) / t + dx for r in pts]
        ys = [float(r["rate"]) for r in pts]
        lo = [y - float(r["wilson_lo"]) for y, r in zip(ys, pts)]
        hi = [float(r["wilson_hi"]) - y for y, r in zip(ys, pts)]
        ax.errorbar(xs, ys, yerr=[lo, hi], color=color, marker=marker, markersize=4, linestyle="none",
                    capsize=2, label=f"{kind} (n={pts[0]['rounds']})", zorder=2)
    ax.set_title(f"T = {t}, k = {k}, V = {v}")
    ax.set_xlabel("faked fraction m/T")
    ax.set_xlim(-0.04, 1.04)
    ax.set_ylim(-0.03, 1.03)
    ax.grid(alpha=0.3)
for ax in axes[:, 0]:
    ax.set_ylabel("rounds with a Negative verdict")
for ax in list(axes.flat)[len(configs):]:
    ax.axis("off")
axes[0, 0].legend(fontsize=7, loc="lower right")
fig.suptitle("Detection of faked gradient steps, digits task: measured (Wilson 95 %) vs 1 - miss_probability_all(T, m, k, V)",
             fontsize=10)
fig.tight_layout()
fig.savefig(out, dpi=110)
print("wrote", out)
