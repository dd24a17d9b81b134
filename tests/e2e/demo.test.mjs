// The main job and the demo page end to end: `scripts/start.mjs` (what `npm start` runs after
// set-up and build) starts the emulator and Azurite, runs the quickstart in Node and serves the demo; then
// Chromium (Playwright) clicks Provision and "Send 10 messages", and the cloud panel and the
// emulator's service API both show the 10 messages; then it provisions again with the group key
// over MQTT-WS, showing the derived key (screenshot: test-output/demo.png); then it fills every
// device panel and provisions with a wrong key: the old result and the panels go at once, and the
// error shows its code, errorCode and trackingId once each (test-output/demo-failed.png). Then a page on
// another origin tries the emulator, the demo's config and Azurite, and gets nothing. Ctrl-C stops the main
// job, and Azurite with it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deriveDeviceKey } from 'azure-iot-wasm';
import { launchChromium } from '../support/browser.mjs';
import { serveStatic } from '../../scripts/lib/static-server.mjs';
import { serviceFetch } from '../../scripts/lib/emulator.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const outDir = `${root}test-output`;

function startMainJob() {
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: root, env: { ...process.env, PORT: '0', EMULATOR_HTTP_PORT: '0', AZURITE_BLOB_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`main job not ready:\n${out}`)), 180_000);
    child.stdout.on('data', (d) => {
      out += d;
      const demo = out.match(/Demo: (http:\/\/localhost:\d+\/)/);
      const service = out.match(/service API (http:\/\/[^\s)]+)/);
      if (demo && service) { clearTimeout(timer); resolve({ demoUrl: demo[1], serviceUrl: service[1] }); }
    });
    child.stderr.on('data', (d) => { out += d; });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`main job exited ${code}:\n${out}`)); });
  });
  return { child, ready, output: () => out };
}

async function countTelemetry(service, deviceId) {
  const res = await service(`/telemetry?deviceId=${deviceId}&limit=1000`);
  return (await res.json()).filter((m) => (m.body ?? '').startsWith('test wind speed ')).length;
}

let job;
let browser;
let demoUrl;
let serviceUrl;
let service;
let storage;

before(async () => {
  job = startMainJob();
  ({ demoUrl, serviceUrl } = await job.ready);
  // The key reaches the demo through its same-origin config, as it reaches this test.
  const config = await (await fetch(`${demoUrl}demo-config.json`)).json();
  service = serviceFetch(serviceUrl, config.serviceKey);
  storage = config.storage;
  browser = await launchChromium();
}, { timeout: 200_000 });

after(async () => {
  await browser?.close();
  if (job?.child.exitCode === null) job.child.kill('SIGKILL');
});

