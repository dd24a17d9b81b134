// Use after free, answered with the library's own code. wasm-bindgen's glue passes a freed
// instance's pointer as 0, and its Rust side then throws a bare "null pointer passed to rust"
// Error with no `code`. So each method of the exported classes first checks the instance:
// Promise methods reject with `CLOSED`, `close()`/`end()` resolve (they are idempotent), other
// methods throw `CLOSED`, and the `connected` getter reads false. `__wbg_ptr` is the glue's
// field for the instance pointer (wasm-bindgen is pinned to one exact version).
import { IotHubClient, MqttClient } from './azure_iot_wasm.js';

const closed = () => Object.assign(new Error('client was disposed'), { code: 'CLOSED' });
const settled = new Set(['close', 'end']);
const promised = new Set(['sendEvent', 'getTwin', 'updateReportedProperties', 'reportProperties', 'uploadFile', 'connect', 'publish', 'subscribe', 'unsubscribe']);

for (const C of [IotHubClient, MqttClient]) {
  const proto = C.prototype;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, name);
    if (name === 'constructor' || name === 'free') continue;
    if (d.get) {
      const get = d.get;
      Object.defineProperty(proto, name, { ...d, get() { return this.__wbg_ptr ? get.call(this) : false; } });
    } else if (typeof d.value === 'function') {
      const f = d.value;
      proto[name] = function (...args) {
        if (this.__wbg_ptr) return f.apply(this, args);
        if (settled.has(name)) return Promise.resolve();
        if (promised.has(name)) return Promise.reject(closed());
        throw closed();
      };
    }
  }
}
