// The MQTT client core against the emulator's IoT Hub: a CONNECT with a real IoT Hub user
// name and SAS token is accepted (protocol.md §5.1) and telemetry is acknowledged; a bad
// token gets CONNACK 5, which surfaces as a typed NOT_AUTHORIZED error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import * as lib from 'azure-iot-wasm';
import { startEmulator } from '../../scripts/lib/emulator.mjs';

let emu;
before(async () => { emu = await startEmulator(); });
after(async () => { await emu?.stop(); });

const KEY = Buffer.alloc(32, 9).toString('base64');

async function newDevice() {
  const deviceId = `mqtt-core-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const res = await emu.service(`/devices/${deviceId}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ deviceId, primaryKey: KEY }),
  });
  assert.ok(res.ok, `PUT device: ${res.status} ${await res.text()}`);
  return deviceId;
}

function hubConnect(deviceId, key) {
  const host = emu.hubHostname;
  return {
    clientId: deviceId,
    username: `${host}/${deviceId}/?api-version=2021-04-12`,
    password: lib.generateSasToken({ resourceUri: `${host}/devices/${deviceId}`, key, ttlSeconds: 600 }),
    cleanSession: false,
    keepAlive: 60,
    WebSocket,
  };
}

const url = () => `ws://${emu.host ?? '127.0.0.1'}:${emu.httpPort}/$iothub/websocket?iothub-no-client-cert=true`;

test('an IoT Hub user name and SAS token are accepted and telemetry is acknowledged', async () => {
  const deviceId = await newDevice();
  const c = new lib.MqttClient();
  const r = await c.connect(url(), hubConnect(deviceId, KEY));
  // The hub keeps no MQTT session state (emulator/README.md, known differences): never present.
  assert.deepEqual(r, { sessionPresent: false });
  await c.publish(`devices/${deviceId}/messages/events/%24.ct=application%2Fjson`, '{"t":21.5}', { qos: 1 });
  const res = await emu.service(`/telemetry?deviceId=${deviceId}`);
  const msgs = await res.json();
  assert.equal(msgs.length, 1);
  assert.equal(msgs[0].body, '{"t":21.5}');
  await c.end();
});

test('a SAS token signed with the wrong key gets CONNACK 5 as a NOT_AUTHORIZED error', async () => {
  const deviceId = await newDevice();
  const c = new lib.MqttClient();
  const wrong = Buffer.alloc(32, 1).toString('base64');
  await assert.rejects(c.connect(url(), hubConnect(deviceId, wrong)), (e) => {
    assert.ok(e instanceof Error);
    assert.equal(e.code, 'NOT_AUTHORIZED');
    assert.equal(e.status, 5);
    return true;
  });
  assert.equal(c.connected, false);
});
