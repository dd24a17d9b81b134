#!/usr/bin/env node
// `npm test`: every test of the project, in order, with one closing line `N passed, N failed, N skipped`.
//   1. native Rust tests of the whole workspace (library core and emulator);
//   2. wasm tests of the library in headless Chromium and in Node (wasm-bindgen-test-runner);
//   3. the fuzz targets for a short bounded run, when present;
//   4. the release build of the npm package (pkg/) and a debug build of the emulator;
//   5. the JS tests (`node --test`): the package in Node, Deno, workerd and Chromium, the official
//      SDKs against the emulator, the demo.
// A step that fails does not stop the later ones, so one run reports everything; the exit code is
// non-zero when anything failed, and when any test is left `todo`. Counts come only from the
// tools' own summaries (scripts/lib/test-counts.mjs), read from this run's output: test-output/
// is emptied first.
import { spawn } from 'node:child_process';
import { readdirSync, mkdirSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cargoSummary, nodeSummary } from './lib/test-counts.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const home = process.env.HOME ?? '';
const env = {
  ...process.env,
  PATH: `${join(root, 'node_modules/.bin')}:${home}/.cargo/bin:${process.env.PATH}`,
  WASM_BINDGEN_TEST_TIMEOUT: process.env.WASM_BINDGEN_TEST_TIMEOUT ?? '120',
  CARGO_TERM_COLOR: 'never',
};
const outDir = join(root, 'test-output');
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

let passed = 0;
let failed = 0;
let skipped = 0;
const failures = [];

function run(label, cmd, args, { timeoutMin = 30, extraEnv = {} } = {}) {
  console.log(`\n=== ${label}: ${cmd} ${args.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const keep = (chunk, stream) => { text += chunk; stream.write(chunk); };
    child.stdout.on('data', (c) => keep(c, process.stdout));
    child.stderr.on('data', (c) => keep(c, process.stderr));
    const timer = setTimeout(() => {
      console.log(`\n!!! ${label} took over ${timeoutMin} min: killed`);
      child.kill('SIGKILL');
    }, timeoutMin * 60_000);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, text }); });
  });
}

// cargo prints one `test result: ok. N passed; M failed; K ignored; ...` line per test binary;
// a binary that started and printed none is a failure of its own.
function countCargo(label, { code, text }) {
  const c = cargoSummary(text);
  skipped += c.ignored;
  const missing = Math.max(0, c.started - c.binaries);
  if (missing) failures.push(`${label} (${missing} test binaries without a result line)`);
  countTests(label, code, c.passed, c.failed + missing);
}

// A test step must report at least one test: exit 0 with nothing counted is a broken step, not a pass.
function countTests(label, code, p, f) {
  if (p + f === 0 && code === 0) {
    failed += 1;
    failures.push(`${label} (no test result found)`);
    return;
  }
  record(label, code, p, f);
}

function record(label, code, p, f) {
  passed += p;
  failed += f;
  if (code !== 0 && f === 0) { failed += 1; failures.push(`${label} (exit ${code})`); }
  else if (f > 0) failures.push(`${label} (${f} failed)`);
}

function findTests(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...findTests(p));
    else if (e.name.endsWith('.test.mjs')) out.push(relative(root, p));
  }
  return out.sort();
}

countCargo('native tests', await run('native tests', 'cargo', ['test', '--workspace']));
countCargo('wasm tests (Chromium, Node)', await run('wasm tests (Chromium, Node)', 'cargo',
  ['test', '--target', 'wasm32-unknown-unknown', '-p', 'azure-iot-wasm']));

if (existsSync(join(root, 'scripts/fuzz-short.sh'))) {
  const r = await run('fuzz (short run)', 'bash', ['scripts/fuzz-short.sh'], { timeoutMin: 15 });
  record('fuzz (short run)', r.code, r.code === 0 ? 1 : 0, 0);
}

const build = await run('package build', 'bash', ['scripts/build.sh']);
record('package build', build.code, 0, 0);
const emu = await run('emulator build', 'cargo', ['build', '-p', 'iot-emulator']);
record('emulator build', emu.code, 0, 0);

if (build.code === 0 && emu.code === 0) {
  const files = findTests(join(root, 'tests'));
  const tap = join(outDir, 'node-tests.tap');
  const r = await run('JS tests', 'node', [
    // Each test file may run 10 min at most: a hang names its test instead of eating the CI budget.
    '--test', '--test-concurrency=1', '--test-timeout=600000',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`,
    ...files,
  ], { timeoutMin: 40 });
  const s = nodeSummary(existsSync(tap) ? readFileSync(tap, 'utf8') : '');
  if (!s) {
    failed += 1;
    failures.push('JS tests (the TAP file does not end with a summary)');
  } else {
    skipped += s.skipped;
    // A todo test is unfinished work: it fails the run, counted once each.
    if (s.todo) failures.push(`JS tests (${s.todo} todo)`);
    countTests('JS tests', r.code, s.pass, s.fail + s.cancelled + s.todo);
  }
} else {
  failures.push('JS tests (skipped: a build failed)');
  failed += 1;
}

console.log('');
if (failures.length) console.log(`failed steps: ${failures.join('; ')}`);
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed === 0 ? 0 : 1);
