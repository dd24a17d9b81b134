// IoT Plug and Play conventions end to end against the emulator (docs/pnp.md), with the two
// public sample models: a Thermostat (dtmi:com:example:Thermostat;1, no components) and a
// TemperatureController (dtmi:com:example:TemperatureController;2: components thermostat1 and
// thermostat2 of the Thermostat interface, and deviceInformation). The cloud side is checked
// through the emulator's service API: the twin shows each acknowledgement.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startEmulator } from '../../scripts/lib/emulator.mjs';
import { lib, api, newDevice, hubOptions, telemetry, waitFor, WebSocket } from './hub_support.mjs';

const THERMOSTAT = 'dtmi:com:example:Thermostat;1';
const CONTROLLER = 'dtmi:com:example:TemperatureController;2';

let emu;
before(async () => { emu = await startEmulator(); });
after(async () => { await emu?.stop(); });

const twinOf = async (deviceId) => (await api(emu, 'GET', `/twins/${deviceId}`)).properties;
const invoke = (deviceId, methodName, payload) =>
  api(emu, 'POST', `/devices/${deviceId}/methods`, { methodName, payload, responseTimeoutInSeconds: 10 });

/** The Thermostat sample's getMaxMinReport answer over the temperatures seen so far. */
function report(temps, since) {
  return { maxTemp: Math.max(...temps), minTemp: Math.min(...temps), avgTemp: temps.reduce((a, b) => a + b) / temps.length, startTime: since, endTime: since };
}

test('a Thermostat announces its model, acknowledges targetTemperature with the desired version, and answers getMaxMinReport', async () => {
  const deviceId = await newDevice(emu, 'pnp-thermostat');
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId, { modelId: THERMOSTAT }));
  const temps = [20];
  const seen = [];
  client.onWritableProperty('targetTemperature', (value, change) => {
    seen.push({ value, ...change });
    temps.push(value);
    return value;
  });
  client.onCommand(null, 'getMaxMinReport', (req) => report(temps, req.payload));

  await api(emu, 'PATCH', `/twins/${deviceId}/desired`, { targetTemperature: 25 });
  const t = await waitFor('the acknowledgement', async () => {
    const p = await twinOf(deviceId);
    return p.reported.targetTemperature && p;
  });
  assert.deepEqual(t.reported.targetTemperature, { value: 25, ac: 200, av: t.desired.$version });
  assert.deepEqual(seen, [{ value: 25, name: 'targetTemperature', version: t.desired.$version }]);

  await client.reportProperties({ maxTempSinceLastReboot: 25 });
  assert.equal((await twinOf(deviceId)).reported.maxTempSinceLastReboot, 25);

  const r = await invoke(deviceId, 'getMaxMinReport', '2026-12-01T00:00:00Z');
  assert.deepEqual(r, { status: 200, payload: report([20, 25], '2026-12-01T00:00:00Z') });

  await client.sendEvent({ temperature: 25 }, { messageId: 'thermo-1' });
  const m = (await telemetry(emu, deviceId)).find((x) => x.systemProperties['message-id'] === 'thermo-1');
  assert.equal(m.systemProperties['dt-dataschema'], THERMOSTAT);
  const devices = await api(emu, 'GET', '/devices');
  assert.equal(devices.find((d) => d.deviceId === deviceId).modelId, THERMOSTAT);
  await client.close();
});

