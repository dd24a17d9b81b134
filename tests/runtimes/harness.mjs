// Shared by the runtime tests: an emulator, the packed package installed into a blank project
// with the quickstart module (examples/quickstart.mjs) beside it, and the cloud-side check that the messages arrived.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startEmulator, quickstartEnrollment } from '../../scripts/lib/emulator.mjs';
import { installPacked } from '../support/packed.mjs';
import { serveStatic } from '../../scripts/lib/static-server.mjs';
import { launchChromium } from '../support/browser.mjs';

export const quickstartSource = readFileSync(new URL('../../examples/quickstart.mjs', import.meta.url), 'utf8');

/** `servePage: 'dist'` also serves that folder of the project (`ctx.page`) and lets its origin
 * through the emulator's CORS, for a browser page built there. */
export async function setUp({ emulatorArgs = [], servePage } = {}) {
  const dir = installPacked({ files: { 'quickstart.mjs': quickstartSource } });
  const page = servePage ? await serveStatic(join(dir, servePage)) : undefined;
  const emu = await startEmulator({ args: page ? [...emulatorArgs, '--cors', page.url] : emulatorArgs });
  const individual = await quickstartEnrollment(emu);
  const params = {
    endpoint: emu.httpUrl,
    idScope: emu.idScope,
    registrationId: individual.registrationId,
    symmetricKey: individual.primaryKey,
    hubUrl: `ws://${emu.host}:${emu.httpPort}/$iothub/websocket`,
  };
  return { emu, dir, params, page };
}

/** The entry of a bundled browser app (Vite, webpack): runs the quickstart with the parameters
 * in the page's hash and writes `RESULT {json}` or `ERROR code message` into `#out`. */
export const appMainSource = `
import * as lib from 'azure-iot-wasm';
import { quickstart } from './quickstart.mjs';
const out = document.getElementById('out');
const params = JSON.parse(decodeURIComponent(location.hash.slice(1)));
quickstart(lib, params).then(
  (r) => { out.textContent = 'RESULT ' + JSON.stringify(r); },
  (e) => { out.textContent = 'ERROR ' + e.code + ' ' + e.message; });
`;

/** Opens the built app (served at `ctx.page`) in Chromium and returns what it wrote in `#out`. */
export async function runBuiltApp(ctx) {
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(`${ctx.page.url}/#${encodeURIComponent(JSON.stringify(ctx.params))}`);
    await page.waitForFunction(() => document.getElementById('out').textContent !== 'running', null, { timeout: 60_000 });
    return await page.textContent('#out');
  } finally {
    await browser.close();
  }
}

/** Telemetry the emulator stored for `deviceId` whose body starts with `prefix`. */
export async function storedMessages(emu, deviceId, prefix = 'test wind speed ') {
  const res = await emu.service(`/telemetry?deviceId=${encodeURIComponent(deviceId)}&limit=1000`);
  const all = await res.json();
  return all.filter((m) => (m.body ?? '').startsWith(prefix));
}
