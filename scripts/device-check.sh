#!/usr/bin/env bash
# The GPU check of pogo-cuda, for a lent GPU machine (the `device` tool): runs test and bench binaries built
# here (it compiles nothing) and writes what it measured, with the machine's facts, under $OUT.
#
#   here:   scripts/device-check.sh --prepare     builds the binaries and copies them to target-gpu/ (carry it)
#   there:  scripts/device-check.sh               runs them; results in $OUT/device-check.txt
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARRY="$ROOT/target-gpu"
if [ "${1:-}" = "--prepare" ]; then
  # shellcheck source=scripts/env.sh
  source "$ROOT/scripts/env.sh"
  cd "$ROOT"
  rm -rf "$CARRY" && mkdir -p "$CARRY"
  cargo test --manifest-path offchain-worker/Cargo.toml --profile "$POGO_PROFILE" -p pogo-cuda --no-run \
    --message-format=json 2>/dev/null | jq -r 'select(.executable != null) | .executable' | sort -u |
    while read -r exe; do cp "$exe" "$CARRY/"; done
  ls -la "$CARRY"
  exit 0
fi
OUT="${OUT:-$ROOT/device-out}"
mkdir -p "$OUT"
log="$OUT/device-check.txt"
{
  echo "# device check, $(date -u +%FT%TZ)"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.memory --format=csv 2>&1 || echo "nvidia-smi: none"
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), "device", torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)' 2>&1  # no torch here: stop, the tests need its NVRTC
  grep -m1 -o 'avx512[a-z]*\|avx2' /proc/cpuinfo | sort -u | tr '\n' ' '; echo
} | tee "$log"
site="$(python3 -c 'import os, torch; print(os.path.dirname(os.path.dirname(torch.__file__)))')"
export POGO_TORCH_LIB="$site/torch/lib" POGO_NVRTC_DIR="$site/nvidia/cu13/lib"
for t in "$CARRY"/ptx-* "$CARRY"/cpu-* "$CARRY"/gpu_vs_cpu-*; do
  [ -x "$t" ] || continue
  echo "== $(basename "$t")" | tee -a "$log"
  "$t" --nocapture 2>&1 | tee -a "$log"
done
for b in "$CARRY"/kernels-*; do
  [ -x "$b" ] || continue
  echo "== $(basename "$b") (criterion)" | tee -a "$log"
  "$b" --bench 2>&1 | grep -v '^\s*$' | tee -a "$log"
done
