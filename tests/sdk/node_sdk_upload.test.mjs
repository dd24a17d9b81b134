// The official Node SDK's file upload, unchanged, against the emulator's IoT Hub and Azurite:
// `uploadToBlob` of a small and a 9 MB file, then `getBlobSharedAccessSignature` +
// `notifyBlobUploadStatus(false)`. The bytes are read back from Azurite and the service API's
// file notifications checked. The SDK runs in a child process (NODE_EXTRA_CA_CERTS is read only
// at start-up) and, as it hard-codes https:// for the blob, Azurite serves HTTPS with the
// emulator's own server certificate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { blobService, DEFAULT_CONTAINER } from '../../scripts/lib/azurite.mjs';
import { addDevice } from '../support/emulator_peer.mjs';
import { runProcess } from '../support/child.mjs';
import { startUploadStack } from './upload_stack.mjs';

const flow = fileURLToPath(new URL('./node_sdk_upload_flow.mjs', import.meta.url));
const STEPS = ['upload-small', 'upload-large', 'notify-failure', 'spent-correlation-refused'];
const DEVICE = 'node-sdk-uploader';
const KEY = crypto.randomBytes(32).toString('base64');

test('the official Node SDK uploads files through the emulator to Azurite and the service sees each notification', { timeout: 150_000 }, async (t) => {
  const { emu, az, blobEndpoint } = await startUploadStack(t);
  await addDevice(emu, DEVICE, KEY);

  const out = await runProcess(process.execPath, [flow], { env: { ...process.env, NODE_EXTRA_CA_CERTS: emu.caPath, EMU_HOST: emu.hubHostname, DEVICE_ID: DEVICE, DEVICE_KEY: KEY } });
  const done = out.stdout.split('\n').filter((l) => l.startsWith('STEP ')).map((l) => l.split(' ')[1]);
  assert.deepEqual(done, STEPS, `SDK flow stopped early:\n${out.stdout}\n${out.stderr}\n--- emulator log ---\n${emu.logs()}`);
  assert.equal(out.code, 0, out.stderr);
  const uploaded = JSON.parse(out.stdout.split('\n').find((l) => l.startsWith('UPLOADED ')).slice('UPLOADED '.length));

  const container = blobService(az).getContainerClient(az.container);
  for (const u of uploaded) {
    const bytes = await container.getBlobClient(u.blobName).downloadToBuffer();
    assert.equal(bytes.length, u.length, u.blobName);
    assert.equal(crypto.createHash('sha256').update(bytes).digest('hex'), u.sha256, `${u.blobName}: the bytes read back are the ones the SDK sent`);
  }

  const notes = await (await emu.service(`/fileNotifications?deviceId=${DEVICE}`)).json();
  assert.deepEqual(notes.map((n) => [n.blobName, n.isSuccess]), [[`${DEVICE}/hello.txt`, true], [`${DEVICE}/big/blob 9mb.bin`, true], [`${DEVICE}/never-uploaded.txt`, false]]);
  for (const [i, u] of uploaded.entries()) {
    const n = notes[i];
    assert.equal(n.blobSizeInBytes, u.length, 'the size the emulator read back from Azurite over TLS');
    assert.equal(n.statusCode, 201, 'the SDK reports Put Block List\'s 201');
    assert.equal(n.blobUri, `${blobEndpoint}/${DEFAULT_CONTAINER}/${u.blobName.split('/').map(encodeURIComponent).join('/')}`);
    assert.match(n.lastUpdatedTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
  }
  assert.deepEqual([notes[2].statusCode, notes[2].statusDescription, notes[2].blobSizeInBytes], [500, 'simulated failure', null]);
});
