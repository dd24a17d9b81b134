// The IoT Hub client in Node (ws injected) against the emulator: every feature asserted from the
// cloud side through the emulator's service API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator } from '../../scripts/lib/emulator.mjs';
import { lib, api, newDevice, hubOptions, waitFor, telemetry, KEY, WebSocket } from './hub_support.mjs';

let emu;
before(async () => { emu = await startEmulator(); });
after(async () => { await emu?.stop(); });

test('ten concurrent sends each resolve on PUBACK and are stored with their properties', async () => {
  const deviceId = await newDevice(emu);
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  assert.equal(client.connected, true);
  await Promise.all(Array.from({ length: 10 }, (_, i) =>
    client.sendEvent({ temperature: 20 + i }, {
      messageId: `m-${i}`, correlationId: 'c-1', properties: { alert: i % 2 ? 'yes' : 'no', 'a b/c': 'x&y=z' },
    })));
  const stored = await telemetry(emu, deviceId);
  assert.equal(stored.length, 10);
  const m3 = stored.find((m) => m.systemProperties['message-id'] === 'm-3');
  assert.deepEqual(JSON.parse(m3.body), { temperature: 23 });
  assert.equal(m3.systemProperties['correlation-id'], 'c-1');
  assert.equal(m3.systemProperties['content-type'], 'application/json');
  assert.equal(m3.systemProperties['content-encoding'], 'utf-8');
  assert.equal(m3.properties.alert, 'yes');
  assert.equal(m3.properties['a b/c'], 'x&y=z');
  await client.close();
});

test('a string body and a byte body are sent as given', async () => {
  const deviceId = await newDevice(emu);
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  await client.sendEvent('plain text', { contentType: 'text/plain' });
  await client.sendEvent(new Uint8Array([0, 1, 2, 255]));
  const stored = await telemetry(emu, deviceId);
  assert.equal(stored[0].body, 'plain text');
  assert.equal(stored[0].systemProperties['content-type'], 'text/plain');
  assert.equal(stored[1].bodyBase64, Buffer.from([0, 1, 2, 255]).toString('base64'));
  await client.close();
});

test('a message over 256 KB is refused client-side with MESSAGE_TOO_LARGE', async () => {
  const deviceId = await newDevice(emu);
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  await assert.rejects(client.sendEvent('x'.repeat(256 * 1024 + 1)), { code: 'MESSAGE_TOO_LARGE' });
  await client.sendEvent('x'.repeat(256 * 1024));
  await client.close();
});

test('a connection string connects the same way', async () => {
  const deviceId = await newDevice(emu);
  const cs = `HostName=${emu.hubHostname};DeviceId=${deviceId};SharedAccessKey=${KEY}`;
  const client = await lib.IotHubClient.fromConnectionString(cs, { url: hubOptions(emu, deviceId).url, WebSocket });
  await client.sendEvent('from cs');
  assert.equal((await telemetry(emu, deviceId))[0].body, 'from cs');
  await client.close();
});

test('a wrong key rejects connect with NOT_AUTHORIZED and no retry loop', async () => {
  const deviceId = await newDevice(emu);
  const bad = Buffer.alloc(32, 9).toString('base64');
  // A 50 ms first backoff: a retry loop, if there were one, would show within the second below.
  await assert.rejects(lib.IotHubClient.connect(hubOptions(emu, deviceId, { symmetricKey: bad, reconnect: { initialDelayMs: 50 } })), { code: 'NOT_AUTHORIZED' });
  await new Promise((r) => setTimeout(r, 1000));
  const refused = (await api(emu, 'GET', '/log')).filter((e) => e.identity === deviceId && e.code === 401002);
  assert.equal(refused.length, 1, `one CONNECT, refused once: ${JSON.stringify(refused)}`);
});

