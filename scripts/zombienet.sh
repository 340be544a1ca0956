#!/usr/bin/env bash
# pogo's zombienet suite: a rococo-local relay (two validators) with para 2000 (two pogo collators) and
# the PoGO workers, driven by zombienet/pogo.zndsl (`zombienet test`, native provider).
#
#   scripts/zombienet.sh            run the suite (about 12 minutes here; README "Zombienet")
#   scripts/zombienet.sh --check    say whether it can run here: exit 0, or print `skipped: <reason>`, exit 3
#   scripts/zombienet.sh --spawn    start the network alone and keep it up (the README's by-hand walk-through)
#
# Needs the relay binaries (scripts/relay.sh), pogo-node, pogo-worker and the upgrade wasm
# (scripts/cargo.sh build), the zombienet CLI (scripts/setup.sh: npm ci in zombienet/) and the digits data.
# Every process it starts (zombienet, the nodes it spawns, the workers the tests start) is stopped by PID
# when it ends, fails or is interrupted. Logs: $POGO_ZN_RUN (printed at the start; kept on failure).
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$POGO_ROOT"
mode="${1:-test}"
bin="$CARGO_TARGET_DIR/$POGO_PROFILE"
genesis_wasm="$bin/wbuild/pogo-runtime/pogo_runtime_zombienet.compact.compressed.wasm"
upgrade_wasm="$bin/wbuild/pogo-runtime/pogo_runtime_upgrade.compact.compressed.wasm"
zombienet="$POGO_ROOT/zombienet/node_modules/.bin/zombienet"

why_not() {
  local b
  for b in polkadot polkadot-prepare-worker polkadot-execute-worker; do
    [ -x "$bin/$b" ] || { echo "relay binaries not built ($b missing; scripts/relay.sh builds them, see README)"; return; }
  done
  for b in pogo-node pogo-worker; do
    [ -x "$bin/$b" ] || { echo "$b not built (scripts/cargo.sh build)"; return; }
  done
  [ -f "$genesis_wasm" ] && [ -f "$upgrade_wasm" ] \
    || { echo "no zombienet runtimes (pogo-runtime's upgrade-test-wasm feature; scripts/cargo.sh build)"; return; }
  [ -x "$zombienet" ] || { echo "zombienet CLI not installed (scripts/setup.sh: npm ci in zombienet/)"; return; }
  [ -d "$POGO_ROOT/tests/client/node_modules/@polkadot/api" ] || { echo "tests/client packages missing (scripts/setup.sh)"; return; }
  [ -f "${POGO_DATA_DIR:-$HOME/.cache/pogo/data}/digits.csv" ] || { echo "digits data set missing (scripts/setup.sh)"; return; }
}

reason="$(why_not)"
if [ "$mode" = --check ]; then
  if [ -n "$reason" ]; then echo "skipped: $reason"; exit 3; fi
  exit 0
fi
[ -z "$reason" ] || { echo "zombienet: cannot run: $reason" >&2; exit 1; }

POGO_ZN_RUN="$(mktemp -d "${TMPDIR:-/tmp}/pogo-zombienet.XXXXXX")"
export POGO_ZN_RUN POGO_BIN_DIR="$bin" POGO_UPGRADE_WASM="$upgrade_wasm"
export PATH="$bin:$PATH"
: > "$POGO_ZN_RUN/pids"
# Para 2000's spec: the local_testnet preset with the zombienet runtime as its genesis code.
POGO_ZN_PARA_SPEC="$POGO_ZN_RUN/pogo-local-plain.json"
export POGO_ZN_PARA_SPEC
"$bin/pogo-node" build-spec --chain local_testnet --disable-default-bootnode 2>/dev/null \
  | python3 -c 'import json, sys
spec = json.load(sys.stdin)
spec["genesis"]["runtimeGenesis"]["code"] = "0x" + open(sys.argv[1], "rb").read().hex()
json.dump(spec, sys.stdout, indent=1)' "$genesis_wasm" > "$POGO_ZN_PARA_SPEC"
echo "zombienet: run dir $POGO_ZN_RUN (network files in network/, worker logs *.log)"

zn_pid=""
stop_all() {
  local status=$? pids=() pid
  trap - EXIT INT TERM
  # The workers the tests started, then zombienet and every node it spawned (its process group: it was
  # started in a session of its own, and `restart` respawns nodes from the same process).
  while read -r pid _; do pids+=("$pid"); done < "$POGO_ZN_RUN/pids"
  if [ -n "$zn_pid" ]; then
    while read -r pid; do pids+=("$pid"); done < <(pgrep -g "$zn_pid" 2>/dev/null || true)
  fi
  if [ "${#pids[@]}" -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 1 20); do
      local alive=()
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=("$pid"); done
      [ "${#alive[@]}" -eq 0 ] && break
      sleep 0.5
    done
    kill -KILL "${pids[@]}" 2>/dev/null || true
    echo "zombienet: stopped ${#pids[@]} processes by PID"
  fi
  if [ "$status" -eq 0 ] && [ "$mode" = test ]; then
    rm -rf "$POGO_ZN_RUN"
  else
    echo "zombienet: logs kept in $POGO_ZN_RUN"
    for f in "$POGO_ZN_RUN"/*.log; do [ -f "$f" ] && { echo "--- tail $f"; tail -n 15 "$f"; }; done
  fi
  exit "$status"
}
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t0=$SECONDS
if [ "$mode" = --spawn ]; then
  setsid "$zombienet" -p native -l text -f -d "$POGO_ZN_RUN/network" spawn zombienet/pogo.toml &
else
  setsid "$zombienet" -p native -l text -f -d "$POGO_ZN_RUN/network" test zombienet/pogo.zndsl &
fi
zn_pid=$!
wait "$zn_pid"
echo "zombienet: suite passed in $((SECONDS - t0)) s"
