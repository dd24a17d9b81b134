#!/usr/bin/env node
// `npm run bench`: every benchmark, one after the other, each a process of its own that stops by
// itself (and is killed past its bound), then bench/RESULTS.md from what they printed:
//   browser-throughput.mjs  Chromium → mosquitto and → the emulator's hub, 256 B and 16 KB
//   browser-cold-start.mjs  navigation → first PUBACK; the whole quickstart
//   edge-workerd.mjs        the telemetry loop inside workerd
//   fleet.mjs               500 devices: provisioning + hub, ours vs the official SDK vs no library
//   emulator-capacity.mjs   1k / 5k / 10k WebSocket devices against the emulator and mosquitto
// Before the full run it waits (at most --wait-min minutes, default 15) for the 1-minute load
// average to fall under 0.7, and records whether it did. The full run uses the emulator's release
// build (built here); pkg/ is built when missing.
//   node bench/run.mjs [--quick] [--out FILE] [--json FILE] [--only name,name] [--wait-min M]
// --quick: tiny counts, no waiting, written to test-output/bench-quick.md unless --out says
// otherwise; what `npm test` runs (tests/bench/quick.test.mjs) so the scripts cannot rot.
// Exits non-zero when a benchmark failed or a row is missing.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GROUP_PREFIX, parseFlags, log } from './lib/groups.mjs';
import { loadAverage } from './lib/proc.mjs';
import { renderResults } from './lib/results-md.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const flags = parseFlags();
const quick = flags.quick;
const out = flags.out ?? join(root, quick ? 'test-output/bench-quick.md' : 'bench/RESULTS.md');

/** Every benchmark, with its bound in minutes and the rows each of its groups must have. */
const BENCHES = [
  { name: 'browser-throughput', minutes: quick ? 4 : 14, groups: {
    'browser.mosquitto.256': ['mqttjs', 'paho', 'ours', 'ours500', 'nolib'],
    'browser.mosquitto.16384': ['mqttjs', 'paho', 'ours', 'ours500', 'nolib'],
    'browser.hub.256': ['hubOurs', 'hubOurs500', 'hubMqttjs', 'hubNolib'],
    'browser.hub.16384': ['hubOurs', 'hubOurs500', 'hubMqttjs', 'hubNolib'],
  } },
  { name: 'browser-cold-start', minutes: quick ? 3 : 6, groups: { 'cold.hub': ['ours', 'mqttjs', 'nolib'], 'cold.quickstart': ['rest', 'mqttws'] } },
  { name: 'edge-workerd', minutes: quick ? 2 : 5, groups: { 'edge.workerd': ['ours', 'ours500', 'nolib'] } },
  { name: 'fleet', minutes: quick ? 3 : 10, groups: {
    'fleet.polling': ['ours', 'sdk', 'nolib'], 'fleet.first-poll': ['ours', 'sdk', 'nolib'], 'fleet.memory': ['ours', 'sdk', 'nolib'],
  } },
  { name: 'emulator-capacity', minutes: quick ? 2 : 8, groups: { capacity: ['emulator', 'mosquitto'] } },
];

const env = { ...process.env, ...(quick ? {} : { IOT_EMULATOR_PROFILE: 'release' }) };

