// The emulator binary's command-line flags, each given as a flag to a real process (not through
// in-process config or the faults API) and checked by its effect on the wire: --assign-delay-ms,
// --dps-fault-count/--dps-fault-status, --withhold-puback, --puback-delay-ms, --max-token-ttl,
// --ca-out and --config FILE (emulator/README.md, "Flags" and "Config file"). The device side is
// node:crypto SAS tokens, fetch and mqtt.js (tests/support/emulator_peer.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulator, quickstartEnrollment } from '../../scripts/lib/emulator.mjs';
import { addDevice, dpsOperation, dpsRegister, hubConnect, sendTelemetry } from '../support/emulator_peer.mjs';

const KEY = Buffer.alloc(32, 5).toString('base64');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Starts the binary with `args`, runs `fn(emu)`, always stops it. */
async function withEmulator(args, fn) {
  const emu = await startEmulator({ args });
  try {
    return await fn(emu);
  } finally {
    await emu.stop();
  }
}

async function faults(emu) {
  return (await emu.service('/faults')).json();
}

/** Resolves 'settled' if `p` settles within `ms`, else 'pending' (and leaves no timer behind). */
function within(p, ms) {
  let timer;
  const late = new Promise((r) => { timer = setTimeout(() => r('pending'), ms); });
  return Promise.race([p.then(() => 'settled', () => 'settled'), late]).finally(() => clearTimeout(timer));
}

test('--assign-delay-ms keeps an operation assigning (202 + Retry-After) until the delay has passed', async () => {
  await withEmulator(['--assign-delay-ms', '2000'], async (emu) => {
    const e = await quickstartEnrollment(emu);
    const t0 = Date.now();
    const reg = await dpsRegister(emu, e.registrationId, e.primaryKey);
    assert.equal(reg.status, 202);
    const early = await dpsOperation(emu, e.registrationId, e.primaryKey, reg.body.operationId);
    assert.equal(early.status, 202, 'still assigning right after the register call');
    assert.equal(early.body.status, 'assigning');
    assert.equal(early.headers.get('retry-after'), '1');
    let done;
    for (let i = 0; i < 100 && !done; i++) {
      await sleep(100);
      const op = await dpsOperation(emu, e.registrationId, e.primaryKey, reg.body.operationId);
      if (op.status === 200) done = { op, at: Date.now() - t0 };
    }
    assert.ok(done, 'assigned within 10 s');
    assert.equal(done.op.body.status, 'assigned');
    assert.ok(done.at >= 2000, `assigned after ${done.at} ms, not before the 2000 ms delay`);
  });
});

test('--dps-fault-count 2 --dps-fault-status 429 answers the next two DPS calls 429001 with Retry-After, then normally', async () => {
  await withEmulator(['--dps-fault-count', '2', '--dps-fault-status', '429'], async (emu) => {
    assert.deepEqual((await faults(emu)).dps, { remaining: 2, status: 429, retryAfter: 1 });
    const e = await quickstartEnrollment(emu);
    for (let i = 0; i < 2; i++) {
      const r = await dpsRegister(emu, e.registrationId, e.primaryKey);
      assert.equal(r.status, 429);
      assert.equal(r.body.errorCode, 429001);
      assert.equal(r.headers.get('retry-after'), '1');
    }
    assert.equal((await dpsRegister(emu, e.registrationId, e.primaryKey)).status, 202);
    assert.equal((await faults(emu)).dps.remaining, 0);
  });
});

test('--dps-fault-status defaults to 503 (503001)', async () => {
  await withEmulator(['--dps-fault-count', '1'], async (emu) => {
    const e = await quickstartEnrollment(emu);
    const r = await dpsRegister(emu, e.registrationId, e.primaryKey);
    assert.equal(r.status, 503);
    assert.equal(r.body.errorCode, 503001);
  });
});

test('--withhold-puback stores telemetry but holds its PUBACK until the faults API releases it', async () => {
  await withEmulator(['--withhold-puback'], async (emu) => {
    assert.deepEqual((await faults(emu)).puback, { mode: 'withhold' });
    await addDevice(emu, 'flag-withhold', KEY);
    const hub = await hubConnect(emu, 'flag-withhold', KEY);
    try {
      const acked = sendTelemetry(hub, 'flag-withhold', 'held');
      assert.equal(await within(acked, 1000), 'pending', 'no PUBACK while withheld');
      const stored = await (await emu.service('/telemetry?deviceId=flag-withhold')).json();
      assert.deepEqual(stored.map((m) => m.body), ['held']);
      const r = await emu.service('/faults', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"kind":"puback","mode":"release"}' });
      assert.equal(r.status, 200);
      await acked;
    } finally {
      hub.end(true);
    }
  });
});

