// The official Python SDK's file upload calls (azure-iot-device 2.x in .venv), unchanged, against
// the emulator and an HTTPS Azurite (tests/sdk/python_upload.py): the documented body form of the
// completion notice and api-version 2019-10-01, where node_sdk_upload.test.mjs covers the Node
// SDK's path form. The blob is read back and the service API's notifications checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { blobService } from '../../scripts/lib/azurite.mjs';
import { addDevice } from '../support/emulator_peer.mjs';
import { runProcess } from '../support/child.mjs';
import { startUploadStack } from './upload_stack.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const python = path.join(root, '.venv', 'bin', 'python');
const script = fileURLToPath(new URL('./python_upload.py', import.meta.url));
const STEPS = ['storage-info', 'upload-and-notify', 'failure-and-spent-id'];
const DEVICE = 'python-uploader';
const KEY = crypto.randomBytes(32).toString('base64');

test('the official Python SDK gets a SAS URI, uploads with it and notifies success and failure', { timeout: 120_000 }, async (t) => {
  assert.ok(existsSync(python), 'missing .venv: python3 -m venv .venv && .venv/bin/pip install -r scripts/sdk-requirements.txt');
  const { emu, az } = await startUploadStack(t);
  await addDevice(emu, DEVICE, KEY);
  const out = await runProcess(python, [script, emu.hubHostname, DEVICE, KEY, emu.caPath]);
  const steps = out.stdout.split('\n').filter((l) => l.startsWith('STEP ')).map((l) => l.split(' ')[1]);
  assert.deepEqual(steps, STEPS, `${out.stdout}\n${out.stderr}\n--- emulator ---\n${emu.logs()}`);
  assert.equal(out.code, 0, out.stderr);
  const sent = JSON.parse(out.stdout.trim().split('\n').pop());
  const bytes = await blobService(az).getContainerClient(az.container).getBlobClient(sent.blobName).downloadToBuffer();
  assert.equal(crypto.createHash('sha256').update(bytes).digest('hex'), sent.sha256);
  const notes = await (await emu.service(`/fileNotifications?deviceId=${DEVICE}`)).json();
  assert.deepEqual(notes.map((n) => [n.blobName, n.isSuccess, n.statusCode, n.statusDescription, n.blobSizeInBytes]), [
    [`${DEVICE}/py/report.txt`, true, 201, 'OK: report.txt', sent.length],
    [`${DEVICE}/py/never.txt`, false, 403, 'not uploaded', null],
  ]);
});