function sh(cmd, args) {
  log(`bench: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
}

function version(cmd, args, re) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return re.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
}

const pkgVersion = (name) => JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version;

async function waitForQuiet(maxMin) {
  const t0 = Date.now();
  for (;;) {
    const [one] = loadAverage();
    if (one < 0.7) return { quiet: true, waitedS: (Date.now() - t0) / 1000, load: one };
    if (Date.now() - t0 > maxMin * 60_000) return { quiet: false, waitedS: (Date.now() - t0) / 1000, load: one };
    log(`bench: 1-minute load ${one}, waiting for it to fall under 0.7`);
    await new Promise((r) => setTimeout(r, 15_000));
  }
}

function runBench(b) {
  return new Promise((resolve) => {
    const script = join(root, 'bench', `${b.name}.mjs`);
    log(`\n=== bench/${b.name}.mjs${quick ? ' --quick' : ''}`);
    const child = spawn(process.execPath, [script, ...(quick ? ['--quick'] : [])], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
    const groups = [];
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.startsWith(GROUP_PREFIX)) groups.push(JSON.parse(line.slice(GROUP_PREFIX.length)));
        else process.stderr.write(`${line}\n`);
      }
    });
    const timer = setTimeout(() => { log(`bench: ${b.name} ran past ${b.minutes} min: killed`); child.kill('SIGKILL'); }, b.minutes * 60_000);
    child.on('exit', (code, signal) => { clearTimeout(timer); resolve({ code, signal, groups }); });
  });
}

// ---- build what the benchmarks run ------------------------------------------------------------
if (!existsSync(join(root, 'pkg/index.js'))) sh('bash', ['scripts/build.sh']);
if (!quick) sh('cargo', ['build', '--release', '-q', '-p', 'iot-emulator']);

const only = flags.only ? String(flags.only).split(',') : null;
const benches = BENCHES.filter((b) => !only || only.includes(b.name));
const quiet = quick || flags['wait-min'] === '0' ? null : await waitForQuiet(Number(flags['wait-min'] ?? 15));
const loadBefore = loadAverage();
const started = Date.now();

const groups = [];
const failures = [];
const minutes = [];
for (const b of benches) {
  const t0 = Date.now();
  const r = await runBench(b);
  minutes.push(`${b.name} ${((Date.now() - t0) / 60_000).toFixed(1)}`);
  groups.push(...r.groups);
  if (r.code !== 0) failures.push(`bench/${b.name}.mjs exited ${r.code ?? r.signal}`);
  for (const [id, keys] of Object.entries(b.groups)) {
    const g = r.groups.find((x) => x.id === id);
    if (!g) { failures.push(`${id}: not produced`); continue; }
    for (const k of keys) {
      const row = g.rows.find((x) => x.key === k);
      // A row whose client failed every run carries the reason (RESULTS.md shows it): a finding.
      if (!row || (!Object.values(row.values).some((v) => Number.isFinite(v)) && !row.failures?.length)) failures.push(`${id}: row ${k} missing`);
    }
  }
}

let chromium = 'unknown';
try {
  const { launchChromium } = await import('../tests/support/browser.mjs');
  const browser = await launchChromium();
  chromium = browser.version();
  await browser.close();
} catch { /* recorded as unknown */ }
const loadAfter = loadAverage();
const machine = {
  date: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
  facts: {
    cores: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(0)} GB`,
    Node: process.version,
    Chromium: `${chromium} (Debian, headless, driven by playwright-core ${pkgVersion('playwright-core')})`,
    mosquitto: version('/usr/sbin/mosquitto', ['-h'], /mosquitto version (\S+)/),
    workerd: `miniflare ${pkgVersion('miniflare')}, workerd ${pkgVersion('workerd')}`,
    emulator: quick ? 'debug build' : 'release build (cargo build --release -p iot-emulator)',
    'load average (1, 5, 15 min)': `before ${loadBefore.join(', ')}; after ${loadAfter.join(', ')}`,
    'quiet machine': quiet === null ? 'not waited for'
      : `${quiet.quiet ? `at the start: 1-minute load ${quiet.load} after waiting ${Math.round(quiet.waitedS)} s`
        : `**no**: still ${quiet.load} after waiting ${Math.round(quiet.waitedS)} s, and the run went ahead`}; `
        + `during the run the 1-minute load (the benchmark's own processes included) is given under each table${Math.max(...groups.map((g) => g.loadAfter?.[0] ?? 0)) > 2.5 ? ': above 2.5 means other work shared the two cores' : ''}`,
    'run time': `${((Date.now() - started) / 60_000).toFixed(1)} min (${minutes.join(', ')})`,
  },
};

mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, renderResults({ groups, machine, failures, quick }));
if (flags.json) writeFileSync(flags.json, JSON.stringify({ groups, machine, failures }, null, 2));
log(`\nbench: wrote ${out}${failures.length ? `; failures: ${failures.join('; ')}` : ''}`);
process.exit(failures.length ? 1 : 0);
