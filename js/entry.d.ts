// Types of every runtime entry: the wasm exports, already initialized.
export * from './azure_iot_wasm.js';
