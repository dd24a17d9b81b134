#!/usr/bin/env node
// Benchmark: a fleet coming up. 500 devices of one enrollment group, 50 at a time; each derives
// its key, provisions over HTTPS, connects to the hub over WSS, sends 1 message and closes. Each
// client runs in a Node process of its own (bench/fleet/): ours, the official Node SDK, and the
// no-library reference (bare fetch and ws). Recorded per run: wall time, devices/s, the process's
// CPU seconds and peak RSS (VmHWM). Interleaved round by round, median over the rounds.
// Two emulator settings, the same for every client:
//   polling     --retry-after 1 --assign-delay-ms 1500: two status polls, 1 s apart, per device
//   first poll  --retry-after 1: assignment is complete at the first status poll
// The SDK waits exactly Retry-After; ours is given minPollMs 1000 so that it waits the same.
// Needs root: the SDK dials port 443, so the emulator binds 443 on a loopback address of its own.
//   node bench/fleet.mjs [--devices N] [--concurrency C] [--rounds R] [--variant polling|first-poll] [--quick]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startEmulator, sdkArgs } from '../scripts/lib/emulator.mjs';
import { interleave, rowsFrom, emitGroup, parseFlags, log, roundLabel } from './lib/groups.mjs';

const flags = parseFlags();
const COUNT = Number(flags.devices ?? (flags.quick ? 6 : 500));
const CONCURRENCY = Number(flags.concurrency ?? (flags.quick ? 3 : 50));
const ROUNDS = Number(flags.rounds ?? (flags.quick ? 1 : 3));
const VARIANTS = {
  polling: { args: ['--retry-after', '1', '--assign-delay-ms', '1500'], title: 'Retry-After 1 s, assignment after 1.5 s (two status polls)' },
  'first-poll': { args: ['--retry-after', '1'], title: 'Retry-After 1 s, assignment complete at the first status poll' },
};
const NAMES = {
  ours: 'azure-iot-wasm (provision + IotHubClient, ws)',
  sdk: 'official Node SDK (provisioning-device-http + azure-iot-device MqttWs)',
  nolib: 'no library (bare fetch + ws, pre-built requests and bytes)',
};

if (process.getuid?.() !== 0) {
  console.error('bench/fleet.mjs needs root: the official SDK dials port 443');
  process.exit(2);
}

/** Runs bench/fleet/{key}.mjs to its end; resolves with the JSON of its `{tag} ` line. */
export function runChild(key, env, { tag = 'FLEET_RESULT', nodeArgs = [], timeoutMs = 320_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, fileURLToPath(new URL(`./fleet/${key}.mjs`, import.meta.url))], {
      env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith(`${tag} `));
      if (!line) return reject(new Error(`fleet/${key}.mjs exited ${code} without a result:\n${out}\n${err}`));
      resolve(JSON.parse(line.slice(tag.length + 1)));
    });
  });
}

/** Where memory goes: every client's devices all open at once, RSS and wasm memory by phase. */
async function memoryGroup(emu, groupKey, stamp) {
  const count = flags.quick ? 3 : CONCURRENCY;
  const runs = {};
  for (const key of Object.keys(NAMES)) {
    const config = { mode: 'memory', host: emu.hubHostname, idScope: emu.idScope, groupKey, prefix: `mem-${stamp}-${key}`, count, minPollMs: 1000 };
    const m = await runChild(key, { FLEET_CONFIG: JSON.stringify(config), NODE_EXTRA_CA_CERTS: emu.caPath }, { tag: 'MEMORY_RESULT', nodeArgs: ['--expose-gc'] });
    const p = m.phases;
    const v = {
      loaded: p.loaded.rssMB, provisioned: p.provisioned.rssMB, connected: p.connected.rssMB, closed: p.closed.rssMB,
      perConnKB: ((p.connected.rssMB - p.provisioned.rssMB) / count) * 1024,
      heapPerConnKB: ((p.connected.heapMB - p.provisioned.heapMB) / count) * 1024,
      ...(p.loaded.wasmMB !== null ? {
        wasmLoaded: p.loaded.wasmMB, wasmProvisioned: p.provisioned.wasmMB, wasmConnected: p.connected.wasmMB,
        wasmPerConnKB: ((p.connected.wasmMB - p.provisioned.wasmMB) / count) * 1024,
      } : {}),
    };
    log(`  memory ${key}: ${Object.entries(v).map(([k, x]) => `${k} ${x.toFixed(1)}`).join(', ')}`);
    runs[key] = Object.fromEntries(Object.entries(v).map(([k, x]) => [k, [x]]));
  }
  emitGroup({
    id: 'fleet.memory',
    title: `Fleet memory: ${count} devices of each client all at once, RSS after a GC at each phase`,
    command: `node bench/fleet.mjs --variant first-poll --devices ${COUNT} --concurrency ${CONCURRENCY} --rounds ${ROUNDS}` + ' (its last part)',
    metrics: [
      { key: 'loaded', label: 'RSS loaded (MB)', better: 'lower', digits: 1 },
      { key: 'provisioned', label: `RSS after ${count} provisions (MB)`, better: 'lower', digits: 1 },
      { key: 'connected', label: `RSS with ${count} hub connections (MB)`, better: 'lower', digits: 1 },
      { key: 'closed', label: 'RSS after closing (MB)', better: 'lower', digits: 1 },
      { key: 'perConnKB', label: 'RSS per open connection (KB)', better: 'lower', digits: 0 },
      { key: 'heapPerConnKB', label: 'JS heap per open connection (KB)', better: 'lower', digits: 0 },
      { key: 'wasmLoaded', label: 'wasm memory loaded (MB)', better: 'lower', digits: 2 },
      { key: 'wasmProvisioned', label: 'wasm memory after provisions (MB)', better: 'lower', digits: 2 },
      { key: 'wasmConnected', label: 'wasm memory with connections (MB)', better: 'lower', digits: 2 },
      { key: 'wasmPerConnKB', label: 'wasm memory per connection (KB)', better: 'lower', digits: 0 },
    ],
    transposed: true,
    bases: ['sdk', 'nolib'],
    reference: 'nolib',
    rows: rowsFrom(runs, NAMES),
    notes: ['One run per client. wasm linear memory only grows (it is never returned), so its figures are high-water marks.'],
    rounds: 1,
  });
}

