// Child process for node_sdk.test.mjs: drives the official Node SDKs, unchanged, against the
// emulator (trusted through NODE_EXTRA_CA_CERTS, which Node reads only at start-up) and checks
// every effect through the emulator's service API. Prints `STEP <name> ok` per scenario step.
// Env: EMU_HOST (provisioning + hub host, port 443), EMU_SERVICE (service API URL), EMU_SERVICE_KEY, EMU_SCOPE.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import { serviceFetch } from '../../scripts/lib/emulator.mjs';

const require = createRequire(import.meta.url);
const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device');
const { Http: ProvHttp } = require('azure-iot-provisioning-device-http');
const { SymmetricKeySecurityClient } = require('azure-iot-security-symmetric-key');
const { Client, Message } = require('azure-iot-device');
const { MqttWs } = require('azure-iot-device-mqtt');

const host = process.env.EMU_HOST;
const service = serviceFetch(process.env.EMU_SERVICE, process.env.EMU_SERVICE_KEY);
const scope = process.env.EMU_SCOPE;
setTimeout(() => {
  console.error('node_sdk_flow: gave up after 90 s');
  process.exit(1);
}, 90_000).unref();
const step = (name) => console.log(`STEP ${name} ok`);

async function api(method, path, body) {
  const res = await service(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function waitFor(what, fn, timeoutMs = 15000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function provision(registrationId, key) {
  const security = new SymmetricKeySecurityClient(registrationId, key);
  const client = ProvisioningDeviceClient.create(host, scope, new ProvHttp(), security);
  return client.register();
}

const enrollments = (await api('GET', '/enrollments')).body;
const individual = enrollments.find((e) => e.registrationId === 'symm-key-python-device-008');
const group = (await api('GET', '/enrollmentGroups')).body[0];

// 1. Individual enrollment over HTTPS.
const r1 = await provision(individual.registrationId, individual.primaryKey);
assert.equal(r1.status, 'assigned');
assert.equal(r1.deviceId, 'python-device-008');
assert.equal(r1.assignedHub, host);
step('provision-individual');

// 2. Group enrollment with a derived key (§2.4 of the protocol notes).
const regId = `node-sdk-${crypto.randomUUID().slice(0, 8)}`;
const derived = crypto.createHmac('sha256', Buffer.from(group.primaryKey, 'base64')).update(regId).digest('base64');
const r2 = await provision(regId, derived);
assert.equal(r2.status, 'assigned');
assert.equal(r2.deviceId, regId);
const devices = (await api('GET', '/devices')).body;
assert.ok(devices.some((d) => d.deviceId === regId), 'group device registered in the hub');
step('provision-group');

// 3. IoT Hub over MQTT-over-WebSocket with the derived key.
const client = Client.fromConnectionString(`HostName=${r2.assignedHub};DeviceId=${r2.deviceId};SharedAccessKey=${derived}`, MqttWs);
const c2d = [];
client.on('message', (msg) => {
  c2d.push(msg);
  client.complete(msg, () => {});
});
await client.open();
await waitFor('connected', async () => (await api('GET', '/devices')).body.find((d) => d.deviceId === regId)?.connectionState === 'Connected');
step('connect-mqttws');

const m = new Message(JSON.stringify({ temperature: 21.5 }));
m.messageId = 'node-msg-1';
m.contentType = 'application/json';
m.contentEncoding = 'utf-8';
m.properties.add('temperatureAlert', 'false');
m.properties.add('source', 'node sdk');
await client.sendEvent(m);
const stored = await waitFor('telemetry', async () => (await api('GET', `/telemetry?deviceId=${regId}`)).body[0]);
assert.equal(JSON.parse(stored.body).temperature, 21.5);
assert.equal(stored.properties.temperatureAlert, 'false');
assert.equal(stored.properties.source, 'node sdk');
assert.equal(stored.systemProperties['message-id'], 'node-msg-1');
assert.equal(stored.systemProperties['content-type'], 'application/json');
step('telemetry-with-properties');

const sent = await api('POST', `/devices/${regId}/messages`, { body: 'hello device', properties: { color: 'blue' } });
assert.equal(sent.status, 200);
await waitFor('c2d received', async () => c2d.length > 0);
assert.equal(c2d[0].data.toString(), 'hello device');
assert.equal(c2d[0].messageId, sent.body.messageId);
assert.equal(c2d[0].properties.getValue('color'), 'blue');
await waitFor('c2d completed', async () => (await api('GET', `/devices/${regId}/messages`)).body.some((x) => x.state === 'completed'));
step('c2d');

const twin = await client.getTwin();
// A new device's twin: both sections empty at $version 1 (protocol.md §5.6).
assert.equal(twin.properties.desired.$version, 1);
assert.equal(twin.properties.reported.$version, 1);
step('twin-get');

await new Promise((res, rej) => twin.properties.reported.update({ firmware: '1.2.3', nested: { a: 1 } }, (e) => (e ? rej(e) : res())));
const t1 = (await api('GET', `/twins/${regId}`)).body;
assert.equal(t1.properties.reported.firmware, '1.2.3');
assert.equal(t1.properties.reported.nested.a, 1);
step('twin-reported');

const subscribed = (name) =>
  waitFor(`subscription ${name}`, async () => (await api('GET', '/devices')).body.find((d) => d.deviceId === regId)?.subscriptions?.includes(name));
const desired = new Promise((res) => twin.on('properties.desired', (d) => { if (d.targetTemperature !== undefined) res(d); }));
await subscribed('desired');
const patched = await api('PATCH', `/twins/${regId}/desired`, { targetTemperature: 25 });
assert.equal(patched.status, 200);
const got = await desired;
assert.equal(got.targetTemperature, 25);
assert.equal(got.$version, patched.body.properties.desired.$version);
step('twin-desired');

client.onDeviceMethod('reboot', (req, res) => {
  res.send(200, { echoed: req.payload }, () => {});
});
await subscribed('methods'); // the SDK subscribes asynchronously
const call = await api('POST', `/devices/${regId}/methods`, { methodName: 'reboot', payload: { delay: 3 }, responseTimeoutInSeconds: 10 });
assert.equal(call.status, 200);
assert.deepEqual(call.body, { status: 200, payload: { echoed: { delay: 3 } } });
step('direct-method');

await client.close();
await waitFor('disconnected', async () => (await api('GET', '/devices')).body.find((d) => d.deviceId === regId)?.connectionState === 'Disconnected');
step('close');
process.exit(0);
