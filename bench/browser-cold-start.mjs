#!/usr/bin/env node
// Benchmark: cold start in headless Chromium, each run in a fresh browser context (nothing cached;
// the pages are served no-store). Interleaved round by round, median over the rounds.
//   1. navigation → the first telemetry PUBACK from the emulator's IoT Hub: ours (wasm fetch,
//      compile, SAS signed in wasm, connect: CONNECT, SUBSCRIBE and the twin read), mqtt.js (its
//      bundle, SAS signed with WebCrypto, CONNECT) and no library (pre-built CONNECT with a
//      ready token on a bare WebSocket).
//   2. the whole quickstart, ours only: navigation → provisioned → 10 acknowledged, with DPS over
//      REST and over MQTT-WS. The emulator answers Retry-After 1 s; provision() waits at least
//      its default minPollMs (2 s) before polling, as an app that sets nothing does.
//   node bench/browser-cold-start.mjs [--rounds R] [--quick]
import { startRig, runBenchPage, DEVICE_KEY } from './lib/browser-rig.mjs';
import { hubCredentials } from './lib/credentials.mjs';
import { interleave, rowsFrom, emitGroup, parseFlags, log, roundLabel } from './lib/groups.mjs';
import { quickstartEnrollment } from '../scripts/lib/emulator.mjs';

const flags = parseFlags();
const ROUNDS = Number(flags.rounds ?? (flags.quick ? 1 : 5));
const DEVICES = { ours: 'cold-ours', mqttjs: 'cold-mqttjs', nolib: 'cold-nolib' };

const rig = await startRig({ devices: Object.values(DEVICES) });
const base = rig.server.url;
const hub = rig.emu.hubHostname;
/** One run in a context of its own: no HTTP cache, no compiled-code cache carried over. */
async function fresh(page, params) {
  const context = await rig.browser.newContext();
  try {
    return await runBenchPage(context, base, page, params, 60_000);
  } finally {
    await context.close();
  }
}

try {
  const pages = {
    ours: ['ours-hub', { url: rig.hubWsUrl, hubHostname: hub, deviceId: DEVICES.ours, key: DEVICE_KEY, n: 0 }],
    mqttjs: ['mqttjs', { url: rig.hubWsUrl, hubHostname: hub, deviceId: DEVICES.mqttjs, key: DEVICE_KEY, n: 0, ...hubCredentials(hub, DEVICES.mqttjs, DEVICE_KEY), password: undefined }],
    nolib: ['nolib', { url: rig.hubWsUrl, n: 0, ...hubCredentials(hub, DEVICES.nolib, DEVICE_KEY) }],
  };
  log(`cold start, navigation → first PUBACK, ${ROUNDS} round(s)`);
  const runs = await interleave(ROUNDS, Object.keys(pages), async (key, r) => {
    const { marks } = await fresh(...pages[key]);
    log(`  ${roundLabel(r)} ${key}: first PUBACK at ${marks.firstPuback.toFixed(0)} ms (module ready ${marks.imported.toFixed(0)}, connected ${marks.connected.toFixed(0)})`);
    return { firstPuback: marks.firstPuback, imported: marks.imported, connected: marks.connected };
  }, { warmup: flags.quick ? 0 : 1 });
  emitGroup({
    id: 'cold.hub',
    title: "Cold start in Chromium: navigation → first telemetry PUBACK from the emulator's IoT Hub",
    command: `node bench/browser-cold-start.mjs --rounds ${ROUNDS}`,
    metrics: [
      { key: 'firstPuback', label: 'navigation → first PUBACK (ms)', better: 'lower', digits: 0 },
      { key: 'imported', label: 'library loaded (ms)', better: 'lower', digits: 0 },
      { key: 'connected', label: 'connected (ms)', better: 'lower', digits: 0 },
    ],
    bases: ['mqttjs', 'nolib'],
    reference: 'nolib',
    rows: rowsFrom(runs, {
      ours: 'azure-iot-wasm IotHubClient (wasm fetch + compile, SAS in wasm, connect incl. SUBSCRIBE + twin read)',
      mqttjs: 'mqtt.js 5.16.0 (bundle, SAS with WebCrypto, CONNECT)',
      nolib: 'no library (pre-built CONNECT, ready token)',
    }),
    rounds: ROUNDS,
  });

  const enrollment = await quickstartEnrollment(rig.emu);
  const qs = (transport) => ['quickstart', {
    endpoint: rig.emu.httpUrl, idScope: rig.emu.idScope, registrationId: enrollment.registrationId,
    symmetricKey: enrollment.primaryKey, provisioningTransport: transport, hubUrl: rig.hubWsUrl,
  }];
  const variants = { rest: qs('https'), mqttws: qs('mqtt-ws') };
  log(`cold start, the whole quickstart, ${ROUNDS} round(s)`);
  const qruns = await interleave(ROUNDS, Object.keys(variants), async (key, r) => {
    const { marks } = await fresh(...variants[key]);
    log(`  ${roundLabel(r)} ${key}: provisioned at ${marks.provisioned.toFixed(0)} ms, 10 acknowledged at ${marks.done.toFixed(0)} ms`);
    return { provisioned: marks.provisioned, done: marks.done, imported: marks.imported };
  }, { warmup: flags.quick ? 0 : 1 });
  emitGroup({
    id: 'cold.quickstart',
    title: 'Cold start in Chromium: the whole quickstart (navigation → provisioned → 10 acknowledged), ours only',
    command: `node bench/browser-cold-start.mjs --rounds ${ROUNDS}`,
    metrics: [
      { key: 'imported', label: 'library loaded (ms)', better: 'lower', digits: 0 },
      { key: 'provisioned', label: 'provisioned (ms)', better: 'lower', digits: 0 },
      { key: 'done', label: '10 acknowledged (ms)', better: 'lower', digits: 0 },
    ],
    bases: [],
    rows: rowsFrom(qruns, { rest: 'azure-iot-wasm, DPS over REST (fetch)', mqttws: 'azure-iot-wasm, DPS over MQTT-WS' }),
    notes: ['The provisioned time includes the wait before the first status poll: the emulator says Retry-After 1 s and provision() waits at least its default minPollMs, 2 s.'],
    rounds: ROUNDS,
  });
} finally {
  await rig.stop();
}
