// The demo page's device panels beyond provision and send (demo.test.mjs covers those), driven
// the way a visitor does, against `npm start`'s main job: after provisioning, the twin panel shows
// the device's twin, "Update reported properties" sends the textarea's patch (the cloud holds it)
// and "Get twin" reads both sections back; a desired patch, a direct method and a C2D message made
// from the cloud side appear in their panels with their content, the method is answered with the
// page's echo and the C2D message is completed; the cloud-side panel shows each exchange.
// Then the file-upload panel: a generated file and a picked one go to Azurite with their progress,
// the cloud panel lists each notification (live, and from the service API after a reload), and
// Azurite holds the bytes the page sent. Then the writable-property panel: targetTemperature set
// from the cloud panel is acknowledged ac 200 by the page's handler, an out-of-range one ac 400.
// Screenshots: test-output/demo-panels.png, demo-upload.png, demo-pnp.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/browser.mjs';
import { serviceFetch } from '../../scripts/lib/emulator.mjs';
import { blobService, DEVSTORE_KEY } from '../../scripts/lib/azurite.mjs';
import { startMainJob } from '../support/main_job.mjs';

const outDir = fileURLToPath(new URL('../../test-output', import.meta.url));
let job;
let browser;
let demoUrl;
let service;
let config;

before(async () => {
  job = startMainJob();
  ({ demoUrl, config } = await job.ready);
  service = serviceFetch(config.serviceUrl, config.serviceKey);
  browser = await launchChromium();
}, { timeout: 200_000 });

after(async () => {
  await browser?.close();
  await job?.stop();
});