test('bad options are typed errors', async () => {
  await assert.rejects(lib.IotHubClient.connect({ hostName: 'h', deviceId: 'd' }), { code: 'INVALID_KEY' });
  await assert.rejects(lib.IotHubClient.connect({ connectionString: 'HostName=h;SharedAccessKey=k' }), { code: 'INVALID_CONNECTION_STRING' });
  await assert.rejects(lib.IotHubClient.connect({ hostName: 'h', deviceId: 'd', symmetricKey: '!!' }), { code: 'INVALID_KEY' });
  await assert.rejects(lib.IotHubClient.connect(null), { code: 'INVALID_ARGUMENT' });
});

test('a C2D message reaches onMessage with its properties and is completed after the handler', async () => {
  const deviceId = await newDevice(emu);
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  const got = new Promise((resolve) => client.onMessage(async (m) => {
    await new Promise((r) => setTimeout(r, 100));
    resolve(m);
  }));
  await api(emu, 'POST', `/devices/${deviceId}/messages`, { body: 'hello device', properties: { color: 'red', 'k 1': 'v/2' }, messageId: 'c2d-1' });
  const m = await got;
  assert.equal(m.text, 'hello device');
  assert.equal(m.messageId, 'c2d-1');
  assert.equal(m.properties.color, 'red');
  assert.equal(m.properties['k 1'], 'v/2');
  await waitFor('C2D completed', async () => {
    const list = await api(emu, 'GET', `/devices/${deviceId}/messages`);
    return list.length === 1 && list[0].state === 'completed';
  });
  await client.close();
});

test('twin: reported patch resolves with the new version and the cloud sees it; getTwin reads both sides', async () => {
  const deviceId = await newDevice(emu);
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  // A new twin's reported section is at $version 1; each patch adds one (protocol.md §5.6).
  const v1 = await client.updateReportedProperties({ firmware: '1.0', nested: { a: 1 } });
  const v2 = await client.updateReportedProperties({ firmware: '1.1', nested: null });
  assert.deepEqual([v1, v2], [2, 3]);
  const cloud = await api(emu, 'GET', `/twins/${deviceId}`);
  assert.equal(cloud.properties.reported.firmware, '1.1');
  assert.equal(cloud.properties.reported.nested, undefined);
  await api(emu, 'PATCH', `/twins/${deviceId}/desired`, { interval: 30 });
  const twin = await waitFor('desired in twin', async () => {
    const t = await client.getTwin();
    return t.desired.interval === 30 && t;
  });
  assert.equal(twin.reported.firmware, '1.1');
  assert.equal(twin.reported.$version, v2);
  await client.close();
});

test('desired patches arrive in version order', async () => {
  const deviceId = await newDevice(emu);
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  const seen = [];
  client.onDesiredPropertiesUpdate((patch, version) => seen.push([patch.step, version]));
  for (let i = 1; i <= 5; i++) await api(emu, 'PATCH', `/twins/${deviceId}/desired`, { step: i });
  await waitFor('five patches', () => seen.length === 5);
  assert.deepEqual(seen.map((s) => s[0]), [1, 2, 3, 4, 5]);
  assert.deepEqual(seen.map((s) => s[1]), [...seen.map((s) => s[1])].sort((a, b) => a - b));
  await client.close();
});

test('a direct method is invoked and answered; a throwing handler answers 500; no handler answers 501', async () => {
  const deviceId = await newDevice(emu);
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  client.onMethod('reboot', async (req) => ({ status: 200, payload: { rebooted: true, delay: req.payload.delay } }));
  client.onMethod('fail', () => { throw new Error('boom'); });
  const ok = await api(emu, 'POST', `/devices/${deviceId}/methods`, { methodName: 'reboot', payload: { delay: 5 }, responseTimeoutInSeconds: 10 });
  assert.deepEqual(ok, { status: 200, payload: { rebooted: true, delay: 5 } });
  const failed = await api(emu, 'POST', `/devices/${deviceId}/methods`, { methodName: 'fail', payload: null, responseTimeoutInSeconds: 10 });
  assert.equal(failed.status, 500);
  assert.equal(failed.payload.message, 'boom');
  const none = await api(emu, 'POST', `/devices/${deviceId}/methods`, { methodName: 'nope', responseTimeoutInSeconds: 10 });
  assert.equal(none.status, 501);
  client.onMethod('*', (req) => ({ status: 202, payload: req.methodName }));
  const any = await api(emu, 'POST', `/devices/${deviceId}/methods`, { methodName: 'other', responseTimeoutInSeconds: 10 });
  assert.deepEqual(any, { status: 202, payload: 'other' });
  await client.close();
});

