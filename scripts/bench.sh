#!/usr/bin/env bash
# Criterion benchmarks (the measurements behind docs/protocol.md and docs/ cost notes).
#   scripts/bench.sh              all benches
#   scripts/bench.sh -- FILTER    only matching benchmark ids
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$POGO_ROOT"
exec scripts/cargo.sh bench "$@"
