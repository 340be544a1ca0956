#!/usr/bin/env python3
"""The plain training step of pogo's byte GPT in PyTorch (Python): what the plain tch loop costs or saves.

The same model as the worker's `Gpt` (offchain-worker/engine/src/model/gpt.rs) and the same step as
`PlainTrainer::step` (offchain-worker/engine/src/measure.rs), op for op:

- one flat fp32 parameter vector `theta` (the protocol's `weights`), each named tensor a view of it in the
  worker's order (`Layout::views`: one `split_with_sizes`, then `view`), the same uniform init bounds (GPT-2's std 0.02,
  residual projections / sqrt(2 * layers), zero biases, unit gains), untied output head, no dropout;
- token + position embeddings, pre-LayerNorm blocks (causal multi-head attention written out: matmul,
  scale, masked_fill(-inf), softmax in fp32, matmul; exact-erf GELU MLP of width 4d), final LayerNorm,
  head over the 256 byte values, loss `log_softmax(fp32)` + `nll_loss` (tch's `cross_entropy_for_logits`);
- `zero_grad` (gradients set to None, as libtorch's C++ `Optimizer::zero_grad`), `backward`, gradient
  norm clipping at 1 exactly as tch's `Optimizer::clip_grad_norm` (per-tensor norms, stacked, `.item()`,
  `coef = 1 / (norm + 1e-6)`, scaled in place only when `coef < 1`), and `torch.optim.AdamW` with tch's
  defaults used by the worker (lr 1e-3, betas 0.9/0.999, eps 1e-8, weight decay 0.01, no amsgrad) over the
  single parameter; the batch's loss read back as a Python float (the Rust step returns an f32);
- the settings of `pin_torch_settings` (offchain-worker/engine/src/torch_settings.rs and
  csrc/torch_settings.cpp): deterministic algorithms (errors, not warnings), cuDNN deterministic without
  autotuning, IEEE fp32 for every (backend, op) pair libtorch accepts (no TF32, no oneDNN bf16), no
  reduced-precision cuBLAS reductions, CUBLAS_WORKSPACE_CONFIG=:4096:8, `--threads` intra-op threads.
  The Rust side sets nothing else (inter-op threads and flush-denormal stay at libtorch's defaults), so
  neither does this script.

Input: random byte records (`--batch` x (context + 1)) from a seeded generator, or, from the Rust bench
`tch_vs_torch`, the very weights (`--weights`, raw little-endian f32) and records (`--records`, raw bytes,
one batch per step) the tch loop trained on, so both sides' losses can be compared step by step.

Prints a human-readable report and one machine-readable line:

    torch_step: impl=pytorch config=10m params=10893312 ... median_ms=1234.567 ... losses=5.54,...

    python3 scripts/torch_step.py --config 10m --threads 2 --steps 5 --batch 8

`--layout modules` (one nn.Parameter per tensor, AdamW looping over 171 tensors) and `--clip torch`
(`torch.nn.utils.clip_grad_norm_`) show what idiomatic PyTorch would do instead; `--phases` times the
forward, backward, clipping and optimizer separately.
"""

import argparse
import math
import os
import statistics
import sys
import time
import warnings

# cuBLAS reads this when CUDA initialises, so it must be set before torch is imported (as the Rust side
# sets it before the first tensor operation).
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

VOCAB = 256
PER_BLOCK = 12
# GptConfig's constants (offchain-worker/engine/src/model/gpt.rs).
CONFIGS = {
    "small": {"context": 64, "width": 64, "layers": 2, "heads": 4},
    "10m": {"context": 128, "width": 384, "layers": 6, "heads": 6},
    "100m": {"context": 128, "width": 768, "layers": 15, "heads": 12},
}
# The Rust model's parameter counts (`Gpt::new(config).layout().len()`, documented in gpt.rs and
# docs/performance.md); `--expect-params` overrides them with the count the caller measured.
RUST_PARAMS = {"small": 136_960, "10m": 10_893_312, "100m": 106_811_136}
# PlainTrainer's optimizer: tch's `nn::AdamW` with the worker's values, and the clipping bound.
LR, BETAS, EPS, WEIGHT_DECAY, CLIP = 1e-3, (0.9, 0.999), 1e-8, 0.01, 1.0


