#!/usr/bin/env bash
# `npm start`, the one command: the set-up the main job needs (scripts/setup.sh start), the package
# build (scripts/build.sh), then the main job itself (scripts/start.mjs). The emulator's debug build
# needs neither, so it runs alongside them from the first second: on two cores it fills the
# stretches where they use one (cargo install's last crates and link, the wasm build's LTO,
# wasm-opt), about a minute off a cold start. Its output goes to .setup-logs/build-emulator.log.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
command -v cargo >/dev/null || { echo "setup: Rust is required (https://rustup.rs), then re-run"; exit 1; }

mkdir -p .setup-logs
log=.setup-logs/build-emulator.log
echo "build: the emulator, iot-emulator (cargo build, debug; about 3 min from cold, alongside set-up and the package build; output in $log)"
cargo build -p iot-emulator >"$log" 2>&1 </dev/null &
emulator=$!
trap 'kill "$emulator" 2>/dev/null || true' EXIT

bash scripts/setup.sh start
bash scripts/build.sh

if kill -0 "$emulator" 2>/dev/null; then echo "build: waiting for the emulator build to finish"; fi
if ! wait "$emulator"; then
  echo "build: the emulator build failed; its output is in $log; its last lines:"
  tail -n 30 "$log" | sed 's/^/  | /'
  exit 1
fi
trap - EXIT
echo "built the emulator: target/debug/iot-emulator"
exec node scripts/start.mjs
