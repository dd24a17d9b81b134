#!/usr/bin/env node
// `npm run soak -- --duration S [--runtime node|chromium] [--devices N] [--min-messages N]
//  [--rate R] [--seed N] [--token-ttl S] [--retention N]`: the library under random faults for S seconds against
// the emulator. A fleet is provisioned while DPS answers 429 and 503, connects with a hub token
// lifetime capped at 5–10 s (--max-token-ttl), and sends at least 10,000 messages while
// connections are dropped and PUBACKs withheld, released and delayed (scripts/lib/soak-faults.mjs).
// Then every message is looked up by messageId through the service API. Last line:
//   soak: N sent, 0 lost, 0 unsettled, D duplicates, F faults
// lost = acknowledged but not stored; unsettled = a sendEvent Promise that never settled. The
// exit code is non-zero on any loss or unsettled Promise, or when fewer messages were sent.
// --retention (the emulator's messages kept per device, default 10,000,000) set below what a
// device sends makes the hub forget acknowledged messages: the way to see a loss counted.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startEmulator } from './lib/emulator.mjs';
import { dpsWaves, injectFaults, random, watchLog } from './lib/soak-faults.mjs';

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '60' },
    runtime: { type: 'string', default: 'node' },
    devices: { type: 'string', default: '8' },
    'min-messages': { type: 'string', default: '10000' },
    rate: { type: 'string' },
    seed: { type: 'string' },
    'token-ttl': { type: 'string' },
    retention: { type: 'string', default: '10000000' },
  },
});
const number = (name, min) => {
  const v = Number(flags[name]);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer ≥ ${min}, not ${flags[name]}`);
  return v;
};
const durationS = number('duration', 1);
const devices = number('devices', 1);
const minMessages = number('min-messages', 0);
const seed = flags.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : number('seed', 0);
const rnd = random(seed);
const retention = number('retention', 1);
const tokenTtl = flags['token-ttl'] === undefined ? rnd.int(5, 10) : number('token-ttl', 1);
// Half as much again as needed, so that faults slowing the fleet still leave the duration enough.
const rate = flags.rate === undefined ? Math.max(devices, Math.ceil((minMessages * 1.5) / durationS)) : number('rate', 1);
if (!['node', 'chromium'].includes(flags.runtime)) throw new Error(`--runtime must be node or chromium, not ${flags.runtime}`);

const say = (line) => console.log(`soak: ${line}`);
// Everything is bounded: past this the run is abandoned and fails.
const hardLimitMs = durationS * 3000 + 180_000;

async function telemetryOf(emu, deviceId) {
  const all = [];
  for (let since = 0; ;) {
    const res = await emu.service(`/telemetry?deviceId=${encodeURIComponent(deviceId)}&since=${since}&limit=1000`);
    if (!res.ok) throw new Error(`GET /service/telemetry → ${res.status} ${await res.text()}`);
    const page = await res.json();
    all.push(...page);
    if (page.length < 1000) return all;
    since = page[page.length - 1].seq;
  }
}

/** Runs the fleet in the chosen runtime; `onPhase` hears `sending` (with the device ids) and `settling`. */
async function runIn(browser, options, onPhase) {
  if (!browser) {
    const [{ runFleet }, lib, { default: WebSocket }] = await Promise.all([import('./lib/soak-fleet.mjs'), import('azure-iot-wasm'), import('ws')]);
    return runFleet(lib, { ...options, WebSocket, onPhase });
  }
  await browser.page.exposeFunction('soakPhase', onPhase);
  return browser.evaluateModule(`
    import * as lib from '/pkg/index.js';
    import { runFleet } from '/scripts/lib/soak-fleet.mjs';
    export default (o) => runFleet(lib, { ...o, onPhase: (name, info) => window.soakPhase(name, info) });`, options);
}

async function main() {
  if (!existsSync(new URL('../pkg/node.js', import.meta.url))) throw new Error('pkg/ is not built: run `npm run build` first');
  let browser;
  if (flags.runtime === 'chromium') {
    const { openBrowser } = await import('../tests/support/browser.mjs');
    browser = await openBrowser();
  }
  const emu = await startEmulator({
    args: ['--max-token-ttl', String(tokenTtl), '--retention', String(retention), '--quiet', ...(browser ? ['--cors', browser.baseUrl] : [])],
  });
  const cleanup = async () => {
    await browser?.close();
    await emu.stop();
  };
  const abandon = async (why) => {
    say(`${why}: abandoned`);
    await cleanup();
    process.exit(1);
  };
  const limit = setTimeout(() => abandon(`not finished within ${hardLimitMs / 1000} s`), hardLimitMs);
  // An interrupted run still stops its emulator and browser.
  for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => abandon(sig));
  try {
    return await soak(emu, browser);
  } finally {
    clearTimeout(limit);
    await cleanup();
  }
}

async function soak(emu, browser) {
  const runId = `soak-${seed.toString(36)}`;
  say(`${flags.runtime}, ${durationS} s, ${devices} devices, at least ${minMessages} messages at ${rate}/s, token lifetime cap ${tokenTtl} s, seed ${seed}`);
  const groupKey = Buffer.from(Array.from({ length: 32 }, () => rnd.int(0, 255))).toString('base64');
  const put = await emu.service('/enrollmentGroups/soak', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ primaryKey: groupKey }) });
  if (!put.ok) throw new Error(`PUT /service/enrollmentGroups/soak → ${put.status} ${await put.text()}`);
  const log = watchLog(emu);
  // Throttled, then failing: both while the whole fleet registers and polls.
  const waves = dpsWaves(emu, devices, 30_000);
  let injector;
  let lifted = Promise.resolve({ drop: 0, withhold: 0, delay: 0 });
  const onPhase = (name, info) => {
    if (name === 'sending' && info.devices.length) injector = injectFaults(emu, info.devices, rnd);
    if (name === 'settling' && injector) lifted = injector.stop();
  };
  const started = Date.now();
  const report = await runIn(browser, {
    runId, devices, idScope: emu.idScope, groupKey, dpsEndpoint: emu.httpUrl,
    hubUrl: `ws://${emu.host}:${emu.httpPort}/$iothub/websocket`,
    durationMs: durationS * 1000, minMessages, rate, maxMs: durationS * 2000 + 60_000, settleMs: 30_000,
  }, onPhase);
  await waves;
  const injected = await lifted;
  const codes = await log.stop();
  const elapsed = ((Date.now() - started) / 1000).toFixed(1);

  // The cloud side: every stored message of the fleet, by messageId.
  const stored = new Map();
  let storedTotal = 0;
  for (const deviceId of Object.keys(report.sentPerDevice)) {
    for (const m of await telemetryOf(emu, deviceId)) {
      const id = m.systemProperties['message-id'];
      stored.set(id, (stored.get(id) ?? 0) + 1);
      storedTotal += 1;
    }
  }
  const notAcked = new Set([...report.rejectedIds, ...report.unsettled]);
  let lost = 0;
  for (const [deviceId, n] of Object.entries(report.sentPerDevice)) {
    for (let i = 0; i < n; i++) {
      const id = `${deviceId}:${i}`;
      if (!notAcked.has(id) && !stored.has(id)) lost += 1;
    }
  }
  const duplicates = storedTotal - stored.size;
  const [dps429, dps503] = [codes[429001] ?? 0, codes[503001] ?? 0];
  const faults = injected.drop + injected.withhold + injected.delay + (codes[401003] ?? 0) + dps429 + dps503;
  const rejected = Object.entries(report.rejected).map(([c, n]) => `${n} ${c}`).join(', ') || 'none';

  say(`${elapsed} s; ${report.provisioned}/${devices} provisioned${report.provisionFailures.length ? ` (${report.provisionFailures.join('; ')})` : ''}${report.connectFailures.length ? `; connect failed: ${report.connectFailures.join('; ')}` : ''}`);
  say(`${report.acked} acknowledged, rejected: ${rejected}; ${stored.size} distinct messages stored (${storedTotal} with duplicates)`);
  say(`faults: ${injected.drop} drops, ${injected.withhold} PUBACK withholds, ${injected.delay} PUBACK delays, ${codes[401003] ?? 0} token-lifetime closes, ${dps429} DPS 429, ${dps503} DPS 503; client events: ${JSON.stringify(report.events)}`);
  if (report.unsettled.length) say(`unsettled: ${report.unsettled.slice(0, 10).join(', ')}${report.unsettled.length > 10 ? ', …' : ''}`);
  say(`${report.sent} sent, ${lost} lost, ${report.unsettled.length} unsettled, ${duplicates} duplicates, ${faults} faults`);
  const ok = lost === 0 && report.unsettled.length === 0 && report.sent >= minMessages && report.provisioned === devices;
  return ok ? 0 : 1;
}

main().then((code) => process.exit(code), (e) => {
  console.error(`soak: ${e.stack ?? e}`);
  process.exit(1);
});
