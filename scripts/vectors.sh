#!/usr/bin/env bash
# The protocol's known-answer vectors (docs/vectors/<part>.json, docs/protocol.md "Known-answer vectors"),
# written by pogo-primitives' `pogo-vectors` binary. The crate's test tests/vectors.rs fails when the
# files differ from what the code generates, so regenerate them after any change of protocol bytes.
#
#   scripts/vectors.sh            # build, then rewrite docs/vectors/*.json
#   scripts/vectors.sh --check    # build, then re-evaluate every case of the files from their JSON alone
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$POGO_ROOT"
POGO_CARGO_PART=chain scripts/cargo.sh build
"$CARGO_TARGET_DIR/$POGO_PROFILE/pogo-vectors" "$@" docs/vectors
