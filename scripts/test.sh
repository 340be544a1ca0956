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

lint() {
  # The runtime-side rules (no unwrap/expect/indexing/unchecked arithmetic/panic) are denied in the
  # protocol crate (also no_std, as in the runtime), the pallet, its runtime API and the runtime, with
  # every target and the test feature set. The wasm build is skipped (clippy checks the native code),
  # in a target dir of its own: SKIP_WASM_BUILD in the shared one would re-run the runtime's build script
  # and relink the node on the next build.
  cargo clippy --profile "$POGO_PROFILE" -p pogo-primitives --lib --no-default-features -- -D warnings
  CARGO_TARGET_DIR="$CARGO_TARGET_DIR/clippy" SKIP_WASM_BUILD=1 \
    cargo clippy --profile "$POGO_PROFILE" -p pogo-primitives -p pallet-pogo -p pogo-runtime-api \
    -p pogo-runtime --all-targets \
    --features pogo-runtime/runtime-benchmarks,pogo-runtime/try-runtime,pogo-runtime/fast-runtime -- -D warnings
  # The protocol crate builds for the runtime's wasm target.
  cargo check --profile "$POGO_PROFILE" -p pogo-primitives --no-default-features --target wasm32v1-none
  # The worker (its own workspace).
  cargo clippy --manifest-path offchain-worker/Cargo.toml --profile "$POGO_PROFILE" --workspace --all-targets -- -D warnings
}

build() {
  # Everything, once: crates, tests, benches, examples, the runtime's wasm, the node binary, the worker.
  scripts/cargo.sh build
}

unit() {
  # Unit and integration tests of every crate (pallet benchmarks run as tests; runtime presets, metadata
  # and weight limits; the worker's engine on the real data sets), criterion benches once each.
  scripts/cargo.sh test 2>&1 | tee "$LOG_DIR/unit.log"
}

client() {
  # polkadot.js against `pogo-node --dev` (started on a free port, stopped by PID).
  scripts/client-test.sh 2>&1 | tee "$LOG_DIR/client.log"
}

worker_e2e() {
  # The miner process against `pogo-node --dev`: submission visible through the runtime API, killed and
  # resumed, accepted round's model fetched (read proof + DA download) and loaded in PyTorch. Then every
  # adversary mode, each test on a dev chain of its own, three chains at a time
  # (worker/tests/adversaries.rs): cheating miners slashed by seven verifier processes on other thread
  # counts (one killed and restarted from its journal), a stale base refused, lazy/griefing/silent/
  # selective verifiers slashed, a watcher's fraud proof overturning a colluded acceptance.
  cargo test --manifest-path offchain-worker/Cargo.toml --profile "$POGO_PROFILE" --workspace \
    --test e2e -- --ignored 2>&1 | tee "$LOG_DIR/e2e.log"
  cargo test --manifest-path offchain-worker/Cargo.toml --profile "$POGO_PROFILE" --workspace \
    --test adversaries -- --ignored --test-threads 3 2>&1 | tee "$LOG_DIR/adversaries.log"
}

zombienet() {
  # pogo as a parachain of a rococo-local relay (zombienet/pogo.zndsl): registration, a round whose
  # challenge is checked against the relay's own randomness, a collator restarted mid-round, a cheating
  # miner slashed, a runtime upgrade mid-task. Runs when scripts/relay.sh has built the relay binaries.
  scripts/zombienet.sh 2>&1 | tee "$LOG_DIR/zombienet.log"
}

tier "lint" lint
tier "build" build
tier "unit: primitives, pallet, runtime, worker" unit
if command -v node >/dev/null && [ -f tests/client/package.json ]; then
  tier "node + client (polkadot.js)" client
else
  skip "node + client (polkadot.js)" "Node.js or tests/client missing (run scripts/setup.sh)"
fi
if [ ! -x "$CARGO_TARGET_DIR/$POGO_PROFILE/pogo-node" ]; then
  skip "worker e2e" "pogo-node not built"
elif ! python3 -c "import torch, safetensors" 2>/dev/null; then
  skip "worker e2e" "python3 lacks torch or safetensors (run scripts/setup.sh)"
else
  tier "worker e2e (miner, DA, fetch-model + PyTorch on a dev node)" worker_e2e
fi
zn_skip="$(scripts/zombienet.sh --check)" || true
if [ -z "$zn_skip" ]; then
  tier "zombienet (relay + collators + workers)" zombienet
else
  skip "zombienet" "${zn_skip#skipped: }"
fi
echo
echo "=== summary (profile $POGO_PROFILE, target dir $CARGO_TARGET_DIR)"
printf '%s\n' "${SUMMARY[@]}"
# One closing line over every cargo test binary that ran.
passed=0; failed=0
while read -r p f; do passed=$((passed + p)); failed=$((failed + f)); done < <(
  cat "$LOG_DIR"/*.log 2>/dev/null | sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p')
# node --test (TAP): "# pass N" and "# fail N"
for f in "$LOG_DIR"/client.log; do
  [ -f "$f" ] || continue
  p=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$f" | tail -n1); f2=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$f" | tail -n1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f2:-0}))
done
# zombienet: one line per .zndsl assertion, marked ✅ or ❌
if [ -f "$LOG_DIR/zombienet.log" ]; then
  passed=$((passed + $(grep -c '✅' "$LOG_DIR/zombienet.log" || true)))
  failed=$((failed + $(grep -c '❌' "$LOG_DIR/zombienet.log" || true)))
fi
echo "tests: $passed passed, $failed failed, $SKIPPED skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