test('npm start runs the quickstart, and the demo provisions and sends 10 messages that reach the cloud panel', { timeout: 300_000 }, async () => {
  // The main job itself ran the quickstart in Node.
  for (let i = 1; i <= 10; i++) assert.match(job.output(), new RegExp(`^done sending message #${i}$`, 'm'));
  assert.match(job.output(), /^python-device-008$/m);
  // It says where uploads are stored, and the emulator sends them there.
  assert.ok(storage, 'the demo config names the storage');
  assert.match(job.output(), new RegExp(`^Storage: Azurite's Blob service at ${storage.blobEndpoint}, container ${storage.container} `, 'm'));
  assert.equal((await (await service('/info')).json()).fileUpload?.blobEndpoint, storage.blobEndpoint);
  const earlier = await countTelemetry(service, 'python-device-008');

  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(demoUrl);
  await page.waitForFunction(() => document.querySelector('input[name=idScope]').value !== '');
  await page.waitForSelector('#cloud-status[data-state=ok]');

  await page.click('#provision-btn');
  await page.waitForSelector('#provision-status[data-state=ok]', { timeout: 60_000 });
  assert.equal(await page.textContent('#r-deviceId'), 'python-device-008');
  assert.equal(await page.textContent('#r-substatus'), 'initialAssignment');
  await page.waitForSelector('#hub-status[data-state=ok]', { timeout: 30_000 });

  await page.click('#send-btn');
  await page.waitForFunction(() => [...document.querySelectorAll('#send-log li')].filter((li) => li.textContent.startsWith('done sending message #')).length === 10, null, { timeout: 60_000 });
  const log = await page.$$eval('#send-log li', (lis) => lis.map((li) => li.textContent));
  for (let i = 1; i <= 10; i++) {
    assert.ok(log.includes(`sending message #${i}`) && log.includes(`done sending message #${i}`), `message #${i} logged`);
  }
  // The cloud-side panel shows them arriving at the hub.
  await page.waitForFunction(() => [...document.querySelectorAll('#cloud-events tr')].filter((tr) => tr.children[1]?.textContent === 'telemetry').length >= 10, null, { timeout: 30_000 });
  // And the emulator's service API holds them.
  assert.equal(await countTelemetry(service, 'python-device-008'), earlier + 10);

  // The group-key path over MQTT-WS: the page shows the derived key and provisions with it.
  await page.check('input[name=keyKind][value=group]');
  await page.check('input[name=transport][value=mqtt-ws]');
  const groupKey = await page.inputValue('input[name=key]');
  const registrationId = await page.inputValue('input[name=registrationId]');
  assert.equal(await page.textContent('#derived-key'), deriveDeviceKey(groupKey, registrationId));
  await page.click('#provision-btn');
  await page.waitForFunction((id) => document.querySelector('#r-deviceId').textContent === id, registrationId, { timeout: 60_000 });
  await page.waitForSelector('#provision-status[data-state=ok]');
  await page.waitForSelector('#hub-status[data-state=ok]', { timeout: 30_000 });
  assert.deepEqual(errors, []);

  mkdirSync(outDir, { recursive: true });
  await page.screenshot({ path: `${outDir}/demo.png`, fullPage: true });

  // A failed provision after a successful one. First every panel of the device gets something:
  // telemetry, a direct method, a C2D message and a desired-property update.
  await page.click('#send-btn');
  await page.waitForFunction(() => [...document.querySelectorAll('#send-log li')].filter((li) => li.textContent.startsWith('done sending message #')).length === 10, null, { timeout: 60_000 });
  const post = (path, body, method = 'POST') => service(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal((await post(`/devices/${registrationId}/methods`, { methodName: 'ping', payload: { n: 1 }, responseTimeoutInSeconds: 10 })).status, 200);
  assert.equal((await post(`/devices/${registrationId}/messages`, { body: 'hello device' })).status, 200);
  assert.equal((await post(`/twins/${registrationId}/desired`, { fanSpeed: 3 }, 'PATCH')).status, 200);
  const panels = ['send-log', 'methods-log', 'c2d-log', 'desired-log'];
  await page.waitForFunction((ids) => ids.every((id) => document.getElementById(id).children.length > 0), panels, { timeout: 30_000 });

  // Then the same registration id with a wrong group key, over REST (where DPS answers with its
  // errorCode and trackingId). The click clears everything before the handler first waits.
  await page.check('input[name=transport][value=https]');
  await page.fill('input[name=key]', Buffer.alloc(32, 7).toString('base64'));
  const atClick = await page.evaluate((ids) => {
    document.getElementById('provision-btn').click();
    return {
      result: getComputedStyle(document.getElementById('result')).display,
      deviceId: document.getElementById('r-deviceId').textContent,
      panels: ids.map((id) => document.getElementById(id).children.length),
      twin: document.getElementById('twin-view').textContent,
    };
  }, panels);
  assert.deepEqual(atClick, { result: 'none', deviceId: '', panels: [0, 0, 0, 0], twin: '—' });
  await page.waitForSelector('#provision-status[data-state=bad]', { timeout: 60_000 });
  assert.equal(await page.isVisible('#result'), false, 'the old registration result is gone');
  assert.equal(await page.textContent('#r-deviceId'), '');
  assert.deepEqual(await page.$$eval(panels.map((id) => `#${id} li`).join(','), (lis) => lis.length), 0);
  assert.equal(await page.textContent('#twin-view'), '—');
  assert.equal(await page.getAttribute('#hub-status', 'data-state'), 'idle');
  const shown = await page.textContent('#provision-error');
  const once = (text) => shown.split(text).length - 1;
  const trackingId = shown.match(/trackingId ([0-9a-f-]{8,})/)?.[1];
  assert.ok(trackingId, `a trackingId is shown: ${shown}`);
  assert.match(shown, /^DPS_UNAUTHORIZED: /);
  for (const part of ['DPS_UNAUTHORIZED', 'status 401', 'errorCode 401002', trackingId]) assert.equal(once(part), 1, `${part} once in: ${shown}`);
  assert.deepEqual(errors, []);
  await page.screenshot({ path: `${outDir}/demo-failed.png`, fullPage: true });
  await page.close();
});

test('a page on another origin can neither read nor change anything in the emulator, nor read the demo config or the storage', { timeout: 60_000 }, async () => {
  const other = await serveStatic(join(root, 'www'), { virtual: new Map([['/blank.html', '<!doctype html><title>other</title>']]) });
  const page = await browser.newPage();
  try {
    await page.goto(`${other.url}/blank.html`);
    const emulatorUrl = serviceUrl.replace(/\/service$/, '');
    const tried = await page.evaluate(async ({ serviceUrl, demoUrl, wsUrl, blobsUrl }) => {
      const outcome = (p) => p.then((r) => `answered ${r.status}`, () => 'blocked');
      const once = (open) => new Promise((resolve) => open(resolve));
      return {
        read: await outcome(fetch(`${serviceUrl}/enrollments`)),
        write: await outcome(fetch(`${serviceUrl}/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"kind":"dps","status":503,"count":9}' })),
        config: await outcome(fetch(`${demoUrl}demo-config.json`)),
        // Azurite's CORS rule names the demo's origins only.
        storage: await outcome(fetch(blobsUrl)),
        events: await once((done) => { const e = new EventSource(`${serviceUrl}/events`); e.onopen = () => done('open'); e.onerror = () => { e.close(); done('blocked'); }; }),
        socket: await once((done) => { const w = new WebSocket(wsUrl, 'mqtt'); w.onopen = () => done('open'); w.onerror = () => done('blocked'); }),
        // A form-like POST needs no preflight: it is sent, so only the service key stops it.
        blindWrite: await fetch(`${serviceUrl}/faults`, { method: 'POST', mode: 'no-cors', body: '{"kind":"dps","status":503,"count":9}' }).then((r) => r.type, () => 'blocked'),
      };
    }, { serviceUrl, demoUrl, wsUrl: `${emulatorUrl.replace(/^http/, 'ws')}/$iothub/websocket`, blobsUrl: `${storage.blobEndpoint}/${storage.container}?restype=container&comp=list` });
    assert.deepEqual(tried, { read: 'blocked', write: 'blocked', config: 'blocked', storage: 'blocked', events: 'blocked', socket: 'blocked', blindWrite: 'opaque' });
    const faults = await (await service('/faults')).json();
    assert.equal(faults.dps.remaining, 0, 'the blind write changed nothing');
    const log = await (await service('/log')).json();
    assert.ok(log.some((e) => e.code === 403001 && e.reason.includes(other.url)), 'the refused WebSocket is logged');
  } finally {
    await page.close();
    await other.close();
  }
});

test('Ctrl-C stops the main job cleanly, and Azurite with it', async () => {
  assert.ok((await fetch(`${storage.blobEndpoint}?comp=list`)).status, 'Azurite answers before');
  const exited = new Promise((resolve) => job.child.once('exit', (code) => resolve(code)));
  job.child.kill('SIGINT');
  assert.equal(await exited, 0);
  await assert.rejects(fetch(`${storage.blobEndpoint}?comp=list`), 'nothing listens where Azurite was');
});
