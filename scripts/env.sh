# Sourced by every pogo script and by .ci/run: one build cache, one profile, one feature set.
# shellcheck shell=bash
POGO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export POGO_ROOT
# The cargo target dir lives outside the work tree so a fresh clone (CI) finds the cache warm.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pogo/target}"
# Without this, substrate-wasm-builder cannot see Cargo.lock from an outside target dir and re-resolves
# the runtime's dependencies to the newest versions.
export WASM_BUILD_WORKSPACE_HINT="$POGO_ROOT"
# The single cargo profile for tests, benches and binaries (see [profile.testnet] in Cargo.toml).
export POGO_PROFILE="${POGO_PROFILE:-testnet}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# The wasm toolchain fallback recorded by setup.sh when rustup could not fetch the target.
if [ -f "$POGO_ROOT/.wasm-toolchain.env" ]; then
  # shellcheck disable=SC1091
  set -a; source "$POGO_ROOT/.wasm-toolchain.env"; set +a
fi
# libtorch comes from the PyTorch wheel (tch 0.24 <-> torch 2.11.0).
export LIBTORCH_USE_PYTORCH=1
if [ -z "${POGO_TORCH_LIB:-}" ]; then
  POGO_TORCH_LIB="$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))' 2>/dev/null || true)"
fi
export POGO_TORCH_LIB
if [ -n "$POGO_TORCH_LIB" ]; then
  export LD_LIBRARY_PATH="$POGO_TORCH_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
# The one feature set of every build (tests, benches, node binary). Later crates add
# runtime-benchmarks/try-runtime here, and nowhere else. `upgrade-test-wasm` also builds the runtime
# with spec_version + 1, the zombienet suite's runtime upgrade.
export POGO_FEATURES="${POGO_FEATURES:-pogo-node/runtime-benchmarks,pogo-node/try-runtime,pogo-node/fast-runtime,pogo-node/upgrade-test-wasm}"
