// IotHubClient.uploadFile in Node against the emulator and a real Azurite (HTTP): one Put Blob,
// 24 MB from a Blob in blocks with progress, a ReadableStream, and the failures — each read back
// from Azurite with @azure/storage-blob and checked in the emulator's file-upload record.
// The same from a page is upload_browser.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startEmulator } from '../../scripts/lib/emulator.mjs';
import { startAzurite, fileUploadArgs, blobService } from '../../scripts/lib/azurite.mjs';
import { lib, api, newDevice, hubOptions } from './hub_support.mjs';

let az;
let emu;
before(async () => {
  az = await startAzurite();
  emu = await startEmulator({ args: fileUploadArgs(az) });
});
after(async () => {
  await emu?.stop();
  await az?.stop();
});

const readBack = (blobName) => blobService(az).getContainerClient(az.container).getBlobClient(blobName).downloadToBuffer();
const records = (deviceId) => api(emu, 'GET', `/fileNotifications?deviceId=${encodeURIComponent(deviceId)}`);

test('a small upload is one Put Blob: the bytes are in storage and the hub recorded the success', async () => {
  const deviceId = await newDevice(emu, 'upload-small');
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  const data = new TextEncoder().encode('day one\n');
  const progress = [];
  const r = await client.uploadFile('logs/day 1.txt', data, { onProgress: (p) => progress.push(p) });
  assert.equal(r.blobName, `${deviceId}/logs/day 1.txt`);
  assert.ok(r.etag, 'an ETag');
  assert.equal(r.size, data.length);
  assert.ok(!r.url.includes('sig='), 'the URL carries no SAS');
  assert.equal(r.url, `http://${new URL(az.blobEndpoint).host}/devstoreaccount1/${az.container}/${encodeURIComponent(deviceId)}/logs/day%201.txt`);
  assert.deepEqual(progress, [{ loaded: data.length, total: data.length }]);
  assert.deepEqual([...await readBack(r.blobName)], [...data]);
  const [note] = await records(deviceId);
  assert.deepEqual([note.blobName, note.isSuccess, note.blobSizeInBytes], [r.blobName, true, data.length]);
  await client.close();
});

test('24 MB from a Blob go in 4 MiB blocks with a progress event per block, and read back the same', async () => {
  const deviceId = await newDevice(emu, 'upload-large');
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  const bytes = crypto.randomBytes(24 * 1024 * 1024 + 123);
  const progress = [];
  const r = await client.uploadFile('camera/frame.bin', new Blob([bytes]), { onProgress: (p) => progress.push(p.loaded) });
  const block = 4 * 1024 * 1024;
  assert.deepEqual(progress, Array.from({ length: 7 }, (_, i) => Math.min((i + 1) * block, bytes.length)));
  assert.equal(r.size, bytes.length);
  assert.ok((await readBack(r.blobName)).equals(bytes), 'the blob equals what was sent');
  const [note] = await records(deviceId);
  assert.equal(note.blobSizeInBytes, bytes.length);
  await client.close();
});

test('a ReadableStream of uneven chunks is gathered into blocks of blockSize', async () => {
  const deviceId = await newDevice(emu, 'upload-stream');
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  const bytes = crypto.randomBytes(700_001);
  let at = 0;
  const stream = new ReadableStream({
    pull(c) {
      if (at >= bytes.length) return c.close();
      const n = 1 + Math.floor(Math.random() * 50_000);
      c.enqueue(new Uint8Array(bytes.subarray(at, at + n)));
      at += n;
    },
  });
  const progress = [];
  const r = await client.uploadFile('stream.bin', stream, { blockSize: 256 * 1024, onProgress: (p) => progress.push(p) });
  assert.deepEqual(progress.map((p) => p.loaded), [262144, 524288, 700001]);
  assert.equal(progress[0].total, null, 'a stream has no known total');
  assert.ok((await readBack(r.blobName)).equals(bytes));
  await client.close();
});

