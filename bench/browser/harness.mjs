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

/** Time spent in the client's calls, when `params.profile`: publish calls made outside a socket
 * listener, the socket's 'message' listeners (a publish made inside one counts there), and
 * WebSocket.send wherever it runs (`looseSendMs`: outside both, e.g. from a timer). So the client's
 * own work, WebSocket.send excluded, is publishCallMs + messageMs + looseSendMs - sendMs. */
export const spans = { sendMs: 0, looseSendMs: 0, sends: 0, messageMs: 0, messages: 0, publishCallMs: 0 };
let depth = 0;
function timed(fn, add) {
  const t = performance.now();
  depth += 1;
  try { return fn(); } finally { depth -= 1; add(performance.now() - t); }
}
export function profiledWebSocket(Base = WebSocket) {
  const listen = (fn, self) => (e) => timed(() => fn.call(self, e), (ms) => { if (depth === 0) spans.messageMs += ms; spans.messages += 1; });
  return class ProfiledWebSocket extends Base {
    send(data) {
      const loose = depth === 0;
      timed(() => super.send(data), (ms) => { spans.sendMs += ms; spans.sends += 1; if (loose) spans.looseSendMs += ms; });
    }
    addEventListener(type, fn, opts) {
      return super.addEventListener(type, type === 'message' ? listen(fn, this) : fn, opts);
    }
    set onmessage(fn) {
      super.onmessage = listen(fn, this);
    }
  };
}
/** Wraps a client's send so that its time counts as a publish call (unless inside a listener). */
export const profiledSend = (send) => (i, ack, fail) => timed(() => send(i, ack, fail), (ms) => { if (depth === 0) spans.publishCallMs += ms; });

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
      if (params.profile) c = { send: profiledSend(client.send) };
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
