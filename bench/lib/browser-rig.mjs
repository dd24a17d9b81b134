// What the browser benchmarks share: the repository served on 127.0.0.1 (so pages load /pkg/,
// /node_modules/ and /bench/browser/ as an app would), Debian's mosquitto, the emulator letting that
// origin in, hub devices for the clients, and one headless Chromium in which every page is opened.
import { fileURLToPath } from 'node:url';
import { serveStatic } from '../../scripts/lib/static-server.mjs';
import { startEmulator } from '../../scripts/lib/emulator.mjs';
import { startMosquitto } from '../../tests/support/mosquitto.mjs';
import { launchChromium } from '../../tests/support/browser.mjs';
import { registerDevices } from './credentials.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const DEVICE_KEY = Buffer.alloc(32, 7).toString('base64');

export async function startRig({ devices = [], emulatorArgs = [] } = {}) {
  const stops = [];
  const stopAll = async () => { for (const s of stops.reverse()) await s().catch(() => {}); };
  try {
    const server = await serveStatic(root);
    stops.push(() => server.close());
    const broker = await startMosquitto();
    stops.push(() => broker.stop());
    // Not --quiet: its log (kept in memory, a line per connection) says why it closed one.
    const emu = await startEmulator({ args: ['--cors', server.url, ...emulatorArgs] });
    stops.push(() => emu.stop());
    await registerDevices(emu, devices, DEVICE_KEY);
    const browser = await launchChromium();
    stops.push(() => browser.close());
    return {
      server, broker, emu, browser,
      hubWsUrl: `ws://${emu.host}:${emu.httpPort}/$iothub/websocket`,
      /** The emulator's last error line about `deviceId`, if it logged one. */
      emulatorError: (deviceId) => emu.logs().split('\n').filter((l) => l.includes(deviceId) && /error|closing/i.test(l)).at(-1)?.replace(/^\[iot-emulator\] /, ''),
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}

/** Opens bench/browser/{page}.html#{params} in `context` and resolves with its `benchResult`. */
export async function runBenchPage(context, baseUrl, page, params, timeoutMs = 120_000) {
  const tab = await context.newPage();
  const logs = [];
  tab.on('console', (m) => logs.push(m.text()));
  tab.on('pageerror', (e) => logs.push(e.message));
  try {
    await tab.goto(`${baseUrl}/bench/browser/${page}.html#${encodeURIComponent(JSON.stringify(params))}`);
    await tab.waitForFunction(() => window.benchResult || window.benchError, null, { polling: 200, timeout: timeoutMs });
    const { result, error } = await tab.evaluate(() => ({ result: window.benchResult, error: window.benchError }));
    if (error) throw new Error(`${page}: ${error}\n${logs.join('\n')}`);
    return result;
  } finally {
    await tab.close();
  }
}