test('an aborted upload rejects with ABORTED and the hub is told it failed', async () => {
  const deviceId = await newDevice(emu, 'upload-abort');
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  const ac = new AbortController();
  const e = await client.uploadFile('big.bin', new Blob([crypto.randomBytes(3 * 256 * 1024)]), {
    blockSize: 256 * 1024, signal: ac.signal, onProgress: () => ac.abort(),
  }).catch((x) => x);
  assert.equal(e.code, 'ABORTED');
  const [note] = await records(deviceId);
  assert.equal(note.isSuccess, false);
  await client.close();
});

test('a stream that never yields fails with TIMEOUT after requestTimeoutMs, and the hub is told', async () => {
  const deviceId = await newDevice(emu, 'upload-stall');
  const client = await lib.IotHubClient.connect(hubOptions(emu, deviceId));
  const e = await client.uploadFile('stall.bin', new ReadableStream({ pull: () => new Promise(() => {}) }), { requestTimeoutMs: 300 }).catch((x) => x);
  assert.equal(e.code, 'TIMEOUT');
  const [note] = await records(deviceId);
  assert.equal(note.isSuccess, false);
  await client.close();
});

test('storage refusing the SAS gives STORAGE_FAILED with its error code, and the hub hears the failure', async () => {
  // An emulator that signs with the wrong key: Azurite answers 403 AuthorizationFailure.
  const wrong = await startEmulator({ args: [...fileUploadArgs(az).slice(0, -4), '--blob-key', Buffer.alloc(64, 1).toString('base64'), '--blob-container', az.container] });
  try {
    const deviceId = await newDevice(wrong, 'upload-refused');
    const client = await lib.IotHubClient.connect(hubOptions(wrong, deviceId));
    const e = await client.uploadFile('x.txt', new Uint8Array([1, 2, 3])).catch((x) => x);
    assert.equal(e.code, 'STORAGE_FAILED');
    assert.equal(e.status, 403);
    assert.equal(e.errorCode, 'AuthorizationFailure', 'x-ms-error-code as Azurite sends it');
    assert.ok(!e.message.includes('sig='), 'no signature in the message');
    const [note] = await api(wrong, 'GET', `/fileNotifications?deviceId=${deviceId}`);
    assert.deepEqual([note.isSuccess, note.statusCode], [false, 403]);
    await client.close();
  } finally {
    await wrong.stop();
  }
});

test('a hub without storage gives FILE_UPLOAD_FAILED with its error name and tracking id; bad arguments are INVALID_ARGUMENT', async () => {
  const bare = await startEmulator();
  try {
    const deviceId = await newDevice(bare, 'upload-unconfigured');
    const client = await lib.IotHubClient.connect(hubOptions(bare, deviceId));
    const e = await client.uploadFile('x.txt', new Uint8Array([1])).catch((x) => x);
    assert.equal(e.code, 'FILE_UPLOAD_FAILED');
    assert.equal(e.status, 400);
    assert.equal(e.errorCode, 'DefaultStorageEndpointNotConfigured');
    assert.match(e.trackingId, /^[0-9a-f]+$/i);
    for (const [name, data, opts] of [[42, new Uint8Array()], ['a', 'text'], ['a', null], ['', new Uint8Array()],
      ['a', new Uint8Array(), { blockSize: 10 }], ['a', new Uint8Array(), { signal: {} }], ['a', new Uint8Array(), { onProgress: 1 }]]) {
      const x = await client.uploadFile(name, data, opts).catch((y) => y);
      assert.equal(x.code, 'INVALID_ARGUMENT', `${String(name)} ${String(data)} ${JSON.stringify(opts)}`);
    }
    await client.close();
    assert.equal((await client.uploadFile('a', new Uint8Array()).catch((y) => y)).code, 'CLOSED');
  } finally {
    await bare.stop();
  }
});
