#!/usr/bin/env bash
# The one way to run cargo in pogo: the testnet profile, the whole workspace, all targets, the project's
# feature set — so Substrate is compiled once and shared by tests, benches and binaries.
#
#   scripts/cargo.sh test [-- FILTER]     scripts/cargo.sh build     scripts/cargo.sh clippy
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cmd="${1:?usage: scripts/cargo.sh <build|test|check|clippy|bench> [cargo args]}"; shift
args=(--profile "$POGO_PROFILE" --workspace --all-targets)
[ -n "$POGO_FEATURES" ] && args+=(--features "$POGO_FEATURES")
cd "$POGO_ROOT"
exec cargo "$cmd" "${args[@]}" "$@"
