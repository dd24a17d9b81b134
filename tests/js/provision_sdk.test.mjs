// The official Node SDK (azure-iot-provisioning-device + -http + azure-iot-security-symmetric-key,
// unchanged) and this library provision the same enrollments on one emulator, and their
// results agree. The SDK dials HTTPS on port 443 only, so the emulator binds 443 on a loopback
// address of its own; both sides run in child processes started with NODE_EXTRA_CA_CERTS (read
// only at start-up) so that both go through TLS to the same port.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEmulator, sdkArgs } from '../../scripts/lib/emulator.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

const SDK = `
const { ProvisioningDeviceClient } = require('azure-iot-provisioning-device');
const { Http } = require('azure-iot-provisioning-device-http');
const { SymmetricKeySecurityClient } = require('azure-iot-security-symmetric-key');
const [host, idScope, registrationId, key] = process.argv.slice(1);
const client = ProvisioningDeviceClient.create(host, idScope, new Http(), new SymmetricKeySecurityClient(registrationId, key));
client.register().then((r) => console.log('RESULT ' + JSON.stringify(r)), (e) => { console.log('ERROR ' + e.message); process.exitCode = 1; });
`;

const OURS = `
import * as lib from 'azure-iot-wasm';
const [endpoint, idScope, registrationId, key] = process.argv.slice(1);
lib.provision({ endpoint, idScope, registrationId, symmetricKey: key })
  .then((r) => console.log('RESULT ' + JSON.stringify(r)), (e) => { console.log('ERROR ' + e.code + ' ' + e.message); process.exitCode = 1; });
`;

function run(code, type, args, caPath) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type', type, '-e', code, ...args], {
      cwd: root, env: { ...process.env, NODE_EXTRA_CA_CERTS: caPath }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', () => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      resolve(line ? JSON.parse(line.slice(7)) : { failed: out });
    });
  });
}

let emu;
let enrollment;
let group;

before(async () => {
  emu = await startEmulator({ args: sdkArgs() });
  enrollment = (await (await emu.service('/enrollments')).json()).find((e) => e.registrationId === 'symm-key-python-device-008');
  group = (await (await emu.service('/enrollmentGroups')).json())[0];
});

after(async () => {
  await emu?.stop();
});

/** The emulator's record of a registration's latest state (`GET /service/registrations`). */
async function registrationRecord(registrationId) {
  return (await (await emu.service('/registrations')).json()).find((r) => r.registrationId === registrationId);
}

// Fields that describe the assignment (timestamps and etag change with every registration).
const assignment = (r) => ({ registrationId: r.registrationId, deviceId: r.deviceId, assignedHub: r.assignedHub, status: r.status, substatus: r.substatus });

for (const kind of ['individual', 'group']) {
  test(`the official SDK and this library agree on ${kind === 'individual' ? 'an individual' : 'a group'} enrollment's assignment`, { timeout: 60_000 }, async () => {
    const registrationId = kind === 'individual' ? enrollment.registrationId : 'sdk-agreement-dev-1';
    // The SDK needs the device key; for a group that is the derived key, computed here the
    // way the SDK docs tell users to (an HMAC of the registration id).
    const { createHmac } = await import('node:crypto');
    const key = kind === 'individual'
      ? enrollment.primaryKey
      : createHmac('sha256', Buffer.from(group.primaryKey, 'base64')).update(registrationId).digest('base64');
    const sdk = await run(SDK, 'commonjs', [emu.hubHostname, emu.idScope, registrationId, key], emu.caPath);
    assert.ok(!sdk.failed, `SDK failed:\n${sdk.failed}\n${emu.logs()}`);
    const sdkRecord = await registrationRecord(registrationId);
    const ours = await run(OURS, 'module', [`https://${emu.hubHostname}:443`, emu.idScope, registrationId, key], emu.caPath);
    assert.ok(!ours.failed, `library failed:\n${ours.failed}\n${emu.logs()}`);
    assert.deepEqual(assignment(ours), assignment(sdk));
    assert.equal(ours.deviceId, kind === 'individual' ? 'python-device-008' : registrationId);
    assert.equal(ours.status, 'assigned');
    // Each side's timestamps and etag are the emulator's record of that registration, to the
    // letter (the record is read right after each side registers).
    for (const k of ['createdDateTimeUtc', 'lastUpdatedDateTimeUtc', 'etag']) {
      assert.equal(sdk[k], sdkRecord[k], `SDK ${k}`);
      assert.equal(ours[k], (await registrationRecord(registrationId))[k], `library ${k}`);
    }
    assert.notEqual(sdk.etag, ours.etag, 'each registration has its own etag');
  });
}