test('--puback-delay-ms 1200 sends each PUBACK no sooner than 1.2 s after the publish', async () => {
  await withEmulator(['--puback-delay-ms', '1200'], async (emu) => {
    assert.deepEqual((await faults(emu)).puback, { mode: 'delay', ms: 1200 });
    await addDevice(emu, 'flag-delay', KEY);
    const hub = await hubConnect(emu, 'flag-delay', KEY);
    try {
      const t0 = Date.now();
      await sendTelemetry(hub, 'flag-delay', 'late ack');
      const took = Date.now() - t0;
      assert.ok(took >= 1200, `PUBACK after ${took} ms`);
    } finally {
      hub.end(true);
    }
  });
});

test('--max-token-ttl 1 closes a hub connection after 1 s although its token is valid for an hour (401003)', async () => {
  await withEmulator(['--max-token-ttl', '1'], async (emu) => {
    assert.equal((await faults(emu)).maxTokenTtlSeconds, 1);
    await addDevice(emu, 'flag-ttl', KEY);
    const hub = await hubConnect(emu, 'flag-ttl', KEY);
    const closed = new Promise((r) => hub.once('close', r));
    try {
      assert.equal(await within(closed, 8000), 'settled', 'the hub closed the connection');
    } finally {
      hub.end(true);
    }
    const log = await (await emu.service('/log')).json();
    const entry = log.find((l) => l.code === 401003 && l.identity === 'flag-ttl');
    assert.ok(entry, JSON.stringify(log));
    assert.match(entry.reason, /--max-token-ttl/);
  });
});

/** GET /service/info over HTTPS trusting only `caPem`; resolves the status (rejects if TLS fails). */
function httpsInfo(emu, caPem) {
  return new Promise((resolve, reject) => {
    const req = request({
      host: emu.host, port: emu.httpsPort, path: '/service/info', servername: 'localhost', ca: caPem,
      headers: { host: 'localhost', authorization: `Bearer ${emu.serviceKey}` },
    }, (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', reject);
    req.end();
  });
}

test('--ca-out writes the CA that signs the HTTPS listener to that file, and leaves it there after exit', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emu-ca-'));
  try {
    const file = join(dir, 'ca.pem');
    let defaultCa;
    await withEmulator(['--ca-out', file], async (emu) => {
      assert.equal(emu.caPath, file);
      const pem = readFileSync(file, 'utf8');
      assert.match(pem, /^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n?$/);
      assert.equal(await httpsInfo(emu, pem), 200, 'TLS verified with the written CA');
    });
    assert.ok(existsSync(file), '--ca-out is the caller\'s file: kept');
    await withEmulator([], async (emu) => {
      defaultCa = emu.caPath;
      assert.ok(existsSync(defaultCa));
      await assert.rejects(httpsInfo(emu, readFileSync(file, 'utf8')), 'another start has another CA');
    });
    assert.equal(existsSync(defaultCa), false, 'without --ca-out the temp CA is removed at exit');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--config FILE replaces the embedded identities: its scope, enrollments with initialTwin, devices and service key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emu-config-'));
  try {
    const file = join(dir, 'config.json');
    const serviceKey = Buffer.alloc(32, 8).toString('base64');
    writeFileSync(file, JSON.stringify({
      idScope: '0ne0000CF61',
      enrollments: [{ registrationId: 'config-device-1', deviceId: 'config-hub-device', primaryKey: KEY, initialTwin: { interval: 7 } }],
      devices: [{ deviceId: 'config-preregistered', primaryKey: KEY }],
      serviceKey,
    }));
    await withEmulator(['--config', file], async (emu) => {
      assert.equal(emu.idScope, '0ne0000CF61');
      assert.equal(emu.serviceKey, serviceKey);
      const enrollments = await (await emu.service('/enrollments')).json();
      assert.deepEqual(enrollments.map((x) => x.registrationId), ['config-device-1']);
      assert.deepEqual(await (await emu.service('/enrollmentGroups')).json(), []);
      const reg = await dpsRegister(emu, 'config-device-1', KEY);
      assert.equal(reg.status, 202);
      const op = await dpsOperation(emu, 'config-device-1', KEY, reg.body.operationId);
      assert.equal(op.body.registrationState.deviceId, 'config-hub-device');
      const twin = await (await emu.service('/twins/config-hub-device')).json();
      assert.equal(twin.properties.desired.interval, 7);
      const hub = await hubConnect(emu, 'config-preregistered', KEY);
      hub.end(true);
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--config with a file that is not valid JSON exits with status 2 and says why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'emu-config-'));
  try {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"idScope": ');
    await assert.rejects(startEmulator({ args: ['--config', file] }), (e) => {
      assert.match(e.message, /emulator exited with 2/);
      assert.match(e.message, /invalid config/);
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