async function call(method, path, body) {
  const res = await service(path, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const items = (page, id) => page.$$eval(`#${id} li`, (lis) => lis.map((li) => li.textContent));
const twinView = async (page) => JSON.parse(await page.textContent('#twin-view'));

test('the demo\'s twin, desired-update, direct-method and C2D panels show what the device and the cloud exchange', { timeout: 180_000 }, async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1200 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(demoUrl);
    await page.waitForFunction(() => document.querySelector('input[name=idScope]').value !== '');
    await page.click('#provision-btn');
    await page.waitForSelector('#hub-status[data-state=ok]', { timeout: 60_000 });
    const deviceId = await page.textContent('#r-deviceId');
    assert.equal(deviceId, 'python-device-008');

    // Connected: the panel shows the new twin, both sections at $version 1 (protocol.md §5.6).
    await page.waitForFunction(() => document.getElementById('twin-view').textContent !== '—');
    assert.deepEqual(await twinView(page), { desired: { $version: 1 }, reported: { $version: 1 } });

    // The reported patch typed into the textarea.
    await page.fill('#reported', '{"firmware": "2.0.0", "fromPage": true}');
    await page.click('#report-btn');
    await page.waitForFunction(() => document.querySelectorAll('#desired-log li').length === 1);
    assert.deepEqual(await items(page, 'desired-log'), ['reported accepted, $version 2']);
    const reported = { firmware: '2.0.0', fromPage: true, $version: 2 };
    assert.deepEqual((await call('GET', `/twins/${deviceId}`)).properties.reported, reported);
    await page.waitForFunction(() => JSON.parse(document.getElementById('twin-view').textContent).reported.$version === 2);
    assert.deepEqual(await twinView(page), { desired: { $version: 1 }, reported });

    // A desired patch from the cloud side, then "Get twin".
    await call('PATCH', `/twins/${deviceId}/desired`, { fanSpeed: 3 });
    await page.waitForFunction(() => document.querySelectorAll('#desired-log li').length === 2);
    const [version, patch] = (await items(page, 'desired-log'))[1].split(/ (.*)/);
    assert.deepEqual([version, JSON.parse(patch)], ['v2', { fanSpeed: 3, $version: 2 }]);
    await page.click('#get-twin-btn');
    await page.waitForFunction(() => JSON.parse(document.getElementById('twin-view').textContent).desired.$version === 2);
    assert.deepEqual(await twinView(page), { desired: { fanSpeed: 3, $version: 2 }, reported });

    // A direct method: answered 200 by the page with its echo, and logged there.
    const answer = await call('POST', `/devices/${deviceId}/methods`, { methodName: 'setLed', payload: { on: true }, responseTimeoutInSeconds: 10 });
    assert.equal(answer.status, 200);
    assert.deepEqual({ ...answer.payload, answeredAt: undefined }, { method: 'setLed', echo: { on: true }, answeredAt: undefined });
    assert.match(answer.payload.answeredAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(await items(page, 'methods-log'), ['setLed({"on":true}) → 200']);

    // A C2D message with a property: shown, and completed by the device.
    await call('POST', `/devices/${deviceId}/messages`, { body: 'hello page', properties: { color: 'red' }, messageId: 'demo-c2d-1' });
    await page.waitForFunction(() => document.querySelectorAll('#c2d-log li').length === 1, null, { timeout: 30_000 });
    assert.deepEqual(await items(page, 'c2d-log'), ['hello page  {"color":"red"}']);
    for (let i = 0; i < 100; i++) {
      const states = (await call('GET', `/devices/${deviceId}/messages`)).map((m) => [m.messageId, m.state]);
      if (states.length === 1 && states[0][1] === 'completed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual((await call('GET', `/devices/${deviceId}/messages`)).map((m) => [m.messageId, m.state]), [['demo-c2d-1', 'completed']]);

    // The cloud-side panel saw the same exchanges on the emulator's event stream.
    await page.waitForFunction(() => [...document.querySelectorAll('#cloud-events tr')].some((tr) => tr.children[1]?.textContent === 'c2dCompleted'), null, { timeout: 30_000 });
    const rows = await page.$$eval('#cloud-events tr', (trs) => trs.map((tr) => [tr.children[1].textContent, tr.children[3].textContent]));
    for (const row of [['twin', 'reported v2 {"firmware":"2.0.0","fromPage":true}'], ['twin', 'desired v2 {"fanSpeed":3}'],
      ['method', 'setLed → 200'], ['c2d', 'queued demo-c2d-1'], ['c2dCompleted', 'completed demo-c2d-1']]) {
      assert.ok(rows.some(([k, d]) => k === row[0] && d === row[1]), `${row.join(': ')} in ${JSON.stringify(rows)}`);
    }

    assert.equal(await page.isVisible('#twin-error'), false);
    assert.deepEqual(errors, []);
    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: `${outDir}/demo-panels.png`, fullPage: true });
  } finally {
    await page.close();
  }
});

// A page on the demo, provisioned with its pre-filled individual enrollment and connected.
async function provisionedPage() {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(demoUrl);
  await page.waitForFunction(() => document.querySelector('input[name=idScope]').value !== '');
  await page.waitForSelector('#cloud-status[data-state=ok]');
  await page.click('#provision-btn');
  await page.waitForSelector('#hub-status[data-state=ok]', { timeout: 60_000 });
  return { page, errors, deviceId: await page.textContent('#r-deviceId') };
}

const rowsOf = (page, id) => page.$$eval(`#${id} tr`, (trs) => trs.map((tr) => [...tr.children].map((td) => td.textContent)));
const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

test('the demo\'s file-upload panel uploads a generated file and a picked one with progress to 100%, the cloud panel lists both notifications, and Azurite holds the same bytes', { timeout: 180_000 }, async () => {
  assert.ok(config.storage, 'npm start names its storage in the demo config');
  const container = blobService({ ...config.storage, accountKey: DEVSTORE_KEY }).getContainerClient(config.storage.container);
  const { page, errors, deviceId } = await provisionedPage();
  try {
    // Every text the progress line shows, in order, to see the blocks go by.
    await page.evaluate(() => {
      const el = document.getElementById('upload-status');
      window.progressSeen = [];
      new MutationObserver(() => window.progressSeen.push(el.textContent)).observe(el, { childList: true, characterData: true, subtree: true });
    });

    // 9 MiB made in the page: three Put Blocks of 4, 4 and 1 MiB, then the block list.
    await page.fill('#generate-mib', '9');
    await page.click('#generate-btn');
    await page.waitForSelector('#upload-status[data-state=ok]', { timeout: 60_000 });
    const size = 9 * 1024 * 1024;
    const percents = (await page.evaluate(() => window.progressSeen)).filter((t) => /^\d+%/.test(t)).map((t) => Number(t.match(/^(\d+)%/)[1]));
    assert.deepEqual([...new Set(percents)], [0, 44, 88, 100], `progress shown: ${percents}`);
    assert.equal(await page.textContent('#upload-status'), '100% · 9.0 MiB of 9.0 MiB');
    assert.deepEqual(await page.$eval('#upload-progress', (p) => [p.value, p.max]), [size, size]);
    const blobName = await page.textContent('#u-blobName');
    assert.match(blobName, new RegExp(`^${deviceId}/generated-9MiB-\\d+\\.bin$`));
    assert.equal(await page.textContent('#u-url'), `${config.storage.blobEndpoint}/${config.storage.container}/${blobName}`);
    assert.ok((await page.textContent('#u-etag')).length > 2, 'an etag is shown');
    assert.equal(await page.textContent('#u-size'), `${size} bytes (9.0 MiB)`);
    const generated = await container.getBlobClient(blobName).downloadToBuffer();
    assert.equal(generated.length, size);
    assert.equal(sha256(generated), await page.textContent('#u-sha256'), 'Azurite holds the bytes the page hashed');

    // A file picked in the file input, with a space in its name: one Put Blob.
    const bytes = randomBytes(300_000);
    const picked = `${deviceId}/sensor log 1.csv`;
    await page.setInputFiles('#upload-file', { name: 'sensor log 1.csv', mimeType: 'text/csv', buffer: bytes });
    await page.click('#upload-file-btn');
    await page.waitForFunction((name) => document.getElementById('u-blobName').textContent === name
      && document.getElementById('upload-status').dataset.state === 'ok', picked, { timeout: 60_000 });
    assert.equal(await page.textContent('#upload-status'), '100% · 0.3 MiB of 0.3 MiB');
    assert.equal(await page.textContent('#u-url'), `${config.storage.blobEndpoint}/${config.storage.container}/${deviceId}/sensor%20log%201.csv`);
    assert.equal(await page.isVisible('#u-sha256'), false, 'a picked file is streamed, not hashed');
    assert.ok((await container.getBlobClient(picked).downloadToBuffer()).equals(bytes), 'Azurite holds the picked file\'s bytes');

    // The cloud panel: both notifications, live, with the sizes the emulator read from storage.
    const expected = [[deviceId, picked, 'uploaded (201)', String(bytes.length)], [deviceId, blobName, 'uploaded (201)', String(size)]];
    await page.waitForFunction(() => document.querySelectorAll('#file-notifications tr').length >= 2, null, { timeout: 30_000 });
    assert.deepEqual((await rowsOf(page, 'file-notifications')).slice(0, 2).map((r) => r.slice(1)), expected);
    const events = (await rowsOf(page, 'cloud-events')).filter((r) => r[1] === 'fileUpload').map((r) => r[3]);
    assert.deepEqual(events, [`${picked} uploaded (201), ${bytes.length} bytes`, `${blobName} uploaded (201), ${size} bytes`]);
    const notes = await (await service(`/fileNotifications?deviceId=${deviceId}`)).json();
    assert.deepEqual(notes.slice(-2).map((n) => [n.blobName, n.isSuccess, n.blobSizeInBytes]), [[blobName, true, size], [picked, true, bytes.length]]);
    assert.equal(await page.isVisible('#upload-error'), false);
    assert.deepEqual(errors, []);
    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: `${outDir}/demo-upload.png`, fullPage: true });

    // A new page has missed those events: it lists the notifications from the service API.
    const later = await browser.newPage();
    try {
      await later.goto(demoUrl);
      await later.waitForFunction(() => document.querySelectorAll('#file-notifications tr').length >= 2, null, { timeout: 30_000 });
      assert.deepEqual((await rowsOf(later, 'file-notifications')).slice(0, 2).map((r) => r.slice(1)), expected);
      assert.deepEqual((await rowsOf(later, 'cloud-events')).filter((r) => r[1] === 'fileUpload'), []);
    } finally {
      await later.close();
    }
  } finally {
    await page.close();
  }
});

