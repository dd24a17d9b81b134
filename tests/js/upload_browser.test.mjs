// uploadFile from a page in headless Chromium: 20 MB made in the page go to Azurite in blocks
// with progress, through the emulator's hub REST (CORS for the page's origin on both), and the
// bytes read back from Azurite equal what the page made.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { startEmulator } from '../../scripts/lib/emulator.mjs';
import { startAzurite, fileUploadArgs, blobService } from '../../scripts/lib/azurite.mjs';
import { openBrowser } from '../support/browser.mjs';
import { api, newDevice, KEY } from './hub_support.mjs';

let browser;
let az;
let emu;

before(async () => {
  browser = await openBrowser();
  az = await startAzurite({ cors: [browser.baseUrl] });
  emu = await startEmulator({ args: ['--cors', browser.baseUrl, ...fileUploadArgs(az)] });
});

after(async () => {
  await browser?.close();
  await emu?.stop();
  await az?.stop();
});

const SIZE = 20 * 1024 * 1024 + 7;

/** The page's bytes: a xorshift stream from `seed`, reproduced here to compare. */
function bytesOf(seed, n) {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

test('in Chromium: a 20 MB Blob is uploaded in blocks with progress, and storage holds the same bytes', async () => {
  const deviceId = await newDevice(emu, 'upload-page');
  const seed = crypto.randomInt(1, 2 ** 31);
  const out = await browser.evaluateModule(`
    import * as lib from '/pkg/index.js';
    ${bytesOf.toString()}
    export default async (arg) => {
      const client = await lib.IotHubClient.connect({ hostName: arg.hostName, deviceId: arg.deviceId,
        symmetricKey: arg.key, url: arg.url });
      const progress = [];
      const r = await client.uploadFile('camera/frame-1.bin', new Blob([bytesOf(arg.seed, arg.size)]),
        { onProgress: (p) => progress.push(p) });
      await client.close();
      return { r, progress };
    };`, { hostName: emu.hubHostname, deviceId, key: KEY, url: `ws://${emu.host}:${emu.httpPort}/$iothub/websocket`, seed, size: SIZE });
  assert.equal(out.r.blobName, `${deviceId}/camera/frame-1.bin`);
  assert.ok(out.r.etag);
  assert.equal(out.progress.length, 6, 'five full 4 MiB blocks and the rest');
  assert.deepEqual(out.progress.at(-1), { loaded: SIZE, total: SIZE });
  const back = await blobService(az).getContainerClient(az.container).getBlobClient(out.r.blobName).downloadToBuffer();
  assert.equal(back.length, SIZE);
  assert.ok(Buffer.from(bytesOf(seed, SIZE)).equals(back), 'the bytes in storage are the page\'s');
  const [note] = await api(emu, 'GET', `/fileNotifications?deviceId=${deviceId}`);
  assert.deepEqual([note.isSuccess, note.blobSizeInBytes], [true, SIZE]);
});
