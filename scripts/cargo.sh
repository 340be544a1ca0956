#!/usr/bin/env bash
# The one way to run cargo in pogo: the testnet profile, all targets, the project's feature set — so
# Substrate is compiled once and shared by tests, benches and binaries.
#
# Two workspaces, built one after the other into the same target dir: the chain (Cargo.toml, with
# $POGO_FEATURES) and the worker (offchain-worker/Cargo.toml, its own Cargo.lock: libtorch's dependency
# tree would otherwise move versions and features of crates the node shares and recompile Substrate).
#
#   scripts/cargo.sh test [-- FILTER]     scripts/cargo.sh build     scripts/cargo.sh clippy
#   POGO_CARGO_PART=chain|worker scripts/cargo.sh ...    (only one of the two)
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cmd="${1:?usage: scripts/cargo.sh <build|test|check|clippy|bench> [cargo args]}"; shift
cd "$POGO_ROOT"
part="${POGO_CARGO_PART:-all}"
if [ "$part" = all ] || [ "$part" = chain ]; then
  # pogo-relay (zombienet/relay) is built only by scripts/relay.sh: see there.
  chain=(--profile "$POGO_PROFILE" --workspace --exclude pogo-relay --all-targets)
  [ -n "$POGO_FEATURES" ] && chain+=(--features "$POGO_FEATURES")
  cargo "$cmd" "${chain[@]}" "$@"
fi
if [ "$part" = all ] || [ "$part" = worker ]; then
  cargo "$cmd" --manifest-path offchain-worker/Cargo.toml --profile "$POGO_PROFILE" --workspace --all-targets "$@"
fi
