// The JS boundary: every export, with each of its arguments replaced in turn by a value of the
// wrong JS type, ends as an Error with a `code` (thrown, or a rejected Promise) or as one of
// the documented acceptances listed with the case, never as a trap that aborts the instance.
// After each case a good call still works, which is what proves the instance is alive.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startEmulator } from '../../scripts/lib/emulator.mjs';
import { lib, newDevice, hubOptions, telemetry, KEY, WebSocket } from './hub_support.mjs';

const vectors = JSON.parse(readFileSync(new URL('../vectors/sas.json', import.meta.url), 'utf8'));
const vector = vectors.derived_keys[0];

// The replacement values: one of each JS type a caller can get wrong.
const WRONG = {
  number: 42, undefined: undefined, null: null, object: { a: 1 }, array: [1], symbol: Symbol('s'),
  bigint: 10n, function: () => {},
};

let emu;
before(async () => { emu = await startEmulator(); });
after(async () => { await emu?.stop(); });

/** Runs `call`; its outcome is 'ok' or the error's code. A bare Error (no code) fails the test. */
async function outcome(call) {
  try {
    const r = call();
    if (r && typeof r.then === 'function') await r;
    return 'ok';
  } catch (e) {
    assert.ok(e instanceof Error, `not an Error: ${String(e)}`);
    assert.match(String(e.code), /^[A-Z][A-Z_]+$/, `an Error without a code: ${e.message}`);
    return e.code;
  }
}

/**
 * Every case: `args` are good arguments, `call(...args)` the export, `accepts` the kinds of
 * value documented as accepted in each argument position (absent: none).
 */
function census(cases, alive) {
  const counts = { tried: 0, coded: 0, accepted: 0 };
  return async () => {
    for (const c of cases) {
      for (let pos = 0; pos < c.args.length; pos++) {
        for (const [kind, value] of Object.entries(WRONG)) {
          const args = c.args.map((a) => (typeof a === 'function' && a.fresh ? a() : a));
          args[pos] = value;
          const got = await outcome(() => c.call(...args));
          counts.tried++;
          const accepted = c.accepts?.[pos]?.includes(kind);
          if (got === 'ok') {
            assert.ok(accepted, `${c.name} arg ${pos} = ${kind}: accepted, but not documented as accepted`);
            counts.accepted++;
          } else {
            counts.coded++;
          }
          await alive(`${c.name} arg ${pos} = ${kind}`);
        }
      }
    }
    return counts;
  };
}

test('deriveDeviceKey and generateSasToken answer every wrong-typed argument with a coded error', async () => {
  const alive = async (after) => assert.equal(lib.deriveDeviceKey(vector.group_key_b64, vector.registration_id),
    vector.device_key_b64, `after ${after}`);
  const counts = await census([
    { name: 'deriveDeviceKey', args: [vector.group_key_b64, vector.registration_id], call: lib.deriveDeviceKey },
    { name: 'generateSasToken', args: [{ resourceUri: 'h/devices/d', key: KEY }], call: lib.generateSasToken },
    { name: 'provision', args: [{ idScope: 's', registrationId: 'r', symmetricKey: KEY }], call: lib.provision },
    { name: 'IotHubClient.connect', args: [{}], call: (o) => lib.IotHubClient.connect(o) },
    { name: 'IotHubClient.fromConnectionString', args: ['HostName=h;DeviceId=d', {}],
      call: (cs, o) => lib.IotHubClient.fromConnectionString(cs, o) },
  ], alive)();
  assert.equal(counts.tried, 7 * Object.keys(WRONG).length);
  assert.equal(counts.accepted, 0);
});

