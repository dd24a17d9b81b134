// Entry for Node and Deno: reads the .wasm from disk and instantiates it synchronously.
import { readFileSync } from 'node:fs';
import { initSync } from './azure_iot_wasm.js';
import './guard.js';

initSync({ module: readFileSync(new URL('./azure_iot_wasm_bg.wasm', import.meta.url)) });

export * from './azure_iot_wasm.js';
