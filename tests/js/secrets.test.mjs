// No key, SAS signature or connection string reaches an error, an event or a log line of the
// library: every failure a caller can provoke with secrets in hand (bad keys, refused
// credentials at DPS and at the hub, throwing token providers, bad connection strings, use after
// close) is collected with its events and whatever the library printed, and searched for them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator } from '../../scripts/lib/emulator.mjs';
import { lib, newDevice, hubOptions, KEY, WebSocket } from './hub_support.mjs';

let emu;
before(async () => { emu = await startEmulator(); });
after(async () => { await emu?.stop(); });

const WRONG_KEY = Buffer.alloc(32, 3).toString('base64');

/** Every string an error carries, own properties and cause included. */
function texts(e, out = []) {
  if (e == null) return out;
  if (typeof e !== 'object') { out.push(String(e)); return out; }
  out.push(String(e.message), String(e.stack ?? ''));
  for (const k of Object.keys(e)) {
    if (k === 'cause') texts(e.cause, out);
    else out.push(typeof e[k] === 'object' ? JSON.stringify(e[k]) : String(e[k]));
  }
  return out;
}

/** Runs `f` and returns what it threw or rejected with; not failing is a test failure. */
async function failure(f) {
  try {
    await f();
  } catch (e) {
    return e;
  }
  assert.fail(`expected a failure from ${f}`);
}

test('no error, event or console line carries a key, a signature or a connection string', async () => {
  const deviceId = await newDevice(emu, 'secrets');
  const signature = (t) => /sig=([^&]+)/.exec(t)[1];
  const cs = `HostName=${emu.hubHostname};DeviceId=${deviceId};SharedAccessKey=${WRONG_KEY}`;
  const wrongToken = lib.generateSasToken({ resourceUri: `${emu.hubHostname}/devices/${deviceId}`, key: WRONG_KEY, ttlSeconds: 60 });
  const secrets = [KEY, WRONG_KEY, cs, wrongToken, signature(wrongToken), decodeURIComponent(signature(wrongToken))];

  const printed = [];
  const saved = { log: console.log, error: console.error, warn: console.warn };
  for (const k of Object.keys(saved)) console[k] = (...a) => { printed.push(a.map(String).join(' ')); saved[k](...a); };
  const seen = [];
  try {
    seen.push(await failure(() => lib.deriveDeviceKey(`${KEY}!`, 'dev')));
    seen.push(await failure(() => lib.generateSasToken({ resourceUri: 'h/devices/d', key: `${WRONG_KEY}#` })));
    seen.push(await failure(() => lib.provision({
      idScope: emu.idScope, registrationId: 'symm-key-python-device-008', symmetricKey: WRONG_KEY, endpoint: emu.httpUrl,
    })));
    seen.push(await failure(() => lib.provision({
      idScope: emu.idScope, registrationId: 'symm-key-python-device-008', symmetricKey: WRONG_KEY, endpoint: emu.httpUrl,
      transport: 'mqtt-ws', WebSocket,
    })));
    seen.push(await failure(() => lib.provision({
      idScope: emu.idScope, registrationId: 'dev', endpoint: emu.httpUrl,
      getToken: () => { throw new Error('no token today'); },
    })));
    seen.push(await failure(() => lib.IotHubClient.fromConnectionString(cs, { url: hubOptions(emu, deviceId).url, WebSocket })));
    seen.push(await failure(() => lib.IotHubClient.fromConnectionString(`${cs};Broken`)));
    seen.push(await failure(() => lib.IotHubClient.connect(hubOptions(emu, deviceId, { symmetricKey: undefined, sasToken: wrongToken }))));
    seen.push(await failure(() => lib.IotHubClient.connect(hubOptions(emu, deviceId, { symmetricKey: `${KEY}%` }))));

    // A working client: its events, then failures after close.
    const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
    for (const name of ['connected', 'disconnected', 'reconnecting', 'error', 'closed']) client.on(name, (info) => seen.push(info));
    // File upload signs its own REST calls with the key; this hub has no storage, so it fails.
    seen.push(await failure(() => client.uploadFile('f.txt', new Uint8Array([1]))));
    await client.close();
    seen.push(await failure(() => client.sendEvent('after close')));
    seen.push(await failure(() => client.getTwin()));
  } finally {
    Object.assign(console, saved);
  }
  assert.ok(seen.length >= 12, `collected ${seen.length}`);
  for (const e of seen.filter((x) => x instanceof Error)) assert.match(String(e.code), /^[A-Z_]+$/, e.message);
  const haystack = [...seen.flatMap((e) => texts(e)), ...printed];
  for (const s of secrets) {
    const hit = haystack.find((t) => t.includes(s));
    assert.equal(hit, undefined, `a secret appears in: ${hit}`);
  }
});
