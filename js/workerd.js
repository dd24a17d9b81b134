// Entry for Cloudflare Workers (workerd): the .wasm import is a compiled WebAssembly.Module there
// (module rule `CompiledWasm`), which initSync instantiates.
import wasmModule from './azure_iot_wasm_bg.wasm';
import { initSync } from './azure_iot_wasm.js';
import './guard.js';

initSync({ module: wasmModule });

export * from './azure_iot_wasm.js';
