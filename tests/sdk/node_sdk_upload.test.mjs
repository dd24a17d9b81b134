// The official Node SDK's file upload, unchanged, against the emulator's IoT Hub and Azurite:
// `uploadToBlob` of a small and a 9 MB file, then `getBlobSharedAccessSignature` +
// `notifyBlobUploadStatus(false)`. The bytes are read back from Azurite and the service API's
// file notifications checked. The SDK runs in a child process (NODE_EXTRA_CA_CERTS is read only
// at start-up) and, as it hard-codes https:// for the blob, Azurite serves HTTPS with the
// emulator's own server certificate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, sdkArgs, uniqueLoopbackHost } from '../../scripts/lib/emulator.mjs';
import { startAzurite, fileUploadArgs, blobService, DEVSTORE_ACCOUNT, DEVSTORE_KEY, DEFAULT_CONTAINER } from '../../scripts/lib/azurite.mjs';

const flow = fileURLToPath(new URL('./node_sdk_upload_flow.mjs', import.meta.url));
const STEPS = ['upload-small', 'upload-large', 'notify-failure', 'spent-correlation-refused'];
const DEVICE = 'node-sdk-uploader';
const KEY = crypto.randomBytes(32).toString('base64');
// Azurite listens on the emulator's own loopback address at a port fixed in advance. The
// emulator must know the blob endpoint when it starts, and Azurite needs the certificate the
// emulator writes when it starts: an address of this test's own with a known port breaks that
// cycle without any runtime reconfiguration, and the emulator's certificate already names it.
const AZURITE_PORT = 10000;

function run(env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [flow], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('the official Node SDK uploads files through the emulator to Azurite and the service sees each notification', { timeout: 150_000 }, async (t) => {
  const host = uniqueLoopbackHost();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'emu-upload-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, 'server.pem');
  const key = path.join(dir, 'server-key.pem');
  const blobEndpoint = `https://${host}:${AZURITE_PORT}/${DEVSTORE_ACCOUNT}`;
  const storage = { blobEndpoint, accountName: DEVSTORE_ACCOUNT, accountKey: DEVSTORE_KEY, container: DEFAULT_CONTAINER };
  const emu = await startEmulator({ args: [...sdkArgs(host), '--server-cert-out', cert, '--server-key-out', key, ...fileUploadArgs(storage)] });
  t.after(() => emu.stop());
  const az = await startAzurite({ host, port: AZURITE_PORT, https: { cert, key, ca: emu.caPath } });
  t.after(() => az.stop());
  assert.equal(az.blobEndpoint, blobEndpoint);
  const put = await emu.service(`/devices/${DEVICE}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ primaryKey: KEY }) });
  assert.equal(put.status, 200);

  const out = await run({ NODE_EXTRA_CA_CERTS: emu.caPath, EMU_HOST: emu.hubHostname, DEVICE_ID: DEVICE, DEVICE_KEY: KEY });
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
