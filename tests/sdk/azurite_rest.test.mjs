// File upload by hand over plain HTTP, the way a client without the SDK (the device library in
// a page) does it: the emulator's REST calls with `fetch`, one Put Blob to an HTTP Azurite, and
// the CORS answers a page on the named origin needs from Azurite (scripts/lib/azurite.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startEmulator } from '../../scripts/lib/emulator.mjs';
import { startAzurite, fileUploadArgs, blobService } from '../../scripts/lib/azurite.mjs';
import { addDevice, sasToken } from '../support/emulator_peer.mjs';

const ORIGIN = 'http://localhost:8000';
const DEVICE = 'rest-uploader';
const KEY = crypto.randomBytes(32).toString('base64');

test('a device uploads with fetch alone to an HTTP Azurite, which answers the page origin\'s CORS preflight', { timeout: 60_000 }, async (t) => {
  const az = await startAzurite({ cors: [ORIGIN] });
  t.after(() => az.stop());
  const emu = await startEmulator({ args: fileUploadArgs(az) });
  t.after(() => emu.stop());
  await addDevice(emu, DEVICE, KEY);
  const auth = sasToken(`${emu.hubHostname}/devices/${DEVICE}`, KEY);
  const hub = (p, body) => fetch(`${emu.httpUrl}/devices/${DEVICE}/${p}?api-version=2021-04-12`, { method: 'POST', headers: { authorization: auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  const res = await hub('files', { blobName: 'logs/day 1.txt' });
  assert.equal(res.status, 200);
  const info = await res.json();
  assert.equal(info.hostName, new URL(az.blobEndpoint).host + '/devstoreaccount1');
  // http:// because this client reached the hub over plain HTTP; each path segment encoded.
  const url = `http://${info.hostName}/${info.containerName}/${info.blobName.split('/').map(encodeURIComponent).join('/')}${info.sasToken}`;

  const preflight = await fetch(url, { method: 'OPTIONS', headers: { origin: ORIGIN, 'access-control-request-method': 'PUT', 'access-control-request-headers': 'x-ms-blob-type,content-type' } });
  assert.equal(preflight.status, 200);
  assert.equal(preflight.headers.get('access-control-allow-origin'), ORIGIN);
  const foreign = await fetch(url, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'PUT' } });
  assert.equal(foreign.headers.get('access-control-allow-origin'), null, 'an origin not named gets no CORS grant');

  const body = 'day one\n';
  const put = await fetch(url, { method: 'PUT', headers: { origin: ORIGIN, 'x-ms-blob-type': 'BlockBlob', 'content-type': 'text/plain' }, body });
  assert.equal(put.status, 201, await put.text());
  assert.equal(put.headers.get('access-control-allow-origin'), ORIGIN);
  assert.ok(put.headers.get('etag'));

  const done = await hub('files/notifications', { correlationId: info.correlationId, isSuccess: true, statusCode: put.status, statusDescription: 'Created' });
  assert.equal(done.status, 204);
  const [note] = await (await emu.service(`/fileNotifications?deviceId=${DEVICE}`)).json();
  assert.deepEqual([note.blobName, note.isSuccess, note.blobSizeInBytes], [`${DEVICE}/logs/day 1.txt`, true, body.length]);
  const back = await blobService(az).getContainerClient(az.container).getBlobClient(info.blobName).downloadToBuffer();
  assert.equal(back.toString(), body);

  const again = await hub('files/notifications', { correlationId: info.correlationId, isSuccess: true });
  assert.equal(again.status, 400);
  assert.equal(again.headers.get('iothub-errorcode'), 'InvalidFileUploadCorrelationId');
});
