#!/usr/bin/env node
// `npm run size`: raw and `gzip -9` sizes of the built package's .wasm and JS files (run
// `npm run build` first), then what a browser loads: the browser entry (index.js), the files it
// imports, and the .wasm. KB = 1024 bytes.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const dir = new URL('../pkg/', import.meta.url);
if (!existsSync(dir)) {
  console.error('no pkg/: run `npm run build` first');
  process.exit(1);
}
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
let rawTotal = 0, gzTotal = 0;
for (const name of readdirSync(dir).filter((n) => /\.(wasm|js)$/.test(n)).sort()) {
  const bytes = readFileSync(new URL(name, dir));
  const gz = gzipSync(bytes, { level: 9 }).length;
  rawTotal += bytes.length;
  gzTotal += gz;
  console.log(`${name.padEnd(28)} ${kb(bytes.length).padStart(10)} raw ${kb(gz).padStart(10)} gzip -9`);
}
console.log(`${'total'.padEnd(28)} ${kb(rawTotal).padStart(10)} raw ${kb(gzTotal).padStart(10)} gzip -9`);

// The browser entry's static imports, followed file by file, plus the .wasm the glue fetches.
const loaded = new Set();
const follow = (name) => {
  if (loaded.has(name) || !existsSync(new URL(name, dir))) return;
  loaded.add(name);
  const text = readFileSync(new URL(name, dir), 'utf8');
  for (const m of text.matchAll(/(?:^|[;\s])(?:import|export)\s*(?:[^'"]*?from\s*)?['"]\.\/([^'"]+)['"]/g)) follow(m[1]);
};
follow('index.js');
loaded.add('azure_iot_wasm_bg.wasm');
let raw = 0, gz = 0;
for (const name of loaded) {
  const bytes = readFileSync(new URL(name, dir));
  raw += bytes.length;
  gz += gzipSync(bytes, { level: 9 }).length;
}
console.log(`${'browser load'.padEnd(28)} ${kb(raw).padStart(10)} raw ${kb(gz).padStart(10)} gzip -9   (${[...loaded].join(' + ')})`);
