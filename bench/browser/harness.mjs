// Runs inside every benchmark page (bench/browser/*.html): reads the parameters from the URL hash,
// connects the page's client, takes the time from navigation to the first PUBACK, then (n > 0)
// publishes n QoS 1 messages with at most `outstanding` unacknowledged and takes the time to the
// last PUBACK. The figures are left in `window.benchResult` (or `window.benchError`).
//
// A client is { connect(p, marks), send(i, ack, fail), end() }: `send` starts publish i and calls
// `ack()` on its PUBACK, `fail(error)` if it cannot.
import { windowed } from '../lib/windowed.mjs';

export const params = JSON.parse(decodeURIComponent(location.hash.slice(1) || '{}'));
export const payload = 'x'.repeat(params.size ?? 256);

/** Time spent inside WebSocket.send and inside the 'message' listeners, when `params.profile`:
 * the share of a run the client's own code takes on each side of the socket. */
export const spans = { sendMs: 0, sends: 0, messageMs: 0, messages: 0, publishCallMs: 0 };
export function profiledWebSocket(Base = WebSocket) {
  return class ProfiledWebSocket extends Base {
    send(data) {
      const t = performance.now();
      super.send(data);
      spans.sendMs += performance.now() - t;
      spans.sends += 1;
    }
    addEventListener(type, fn, opts) {
      if (type !== 'message') return super.addEventListener(type, fn, opts);
      return super.addEventListener(type, (e) => {
        const t = performance.now();
        try { return fn.call(this, e); } finally { spans.messageMs += performance.now() - t; spans.messages += 1; }
      }, opts);
    }
    set onmessage(fn) {
      super.onmessage = (e) => {
        const t = performance.now();
        try { return fn.call(this, e); } finally { spans.messageMs += performance.now() - t; spans.messages += 1; }
      };
    }
  };
}

let failed = null;
/** For a client whose library reports a lost connection only as an event (mqtt.js, Paho, the
 * bare socket): ends the run with that error instead of waiting for PUBACKs that cannot come. */
export function failRun(e) {
  failed ??= e instanceof Error ? e : new Error(String(e));
  failWaiters.forEach((f) => f(failed));
}
const failWaiters = new Set();
const orFail = (p) => Promise.race([p, new Promise((_, reject) => { if (failed) reject(failed); failWaiters.add(reject); })]);

/** The page's whole run; `marks.imported` is when the client's module (and its library) was ready. */
export async function runPage(client, marks) {
  try {
    await orFail(client.connect(params, marks));
    marks.connected = performance.now();
    await orFail(new Promise((resolve, reject) => client.send(0, resolve, reject)));
    marks.firstPuback = performance.now();
    let ms = null;
    if (params.n > 0) {
      let c = client;
      if (params.profile) {
        c = { send: (i, ack, fail) => { const t = performance.now(); client.send(i, ack, fail); spans.publishCallMs += performance.now() - t; } };
      }
      const t0 = performance.now();
      await orFail(windowed(params.n, params.outstanding ?? 500, c.send));
      ms = performance.now() - t0;
    }
    failWaiters.clear();
    await client.end();
    const wasm = performance.getEntriesByType('resource').find((e) => e.name.endsWith('.wasm'));
    if (wasm) marks.wasmFetched = wasm.responseEnd;
    window.benchResult = { marks, ms, spans: params.profile ? spans : undefined };
  } catch (e) {
    window.benchError = `${e?.code ?? ''} ${e?.stack ?? e}`;
  }
}
