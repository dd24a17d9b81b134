#!/usr/bin/env node
// `npm run size`: raw and `gzip -9` sizes of the built package's .wasm and JS glue (run
// `npm run build` first).
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