test('a connected IotHubClient answers every wrong-typed argument with a coded error and keeps sending', async () => {
  const deviceId = await newDevice(emu, 'boundary');
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  let sent = 0;
  const alive = async (after) => {
    await client.sendEvent(`alive ${++sent}`).catch((e) => assert.fail(`after ${after}: ${e.code} ${e.message}`));
  };
  const fn = () => {};
  const counts = await census([
    // Any JSON-able value is a body (stringified, sent as JSON); `undefined` is refused.
    { name: 'sendEvent', args: ['x', {}], call: (b, o) => client.sendEvent(b, o),
      accepts: [['number', 'null', 'object', 'array'], ['undefined', 'null', 'object']] },
    // An array is JSON the hub refuses (coded TWIN_REQUEST_FAILED); only an object is a patch.
    { name: 'updateReportedProperties', args: [{ a: 1 }], call: (p) => client.updateReportedProperties(p),
      accepts: [['object']] },
    { name: 'onMessage', args: [fn], call: (f) => client.onMessage(f), accepts: [['function']] },
    { name: 'onDesiredPropertiesUpdate', args: [fn], call: (f) => client.onDesiredPropertiesUpdate(f), accepts: [['function']] },
    { name: 'onMethod', args: ['m', fn], call: (n, f) => client.onMethod(n, f), accepts: [[], ['function']] },
    { name: 'onWritableProperty', args: ['targetTemperature', fn, {}], call: (n, f, o) => client.onWritableProperty(n, f, o),
      accepts: [[], ['function'], ['undefined', 'null', 'object']] },
    // The patch is sent as JSON: only an object is one; a missing options argument is the root.
    { name: 'reportProperties', args: [{ a: 1 }, {}], call: (p, o) => client.reportProperties(p, o),
      accepts: [['object'], ['undefined', 'null', 'object']] },
    // A null or missing component is the root (the default component).
    { name: 'onCommand', args: ['thermostat1', 'reboot', fn], call: (c, n, f) => client.onCommand(c, n, f),
      accepts: [['undefined', 'null'], [], ['function']] },
    // The emulator here has no storage: a good call fails FILE_UPLOAD_FAILED, itself coded.
    { name: 'uploadFile', args: ['b.txt', new Uint8Array(1), {}], call: (n, d, o) => client.uploadFile(n, d, o) },
    { name: 'on', args: ['connected', fn], call: (e, f) => client.on(e, f), accepts: [[], ['function']] },
    { name: 'off', args: ['connected', fn], call: (e, f) => client.off(e, f), accepts: [[], ['function']] },
  ], alive)();
  assert.equal(counts.tried, 22 * Object.keys(WRONG).length);
  assert.ok(counts.coded > 70, `coded ${counts.coded}`);
  // Every alive send reached the hub, in order.
  const bodies = (await telemetry(emu, deviceId)).map((m) => m.body).filter((b) => b.startsWith('alive '));
  assert.deepEqual(bodies, Array.from({ length: sent }, (_, i) => `alive ${i + 1}`));
  await client.close();
});

function mqttOptions(deviceId, extra = {}) {
  const host = emu.hubHostname;
  return {
    clientId: deviceId,
    username: `${host}/${deviceId}/?api-version=2021-04-12`,
    password: lib.generateSasToken({ resourceUri: `${host}/devices/${deviceId}`, key: KEY, ttlSeconds: 600 }),
    WebSocket,
    ...extra,
  };
}
const mqttUrl = () => `ws://${emu.host}:${emu.httpPort}/$iothub/websocket`;

test('a connected MqttClient answers every wrong-typed argument with a coded error and keeps publishing', async () => {
  const deviceId = await newDevice(emu, 'boundary-mqtt');
  const topic = `devices/${deviceId}/messages/events/`;
  const c = new lib.MqttClient();
  await c.connect(mqttUrl(), mqttOptions(deviceId));
  const alive = async (after) => {
    await c.publish(topic, 'alive', { qos: 1 }).catch((e) => assert.fail(`after ${after}: ${e.code} ${e.message}`));
  };
  const fn = () => {};
  const counts = await census([
    { name: 'MqttClient.on', args: ['close', fn], call: (e, f) => c.on(e, f), accepts: [[], ['function']] },
    { name: 'MqttClient.connect', args: [mqttUrl(), mqttOptions(deviceId)], call: (u, o) => c.connect(u, o) },
    // undefined and null are the empty payload; a missing options argument is QoS 0.
    { name: 'MqttClient.publish', args: [topic, 'x', { qos: 1 }], call: (t, p, o) => c.publish(t, p, o),
      accepts: [[], ['undefined', 'null'], ['undefined', 'null', 'object']] },
    { name: 'MqttClient.subscribe', args: [`devices/${deviceId}/messages/devicebound/#`, { qos: 1 }],
      call: (f, o) => c.subscribe(f, o), accepts: [[], ['undefined', 'null', 'object']] },
    { name: 'MqttClient.unsubscribe', args: [`devices/${deviceId}/messages/devicebound/#`], call: (f) => c.unsubscribe(f) },
  ], alive)();
  assert.equal(counts.tried, 10 * Object.keys(WRONG).length);
  assert.equal(c.connected, true);
  await c.end();
});

test('a disposed client answers with CLOSED: Promises reject, handlers throw, close resolves', async () => {
  const deviceId = await newDevice(emu, 'boundary-dispose');
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  client[Symbol.dispose]();
  assert.equal(client.connected, false);
  await assert.rejects(client.sendEvent('x'), { code: 'CLOSED' });
  await assert.rejects(client.getTwin(), { code: 'CLOSED' });
  assert.throws(() => client.onMessage(() => {}), { code: 'CLOSED' });
  await client.close();
  const c = new lib.MqttClient();
  c.free();
  await assert.rejects(c.publish('t', 'x'), { code: 'CLOSED' });
  assert.throws(() => c.on('message', () => {}), { code: 'CLOSED' });
  await c.end();
});

