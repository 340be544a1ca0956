#!/usr/bin/env bash
# Runs the pogo dev chain: `pogo-node --dev` (development preset, Alice..Ferdie funded, Alice sudo).
# The relay chain is mocked in dev mode, so challenge randomness is predictable: development only.
#   scripts/dev.sh [extra pogo-node args, e.g. --dev-block-time 1000 --rpc-port 9944]
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
node="$CARGO_TARGET_DIR/$POGO_PROFILE/pogo-node"
if [ ! -x "$node" ]; then
  echo "[dev] building pogo-node (profile $POGO_PROFILE; see README for build times)"
  POGO_CARGO_PART=chain "$POGO_ROOT/scripts/cargo.sh" build
fi
exec "$node" --dev "$@"
