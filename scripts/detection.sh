#!/usr/bin/env bash
# The detection simulation behind docs/detection.md: cheating miners and sampling verifiers on the
# digits task, the real round builder and the real `check_round`, no chain (the example
# offchain-worker/worker/examples/detection.rs), then its plot docs/detection.png.
#   scripts/detection.sh                    400 rounds per cell (about 6 minutes on one core)
#   scripts/detection.sh --rounds 50        quicker; any option of the example passes through
# The CSV goes to $DETECTION_CSV (default $HOME/.cache/pogo/detection.csv). Needs the digits data
# (scripts/setup.sh) and matplotlib (`pip install --user matplotlib`).
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$POGO_ROOT"
csv="${DETECTION_CSV:-$HOME/.cache/pogo/detection.csv}"
mkdir -p "$(dirname "$csv")"
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--rounds 400)
lock=(flock /tmp/pogo-cargo.lock)
command -v flock >/dev/null || lock=()
"${lock[@]}" cargo build --manifest-path offchain-worker/Cargo.toml --profile "$POGO_PROFILE" -p pogo-worker --example detection
"$CARGO_TARGET_DIR/$POGO_PROFILE/examples/detection" "${args[@]}" --out "$csv"
python3 scripts/plot_detection.py "$csv" docs/detection.png
