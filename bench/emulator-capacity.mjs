#!/usr/bin/env node
// Benchmark: server capacity. One load generator (bench/load-generator.mjs, a process of its own)
// drives N concurrent WebSocket MQTT devices sending QoS 1 telemetry in a closed loop against the
// emulator's IoT Hub and against Debian's mosquitto, N = 1k, 5k, 10k, each server started fresh
// for each N. Recorded: devices connected, aggregate msg/s, p50/p99 PUBACK latency, the server's
// RSS (at the end, and its peak VmHWM) and CPU, and how busy the generator itself was.
// Raises its own fd limit (re-runs itself under `ulimit -n`); the servers inherit it.
//   node bench/emulator-capacity.mjs [--devices 1000,5000,10000] [--duration S] [--quick]
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator } from '../scripts/lib/emulator.mjs';
import { startMosquitto } from '../tests/support/mosquitto.mjs';
import { emitGroup, parseFlags, log } from './lib/groups.mjs';
import { childPid, memoryOf, cpuSecondsOf } from './lib/proc.mjs';

// Each of the generator and the server holds one descriptor per device: the soft limit is raised
// to the hard one (a container may not allow more), and said when that is still short.
const script = fileURLToPath(import.meta.url);
const limits = spawnSync('bash', ['-c', 'echo $(ulimit -Sn) $(ulimit -Hn)'], { encoding: 'utf8' }).stdout.trim().split(' ');
if (limits[0] !== limits[1] && limits[1] !== 'unlimited' && !process.env.BENCH_FD_RAISED) {
  const r = spawnSync('bash', ['-c', 'ulimit -n "$(ulimit -Hn)" && exec "$0" "$@"', process.execPath, script, ...process.argv.slice(2)], {
    stdio: 'inherit', env: { ...process.env, BENCH_FD_RAISED: '1' },
  });
  process.exit(r.status ?? 1);
}
const FD_LIMIT = limits[1] === 'unlimited' ? Infinity : Number(limits[1]);

const flags = parseFlags();
const SIZES = String(flags.devices ?? (flags.quick ? '20,50' : '1000,5000,10000')).split(',').map(Number);
const DURATION = Number(flags.duration ?? (flags.quick ? 1 : 6));
const KEY = Buffer.alloc(32, 5).toString('base64');
if (Math.max(...SIZES) + 512 > FD_LIMIT) log(`capacity: the fd limit (${FD_LIMIT}) is below ${Math.max(...SIZES)} devices plus the process's own files`);
const HUB = 'localhost';

const dir = mkdtempSync(join(tmpdir(), 'bench-capacity-'));
const configPath = join(dir, 'config.json');
writeFileSync(configPath, JSON.stringify({
  idScope: '0ne00000CAP',
  devices: Array.from({ length: Math.max(...SIZES) }, (_, i) => ({ deviceId: `cap-${i}`, primaryKey: KEY })),
}));

/** Runs the generator; `on[marker]()` is called when it prints LOAD_CONNECTED, LOAD_END. */
function generate(args, on) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(new URL('./load-generator.mjs', import.meta.url)), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
      for (const [marker, fn] of Object.entries(on)) if (out.includes(`${marker}`)) { fn(); delete on[marker]; }
    });
    child.stderr.on('data', (d) => { err += d; process.stderr.write(d); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('LOAD_RESULT '));
      if (!line) return reject(new Error(`load generator exited ${code} without a result:\n${out}\n${err}`));
      resolve(JSON.parse(line.slice('LOAD_RESULT '.length)));
    });
  });
}

const servers = {
  emulator: {
    name: 'iot-emulator (IoT Hub over WebSocket)',
    async start() {
      const emu = await startEmulator({ args: ['--quiet', '--config', configPath, '--hub-hostname', HUB] });
      return { url: `ws://${emu.host}:${emu.httpPort}/$iothub/websocket`, pid: childPid('iot-emulator'), hub: ['--hub', HUB, '--key', KEY], stop: emu.stop };
    },
  },
  mosquitto: {
    name: 'mosquitto 2.0.11 (WebSocket listener)',
    async start() {
      const b = await startMosquitto();
      return { url: b.wsUrl, pid: childPid('mosquitto'), hub: [], stop: b.stop };
    },
  },
};