test('a TemperatureController answers component properties set before it connected, refuses a bad one with its status, and answers component commands', async () => {
  const deviceId = await newDevice(emu, 'pnp-controller');
  // Set while the device has never connected: answered at start-up.
  await api(emu, 'PATCH', `/twins/${deviceId}/desired`, {
    thermostat1: { __t: 'c', targetTemperature: 21 },
    thermostat2: { __t: 'c', targetTemperature: 500 },
  });
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId, { modelId: CONTROLLER }));
  // Registered after connecting: the current desired values are still handed over.
  client.onWritableProperty('targetTemperature', (v) => v, { component: 'thermostat1' });
  client.onWritableProperty('targetTemperature', (v) => {
    if (v > 100) throw { status: 400, message: 'targetTemperature out of range', value: 20 };
    return v;
  }, { component: 'thermostat2' });
  client.onCommand('thermostat1', 'getMaxMinReport', () => report([21], 'x'));
  client.onCommand('thermostat2', 'getMaxMinReport', () => { throw { status: 404, message: 'no readings yet' }; });
  client.onCommand(null, 'reboot', (req) => ({ rebooting: true, delay: req.payload.delay, component: req.component ?? null }));

  const t = await waitFor('both acknowledgements', async () => {
    const p = await twinOf(deviceId);
    return p.reported.thermostat1?.targetTemperature && p.reported.thermostat2?.targetTemperature && p;
  });
  const av = t.desired.$version;
  assert.deepEqual(t.reported.thermostat1, { __t: 'c', targetTemperature: { value: 21, ac: 200, av } });
  assert.deepEqual(t.reported.thermostat2, {
    __t: 'c', targetTemperature: { value: 20, ac: 400, av, ad: 'targetTemperature out of range' },
  });

  await client.reportProperties({ manufacturer: 'Contoso', model: 'wasm-1' }, { component: 'deviceInformation' });
  await client.reportProperties({ serialNumber: 'SN-42' });
  const after = await twinOf(deviceId);
  assert.deepEqual(after.reported.deviceInformation, { __t: 'c', manufacturer: 'Contoso', model: 'wasm-1' });
  assert.equal(after.reported.serialNumber, 'SN-42');

  assert.deepEqual(await invoke(deviceId, 'thermostat1*getMaxMinReport', null), { status: 200, payload: report([21], 'x') });
  const refused = await invoke(deviceId, 'thermostat2*getMaxMinReport', null);
  assert.deepEqual(refused, { status: 404, payload: { message: 'no readings yet' } });
  assert.deepEqual(await invoke(deviceId, 'reboot', { delay: 3 }), { status: 200, payload: { rebooting: true, delay: 3, component: null } });
  assert.equal((await invoke(deviceId, 'thermostat3*getMaxMinReport', null)).status, 501);

  await client.sendEvent({ temperature: 21 }, { componentName: 'thermostat1', messageId: 'ctl-1' });
  const m = (await telemetry(emu, deviceId)).find((x) => x.systemProperties['message-id'] === 'ctl-1');
  assert.equal(m.systemProperties['dt-subject'], 'thermostat1');
  await client.close();
});

test('a component property changed while the device was offline is acknowledged after the reconnect', async () => {
  const deviceId = await newDevice(emu, 'pnp-offline');
  let offline = false;
  // While `offline`, every socket the client opens fails at once: the reconnect keeps backing off.
  const createWebSocket = (url, protocols) => {
    if (offline) throw new Error('offline');
    return new WebSocket(url, protocols);
  };
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId, {
    modelId: CONTROLLER, createWebSocket, WebSocket: undefined, reconnect: { initialDelayMs: 100, maxDelayMs: 300 },
  }));
  const seen = [];
  client.onWritableProperty('targetTemperature', (v, change) => { seen.push(change.version); return v; }, { component: 'thermostat1' });
  const reconnecting = new Promise((r) => client.on('reconnecting', r));
  offline = true;
  await api(emu, 'POST', '/faults', { kind: 'drop', deviceId });
  await reconnecting;
  await api(emu, 'PATCH', `/twins/${deviceId}/desired`, { thermostat1: { __t: 'c', targetTemperature: 30 } });
  const version = (await twinOf(deviceId)).desired.$version;
  await new Promise((r) => setTimeout(r, 400));
  assert.deepEqual(seen, [], 'nothing is handled while offline');
  offline = false;
  const t = await waitFor('the acknowledgement after the reconnect', async () => {
    const p = await twinOf(deviceId);
    return p.reported.thermostat1?.targetTemperature && p;
  });
  assert.deepEqual(t.reported.thermostat1.targetTemperature, { value: 30, ac: 200, av: version });
  assert.deepEqual(seen, [version]);
  await client.close();
});

test('a writable-property handler whose value cannot be written as JSON is acknowledged 500 and heard as HANDLER_ERROR', async () => {
  const deviceId = await newDevice(emu, 'pnp-bad-value');
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  const errors = [];
  client.on('error', (e) => errors.push(e.code));
  client.onWritableProperty('fanSpeed', () => 10n);
  await api(emu, 'PATCH', `/twins/${deviceId}/desired`, { fanSpeed: 3 });
  const t = await waitFor('the acknowledgement', async () => (await twinOf(deviceId)).reported.fanSpeed);
  assert.deepEqual([t.value, t.ac], [3, 500]);
  assert.match(t.ad, /cannot be written as JSON/);
  assert.deepEqual(errors, ['HANDLER_ERROR']);
  await client.close();
});

test('Plug and Play calls refuse names that are not DTDL names with INVALID_ARGUMENT', async () => {
  const deviceId = await newDevice(emu, 'pnp-names');
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  const code = (f) => { try { f(); } catch (e) { return e.code; } return 'accepted'; };
  assert.equal(code(() => client.onWritableProperty('target-temp', () => {})), 'INVALID_ARGUMENT');
  assert.equal(code(() => client.onWritableProperty('t', () => {}, { component: 'a*b' })), 'INVALID_ARGUMENT');
  assert.equal(code(() => client.onCommand('1st', 'reboot', () => {})), 'INVALID_ARGUMENT');
  assert.equal(code(() => client.onCommand(null, '', () => {})), 'INVALID_ARGUMENT');
  await assert.rejects(client.reportProperties({ a: 1 }, { component: 'no spaces' }), { code: 'INVALID_ARGUMENT' });
  await client.close();
});