def param_specs(cfg):
    """(name, shape, init) in the worker's order; init is ("uniform", bound), ("ones",) or ("zeros",)."""
    d = cfg["width"]
    std = 0.02
    bound = std * math.sqrt(3.0)
    residual = bound / math.sqrt(2.0 * cfg["layers"])
    specs = [("wte", (VOCAB, d), ("uniform", bound)), ("wpe", (cfg["context"], d), ("uniform", bound))]
    for i in range(cfg["layers"]):
        specs += [
            (f"h{i}.ln1.g", (d,), ("ones",)),
            (f"h{i}.ln1.b", (d,), ("zeros",)),
            (f"h{i}.attn.qkv.w", (3 * d, d), ("uniform", bound)),
            (f"h{i}.attn.qkv.b", (3 * d,), ("zeros",)),
            (f"h{i}.attn.proj.w", (d, d), ("uniform", residual)),
            (f"h{i}.attn.proj.b", (d,), ("zeros",)),
            (f"h{i}.ln2.g", (d,), ("ones",)),
            (f"h{i}.ln2.b", (d,), ("zeros",)),
            (f"h{i}.mlp.fc.w", (4 * d, d), ("uniform", bound)),
            (f"h{i}.mlp.fc.b", (4 * d,), ("zeros",)),
            (f"h{i}.mlp.proj.w", (d, 4 * d), ("uniform", residual)),
            (f"h{i}.mlp.proj.b", (d,), ("zeros",)),
        ]
    specs += [("lnf.g", (d,), ("ones",)), ("lnf.b", (d,), ("zeros",)), ("head.w", (VOCAB, d), ("uniform", bound))]
    return specs


def numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def pin_torch_settings(torch, threads):
    """Mirror of `pogo_engine::pin_torch_settings` (csrc/torch_settings.cpp); returns the read-back."""
    torch.use_deterministic_algorithms(True, warn_only=False)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False
    # IEEE fp32 for every (backend, op) pair, skipping the pairs libtorch refuses (GENERIC has only ALL),
    # as the C++ side does.
    for backend in ("generic", "cuda", "mkldnn"):
        for op in ("all", "matmul", "conv", "rnn"):
            try:
                torch._C._set_fp32_precision_setter(backend, op, "ieee")
            except Exception:  # noqa: BLE001 - the C++ side swallows the same refusals
                pass
    torch._C._set_cublas_allow_fp16_reduced_precision_reduction(False, False)
    torch._C._set_cublas_allow_bf16_reduced_precision_reduction(False, False)
    torch.set_num_threads(max(1, threads))
    get = torch._C._get_fp32_precision_getter
    return {
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "deterministic_warn_only": torch.is_deterministic_algorithms_warn_only_enabled(),
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "cuda_matmul_ieee": get("cuda", "matmul") == "ieee",
        "cuda_conv_ieee": get("cuda", "conv") == "ieee",
        "onednn_ieee": get("mkldnn", "matmul") == "ieee",
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
    }


def logits(torch, F, cfg, v, tokens):
    """`Gpt::logits`: logits [B, T, 256] for tokens [B, T]; `v` the tensors in the worker's order."""
    b, t = tokens.shape
    d, heads = cfg["width"], cfg["heads"]
    hd = d // heads
    positions = torch.arange(t, dtype=torch.int64, device=tokens.device)
    x = F.embedding(tokens, v[0]) + F.embedding(positions, v[1]).unsqueeze(0)
    future = torch.ones(t, t, dtype=torch.bool, device=tokens.device).triu(1)
    scale = 1.0 / math.sqrt(hd)
    for i in range(cfg["layers"]):
        w = v[2 + i * PER_BLOCK : 2 + (i + 1) * PER_BLOCK]
        h = F.layer_norm(x, (d,), w[0], w[1], 1e-5)
        qkv = F.linear(h, w[2], w[3]).view(b, t, 3, heads, hd).permute(2, 0, 3, 1, 4)
        q, k, val = qkv.select(0, 0), qkv.select(0, 1), qkv.select(0, 2)
        att = (q.matmul(k.transpose(-2, -1)) * scale).masked_fill(future, float("-inf")).softmax(-1, dtype=torch.float32)
        y = att.matmul(val).transpose(1, 2).contiguous().view(b, t, d)
        x = x + F.linear(y, w[4], w[5])
        h = F.layer_norm(x, (d,), w[6], w[7], 1e-5)
        x = x + F.linear(F.gelu(F.linear(h, w[8], w[9]), approximate="none"), w[10], w[11])
    n = 2 + cfg["layers"] * PER_BLOCK
    return F.linear(F.layer_norm(x, (d,), v[n], v[n + 1], 1e-5), v[n + 2])


