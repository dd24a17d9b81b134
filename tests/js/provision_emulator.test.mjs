// provision() in Node against the emulator, over REST (global fetch) and MQTT over WebSocket
// (the `ws` package): individual and group enrollments, the token provider, a custom payload,
// a disabled enrollment, a failed allocation, a wrong key and injected 429/503 faults.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import * as lib from 'azure-iot-wasm';
import { startEmulator } from '../../scripts/lib/emulator.mjs';

let emu;
let individual;
let group;

before(async () => {
  emu = await startEmulator();
  const get = async (p) => (await emu.service(p)).json();
  individual = (await get('/enrollments')).find((e) => e.registrationId === 'symm-key-python-device-008');
  group = (await get('/enrollmentGroups'))[0];
  assert.ok(individual?.primaryKey && group?.primaryKey, 'default enrollments are listed with their keys');
});

after(async () => {
  await emu?.stop();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const fast = { retry: { baseMs: 50, capMs: 500, floorMs: 50, throttleFloorMs: 100 } };

async function injectDpsFault(status, count, retryAfter = 1) {
  const r = await emu.service('/faults', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'dps', status, count, retryAfter }),
  });
  assert.equal(r.status, 200, await r.text());
}

for (const transport of ['https', 'mqtt-ws']) {
  // The emulator answers with Retry-After 1 s; a local server may be polled faster than DPS's
  // 2 s floor (protocol §1.7), which keeps these tests quick.
  const base = () => ({ idScope: emu.idScope, endpoint: emu.httpUrl, transport, WebSocket, minPollMs: 1000 });

  test(`${transport}: an individual enrollment is assigned to the emulator's hub`, async () => {
    const statuses = [];
    const r = await lib.provision({ ...base(), registrationId: individual.registrationId, symmetricKey: individual.primaryKey, onStatus: (s) => statuses.push(s.status) });
    assert.equal(r.registrationId, 'symm-key-python-device-008');
    assert.equal(r.deviceId, 'python-device-008');
    assert.equal(r.assignedHub, emu.hubHostname);
    assert.equal(r.status, 'assigned');
    assert.ok(r.substatus && r.createdDateTimeUtc && r.lastUpdatedDateTimeUtc && r.etag, JSON.stringify(r));
    assert.equal(r.symmetricKey, individual.primaryKey);
    assert.equal(statuses[0], 'registering');
    assert.equal(statuses.at(-1), 'assigned');
  });

  test(`${transport}: a group enrollment works with the derived key, which is returned`, async () => {
    const registrationId = `group-${transport}-dev-1`;
    const r = await lib.provision({ ...base(), registrationId, groupKey: group.primaryKey });
    assert.equal(r.deviceId, registrationId);
    assert.equal(r.assignedHub, emu.hubHostname);
    assert.equal(r.symmetricKey, lib.deriveDeviceKey(group.primaryKey, registrationId));
  });

  test(`${transport}: the token provider path needs no key in the library`, async () => {
    const registrationId = `token-${transport}-dev-1`;
    const deviceKey = lib.deriveDeviceKey(group.primaryKey, registrationId);
    const asked = [];
    const getToken = async (resourceUri, expiresAt) => {
      asked.push(resourceUri);
      return lib.generateSasToken({ resourceUri, key: deviceKey, expiresAt, policyName: 'registration' });
    };
    const r = await lib.provision({ ...base(), registrationId, getToken });
    assert.equal(r.deviceId, registrationId);
    assert.equal(r.symmetricKey, undefined);
    assert.deepEqual([...new Set(asked)], [`${emu.idScope}/registrations/${registrationId}`]);
  });

  test(`${transport}: a custom payload is returned in the result`, async () => {
    const payload = { modelId: 'dtmi:com:example:Thermostat;1', site: { floor: 3 } };
    const r = await lib.provision({ ...base(), registrationId: `payload-${transport}`, groupKey: group.primaryKey, payload });
    assert.deepEqual(r.payload, payload);
  });

  test(`${transport}: a disabled enrollment fails with DPS_DISABLED`, async () => {
    await assert.rejects(
      lib.provision({ ...base(), registrationId: 'disabled-device-001', symmetricKey: individual.primaryKey }),
      (e) => e instanceof Error && e.code === 'DPS_DISABLED' && e.status === 200,
    );
  });

  test(`${transport}: a failed allocation fails with DPS_ASSIGNMENT_FAILED and its errorCode`, async () => {
    await assert.rejects(
      lib.provision({ ...base(), registrationId: 'failing-device-001', symmetricKey: individual.primaryKey }),
      (e) => e.code === 'DPS_ASSIGNMENT_FAILED' && e.errorCode === 400207,
    );
  });

  test(`${transport}: a wrong key fails with DPS_UNAUTHORIZED and is not retried`, async () => {
    const statuses = [];
    await assert.rejects(
      lib.provision({ ...base(), registrationId: individual.registrationId, symmetricKey: individual.secondaryKey.replace(/^..../, 'AAAA'), onStatus: (s) => statuses.push(s.status) }),
      (e) => {
        assert.equal(e.code, 'DPS_UNAUTHORIZED');
        assert.equal(e.status, 401);
        if (transport === 'https') {
          assert.equal(e.errorCode, 401002);
          assert.match(e.trackingId, UUID);
        } else {
          // Over MQTT the refusal is CONNACK 5, which carries no error document (protocol.md §3, §5.1).
          assert.equal(e.errorCode, undefined);
          assert.equal(e.trackingId, undefined);
          assert.match(e.message, /return code 5/);
        }
        return true;
      },
    );
    assert.deepEqual(statuses, ['registering']);
  });

  for (const status of [429, 503]) {
    test(`${transport}: injected ${status}s are retried and the registration succeeds`, async () => {
      await injectDpsFault(status, 2);
      const retries = [];
      const r = await lib.provision({ ...base(), registrationId: individual.registrationId, symmetricKey: individual.primaryKey, ...fast,
        onStatus: (s) => s.status === 'retrying' && retries.push([s.reason, s.httpStatus]) });
      assert.equal(r.deviceId, 'python-device-008');
      const reason = status === 429 ? 'throttled' : 'server-error';
      assert.deepEqual(retries, [[reason, status], [reason, status]]);
    });
  }

  test(`${transport}: throttling that outlasts the retries fails with DPS_THROTTLED_GAVE_UP`, async () => {
    await injectDpsFault(429, 3);
    await assert.rejects(
      lib.provision({ ...base(), registrationId: individual.registrationId, symmetricKey: individual.primaryKey, retry: { ...fast.retry, maxRetries: 2 } }),
      (e) => e.code === 'DPS_THROTTLED_GAVE_UP' && e.status === 429 && e.errorCode === 429001 && UUID.test(e.trackingId),
    );
  });
}

