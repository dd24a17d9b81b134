// Entry for browsers and bundlers: fetches and instantiates the .wasm next to this file (the
// `new URL(..., import.meta.url)` inside the glue is the pattern bundlers rewrite), so that an
// `import` of the package is ready to use.
import init from './azure_iot_wasm.js';
import './guard.js';

await init();

export * from './azure_iot_wasm.js';
