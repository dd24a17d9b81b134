#!/usr/bin/env node
// `npm test`: every test of the project, in order, with one closing line `N passed, N failed`.
//   1. native Rust tests of the whole workspace (library core and emulator);
//   2. wasm tests of the library in headless Chromium and in Node (wasm-bindgen-test-runner);
//   3. the fuzz targets for a short bounded run, when present;
//   4. the release build of the npm package (pkg/) and a debug build of the emulator;
//   5. the JS tests (`node --test`): the package in Node, Deno, workerd and Chromium, the official
//      SDKs against the emulator, the demo.
// A step that fails does not stop the later ones, so one run reports everything; the exit code is
// non-zero when anything failed.
import { spawn } from 'node:child_process';
import { readdirSync, mkdirSync, readFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const home = process.env.HOME ?? '';
const env = {
  ...process.env,
  PATH: `${join(root, 'node_modules/.bin')}:${home}/.cargo/bin:${process.env.PATH}`,
  WASM_BINDGEN_TEST_TIMEOUT: process.env.WASM_BINDGEN_TEST_TIMEOUT ?? '120',
  CARGO_TERM_COLOR: 'never',
};
const outDir = join(root, 'test-output');
mkdirSync(outDir, { recursive: true });

let passed = 0;
let failed = 0;
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

// cargo prints one `test result: ok. N passed; M failed; ...` line per test binary.
function countCargo(label, { code, text }) {
  let p = 0, f = 0;
  for (const m of text.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) { p += +m[1]; f += +m[2]; }
  countTests(label, code, p, f);
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
  const t = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const p = +(t.match(/^# pass (\d+)/m)?.[1] ?? 0);
  const f = +(t.match(/^# fail (\d+)/m)?.[1] ?? 0) + +(t.match(/^# cancelled (\d+)/m)?.[1] ?? 0);
  countTests('JS tests', r.code, p, f);
} else {
  failures.push('JS tests (skipped: a build failed)');
  failed += 1;
}

console.log('');
if (failures.length) console.log(`failed steps: ${failures.join('; ')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
