// The durable store of IotHubClient (`connect({ store })`) in Node, against the emulator: what is
// stored when, what a second client re-sends and in which order, the bounds, and a store that
// fails. The page-reload case in Chromium with IndexedDB is store_browser.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator } from '../../scripts/lib/emulator.mjs';
import { lib, api, newDevice, hubOptions, telemetry, waitFor } from './hub_support.mjs';

let emu;
before(async () => { emu = await startEmulator(); });
after(async () => { await emu?.stop(); });

/** A MessageStore in a Map, as a Worker would write one over its own storage; `calls` logs each call. */
function memoryStore() {
  const records = new Map();
  const calls = [];
  return {
    records,
    calls,
    async put(r) { calls.push(['put', r.id]); records.set(r.id, { ...r, body: new Uint8Array(r.body) }); },
    async delete(id) { calls.push(['delete', id]); records.delete(id); },
    async list() { calls.push(['list']); return [...records.values()].reverse(); },
  };
}

const withheld = async (f) => {
  await api(emu, 'POST', '/faults', { kind: 'puback', mode: 'withhold' });
  try { return await f(); } finally { await api(emu, 'POST', '/faults', { kind: 'puback', mode: 'normal' }); }
};

test('a send is put in the store before it is published and deleted after its PUBACK', async () => {
  const deviceId = await newDevice(emu, 'store-order');
  const store = memoryStore();
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId, { store }));
  await client.sendEvent('one', { messageId: 'm-1' });
  assert.deepEqual(store.calls, [['list'], ['put', 'm-1'], ['delete', 'm-1']]);
  assert.equal(store.records.size, 0);
  // A send without a messageId gets one, and the hub sees it.
  await client.sendEvent('two');
  const [, put] = store.calls.slice(-2);
  const stored = (await telemetry(emu, deviceId)).find((m) => m.body === 'two');
  assert.equal(stored.systemProperties['message-id'], put[1]);
  await client.close();
});

test('a second client re-sends what the first left in the store, in order, before its own sends', async () => {
  const deviceId = await newDevice(emu, 'store-restore');
  const store = memoryStore();
  const pending = [];
  await withheld(async () => {
    const a = await lib.IotHubClient.connect(hubOptions(emu, deviceId, { store, maxInflight: 4 }));
    for (let i = 0; i < 20; i++) pending.push(a.sendEvent(`msg ${i}`, { messageId: `r-${i}` }).catch((e) => e.code));
    await waitFor('20 records', () => store.records.size === 20);
    await a.close();
  });
  assert.deepEqual(await Promise.all(pending), Array(20).fill('CLOSED'), 'the first client gave up on all of them');
  const before = (await telemetry(emu, deviceId)).length;
  assert.ok(before <= 4, `only the ${before} in flight reached the hub before the close`);

  const b = await lib.IotHubClient.connect(hubOptions(emu, deviceId, { store }));
  await b.sendEvent('new', { messageId: 'n-1' });
  await waitFor('the store to empty', () => store.records.size === 0);
  const ids = (await telemetry(emu, deviceId)).slice(before).map((m) => m.systemProperties['message-id']);
  // At-least-once: the in-flight ones may come twice; the rest once, in their order, before `new`.
  assert.deepEqual([...new Set(ids)], [...Array.from({ length: 20 }, (_, i) => `r-${i}`), 'n-1']);
  await b.close();
});

test('the store is bounded by count and bytes with QUEUE_FULL, and room comes back on PUBACK', async () => {
  const deviceId = await newDevice(emu, 'store-bound');
  const store = memoryStore();
  await withheld(async () => {
    const c = await lib.IotHubClient.connect(hubOptions(emu, deviceId, { store, maxStoredMessages: 3 }));
    const held = [c.sendEvent('a'), c.sendEvent('b'), c.sendEvent('c')];
    await assert.rejects(c.sendEvent('d'), { code: 'QUEUE_FULL' });
    await api(emu, 'POST', '/faults', { kind: 'puback', mode: 'release' });
    await Promise.all(held);
    await c.sendEvent('e');
    await c.close();
  });
  const bytes = memoryStore();
  const c = await lib.IotHubClient.connect(hubOptions(emu, deviceId, { store: bytes, maxStoredBytes: 2048 }));
  await assert.rejects(c.sendEvent('x'.repeat(4096)), { code: 'QUEUE_FULL' });
  assert.equal(bytes.records.size, 0, 'a refused send is not stored');
  await c.close();
});

test('a store that throws gives STORE_FAILED: the send is not published, and connect fails on a broken list', async () => {
  const deviceId = await newDevice(emu, 'store-fails');
  const quota = Object.assign(new Error('The quota has been exceeded.'), { name: 'QuotaExceededError' });
  const full = { ...memoryStore(), put: async () => { throw quota; } };
  const c = await lib.IotHubClient.connect(hubOptions(emu, deviceId, { store: full }));
  const e = await c.sendEvent('never', { messageId: 'q-1' }).catch((x) => x);
  assert.equal(e.code, 'STORE_FAILED');
  assert.equal(e.cause, quota);
  assert.equal(c.connected, true, 'the client lives on');
  assert.equal((await telemetry(emu, deviceId)).length, 0);
  await c.close();

  await assert.rejects(lib.IotHubClient.connect(hubOptions(emu, deviceId, { store: { ...memoryStore(), list: () => { throw quota; } } })),
    { code: 'STORE_FAILED' });
  const foreign = memoryStore();
  foreign.records.set('x', { id: 'x', seq: 1, topic: 'devices/someone-else/messages/events/', body: new Uint8Array() });
  await assert.rejects(lib.IotHubClient.connect(hubOptions(emu, deviceId, { store: foreign })), { code: 'STORE_FAILED' });
  assert.equal(foreign.records.size, 1, 'a record that is not ours is left alone');
  await assert.rejects(lib.IotHubClient.connect(hubOptions(emu, deviceId, { store: { put() {}, list() {} } })), { code: 'INVALID_ARGUMENT' });
});

test('a put that never settles fails that send after storeTimeoutMs, and the sends behind it go on', async () => {
  const deviceId = await newDevice(emu, 'store-hangs');
  const store = memoryStore();
  const put = store.put;
  let calls = 0;
  store.put = (r) => (++calls === 1 ? new Promise(() => {}) : put(r));
  const c = await lib.IotHubClient.connect(hubOptions(emu, deviceId, { store, storeTimeoutMs: 200 }));
  const first = c.sendEvent('stuck', { messageId: 'h-1' }).catch((e) => e);
  await c.sendEvent('after', { messageId: 'h-2' });
  const e = await first;
  assert.equal(e.code, 'STORE_FAILED');
  assert.equal(e.cause.code, 'TIMEOUT');
  assert.deepEqual((await telemetry(emu, deviceId)).map((m) => m.systemProperties['message-id']), ['h-2']);
  await c.close();
});
