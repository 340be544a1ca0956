#!/usr/bin/env bash
# The cost analysis, docs/cost-analysis.md and its plots docs/img/cost/*.svg, written by `pogo-cost`
# (offchain-worker/cost) from measured constants (docs/measured/cpu-<date>.txt) and the stated hardware
# and model figures (docs/measured/stated.toml).
#
#   scripts/cost.sh             regenerate the document from the newest docs/measured/cpu-*.txt
#   scripts/cost.sh --record    first run the bookkeeping bench (offchain-worker/bookkeeping/benches/parallel.rs,
#                               default 10.9 M parameters, all cores) and record its `summary:` lines, with
#                               the machine and the date, in docs/measured/cpu-<today>.txt; then regenerate
#   scripts/cost.sh --check     fail if the document or a plot differs from what pogo-cost writes
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$POGO_ROOT"
worker=(--manifest-path offchain-worker/Cargo.toml --profile "$POGO_PROFILE")
mode="${1:-}"
case "$mode" in
  "" | --check) ;;
  --record)
    today="$(date -u +%Y-%m-%d)"
    out="docs/measured/cpu-$today.txt"
    log="$(mktemp)"
    trap 'rm -f "$log"' EXIT
    cargo bench "${worker[@]}" -p pogo-bookkeeping --bench parallel | tee "$log"
    model="$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
    simd="$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'avx2|avx512f|avx512vl' | sort | tr '\n' ' ' | sed 's/ $//')"
    mkdir -p docs/measured
    {
      echo "# pogo measured constants: the summary lines of one run of offchain-worker/bookkeeping/benches/parallel.rs"
      echo "# (scripts/cost.sh --record; cargo bench --profile $POGO_PROFILE -p pogo-bookkeeping --bench parallel)"
      echo "# date: $today"
      echo "# machine: $model"
      echo "# cores: $(grep -c '^processor' /proc/cpuinfo)"
      echo "# simd: ${simd:-none}"
      grep '^summary: ' "$log"
    } >"$out"
    echo "recorded $out"
    ;;
  *)
    echo "usage: scripts/cost.sh [--record | --check]" >&2
    exit 2
    ;;
esac
args=()
[ "$mode" = --check ] && args+=(--check)
cargo run "${worker[@]}" -p pogo-cost -- "${args[@]}"
