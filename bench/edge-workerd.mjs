#!/usr/bin/env node
// Benchmark: the browser's telemetry loop inside workerd (Cloudflare's runtime, through miniflare)
// against the emulator's IoT Hub over the fetch-upgrade WebSocket route: our IotHubClient.sendEvent
// (maxInflight 32, the default, and 500) and the no-library reference (the same socket, pre-built
// bytes), N messages of S bytes, at most 500 unacknowledged, interleaved, median over the rounds.
// The worker is bench/edge-worker.mjs, given the package's workerd entry as it is built in pkg/.
//   node bench/edge-workerd.mjs [--n N] [--size S] [--rounds R] [--quick]
import { mkdtempSync, mkdirSync, copyFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { startEmulator } from '../scripts/lib/emulator.mjs';
import { hubCredentials, registerDevices } from './lib/credentials.mjs';
import { interleave, rowsFrom, emitGroup, parseFlags, log, roundLabel } from './lib/groups.mjs';

const flags = parseFlags();
const ROUNDS = Number(flags.rounds ?? (flags.quick ? 1 : 5));
const N = Number(flags.n ?? (flags.quick ? 50 : 20_000));
const SIZE = Number(flags.size ?? 256);
const KEY = Buffer.alloc(32, 3).toString('base64');
const DEVICES = { ours: 'edge-ours', ours500: 'edge-ours-500', nolib: 'edge-nolib' };
const here = (p) => fileURLToPath(new URL(p, import.meta.url));

// The worker's module tree: the worker, the MQTT byte helpers and the publish loop, and pkg/ as built.
const dir = mkdtempSync(join(tmpdir(), 'bench-workerd-'));
mkdirSync(join(dir, 'pkg'));
copyFileSync(here('./edge-worker.mjs'), join(dir, 'worker.mjs'));
for (const f of ['mqtt-bytes.mjs', 'windowed.mjs']) copyFileSync(here(`./lib/${f}`), join(dir, f));
for (const f of readdirSync(here('../pkg/'))) if (/\.(js|wasm)$/.test(f)) copyFileSync(join(here('../pkg/'), f), join(dir, 'pkg', f));

const emu = await startEmulator({ args: ['--quiet'] });
let mf;
try {
  await registerDevices(emu, Object.values(DEVICES), KEY);
  mf = new Miniflare({
    modules: true,
    scriptPath: join(dir, 'worker.mjs'),
    modulesRoot: dir,
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: '2025-01-01',
  });
  const url = `ws://${emu.host}:${emu.httpPort}/$iothub/websocket`;
  const params = (key) => ({
    client: key === 'nolib' ? 'nolib' : 'ours', url, hubHostname: emu.hubHostname, deviceId: DEVICES[key],
    ...hubCredentials(emu.hubHostname, DEVICES[key], KEY), size: SIZE, outstanding: 500,
    ...(key === 'ours500' ? { maxInflight: 500 } : {}),
  });
  log(`workerd telemetry, ${N} × ${SIZE} B, ${ROUNDS} round(s)`);
  const runs = await interleave(ROUNDS, Object.keys(DEVICES), async (key, r) => {
    const n = r < 0 ? Math.min(N, 2000) : N;
    const res = await mf.dispatchFetch('http://worker.local/', { method: 'POST', body: JSON.stringify({ ...params(key), n }) });
    const body = await res.json();
    if (!res.ok) throw new Error(`workerd ${key}: ${body.error}`);
    const rate = (n / body.ms) * 1000;
    log(`  ${roundLabel(r)} ${key}: ${rate.toFixed(0)} msg/s`);
    return { msgps: rate };
  }, { warmup: flags.quick ? 0 : 1 });
  emitGroup({
    id: 'edge.workerd',
    title: `Edge: workerd (miniflare) → the emulator's IoT Hub, fetch-upgrade WebSocket, QoS 1, ${N.toLocaleString('en')} × ${SIZE} B, ≤ 500 outstanding`,
    command: `node bench/edge-workerd.mjs --n ${N} --size ${SIZE} --rounds ${ROUNDS}`,
    metrics: [{ key: 'msgps', label: 'msg/s', better: 'higher', digits: 0 }],
    bases: ['nolib'],
    reference: 'nolib',
    rows: rowsFrom(runs, {
      ours: 'azure-iot-wasm IotHubClient.sendEvent (maxInflight 32, default)',
      ours500: 'azure-iot-wasm IotHubClient.sendEvent (maxInflight 500)',
      nolib: 'no library (accepted WebSocket, pre-built bytes)',
    }),
    rounds: ROUNDS,
  });
} finally {
  await mf?.dispose().catch(() => {});
  await emu.stop();
  rmSync(dir, { recursive: true, force: true });
}
