// Every option of every export, given a value of the wrong kind, is refused with a coded Error
// before anything is sent; none is silently ignored. The options are listed here with their
// kind (string, function, boolean, object, number), and each kind has its wrong values: other
// JS types, and for numbers NaN, ±Infinity, a negative, a fraction and 1e308. After each case a
// good call still works.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startEmulator } from '../../scripts/lib/emulator.mjs';
import { lib, newDevice, hubOptions, KEY, WebSocket } from './hub_support.mjs';

const vector = JSON.parse(readFileSync(new URL('../vectors/sas.json', import.meta.url), 'utf8')).derived_keys[0];

const WRONG = {
  string: [42, true, { a: 1 }, ['x'], Symbol('s'), () => 'x', 10n],
  function: ['f', 42, { call: 1 }, true, Symbol('f')],
  boolean: ['yes', 1, {}, Symbol('b')],
  object: ['o', 42, true, [1], () => ({}), Symbol('o')],
  number: ['1', NaN, Infinity, -Infinity, -1, 1.5, 1e308, {}, true, 10n],
  // An application property's value: strings, numbers and booleans are documented values.
  property: [{ a: 1 }, ['x'], Symbol('v'), () => 'v', 10n, null, undefined],
};

let emu;
before(async () => { emu = await startEmulator(); });
after(async () => { await emu?.stop(); });

/** Calls `f`; the outcome must be a coded Error (thrown or rejected). Returns the code. */
async function refused(what, f) {
  try {
    await f();
  } catch (e) {
    assert.ok(e instanceof Error, `${what}: threw a non-Error ${String(e)}`);
    assert.match(String(e.code), /^[A-Z][A-Z_]+$/, `${what}: an Error without a code: ${e.message}`);
    return e.code;
  }
  assert.fail(`${what}: accepted`);
}

/**
 * For each option and each wrong value of its kind, `call({...base, [key]: value})` is refused.
 * `undefined` and `null` are not wrong for an option: they mean "not given".
 */
async function census(name, base, kinds, call) {
  let n = 0;
  for (const [key, kind] of Object.entries(kinds)) {
    for (const value of WRONG[kind]) {
      const label = `${name} ${key} = ${typeof value === 'symbol' ? 'Symbol' : typeof value === 'bigint' ? `${value}n` : JSON.stringify(value) ?? String(value)}`;
      await refused(label, () => call({ ...base, [key]: value }));
      assert.equal(lib.deriveDeviceKey(vector.group_key_b64, vector.registration_id), vector.device_key_b64, `after ${label}`);
      n++;
    }
  }
  return n;
}

test('every provision option of the wrong kind is refused with a code before a request is made', async () => {
  let requests = 0;
  const fetch = async () => { requests++; throw new Error('no request was expected'); };
  const base = { idScope: emu.idScope, registrationId: 'census-dev', symmetricKey: KEY, endpoint: emu.httpUrl, fetch };
  const n = await census('provision', base, {
    idScope: 'string', registrationId: 'string', symmetricKey: 'string', groupKey: 'string', endpoint: 'string',
    transport: 'string', apiVersion: 'string', getToken: 'function', onStatus: 'function', fetch: 'function',
    WebSocket: 'function', createWebSocket: 'function', payload: 'object', signal: 'object', retry: 'object',
    timeoutMs: 'number', minPollMs: 'number', requestTimeoutMs: 'number',
  }, (o) => lib.provision(o));
  const retry = await census('provision retry', base, { baseMs: 'number', capMs: 'number', floorMs: 'number',
    throttleFloorMs: 'number', maxRetries: 'number' }, (r) => lib.provision({ ...base, retry: r }));
  assert.equal(requests, 0);
  assert.ok(n + retry > 150, `${n + retry} cases`);
});

test('every IotHubClient.connect option of the wrong kind is refused with a code before a socket opens', async () => {
  const deviceId = await newDevice(emu, 'census');
  let sockets = 0;
  const Counting = class extends WebSocket { constructor(...a) { super(...a); sockets++; } };
  const base = { ...hubOptions(emu, deviceId), WebSocket: Counting };
  const n = await census('connect', base, {
    hostName: 'string', deviceId: 'string', moduleId: 'string', symmetricKey: 'string', sasToken: 'string',
    connectionString: 'string', modelId: 'string', clientType: 'string', url: 'string', getToken: 'function',
    WebSocket: 'function', createWebSocket: 'function', provisioning: 'object', reconnect: 'object',
    keepAlive: 'number', tokenTtlSeconds: 'number', maxInflight: 'number', maxOfflineQueue: 'number',
    twinTimeoutMs: 'number', openTimeoutMs: 'number', sendTimeoutMs: 'number', store: 'object',
    maxStoredMessages: 'number', maxStoredBytes: 'number', storeTimeoutMs: 'number', restUrl: 'string',
  }, (o) => lib.IotHubClient.connect(o));
  const reconnect = await census('connect reconnect', base, { initialDelayMs: 'number', maxDelayMs: 'number' },
    (r) => lib.IotHubClient.connect({ ...base, reconnect: r }));
  assert.equal(sockets, 0);
  assert.ok(n + reconnect > 150, `${n + reconnect} cases`);
  // And the good options still connect.
  const client = await lib.IotHubClient.connect(base);
  await client.close();
});

test('every MqttClient option, sendEvent option and generateSasToken option of the wrong kind is refused', async () => {
  const url = `ws://${emu.host}:${emu.httpPort}/$iothub/websocket`;
  const deviceId = await newDevice(emu, 'census-mqtt');
  const c = new lib.MqttClient();
  let n = await census('MqttClient.connect', { clientId: deviceId, WebSocket }, {
    clientId: 'string', username: 'string', password: 'string', cleanSession: 'boolean', WebSocket: 'function',
    createWebSocket: 'function', keepAlive: 'number', connectTimeout: 'number', maxInflight: 'number', maxQueued: 'number',
  }, (o) => c.connect(url, o));
  n += await census('MqttClient.publish', { qos: 1 }, { qos: 'number', retain: 'boolean' }, (o) => c.publish('t', 'x', o));

  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  n += await census('sendEvent', {}, {
    messageId: 'string', correlationId: 'string', userId: 'string', contentType: 'string', contentEncoding: 'string',
    expiryTimeUtc: 'string', creationTimeUtc: 'string', componentName: 'string', outputName: 'string', properties: 'object',
  }, (o) => client.sendEvent('x', o));
  n += await census('sendEvent properties', {}, { a: 'property' }, (p) => client.sendEvent('x', { properties: p }));
  n += await census('onWritableProperty', {}, { component: 'string' }, (o) => client.onWritableProperty('p', () => {}, o));
  n += await census('reportProperties', {}, { component: 'string' }, (o) => client.reportProperties({ a: 1 }, o));
  n += await census('uploadFile', {}, { onProgress: 'function', signal: 'object', blockSize: 'number', requestTimeoutMs: 'number' },
    // This emulator has no storage: an accepted call reaches the hub and fails FILE_UPLOAD_FAILED,
    // which the census then reports as "accepted".
    async (o) => {
      const e = await client.uploadFile('b.txt', new Uint8Array(1), o).catch((x) => x);
      if (e?.code !== 'FILE_UPLOAD_FAILED') throw e;
    });
  await client.close();

  n += await census('generateSasToken', { resourceUri: 'h/devices/d', key: KEY }, {
    resourceUri: 'string', key: 'string', policyName: 'string', expiresAt: 'number', ttlSeconds: 'number',
  }, (o) => lib.generateSasToken(o));
  assert.ok(n > 150, `${n} cases`);
});