const rows = { emulator: {}, mosquitto: {} };
const notes = { emulator: [], mosquitto: [] };
try {
  for (const n of SIZES) {
    for (const key of Object.keys(servers)) {
      const s = await servers[key].start();
      try {
        const cpu0 = cpuSecondsOf(s.pid);
        const base = memoryOf(s.pid).rssMB;
        let idle = null;
        let loaded = null;
        const r = await generate(['--url', s.url, '--devices', String(n), '--duration', String(DURATION), '--prefix', 'cap', ...s.hub], {
          LOAD_CONNECTED: () => { idle = memoryOf(s.pid).rssMB; },
          LOAD_END: () => { loaded = memoryOf(s.pid).rssMB; },
        });
        const mem = memoryOf(s.pid);
        const serverCpu = cpuSecondsOf(s.pid) - cpu0;
        log(`  ${key} N=${n}: ${r.connected} connected, ${r.msgps.toFixed(0)} msg/s, p50 ${r.p50?.toFixed(1)} ms, p99 ${r.p99?.toFixed(1)} ms, server RSS ${idle?.toFixed(0)} MB idle, ${loaded?.toFixed(0)} MB after the load (peak ${mem.peakMB.toFixed(0)}), generator ${r.generatorCpuPct.toFixed(0)}% CPU`);
        const v = {
          connected: r.connected, msgps: r.msgps, p50: r.p50, p99: r.p99,
          idleMB: idle, perConnKB: r.connected ? ((idle - base) / r.connected) * 1024 : null, rssMB: loaded, peakMB: mem.peakMB,
          serverCpuS: serverCpu, genCpu: r.generatorCpuPct, connectS: r.connectS,
        };
        for (const [m, x] of Object.entries(v)) rows[key][`${m}@${n}`] = x;
        if (r.failed) notes[key].push(`N=${n}: ${r.failed} did not connect (${r.errors.join(', ')})`);
        if (r.stillConnected < r.connected) notes[key].push(`N=${n}: ${r.connected - r.stillConnected} connections dropped during the load`);
      } finally {
        await s.stop();
      }
    }
  }
  const metrics = [];
  for (const n of SIZES) {
    metrics.push(
      { key: `connected@${n}`, label: `N=${n}: connected`, better: 'higher', digits: 0 },
      { key: `msgps@${n}`, label: `N=${n}: msg/s`, better: 'higher', digits: 0 },
      { key: `p50@${n}`, label: `N=${n}: p50 PUBACK (ms)`, better: 'lower', digits: 1 },
      { key: `p99@${n}`, label: `N=${n}: p99 PUBACK (ms)`, better: 'lower', digits: 1 },
      { key: `idleMB@${n}`, label: `N=${n}: server RSS, all connected and idle (MB)`, better: 'lower', digits: 0 },
      { key: `perConnKB@${n}`, label: `N=${n}: server RSS per connection (KB)`, better: 'lower', digits: 0 },
      { key: `rssMB@${n}`, label: `N=${n}: server RSS after the load, still connected (MB)`, better: 'lower', digits: 0 },
      { key: `peakMB@${n}`, label: `N=${n}: server peak RSS (MB)`, better: 'lower', digits: 0 },
      { key: `serverCpuS@${n}`, label: `N=${n}: server CPU (s)`, better: 'lower', digits: 1 },
      { key: `genCpu@${n}`, label: `N=${n}: generator CPU during the load (%)`, better: 'lower', digits: 0 },
    );
  }
  emitGroup({
    id: 'capacity',
    title: `Server capacity: N WebSocket MQTT devices, QoS 1 telemetry of 256 B in a closed loop (one outstanding each) for ${DURATION} s, one load generator`,
    command: `node bench/emulator-capacity.mjs --devices ${SIZES.join(',')} --duration ${DURATION}`,
    metrics,
    transposed: true,
    bases: ['mosquitto'],
    rows: Object.keys(servers).map((k) => ({ key: k, name: servers[k].name, values: rows[k], runs: {}, ...(notes[k].length ? { note: notes[k].join('; ') } : {}) })),
    notes: [`Open-file limit ${FD_LIMIT} per process (the hard limit here).`, 'One run per N and server (each server started fresh); the generator and the server share the machine\'s cores, so the generator\'s CPU column says whether it, not the server, was the limit.'],
    rounds: 1,
    duration: DURATION,
    sizes: SIZES,
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
