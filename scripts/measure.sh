#!/usr/bin/env bash
# The worker's measurements for docs/worker.md: pinned torch settings, tolerance (disagreement of honest
# recomputations), quality (codec error, PoGO vs fp32 loss curves) and its plot.
#   scripts/measure.sh [--steps N]      (quality curve length, default 300)
# Writes docs/measurements/{settings,tolerance,quality}.json and docs/quality.png (needs matplotlib).
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$POGO_ROOT"
steps=300
[ "${1:-}" = "--steps" ] && steps="$2"
POGO_CARGO_PART=worker scripts/cargo.sh build
bin="$CARGO_TARGET_DIR/$POGO_PROFILE/pogo-measure"
mkdir -p docs/measurements
"$bin" settings > docs/measurements/settings.json
"$bin" tolerance --out docs/measurements/tolerance.json
"$bin" quality --steps "$steps" --out docs/measurements/quality.json
python3 scripts/plot_quality.py docs/measurements/quality.json docs/quality.png
