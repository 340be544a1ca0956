#!/usr/bin/env bash
# Runs the polkadot.js client tests (tests/client): starts `pogo-node --dev` on free ports, plays one PoGO
# round from a client with no custom types, checks typed errors for bad inputs, and stops the node.
#
#   scripts/client-test.sh            POGO_NODE=... POGO_FIXTURE=... scripts/client-test.sh
#
# Needs both binaries, which `scripts/cargo.sh build` produces (all targets, so the fixture example too):
#   POGO_NODE     default $CARGO_TARGET_DIR/$POGO_PROFILE/pogo-node
#   POGO_FIXTURE  default $CARGO_TARGET_DIR/$POGO_PROFILE/examples/round_fixture
# and node >= 20 with npm (dependencies are installed from package-lock.json when node_modules is missing).
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

export POGO_NODE="${POGO_NODE:-$CARGO_TARGET_DIR/$POGO_PROFILE/pogo-node}"
export POGO_FIXTURE="${POGO_FIXTURE:-$CARGO_TARGET_DIR/$POGO_PROFILE/examples/round_fixture}"
client="$POGO_ROOT/tests/client"

missing=0
if [ ! -x "$POGO_NODE" ]; then
  echo "[client-test] pogo-node not found at $POGO_NODE" >&2
  echo "[client-test]   build it with scripts/cargo.sh build, or set POGO_NODE" >&2
  missing=1
fi
if [ ! -x "$POGO_FIXTURE" ]; then
  echo "[client-test] round_fixture not found at $POGO_FIXTURE" >&2
  echo "[client-test]   build it with scripts/cargo.sh build (all targets), or" >&2
  echo "[client-test]   cargo build --profile $POGO_PROFILE -p pogo-primitives --example round_fixture; or set POGO_FIXTURE" >&2
  missing=1
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "[client-test] node and npm are required (node >= 20)" >&2
  missing=1
fi
[ "$missing" = 0 ] || exit 1

if [ ! -d "$client/node_modules" ]; then
  echo "[client-test] installing tests/client dependencies (npm ci)"
  (cd "$client" && npm ci --no-audit --no-fund)
fi

echo "[client-test] node $POGO_NODE"
echo "[client-test] fixture $POGO_FIXTURE"
cd "$POGO_ROOT"
# TAP on every Node version: scripts/test.sh adds up its "# pass N" / "# fail N" lines.
exec node --test --test-reporter=tap tests/client/*.test.js
