#!/usr/bin/env bash
# Builds the relay chain of the zombienet suite: `polkadot`, `polkadot-prepare-worker` and
# `polkadot-execute-worker` (crate pogo-relay in zombienet/relay), rococo-local with fast-runtime, into
# $CARGO_TARGET_DIR/$POGO_PROFILE next to pogo-node.
#
# Not part of scripts/test.sh: on a cold machine it would push CI past its time budget (README, "Zombienet").
# The suite (scripts/zombienet.sh) runs when these binaries exist and says `skipped:` otherwise.
#
# It shares Cargo.lock, the profile and the node's feature set (runtime-benchmarks, try-runtime), so
# the Substrate crates it has in common with pogo-node are compiled once; what it adds is the relay's
# own crates and rococo's runtime (native and wasm).
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$POGO_ROOT"
start=$(date +%s)
cargo build --locked --profile "$POGO_PROFILE" -p pogo-relay \
  --features pogo-relay/runtime-benchmarks,pogo-relay/try-runtime "$@"
for bin in polkadot polkadot-prepare-worker polkadot-execute-worker; do
  test -x "$CARGO_TARGET_DIR/$POGO_PROFILE/$bin" || { echo "relay: $bin was not built" >&2; exit 1; }
done
echo "relay: built in $(( $(date +%s) - start )) s: $("$CARGO_TARGET_DIR/$POGO_PROFILE/polkadot" --version)"
