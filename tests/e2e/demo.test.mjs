// The main job and the demo page end to end: `scripts/start.mjs` (what `npm start` runs after
// set-up and build) starts the emulator, runs the quickstart in Node and serves the demo; then
// Chromium (Playwright) clicks Provision and "Send 10 messages", and the cloud panel and the
// emulator's service API both show the 10 messages; then it provisions again with the group key
// over MQTT-WS, showing the derived key. A screenshot is saved in test-output/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { deriveDeviceKey } from 'azure-iot-wasm';
import { launchChromium } from '../support/browser.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const outDir = `${root}test-output`;

function startMainJob() {
  const child = spawn(process.execPath, ['scripts/start.mjs'], {
    cwd: root, env: { ...process.env, PORT: '0', EMULATOR_HTTP_PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'],
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

async function countTelemetry(serviceUrl, deviceId) {
  const res = await fetch(`${serviceUrl}/telemetry?deviceId=${deviceId}&limit=1000`);
  return (await res.json()).filter((m) => (m.body ?? '').startsWith('test wind speed ')).length;
}

test('npm start runs the quickstart, and the demo provisions and sends 10 messages that reach the cloud panel', { timeout: 300_000 }, async () => {
  const job = startMainJob();
  const { demoUrl, serviceUrl } = await job.ready;
  const browser = await launchChromium();
  try {
    // The main job itself ran the quickstart in Node.
    for (let i = 1; i <= 10; i++) assert.match(job.output(), new RegExp(`^done sending message #${i}$`, 'm'));
    assert.match(job.output(), /^python-device-008$/m);
    const before = await countTelemetry(serviceUrl, 'python-device-008');

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
    assert.equal(await countTelemetry(serviceUrl, 'python-device-008'), before + 10);

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
  } finally {
    await browser.close();
    const exited = new Promise((resolve) => job.child.once('exit', (code) => resolve(code)));
    job.child.kill('SIGINT');
    assert.equal(await exited, 0, 'Ctrl-C stops the main job cleanly');
  }
});
