#!/usr/bin/env bash
# Idempotent set-up, split by need; a re-run with everything present takes seconds.
#   bash scripts/setup.sh start   what building the package and running the main job need
#                                 (`npm start`, `npm run build`):
#       - rustup target wasm32-unknown-unknown
#       - wasm-bindgen-cli at the version Cargo.toml pins: wasm-bindgen for the build, and
#         wasm-bindgen-test-runner, which the tests use and which comes with it at no cost.
#         cargo install without --locked (its lockfile pins a crate version the index lacks),
#         without default features (they only add rustls, for HTTPS downloads neither tool makes)
#         and at opt-level 0: that compiles in about a third of the time, and the unoptimised
#         tool still takes under 2 s on this crate's largest (debug) module
#       - the npm packages the build and the quickstart CLI load: binaryen (wasm-opt) and ws,
#         and azurite with @azure/storage-blob, the local Blob storage behind the demo's file
#         upload panel and the client that creates its container
#   bash scripts/setup.sh test    (the default) that, plus what only the tests need (`npm test`):
#       - wasm-pack and cargo-fuzz (cargo install --locked, at opt-level 0 too)
#       - Debian: chromium, chromium-driver, mosquitto, without recommends (they pull in
#         systemd, udev and avahi, which no test uses)
#       - every npm dev-dependency (npm ci: the official Node SDK, playwright-core, deno, ...)
#       - a Python virtualenv in .venv with the official Python SDK
# Each step prints one line before it starts, with its usual cold time; the tool's own output goes
# to .setup-logs/<step>.log, and a failure prints that path and the log's last lines.
# As root it installs; otherwise it names what is missing and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

profile=${1:-test}
case $profile in
  start | test) ;;
  *) echo "usage: bash scripts/setup.sh [start|test]" >&2; exit 2 ;;
esac

command -v cargo >/dev/null || { echo "setup: Rust is required (https://rustup.rs), then re-run"; exit 1; }
command -v node >/dev/null || { echo "setup: Node.js >= 20 is required, then re-run"; exit 1; }

logs=.setup-logs
wb_version=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' Cargo.toml)
# The versions come from package-lock.json, so the partial install below never differs from npm ci's.
lock_version() { node -p "require('./package-lock.json').packages['node_modules/$1'].version"; }
# The main job's npm packages: binaryen's wasm-opt and esbuild (the glue's minifier) for the
# build, ws for the quickstart CLI (Node 20 has no global WebSocket), azurite for the demo's file
# upload (the storage the emulator hands out SAS URIs for) and @azure/storage-blob, with which
# scripts/lib/azurite.mjs creates the upload container (azurite does not depend on it).
main_npm=(binaryen esbuild ws azurite @azure/storage-blob)

# ---- what is missing -------------------------------------------------------------------------
steps=() # one "function<TAB>what<TAB>how, about how long" per step to run

rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown ||
  steps+=($'target\tthe wasm32-unknown-unknown target\trustup, about 5 s')

[ "$(wasm-bindgen --version 2>/dev/null)" = "wasm-bindgen $wb_version" ] &&
  [ "$(wasm-bindgen-test-runner --version 2>/dev/null)" = "wasm-bindgen-test-runner $wb_version" ] ||
  steps+=("wasm_bindgen"$'\t'"wasm-bindgen-cli $wb_version"$'\t'"cargo install, about 2 to 3 min")

npm_full_ok() { [ -f node_modules/.package-lock.json ] && [ ! package-lock.json -nt node_modules/.package-lock.json ]; }
npm_main_ok() {
  local p
  for p in "${main_npm[@]}"; do
    [ "$(node -p "require('./node_modules/$p/package.json').version" 2>/dev/null)" = "$(lock_version "$p")" ] || return 1
  done
}

if [ "$profile" = start ]; then
  npm_full_ok || npm_main_ok || steps+=($'npm_main\tnpm packages for the build, the CLI and the demo: binaryen, esbuild, ws, azurite, @azure/storage-blob\tnpm install, about 40 s to 1 min')
