#!/usr/bin/env bash
# Regenerates offchain-worker/chain/metadata/pogo.scale, the runtime metadata the worker's chain client
# generates its types from (subxt, at compile time), from the runtime as built here (the project's
# feature set). The runtime test `the_worker_metadata_file_is_current` fails while the file is stale.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$POGO_ROOT"
POGO_WRITE_METADATA=1 POGO_CARGO_PART=chain scripts/cargo.sh test -- the_worker_metadata_file_is_current
ls -l offchain-worker/chain/metadata/pogo.scale
