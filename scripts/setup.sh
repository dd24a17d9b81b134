#!/usr/bin/env bash
# Idempotent set-up: installs what building and testing need, and nothing twice. A re-run with
# everything present takes seconds. As root it installs; otherwise it names what is missing.
#   - rustup target wasm32-unknown-unknown
#   - wasm-bindgen-cli at the version Cargo.toml pins (cargo install, without --locked: its lockfile
#     pins a crate version the index lacks), wasm-pack and cargo-fuzz (cargo install --locked)
#   - Debian: chromium, chromium-driver, mosquitto
#   - npm dev-dependencies (binaryen's wasm-opt, the official Node SDK, playwright-core, ...)
#   - a Python virtualenv in .venv with the official Python SDK
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

missing=()
is_root() { [ "$(id -u)" = 0 ]; }
need() { # need <description> <install command...>
  local what=$1; shift
  if is_root; then
    echo "setup: installing $what"
    "$@"
  else
    missing+=("$what:  $*")
  fi
}

command -v cargo >/dev/null || { echo "setup: Rust is required (https://rustup.rs), then re-run"; exit 1; }
command -v node >/dev/null || { echo "setup: Node.js >= 20 is required, then re-run"; exit 1; }

rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown ||
  need "the wasm32 target" rustup target add wasm32-unknown-unknown

wb_version=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
[ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $wb_version" ] ||
  need "wasm-bindgen-cli $wb_version" cargo install wasm-bindgen-cli --version "$wb_version" --force
command -v wasm-pack >/dev/null || need "wasm-pack" cargo install wasm-pack --locked
command -v cargo-fuzz >/dev/null || need "cargo-fuzz" cargo install cargo-fuzz --locked

apt_missing=()
command -v chromium >/dev/null || apt_missing+=(chromium)
command -v chromedriver >/dev/null || apt_missing+=(chromium-driver)
[ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null || apt_missing+=(mosquitto)
if [ ${#apt_missing[@]} -gt 0 ]; then
  apt_install() { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"; }
  need "Debian packages ${apt_missing[*]}" apt_install "${apt_missing[@]}"
fi

# npm: install when node_modules is missing or older than the lockfile.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm dev-dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

# Python: the official SDK in a venv, re-installed when the requirements change.
req=scripts/sdk-requirements.txt
if [ -f "$req" ]; then
  stamp=.venv/.requirements.sha
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "setup: creating .venv with $(tr '\n' ' ' < "$req")"
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check -r "$req"
    echo "$want" > "$stamp"
  fi
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: missing (run as root to install them automatically, or install by hand):"
  printf '  - %s\n' "${missing[@]}"
  exit 1
fi
