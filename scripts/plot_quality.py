#!/usr/bin/env python3
"""Plots docs/measurements/quality.json (written by `pogo-measure quality`) to docs/quality.png:
train and eval loss of PoGO (4-bit gradients, exact AdamW) against fp32 libtorch AdamW, per model.
Needs matplotlib (scripts/setup.sh does not install it: `pip install matplotlib`)."""
import json, sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

src = sys.argv[1] if len(sys.argv) > 1 else "docs/measurements/quality.json"
out = sys.argv[2] if len(sys.argv) > 2 else "docs/quality.png"
report = json.load(open(src))
models = report["models"]
fig, axes = plt.subplots(1, len(models), figsize=(6 * len(models), 4.2))
for ax, m in zip(axes, models):
    for key, label, color in [("fp32", "fp32 (libtorch AdamW)", "tab:blue"), ("pogo", "PoGO (4-bit, exact AdamW)", "tab:red")]:
        pts = m[key]
        steps = [p["step"] for p in pts if p["train_loss"] is not None]
        train = [p["train_loss"] for p in pts if p["train_loss"] is not None]
        ax.plot(steps, train, color=color, alpha=0.25, linewidth=0.8)
        ev = [(p["step"], p["eval_loss"]) for p in pts if p["eval_loss"] is not None]
        ax.plot([s for s, _ in ev], [v for _, v in ev], color=color, marker="o", markersize=3, label=label + ", eval")
    e = m["codec_error_mean"]
    ax.set_title(f'{m["model"]} ({m["params"]:,} params)\ncodec: rel. L2 error {e["relative_l2"]:.3f}, cosine {e["cosine"]:.4f}')
    ax.set_xlabel("step")
    ax.set_ylabel("cross-entropy (faint: train batches)")
    ax.grid(alpha=0.3)
    ax.legend()
fig.tight_layout()
fig.savefig(out, dpi=110)
print("wrote", out)