else
  command -v wasm-pack >/dev/null || steps+=($'wasm_pack\twasm-pack\tcargo install, about 2 min')
  command -v cargo-fuzz >/dev/null || steps+=($'cargo_fuzz\tcargo-fuzz\tcargo install, about 40 s')
  apt_missing=()
  command -v chromium >/dev/null || apt_missing+=(chromium)
  command -v chromedriver >/dev/null || apt_missing+=(chromium-driver)
  [ -x /usr/sbin/mosquitto ] || command -v mosquitto >/dev/null || apt_missing+=(mosquitto)
  [ ${#apt_missing[@]} -eq 0 ] || steps+=("apt_packages"$'\t'"Debian packages ${apt_missing[*]}"$'\t'"apt-get, about 40 s")
  npm_full_ok || steps+=($'npm_full\tevery npm dev-dependency\tnpm ci, about 30 s to 1 min')
  req=scripts/sdk-requirements.txt
  venv_stamp=.venv/.requirements.sha
  venv_want=$(sha256sum "$req" | cut -d' ' -f1)
  [ "$(cat "$venv_stamp" 2>/dev/null)" = "$venv_want" ] ||
    steps+=("venv"$'\t'".venv with $(tr '\n' ' ' < "$req" | sed 's/ *$//')"$'\t'"pip, about 15 s")
fi

# ---- the steps ---------------------------------------------------------------------------------
target() { rustup target add wasm32-unknown-unknown; }
wasm_bindgen() {
  cargo install wasm-bindgen-cli --version "$wb_version" --no-default-features --force \
    --config profile.release.opt-level=0
}
# Neither tool's own speed matters here (wasm-pack hands the work to cargo and wasm-bindgen,
# cargo-fuzz to cargo and libFuzzer), so they too are compiled at opt-level 0.
wasm_pack() { cargo install wasm-pack --locked --config profile.release.opt-level=0; }
cargo_fuzz() { cargo install cargo-fuzz --locked --config profile.release.opt-level=0; }
apt_packages() {
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${apt_missing[@]}"
}
npm_full() { npm ci --no-audit --no-fund --no-update-notifier; }
# Only the main job's packages, at the lockfile's versions, in a scratch project: `npm install
# <name>` here would install every dev-dependency. `npm ci` (test) later replaces them all.
npm_main() {
  local p specs=()
  for p in "${main_npm[@]}"; do specs+=("$p@$(lock_version "$p")"); done
  scratch=$(mktemp -d "$logs/npm-main.XXXXXX")
  trap 'rm -rf "$scratch"' EXIT
  echo '{ "private": true }' > "$scratch/package.json"
  (cd "$scratch" && npm install --no-audit --no-fund --no-update-notifier --no-package-lock "${specs[@]}")
  # No hidden lockfile: it would tell npm_full_ok that every dev-dependency is there.
  rm -rf node_modules "$scratch/node_modules/.package-lock.json"
  mv "$scratch/node_modules" node_modules
}
venv() {
  python3 -m venv .venv
  .venv/bin/pip install --disable-pip-version-check -r "$req"
  echo "$venv_want" > "$venv_stamp"
}

if [ ${#steps[@]} -eq 0 ]; then
  echo "setup ($profile): everything is installed"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "setup: missing (run as root to install them automatically, or install by hand):"
  for s in "${steps[@]}"; do IFS=$'\t' read -r fn what _ <<<"$s"; echo "  - $what"; done
  exit 1
fi

mkdir -p "$logs"
n=${#steps[@]}
i=0
began=$SECONDS
took() { local s=$((SECONDS - $1)); if [ $s -ge 60 ]; then echo "$((s / 60)) min $((s % 60)) s"; else echo "$s s"; fi; }
for s in "${steps[@]}"; do
  IFS=$'\t' read -r fn what how <<<"$s"
  i=$((i + 1))
  log="$logs/$fn.log"
  printf 'setup [%d/%d] %s (%s) ... ' "$i" "$n" "$what" "$how"
  t=$SECONDS
  # A subshell with its own errexit: a function tested by `if` would run with -e ignored.
  set +e
  (set -e; "$fn") >"$log" 2>&1 </dev/null
  rc=$?
  set -e
  if [ $rc -ne 0 ]; then
    echo "failed after $(took $t)"
    echo "setup: the output of that step is in $log; its last lines:"
    tail -n 30 "$log" | sed 's/^/  | /'
    exit 1
  fi
  echo "done in $(took $t)"
done
echo "setup ($profile): $n step(s) done in $(took $began)"
