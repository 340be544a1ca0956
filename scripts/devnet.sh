#!/usr/bin/env bash
# Runs pogo on this machine: `pogo-worker devnet` — a dev node on free ports, the default task (digits;
# `--task shakespeare` for the language model), a bonded miner and three verifiers, the miner at work with
# a progress bar per round. Ctrl-C stops every process it started. Builds what is missing first.
#   scripts/devnet.sh [--task shakespeare] [--rounds N] [--steps-per-round N] [--metrics 127.0.0.1:9615]
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bin="$CARGO_TARGET_DIR/$POGO_PROFILE"
if [ ! -x "$bin/pogo-node" ] || [ ! -x "$bin/pogo-worker" ]; then
  echo "[devnet] building pogo-node and pogo-worker (profile $POGO_PROFILE; see README for build times)"
  "$POGO_ROOT/scripts/cargo.sh" build
fi
exec "$bin/pogo-worker" devnet --node "$bin/pogo-node" "$@"