const variants = flags.variant ? [flags.variant] : Object.keys(VARIANTS);
for (const variant of variants) {
  const emu = await startEmulator({ args: [...sdkArgs(), '--quiet', ...VARIANTS[variant].args] });
  try {
    const groupKey = (await (await emu.service('/enrollmentGroups')).json())[0].primaryKey;
    const stamp = Date.now().toString(36);
    log(`fleet, ${variant}: ${COUNT} devices, ${CONCURRENCY} at a time, ${ROUNDS} round(s)`);
    const peaks = {};
    const runs = await interleave(ROUNDS, Object.keys(NAMES), async (key, r) => {
      // The warm-up round (r < 0) is one batch: it only wakes the emulator and the disk cache.
      const config = {
        mode: 'fleet', host: emu.hubHostname, idScope: emu.idScope, groupKey, prefix: `fleet-${stamp}-${key}-${r + 2}`,
        count: r < 0 ? Math.min(COUNT, CONCURRENCY) : COUNT, concurrency: CONCURRENCY, minPollMs: 1000,
      };
      const res = await runChild(key, { FLEET_CONFIG: JSON.stringify(config), NODE_EXTRA_CA_CERTS: emu.caPath });
      if (res.failed) throw new Error(`fleet/${key}.mjs: ${res.failed} devices failed: ${res.errors.join('; ')}`);
      if (r >= 0) peaks[key] = { ...res.atPeak, wasm: res.wasm };
      const perSec = (res.ok / res.wallMs) * 1000;
      log(`  ${roundLabel(r)} ${key}: ${res.ok} devices in ${(res.wallMs / 1000).toFixed(2)} s, ${perSec.toFixed(1)} devices/s, CPU ${res.cpuS.toFixed(2)} s, peak RSS ${res.peakMB.toFixed(0)} MB`);
      if (r < 0) return {};
      return { wallS: res.wallMs / 1000, perSec, cpuS: res.cpuS, startCpuS: res.startCpuS, peakMB: res.peakMB, startMB: res.startRssMB };
    }, { warmup: flags.quick ? 0 : 1 });
    // The last round's breakdown at its highest sampled RSS, per client.
    const notes = Object.fromEntries(Object.entries(peaks).map(([k, p]) => [k,
      `at its highest sampled RSS (${p.rss.toFixed(0)} MB, last round): JS heap ${p.heapTotal.toFixed(1)} MB (${p.heapUsed.toFixed(1)} MB in use), `
      + `external ${p.external.toFixed(1)} MB (ArrayBuffers ${p.arrayBuffers.toFixed(1)} MB), the rest ${(p.rss - p.heapTotal - p.external).toFixed(1)} MB native (code, Node, TLS, sockets)`
      + (p.wasm ? `; wasm linear memory ${p.wasm.startMB.toFixed(2)} MB after loading, ${p.wasm.peakMB.toFixed(2)} MB at its peak` : '')]));
    emitGroup({
      id: `fleet.${variant}`,
      title: `Fleet: ${COUNT} devices of one enrollment group, ${CONCURRENCY} at a time, HTTPS provisioning + WSS + 1 message each; ${VARIANTS[variant].title}`,
      command: `node bench/fleet.mjs --variant ${variant} --devices ${COUNT} --concurrency ${CONCURRENCY} --rounds ${ROUNDS}`,
      metrics: [
        { key: 'wallS', label: 'wall (s)', better: 'lower', digits: 2 },
        { key: 'perSec', label: 'devices/s', better: 'higher', digits: 1 },
        { key: 'cpuS', label: 'CPU (s)', better: 'lower', digits: 2 },
        { key: 'startCpuS', label: 'of it loading (s)', better: 'lower', digits: 2 },
        { key: 'peakMB', label: 'peak RSS (MB)', better: 'lower', digits: 0 },
        { key: 'startMB', label: 'RSS after loading (MB)', better: 'lower', digits: 0 },
      ],
      bases: ['sdk', 'nolib'],
      reference: 'nolib',
      rows: rowsFrom(runs, NAMES, notes),
      rounds: ROUNDS,
      devices: COUNT,
    });
    if (variant === 'first-poll') await memoryGroup(emu, groupKey, stamp);
  } finally {
    await emu.stop();
  }
}
