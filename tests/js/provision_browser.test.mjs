// provision() in headless Chromium against the emulator (started with --cors naming the page's
// origin, since the page is served from another one): REST through the page's fetch and MQTT over the page's own
// WebSocket; individual, group (derived key) and token-provider credentials; a custom payload,
// a disabled enrollment, a wrong key, and injected 429/503 faults that heal.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator } from '../../scripts/lib/emulator.mjs';
import { openBrowser } from '../support/browser.mjs';

let emu;
let browser;
let individual;
let group;

before(async () => {
  browser = await openBrowser();
  emu = await startEmulator({ args: ['--cors', browser.baseUrl] });
  individual = (await (await emu.service('/enrollments')).json()).find((e) => e.registrationId === 'symm-key-python-device-008');
  group = (await (await emu.service('/enrollmentGroups')).json())[0];
});

after(async () => {
  await browser?.close();
  await emu?.stop();
});

// Runs provision() in the page. `arg.credential` picks symmetricKey, groupKey or a getToken
// that signs in the page (standing in for a token server); errors come back as plain data.
const PAGE = `
import * as lib from '/pkg/index.js';
export default async (arg) => {
  const statuses = [];
  const opts = { idScope: arg.idScope, registrationId: arg.registrationId, endpoint: arg.endpoint, transport: arg.transport,
                 payload: arg.payload, retry: arg.retry, onStatus: (s) => statuses.push(s.status),
                 minPollMs: 1000 /* the emulator's Retry-After is 1 s; DPS's floor is 2 s */ };
  const asked = [];
  if (arg.credential === 'token') {
    const key = lib.deriveDeviceKey(arg.key, arg.registrationId);
    opts.getToken = async (resourceUri, expiresAt) => {
      asked.push(resourceUri);
      return lib.generateSasToken({ resourceUri, key, expiresAt, policyName: 'registration' });
    };
  } else {
    opts[arg.credential] = arg.key;
  }
  try {
    return { result: await lib.provision(opts), statuses, asked };
  } catch (e) {
    return { error: { isError: e instanceof Error, code: e.code, status: e.status, errorCode: e.errorCode, trackingId: e.trackingId, message: e.message }, statuses };
  }
};`;

function inPage(transport, registrationId, credential, key, extra = {}) {
  return browser.evaluateModule(PAGE, { idScope: emu.idScope, endpoint: emu.httpUrl, transport, registrationId, credential, key, ...extra });
}

async function injectDpsFault(status, count) {
  const r = await emu.service('/faults', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ kind: 'dps', status, count, retryAfter: 1 }),
  });
  assert.equal(r.status, 200);
}

const fail = (out) => `${JSON.stringify(out)}\n${browser.logs.join('\n')}`;

for (const transport of ['https', 'mqtt-ws']) {
  test(`browser ${transport}: an individual enrollment is assigned`, async () => {
    const out = await inPage(transport, individual.registrationId, 'symmetricKey', individual.primaryKey);
    assert.ok(out.result, fail(out));
    assert.equal(out.result.deviceId, 'python-device-008');
    assert.equal(out.result.assignedHub, emu.hubHostname);
    assert.deepEqual([out.statuses[0], out.statuses.at(-1)], ['registering', 'assigned']);
  });

  test(`browser ${transport}: a group enrollment with a derived key is assigned and returns the key`, async () => {
    const registrationId = `browser-${transport}-group-1`;
    const out = await inPage(transport, registrationId, 'groupKey', group.primaryKey);
    assert.ok(out.result, fail(out));
    assert.equal(out.result.deviceId, registrationId);
    assert.match(out.result.symmetricKey, /^[A-Za-z0-9+/]{43}=$/);
  });

  test(`browser ${transport}: the token provider path is assigned`, async () => {
    const registrationId = `browser-${transport}-token-1`;
    const out = await inPage(transport, registrationId, 'token', group.primaryKey);
    assert.ok(out.result, fail(out));
    assert.equal(out.result.deviceId, registrationId);
    assert.equal(out.result.symmetricKey, undefined);
    assert.equal(out.asked[0], `${emu.idScope}/registrations/${registrationId}`);
  });

  test(`browser ${transport}: a custom payload comes back`, async () => {
    const payload = { modelId: 'dtmi:com:example:Thermostat;1' };
    const out = await inPage(transport, `browser-${transport}-payload`, 'groupKey', group.primaryKey, { payload });
    assert.ok(out.result, fail(out));
    assert.deepEqual(out.result.payload, payload);
  });

  test(`browser ${transport}: a disabled enrollment and a wrong key are typed errors`, async () => {
    let out = await inPage(transport, 'disabled-device-001', 'symmetricKey', individual.primaryKey);
    assert.equal(out.error?.code, 'DPS_DISABLED', fail(out));
    assert.ok(out.error.isError);
    out = await inPage(transport, individual.registrationId, 'symmetricKey', group.primaryKey);
    assert.equal(out.error?.code, 'DPS_UNAUTHORIZED', fail(out));
    assert.equal(out.error.status, 401);
  });

  test(`browser ${transport}: injected 429 and 503 faults are retried until assigned`, async () => {
    await injectDpsFault(429, 1);
    let out = await inPage(transport, individual.registrationId, 'symmetricKey', individual.primaryKey, { retry: { throttleFloorMs: 100, baseMs: 50 } });
    assert.ok(out.result, fail(out));
    assert.ok(out.statuses.includes('retrying'));
    await injectDpsFault(503, 2);
    out = await inPage(transport, individual.registrationId, 'symmetricKey', individual.primaryKey, { retry: { baseMs: 50, floorMs: 50 } });
    assert.ok(out.result, fail(out));
    assert.equal(out.statuses.filter((s) => s === 'retrying').length, 2);
  });
}
