#!/usr/bin/env bash
# A short coverage-guided run of every fuzz target (fuzz/fuzz_targets/): the MQTT decoder and
# session, the DPS response readers, hub topics and property bags, twin JSON, connection strings
# and crate::json. Any panic fails the run. Default 8 s per target; a longer run:
#   FUZZ_SECONDS=600 bash scripts/fuzz-short.sh
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); runs on stable via RUSTC_BOOTSTRAP.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export PATH="$HOME/.cargo/bin:$PATH"
secs="${FUZZ_SECONDS:-8}"
if ! command -v cargo-fuzz >/dev/null; then
  echo "cargo-fuzz is not installed: cargo install cargo-fuzz --locked" >&2
  exit 1
fi
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for target in $(ls fuzz_targets | sed -n 's/\.rs$//p'); do
  echo "fuzz: $target for ${secs}s"
  if ! RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" -- -max_total_time="$secs" -max_len=1024 >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "fuzz: $target failed; the input is in fuzz/artifacts/$target" >&2
    exit 1
  fi
  grep -E '^Done' "$log" || true
done
