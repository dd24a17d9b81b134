// The demo page's device panels beyond provision and send (demo.test.mjs covers those), driven
// the way a visitor does, against `npm start`'s main job: after provisioning, the twin panel shows
// the device's twin, "Update reported properties" sends the textarea's patch (the cloud holds it)
// and "Get twin" reads both sections back; a desired patch, a direct method and a C2D message made
// from the cloud side appear in their panels with their content, the method is answered with the
// page's echo and the C2D message is completed; the cloud-side panel shows each exchange.
// Screenshot: test-output/demo-panels.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../support/browser.mjs';
import { serviceFetch } from '../../scripts/lib/emulator.mjs';
import { startMainJob } from '../support/main_job.mjs';

const outDir = fileURLToPath(new URL('../../test-output', import.meta.url));
let job;
let browser;
let demoUrl;
let service;

before(async () => {
  job = startMainJob();
  let config;
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
