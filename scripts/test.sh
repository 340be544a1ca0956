#!/usr/bin/env bash
# pogo's test command (the README's, and the only thing .ci/run calls). Runs in tiers; each prints its
# duration, and a tier that cannot run here says "skipped: <reason>".
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$POGO_ROOT"

declare -a SUMMARY=()
LOG_DIR="$(mktemp -d)"
trap 'rm -rf "$LOG_DIR"' EXIT
SKIPPED=0
tier() { # tier NAME COMMAND...
  local name="$1"; shift
  local t0=$SECONDS
  echo "=== tier: $name"
  "$@"
  local dt=$((SECONDS - t0))
  SUMMARY+=("$(printf '%-22s %4dm%02ds' "$name" $((dt / 60)) $((dt % 60)))")
  echo "=== tier: $name passed in ${dt}s"
}
skip() { # skip NAME REASON
  echo "=== tier: $1 — skipped: $2"
  SKIPPED=$((SKIPPED + 1))
  SUMMARY+=("$(printf '%-22s skipped: %s' "$1" "$2")")
}

core() {
  # Lints first (cheap, no_std and std): the runtime-side rules (no unwrap/expect/indexing/unchecked
  # arithmetic) are denied in pogo-primitives and everything on chain.
  cargo clippy --profile "$POGO_PROFILE" -p pogo-primitives --lib --no-default-features -- -D warnings
  scripts/cargo.sh clippy -- -D warnings
  # The protocol crate builds for the runtime's wasm target, without std.
  cargo check --profile "$POGO_PROFILE" -p pogo-primitives --no-default-features --target wasm32v1-none
  # Unit, integration and benchmark tests (pallet benchmarks run as tests), criterion benches once.
  scripts/cargo.sh test 2>&1 | tee "$LOG_DIR/core.log"
}

tier "core + pallet" core

# Later tiers: each issue that brings the crate replaces its skip line with the tier.
skip "runtime" "no runtime crate in the workspace yet (issue 5 adds it)"
skip "node + client" "no node or polkadot.js client tests yet (issue 5 adds them)"
skip "worker e2e" "no off-chain worker yet (issue 6 adds it)"
skip "zombienet" "no zombienet network yet, and no relay-chain binary (polkadot) on PATH"

echo
echo "=== summary (profile $POGO_PROFILE, target dir $CARGO_TARGET_DIR)"
printf '%s\n' "${SUMMARY[@]}"
# One closing line over every cargo test binary that ran.
passed=0; failed=0
while read -r p f; do passed=$((passed + p)); failed=$((failed + f)); done < <(
  cat "$LOG_DIR"/*.log | sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p')
echo "tests: $passed passed, $failed failed, $SKIPPED skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
