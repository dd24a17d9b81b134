#!/usr/bin/env node
// Benchmark: QoS 1 publish throughput in headless Chromium, every client in its own page of one
// browser, interleaved round by round, median over the rounds. Each page connects, then publishes
// N messages of S bytes (20,000 of 256 B, 5,000 of 16 KB) with at most 500 unacknowledged and stops its clock at the last PUBACK.
//   mosquitto over WebSocket: mqtt.js, Paho, our MqttClient (maxInflight 32, the default, and
//     500), and the physical reference: a bare WebSocket sending pre-built MQTT bytes.
//   the emulator's IoT Hub: our IotHubClient.sendEvent (maxInflight 32 and 500), mqtt.js and the
//     bare WebSocket publishing to devices/{id}/messages/events/ with the same kind of SAS
//     user name and password.
// A profiled pass after the rounds times the wasm calls (publish, the socket's message listener)
// with performance.now() spans, to say where our time goes.
//   node bench/browser-throughput.mjs [--target mosquitto|hub] [--size 256|16384] [--n N] [--rounds R] [--quick]
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startRig, runBenchPage, DEVICE_KEY } from './lib/browser-rig.mjs';
import { hubCredentials } from './lib/credentials.mjs';
import { interleave, rowsFrom, emitGroup, parseFlags, log, roundLabel } from './lib/groups.mjs';

const flags = parseFlags();
const quick = flags.quick;
const ROUNDS = Number(flags.rounds ?? (quick ? 1 : 5));
// 20,000 messages of 256 B; of 16 KB, 5,000 (80 MB a run), which keeps `npm run bench` within
// its 20 minutes on two cores.
const countFor = (size) => Number(flags.n ?? (quick ? 50 : size > 1024 ? 5000 : 20_000));
const OUTSTANDING = 500;
const targets = flags.target ? [flags.target] : ['mosquitto', 'hub'];
const sizes = flags.size ? [Number(flags.size)] : [256, 16_384];
const hasPaho = existsSync(fileURLToPath(new URL('../node_modules/paho-mqtt/paho-mqtt.js', import.meta.url)));

const NAMES = {
  mqttjs: 'mqtt.js 5.16.0', paho: 'Paho JS 1.1.0', ours: 'azure-iot-wasm MqttClient (maxInflight 32, default)',
  ours500: 'azure-iot-wasm MqttClient (maxInflight 500)', nolib: 'no library (bare WebSocket, pre-built bytes)',
  hubOurs: 'azure-iot-wasm IotHubClient.sendEvent (maxInflight 32, default)',
  hubOurs500: 'azure-iot-wasm IotHubClient.sendEvent (maxInflight 500)',
  hubMqttjs: 'mqtt.js 5.16.0 (PUBLISH to devices/{id}/messages/events/)',
  hubNolib: 'no library (bare WebSocket, pre-built bytes)',
};
const HUB_DEVICES = { hubOurs: 'bench-ours', hubOurs500: 'bench-ours-500', hubMqttjs: 'bench-mqttjs', hubNolib: 'bench-nolib' };

/** Every client of a target: key → [page, params]. */
function clients(rig, target) {
  if (target === 'mosquitto') {
    const url = rig.broker.wsUrl;
    const c = (key, page, extra = {}) => [key, [page, { url, clientId: `bench-${key}`, topic: `bench/${key}`, ...extra }]];
    return Object.fromEntries([
      c('mqttjs', 'mqttjs'), ...(hasPaho ? [c('paho', 'paho')] : []), c('ours', 'ours-mqtt'),
      c('ours500', 'ours-mqtt', { maxInflight: 500 }), c('nolib', 'nolib'),
    ]);
  }
  const hub = rig.emu.hubHostname;
  const c = (key, page, extra = {}) => {
    const cred = hubCredentials(hub, HUB_DEVICES[key], DEVICE_KEY);
    return [key, [page, { url: rig.hubWsUrl, hubHostname: hub, deviceId: HUB_DEVICES[key], ...cred, ...extra }]];
  };
  return Object.fromEntries([
    c('hubOurs', 'ours-hub'), c('hubOurs500', 'ours-hub', { maxInflight: 500 }), c('hubMqttjs', 'mqttjs'), c('hubNolib', 'nolib'),
  ]);
}

