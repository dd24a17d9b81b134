// The packed package in Cloudflare's workerd (through miniflare, pinned for Node 20): a worker
// that provisions over fetch and sends telemetry over the fetch-upgrade WebSocket route
// (`fetch(url, { headers: { Upgrade: 'websocket' } })` then `accept()`), given to the library as
// `createWebSocket`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';
import { setUp, storedMessages } from './harness.mjs';

let ctx;
before(async () => { ctx = await setUp(); });
after(() => ctx?.emu.stop());

const worker = `
import * as lib from './node_modules/azure-iot-wasm/pkg/workerd.js';
import { quickstart } from './quickstart.mjs';

async function createWebSocket(url, protocols) {
  const resp = await fetch(url.replace(/^ws/, 'http'), {
    headers: { Upgrade: 'websocket', 'Sec-WebSocket-Protocol': protocols.join(', ') },
  });
  const ws = resp.webSocket;
  if (!ws) throw new Error('upgrade refused: ' + resp.status);
  ws.accept();
  return ws;
}

export default {
  async fetch(request) {
    const params = await request.json();
    const lines = [];
    try {
      const result = await quickstart(lib, { ...params, socket: { createWebSocket } }, (l) => lines.push(l));
      return Response.json({ result, lines });
    } catch (e) {
      return Response.json({ error: String(e && e.stack || e), code: e && e.code, lines }, { status: 500 });
    }
  },
};
`;

test('a worker in workerd provisions and sends 10 acknowledged messages over the fetch-upgrade route', async () => {
  writeFileSync(join(ctx.dir, 'worker.mjs'), worker);
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(ctx.dir, 'worker.mjs'),
    modulesRoot: ctx.dir,
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: '2025-01-01',
  });
  try {
    const res = await mf.dispatchFetch('http://worker.local/', { method: 'POST', body: JSON.stringify(ctx.params) });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.result.deviceId, 'python-device-008');
    assert.ok(body.lines.includes('done sending message #10'));
  } finally {
    await mf.dispose();
  }
  assert.equal((await storedMessages(ctx.emu, 'python-device-008')).length, 10);
});
