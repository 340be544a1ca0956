#!/usr/bin/env bash
# Generates the runtime's weights from the benchmarks, with the node's `benchmark pallet` subcommand
# (built with `runtime-benchmarks`, part of the project's feature set) over the pogo runtime's wasm:
#   pallet-pogo      -> pallets/pogo/src/weights.rs  (trait, SubstrateWeight<T> used by the runtime, `()`)
#   frame_system, pallet_balances, pallet_timestamp, pallet_utility
#                    -> runtime/src/weights/<pallet>.rs
# The results are committed; runtime/src/tests.rs checks that every pogo call fits 10% of a block.
#
#   scripts/weights.sh [--steps N] [--repeat N] [--pallet NAME]...   (defaults: 50 steps, 20 repeats, all)
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$POGO_ROOT"
steps=50; repeat=20; pallets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --steps) steps="$2"; shift 2 ;;
    --repeat) repeat="$2"; shift 2 ;;
    --pallet) pallets+=("$2"); shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[ ${#pallets[@]} -gt 0 ] || pallets=(pallet_pogo frame_system pallet_balances pallet_timestamp pallet_utility)

POGO_CARGO_PART=chain scripts/cargo.sh build
node="$CARGO_TARGET_DIR/$POGO_PROFILE/pogo-node"
wasm="$CARGO_TARGET_DIR/$POGO_PROFILE/wbuild/pogo-runtime/pogo_runtime.compact.compressed.wasm"
[ -f "$wasm" ] || { echo "runtime wasm not found at $wasm" >&2; exit 1; }

bench() { # pallet template output [extra args]
  local pallet="$1" template="$2" output="$3"; shift 3
  "$node" benchmark pallet \
    --runtime "$wasm" \
    --genesis-builder runtime \
    --genesis-builder-preset development \
    --pallet "$pallet" \
    --extrinsic '*' \
    --steps "$steps" \
    --repeat "$repeat" \
    --wasm-execution compiled \
    --heap-pages 4096 \
    --template "$template" \
    --header scripts/weight-header.txt \
    --output "$output" "$@"
}

for pallet in "${pallets[@]}"; do
  start=$SECONDS
  if [ "$pallet" = pallet_pogo ]; then
    # The pallet's own file (trait, SubstrateWeight<T>, `()`), measured on this runtime; the runtime
    # uses pallet_pogo::weights::SubstrateWeight<Runtime>.
    bench pallet_pogo scripts/weight-template-pallet.hbs pallets/pogo/src/weights.rs
  else
    bench "$pallet" scripts/weight-template.hbs "runtime/src/weights/$pallet.rs"
  fi
  echo "[weights] $pallet: $((SECONDS - start)) s (steps $steps, repeat $repeat)"
done
echo "[weights] rebuild with scripts/cargo.sh build and run scripts/test.sh: the runtime test checks the 10% bound"