test('a method handler that returns an unusable status or payload is answered 500 and heard as HANDLER_ERROR', async () => {
  const deviceId = await newDevice(emu);
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  const errors = [];
  client.on('error', (e) => errors.push(e.code));
  client.onMethod('badStatus', () => ({ status: 'ok', payload: { a: 1 } }));
  client.onMethod('badPayload', () => ({ status: 200, payload: 10n }));
  client.onMethod('fine', () => ({ payload: { a: 1 } }));
  const invoke = (methodName) => api(emu, 'POST', `/devices/${deviceId}/methods`, { methodName, responseTimeoutInSeconds: 10 });
  const s = await invoke('badStatus');
  assert.equal(s.status, 500);
  assert.match(s.payload.message, /status must be a whole number/);
  assert.equal((await invoke('badPayload')).status, 500);
  assert.deepEqual(await invoke('fine'), { status: 200, payload: { a: 1 } }, 'an absent status is 200');
  await waitFor('two error events', () => errors.length === 2);
  assert.deepEqual(errors, ['HANDLER_ERROR', 'HANDLER_ERROR']);
  await client.close();
});

test('a module connects with a model id: telemetry carries the module and the device shows the model', async () => {
  // The module of the emulator's default config, with its key from that config.
  const moduleKey = 'piD6Ep/UBsR+kJxBdEO/fZUOtbe4pJ00MspT543kIME3yR76J4sUqo3vT/61BH0bRJxmMGM+lsnR+qUdJu0TTw==';
  const modelId = 'dtmi:com:example:Thermostat;1';
  const client = await lib.IotHubClient.connect({
    ...hubOptions(emu, 'emu-device-001'), moduleId: 'emu-module-1', symmetricKey: moduleKey, modelId,
  });
  await client.sendEvent({ fromModule: true }, { messageId: 'mod-1' });
  const m = (await telemetry(emu, 'emu-device-001')).find((x) => x.systemProperties['message-id'] === 'mod-1');
  assert.equal(m.moduleId, 'emu-module-1');
  assert.equal(m.systemProperties['dt-dataschema'], modelId);
  const v = await client.updateReportedProperties({ moduleReady: true });
  assert.equal(v, 2, 'the first patch of the module twin');
  const mt = await api(emu, 'GET', '/twins/emu-device-001/modules/emu-module-1');
  assert.equal(mt.properties.reported.moduleReady, true);
  await client.close();
});

test('close settles everything pending and later calls reject with CLOSED', async () => {
  const deviceId = await newDevice(emu);
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  const events = [];
  client.on('closed', () => events.push('closed'));
  await api(emu, 'POST', '/faults', { kind: 'puback', mode: 'withhold' });
  try {
    const pending = client.sendEvent('never acked');
    const twin = client.getTwin();
    await client.close();
    await assert.rejects(pending, { code: 'CLOSED' });
    await assert.rejects(twin, { code: 'CLOSED' });
    await assert.rejects(client.sendEvent('late'), { code: 'CLOSED' });
    await client.close();
    assert.deepEqual(events, ['closed']);
  } finally {
    await api(emu, 'POST', '/faults', { kind: 'puback', mode: 'normal' });
  }
});

// ---- opening and re-entrancy, without the emulator -------------------------------------------

import { fakeHubSocket } from './fake_hub_socket.mjs';

const FAKE = { hostName: 'fake.azure-devices.net', deviceId: 'd1', symmetricKey: KEY };