test('MqttClient takes a burst of 2,000 QoS 1 publishes by default, and maxQueued bounds it with QUEUE_FULL', async () => {
  const deviceId = await newDevice(emu, 'boundary-queue');
  const topic = `devices/${deviceId}/messages/events/`;
  const c = new lib.MqttClient();
  await c.connect(mqttUrl(), mqttOptions(deviceId));
  await Promise.all(Array.from({ length: 2000 }, (_, i) => c.publish(topic, `m${i}`, { qos: 1 })));
  await c.end();
  assert.equal((await telemetry(emu, deviceId)).length, 2000);

  const small = new lib.MqttClient();
  await small.connect(mqttUrl(), mqttOptions(deviceId, { maxInflight: 2, maxQueued: 3 }));
  const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => small.publish(topic, `q${i}`, { qos: 1 })));
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled',
    'rejected', 'rejected', 'rejected']);
  assert.equal(results[5].reason.code, 'QUEUE_FULL');
  await small.end();
  await assert.rejects(new lib.MqttClient().connect(mqttUrl(), mqttOptions(deviceId, { maxQueued: 70000 })),
    { code: 'INVALID_ARGUMENT' });
});

test('what the caller surely got wrong in sendEvent is refused with a code, and nothing is sent', async () => {
  const deviceId = await newDevice(emu, 'boundary-send');
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  await assert.rejects(client.sendEvent(undefined), { code: 'INVALID_ARGUMENT' });
  await assert.rejects(client.sendEvent('x', { properties: { [Symbol('k')]: 'v', a: '1' } }), { code: 'INVALID_PROPERTY' });
  await assert.rejects(client.sendEvent('x', { properties: new Map([['a', '1']]) }), { code: 'INVALID_PROPERTY' });
  await assert.rejects(client.sendEvent('x', { properties: ['a'] }), { code: 'INVALID_PROPERTY' });
  await assert.rejects(client.sendEvent('x', { messageId: 'm'.repeat(129) }), { code: 'INVALID_PROPERTY' });
  // The limits themselves are accepted: 128 characters, a null-prototype object.
  const props = Object.assign(Object.create(null), { a: '1' });
  await client.sendEvent('ok', { messageId: 'm'.repeat(128), properties: props });
  const stored = await telemetry(emu, deviceId);
  assert.equal(stored.length, 1);
  assert.equal(stored[0].systemProperties['message-id'], 'm'.repeat(128));
  assert.equal(stored[0].properties.a, '1');
  await client.close();
});

test('generateSasToken refuses both expiresAt and ttlSeconds, and an empty policyName', () => {
  const base = { resourceUri: 'h/devices/d', key: KEY };
  assert.throws(() => lib.generateSasToken({ ...base, expiresAt: 2_000_000_000, ttlSeconds: 60 }), { code: 'INVALID_EXPIRY' });
  assert.throws(() => lib.generateSasToken({ ...base, policyName: '' }), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => lib.generateSasToken({ ...base, policyName: 7 }), { code: 'INVALID_ARGUMENT' });
  assert.match(lib.generateSasToken({ ...base, policyName: 'registration' }), /&skn=registration$/);
});

test('a reported patch the hub refuses rejects with its reason and errorCode, and the client keeps working', async () => {
  const deviceId = await newDevice(emu, 'boundary-twin');
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  const err = await client.updateReportedProperties({ big: 'x'.repeat(40 * 1024) }).then(
    () => assert.fail('a 40 KB patch was accepted'), (e) => e);
  assert.equal(err.code, 'TWIN_REQUEST_FAILED');
  assert.equal(err.status, 400);
  assert.equal(err.errorCode, 400004);
  assert.match(err.message, /^twin request failed with status 400: .+/);
  assert.equal(typeof await client.updateReportedProperties({ small: 1 }), 'number');
  await client.close();
});

test('publishes still waiting for their PUBACK when an MqttClient is freed reject with CLOSED, never hang', async () => {
  const deviceId = await newDevice(emu, 'boundary-free');
  const c = new lib.MqttClient();
  await c.connect(mqttUrl(), mqttOptions(deviceId));
  const pending = [c.publish(`devices/${deviceId}/messages/events/`, 'a', { qos: 1 }),
    c.publish(`devices/${deviceId}/messages/events/`, 'b', { qos: 1 })];
  c.free(); // in the same tick: no PUBACK can have come
  const results = await Promise.allSettled(pending);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  assert.deepEqual(results.map((r) => r.reason.code), ['CLOSED', 'CLOSED']);
});