test('https: an unknown ID scope fails with DPS_NOT_FOUND', async () => {
  await assert.rejects(
    lib.provision({ idScope: '0ne99999999', endpoint: emu.httpUrl, registrationId: individual.registrationId, symmetricKey: individual.primaryKey }),
    (e) => e.code === 'DPS_NOT_FOUND' && e.status === 404,
  );
});

test('mqtt-ws: with no WebSocket global and none passed, the error says so', async () => {
  // Node 20 has no global WebSocket; Node 22 has one, taken away here for the duration.
  const had = Object.getOwnPropertyDescriptor(globalThis, 'WebSocket');
  delete globalThis.WebSocket;
  try {
    assert.equal(globalThis.WebSocket, undefined);
    await assert.rejects(
      lib.provision({ idScope: emu.idScope, endpoint: emu.httpUrl, transport: 'mqtt-ws', registrationId: individual.registrationId, symmetricKey: individual.primaryKey, retry: { maxRetries: 0 } }),
      (e) => e.code === 'NETWORK' && /WebSocket/.test(e.message),
    );
  } finally {
    if (had) Object.defineProperty(globalThis, 'WebSocket', had);
  }
});

test('mqtt-ws: with no WebSocket at all, provision fails at once instead of retrying', async () => {
  const had = Object.getOwnPropertyDescriptor(globalThis, 'WebSocket');
  delete globalThis.WebSocket;
  const statuses = [];
  try {
    await assert.rejects(
      lib.provision({ idScope: emu.idScope, endpoint: emu.httpUrl, transport: 'mqtt-ws', registrationId: individual.registrationId,
        symmetricKey: individual.primaryKey, onStatus: (s) => statuses.push(s.status) }),
      (e) => e.code === 'NETWORK' && /no global WebSocket/.test(e.message),
    );
    // Not even a first attempt, so no retry: the default policy would retry NETWORK 10 times.
    assert.deepEqual(statuses, []);
  } finally {
    if (had) Object.defineProperty(globalThis, 'WebSocket', had);
  }
});

test('mqtt-ws: createWebSocket may return a Promise of a socket', async () => {
  const urls = [];
  const r = await lib.provision({
    idScope: emu.idScope, endpoint: emu.httpUrl, transport: 'mqtt-ws', registrationId: 'factory-dev', groupKey: group.primaryKey,
    createWebSocket: async (url, protocols) => { urls.push([url, protocols]); return new WebSocket(url, protocols); },
  });
  assert.equal(r.deviceId, 'factory-dev');
  assert.deepEqual(urls, [[`ws://${emu.host}:${emu.httpPort}/$iothub/websocket`, ['mqtt']]]);
});