test('the demo\'s writable-property panel: a targetTemperature set from the cloud panel is accepted with ac 200, and an out-of-range one is refused with ac 400', { timeout: 120_000 }, async () => {
  const { page, errors, deviceId } = await provisionedPage();
  try {
    // The device announced the Thermostat model at CONNECT.
    const devices = await (await service('/devices')).json();
    assert.equal(devices.find((d) => d.deviceId === deviceId)?.modelId, 'dtmi:com:example:Thermostat;1');
    assert.equal(await page.textContent('#pnp-model'), 'dtmi:com:example:Thermostat;1');
    assert.equal(await page.textContent('#cloud-device'), deviceId);

    const reportedAck = async () => (await (await service(`/twins/${deviceId}`)).json()).properties.reported.targetTemperature;
    const desiredVersion = async () => (await (await service(`/twins/${deviceId}`)).json()).properties.desired.$version;

    // In range: the page's handler accepts it, and the cloud panel shows the twin's ack.
    await page.fill('#target-input', '22.5');
    await page.click('#set-target-btn');
    await page.waitForSelector('#ack-status[data-state=ok]', { timeout: 30_000 });
    const v1 = await desiredVersion();
    const accepted = { value: 22.5, ac: 200, av: v1 };
    assert.deepEqual(JSON.parse(await page.textContent('#ack-view')), accepted);
    assert.deepEqual(await reportedAck(), accepted);
    assert.equal(await page.textContent('#ack-status'), `ac 200 accepted (av ${v1})`);
    assert.deepEqual(await page.$$eval('#pnp-log li', (lis) => lis.map((li) => [li.className, li.textContent])), [['ok', `v${v1} 22.5 → accepted, ac 200`]]);
    assert.equal(await page.textContent('#pnp-current'), '22.5 °C');

    // Out of range: refused with 400; the device keeps 22.5 and says why.
    await page.fill('#target-input', '99');
    await page.click('#set-target-btn');
    await page.waitForSelector('#ack-status[data-state=bad]', { timeout: 30_000 });
    const v2 = await desiredVersion();
    assert.equal(v2, v1 + 1);
    const why = 'targetTemperature must be a number from 5 to 35 °C';
    const refused = { value: 22.5, ac: 400, av: v2, ad: why };
    assert.deepEqual(JSON.parse(await page.textContent('#ack-view')), refused);
    assert.deepEqual(await reportedAck(), refused);
    assert.equal(await page.textContent('#ack-status'), `ac 400 refused (av ${v2})`);
    assert.deepEqual(await page.$$eval('#pnp-log li', (lis) => lis.map((li) => li.className)), ['ok', 'bad']);
    assert.equal((await page.$$eval('#pnp-log li', (lis) => lis.map((li) => li.textContent)))[1], `v${v2} 99 → refused, ac 400: ${why}`);
    assert.equal(await page.textContent('#pnp-current'), '22.5 °C');
    assert.deepEqual(await page.$$eval('#ack-log li', (lis) => lis.map((li) => li.textContent)),
      [`desired v${v1} 22.5 → ac 200, value 22.5`, `desired v${v2} 99 → ac 400, value 22.5: ${why}`]);

    assert.equal(await page.isVisible('#cloud-error'), false);
    assert.deepEqual(errors, []);
    mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: `${outDir}/demo-pnp.png`, fullPage: true });
  } finally {
    await page.close();
  }
});
