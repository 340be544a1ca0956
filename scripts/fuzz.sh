#!/usr/bin/env bash
# Long stateful fuzzing of pallet-pogo (pallets/pogo/src/tests/fuzz.rs): arbitrary sequences of every
# extrinsic, blocks and relay epochs against the mock runtime, checking that nothing panics, that
# try_state holds after every block and that a failed call changes no storage. Prints progress every
# 100,000 calls and a summary at the end (calls, blocks, epochs, calls/s, Ok/Err per call, depth reached).
#
#   scripts/fuzz.sh                                        # 1,000,000 calls, a fresh seed (printed)
#   POGO_FUZZ_CALLS=10000000 POGO_FUZZ_SEED=7 scripts/fuzz.sh
#   POGO_FUZZ_SEED=7 POGO_FUZZ_CHUNK=2000 POGO_FUZZ_FIRST_CHUNK=41 POGO_FUZZ_CALLS=1234 scripts/fuzz.sh
#                                                          # replay a failure as the failing run printed it
#
# Also read by the test: POGO_FUZZ_CHUNK (calls per fresh chain, default 2,000), POGO_FUZZ_FIRST_CHUNK
# (default 0), POGO_FUZZ_STATE_CHECK (compare storage around every Nth call, default 1).
# POGO_FUZZ_NO_BUILD=1 skips the build and runs the newest test binary as it is.
#
# The test binary is the one the project's build makes (scripts/cargo.sh: the testnet profile, the
# whole workspace, all targets, $POGO_FEATURES). `cargo test -p pallet-pogo` would select other
# features and recompile Substrate, so this builds the chain part exactly as `scripts/cargo.sh test
# --no-run` does (nothing to do when it is up to date), then runs the newest pallet_pogo-* test
# executable of that profile.
set -euo pipefail
# shellcheck source=scripts/env.sh
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$POGO_ROOT"

if [ "${POGO_FUZZ_NO_BUILD:-0}" != 1 ]; then
  POGO_CARGO_PART=chain scripts/cargo.sh test --no-run
fi

deps="$CARGO_TARGET_DIR/$POGO_PROFILE/deps"
bin=""
# Newest first: the first executable whose ignored tests include fuzz_long (the pallet's unit tests).
while IFS= read -r candidate; do
  # Other pallet_pogo-* executables (stale builds, other feature sets) may not run here: skip them.
  if ! list="$("$candidate" --list --ignored 2>/dev/null)"; then
    echo "fuzz.sh: skipping $candidate (it does not list its tests)" >&2
    continue
  fi
  if grep -qx 'tests::fuzz::fuzz_long: test' <<<"$list"; then
    bin="$candidate"
    break
  fi
done < <(find "$deps" -maxdepth 1 -type f -name 'pallet_pogo-*' ! -name '*.d' -perm -u+x -printf '%T@ %p\n' \
  2>/dev/null | sort -rn | cut -d' ' -f2-)
if [ -z "$bin" ]; then
  echo "fuzz.sh: no pallet_pogo test binary with fuzz_long in $deps (build it: scripts/cargo.sh test --no-run)" >&2
  exit 1
fi

export POGO_FUZZ_CALLS="${POGO_FUZZ_CALLS:-1000000}"
export POGO_FUZZ_SEED="${POGO_FUZZ_SEED:-$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')}"
echo "fuzz.sh: $bin POGO_FUZZ_CALLS=$POGO_FUZZ_CALLS POGO_FUZZ_SEED=$POGO_FUZZ_SEED"
exec "$bin" fuzz_long --ignored --nocapture
