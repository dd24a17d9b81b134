// Telemetry that survives a page reload, in headless Chromium with the IndexedDB store: 200 sends
// while the emulator withholds PUBACKs (so at most one in-flight window reaches the hub), the
// page reloaded, a new client on the same store; the hub ends up with all 200, by messageId.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator } from '../../scripts/lib/emulator.mjs';
import { openBrowser } from '../support/browser.mjs';
import { api, newDevice, telemetry, waitFor, KEY } from './hub_support.mjs';

let emu;
let browser;

before(async () => {
  browser = await openBrowser();
  emu = await startEmulator({ args: ['--cors', browser.baseUrl] });
});

after(async () => {
  await browser?.close();
  await emu?.stop();
});

const N = 200;
const IN_FLIGHT = 16;

test('in Chromium: 200 sends stored in IndexedDB survive a page reload and all reach the hub', async () => {
  const deviceId = await newDevice(emu, 'store-reload');
  const arg = {
    hostName: emu.hubHostname, deviceId, key: KEY, url: `ws://${emu.host}:${emu.httpPort}/$iothub/websocket`,
    db: `reload-${deviceId}`, n: N, inFlight: IN_FLIGHT,
  };
  await api(emu, 'POST', '/faults', { kind: 'puback', mode: 'withhold' });
  const first = await browser.evaluateModule(`
    import * as lib from '/pkg/index.js';
    import { indexedDbStore } from '/pkg/indexeddb.js';
    export default async (arg) => {
      const store = indexedDbStore(arg.db);
      const client = await lib.IotHubClient.connect({ hostName: arg.hostName, deviceId: arg.deviceId,
        symmetricKey: arg.key, url: arg.url, store, maxInflight: arg.inFlight });
      for (let i = 0; i < arg.n; i++) client.sendEvent({ i }, { messageId: 'reload-' + i }).catch(() => {});
      for (let t = 0; t < 200 && (await store.list()).length < arg.n; t++) await new Promise((r) => setTimeout(r, 50));
      return { stored: (await store.list()).length };
    };`, arg);
  assert.equal(first.stored, N, 'every send is in IndexedDB before the reload');
  const beforeReload = new Set((await telemetry(emu, deviceId)).map((m) => m.systemProperties['message-id']));
  assert.ok(beforeReload.size <= IN_FLIGHT, `${beforeReload.size} reached the hub before the reload`);

  await browser.page.reload();
  await api(emu, 'POST', '/faults', { kind: 'puback', mode: 'normal' });
  const second = await browser.evaluateModule(`
    import * as lib from '/pkg/index.js';
    import { indexedDbStore } from '/pkg/indexeddb.js';
    export default async (arg) => {
      const store = indexedDbStore(arg.db);
      const left = (await store.list()).length;
      const client = await lib.IotHubClient.connect({ hostName: arg.hostName, deviceId: arg.deviceId,
        symmetricKey: arg.key, url: arg.url, store });
      for (let t = 0; t < 400 && (await store.list()).length > 0; t++) await new Promise((r) => setTimeout(r, 50));
      const after = (await store.list()).length;
      await client.close();
      await store.close();
      return { left, after };
    };`, arg);
  assert.equal(second.left, N, 'the reload kept every record');
  assert.equal(second.after, 0, 'every re-sent record was acknowledged and deleted');
  const ids = await waitFor('all 200 at the hub', async () => {
    const got = new Set((await telemetry(emu, deviceId)).map((m) => m.systemProperties['message-id']));
    return got.size === N && got;
  });
  assert.deepEqual([...ids].sort(), Array.from({ length: N }, (_, i) => `reload-${i}`).sort());
});