test('a getToken Promise that never settles fails connect with CONNECT_TIMEOUT at openTimeoutMs', async () => {
  const t0 = Date.now();
  await assert.rejects(
    lib.IotHubClient.connect({ ...FAKE, symmetricKey: undefined, getToken: () => new Promise(() => {}), openTimeoutMs: 300 }),
    (e) => e.code === 'CONNECT_TIMEOUT',
  );
  assert.ok(Date.now() - t0 < 5000);
});

test('a getToken that throws, rejects or returns no string fails connect with TOKEN_PROVIDER_FAILED', async () => {
  const providers = [
    () => { throw new Error('token server down'); },
    () => Promise.reject(new Error('token server down')),
    () => 42,
  ];
  for (const getToken of providers) {
    await assert.rejects(
      lib.IotHubClient.connect({ ...FAKE, symmetricKey: undefined, getToken, createWebSocket: () => fakeHubSocket() }),
      (e) => e.code === 'TOKEN_PROVIDER_FAILED' && e.message.startsWith('getToken failed'),
    );
  }
});

test('a createWebSocket Promise that never settles fails connect with CONNECT_TIMEOUT at openTimeoutMs', async () => {
  await assert.rejects(
    lib.IotHubClient.connect({ ...FAKE, createWebSocket: () => new Promise(() => {}), openTimeoutMs: 300 }),
    (e) => e.code === 'CONNECT_TIMEOUT',
  );
});

test('a hub that never sends SUBACK fails connect with CONNECT_TIMEOUT', async () => {
  const socket = fakeHubSocket({ suback: false });
  await assert.rejects(
    lib.IotHubClient.connect({ ...FAKE, createWebSocket: () => socket, openTimeoutMs: 300 }),
    (e) => e.code === 'CONNECT_TIMEOUT',
  );
  assert.ok(socket.sent.includes(0x82), 'it did subscribe');
});

test('a socket that answers synchronously inside send() loses nothing: connect and sends resolve', async () => {
  const client = await lib.IotHubClient.connect({ ...FAKE, createWebSocket: () => fakeHubSocket() });
  assert.equal(client.connected, true);
  await Promise.all([client.sendEvent('a'), client.sendEvent('b')]);
  await client.close();
  assert.equal(client.connected, false);
});

test('sendTimeoutMs rejects a send that gets no PUBACK with TIMEOUT', async () => {
  const client = await lib.IotHubClient.connect({
    ...FAKE, createWebSocket: () => fakeHubSocket({ puback: false }), sendTimeoutMs: 300,
  });
  const t0 = Date.now();
  await assert.rejects(client.sendEvent('never acked'), (e) => e.code === 'TIMEOUT');
  assert.ok(Date.now() - t0 >= 250);
  await client.close();
});

test('close() called by the socket from inside send() still closes the client', async () => {
  const socket = fakeHubSocket();
  const client = await lib.IotHubClient.connect({ ...FAKE, createWebSocket: () => socket });
  const closedEvent = new Promise((r) => client.on('closed', r));
  let closing;
  socket.onsend = () => { socket.onsend = null; closing = client.close(); };
  const send = client.sendEvent('in flight');
  await closing;
  await closedEvent;
  assert.equal(client.connected, false);
  await assert.rejects(send, (e) => e.code === 'CLOSED');
});

test('a GatewayHostName in the connection string is the host connected to; the identity keeps HostName', async () => {
  const deviceId = await newDevice(emu);
  const urls = [];
  const cs = `HostName=${emu.hubHostname};DeviceId=${deviceId};SharedAccessKey=${KEY};GatewayHostName=gateway.example`;
  const client = await lib.IotHubClient.fromConnectionString(cs, {
    createWebSocket: (url, protocols) => {
      urls.push(url);
      return new WebSocket(`ws://${emu.host}:${emu.httpPort}/$iothub/websocket`, protocols);
    },
  });
  assert.deepEqual(urls, ['wss://gateway.example/$iothub/websocket?iothub-no-client-cert=true']);
  await client.sendEvent('via the gateway');
  assert.equal((await telemetry(emu, deviceId)).length, 1, 'the SAS token for HostName was accepted');
  await client.close();
});
