// The seed's scenario end to end in headless Chromium against the emulator (--cors: the page's origin): provision
// over REST, connect to the assigned hub with the page's own WebSocket, send 10 messages
// concurrently each acknowledged; then C2D, twin and a direct method from the page, all checked
// through the emulator's service API. A getToken provider stands in for a token server.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator } from '../../scripts/lib/emulator.mjs';
import { openBrowser } from '../support/browser.mjs';
import { api, waitFor, telemetry } from './hub_support.mjs';

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

test('in Chromium: provision, connect, send 10 messages concurrently, each acknowledged', async () => {
  const enrollment = (await api(emu, 'GET', '/enrollments')).find((e) => e.registrationId === 'symm-key-python-device-008');
  const out = await browser.evaluateModule(`
    import * as lib from '/pkg/index.js';
    export default async (arg) => {
      const result = await lib.provision({ idScope: arg.idScope, registrationId: arg.registrationId,
                                           symmetricKey: arg.key, endpoint: arg.endpoint });
      const client = await lib.IotHubClient.connect({ provisioning: result, url: arg.wsUrl });
      const acked = [];
      await Promise.all(Array.from({ length: 10 }, (_, i) =>
        client.sendEvent({ temperature: 20 + i }, { messageId: 'b-' + i, properties: { source: 'browser' } })
          .then(() => acked.push(i))));
      await client.close();
      return { deviceId: result.deviceId, assignedHub: result.assignedHub, acked: acked.length };
    };`, {
    idScope: emu.idScope, registrationId: enrollment.registrationId, key: enrollment.primaryKey, endpoint: emu.httpUrl,
    wsUrl: `ws://${emu.host}:${emu.httpPort}/$iothub/websocket`,
  });
  assert.equal(out.acked, 10);
  assert.equal(out.deviceId, 'python-device-008');
  const stored = (await telemetry(emu, out.deviceId)).filter((m) => m.properties.source === 'browser');
  assert.deepEqual(stored.map((m) => m.systemProperties['message-id']).sort(), Array.from({ length: 10 }, (_, i) => `b-${i}`).sort());
});

test('in Chromium: C2D, twin and a direct method round trip, with tokens from getToken', async () => {
  const deviceId = `browser-hub-${process.pid}`;
  const key = Buffer.alloc(32, 3).toString('base64');
  await api(emu, 'PUT', `/devices/${deviceId}`, { deviceId, primaryKey: key });
  const run = browser.evaluateModule(`
    import * as lib from '/pkg/index.js';
    export default async (arg) => {
      const asked = [];
      const client = await lib.IotHubClient.connect({
        hostName: arg.hostName, deviceId: arg.deviceId, url: arg.wsUrl,
        getToken: async (resourceUri, expiresAt) => { asked.push(resourceUri); return lib.generateSasToken({ resourceUri, key: arg.key, expiresAt }); },
      });
      client.onMethod('setLed', (req) => ({ status: 200, payload: { led: req.payload.on ? 'on' : 'off' } }));
      const desired = new Promise((resolve) => client.onDesiredPropertiesUpdate((patch) => resolve(patch)));
      const message = new Promise((resolve) => client.onMessage((m) => resolve({ text: m.text, props: m.properties })));
      const version = await client.updateReportedProperties({ browser: true });
      const [patch, msg] = await Promise.all([desired, message]);
      await new Promise((r) => setTimeout(r, 200));
      await client.close();
      return { version, patch, msg, asked };
    };`, {
    hostName: emu.hubHostname, deviceId, key, wsUrl: `ws://${emu.host}:${emu.httpPort}/$iothub/websocket`,
  });
  await waitFor('the page to connect', async () => (await api(emu, 'GET', `/devices/${deviceId}`)).connectionState === 'Connected'
    && (await api(emu, 'GET', `/twins/${deviceId}`)).properties.reported.browser === true);
  const method = await api(emu, 'POST', `/devices/${deviceId}/methods`, { methodName: 'setLed', payload: { on: true }, responseTimeoutInSeconds: 10 });
  assert.deepEqual(method, { status: 200, payload: { led: 'on' } });
  await api(emu, 'PATCH', `/twins/${deviceId}/desired`, { color: 'blue' });
  await api(emu, 'POST', `/devices/${deviceId}/messages`, { body: 'to the page', properties: { p: '1' } });
  const out = await run;
  assert.equal(out.version, 2, 'the first reported patch of a new twin (protocol.md §5.6)');
  assert.equal(out.patch.color, 'blue');
  assert.deepEqual(out.msg, { text: 'to the page', props: { p: '1' } });
  assert.deepEqual(out.asked, [`${emu.hubHostname}/devices/${deviceId}`]);
  await waitFor('C2D completed', async () => (await api(emu, 'GET', `/devices/${deviceId}/messages`))[0]?.state === 'completed');
});
