"""Loads a model exported by `pogo-worker fetch-model` (model.safetensors) into PyTorch and evaluates it.

    python3 load_model.py MODEL.safetensors DIGITS.csv

Prints one JSON line: {"architecture", "tensors", "eval_loss", "eval_accuracy", "eval_examples"}.
The digits classifier (`mlp-digits`) is rebuilt as a plain torch.nn.Module from the file's own metadata
(architecture JSON) and tensor names; its eval split is every 6th record of the CSV (index % 6 == 5), the
same split the worker commits, with pixels scaled by 1/16.
"""
import json
import sys

import torch
from safetensors import safe_open


class DigitsMlp(torch.nn.Module):
    def __init__(self, inputs, hidden, classes):
        super().__init__()
        self.fc1 = torch.nn.Linear(inputs, hidden)
        self.fc2 = torch.nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def load(path):
    with safe_open(path, framework="pt") as f:
        meta = f.metadata() or {}
        tensors = {name: f.get_tensor(name) for name in f.keys()}
    family, config = meta["pogo.architecture"].split(" ", 1)
    if family != "mlp-digits":
        raise SystemExit(f"this loader rebuilds mlp-digits, not {family}")
    config = json.loads(config)
    model = DigitsMlp(config["inputs"], config["hidden"], config["classes"])
    # pogo's tensor names (fc1.w, fc1.b, ...) map onto torch's (fc1.weight, fc1.bias, ...)
    state = {name.replace(".w", ".weight").replace(".b", ".bias"): t for name, t in tensors.items()}
    model.load_state_dict(state, strict=True)
    return meta, tensors, model


def eval_split(csv_path):
    rows = [line.strip().split(",") for line in open(csv_path) if line.strip()]
    rows = [[int(v) for v in r] for r in rows]
    chosen = [r for i, r in enumerate(rows) if i % 6 == 5]
    x = torch.tensor([r[:64] for r in chosen], dtype=torch.float32) / 16.0
    y = torch.tensor([r[64] for r in chosen], dtype=torch.int64)
    return x, y


def main():
    meta, tensors, model = load(sys.argv[1])
    x, y = eval_split(sys.argv[2])
    with torch.no_grad():
        logits = model(x)
        loss = torch.nn.functional.cross_entropy(logits, y).item()
        accuracy = (logits.argmax(-1) == y).float().mean().item()
    print(json.dumps({
        "architecture": meta["pogo.architecture"],
        "tensors": {k: list(v.shape) for k, v in tensors.items()},
        "eval_loss": loss,
        "eval_accuracy": accuracy,
        "eval_examples": len(y),
    }))


if __name__ == "__main__":
    main()
