// The IoT Hub client under faults injected through the emulator's fault API (Node, ws injected):
// a dropped connection in the middle of 1,000 sends, 10 s tokens over 40 s of sending, PUBACKs
// withheld then released, and a desired patch made while the device is offline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator } from '../../scripts/lib/emulator.mjs';
import { lib, api, newDevice, hubOptions, waitFor, telemetry } from './hub_support.mjs';

let emu;
before(async () => { emu = await startEmulator(); });
after(async () => { await emu?.stop(); });

function record(client) {
  const events = [];
  for (const name of ['connected', 'disconnected', 'reconnecting', 'error']) {
    client.on(name, (info) => events.push({ name, code: info?.code, attempt: info?.attempt, delayMs: info?.delayMs }));
  }
  return events;
}

test('a drop in the middle of 1,000 sends: all resolve, the emulator holds every message, re-sends at most one window', async () => {
  const deviceId = await newDevice(emu);
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  const events = record(client);
  let acked = 0;
  let dropped = false;
  let ackedAtDrop = -1;
  let reconnected = false;
  let ackedAfterReconnect = 0;
  client.on('disconnected', () => { if (ackedAtDrop < 0) ackedAtDrop = acked; });
  client.on('connected', () => { reconnected = true; });
  const sends = Array.from({ length: 1000 }, (_, i) =>
    client.sendEvent({ i }, { messageId: `msg-${i}` }).then(async () => {
      acked += 1;
      if (reconnected) ackedAfterReconnect += 1;
      if (acked === 100 && !dropped) {
        dropped = true;
        await api(emu, 'POST', '/faults', { kind: 'drop', deviceId });
      }
    }));
  const results = await Promise.allSettled(sends);
  assert.deepEqual(results.filter((r) => r.status === 'rejected'), []);
  // Mid-stream: the drop was asked for after the 100th PUBACK, and sends still pending then
  // completed over the new connection.
  assert.ok(dropped && ackedAtDrop >= 100, `dropped after ${ackedAtDrop} acks`);
  assert.ok(ackedAfterReconnect > 0 && ackedAtDrop + ackedAfterReconnect <= 1000, `${ackedAfterReconnect} acked after the reconnect`);
  assert.equal(events.filter((e) => e.name === 'disconnected').length, 1, JSON.stringify(events));
  assert.equal(events.filter((e) => e.name === 'reconnecting' && e.attempt === 1).length, 1, JSON.stringify(events));
  const stored = await telemetry(emu, deviceId);
  const perId = new Map();
  for (const m of stored) perId.set(m.systemProperties['message-id'], (perId.get(m.systemProperties['message-id']) ?? 0) + 1);
  assert.equal(perId.size, 1000, 'every message is stored');
  // Duplicates are the DUP re-sends of messages in flight at the drop: never more than the
  // in-flight window (maxInflight, 32 by default), each message at most twice.
  const duplicates = stored.length - perId.size;
  assert.ok(duplicates <= 32, `${duplicates} duplicates`);
  assert.ok([...perId.values()].every((n) => n <= 2), 'no message stored three times');
  await client.close();
});

test('tokens of 10 s over 40 s of continuous sending: renewed by clean reconnects, no failure', async () => {
  const deviceId = await newDevice(emu);
  await api(emu, 'POST', '/faults', { kind: 'tokenTtl', seconds: 10 });
  try {
    const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId, { tokenTtlSeconds: 10 }));
    const events = record(client);
    const end = Date.now() + 40_000;
    const sends = [];
    let i = 0;
    while (Date.now() < end) {
      sends.push(client.sendEvent(`t-${i}`, { messageId: `t-${i}` }));
      i += 1;
      await new Promise((r) => setTimeout(r, 50));
    }
    const results = await Promise.allSettled(sends);
    assert.deepEqual(results.filter((r) => r.status === 'rejected').map((r) => r.reason.code), []);
    const renewals = events.filter((e) => e.name === 'disconnected' && e.code === 'TOKEN_RENEWAL').length;
    assert.ok(renewals >= 3, `renewed ${renewals} times: ${JSON.stringify(events)}`);
    assert.equal(events.filter((e) => e.name === 'disconnected' && e.code !== 'TOKEN_RENEWAL').length, 0,
      `the hub never had to cut an expired token: ${JSON.stringify(events)}`);
    const ids = new Set((await telemetry(emu, deviceId)).map((m) => m.systemProperties['message-id']));
    assert.equal(ids.size, i);
    await client.close();
  } finally {
    await api(emu, 'POST', '/faults', { kind: 'tokenTtl', seconds: 0 });
  }
});

test('PUBACKs withheld keep the sends pending; released, they all resolve', async () => {
  const deviceId = await newDevice(emu);
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  await api(emu, 'POST', '/faults', { kind: 'puback', mode: 'withhold' });
  try {
    let settled = 0;
    const sends = Array.from({ length: 20 }, (_, i) => client.sendEvent(`w-${i}`).finally(() => { settled += 1; }));
    await waitFor('20 stored', async () => (await telemetry(emu, deviceId)).length === 20);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(settled, 0, 'nothing resolves without its PUBACK');
    await api(emu, 'POST', '/faults', { kind: 'puback', mode: 'release' });
    await Promise.all(sends);
    assert.equal(settled, 20);
  } finally {
    await api(emu, 'POST', '/faults', { kind: 'puback', mode: 'normal' });
  }
  await client.close();
});

test('a desired patch made while the device is offline is delivered after it reconnects', async () => {
  const deviceId = await newDevice(emu);
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId, { reconnect: { initialDelayMs: 4000 } }));
  const events = record(client);
  const seen = [];
  client.onDesiredPropertiesUpdate((patch, version) => seen.push({ patch, version }));
  await api(emu, 'PATCH', `/twins/${deviceId}/desired`, { mode: 'online', keep: 1 });
  await waitFor('online patch', () => seen.length === 1);
  const offline = new Promise((resolve) => client.on('disconnected', resolve));
  await api(emu, 'POST', '/faults', { kind: 'drop', deviceId });
  await offline;
  const dev = await api(emu, 'GET', `/devices/${deviceId}`);
  assert.equal(dev.connectionState, 'Disconnected', 'the patch below is made while offline');
  await api(emu, 'PATCH', `/twins/${deviceId}/desired`, { mode: 'offline-change', added: true });
  await waitFor('the offline patch', () => seen.length === 2, 20_000);
  assert.deepEqual(seen[1].patch, { mode: 'offline-change', added: true, $version: seen[1].version });
  assert.deepEqual([seen[0].version, seen[1].version], [2, 3], 'a new twin at $version 1, then two patches');
  assert.equal(events.filter((e) => e.name === 'connected').length, 1, 'one drop, one reconnect');
  await client.close();
});
