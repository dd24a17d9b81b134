// Child process for node_sdk_upload.test.mjs: the official Node SDK, unchanged, uploads files
// through the emulator's IoT Hub file upload to Azurite over HTTPS (both trusted through
// NODE_EXTRA_CA_CERTS, which Node reads only at start-up). Prints `STEP <name> ok` per step and
// one `UPLOADED {json}` line with each blob's name, length and SHA-256 for the parent to check.
// Env: EMU_HOST (the hub host, port 443), DEVICE_ID, DEVICE_KEY.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';

const require = createRequire(import.meta.url);
const { Client } = require('azure-iot-device');
const { Mqtt } = require('azure-iot-device-mqtt');

setTimeout(() => {
  console.error('node_sdk_upload_flow: gave up after 90 s');
  process.exit(1);
}, 90_000).unref();
const step = (name) => console.log(`STEP ${name} ok`);
const { EMU_HOST: host, DEVICE_ID: deviceId, DEVICE_KEY: key } = process.env;

// uploadToBlob and the two granular calls go over HTTPS to the hub's REST port (443); the MQTT
// transport is only what the client is built with and is never opened.
const client = Client.fromConnectionString(`HostName=${host};DeviceId=${deviceId};SharedAccessKey=${key}`, Mqtt);
const uploaded = [];

async function upload(name, bytes) {
  await client.uploadToBlob(name, Readable.from([bytes]), bytes.length);
  uploaded.push({ blobName: `${deviceId}/${name}`, length: bytes.length, sha256: crypto.createHash('sha256').update(bytes).digest('hex') });
}

// (a) A small file: one 4 MiB block at most, still Put Block + Put Block List (uploadStream).
await upload('hello.txt', Buffer.from('hello from the official Node SDK\n'));
step('upload-small');

// (b) A few MB: two full 4 MiB blocks and a partial one, staged in parallel.
await upload('big/blob 9mb.bin', crypto.randomBytes(9 * 1024 * 1024 + 123));
step('upload-large');

// The SDK's failure path: a SAS URI it never uses, then a failed status.
const sas = await client.getBlobSharedAccessSignature('never-uploaded.txt');
assert.equal(sas.blobName, `${deviceId}/never-uploaded.txt`);
assert.match(sas.sasToken, /^\?sv=2018-03-28&sr=b&sig=[^&]+&se=[^&]+&sp=rw$/);
await client.notifyBlobUploadStatus(sas.correlationId, false, 500, 'simulated failure');
step('notify-failure');

// The correlation id is spent: IoT Hub's 400 is an Error to the SDK.
await assert.rejects(client.notifyBlobUploadStatus(sas.correlationId, true, 201, 'again'), /Bad Request/);
step('spent-correlation-refused');

console.log(`UPLOADED ${JSON.stringify(uploaded)}`);
await client.close();
process.exit(0);
