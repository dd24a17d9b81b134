// Child process for service_sdk.test.mjs: a back end written against the official Node service
// SDKs (azure-iot-provisioning-service, azure-iothub), unchanged, with the emulator's printed
// connection strings, and a device made with this library. The SDKs reach the emulator on 443
// and trust it through NODE_EXTRA_CA_CERTS (read only at start-up); the device uses the plain
// port. Prints `STEP <name> ok` per step, then one JSON line of what the back end saw.
// Env: EMU_SERVICE_CS, EMU_DPS_CS, EMU_SCOPE, EMU_HTTP_URL, EMU_WS_URL.
// The SDK imports are the README's, so its back-end snippet is the one tested here.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import WebSocket from 'ws';
import * as lib from 'azure-iot-wasm';
import iothub from 'azure-iothub';
import { ProvisioningServiceClient } from 'azure-iot-provisioning-service';

const { Registry, Client } = iothub;

const env = (k) => process.env[k] ?? assert.fail(`${k} is not set`);
const [serviceCs, dpsCs, idScope, httpUrl, wsUrl] = ['EMU_SERVICE_CS', 'EMU_DPS_CS', 'EMU_SCOPE', 'EMU_HTTP_URL', 'EMU_WS_URL'].map(env);
setTimeout(() => {
  console.error('service_sdk_flow: gave up after 100 s');
  process.exit(1);
}, 100_000).unref();
const step = (name) => console.log(`STEP ${name} ok`);
const tag = crypto.randomUUID().slice(0, 8);

async function until(what, fn, timeoutMs = 10_000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The error a promise rejects with (an SDK call that must fail). */
async function failure(p) {
  try {
    await p;
  } catch (e) {
    return e;
  }
  assert.fail('the call succeeded');
}

// 1. The provisioning service SDK creates an enrollment group; its ETag guards updates.
const dps = ProvisioningServiceClient.fromConnectionString(dpsCs);
const groupId = `svc-sdk-group-${tag}`;
const groupKey = crypto.randomBytes(32).toString('base64');
const { responseBody: group } = await dps.createOrUpdateEnrollmentGroup({
  enrollmentGroupId: groupId,
  attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: groupKey, secondaryKey: crypto.randomBytes(32).toString('base64') } },
  provisioningStatus: 'enabled',
  initialTwin: { tags: {}, properties: { desired: { interval: 5 } } },
});
assert.equal(group.enrollmentGroupId, groupId);
assert.ok(group.etag, 'the group has an ETag');
const { responseBody: again } = await dps.getEnrollmentGroup(groupId);
assert.equal(again.attestation.symmetricKey.primaryKey, groupKey);
const { responseBody: updated } = await dps.createOrUpdateEnrollmentGroup({ ...again, provisioningStatus: 'enabled' });
assert.notEqual(updated.etag, group.etag);
const stale = await failure(dps.createOrUpdateEnrollmentGroup({ ...again, etag: group.etag }));
assert.equal(stale.response?.statusCode, 412, String(stale));
const page = await dps.createEnrollmentGroupQuery({ query: 'SELECT * FROM enrollmentGroups' }).next();
assert.ok(page.responseBody.some((g) => g.enrollmentGroupId === groupId), 'the query lists the group');
step('enrollment-group');

// 2. This library provisions a device of the group, then connects and listens.
const registrationId = `svc-sdk-device-${tag}`;
const reg = await lib.provision({ idScope, registrationId, groupKey, endpoint: httpUrl, transport: 'https', minPollMs: 1000 });
assert.equal(reg.deviceId, registrationId);
const device = await lib.IotHubClient.connect({ provisioning: reg, url: wsUrl, WebSocket });
const desired = [];
device.onDesiredPropertiesUpdate((patch, version) => desired.push({ patch, version }));
device.onMethod('setLed', (req) => ({ status: 200, payload: { on: req.payload.on, by: 'azure-iot-wasm' } }));
step('provision-with-library');

// 3. azure-iothub reads the twin and patches desired under its ETag; the device receives it.
const registry = Registry.fromConnectionString(serviceCs);
const { responseBody: twin } = await registry.getTwin(reg.deviceId);
assert.equal(twin.properties.desired.interval, 5, 'the group initial twin');
const twinEtag = twin.etag;
await twin.update({ properties: { desired: { targetTemperature: 22 } } });
assert.notEqual(twin.etag, twinEtag, 'the update answers the new ETag');
await until('the desired patch at the device', () => desired.some((d) => d.patch.targetTemperature === 22));
const staleTwin = await failure(registry.updateTwin(reg.deviceId, { properties: { desired: { x: 1 } } }, twinEtag));
assert.equal(staleTwin.response?.statusCode, 412);
assert.equal(staleTwin.name, 'InvalidEtagError');
step('twin-desired');

// 4. A direct method over REST gets the device's answer; an offline device is a 404.
const hub = Client.fromConnectionString(serviceCs);
const { result: answer } = await hub.invokeDeviceMethod(reg.deviceId, { methodName: 'setLed', payload: { on: true }, responseTimeoutInSeconds: 10 });
assert.deepEqual(answer, { status: 200, payload: { on: true, by: 'azure-iot-wasm' } });
await device.close();
// The hub notices the close a moment later; the registry says when.
await until('the device to be disconnected', async () => (await registry.get(reg.deviceId)).responseBody.connectionState === 'Disconnected');
const offline = await failure(hub.invokeDeviceMethod(reg.deviceId, { methodName: 'setLed', payload: {}, responseTimeoutInSeconds: 5 }));
assert.equal(offline.response?.statusCode, 404);
assert.equal(offline.response.headers['iothub-errorcode'], 'DeviceNotOnline');
step('direct-method');

// 5. The registry: a device and a module created, updated under ETags, listed and deleted.
const deviceId = `svc-sdk-registry-${tag}`;
const { responseBody: made } = await registry.create({ deviceId });
assert.ok(made.authentication.symmetricKey.primaryKey, 'keys are generated');
const exists = await failure(registry.create({ deviceId }));
assert.equal(exists.name, 'DeviceAlreadyExistsError');
const { responseBody: disabled } = await registry.update({ deviceId, status: 'disabled' });
assert.equal(disabled.status, 'disabled');
assert.equal(disabled.authentication.symmetricKey.primaryKey, made.authentication.symmetricKey.primaryKey);
await registry.addModule({ deviceId, moduleId: 'mod-1' });
const { responseBody: modules } = await registry.getModulesOnDevice(deviceId);
assert.deepEqual(modules.map((m) => m.moduleId), ['mod-1']);
const { responseBody: list } = await registry.list();
assert.ok(list.some((d) => d.deviceId === deviceId) && list.some((d) => d.deviceId === reg.deviceId));
await registry.removeModule(deviceId, 'mod-1');
await registry.delete(deviceId);
const gone = await failure(registry.get(deviceId));
assert.equal(gone.response?.statusCode, 404);
step('registry');

console.log(JSON.stringify({ deviceId: reg.deviceId, groupId, desired: desired.map((d) => d.patch), method: answer }));
process.exit(0);
