#!/usr/bin/env bash
# Release build of the npm package into pkg/: wasm32 release build, wasm-bindgen --target web,
# wasm-opt -Oz (binaryen from npm: Debian's wasm-opt 108 breaks wasm-bindgen 0.2.130 output),
# then the per-runtime entries from js/. One line per step says what it builds; cargo runs with -q,
# so the screen shows its warnings and errors, not a line per compiled crate.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# The panic locations inside the .wasm name source files: without the remap they would carry
# this machine's cargo registry path into every published copy.
export RUSTFLAGS="${RUSTFLAGS:-} --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}/registry/src/= --remap-path-prefix=$PWD/="
echo "build [1/4] azure-iot-wasm for wasm32 (cargo build --release; about 1 min from cold, seconds after)"
cargo build -q --release --target wasm32-unknown-unknown -p azure-iot-wasm --lib
# A private staging directory: a concurrent build never sees a half-written pkg/.
out=$(mktemp -d pkg.tmp.XXXXXX)
trap 'rm -rf "$out"' EXIT
echo "build [2/4] the JS bindings (wasm-bindgen --target web)"
wasm-bindgen --target web --out-dir "$out" --out-name azure_iot_wasm \
  target/wasm32-unknown-unknown/release/azure_iot_wasm.wasm
# The features rustc's wasm32 target enables by default; wasm-opt must be told they are allowed.
# --converge repeats -Oz until it stops shrinking (~0.3 KB gzip; bench/size.md, third pass).
echo "build [3/4] size optimisation (wasm-opt -Oz --converge, about 20 s)"
wasm-opt -Oz --converge --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-reference-types --enable-multivalue --enable-mutable-globals \
  "$out"/azure_iot_wasm_bg.wasm -o "$out"/azure_iot_wasm_bg.wasm
# The glue as shipped is minified: 7.5 KB gzip becomes about 4.3 KB (bench/size.md, fourth
# pass). Exports, `import.meta.url` and the import names the .wasm expects are kept as they are;
# the readable form is what wasm-bindgen writes, and the .d.ts is unchanged.
echo "build [4/4] the JS glue and entries, minified (esbuild --minify)"
esbuild --minify --format=esm --log-level=warning --allow-overwrite "$out/azure_iot_wasm.js" --outfile="$out/azure_iot_wasm.js"
esbuild --minify --format=esm --log-level=warning js/guard.js --outfile="$out/guard.js"
for entry in index node workerd; do
  cp "js/$entry.js" "$out/$entry.js"
  cp js/entry.d.ts "$out/$entry.d.ts"
done
# The IndexedDB store is its own entry (`azure-iot-wasm/indexeddb`): a page that does not use it
# does not load it.
esbuild --minify --format=esm --log-level=warning js/indexeddb.js --outfile="$out/indexeddb.js"
cp js/indexeddb.d.ts "$out/indexeddb.d.ts"
rm -f "$out"/.gitignore
chmod 755 "$out"
rm -rf pkg && mv "$out" pkg
echo "built pkg/: $(ls pkg | tr '\n' ' ')"