def loss_fn(torch, F, cfg, v, inputs, targets):
    """`Gpt::loss`: tch's `cross_entropy_for_logits` = log_softmax(-1, fp32) + nll_loss (mean)."""
    out = logits(torch, F, cfg, v, inputs)
    return F.nll_loss(out.view(-1, VOCAB).log_softmax(-1, dtype=torch.float32), targets.view(-1))


def clip_like_tch(torch, params, max_norm):
    """tch 0.24's `Optimizer::clip_grad_norm`, line for line."""
    with torch.no_grad():
        norms = [p.grad.norm() for p in params if p.grad is not None]
        total = float(torch.stack(norms, 0).norm())
        coef = max_norm / (total + 1e-6)
        if coef < 1.0:
            for p in params:
                if p.grad is not None:
                    p.grad.mul_(coef)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", choices=sorted(CONFIGS), default="10m")
    ap.add_argument("--threads", type=int, default=2, help="intra-op threads (pin_torch_settings)")
    ap.add_argument("--steps", type=int, default=5, help="timed steps after the warm-up")
    ap.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    ap.add_argument("--batch", type=int, default=8, help="records per step")
    ap.add_argument("--seed", type=int, default=1, help="seed of the random weights and records")
    ap.add_argument("--weights", help="raw little-endian f32 initial weights (the Rust model's init)")
    ap.add_argument("--records", help="raw byte records, `batch` x (context + 1) per step, warm-up first")
    ap.add_argument("--expect-params", type=int, help="the Rust model's parameter count (default: gpt.rs's)")
    ap.add_argument("--layout", choices=("flat", "split", "modules"), default="split",
                    help="split: one parameter vector viewed through one split_with_sizes, as the worker's "
                         "Layout::views (default); flat: the same vector viewed by one narrow + view per tensor "
                         "(the worker before 2026-12-01); modules: one parameter per tensor")
    ap.add_argument("--clip", choices=("tch", "torch"), default="tch",
                    help="tch: tch's clip_grad_norm (default); torch: torch.nn.utils.clip_grad_norm_")
    ap.add_argument("--phases", action="store_true", help="also time forward, backward, clip and optimizer")
    args = ap.parse_args()
    if args.steps < 1 or args.warmup < 0 or args.batch < 1 or args.threads < 1:
        ap.error("--steps, --batch and --threads must be >= 1, --warmup >= 0")

    # The wheel warns on import when NumPy is missing; nothing here uses NumPy.
    warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
    import torch
    import torch.nn.functional as F

    settings = pin_torch_settings(torch, args.threads)
    cfg = CONFIGS[args.config]
    specs = param_specs(cfg)
    params_count = sum(numel(s) for _, s, _ in specs)
    rust_params = args.expect_params if args.expect_params is not None else RUST_PARAMS[args.config]
    print(f"model {args.config}: context {cfg['context']}, width {cfg['width']}, {cfg['layers']} blocks, "
          f"{cfg['heads']} heads")
    print(f"parameters: pytorch {params_count}, tch (Rust Gpt) {rust_params}")
    if params_count != rust_params:
        sys.exit(f"error: the PyTorch model has {params_count} parameters but the Rust model has {rust_params}: "
                 f"scripts/torch_step.py no longer mirrors offchain-worker/engine/src/model/gpt.rs")

    # Initial weights: the Rust model's, or the same bounds from a seeded generator.
    if args.weights:
        size = os.path.getsize(args.weights)
        if size != 4 * params_count:
            sys.exit(f"error: {args.weights} holds {size} bytes, not {4 * params_count} ({params_count} f32)")
        flat = torch.from_file(args.weights, shared=False, size=params_count, dtype=torch.float32).clone()
    else:
        gen = torch.Generator().manual_seed(args.seed)
        chunks = []
        for _, shape, init in specs:
            if init[0] == "uniform":
                chunks.append(torch.empty(numel(shape)).uniform_(-init[1], init[1], generator=gen))
            else:
                chunks.append((torch.ones if init[0] == "ones" else torch.zeros)(numel(shape)))
        flat = torch.cat(chunks)

    # The parameters and the tensors the forward pass reads.
    if args.layout == "flat":
        theta = torch.nn.Parameter(flat)
        params = [theta]

        def views():
            out, offset = [], 0
            for _, shape, _ in specs:
                out.append(theta.narrow(0, offset, numel(shape)).view(shape))
                offset += numel(shape)
            return out
    elif args.layout == "split":
        theta = torch.nn.Parameter(flat)
        params = [theta]
        sizes = [numel(shape) for _, shape, _ in specs]

        def views():
            return [t.view(shape) for t, (_, shape, _) in zip(theta.split_with_sizes(sizes), specs)]
    else:
        params, offset = [], 0
        for _, shape, _ in specs:
            params.append(torch.nn.Parameter(flat.narrow(0, offset, numel(shape)).view(shape).clone()))
            offset += numel(shape)

        def views():
            return params
    opt = torch.optim.AdamW(params, lr=LR, betas=BETAS, eps=EPS, weight_decay=WEIGHT_DECAY, amsgrad=False)

    # One batch of records per step.
    rec_len = cfg["context"] + 1
    total_steps = args.warmup + args.steps
    if args.records:
        need = total_steps * args.batch * rec_len
        size = os.path.getsize(args.records)
        if size < need:
            sys.exit(f"error: {args.records} holds {size} bytes, {need} needed "
                     f"({total_steps} steps x {args.batch} records x {rec_len} bytes)")
        records = torch.from_file(args.records, shared=False, size=need, dtype=torch.uint8)
        records = records.view(total_steps, args.batch, rec_len)
        source = "the caller's records"
    else:
        gen = torch.Generator().manual_seed(args.seed + 1)
        records = torch.randint(0, VOCAB, (total_steps, args.batch, rec_len), dtype=torch.uint8, generator=gen)
        source = "random bytes"

    phases = {"forward": [], "backward": [], "clip": [], "optimizer": []}

    def step(s):
        # `Gpt::batch`: inputs the first `context` bytes, targets the last, int64, contiguous.
        r = records[s].to(torch.int64)
        inputs = r[:, : cfg["context"]].contiguous()
        targets = r[:, 1:].contiguous()
        t0 = time.perf_counter()
        loss = loss_fn(torch, F, cfg, views(), inputs, targets)
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        if args.clip == "tch":
            clip_like_tch(torch, params, CLIP)
        else:
            torch.nn.utils.clip_grad_norm_(params, CLIP)
        t3 = time.perf_counter()
        opt.step()
        value = loss.detach().item()
        t4 = time.perf_counter()
        for key, dt in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            phases[key].append(dt)
        return value

    print(f"torch {torch.__version__}, {settings['threads']} intra-op threads, {settings['interop_threads']} "
          f"inter-op, pinned: {settings}")
    print(f"batch {args.batch} x {cfg['context']} bytes from {source}, layout {args.layout}, clip {args.clip}, "
          f"{args.warmup} warm-up + {args.steps} timed steps")
    losses, times = [], []
    for s in range(total_steps):
        t = time.perf_counter()
        losses.append(step(s))
        dt = time.perf_counter() - t
        if s >= args.warmup:
            times.append(dt)
        print(f"  step {s}{' (warm-up)' if s < args.warmup else ''}: {dt * 1e3:.1f} ms, loss {losses[-1]:.6f}",
              flush=True)
    median_ms = statistics.median(times) * 1e3
    print(f"median {median_ms:.1f} ms per step (min {min(times) * 1e3:.1f}, max {max(times) * 1e3:.1f})")
    if args.phases:
        for key, values in phases.items():
            print(f"  {key}: median {statistics.median(values[args.warmup:]) * 1e3:.1f} ms")
    fields = {
        "impl": "pytorch",
        "config": args.config,
        "params": params_count,
        "torch": torch.__version__,
        "torch_lib": os.path.join(os.path.dirname(torch.__file__), "lib"),
        "threads": settings["threads"],
        "interop_threads": settings["interop_threads"],
        "pinned": int(all(settings[k] for k in ("deterministic_algorithms", "cudnn_deterministic",
                                                 "cuda_matmul_ieee", "cuda_conv_ieee", "onednn_ieee"))
                      and not settings["deterministic_warn_only"] and not settings["cudnn_benchmark"]),
        "batch": args.batch,
        "context": cfg["context"],
        "layout": args.layout,
        "clip": args.clip,
        "warmup": args.warmup,
        "steps": args.steps,
        "median_ms": f"{median_ms:.3f}",
        "min_ms": f"{min(times) * 1e3:.3f}",
        "max_ms": f"{max(times) * 1e3:.3f}",
    }
    for key, values in phases.items():
        fields[f"{key}_ms"] = f"{statistics.median(values[args.warmup:]) * 1e3:.3f}"
    # repr: the exact value (the loss is an f32 widened to a double), so the caller can test for equality.
    fields["losses"] = ",".join(repr(v) for v in losses)
    print("torch_step: " + " ".join(f"{k}={v}" for k, v in fields.items()))


if __name__ == "__main__":
    main()