/** The profiled pass's spans as per-message costs (µs). `ownUs`: the client's own JS + wasm work
 * per message, WebSocket.send excluded; `busyUs`: the same with the sends. */
function profileOf(s, n, ms) {
  const busy = s.publishCallMs + s.messageMs + s.looseSendMs;
  return {
    n, rate: (n / ms) * 1000,
    publishUs: (s.publishCallMs * 1000) / n,
    listenerUs: (s.messageMs * 1000) / n,
    sendUs: s.sends ? (s.sendMs * 1000) / s.sends : null,
    busyUs: (busy * 1000) / n,
    ownUs: ((busy - s.sendMs) * 1000) / n,
    events: s.messages,
  };
}

const rig = await startRig({ devices: Object.values(HUB_DEVICES) });
const context = await rig.browser.newContext();
const baseUrl = rig.server.url;
try {
  for (const target of targets) {
    for (const size of sizes) {
      const all = clients(rig, target);
      const keys = Object.keys(all);
      const N = countFor(size);
      const timeoutMs = 60_000 + N * 20;
      log(`browser throughput, ${target}, ${N} × ${size} B, ${ROUNDS} round(s): ${keys.join(', ')}`);
      const failures = {};
      const runs = await interleave(ROUNDS, keys, async (key, r) => {
        const [page, params] = all[key];
        const n = r < 0 ? Math.min(N, 500) : N;
        let res;
        try {
          res = await runBenchPage(context, baseUrl, page, { ...params, n, size, outstanding: OUTSTANDING }, timeoutMs);
        } catch (e) {
          // A peer that cannot finish is a finding of the run, recorded with its reason.
          await new Promise((res) => setTimeout(res, 500)); // the emulator's log line, on its way
          const server = params.deviceId && rig.emulatorError(params.deviceId);
          const why = `${e.message.split('\n')[0].replace(/^\S+: +/, '')}${server ? `; the emulator: ${server}` : ''}`;
          log(`  ${roundLabel(r)} ${key}: failed: ${why}`);
          (failures[key] ??= new Set()).add(why);
          return { msgps: NaN };
        }
        const rate = (n / res.ms) * 1000;
        log(`  ${roundLabel(r)} ${key}: ${rate.toFixed(0)} msg/s`);
        return { msgps: rate };
      }, { warmup: quick ? 0 : 1 });
      const profiles = {};
      for (const key of keys.filter((k) => /ours|nolib/i.test(k))) {
        const [page, params] = all[key];
        const n = Math.min(N, 1500);
        const res = await runBenchPage(context, baseUrl, page, { ...params, n, size, outstanding: OUTSTANDING, profile: true }, timeoutMs).catch(() => null);
        if (res) profiles[key] = profileOf(res.spans, n, res.ms);
      }
      const bases = target === 'mosquitto' ? ['mqttjs', ...(hasPaho ? ['paho'] : []), 'nolib'] : ['hubMqttjs', 'hubNolib'];
      emitGroup({
        id: `browser.${target}.${size}`,
        title: `Browser throughput: Chromium → ${target === 'mosquitto' ? 'mosquitto over WebSocket' : "the emulator's IoT Hub over WebSocket"}, QoS 1, ${N.toLocaleString('en')} × ${size >= 1024 ? `${size / 1024} KB` : `${size} B`}, ≤ ${OUTSTANDING} outstanding`,
        command: `node bench/browser-throughput.mjs --target ${target} --size ${size} --n ${N} --rounds ${ROUNDS}`,
        metrics: [{ key: 'msgps', label: 'msg/s', better: 'higher', digits: 0 }],
        bases,
        reference: bases[bases.length - 1],
        rows: rowsFrom(runs, NAMES).map((row) => ({
          ...row,
          ...(profiles[row.key] ? { profile: profiles[row.key] } : {}),
          ...(failures[row.key] ? { failures: [...failures[row.key]] } : {}),
        })),
        rounds: ROUNDS,
      });
    }
  }
} finally {
  await context.close().catch(() => {});
  await rig.stop();
}
